#include "explorer/sweep.hpp"

#include <chrono>
#include <mutex>

#include <tbb/global_control.h>
#include <tbb/parallel_for_each.h>

namespace tessera::explorer {

std::vector<std::uint64_t> sweep_indices(const DesignSpace& space, const SweepOptions& o) {
  const std::uint64_t total = o.method == SweepOptions::Method::grid ? space.grid_size() : o.samples;
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = o.shard; i < total; i += o.shards)
    if (!o.done.count(i)) out.push_back(i);
  return out;
}

nlohmann::json sweep_point(const DesignSpace& space, const SweepOptions& o, std::uint64_t index) {
  return o.method == SweepOptions::Method::grid ? space.grid_point(index) : space.random_point(o.seed, index);
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
                 {"throughput_macs_per_s", s.latency_s > 0 ? static_cast<double>(s.macs) / s.latency_s : 0.0},
                 {"edp_pj_s", s.energy_pj * s.latency_s}};
  } catch (const std::exception& ex) {  // a bad point is logged as failed; the sweep goes on
    e.ok = false;
    e.error = ex.what();
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

void run_sweep(const DesignSpace& space, const Workload& workload, const SweepOptions& options,
               const std::vector<std::uint64_t>& indices, const std::function<void(const LogEntry&)>& on_result) {
  std::mutex report;
  const auto one = [&](std::uint64_t index) {
    LogEntry e = evaluate_point(space, workload, index, sweep_point(space, options, index));
    const std::lock_guard<std::mutex> lock(report);
    on_result(e);
  };
  // SystemC's kernel is process-global: its points run one at a time.
  if (options.jobs <= 1 || space.fidelity == sim::Fidelity::systemc) {
    for (auto i : indices) one(i);
    return;
  }
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, options.jobs);
  tbb::parallel_for_each(indices.begin(), indices.end(), one);
}

}  // namespace tessera::explorer
