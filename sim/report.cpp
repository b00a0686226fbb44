#include "sim/report.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include <cmath>

#include <fmt/format.h>

namespace tessera::sim {

Summary summarize(const std::vector<LayerResult>& layers, double clock_hz,
                  double peak_macs_per_cycle, const arch::AreaBreakdown& area) {
  std::map<std::string, std::size_t> warning_layers;  // distinct warning -> layers
  Summary s;
  // Capacity at each layer's own peak (a bit-composable engine does more MACs at fewer bits),
  // so the whole run's utilisation stays a fraction of what the layers could have done.
  double capacity = 0, compute_capacity = 0;
  for (const auto& l : layers) {
    const double peak = l.peak_macs_per_cycle > 0 ? l.peak_macs_per_cycle : peak_macs_per_cycle;
    capacity += static_cast<double>(l.timing.cycles) * peak;
    compute_capacity += static_cast<double>(l.timing.compute_cycles) * peak;
    s.cycles += l.timing.cycles;
    s.roofline_cycles += l.roofline_cycles;
    for (const auto& w : l.warnings) ++warning_layers[w];
    s.compute_cycles += l.timing.compute_cycles;
    s.mac_cycles += l.mac_cycles;
    s.vector_cycles += l.vector_cycles;
    s.stall_cycles += l.timing.stall_cycles;
    s.macs += l.macs;
    s.energy_pj += l.energy_pj;
    for (const auto& [c, pj] : l.energy) s.energy_by_component[c] += pj;
    for (const auto& [level, a] : l.accesses) {
      s.accesses[level].read_bytes += a.read_bytes;
      s.accesses[level].write_bytes += a.write_bytes;
    }
  }
  s.latency_s = static_cast<double>(s.cycles) / clock_hz;
  s.utilization = capacity > 0 ? static_cast<double>(s.macs) / capacity : 0.0;
  s.compute_utilization = compute_capacity > 0 ? static_cast<double>(s.macs) / compute_capacity : 0.0;
  s.area_by_component = area;
  for (const auto& [component, mm2] : area) s.area_mm2 += mm2;
  for (const auto& l : layers) {
    if (l.hamming.is_null()) continue;
    if (s.hamming.is_null())
      s.hamming = {{"toggles", 0.0}, {"toggles_ci95", 0.0}, {"energy_pj", 0.0},
                   {"table_mac_energy_pj", 0.0}, {"layers", 0}};
    const auto& o = l.hamming.contains("optimized") ? l.hamming["optimized"] : l.hamming["original"];
    s.hamming["toggles"] = s.hamming["toggles"].get<double>() + o["toggles"].get<double>();
    const double ci = s.hamming["toggles_ci95"].get<double>(), lci = o["toggles_ci95"].get<double>();
    s.hamming["toggles_ci95"] = std::sqrt(ci * ci + lci * lci);
    s.hamming["energy_pj"] = s.hamming["energy_pj"].get<double>() + o["energy_pj"].get<double>();
    s.hamming["table_mac_energy_pj"] = s.hamming["table_mac_energy_pj"].get<double>() +
                                       l.hamming["table_mac_energy_pj"].get<double>();
    s.hamming["layers"] = s.hamming["layers"].get<int>() + 1;
  }
  for (const auto& [w, n] : warning_layers)
    s.warnings.push_back(fmt::format("{} ({} layer{})", w, n, n == 1 ? "" : "s"));
  return s;
}

namespace {

nlohmann::json accesses_json(const arch::AccessCounts& a) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [level, c] : a)
    j[level] = {{"read_bytes", c.read_bytes}, {"write_bytes", c.write_bytes}};
  return j;
}

nlohmann::json energy_json(const arch::EnergyBreakdown& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [component, pj] : e) j[component] = pj;
  return j;
}

// The layers' DRAM statistics (metrics "dram_stats.<channel>.<figure>", sim::account) added up
// per channel over `seconds`: counts summed, rates recomputed; empty without detailed channels.
nlohmann::json dram_summary(const std::vector<LayerResult>& layers, double seconds) {
  constexpr std::string_view prefix = "dram_stats.";
  std::map<std::string, std::map<std::string, double>> sums;
  for (const auto& l : layers)
    for (const auto& [key, v] : l.metrics) {
      if (key.rfind(prefix, 0) != 0) continue;
      const auto dot = key.rfind('.');
      const std::string channel = key.substr(prefix.size(), dot - prefix.size());
      const std::string figure = key.substr(dot + 1);
      auto& f = sums[channel][figure];
      if (figure == "estimated" || figure == "peak_gb_per_s") f = std::max(f, v);
      else f += v;
    }
  nlohmann::json out = nlohmann::json::object();
  for (auto& [channel, f] : sums) {
    const double requests = f["row_hits"] + f["row_misses"] + f["row_conflicts"];
    const double gbs = seconds > 0 ? f["bytes"] / seconds / 1e9 : 0.0;
    nlohmann::json j;
    j["estimated"] = f["estimated"] > 0;
    for (const char* k : {"reads", "writes", "activates", "precharges", "refreshes", "per_bank_refreshes",
                          "row_hits", "row_misses", "row_conflicts", "bytes"})
      j[k] = static_cast<std::uint64_t>(f[k]);
    j["row_hit_rate"] = requests > 0 ? f["row_hits"] / requests : 0.0;
    j["achieved_gb_per_s"] = gbs;
    j["peak_gb_per_s"] = f["peak_gb_per_s"];
    j["bandwidth_fraction"] = f["peak_gb_per_s"] > 0 ? gbs / f["peak_gb_per_s"] : 0.0;
    out[channel] = j;
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const Report& r) {
  const Summary& s = r.summary;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    layers.push_back({{"name", l.name},
                      {"kind", l.kind},
                      {"runs_on", l.runs_on},
                      {"source", l.source},
                      {"cycles", l.timing.cycles},
                      {"compute_cycles", l.timing.compute_cycles},
                      {"mac_cycles", l.mac_cycles},
                      {"vector_cycles", l.vector_cycles},
                      {"stall_cycles", l.timing.stall_cycles},
                      {"latency_s", static_cast<double>(l.timing.cycles) / r.clock_hz},
                      {"macs", l.macs},
                      {"utilization", l.utilization},
                      {"compute_utilization", l.compute_utilization},
                      {"energy_pj", l.energy_pj},
                      {"energy_by_component", energy_json(l.energy)},
                      {"accesses", accesses_json(l.accesses)},
                      {"metrics", l.metrics},
                      {"roofline_cycles", l.roofline_cycles},
                      {"unit_utilization", l.unit_utilization}});
    auto& j = layers.back();
    if (!l.hamming.is_null()) j["hamming"] = l.hamming;
    if (l.mapping) j["mapping"] = l.mapping->to_json();
    if (!l.fused.empty()) j["fused"] = l.fused;
    if (!l.folded.empty()) j["folded"] = l.folded;
    if (!l.fused_into.empty()) j["fused_into"] = l.fused_into;
    if (!l.warnings.empty()) j["warnings"] = l.warnings;
  }
  const double cycles_per_s = r.run.wall_s > 0 ? static_cast<double>(s.cycles) / r.run.wall_s : 0.0;
  nlohmann::json out = {
      {"schema_version", kReportSchemaVersion},
      {"summary",
       {{"arch", r.arch_name},
        {"engine", r.engine},
        {"workload", r.workload_name},
        {"cycles", s.cycles},
        {"compute_cycles", s.compute_cycles},
        {"mac_cycles", s.mac_cycles},
        {"vector_cycles", s.vector_cycles},
        {"stall_cycles", s.stall_cycles},
        {"latency_s", s.latency_s},
        {"macs", s.macs},
        {"utilization", s.utilization},
        {"compute_utilization", s.compute_utilization},
        {"energy_pj", s.energy_pj},
        {"energy_by_component", energy_json(s.energy_by_component)},
        {"accesses", accesses_json(s.accesses)},
        {"area_mm2", s.area_mm2},
        {"area_by_component", s.area_by_component},
        {"roofline_cycles", s.roofline_cycles},
        {"warnings", s.warnings},
        {"clock_hz", r.clock_hz},
        {"peak_macs_per_cycle", r.peak_macs_per_cycle}}},
      {"layers", std::move(layers)},
      {"config", r.config},
      {"run",
       {{"fidelity", r.run.fidelity},
        {"arch_file", r.run.arch_file},
        {"workload_file", r.run.workload_file},
        {"config_hash", r.config_hash},
        {"workload_hash", r.workload_hash},
        {"version", r.run.version},
        {"git_revision", r.run.git_revision},
        {"wall_s", r.run.wall_s},
        {"simulated_cycles_per_s", cycles_per_s}}},
  };
  if (!s.hamming.is_null()) out["summary"]["hamming"] = s.hamming;
  if (auto d = dram_summary(r.layers, s.latency_s); !d.empty()) out["summary"]["dram"] = std::move(d);
  if (!r.generation.is_null()) out["generation"] = r.generation;
  return out;
}

namespace {

// 1234567 -> "1.23M": tables stay narrow for large networks; the JSON keeps exact numbers.
std::string si(double v) {
  const char* suffix[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  return i == 0 ? fmt::format("{:.0f}", v) : fmt::format("{:.2f}{}", v, suffix[i]);
}

// 0.00123 -> "1.23 ms".
std::string seconds(double s) {
  if (s == 0) return "0 s";
  if (s >= 1) return fmt::format("{:.3g} s", s);
  if (s >= 1e-3) return fmt::format("{:.3g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3g} us", s * 1e6);
  return fmt::format("{:.3g} ns", s * 1e9);
}

std::string bytes(double b) {
  const char* suffix[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (b >= 1024.0 && i < 4) {
    b /= 1024.0;
    ++i;
  }
  return fmt::format("{:.4g} {}", b, suffix[i]);
}

std::string generation_table(const nlohmann::json& g) {
  std::string out = fmt::format(
      "generation: batch {}, prompt {} tokens, {} decode steps ({} tokens generated)\n",
      g["batch"].get<long long>(), g["prompt_tokens"].get<long long>(),
      g["decode_steps"].get<long long>(), g["generated_tokens"].get<long long>());
  const auto& tpot = g["tpot_s"]["steps"];
  out += fmt::format("  TTFT {} ({} cycles), TPOT mean {}", seconds(g["ttft_s"].get<double>()),
                     g["prefill_cycles"].get<unsigned long long>(),
                     seconds(g["tpot_s"]["mean"].get<double>()));
  if (!tpot.empty())
    out += fmt::format(" (first {}, last {})", seconds(tpot.front().get<double>()),
                       seconds(tpot.back().get<double>()));
  out += fmt::format(", total {} ({} decode cycles)\n", seconds(g["total_s"].get<double>()),
                     g["decode_cycles"].get<unsigned long long>());
  out += fmt::format("  {:.4g} tokens/s ({:.4g} in decode), {:.4g} uJ per token\n",
                     g["tokens_per_s"].get<double>(), g["decode_tokens_per_s"].get<double>(),
                     g["energy_per_token_pj"].get<double>() * 1e-6);
  const auto& kv = g["kv"];
  const double foot = kv["footprint_bytes"].get<double>(), chip = kv["on_chip_bytes"].get<double>();
  out += fmt::format("  KV cache {} at the end ({} per token), weights {}, DRAM capacity {}; ",
                     bytes(foot), bytes(kv["bytes_per_token"].get<double>()),
                     bytes(kv["weight_bytes"].get<double>()),
                     bytes(kv["dram_capacity_bytes"].get<double>()));
  out += chip == 0      ? std::string("the engine models no on-chip buffers: it stays in DRAM\n")
         : foot <= chip ? fmt::format("fits the {} on chip, simulated in DRAM\n", bytes(chip))
                        : fmt::format("exceeds the {} on chip: it stays in DRAM\n", bytes(chip));
  if (g.contains("early_exit")) {
    const auto& e = g["early_exit"];
    out += fmt::format(
        "  early exit (draft {} with {} layers, acceptance {}): {:.3g} tokens per round, "
        "{:.4g} tokens/s in decode, {:.3g}x plain decoding\n",
        e["draft"].get<long long>(), e["layers"].get<long long>(), e["acceptance"].get<double>(),
        e["tokens_per_round"].get<double>(), e["tokens_per_s"].get<double>(),
        e["speedup"].get<double>());
  }
  return out;
}

}  // namespace

std::string format_table(const Report& r) {
  std::size_t name_w = 5;
  for (const auto& l : r.layers) name_w = std::max(name_w, l.name.size());
  name_w = std::min<std::size_t>(name_w, 40);
  std::string out;
  const auto row = [&](std::string_view name, std::string_view kind, const std::string& macs,
                       const std::string& cycles, const std::string& mac_cycles,
                       const std::string& vector_cycles, const std::string& time,
                       const std::string& stall, const std::string& util,
                       const std::string& energy) {
    out += fmt::format("{:<{}} {:<13} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>10}\n",
                       name.substr(0, name_w), name_w, kind, macs, cycles, mac_cycles,
                       vector_cycles, time, stall, util, energy);
  };
  const auto count = [](u64 v) { return si(static_cast<double>(v)); };
  out += fmt::format("{} on {} ({}, {} fidelity)\n", r.workload_name, r.arch_name, r.engine,
                     r.run.fidelity);
  row("layer", "kind", "MACs", "cycles", "MAC cyc", "vec cyc", "time", "stalls", "util", "energy");
  const auto time = [&](u64 cycles) { return seconds(static_cast<double>(cycles) / r.clock_hz); };
  for (const auto& l : r.layers)
    row(l.name, l.fused_into.empty() ? l.kind : "+" + l.kind, count(l.macs),
        count(l.timing.cycles), count(l.mac_cycles), count(l.vector_cycles), time(l.timing.cycles),
        si(static_cast<double>(l.timing.stall_cycles)), fmt::format("{:.1f}%", 100 * l.utilization),
        fmt::format("{:.4g} uJ", l.energy_pj * 1e-6));
  const Summary& s = r.summary;
  row("total", "", count(s.macs), count(s.cycles), count(s.mac_cycles), count(s.vector_cycles),
      time(s.cycles), si(static_cast<double>(s.stall_cycles)),
      fmt::format("{:.1f}%", 100 * s.utilization), fmt::format("{:.4g} uJ", s.energy_pj * 1e-6));
  out += fmt::format("latency {:.6g} s at {:.6g} MHz, energy {:.6g} uJ, area {:.6g} mm2 (",
                     s.latency_s, r.clock_hz / 1e6, s.energy_pj * 1e-6, s.area_mm2);
  for (auto it = s.area_by_component.begin(); it != s.area_by_component.end(); ++it)
    out += fmt::format("{}{} {:.4g}", it == s.area_by_component.begin() ? "" : ", ", it->first,
                       it->second);
  out += ")\n";
  out += "MAC cyc, vec cyc: compute cycles of the MAC array and of the vector unit; they overlap "
         "(compute = the larger)\n";
  if (std::any_of(r.layers.begin(), r.layers.end(), [](const auto& l) { return !l.fused_into.empty(); }))
    out += "+kind: an epilogue fused into the layer above it (its time and energy are that layer's)\n";
  const nlohmann::json dram = dram_summary(r.layers, s.latency_s);  // items() refers into it
  for (const auto& [channel, d] : dram.items())
    out += fmt::format(
        "DRAM {}{}: {:.4g} GB/s of {:.4g} peak, row-buffer hit rate {:.1f}%, {} activates, {} "
        "refreshes{}, {} reads, {} writes\n",
        channel, d["estimated"].get<bool>() ? " (estimated)" : "", d["achieved_gb_per_s"].get<double>(),
        d["peak_gb_per_s"].get<double>(), 100 * d["row_hit_rate"].get<double>(),
        si(d["activates"].get<double>()), si(d["refreshes"].get<double>()),
        d["per_bank_refreshes"].get<std::uint64_t>() ? " + " + si(d["per_bank_refreshes"].get<double>()) + " per bank" : "",
        si(d["reads"].get<double>()), si(d["writes"].get<double>()));
  for (const auto& w : s.warnings) out += "warning: " + w + "\n";
  if (!r.generation.is_null())
    out += "(the layers above are the prefill's)\n" + generation_table(r.generation);
  return out;
}

}  // namespace tessera::sim
