// Executing tile plans in time, as jobs on compute units that share one memory system, so that
// several units contend for the memory channels and work can arrive while time runs (the serving
// layer submits requests between run_until() calls). Both fidelities implement it: the SystemC
// one tile by tile (sim/systemc/), the analytical one in closed form per layer, stepping tiles
// only while layers of several units share a channel (sim/analytical.hpp,
// make_analytical_executor). A job is a sequence of layers (tile plans); a
// unit runs its jobs in submission order, one at a time, and their layers back to back; a layer
// starts with empty buffers and ends when its last write has landed (the per-layer rule of
// sim/analytical.hpp, which both executors match exactly for one unit).
//
// Time is in seconds at the interface. Inside, both executors count cycles of the memory
// system's clock (its channels' bytes per cycle and latencies are in it); a unit whose clock
// differs has its tiles' compute cycles converted (rounded up) to memory cycles.
//
// The fidelity registry (fidelities()) is the one place a fidelity is named: per name, a timer
// for a run of layers on one unit, a factory of executors for several units, and whether it may
// run on several threads at once. The analytical fidelity is built in; the SystemC one is in its
// own library and registered explicitly by the programs that link it (cli, tests, bench).
// `tessera list`, the evaluator pools and the CLI's --fidelity read this registry.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/registry.hpp"
#include "sim/timing.hpp"
#include "sim/trace.hpp"

namespace tessera::sim {

// One compute unit.
struct UnitSpec {
  std::string engine;      // what it is (an engine template name), for reports
  double clock_hz = 1e9;   // its compute clock: the tiles' compute cycles count in it
};

// Compute units sharing one memory system.
struct ExecutorSpec {
  std::vector<UnitSpec> units;
  arch::MemorySystem memory;
  double memory_clock_hz = 1e9;  // the clock of the channels' bytes per cycle and latencies
};

struct Completion {
  u64 id = 0;             // the id given to submit()
  std::size_t unit = 0;
  double start_s = 0;     // when the unit started it
  double end_s = 0;       // when its last write landed
  // Over its layers, in memory cycles: cycles = end - start (rounded to a cycle by the
  // analytical executor, whose shared channels slow jobs down by fractions).
  LayerTiming timing;
  std::size_t layers_done = 0;  // all of them, unless preempted
  bool preempted = false;
};

// Where a preempted job stops. At a layer boundary it finishes the layer it is running and runs
// no more of them: resubmitting layers [layer, end) resumes it. At a tile boundary it finishes
// the tile it is computing (or, waiting for a tile's reads, does not start that tile), issues no
// more reads, and ends when that tile's writes have landed: resubmitting plan_tail(layer's plan,
// tile) and the layers after it resumes it.
struct Preemption {
  u64 id = 0;
  std::size_t unit = 0;
  std::size_t layer = 0;  // the first layer it does not finish
  u64 tile = 0;           // the tile of `layer` to resume from (0 at a layer boundary)
  // Moved per port name by the work it does: the layers before `layer` and tiles [0, tile) of
  // `layer`. Reads already issued for later tiles are not counted: resuming reads them again.
  std::map<std::string, u64> bytes;
};

enum class Boundary { layer, tile };

// Tiles [0, k) and [k, end) of a plan as plans of their own (ports, buffering and units kept;
// blocks are expanded where the cut falls inside them).
dataflows::TilePlan plan_head(const dataflows::TilePlan& plan, u64 k);
dataflows::TilePlan plan_tail(const dataflows::TilePlan& plan, u64 k);

class PlanExecutor {
 public:
  virtual ~PlanExecutor() = default;
  virtual const std::vector<UnitSpec>& units() const = 0;
  // Queues a job of `layers` (which must outlive the run; their ports' channels assigned) on
  // `unit`; it starts when the unit is idle, at the current time or later. May be called
  // before any run and between runs.
  virtual void submit(std::size_t unit, std::vector<const dataflows::TilePlan*> layers, u64 id) = 0;
  void submit(std::size_t unit, const dataflows::TilePlan& plan, u64 id) {
    submit(unit, std::vector<const dataflows::TilePlan*>{&plan}, id);
  }
  // Runs until `seconds` (time advances to it even when no work is left) and returns the jobs
  // that completed since the last call, in completion order.
  virtual std::vector<Completion> run_until(double seconds) = 0;
  // Runs until every submitted job has completed.
  virtual std::vector<Completion> run_to_completion() = 0;
  virtual double now() const = 0;
  // When the next job completes if nothing is submitted or preempted before then, provided that
  // is no later than `before_s`; none otherwise (or when no work is left). The analytical
  // executor computes it; the SystemC one runs its kernel to that completion, or to `before_s`
  // if none comes first (now() advances, and the next run_until returns the completion), so a
  // caller that submits at `before_s` must pass it: the kernel cannot step back.
  virtual std::optional<double> next_completion(
      double before_s = std::numeric_limits<double>::infinity()) = 0;
  // Stops the job running on `unit` at its next layer or tile boundary (Preemption): it
  // completes (preempted) when that boundary is reached. None when the unit runs nothing, or
  // nothing would be left after the boundary (its last layer, or at a tile boundary its last
  // tile); the jobs queued behind it are untouched. A second call may move a tile boundary's
  // stop earlier, to a layer boundary never later.
  virtual std::optional<Preemption> preempt(std::size_t unit, Boundary at) = 0;
  std::optional<Preemption> preempt(std::size_t unit) { return preempt(unit, Boundary::layer); }
};

// A fresh executor for `spec`; with `trace`, where the fidelity records one, its compute spans
// and transfers go there (layer = job id).
using ExecutorFactory =
    std::function<std::unique_ptr<PlanExecutor>(const ExecutorSpec& spec, Trace* trace)>;

// The plan with its compute cycles converted from a unit's clock to the memory clock (rounded
// up), or the plan itself when the clocks are equal; `scratch` holds a converted copy.
const dataflows::TilePlan& on_memory_clock(const dataflows::TilePlan& plan, double unit_clock_hz,
                                           double memory_clock_hz,
                                           std::unique_ptr<dataflows::TilePlan>& scratch);

// Bytes moved per port name by a plan.
void add_port_bytes(const dataflows::TilePlan& plan, std::map<std::string, u64>& bytes);

// Times the layers of one run on one unit.
using Timer = std::function<std::vector<LayerTiming>(
    const std::vector<const dataflows::TilePlan*>& plans, const arch::MemorySystem& memory,
    Trace* trace)>;

struct Fidelity {
  Timer timer;
  ExecutorFactory executor;  // several units sharing the memory system
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
  // Runs that could last more cycles than this are refused with one line naming the operator
  // that passes it (a fidelity whose clock is a fixed-width time, as SystemC's 64-bit count of
  // its resolution); 0: no limit. Judged on serial_cycles_bound (sim/simulate.hpp).
  u64 max_run_cycles = 0;
  // Layers that move more accesses than this through detailed DRAM channels are refused with one
  // line naming the operator (a fidelity running a command-level DRAM model); 0: no limit.
  u64 max_layer_dram_accesses = 0;
};

// An upper bound on the cycles `plan` can take on `memory` whatever the overlap: its compute, then
// each transfer alone after the one before (each channel's bytes at its rate, a rounding cycle
// and the channel's latency per tile and port). Throws CountOverflow when the bound does not fit.
u64 serial_cycles_bound(const dataflows::TilePlan& plan, const arch::MemorySystem& memory);

// Fidelity name -> entry. "analytical" is always there.
Registry<Fidelity>& fidelities();

// The registered fidelity names, in name order.
std::vector<std::string> fidelity_names();

}  // namespace tessera::sim
