// SCALE-Sim v2's three per-run CSV reports (COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
// DETAILED_ACCESS_REPORT.csv) made from a Tessera report, so that scripts written for SCALE-Sim
// read Tessera's results. Headers and row layout are SCALE-Sim's exactly; what each column holds
// and where it differs from SCALE-Sim: docs/scalesim.md, "CSV reports (--format scalesim)".
// Pure functions: the CLI writes the files.
#pragma once

#include <string>
#include <string_view>

#include "sim/report.hpp"

namespace tessera::sim {

// SCALE-Sim's file names.
inline constexpr std::string_view kScaleSimComputeReport = "COMPUTE_REPORT.csv";
inline constexpr std::string_view kScaleSimBandwidthReport = "BANDWIDTH_REPORT.csv";
inline constexpr std::string_view kScaleSimDetailedAccessReport = "DETAILED_ACCESS_REPORT.csv";

struct ScaleSimCsv {
  std::string compute;          // COMPUTE_REPORT.csv
  std::string bandwidth;        // BANDWIDTH_REPORT.csv
  std::string detailed_access;  // DETAILED_ACCESS_REPORT.csv
};

// The three reports, one row per layer in report order (LayerID = index). Throws
// UnsupportedError when a layer counts accesses at a level that has no SCALE-Sim column
// (anything but sram.{ifmap,filter,ofmap} and dram.{ifmap,filter,ofmap}, e.g. the ideal
// engine's single "dram"), rather than leave those accesses out.
ScaleSimCsv to_scalesim_csv(const Report& report);

std::string scalesim_compute_report(const Report& report);
std::string scalesim_bandwidth_report(const Report& report);
std::string scalesim_detailed_access_report(const Report& report);

// A double as Python's str() writes it (shortest round-trip digits, "100.0" rather than "100"),
// which is how SCALE-Sim writes its floating-point columns.
std::string python_float(double v);

}  // namespace tessera::sim
