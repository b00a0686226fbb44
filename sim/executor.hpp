// Executing tile plans in time, as jobs on compute units that share one memory system: the
// interface the SystemC fidelity implements (sim/systemc/), so that several units contend for
// the memory channels and work can arrive while time runs (the serving layer submits requests
// between run_until() calls). A unit runs its jobs in submission order, one at a time; a job
// starts with empty buffers and ends when its last write has landed (the same per-layer rule
// as sim/analytical.hpp, which it matches exactly for one unit).
//
// The timing registry (fidelities()) maps a fidelity name to a function timing a run of layers
// on one unit. The analytical fidelity is built in; the SystemC one is in its own library and
// registered explicitly by the programs that link it (cli, tests, bench).
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

// Fidelity name -> timer. "analytical" is always there.
Registry<Timer>& fidelities();

}  // namespace tessera::sim
