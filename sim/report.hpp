// The report of one simulation: per-layer and total figures, the resolved config and its hash,
// the workload hash and run metadata. Schema: docs/report-schema.md. The names scripts rely on
// (schema_version, summary.{cycles, latency_s, energy_pj, macs, area_mm2, utilization},
// layers[].{name, cycles, compute_cycles, stall_cycles, macs, energy_pj}, config, run) are
// stable; a change to them bumps kReportSchemaVersion.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulate.hpp"

namespace tessera::sim {

inline constexpr int kReportSchemaVersion = 1;

struct Summary {
  u64 cycles = 0;
  u64 compute_cycles = 0;
  u64 mac_cycles = 0;     // sums of the layers' split of compute_cycles (LayerResult)
  u64 vector_cycles = 0;
  u64 stall_cycles = 0;
  double latency_s = 0;
  u64 macs = 0;
  double utilization = 0;
  double compute_utilization = 0;
  double energy_pj = 0;
  arch::EnergyBreakdown energy_by_component;
  arch::AccessCounts accesses;
  double area_mm2 = 0;
  arch::AreaBreakdown area_by_component;  // Engine::area_by_component: the vector unit listed
  u64 roofline_cycles = 0;  // sum of the layers' physical lower bounds (LayerResult)
  // Distinct warnings of the layers (what the engine ignored), each with the number of layers.
  std::vector<std::string> warnings;
  // With energy.hamming: totals of the layers' hamming figures (toggles, energies); null otherwise.
  nlohmann::json hamming;
};

struct RunInfo {
  std::string fidelity;
  std::string arch_file;
  std::string workload_file;
  std::string version;
  std::string git_revision;
  double wall_s = 0;
};

struct Report {
  std::string arch_name;
  std::string engine;
  std::string workload_name;
  nlohmann::json config;  // resolved
  std::string config_hash;
  std::string workload_hash;
  double clock_hz = 0;
  double peak_macs_per_cycle = 0;
  Summary summary;
  std::vector<LayerResult> layers;
  RunInfo run;
  // A generation run's section (sim/generation.hpp, to_json): the layers and summary above are
  // then its prefill's. Null otherwise.
  nlohmann::json generation;
};

// Totals over the layers (run back to back), with latency from the clock.
Summary summarize(const std::vector<LayerResult>& layers, double clock_hz,
                  double peak_macs_per_cycle, const arch::AreaBreakdown& area);

nlohmann::json to_json(const Report& report);

// A table for people: one row per layer, then the totals.
std::string format_table(const Report& report);

}  // namespace tessera::sim
