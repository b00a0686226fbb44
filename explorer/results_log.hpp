// The results log of a sweep or search: one JSON object per line, one line per evaluated design
// point, appended and flushed the moment the point is known, so a killed run loses nothing and
// `--resume` can skip what is done. Format (docs/explorer.md):
//
//   {"log": "tessera.results", "version": 2, "header": {...}}      (the first line)
//   {"log": "tessera.results", "version": 2, "index": 12, "point": {"systolic.rows": 32, ...},
//    "status": "ok", "error": null, "config_hash": "...", "workload_hash": "...",
//    "metrics": {"cycles": ..., "latency_s": ..., "energy_pj": ..., "area_mm2": ...,
//                "utilization": ..., "throughput_macs_per_s": ..., "edp_pj_s": ...},
//    "wall_s": 0.0004, "derived": {"systolic.cols": 32}}
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
// Version 2 adds the header line and the entries' "derived" values; version 1 entries (logs
// without a header) are still read.
inline constexpr int kResultsLogVersion = 2;

// The first line of a log: which run wrote it. A log is continued (--resume) only by the run its
// header describes, merged only with shards of the same run, checked for completeness against
// its size, and ranked by its objectives.
struct LogHeader {
  std::string command;  // "sweep" or "explore"
  std::string space_file, space_name;
  std::string space_hash;        // the space document
  std::string base_config_hash;  // the base architecture document the space names
  std::string workload_hash;     // the workload built with the space's base settings
  nlohmann::json run = nlohmann::json::object();  // sweep: method, seed, samples;
                                                  // explore: algo, seed, budget, population
  std::uint64_t size = 0;               // sweep: points (indices 0 .. size-1); explore: the budget
  std::uint64_t shard = 0, shards = 1;  // this log holds the indices i with i % shards == shard
  std::vector<std::string> objectives;  // "latency_s:min", in the space's order
  // The space's fixed hypervolume normalisation ("hypervolume": lo and ref per objective, in
  // minimisation form), so that `pareto` scores the log on that scale without the space file;
  // empty when the space has none. Part of the space, so covered by space_hash.
  std::vector<double> hv_lo, hv_ref;
  std::string tool_version, tool_revision;  // recorded, not compared
  // The metric table of the tool that wrote the log (sim/metrics.hpp), for the plot scripts:
  // name -> unit, direction ("min" or "max"), description. Recorded, not compared; absent in
  // older logs.
  struct Metric {
    std::string unit, direction, description;
    bool operator==(const Metric&) const = default;
  };
  std::map<std::string, Metric> metrics;
};

// The first field that differs between two headers ("" when none), for messages. The tool
// version is not compared; the shard only when `compare_shard`.
std::string header_difference(const LogHeader& a, const LogHeader& b, bool compare_shard = true);

nlohmann::json to_json(const LogHeader& h);
// The header as the log's first line, without the closing newline.
std::string to_line(const LogHeader& h);

struct LogEntry {
  std::uint64_t index = 0;
  nlohmann::json point = nlohmann::json::object();    // parameter path -> value
  nlohmann::json derived = nlohmann::json::object();  // derived parameter path -> value
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

struct ResultsLog {
  std::optional<LogHeader> header;  // absent in version 1 logs
  std::vector<LogEntry> entries;    // in file order
};

// Parses a log's text; `path` names it in errors. A last line cut short by a kill (no closing
// newline, not valid JSON) is ignored, since its point was never completed; any other bad line,
// a header that is not the first line, and an index seen twice (two runs wrote the log, or
// logs were concatenated) are errors naming FILE:LINE.
ResultsLog parse_results_log(const std::string& text, const std::string& path);

// Reads a whole log (parse_results_log of the file).
ResultsLog read_results_log(const std::string& path);
std::vector<LogEntry> read_log(const std::string& path);  // its entries

}  // namespace tessera::explorer
