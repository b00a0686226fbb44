// Sweeps: evaluate the points of a design space (its grid, or random samples), in parallel on
// TBB threads at analytical fidelity, reporting each result the moment it is known. Which points
// a run covers (method, seed, shard, points already done) is decided here; writing the log is
// the caller's (cli/), through the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "explorer/evaluator.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"

namespace tessera::explorer {

struct SweepOptions {
  // grid: every point. random: independent uniform draws. halton: the Halton low-discrepancy
  // sequence (pagmo). lhs: Latin hypercube (each parameter's range cut into `samples` strata,
  // each used once, strata shuffled per parameter by the seed).
  enum class Method { grid, random, halton, lhs } method = Method::grid;
  std::uint64_t samples = 0;            // random, halton, lhs: number of points
  std::uint64_t seed = 1;               // random, lhs
  unsigned jobs = 1;                    // threads (analytical); SystemC runs one point at a time
  std::uint64_t shard = 0, shards = 1;  // evaluate indices with index % shards == shard
  std::set<std::uint64_t> done;         // indices already in the log (--resume)
};

std::optional<SweepOptions::Method> sweep_method_from_string(const std::string& name);

// The points of a sweep, numbered: point(i) depends only on the space, the method, the seed and
// the sample count, never on threads or shards.
class Sampler {
 public:
  Sampler(const DesignSpace& space, const SweepOptions& options);
  std::uint64_t size() const { return size_; }
  nlohmann::json point(std::uint64_t index) const;

 private:
  const DesignSpace& space_;
  SweepOptions::Method method_;
  std::uint64_t seed_, size_;
  std::vector<std::vector<std::uint64_t>> strata_;  // lhs: per parameter, stratum of each sample
};

// The indices this run evaluates, in order.
std::vector<std::uint64_t> sweep_indices(const Sampler& sampler, const SweepOptions& options);

// Evaluates one point; never throws for a bad point (the entry says why it failed).
LogEntry evaluate_point(const DesignSpace& space, const Workload& workload, std::uint64_t index,
                        const nlohmann::json& point);

// Evaluates `indices`, calling `on_result` (serialised: one call at a time) as each completes.
void run_sweep(const DesignSpace& space, const Workload& workload, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result);

}  // namespace tessera::explorer
