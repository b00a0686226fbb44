// Sweeps: the points of a design space (its grid, or samples), evaluated through an evaluator
// pool (explorer/pool.hpp), each result reported the moment it is known. Which points
// a run covers (method, seed, shard, points already done) is decided here; writing the log is
// the caller's (cli/), through the callback.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "explorer/evaluator.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"

namespace tessera::explorer {

// The workloads of a design space's points: its workload file, or the network a point chooses
// (explorer/network.hpp), built with each point's workload settings, once per distinct network
// and settings (thread-safe). At most `capacity` are kept, the least recently used dropped
// first, so a space of many networks (15,625 NAS-Bench-201 cells) stays within bounded memory.
// The base workload (the workload file, or the network of the first grid point whose network
// builds, with the base settings) is built by the constructor, so a bad workload file or base
// settings fail before any point runs; a network parameter's invalid value fails only the
// points that take it, grid point 0 included.
class WorkloadCache {
 public:
  explicit WorkloadCache(const DesignSpace& space, std::size_t capacity = 512);
  // `network`: a point's network description, or null for the space's workload file.
  std::shared_ptr<const Workload> get(const nlohmann::json& network,
                                      const nlohmann::json& settings) const;
  std::shared_ptr<const Workload> get(const nlohmann::json& settings) const {
    return get(nullptr, settings);
  }
  // The base workload; InputError for a joint space none of whose first points has a valid
  // network.
  const Workload& base() const;
  // What logs record as the space's workload: the base workload's hash, or for a joint space
  // without one a hash of its network specs and base settings.
  const std::string& base_hash() const { return base_hash_; }
  std::uint64_t builds() const;  // workloads built so far (a measure of the cache's hit rate)

 private:
  std::shared_ptr<const Workload> build(const nlohmann::json& network,
                                        const nlohmann::json& settings) const;

  const DesignSpace& space_;
  std::size_t capacity_;
  std::shared_ptr<const Workload> base_;
  std::string base_hash_;
  mutable std::mutex mutex_;
  using Lru = std::list<std::pair<std::string, std::shared_ptr<const Workload>>>;
  mutable Lru lru_;  // most recently used first
  mutable std::unordered_map<std::string, Lru::iterator> built_;  // by network and settings text
  mutable std::uint64_t builds_ = 0;
};

struct SweepOptions {
  // grid: every point. random: independent uniform draws. halton: the Halton low-discrepancy
  // sequence (pagmo). lhs: Latin hypercube (each parameter's range cut into `samples` strata,
  // each used once, strata permuted per parameter by the seed, computed per point: any sample
  // count costs no memory).
  enum class Method { grid, random, halton, lhs } method = Method::grid;
  std::uint64_t samples = 0;            // random, halton, lhs: number of points
  std::uint64_t seed = 1;               // random, lhs
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
};

// The most points one run (one shard) lists: 2^26, half a gigabyte of indices.
inline constexpr std::uint64_t kMaxRunPoints = std::uint64_t{1} << 26;

// The indices this run evaluates, in order; more than kMaxRunPoints is an InputError.
std::vector<std::uint64_t> sweep_indices(const Sampler& sampler, const SweepOptions& options);

// Evaluates one point; never throws for a bad point (the entry says why it failed). In this
// order: constraints on parameters, the hardware (every task's sub-accelerator), hardware
// metrics, expression metrics and constraints on them; only then the accuracy oracle, so a
// point that breaks a hardware spec is recorded infeasible without an accuracy (early
// pruning); then accuracy metrics and their constraints.
LogEntry evaluate_point(const DesignSpace& space, const WorkloadCache& workloads,
                        std::uint64_t index, const nlohmann::json& point);

// Checks an entry of a log being continued against this space: its workload hash and, for an
// ok entry, its config hash must be what the point gives now (a log of another workload or base
// config, or one they changed under, is not continued). InputError naming `log` and the index.
void check_logged_entry(const DesignSpace& space, const WorkloadCache& workloads,
                        const LogEntry& entry, const std::string& log);

class EvaluatorPool;
// The default pool for the space's fidelity and `jobs` (explorer/pool.hpp), evaluating with
// evaluate_point; `space` and `workloads` must outlive it.
std::unique_ptr<EvaluatorPool> make_default_pool(const DesignSpace& space,
                                                 const WorkloadCache& workloads, unsigned jobs);

// Evaluates `indices` in the default pool for the space's fidelity and `jobs`, calling
// `on_result` (one call at a time) as each completes.
void run_sweep(const DesignSpace& space, const WorkloadCache& workloads, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result);

}  // namespace tessera::explorer
