#include "sim/scalesim_report.hpp"

#include <array>
#include <initializer_list>

#include <fmt/format.h>

#include "common/error.hpp"

namespace tessera::sim {

namespace {

// The access levels the systolic engine counts, one per SCALE-Sim stream.
constexpr std::array<std::string_view, 6> kLevels = {"sram.ifmap", "sram.filter", "sram.ofmap",
                                                     "dram.ifmap", "dram.filter", "dram.ofmap"};

void check_levels(const Report& r) {
  for (const auto& l : r.layers)
    for (const auto& [level, a] : l.accesses) {
      bool known = false;
      for (auto k : kLevels) known = known || level == k;
      if (!known)
        throw UnsupportedError(fmt::format(
            "SCALE-Sim CSV reports: layer '{}' counts accesses at level '{}', which has no "
            "SCALE-Sim column; they need an engine that counts accesses per operand in SRAM and "
            "DRAM (systolic), not '{}'",
            l.name, level, r.engine));
    }
}

arch::Accesses level(const LayerResult& l, std::string_view name) {
  const auto it = l.accesses.find(std::string(name));
  return it == l.accesses.end() ? arch::Accesses{} : it->second;
}

// 100 * macs / (cycles * PEs), as SCALE-Sim computes it: exact integers divided once, so the
// result is the correctly rounded quotient (as Python's int / int). 0 for 0 cycles.
double percent_of_peak(u64 macs, u64 cycles, double peak_macs_per_cycle) {
  const double capacity = static_cast<double>(cycles) * peak_macs_per_cycle;
  return capacity > 0 ? static_cast<double>(macs * 100) / capacity : 0.0;
}

// Accesses per cycle over the layer's cycles; 0 for 0 cycles.
double per_cycle(u64 count, u64 cycles) {
  return cycles > 0 ? static_cast<double>(count) / static_cast<double>(cycles) : 0.0;
}

// One row as SCALE-Sim writes it: "0, a, b,\n".
std::string row(std::size_t layer_id, std::initializer_list<std::string> fields) {
  std::string out = std::to_string(layer_id);
  for (const auto& f : fields) out += ", " + f;
  return out + ",\n";
}

}  // namespace

std::string python_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";  // not 1e+16, inf, nan
  return s;
}

std::string scalesim_compute_report(const Report& r) {
  check_levels(r);
  std::string out =
      "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util "
      "%,\n";
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const LayerResult& l = r.layers[i];
    const auto eff = l.metrics.find("mapping_efficiency");
    out += row(
        i, {std::to_string(l.timing.cycles), std::to_string(l.timing.stall_cycles),
            python_float(percent_of_peak(l.macs, l.timing.cycles, r.peak_macs_per_cycle)),
            python_float(eff == l.metrics.end() ? 0.0 : 100 * eff->second),
            python_float(percent_of_peak(l.macs, l.timing.compute_cycles, r.peak_macs_per_cycle))});
  }
  return out;
}

std::string scalesim_bandwidth_report(const Report& r) {
  check_levels(r);
  std::string out =
      "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
      "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const LayerResult& l = r.layers[i];
    const u64 c = l.timing.cycles;
    out += row(i, {python_float(per_cycle(level(l, "sram.ifmap").read_bytes, c)),
                   python_float(per_cycle(level(l, "sram.filter").read_bytes, c)),
                   python_float(per_cycle(level(l, "sram.ofmap").write_bytes, c)),
                   python_float(per_cycle(level(l, "dram.ifmap").read_bytes, c)),
                   python_float(per_cycle(level(l, "dram.filter").read_bytes, c)),
                   python_float(per_cycle(level(l, "dram.ofmap").write_bytes, c))});
  }
  return out;
}

std::string scalesim_detailed_access_report(const Report& r) {
  check_levels(r);
  std::string out =
      "LayerID, "
      "SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
      "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
      "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
      "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
      "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
      "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const LayerResult& l = r.layers[i];
    // Tessera does not time each stream on its own: every stream spans the whole layer.
    const std::string start = "0", stop = std::to_string(l.timing.cycles);
    const auto n = [](u64 v) { return std::to_string(v); };
    out += row(i, {start, stop, n(level(l, "sram.ifmap").read_bytes),   //
                   start, stop, n(level(l, "sram.filter").read_bytes),  //
                   start, stop, n(level(l, "sram.ofmap").write_bytes),  //
                   start, stop, n(level(l, "dram.ifmap").read_bytes),   //
                   start, stop, n(level(l, "dram.filter").read_bytes),  //
                   start, stop, n(level(l, "dram.ofmap").write_bytes)});
  }
  return out;
}

ScaleSimCsv to_scalesim_csv(const Report& r) {
  return {scalesim_compute_report(r), scalesim_bandwidth_report(r),
          scalesim_detailed_access_report(r)};
}

}  // namespace tessera::sim
