// Writing and reading the results log (explorer/results_log.hpp, docs/explorer.md).
#include "explorer/results_log.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"

namespace tessera::explorer {

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {"log",           "version", "index", "point",
                                             "derived",       "status",  "error", "config_hash",
                                             "workload_hash", "metrics", "wall_s"};
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
  if (!e.derived.empty()) j["derived"] = e.derived;
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
    return InputError(where + ": " + (key.empty() ? std::string() : "/" + printable(key) + ": ") +
                      what);
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
  if (!version.is_number_integer() || version.get<std::int64_t>() < 1 ||
      version.get<std::int64_t>() > kResultsLogVersion)
    throw fail("version", "unsupported version " + version.dump() +
                              " (this build reads versions 1 to " +
                              std::to_string(kResultsLogVersion) + ")");

  LogEntry e;
  const auto& index = need("index");
  if (!index.is_number_unsigned() && !(index.is_number_integer() && index.get<std::int64_t>() >= 0))
    throw fail("index", "expected an integer >= 0, got " + type_name(index));
  e.index = index.get<std::uint64_t>();

  const auto& point = need("point");
  if (!point.is_object()) throw fail("point", "expected an object, got " + type_name(point));
  e.point = point;
  if (const auto derived = j.find("derived"); derived != j.end()) {
    if (!derived->is_object())
      throw fail("derived", "expected an object, got " + type_name(*derived));
    e.derived = *derived;
  }

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

namespace {

constexpr const char* kHeaderKeys[] = {"command",       "space",      "base_config_hash",
                                       "workload_hash", "run",        "size",
                                       "shard",         "objectives", "hypervolume",
                                       "tool",          "metrics"};

LogHeader header_from_json(const nlohmann::json& j, const std::string& where) {
  const auto fail = [&](const std::string& key, const std::string& what) {
    return InputError(where + ": /header" + (key.empty() ? "" : "/" + printable(key)) + ": " +
                      what);
  };
  if (!j.is_object()) throw fail("", "expected an object, got " + type_name(j));
  for (const auto& [key, value] : j.items())
    if (std::find(std::begin(kHeaderKeys), std::end(kHeaderKeys), key) == std::end(kHeaderKeys))
      throw fail(key, "unknown key");
  const auto need = [&](const nlohmann::json& o, const std::string& key,
                        const std::string& path) -> const nlohmann::json& {
    if (!o.is_object() || !o.contains(key)) throw fail(path, "missing");
    return o.at(key);
  };
  const auto text = [&](const nlohmann::json& o, const std::string& key, const std::string& path) {
    const auto& v = need(o, key, path);
    if (!v.is_string()) throw fail(path, "expected a string, got " + type_name(v));
    return v.get<std::string>();
  };
  const auto count = [&](const nlohmann::json& o, const std::string& key, const std::string& path) {
    const auto& v = need(o, key, path);
    if (!v.is_number_unsigned()) throw fail(path, "expected an integer >= 0, got " + type_name(v));
    return v.get<std::uint64_t>();
  };
  LogHeader h;
  h.command = text(j, "command", "command");
  const auto& space = need(j, "space", "space");
  h.space_file = text(space, "file", "space/file");
  h.space_name = text(space, "name", "space/name");
  h.space_hash = text(space, "hash", "space/hash");
  h.base_config_hash = text(j, "base_config_hash", "base_config_hash");
  h.workload_hash = text(j, "workload_hash", "workload_hash");
  h.run = need(j, "run", "run");
  if (!h.run.is_object()) throw fail("run", "expected an object, got " + type_name(h.run));
  h.size = count(j, "size", "size");
  const auto& shard = need(j, "shard", "shard");
  h.shard = count(shard, "index", "shard/index");
  h.shards = count(shard, "count", "shard/count");
  if (h.shards == 0 || h.shard >= h.shards)
    throw fail("shard", "expected 0 <= index < count, got " + shard.dump());
  const auto& objectives = need(j, "objectives", "objectives");
  if (!objectives.is_array()) throw fail("objectives", "expected a list of \"METRIC:min|max\"");
  for (const auto& o : objectives) {
    if (!o.is_string()) throw fail("objectives", "expected a list of \"METRIC:min|max\"");
    h.objectives.push_back(o.get<std::string>());
  }
  if (j.contains("hypervolume")) {  // optional: only spaces with a fixed normalisation have one
    const auto& hv = j.at("hypervolume");
    if (!hv.is_object()) throw fail("hypervolume", "expected an object with lo and ref");
    for (const auto& [key, value] : hv.items())
      if (key != "lo" && key != "ref") throw fail("hypervolume/" + key, "unknown key");
    for (auto [key, out] : {std::pair{"lo", &h.hv_lo}, {"ref", &h.hv_ref}}) {
      const std::string path = std::string("hypervolume/") + key;
      const auto& v = need(hv, key, path);
      if (!v.is_array() || v.size() != h.objectives.size())
        throw fail(path, "expected one number per objective (" +
                             std::to_string(h.objectives.size()) + ")");
      for (const auto& x : v) {
        if (!x.is_number() || !std::isfinite(x.get<double>()))
          throw fail(path, "expected finite numbers, got " + x.dump());
        out->push_back(x.get<double>());
      }
    }
    for (std::size_t i = 0; i < h.hv_lo.size(); ++i)
      if (!(h.hv_ref[i] > h.hv_lo[i]))
        throw fail("hypervolume/ref", "each ref must be greater than its lo (objective " +
                                          h.objectives[i] + ")");
  }
  const auto& tool = need(j, "tool", "tool");
  h.tool_version = text(tool, "version", "tool/version");
  h.tool_revision = text(tool, "revision", "tool/revision");
  if (j.contains("metrics")) {
    const auto& metrics = j.at("metrics");
    if (!metrics.is_object()) throw fail("metrics", "expected an object, got " + type_name(metrics));
    for (const auto& [name, m] : metrics.items()) {
      const std::string path = "metrics/" + printable(name);
      h.metrics[name] = {text(m, "unit", path + "/unit"), text(m, "direction", path + "/direction"),
                         text(m, "description", path + "/description")};
    }
  }
  return h;
}

}  // namespace

std::string header_difference(const LogHeader& a, const LogHeader& b, bool compare_shard) {
  if (a.command != b.command) return "command (" + a.command + " vs " + b.command + ")";
  if (a.space_hash != b.space_hash) return "space (its file's content)";
  if (a.base_config_hash != b.base_config_hash) return "base_config_hash (the architecture file)";
  if (a.workload_hash != b.workload_hash) return "workload_hash (the workload)";
  if (a.run != b.run) return "run (" + a.run.dump() + " vs " + b.run.dump() + ")";
  if (a.size != b.size)
    return "size (" + std::to_string(a.size) + " vs " + std::to_string(b.size) + ")";
  if (compare_shard && (a.shard != b.shard || a.shards != b.shards))
    return "shard (" + std::to_string(a.shard) + "/" + std::to_string(a.shards) + " vs " +
           std::to_string(b.shard) + "/" + std::to_string(b.shards) + ")";
  if (a.objectives != b.objectives) return "objectives";
  return "";
}

namespace {

// The header line in documented key order; to_json() and to_line() share it.
nlohmann::ordered_json ordered(const LogHeader& h) {
  nlohmann::ordered_json header;
  header["command"] = h.command;
  header["space"]["file"] = h.space_file;
  header["space"]["name"] = h.space_name;
  header["space"]["hash"] = h.space_hash;
  header["base_config_hash"] = h.base_config_hash;
  header["workload_hash"] = h.workload_hash;
  header["run"] = h.run;
  header["size"] = h.size;
  header["shard"]["index"] = h.shard;
  header["shard"]["count"] = h.shards;
  header["objectives"] = h.objectives;
  if (!h.hv_lo.empty()) {
    header["hypervolume"]["lo"] = h.hv_lo;
    header["hypervolume"]["ref"] = h.hv_ref;
  }
  header["tool"]["version"] = h.tool_version;
  header["tool"]["revision"] = h.tool_revision;
  for (const auto& [name, m] : h.metrics) {
    header["metrics"][name]["unit"] = m.unit;
    header["metrics"][name]["direction"] = m.direction;
    header["metrics"][name]["description"] = m.description;
  }
  nlohmann::ordered_json j;
  j["log"] = kResultsLog;
  j["version"] = kResultsLogVersion;
  j["header"] = std::move(header);
  return j;
}

}  // namespace

nlohmann::json to_json(const LogHeader& h) { return nlohmann::json(ordered(h)); }

std::string to_line(const LogHeader& h) { return ordered(h).dump(); }

ResultsLog parse_results_log(const std::string& text, const std::string& path) {
  ResultsLog log;
  std::map<std::uint64_t, std::size_t> line_of;  // index -> line it was first seen on
  std::size_t line_no = 0;
  bool first = true;
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
    const bool is_first = first;
    first = false;
    if (j.is_object() && j.contains("header")) {
      if (!is_first)
        throw InputError(where +
                         ": a header line that is not the first line (logs were "
                         "concatenated? use tessera merge)");
      for (const auto& [key, value] : j.items())
        if (key != "log" && key != "version" && key != "header")
          throw InputError(where + ": /" + printable(key) + ": unknown key in a header line");
      if (!j.contains("log") || j["log"] != kResultsLog)
        throw InputError(where + ": /log: expected \"" + kResultsLog +
                         "\" (not a Tessera results log)");
      if (!j.contains("version") || j["version"] != kResultsLogVersion)
        throw InputError(where + ": /version: unsupported header version " + j["version"].dump());
      log.header = header_from_json(j.at("header"), where);
      continue;
    }
    LogEntry e = log_entry_from_json(j, where);
    if (const auto [it, added] = line_of.emplace(e.index, line_no); !added)
      throw InputError(where + ": index " + std::to_string(e.index) + " again (first on line " +
                       std::to_string(it->second) +
                       "): two runs wrote this log, or logs were concatenated");
    log.entries.push_back(std::move(e));
  }
  return log;
}

ResultsLog read_results_log(const std::string& path) {
  return parse_results_log(read_input_file(path, kResultsLogLimit, "results log"), path);
}

std::vector<LogEntry> read_log(const std::string& path) { return read_results_log(path).entries; }

}  // namespace tessera::explorer
