// The results log of a sweep or search: one JSON object per line, one line per evaluated design
// point, appended and flushed the moment the point is known, so a killed run loses nothing and
// `--resume` can skip what is done. Format (docs/explorer.md):
//
//   {"log": "tessera.results", "version": 1, "index": 12, "point": {"systolic.rows": 32, ...},
//    "status": "ok", "error": null, "config_hash": "...", "workload_hash": "...",
//    "metrics": {"cycles": ..., "latency_s": ..., "energy_pj": ..., "area_mm2": ...,
//                "utilization": ..., "throughput_macs_per_s": ..., "edp_pj_s": ...},
//    "wall_s": 0.0004}
//
// `index` is the point's position in the space's deterministic enumeration (or the search's
// proposal order), so shards of one sweep merge into the same log as a single run. A failed
// point has "status": "failed", its reason in "error" and no metrics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::explorer {

inline constexpr const char* kResultsLog = "tessera.results";
inline constexpr int kResultsLogVersion = 1;

struct LogEntry {
  std::uint64_t index = 0;
  nlohmann::json point = nlohmann::json::object();  // parameter path -> value
  bool ok = true;
  std::string error;  // when !ok
  std::string config_hash, workload_hash;
  std::map<std::string, double> metrics;  // when ok
  double wall_s = 0;
};

// Throws std::logic_error for a metric that is not finite (JSON has no NaN or infinity; the
// evaluator must not produce one) and for a failed entry without a reason.
nlohmann::json to_json(const LogEntry& e);

// The entry as one log line, keys in the documented order, without the closing newline.
// Writers append this plus "\n" and flush.
std::string to_line(const LogEntry& e);

// Parses one line; `where` ("FILE:LINE") prefixes errors.
LogEntry log_entry_from_json(const nlohmann::json& j, const std::string& where);

// Reads a whole log. A last line cut short by a kill (no closing newline, not valid JSON) is
// ignored, since its point was never completed; any other bad line is an error naming FILE:LINE.
std::vector<LogEntry> read_log(const std::string& path);

}  // namespace tessera::explorer
