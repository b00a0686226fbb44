// Writing and reading the results log (explorer/results_log.hpp, docs/explorer.md).
#include "explorer/results_log.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/error.hpp"

namespace tessera::explorer {

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {"log",     "version", "index",       "point",
                                             "status",  "error",   "config_hash", "workload_hash",
                                             "metrics", "wall_s"};
  return keys;
}

std::string key_list() {
  std::string out;
  for (const auto& k : known_keys()) out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::string type_name(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string " + v.dump();
  if (v.is_boolean()) return std::string("a boolean (") + (v.get<bool>() ? "true" : "false") + ")";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

// The entry in documented key order; to_json() and to_line() share it.
nlohmann::ordered_json ordered(const LogEntry& e) {
  const std::string where = "results log entry " + std::to_string(e.index);
  nlohmann::ordered_json metrics = nullptr;
  if (e.ok) {
    metrics = nlohmann::ordered_json::object();
    for (const auto& [name, value] : e.metrics) {
      if (!std::isfinite(value))
        throw std::logic_error(where + ": metric " + name + " is not finite (" +
                               std::to_string(value) + ")");
      metrics[name] = value;
    }
  } else if (!e.metrics.empty()) {
    throw std::logic_error(where + ": a failed entry has no metrics");
  }
  if (!std::isfinite(e.wall_s)) throw std::logic_error(where + ": wall_s is not finite");
  if (!e.point.is_object()) throw std::logic_error(where + ": point is not an object");
  nlohmann::ordered_json j;
  j["log"] = kResultsLog;
  j["version"] = kResultsLogVersion;
  j["index"] = e.index;
  j["point"] = e.point;
  j["status"] = e.ok ? "ok" : "failed";
  j["error"] = e.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.error);
  j["config_hash"] = e.config_hash;
  j["workload_hash"] = e.workload_hash;
  j["metrics"] = std::move(metrics);
  j["wall_s"] = e.wall_s;
  return j;
}

}  // namespace

nlohmann::json to_json(const LogEntry& e) { return nlohmann::json(ordered(e)); }

std::string to_line(const LogEntry& e) { return ordered(e).dump(); }

LogEntry log_entry_from_json(const nlohmann::json& j, const std::string& where) {
  const auto fail = [&](const std::string& key, const std::string& what) {
    return InputError(where + ": " + (key.empty() ? std::string() : "/" + key + ": ") + what);
  };
  if (!j.is_object())
    throw fail("", "expected a results log entry (an object), got " + type_name(j));
  for (const auto& [key, value] : j.items())
    if (!known_keys().count(key))
      throw fail(key, "unknown key (a results log entry has " + key_list() + ")");
  const auto need = [&](const std::string& key) -> const nlohmann::json& {
    auto it = j.find(key);
    if (it == j.end()) throw fail(key, "missing");
    return *it;
  };
  const auto string_of = [&](const std::string& key) {
    const auto& v = need(key);
    if (!v.is_string()) throw fail(key, "expected a string, got " + type_name(v));
    return v.get<std::string>();
  };

  const auto& log = need("log");
  if (log != kResultsLog)
    throw fail("log", std::string("expected \"") + kResultsLog + "\", got " + log.dump() +
                          " (not a Tessera results log)");
  const auto& version = need("version");
  if (!version.is_number_integer() || version.get<std::int64_t>() != kResultsLogVersion)
    throw fail("version", "unsupported version " + version.dump() + " (this build reads version " +
                              std::to_string(kResultsLogVersion) + ")");

  LogEntry e;
  const auto& index = need("index");
  if (!index.is_number_unsigned() && !(index.is_number_integer() && index.get<std::int64_t>() >= 0))
    throw fail("index", "expected an integer >= 0, got " + type_name(index));
  e.index = index.get<std::uint64_t>();

  const auto& point = need("point");
  if (!point.is_object()) throw fail("point", "expected an object, got " + type_name(point));
  e.point = point;

  const std::string status = string_of("status");
  if (status != "ok" && status != "failed")
    throw fail("status", "expected \"ok\" or \"failed\", got \"" + status + "\"");
  e.ok = status == "ok";

  const auto err = j.find("error");
  if (e.ok) {
    if (err != j.end() && !err->is_null())
      throw fail("error", "must be null when status is \"ok\", got " + type_name(*err));
  } else {
    e.error = string_of("error");
  }

  e.config_hash = string_of("config_hash");
  e.workload_hash = string_of("workload_hash");

  const auto metrics = j.find("metrics");
  if (e.ok) {
    if (metrics == j.end()) throw fail("metrics", "missing (status is \"ok\")");
    if (!metrics->is_object())
      throw fail("metrics", "expected an object of numbers, got " + type_name(*metrics));
    for (const auto& [name, value] : metrics->items()) {
      if (!value.is_number())
        throw fail("metrics/" + name, "expected a number, got " + type_name(value));
      const double d = value.get<double>();
      if (!std::isfinite(d)) throw fail("metrics/" + name, "expected a finite number");
      e.metrics[name] = d;
    }
  } else if (metrics != j.end() && !metrics->is_null() &&
             !(metrics->is_object() && metrics->empty())) {
    throw fail("metrics", "must be null when status is \"failed\"");
  }

  const auto& wall = need("wall_s");
  if (!wall.is_number() || !std::isfinite(wall.get<double>()) || wall.get<double>() < 0)
    throw fail("wall_s", "expected a number of seconds >= 0, got " + wall.dump());
  e.wall_s = wall.get<double>();
  return e;
}

std::vector<LogEntry> read_log(const std::string& path) {
  if (std::filesystem::is_directory(path))
    throw InputError(path + ": is a directory, not a results log");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open results log");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path + ": read failed");

  std::vector<LogEntry> entries;
  std::size_t line_no = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    ++line_no;
    const std::size_t nl = text.find('\n', begin);
    const bool complete = nl != std::string::npos;
    std::string line = text.substr(begin, complete ? nl - begin : std::string::npos);
    begin = complete ? nl + 1 : text.size();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;

    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
      // A kill between writing a line and its newline leaves a cut-short last line; its point
      // was never completed, so it is not an error (a resumed run evaluates it again).
      if (!complete) break;
      std::string msg = e.what();
      if (const auto pos = msg.find("syntax error"); pos != std::string::npos)
        msg = msg.substr(pos);
      else if (const auto end = msg.find("] "); end != std::string::npos)
        msg = msg.substr(end + 2);
      throw InputError(where + ": not valid JSON: " + msg);
    }
    entries.push_back(log_entry_from_json(j, where));
  }
  return entries;
}

}  // namespace tessera::explorer
