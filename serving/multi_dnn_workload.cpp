#include "serving/multi_dnn_workload.hpp"
#include "serving/sampling.hpp"
#include "serving/scenario_file.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "common/error.hpp"
#include "common/hash.hpp"
#include "sim/simulate.hpp"
#include "workloads/json_format.hpp"
#include "workloads/settings.hpp"

namespace tessera::serving {

namespace {

// One simulated layer: its name, latency, MACs and input density.
struct LayerRow {
  std::string name;
  double latency_s = 0, macs = 0, density = 1;
};

// Simulations shared by every scenario a process loads: a sweep reloads its scenario per point,
// and models of one workload under one config repeat samples.
std::vector<LayerRow> simulate_cached(const arch::ArchConfig& arch, const workloads::Graph& g,
                                      const std::string& fidelity) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<LayerRow>> cache;
  const std::string key =
      arch.hash + '|' + fidelity + '|' + json_hash(workloads::workload_to_json(g));
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (const auto it = cache.find(key); it != cache.end()) return it->second;
  }
  const arch::Engine& engine = *arch.engine;
  std::vector<LayerRow> rows;
  for (const auto& l : sim::simulate(engine, g, fidelity)) {
    LayerRow r;
    r.name = l.name;
    // As the simulation report gives a layer's latency.
    r.latency_s = static_cast<double>(l.timing.cycles) / engine.clock_hz();
    // The operator's MACs, not the effectual ones the result counts: the group's sparsity is
    // its work-weighted input sparsity.
    if (const auto n = g.find(l.name)) {
      r.macs = static_cast<double>(g.op(*n).macs());
      r.density = g.op(*n).density.activation;
    }
    rows.push_back(std::move(r));
  }
  const std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(key, rows);
  return rows;
}

std::string name_prefix(const std::string& name, std::int64_t parts) {
  std::size_t at = 0;
  for (std::int64_t i = 0; i < parts; ++i) {
    at = name.find('.', at);
    if (at == std::string::npos) return name;
    if (i + 1 < parts) ++at;
  }
  return name.substr(0, at);
}

}  // namespace

void compute_workload_table(LatencyTableModel& m, ParamReader& r, const nlohmann::json& spec,
                            const std::string& dir, const std::string& default_arch) {
  const std::string workload = resolve(dir, r.string("workload"));
  m.table_file = workload;
  const std::string arch_file = r.has("arch") ? resolve(dir, r.string("arch")) : default_arch;
  if (arch_file.empty())
    throw r.error("", "a model given as a workload needs an engine config: \"arch\" here or at "
                      "the top of the scenario");
  const auto [workload_sets, arch_sets] = workloads::split_workload_overrides(r.strings("set"));
  const std::string fidelity = r.string("fidelity", "analytical");
  const std::int64_t samples = r.positive_integer("samples", 1);
  if (samples > 10'000) throw r.error("samples", "at most 10000 samples (one simulation each)");
  const std::int64_t parts = r.non_negative_integer("layer_name_parts", 0);

  // The variation of the samples' activation densities.
  double sample_lo = 1, sample_hi = 1, layer_lo = 1, layer_hi = 1, min_density = 0.01;
  std::uint64_t seed = 1;
  if (auto v = r.optional_child("variation")) {
    const auto range = [&](const std::string& key, double& lo, double& hi) {
      if (!v->has(key)) return;
      const nlohmann::json& a = spec.at("variation").at(key);
      if (!a.is_array() || a.size() != 2 || !a[0].is_number() || !a[1].is_number() ||
          !(a[0].get<double>() > 0) || !(a[1].get<double>() >= a[0].get<double>()) ||
          a[1].get<double>() > 1e6)
        throw v->error(key, "expected [low, high] factors with 0 < low <= high <= 1e6");
      (void)v->array_size(key);
      lo = a[0].get<double>();
      hi = a[1].get<double>();
    };
    range("sample", sample_lo, sample_hi);
    range("layer", layer_lo, layer_hi);
    min_density = v->positive("min_density", min_density);
    if (min_density > 1) throw v->error("min_density", "must be at most 1");
    seed = static_cast<std::uint64_t>(v->non_negative_integer("seed", 1));
    v->finish();
  }

  arch::ArchConfig arch;
  try {
    arch = arch::load_arch(arch_file, arch_sets);
  } catch (const InputError& e) {
    throw r.error(r.has("arch") ? "arch" : "", e.what());
  }
  workloads::Graph base;
  try {
    nlohmann::json settings =
        spec.contains("workload_settings") ? spec.at("workload_settings") : nlohmann::json::object();
    for (const auto& a : workload_sets) apply_json_override(settings, r.file(), a);
    (void)r.optional_child("workload_settings");  // read below, from `settings`
    const workloads::WorkloadSettings ws =
        workloads::read_workload_settings(settings, r.file(), r.path_of("workload_settings"));
    if (ws.generation)
      throw InputError("a generation run is many graphs, not one model's layers: drop generate");
    base = workloads::load_workload(workload, ws);
  } catch (const InputError& e) {
    throw r.error("workload", e.what());
  }

  Rng rng(seed);
  for (std::int64_t s = 0; s < samples; ++s) {
    workloads::Graph g = base;
    const double f = sample_lo + (sample_hi - sample_lo) * rng.uniform();
    for (workloads::Graph::Node n = 0; n < g.size(); ++n) {
      workloads::Operator& op = g.op(n);
      if (op.macs() == 0 || op.density.activation >= 1) continue;
      const double jitter = layer_lo + (layer_hi - layer_lo) * rng.uniform();
      op.density.activation = std::clamp(op.density.activation * f * jitter, min_density, 1.0);
    }
    std::vector<LayerRow> rows;
    try {
      rows = simulate_cached(arch, g, fidelity);
    } catch (const InputError& e) {
      throw r.error("workload", e.what());
    }
    // Scheduling layers: runs of operators whose names share their first `parts` parts.
    std::vector<double> lat, sparsity;
    std::string key;
    std::vector<std::pair<double, double>> group;  // (MACs, input density) of its operators
    // Weighted by each operator's share of the MACs, so that one operator's sparsity is exactly
    // 1 - its density.
    const auto close = [&] {
      double macs = 0, density = 0;
      for (const auto& [ops_macs, d] : group) macs += ops_macs;
      for (const auto& [ops_macs, d] : group) density += macs > 0 ? ops_macs / macs * d : 0.0;
      sparsity.push_back(macs > 0 ? std::clamp(1 - density, 0.0, 1.0) : 0.0);
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string k = parts ? name_prefix(rows[i].name, parts) : rows[i].name;
      if (i == 0 || !parts || k != key) {
        if (i > 0) close();
        lat.push_back(0);
        key = k;
        group.clear();
      }
      lat.back() += rows[i].latency_s;
      group.emplace_back(rows[i].macs, rows[i].density);
    }
    if (rows.empty()) throw r.error("workload", workload + ": has no operator to time");
    close();
    m.sample_ids.push_back(s);
    m.latency_s.push_back(std::move(lat));
    m.sparsity.push_back(std::move(sparsity));
  }
  summarise_latency_table(m);
}

}  // namespace tessera::serving
