// Sweeps: evaluate the points of a design space (its grid, or random samples), in parallel on
// TBB threads at analytical fidelity, reporting each result the moment it is known. Which points
// a run covers (method, seed, shard, points already done) is decided here; writing the log is
// the caller's (cli/), through the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "explorer/evaluator.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"

namespace tessera::explorer {

struct SweepOptions {
  enum class Method { grid, random } method = Method::grid;
  std::uint64_t samples = 0;  // random: number of points
  std::uint64_t seed = 1;     // random
  unsigned jobs = 1;          // threads (analytical); SystemC runs one point at a time
  std::uint64_t shard = 0, shards = 1;  // evaluate indices with index % shards == shard
  std::set<std::uint64_t> done;         // indices already in the log (--resume)
};

// The indices this run evaluates, in order.
std::vector<std::uint64_t> sweep_indices(const DesignSpace& space, const SweepOptions& options);

// The point of `index` under `options`.
nlohmann::json sweep_point(const DesignSpace& space, const SweepOptions& options, std::uint64_t index);

// Evaluates one point; never throws for a bad point (the entry says why it failed).
LogEntry evaluate_point(const DesignSpace& space, const Workload& workload, std::uint64_t index,
                        const nlohmann::json& point);

// Evaluates `indices`, calling `on_result` (serialised: one call at a time) as each completes.
void run_sweep(const DesignSpace& space, const Workload& workload, const SweepOptions& options,
               const std::vector<std::uint64_t>& indices, const std::function<void(const LogEntry&)>& on_result);

}  // namespace tessera::explorer
