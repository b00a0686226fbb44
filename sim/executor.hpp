// Executing tile plans in time, as jobs on compute units that share one memory system: the
// interface the SystemC fidelity implements (sim/systemc/), so that several units contend for
// the memory channels and work can arrive while time runs (the serving layer submits requests
// between run_until() calls). A unit runs its jobs in submission order, one at a time; a job
// starts with empty buffers and ends when its last write has landed (the same per-layer rule
// as sim/analytical.hpp, which it matches exactly for one unit).
//
// The fidelity registry (fidelities()) is the one place a fidelity is named: per name, a timer
// for a run of layers on one unit, a factory of executors for several units, and whether it may
// run on several threads at once. The analytical fidelity is built in; the SystemC one is in its
// own library and registered explicitly by the programs that link it (cli, tests, bench).
// `tessera list`, the evaluator pools and the CLI's --fidelity read this registry.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.hpp"
#include "sim/timing.hpp"
#include "sim/trace.hpp"

namespace tessera::sim {

struct Completion {
  u64 id = 0;             // the id given to submit()
  std::size_t unit = 0;
  u64 start_cycle = 0;    // when the unit started it
  u64 end_cycle = 0;      // when its last write landed
  LayerTiming timing;     // cycles = end - start
};

class PlanExecutor {
 public:
  virtual ~PlanExecutor() = default;
  virtual std::size_t units() const = 0;
  // Queues `plan` (which must outlive the run) on `unit`; it starts when the unit is idle, at
  // the current time or later. May be called before any run and between runs.
  virtual void submit(std::size_t unit, const dataflows::TilePlan& plan, u64 id) = 0;
  // Runs until `cycle` (or until no work is left, when earlier) and returns the jobs that
  // completed since the last call, in completion order.
  virtual std::vector<Completion> run_until(u64 cycle) = 0;
  // Runs until every submitted job has completed.
  virtual std::vector<Completion> run_to_completion() = 0;
  virtual u64 now() const = 0;
};

// Times the layers of one run on one unit.
using Timer = std::function<std::vector<LayerTiming>(
    const std::vector<const dataflows::TilePlan*>& plans, const arch::MemorySystem& memory,
    Trace* trace)>;

// A fresh executor of `units` compute units sharing `memory` (with `trace`, where the fidelity
// records one, its spans and transfers go there).
using ExecutorFactory = std::function<std::unique_ptr<PlanExecutor>(
    std::size_t units, const arch::MemorySystem& memory, Trace* trace)>;

struct Fidelity {
  Timer timer;
  ExecutorFactory executor;  // null where the fidelity has no multi-unit executor
  // True: any number of calls may run at once on threads of one process (the TBB pool). False:
  // one simulation per process at a time (worker processes).
  bool thread_safe = false;
  // Each layer is timed on its own and an equal plan's timing is looked up (sim::MapCache)
  // instead of timed again; false: the run's layers go to the timer together (one simulation,
  // one trace).
  bool memoizes_layers = false;
  // Layers of more tiles than this are refused with one line naming the operator (a fidelity
  // executing tiles one by one); 0: no limit.
  u64 max_layer_tiles = 0;
};

// Fidelity name -> entry. "analytical" is always there.
Registry<Fidelity>& fidelities();

// The registered fidelity names, in name order.
std::vector<std::string> fidelity_names();

}  // namespace tessera::sim
