// A scenario file as JSON with `--set` overrides applied, for every scenario format (serving,
// multi-DNN, XR). Includes common/ only.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::serving {

// Reads `path` and applies each `KEY=VALUE` as `--set` takes it: a dotted key, or a JSON pointer
// with or without its leading '/' (`streams/0/arrival/rate_per_s=40`).
nlohmann::json read_scenario_json(const std::string& path, const std::vector<std::string>& overrides);

// A file a scenario names: relative paths are relative to the scenario's directory `dir`.
inline std::string resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute() || dir.empty()) return path;
  return (std::filesystem::path(dir) / path).string();
}

}  // namespace tessera::serving
