// Design spaces over XR scenarios (docs/serving.md, "XR design spaces"): an XR scenario
// (serving/xr_run.hpp) and parameters over its keys in the design-space syntax of
// docs/explorer.md (`values`, `range`, `pow2`; `derived` expressions over them), every point run
// under each of the listed policies and ranked by XRBench's score. The typical space splits a
// PE budget over sub-accelerators: {"sub_accelerators.0.num_pes": {"values": [...]}} with
// {"sub_accelerators.1.num_pes": "8192 - sub_accelerators.0.num_pes"}.
//
// Owns the XR space reader and its sweep; includes serving/ and explorer/expression.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explorer/expression.hpp"

namespace tessera::explorer {

struct XrSpace {
  std::string file;
  std::string name;
  std::string scenario;  // the XR scenario file, resolved against the space's folder
  nlohmann::json scenario_doc;
  // Parameters in key order (the first slowest in the grid), each with every value it takes.
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> parameters;
  std::vector<std::pair<std::string, Expression>> derived;  // in the file's key order
  std::vector<std::string> policies;                        // default: the scenario's
  nlohmann::json doc;  // the space file as read: with the scenario, what a sweep's log is of
  std::uint64_t grid_size() const;
};

// `"format": "tessera.xr_space"`, version 1. Errors name the file and JSON path. A grid of more
// than 100,000 points is refused (each point is a whole scenario run).
XrSpace read_xr_space(const std::string& path);

struct XrPointResult {
  std::uint64_t index = 0;
  nlohmann::json point;  // parameter and derived values by path
  std::string policy;
  double score = 0;
  nlohmann::json models;  // per model: score, qoe, dropped
  std::string error;      // a point the scenario reader or an engine refused
};

nlohmann::json to_json(const XrPointResult& r);
// The inverse of to_json; InputError naming `where` for a malformed entry.
XrPointResult xr_point_from_json(const nlohmann::json& j, const std::string& where);

struct XrSweepOptions {
  std::set<std::uint64_t> done;  // points not to run again (a resumed log holds them)
  // Told every point's results when it completes (one per policy, or its error).
  std::function<void(const std::vector<XrPointResult>&)> on_point;
  std::function<void(std::size_t, std::size_t)> progress;  // points done and to do
};

// Runs every grid point under every policy (inference costs computed once per distinct
// sub-accelerator and model), skipping options.done.
std::vector<XrPointResult> sweep_xr_space(const XrSpace& space, const XrSweepOptions& options);
// The same with only a progress callback.
std::vector<XrPointResult> sweep_xr_space(
    const XrSpace& space, const std::function<void(std::size_t, std::size_t)>& progress = {});

// The results best first as a table with a column per parameter (and derived value), the
// parameters' common dotted prefix left out of the headings, at most `top` rows, failed points
// listed after them.
std::string format_xr_results(const XrSpace& space, std::vector<XrPointResult> results,
                              std::size_t top = 10);

}  // namespace tessera::explorer
