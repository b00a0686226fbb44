#include "explorer/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>

#include <pagmo/utils/discrepancy.hpp>

#include "common/error.hpp"
#include "explorer/pool.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

std::optional<SweepOptions::Method> sweep_method_from_string(const std::string& name) {
  using M = SweepOptions::Method;
  for (auto [n, m] :
       {std::pair{"grid", M::grid}, {"random", M::random}, {"halton", M::halton}, {"lhs", M::lhs}})
    if (name == n) return m;
  return std::nullopt;
}

Sampler::Sampler(const DesignSpace& space, const SweepOptions& o)
    : space_(space),
      method_(o.method),
      seed_(o.seed),
      size_(o.method == SweepOptions::Method::grid ? space.grid_size() : o.samples) {
  if (method_ != SweepOptions::Method::lhs) return;
  for (std::size_t p = 0; p < space.parameters.size(); ++p) {
    std::vector<std::uint64_t> strata(size_);
    std::iota(strata.begin(), strata.end(), 0);
    std::mt19937_64 rng(seed_ * 1000003u + p);
    std::shuffle(strata.begin(), strata.end(), rng);
    strata_.push_back(std::move(strata));
  }
}

nlohmann::json Sampler::point(std::uint64_t index) const {
  switch (method_) {
    case SweepOptions::Method::grid:
      return space_.grid_point(index);
    case SweepOptions::Method::random:
      return space_.random_point(seed_, index);
    case SweepOptions::Method::halton:  // the index-th element of the sequence
      return space_.unit_point(pagmo::halton(static_cast<unsigned>(space_.parameters.size()),
                                             static_cast<unsigned>(index + 1))());
    case SweepOptions::Method::lhs: {  // the middle of the sample's stratum, per parameter
      std::vector<double> u;
      for (const auto& strata : strata_)
        u.push_back((static_cast<double>(strata[index]) + 0.5) / static_cast<double>(size_));
      return space_.unit_point(u);
    }
  }
  return {};
}

std::vector<std::uint64_t> sweep_indices(const Sampler& sampler, const SweepOptions& o) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = o.shard; i < sampler.size(); i += o.shards)
    if (!o.done.count(i)) out.push_back(i);
  return out;
}

WorkloadCache::WorkloadCache(const DesignSpace& space)
    : space_(space), base_(build(space.workload_settings)) {
  built_.emplace(space.workload_settings.dump(), base_);
}

std::shared_ptr<const Workload> WorkloadCache::build(const nlohmann::json& settings) const {
  const auto read = workloads::read_workload_settings(settings, space_.file, "/workload_settings");
  return std::make_shared<const Workload>(
      prepare_workload(workloads::load_workload(space_.workload_file, read), space_.workload_file));
}

std::shared_ptr<const Workload> WorkloadCache::get(const nlohmann::json& settings) const {
  const std::string key = settings.dump();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = built_.find(key); it != built_.end()) return it->second;
  }
  auto w = build(settings);  // outside the lock: other threads may build other settings
  const std::lock_guard<std::mutex> lock(mutex_);
  return built_.emplace(key, std::move(w)).first->second;  // the first one built wins
}

LogEntry evaluate_point(const DesignSpace& space, const WorkloadCache& workloads,
                        std::uint64_t index, const nlohmann::json& point) {
  const auto start = std::chrono::steady_clock::now();
  LogEntry e;
  e.index = index;
  e.point = point;
  e.workload_hash = workloads.base().hash;
  try {
    const ResolvedPoint resolved = resolve_point(space, point);
    e.derived = resolved.derived;
    const arch::ArchConfig arch = point_config(space, resolved);
    e.config_hash = arch.hash;
    check_constraints(space, resolved, arch.resolved);
    const auto workload = workloads.get(resolved.workload_settings);
    e.workload_hash = workload->hash;
    EvaluateOptions options;
    options.fidelity = space.fidelity;
    const sim::Report r = evaluate(arch, *workload, options);
    const auto& s = r.summary;
    e.metrics = {{"cycles", static_cast<double>(s.cycles)},
                 {"latency_s", s.latency_s},
                 {"energy_pj", s.energy_pj},
                 {"area_mm2", s.area_mm2},
                 {"utilization", s.utilization},
                 {"macs", static_cast<double>(s.macs)},
                 {"throughput_macs_per_s",
                  s.latency_s > 0 ? static_cast<double>(s.macs) / s.latency_s : 0.0},
                 {"edp_pj_s", s.energy_pj * s.latency_s},
                 {"power_w", s.latency_s > 0 ? s.energy_pj * 1e-12 / s.latency_s : 0.0}};
    // JSON has no NaN or infinity, and an impossible result is no result: the point fails.
    for (const auto& [name, value] : e.metrics)
      if (!std::isfinite(value))
        throw InputError("metric " + name + " is not finite (" + std::to_string(value) +
                         "): the model cannot evaluate this point");
    check_constraints(space, resolved, arch.resolved, &e.metrics);
  } catch (const std::exception& ex) {  // a bad point is logged as failed; the sweep goes on
    e.ok = false;
    e.error = ex.what();
    e.metrics.clear();
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

void check_logged_entry(const DesignSpace& space, const WorkloadCache& workloads, const LogEntry& e,
                        const std::string& log) {
  if (!e.ok) return;  // a failed point may have failed before either hash was known
  const auto fail = [&](const std::string& what) {
    return InputError(log + ": entry " + std::to_string(e.index) + " " + e.point.dump() + ": " +
                      what + ": the log was written for other inputs; choose another --log");
  };
  ResolvedPoint resolved;
  try {
    resolved = resolve_point(space, e.point);
  } catch (const InputError& error) {
    throw fail(std::string("not a point of this space (") + error.what() + ")");
  }
  if (workloads.get(resolved.workload_settings)->hash != e.workload_hash)
    throw fail("its workload_hash differs from this workload's");
  std::string config_hash;
  try {
    config_hash = point_config(space, resolved).hash;
  } catch (const std::exception& error) {
    throw fail(std::string("its config does not build now (") + error.what() + ")");
  }
  if (config_hash != e.config_hash) throw fail("its config_hash differs from this base config's");
}

std::unique_ptr<EvaluatorPool> make_default_pool(const DesignSpace& space,
                                                 const WorkloadCache& workloads, unsigned jobs) {
  PoolRegistry pools("evaluator pool");
  add_builtin_pools(pools);
  PoolSettings settings;
  settings.fidelity = space.fidelity;
  settings.jobs = jobs;
  settings.evaluate = [&space, &workloads](std::uint64_t index, const nlohmann::json& point) {
    return evaluate_point(space, workloads, index, point);
  };
  return pools.get(default_pool(space.fidelity, jobs))(settings);
}

void run_sweep(const DesignSpace& space, const WorkloadCache& workloads, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result) {
  make_default_pool(space, workloads, jobs)
      ->run(
          indices, [&](std::uint64_t i) { return sampler.point(i); }, on_result);
}

}  // namespace tessera::explorer
