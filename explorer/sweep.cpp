#include "explorer/sweep.hpp"

#include <chrono>
#include <mutex>
#include <numeric>
#include <random>

#include <pagmo/utils/discrepancy.hpp>
#include <tbb/global_control.h>
#include <tbb/parallel_for_each.h>

#include "common/error.hpp"

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

LogEntry evaluate_point(const DesignSpace& space, const Workload& workload, std::uint64_t index,
                        const nlohmann::json& point) {
  const auto start = std::chrono::steady_clock::now();
  LogEntry e;
  e.index = index;
  e.point = point;
  e.workload_hash = workload.hash;
  try {
    const arch::ArchConfig arch = point_config(space, point);
    e.config_hash = arch.hash;
    EvaluateOptions options;
    options.fidelity = space.fidelity;
    const sim::Report r = evaluate(arch, workload, options);
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
    for (const auto& c : space.constraints) {
      const auto m = e.metrics.find(c.metric);
      if (m == e.metrics.end())
        throw InputError(space.file + ": constraint \"" + c.text + "\": no metric '" + c.metric +
                         "'");
      if (c.at_most ? m->second > c.bound : m->second < c.bound)
        throw InputError("infeasible: " + c.text + " violated (" + c.metric + " = " +
                         nlohmann::json(m->second).dump() + ")");
    }
  } catch (const std::exception& ex) {  // a bad point is logged as failed; the sweep goes on
    e.ok = false;
    e.error = ex.what();
    e.metrics.clear();
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

void run_sweep(const DesignSpace& space, const Workload& workload, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result) {
  std::mutex report;
  const auto one = [&](std::uint64_t index) {
    LogEntry e = evaluate_point(space, workload, index, sampler.point(index));
    const std::lock_guard<std::mutex> lock(report);
    on_result(e);
  };
  // SystemC's kernel is process-global: its points run one at a time.
  if (jobs <= 1 || space.fidelity == sim::Fidelity::systemc) {
    for (auto i : indices) one(i);
    return;
  }
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, jobs);
  tbb::parallel_for_each(indices.begin(), indices.end(), one);
}

}  // namespace tessera::explorer
