// Evaluator pools: where the points of a sweep or search are evaluated. One registry (named by
// `--pool`, listed by `tessera list`): inline (one at a time), threads (TBB, analytical points),
// processes (forked workers, one SystemC simulation each) and, registered by the CLI when built
// with OpenMPI, mpi (explorer/mpi/). Sweeps, searches and, later, co-design all evaluate through
// a pool; results never depend on which one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/registry.hpp"
#include "explorer/results_log.hpp"
#include "sim/executor.hpp"

namespace tessera::explorer {

// Evaluates one point; never throws for a bad point (the entry says why it failed).
using PointEvaluator = std::function<LogEntry(std::uint64_t index, const nlohmann::json& point)>;
// The point of an index (sweeps compute it from the sampler; searches from their proposals).
using PointOf = std::function<nlohmann::json(std::uint64_t index)>;
using ResultHandler = std::function<void(const LogEntry&)>;

class EvaluatorPool {
 public:
  virtual ~EvaluatorPool() = default;
  // Evaluates every index and calls `on_result` once per index as each completes, one call at a
  // time, on the calling thread. May be called several times (a search's generations).
  virtual void run(const std::vector<std::uint64_t>& indices, const PointOf& point,
                   const ResultHandler& on_result) = 0;
  // False on the processes of a distributed pool that only evaluate (MPI ranks other than 0):
  // they call serve() instead of run(), and neither write files nor print.
  virtual bool coordinator() const { return true; }
  // Evaluates what the coordinator sends until it says stop.
  virtual void serve() {}
};

struct PoolSettings {
  std::string fidelity = "analytical";  // a sim::fidelities() name
  unsigned jobs = 1;  // threads or worker processes (per process for mpi)
  PointEvaluator evaluate;
};

using PoolFactory = std::function<std::unique_ptr<EvaluatorPool>(const PoolSettings&)>;
using PoolRegistry = Registry<PoolFactory>;

// Adds inline, threads and processes.
void add_builtin_pools(PoolRegistry& registry);

// The pool a run uses when none is named: when jobs > 1, threads for a thread-safe fidelity
// (analytical) and processes for one that runs once per process (SystemC); inline otherwise.
std::string default_pool(const std::string& fidelity, unsigned jobs);

}  // namespace tessera::explorer
