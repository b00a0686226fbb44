#include "explorer/space.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/params.hpp"
#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "sim/executor.hpp"
#include "sim/metrics.hpp"
#include "sim/simulate.hpp"
#include "workloads/nasbench201.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

namespace {

constexpr const char* kWorkloadPrefix = "workload.";
constexpr const char* kScenarioPrefix = "scenario.";

bool is_workload_path(const std::string& path) { return path.rfind(kWorkloadPrefix, 0) == 0; }

// A parameter's values are held in memory: more than this is a mistake in the space file.
constexpr std::uint64_t kMaxParameterValues = 1000000;

// `raw` is the parameter's JSON object, which `r` reads.
std::vector<nlohmann::json> parameter_values(ParamReader& r, const nlohmann::json& raw) {
  std::vector<nlohmann::json> values;
  if (r.has("values")) {
    // Config values of any type, checked by the engine when a point is built.
    if (r.array_size("values") == 0) throw r.error("values", "must list at least one value");
    return {raw.at("values").begin(), raw.at("values").end()};
  }
  if (r.has("range")) {
    ParamReader range = r.child("range");
    const std::int64_t lo = range.integer("min"), hi = range.integer("max");
    const std::int64_t step = range.positive_integer("step", 1);
    range.finish();
    if (hi < lo) throw r.error("range", "max must be >= min");
    // Counted in unsigned arithmetic: bounds near 2^63 must neither overflow nor loop.
    const std::uint64_t steps = (static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo)) /
                                static_cast<std::uint64_t>(step);
    if (steps >= kMaxParameterValues)
      throw r.error(
          "range", "has " +
                       (steps == UINT64_MAX ? std::string("2^64") : std::to_string(steps + 1)) +
                       " values; a parameter takes at most " + std::to_string(kMaxParameterValues) +
                       " (use a larger step, or pow2)");
    const std::uint64_t count = steps + 1;
    for (std::uint64_t k = 0; k < count; ++k)
      values.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) +
                                                 k * static_cast<std::uint64_t>(step)));
    return values;
  }
  if (r.has("pow2")) {
    ParamReader range = r.child("pow2");
    const std::int64_t lo = range.positive_integer("min"), hi = range.positive_integer("max");
    range.finish();
    const auto is_pow2 = [](std::int64_t v) { return (v & (v - 1)) == 0; };
    if (!is_pow2(lo) || !is_pow2(hi)) throw r.error("pow2", "min and max must be powers of two");
    if (hi < lo) throw r.error("pow2", "max must be >= min");
    for (std::int64_t v = lo;; v *= 2) {  // stops at hi, before doubling could overflow
      values.push_back(v);
      if (v == hi) break;
    }
    return values;
  }
  throw r.error("", "expected one of: values (a list), range {min, max, step}, pow2 {min, max}");
}

}  // namespace

namespace {

// Orders named expressions so that each comes after those it names (JSON objects keep no key
// order, and dependencies are what matter); `r` and `key` name the object in errors.
std::vector<Derived> order_by_dependencies(std::vector<Derived> items, ParamReader& r,
                                           const std::string& key, const std::string& what) {
  std::vector<Derived> ordered;
  while (!items.empty()) {
    const auto ready = std::find_if(items.begin(), items.end(), [&](const Derived& d) {
      return std::none_of(items.begin(), items.end(), [&](const Derived& other) {
        const auto& names = d.value.names();
        return std::find(names.begin(), names.end(), other.path) != names.end();
      });
    });
    if (ready == items.end())
      throw r.error(key, what + " depend on each other in a cycle (" + items.front().path +
                             " is in it or depends on it)");
    ordered.push_back(std::move(*ready));
    items.erase(ready);
  }
  return ordered;
}

bool has_prefix(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Hardware metrics of one sub-accelerator in a multi-task space ("latency_s.TASK") and the
// accelerator's, combined over the tasks (sim::Combine).
std::vector<std::string> task_metric_names() {
  std::vector<std::string> names;
  for (const sim::Metric& m : sim::metric_table())
    if (m.combine != sim::Combine::derived && m.combine != sim::Combine::serving)
      names.emplace_back(m.name);
  return names;
}
std::vector<std::string> combined_metric_names() {
  std::vector<std::string> names;
  for (const sim::Metric& m : sim::metric_table())
    if (m.combine != sim::Combine::per_task && m.combine != sim::Combine::serving)
      names.emplace_back(m.name);
  return names;
}

// Reads the "tasks" array and "templates" object of a multi-task space.
void read_tasks(DesignSpace& s, ParamReader& r, const std::string& dir) {
  const std::size_t n = r.array_size("tasks");
  if (n == 0) throw r.error("tasks", "must list at least one task");
  for (std::size_t i = 0; i < n; ++i) {
    ParamReader t = r.item("tasks", i);
    TaskSpec task;
    task.name = t.string("name");
    if (task.name.empty() || task.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                                 std::string::npos ||
        task.name == "workload" || task.name == "network")
      throw t.error("name", "a task name is letters, digits and '_' (not workload or network), got \"" +
                                task.name + "\"");
    for (const auto& other : s.tasks)
      if (other.name == task.name) throw t.error("name", "task '" + task.name + "' is listed twice");
    ParamReader net = t.child("network");
    task.network = read_network(net, dir);
    task.dataset = t.string("dataset", task.network.dataset);
    task.weight = t.positive("weight", 1.0);
    task.template_name = t.string("template", "");
    t.finish();
    s.tasks.push_back(std::move(task));
  }
  ParamReader templates = r.child("templates");
  for (const auto& name : templates.keys()) {
    if (!accelerator_templates().contains(name)) try {
        (void)accelerator_templates().get(name);
      } catch (const InputError& e) {
        throw templates.error(name, e.what());
      }
    const std::string file = templates.string(name);
    arch::ArchDocument doc = arch::read_arch_document(
        std::filesystem::path(file).is_absolute()
            ? file
            : (std::filesystem::path(dir) / file).lexically_normal().string());
    const std::string engine = doc.json.value("engine", "");
    if (engine != accelerator_templates().get(name).engine)
      throw templates.error(name, "template " + name + " needs a " +
                                      accelerator_templates().get(name).engine +
                                      " config, this one's engine is '" + engine + "'");
    s.templates.emplace(name, std::move(doc));
  }
  templates.finish();
  if (s.templates.empty()) throw r.error("templates", "must give at least one template's base config");
  // The combined accuracy is sum(weight * accuracy) / sum(weight), accuracies at most 100.
  double total = 0;
  for (const auto& t : s.tasks) total += t.weight;
  if (!std::isfinite(total * 100))
    throw r.error("tasks", "the tasks' weights sum to more than a double holds (x 100, the "
                           "largest accuracy); weights are relative: scale them down");
}

// Checks a multi-task space's parameter path ("TASK.rows", "TASK.network.op_1_0", ...).
// A serving space's scenario, read and checked once here (a broken scenario is named now), and
// its accelerator's config as the base that expressions read.
void read_scenario_base(DesignSpace& s, ParamReader& r) {
  const std::string dir = std::filesystem::path(s.scenario_file).parent_path().string();
  try {
    s.scenario = read_json_file(s.scenario_file);
    (void)serving::read_scenario(s.scenario, s.scenario_file, dir);
  } catch (const InputError& e) {
    throw r.error("scenario", e.what());
  }
  const nlohmann::json* acc = s.scenario.contains("accelerator") ? &s.scenario.at("accelerator") : nullptr;
  if (acc && acc->contains("arch") && acc->at("arch").is_string()) {
    std::string file = acc->at("arch").get<std::string>();
    if (!std::filesystem::path(file).is_absolute()) file = (std::filesystem::path(dir) / file).string();
    s.base = arch::read_arch_document(file);
  } else if (acc && acc->contains("arch")) {
    s.base.file = s.scenario_file;
    s.base.json = acc->at("arch");
  }
  // With its "set" entries, so that point_config() is the scenario's accelerator at the point.
  if (acc && acc->contains("arch") && acc->contains("set"))
    for (const auto& [key, value] : acc->at("set").items()) arch::apply_override(s.base, key + "=" + value.dump());
}

// A serving space's metrics: those its scenario's reports have, and the accelerator's area.
std::vector<std::string> serving_metric_names(const DesignSpace& s) {
  const std::string dir = std::filesystem::path(s.scenario_file).parent_path().string();
  serving::ServingReport probe;
  if (serving::read_scenario(s.scenario, s.scenario_file, dir).serves_llm()) probe.summary.output_tokens = 1;
  std::vector<std::string> out = {"area_mm2"};
  for (const auto& [name, value] : serving::metric_values(probe)) out.push_back(name);
  return out;
}

void check_task_parameter(const DesignSpace& s, const Parameter& p, const std::string& where) {
  const auto dot = p.path.find('.');
  const std::string name = p.path.substr(0, dot);
  const auto task = std::find_if(s.tasks.begin(), s.tasks.end(),
                                 [&](const TaskSpec& t) { return t.name == name; });
  if (task == s.tasks.end() || dot == std::string::npos) {
    std::string names;
    for (const auto& t : s.tasks) names += (names.empty() ? "" : ", ") + t.name;
    throw InputError(where + "a multi-task space's parameters are TASK.template, TASK.rows, "
                             "TASK.cols, TASK.bandwidth_gbs, TASK.network.*, TASK.arch.* or "
                             "workload.* (tasks: " + names + "), got '" + p.path + "'");
  }
  const std::string rest = p.path.substr(dot + 1);
  if (rest == "template") {
    for (const auto& v : p.values)
      if (!v.is_string() || !s.templates.count(v.get<std::string>()))
        throw InputError(where + "values must name templates given in \"templates\", got " +
                         v.dump());
  } else if (rest == "rows" || rest == "cols" || rest == "bandwidth_gbs") {
    for (const auto& v : p.values)
      if (!v.is_number() || v.get<double>() <= 0)
        throw InputError(where + "values must be positive numbers, got " + v.dump());
  } else if (has_prefix(rest, kNetworkPrefix)) {
    check_network_parameter(task->network, rest.substr(std::string(kNetworkPrefix).size()),
                            p.values, where);
  } else if (!has_prefix(rest, "arch.")) {
    throw InputError(where + "'" + rest + "' is not a task parameter (template, rows, cols, "
                             "bandwidth_gbs, network.*, arch.*)");
  }
}

// The number at a dotted path of a JSON document, if there is one.
std::optional<double> number_at(const nlohmann::json& doc, const std::string& dotted) {
  const nlohmann::json* node = &doc;
  std::size_t start = 0;
  while (true) {
    const auto dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object() || !node->contains(key)) return std::nullopt;
    node = &node->at(key);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node->is_number() ? std::optional(node->get<double>()) : std::nullopt;
}

// The keys of a config path as apply_json_override() reads it: dotted ("systolic.rows") or a
// JSON pointer ("/systolic/rows"); nullopt for a path it cannot take (an empty key, or an '='
// that would end the path).
std::optional<std::vector<std::string>> path_keys(const std::string& path) {
  if (path.empty() || path.find('=') != std::string::npos) return std::nullopt;
  const bool pointer = path[0] == '/';
  std::vector<std::string> keys;
  std::string key;
  for (std::size_t i = pointer ? 1 : 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != (pointer ? '/' : '.')) {
      key += path[i];
      continue;
    }
    if (key.empty()) return std::nullopt;
    if (pointer) {  // RFC 6901 escapes
      for (std::size_t p; (p = key.find("~1")) != std::string::npos;) key.replace(p, 2, "/");
      for (std::size_t p; (p = key.find("~0")) != std::string::npos;) key.replace(p, 2, "~");
    }
    keys.push_back(std::move(key));
    key.clear();
  }
  return keys;
}

// A config key that a parameter or derived parameter sets: in the architecture config, a task's
// sub-accelerator config ("task NAME") or the workload settings.
struct WrittenKey {
  std::string scope;
  std::vector<std::string> keys;
  std::string where;  // the JSON path of the parameter, for messages
};

std::string dotted(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ".") + k;
  return s;
}

// The config keys the parameter or derived parameter `path` sets (none for a network or
// template choice). `where` (file and JSON path) prefixes errors.
std::vector<WrittenKey> written_keys(const DesignSpace& s, const std::string& path,
                                     const std::string& pointer, const std::string& where) {
  const auto keys = [&](const std::string& p) {
    auto k = path_keys(p);
    if (!k)
      throw InputError(where + "'" + p + "' is not a config path (a key is empty, or it holds "
                               "'=')");
    return *k;
  };
  if (is_workload_path(path))
    return {{"workload settings", keys(path.substr(std::string(kWorkloadPrefix).size())), pointer}};
  if (s.tasks.empty()) {
    if (has_prefix(path, kNetworkPrefix)) return {};
    return {{"architecture config", keys(path), pointer}};
  }
  const auto dot = path.find('.');
  const std::string task = path.substr(0, dot), rest = path.substr(dot + 1);
  const std::string scope = "config of task " + task;
  if (rest == "bandwidth_gbs") return {{scope, keys("dram.bandwidth"), pointer}};
  if (has_prefix(rest, "arch.")) return {{scope, keys(rest.substr(5)), pointer}};
  if (rest != "rows" && rest != "cols") return {};
  // The key "rows" sets is the template's: every template the task may take.
  std::set<std::string> templates;
  for (const auto& p : s.parameters)
    if (p.path == task + ".template")
      for (const auto& v : p.values) templates.insert(v.get<std::string>());
  for (const auto& t : s.tasks)
    if (t.name == task && templates.empty()) templates.insert(t.template_name);
  std::vector<WrittenKey> out;
  for (const auto& name : templates) {
    const AcceleratorTemplate& tmpl = accelerator_templates().get(name);
    out.push_back({scope, keys(rest == "rows" ? tmpl.rows : tmpl.cols), pointer});
  }
  return out;
}

// Two parameters (or derived parameters) that set one config key, or a key and a key inside
// it, would silently overwrite each other: an error naming both.
void check_one_writer_per_key(const DesignSpace& s) {
  std::vector<WrittenKey> written;
  const auto add = [&](const std::string& path, const std::string& pointer) {
    for (auto& w : written_keys(s, path, pointer, json_location(s.file, pointer))) {
      for (const auto& other : written) {
        const std::size_t n = std::min(w.keys.size(), other.keys.size());
        if (other.where == w.where || other.scope != w.scope ||
            !std::equal(w.keys.begin(), w.keys.begin() + static_cast<std::ptrdiff_t>(n),
                        other.keys.begin()))
          continue;
        const auto& outer = w.keys.size() <= other.keys.size() ? w.keys : other.keys;
        const auto& inner = w.keys.size() <= other.keys.size() ? other.keys : w.keys;
        throw InputError(
            json_location(s.file, pointer) + "sets " +
            (outer.size() == inner.size() ? "the key " + dotted(w.keys)
                                          : "the key " + dotted(inner) + " (or the object " +
                                                dotted(outer) + " holding it)") +
            " of the " + w.scope + ", as " + other.where +
            " does; give each config key one parameter");
      }
      written.push_back(std::move(w));
    }
  };
  for (const auto& p : s.parameters) add(p.path, "/parameters/" + pointer_token(p.path));
  for (const auto& d : s.derived) add(d.path, "/derived/" + pointer_token(d.path));
}

// A derived parameter is a number computed from numbers: what it sets must take a number, and
// every name in it must be a number at every point (a parameter whose values are all numbers,
// another derived parameter, a number in the base workload settings or the base config).
// Otherwise every point would fail at run time.
void check_derived(const DesignSpace& s) {
  for (const auto& d : s.derived) {
    const std::string where = json_location(s.file, "/derived/" + pointer_token(d.path));
    const auto refuse = [&](const std::string& why) { return InputError(where + why); };
    if (!is_workload_path(d.path)) {
      std::string network;  // the network parameter it sets, if it sets one
      const NetworkSpec* spec = s.network ? &*s.network : nullptr;
      if (!s.tasks.empty()) {
        const auto dot = d.path.find('.');
        const std::string rest = dot == std::string::npos ? "" : d.path.substr(dot + 1);
        if (rest == "template")
          throw refuse("a derived parameter is a number; a template is chosen by name (make "
                       "it a parameter)");
        const auto task = std::find_if(s.tasks.begin(), s.tasks.end(), [&](const TaskSpec& t) {
          return t.name == d.path.substr(0, dot);
        });
        if (task != s.tasks.end() && has_prefix(rest, kNetworkPrefix)) {
          spec = &task->network;
          network = rest.substr(std::string(kNetworkPrefix).size());
        }
      } else if (has_prefix(d.path, kNetworkPrefix)) {
        if (!spec)
          throw refuse("network parameters need a \"network\" object naming the kind of network");
        network = d.path.substr(std::string(kNetworkPrefix).size());
      }
      if (!network.empty() && spec->kind == "nasbench201")
        throw refuse("a derived parameter is a number; a NAS-Bench-201 cell is chosen by name "
                     "(make it a parameter)");
      if (!s.tasks.empty())
        check_task_parameter(s, {d.path, {1}}, where);  // a task's, and a path it has
      else if (!network.empty())
        check_network_parameter(*spec, network, {1}, where);
    }
    for (const auto& name : d.value.names()) {
      const auto param = std::find_if(s.parameters.begin(), s.parameters.end(),
                                      [&](const Parameter& p) { return p.path == name; });
      if (param != s.parameters.end()) {
        for (const auto& v : param->values)
          if (!v.is_number())
            throw refuse("names " + name + ", whose values are not all numbers (" + v.dump() +
                         "): a derived parameter is computed from numbers");
        continue;
      }
      if (std::any_of(s.derived.begin(), s.derived.end(),
                      [&](const Derived& other) { return other.path == name; }))
        continue;
      const bool number =
          is_workload_path(name)
              ? number_at(s.workload_settings, name.substr(std::string(kWorkloadPrefix).size()))
                    .has_value()
              : s.tasks.empty() && number_at(s.base.json, name).has_value();
      if (!number)
        throw refuse("names " + name + ", which is " +
                     (is_workload_path(name)
                          ? "neither a parameter nor a number in \"workload_settings\""
                          : s.tasks.empty()
                                ? "neither a parameter nor a number in the base config " +
                                      s.base.file
                                : "not a parameter (a multi-task space's derived parameters "
                                  "are computed from parameters and workload settings)") +
                     ": a derived parameter is computed from numbers");
    }
  }
}

}  // namespace

const Registry<AcceleratorTemplate>& accelerator_templates() {
  static const Registry<AcceleratorTemplate> registry = [] {
    Registry<AcceleratorTemplate> r("accelerator template");
    r.add("nvdla", "NVDLA-like: systolic engine, weight stationary; rows, cols = the array",
          {"systolic", {"systolic.dataflow=\"ws\""}, "systolic.rows", "systolic.cols"});
    r.add("shidiannao", "ShiDianNao-like: systolic engine, output stationary; rows, cols = the array",
          {"systolic", {"systolic.dataflow=\"os\""}, "systolic.rows", "systolic.cols"});
    r.add("eyeriss", "Eyeriss-like: eyeriss engine, row stationary; rows, cols = the PE array",
          {"eyeriss", {}, "eyeriss.rows", "eyeriss.cols"});
    return r;
  }();
  return registry;
}

DesignSpace read_space(const std::string& path) {
  const nlohmann::json doc = read_json_file(path);
  ParamReader r(doc, path);
  const std::string format = r.string("format");
  if (format != "tessera.space")
    throw r.error("format", "expected \"tessera.space\", got \"" + format + "\"");
  if (r.integer("version") != 1)
    throw r.error("version", "this version of Tessera reads version 1");
  DesignSpace s;
  s.file = path;
  s.name = r.string("name", std::filesystem::path(path).stem().string());
  const auto dir = std::filesystem::path(path).parent_path();
  const auto resolve = [&](const std::string& p) {
    return std::filesystem::path(p).is_absolute() ? p : (dir / p).lexically_normal().string();
  };
  if (r.has("scenario")) {
    for (const char* key : {"tasks", "arch", "workload", "network", "workload_settings"})
      if (r.has(key))
        throw r.error(key, "a space over a scenario takes its accelerator and models from the scenario");
    s.scenario_file = resolve(r.string("scenario"));
    read_scenario_base(s, r);
  } else if (r.has("tasks")) {
    read_tasks(s, r, dir.string());
  } else {
    const std::string arch_file = resolve(r.string("arch"));
    try {  // a missing or broken architecture file is named with the key that points to it
      s.base = arch::read_arch_document(arch_file);
    } catch (const InputError& e) {
      throw r.error("arch", e.what());
    }
    if (r.has("network")) {
      if (r.has("workload"))
        throw r.error("workload", "a space with a \"network\" builds its workload from it; remove "
                                  "\"workload\"");
      ParamReader net = r.child("network");
      s.network = read_network(net, dir.string());
    } else {
      const std::string workload = r.string("workload");
      s.workload_file = workloads::is_nasbench201_spec(workload) ? workload : resolve(workload);
    }
  }
  s.fidelity = r.choice("fidelity", sim::fidelity_names(), "analytical");

  ParamReader params = r.child("parameters");
  for (auto it = doc.at("parameters").begin(); it != doc.at("parameters").end(); ++it) {
    ParamReader p = params.child(it.key());
    s.parameters.push_back({it.key(), parameter_values(p, it.value())});
    p.finish();
    const Parameter& added = s.parameters.back();
    const std::string where = json_location(path, params.path_of(it.key()));
    if (s.serving()) {
      if (is_workload_path(added.path) || has_prefix(added.path, kNetworkPrefix))
        throw InputError(where + "a space over a scenario takes scenario.KEY parameters and its "
                                 "accelerator's config paths");
    } else if (!s.tasks.empty()) {
      if (!is_workload_path(added.path)) check_task_parameter(s, added, where);
    } else if (has_prefix(added.path, kNetworkPrefix)) {
      if (!s.network)
        throw InputError(where + "network parameters need a \"network\" object naming the kind "
                                 "of network (docs/explorer.md, \"Joint spaces\")");
      check_network_parameter(*s.network, added.path.substr(std::string(kNetworkPrefix).size()),
                              added.values, where);
    }
  }
  params.finish();
  if (s.parameters.empty())
    throw r.error("parameters", "a design space needs at least one parameter");
  // Each network must be chosen whole by its parameters and its spec.
  const auto network_parameters = [&](const std::string& prefix) {
    std::vector<std::string> names;
    for (const auto& p : s.parameters)
      if (has_prefix(p.path, prefix)) names.push_back(p.path.substr(prefix.size()));
    return names;
  };
  const std::string params_where = json_location(path, "/parameters");
  if (s.network) check_network_complete(*s.network, network_parameters(kNetworkPrefix), params_where);
  for (const auto& t : s.tasks) {
    check_network_complete(t.network, network_parameters(t.name + "." + kNetworkPrefix),
                           params_where);
    const bool swept = std::any_of(s.parameters.begin(), s.parameters.end(),
                                   [&](const Parameter& p) { return p.path == t.name + ".template"; });
    if (!swept && !s.templates.count(t.template_name))
      throw InputError(params_where + "task " + t.name +
                       " needs a template: a parameter " + t.name +
                       ".template, or a \"template\" given in \"templates\"");
  }

  // Metrics: the hardware's, the oracle's, then the expression metrics.
  if (s.serving()) {
    s.metrics = serving_metric_names(s);
  } else if (s.tasks.empty()) {
    s.metrics = metric_names();
  } else {
    for (const auto& t : s.tasks)
      for (const auto& m : task_metric_names()) s.metrics.push_back(m + "." + t.name);
    for (const auto& m : combined_metric_names()) s.metrics.push_back(m);
  }
  if (auto acc = r.optional_child("accuracy")) {
    s.dataset = acc->string("dataset", s.network ? s.network->dataset : "");
    s.oracle = read_oracle(*acc, dir.string());
    try {
      if (s.network) s.oracle->check_dataset(s.dataset);
    } catch (const InputError& e) {
      throw acc->error("dataset", e.what());
    }
    acc->finish();
    for (std::size_t i = 0; i < s.tasks.size(); ++i) try {
        s.oracle->check_dataset(s.tasks[i].dataset);
      } catch (const InputError& e) {
        throw InputError(json_location(path, "/tasks/" + std::to_string(i) + "/dataset") +
                         e.what());
      }
    std::vector<std::string> names = {"accuracy", "test_error"};
    for (const auto& t : s.tasks) {
      names.push_back("accuracy." + t.name);
      names.push_back("test_error." + t.name);
    }
    for (const auto& n : names) {
      s.metrics.push_back(n);
      s.accuracy_metrics.insert(n);
    }
  }
  if (auto exprs = r.optional_child("metrics")) {
    std::vector<Derived> items;
    for (const auto& key : exprs->keys()) {
      if (std::count(s.metrics.begin(), s.metrics.end(), key))
        throw exprs->error(key, "is already a metric of this space");
      items.push_back({key, Expression::parse(exprs->string(key),
                                              json_location(path, exprs->path_of(key)))});
    }
    exprs->finish();
    s.metric_expressions = order_by_dependencies(std::move(items), r, "metrics", "metrics");
    for (const auto& m : s.metric_expressions) {
      s.metrics.push_back(m.path);
      for (const auto& name : m.value.names())
        if (s.accuracy_metrics.count(name)) s.accuracy_metrics.insert(m.path);
    }
  }

  if (r.has("objectives") && r.array_size("objectives") == 0)
    throw r.error("objectives", "must list at least one objective (leave the key out for "
                                "latency_s:min, energy_pj:min)");
  const auto objectives = r.strings("objectives");
  for (std::size_t i = 0; i < objectives.size(); ++i) {
    const auto colon = objectives[i].find(':');
    const std::string goal = colon == std::string::npos ? "" : objectives[i].substr(colon + 1);
    if (colon == 0 || (goal != "min" && goal != "max"))
      throw InputError(json_location(path, "/objectives/" + std::to_string(i)) +
                       "expected \"METRIC:min\" or "
                       "\"METRIC:max\", got \"" +
                       objectives[i] + "\"");
    s.objectives.emplace_back(objectives[i].substr(0, colon), goal == "min");
  }
  for (std::size_t i = 0; i < s.objectives.size(); ++i) {
    const auto& name = s.objectives[i].first;
    if (std::find(s.metrics.begin(), s.metrics.end(), name) == s.metrics.end()) {
      std::string known;
      for (const auto& m : s.metrics) known += (known.empty() ? "" : ", ") + m;
      throw InputError(json_location(path, "/objectives/" + std::to_string(i)) +
                       "unknown metric '" + name + "' (metrics: " + known + ")");
    }
    for (std::size_t k = 0; k < i; ++k)
      if (s.objectives[k].first == name)
        throw InputError(json_location(path, "/objectives/" + std::to_string(i)) + "metric '" +
                         name + "' is an objective twice");
  }
  if (s.objectives.empty())
    s.objectives = s.serving() ? std::vector<std::pair<std::string, bool>>{{"p99_latency_s", true}, {"area_mm2", true}}
                               : std::vector<std::pair<std::string, bool>>{{"latency_s", true}, {"energy_pj", true}};
  if (auto hv = r.optional_child("hypervolume")) {
    const std::size_t n = s.objectives.size();
    for (auto [key, out] : {std::pair{"lo", &s.hv_lo}, {"ref", &s.hv_ref}}) {
      if (hv->array_size(key) != n)
        throw hv->error(key, "needs one number per objective (" + std::to_string(n) + ")");
      for (std::size_t i = 0; i < n; ++i) {
        const auto& v = doc.at("hypervolume").at(key).at(i);
        if (!v.is_number()) throw hv->error(key, "must list numbers, got " + v.dump());
        out->push_back(v.get<double>());
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!(s.hv_ref[i] > s.hv_lo[i]))
        throw hv->error("ref", "each ref must be greater than its lo (objective " +
                                   s.objectives[i].first + ")");
      // The normalisation divides by ref - lo: it must be a number.
      if (!std::isfinite(s.hv_ref[i] - s.hv_lo[i]))
        throw hv->error("ref", "ref - lo overflows for objective " + s.objectives[i].first);
    }
    hv->finish();
  }
  if (auto derived = r.optional_child("derived")) {
    std::vector<Derived> items;
    for (const auto& key : derived->keys()) {
      if (std::any_of(s.parameters.begin(), s.parameters.end(),
                      [&](const Parameter& p) { return p.path == key; }))
        throw derived->error(key, "is also a swept parameter; a path is either swept or derived");
      const std::string text = derived->string(key);
      items.push_back({key, Expression::parse(text, json_location(path, derived->path_of(key)))});
    }
    derived->finish();
    s.derived = order_by_dependencies(std::move(items), r, "derived", "derived parameters");
  }
  const auto constraints = r.strings("constraints");
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const std::string& text = constraints[i];
    const std::string where = json_location(path, "/constraints/" + std::to_string(i));
    const auto op = text.find_first_of("<>");
    if (op == std::string::npos || op + 1 >= text.size() || text[op + 1] != '=' ||
        text.find_first_of("<>", op + 2) != std::string::npos)
      throw InputError(where +
                       "expected \"LEFT <= RIGHT\" or \"LEFT >= RIGHT\" (e.g. "
                       "\"area_mm2 <= 10\"), got \"" +
                       text + "\"");
    Constraint c{Expression::parse(text.substr(0, op), where),
                 Expression::parse(text.substr(op + 2), where), text[op] == '<', false, false,
                 text};
    for (const auto* side : {&c.left, &c.right})
      for (const auto& name : side->names()) {
        if (std::count(s.metrics.begin(), s.metrics.end(), name)) c.on_metrics = true;
        if (s.accuracy_metrics.count(name)) c.on_accuracy = true;
      }
    s.constraints.push_back(std::move(c));
  }
  if (r.has("workload_settings")) {
    (void)r.child("workload_settings");  // an object, or an error naming the path
    s.workload_settings = doc.at("workload_settings");
    // Read once here so a bad setting fails now, naming the space file and path.
    (void)workloads::read_workload_settings(s.workload_settings, path, "/workload_settings");
  }
  check_derived(s);
  check_one_writer_per_key(s);
  r.finish();
  (void)s.grid_size();  // fails now, naming the file, if the grid cannot be numbered
  s.hash = json_hash(doc);
  if (s.tasks.empty()) {
    s.base_config_hash = json_hash(s.base.json);
  } else {
    nlohmann::json bases = nlohmann::json::object();
    for (const auto& [name, d] : s.templates) bases[name] = d.json;
    s.base_config_hash = json_hash(bases);
  }
  return s;
}

std::uint64_t DesignSpace::grid_size() const {
  std::uint64_t n = 1;
  for (const auto& p : parameters)
    if (__builtin_mul_overflow(n, p.values.size(), &n))
      throw InputError(file +
                       ": /parameters: the grid has more than 2^64 points (the product of "
                       "the parameters' sizes); use fewer values or a sampling method");
  return n;
}

nlohmann::json DesignSpace::grid_point(std::uint64_t index) const {
  nlohmann::json point = nlohmann::json::object();
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    point[it->path] = it->values[index % it->values.size()];
    index /= it->values.size();
  }
  return point;
}

nlohmann::json DesignSpace::unit_point(const std::vector<double>& u) const {
  nlohmann::json point = nlohmann::json::object();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto& values = parameters[i].values;
    const auto k = static_cast<std::size_t>(u.at(i) * static_cast<double>(values.size()));
    point[parameters[i].path] = values[std::min(k, values.size() - 1)];
  }
  return point;
}

nlohmann::json DesignSpace::random_point(std::uint64_t seed, std::uint64_t index) const {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32)};
  std::mt19937_64 rng(seq);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> u(parameters.size());
  for (auto& x : u) x = uniform(rng);
  return unit_point(u);
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const sim::Metric& m : sim::metric_table())
      if (m.combine != sim::Combine::serving) out.emplace_back(m.name);  // not a sweep's (yet)
    return out;
  }();
  return names;
}

namespace {


// Names in expressions: the point's parameters and derived parameters, then metrics (after a
// simulation), then workload settings ("workload.KEY"), then the architecture config: the
// resolved one once the point's engine is built (numbers in each key's default unit), else the
// base document.
std::function<std::optional<double>(const std::string&)> lookup(
    const ResolvedPoint& p, const nlohmann::json& config,
    const std::map<std::string, double>* metrics = nullptr) {
  return [&p, &config, metrics](const std::string& name) -> std::optional<double> {
    if (auto it = p.values.find(name); it != p.values.end()) return it->second;
    if (metrics)
      if (auto it = metrics->find(name); it != metrics->end()) return it->second;
    if (is_workload_path(name))
      return number_at(p.workload_settings, name.substr(std::string(kWorkloadPrefix).size()));
    return number_at(config, name);
  };
}

std::string number_text(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == std::floor(v) && std::abs(v) < 9.0e15)
    return std::to_string(static_cast<std::int64_t>(v));
  return nlohmann::json(v).dump();
}

void check(const Constraint& c, const std::function<std::optional<double>(const std::string&)>& f) {
  const double left = c.left.evaluate(f), right = c.right.evaluate(f);
  if (std::isnan(left) || std::isnan(right))
    throw InputError("constraint " + c.text + " is not a number here (" + number_text(left) +
                     (c.at_most ? " <= " : " >= ") + number_text(right) + ")");
  if (c.at_most ? left > right : left < right)
    throw InputError("infeasible: " + c.text + " violated (" + number_text(left) +
                     (c.at_most ? " > " : " < ") + number_text(right) + ")");
}

}  // namespace

ResolvedPoint resolve_point(const DesignSpace& space, const nlohmann::json& point) {
  ResolvedPoint p;
  p.workload_settings = space.workload_settings;
  // Networks' parameter values (without "network."), per task (one for a single-task space);
  // per task the size values and the user's own overrides, applied after the template's.
  const std::size_t n = std::max<std::size_t>(space.tasks.size(), 1);
  std::vector<nlohmann::json> networks(n, nlohmann::json::object());
  std::vector<std::map<std::string, nlohmann::json>> sizes(n);
  std::vector<std::vector<std::string>> task_overrides(n);
  for (const auto& t : space.tasks) p.tasks.push_back({t.name, t.template_name, {}, {}});
  auto set = [&](const std::string& path, const nlohmann::json& value) {
    if (value.is_number()) p.values[path] = value.get<double>();
    if (is_workload_path(path)) {
      apply_json_override(p.workload_settings, space.file,
                          path.substr(std::string(kWorkloadPrefix).size()) + "=" + value.dump());
    } else if (!space.tasks.empty()) {
      const auto dot = path.find('.');
      const auto t = std::find_if(p.tasks.begin(), p.tasks.end(), [&](const auto& task) {
        return task.name == path.substr(0, dot);
      });
      if (t == p.tasks.end() || dot == std::string::npos)
        throw InputError("'" + path + "' is not a parameter of a task of " + space.file);
      const auto k = static_cast<std::size_t>(t - p.tasks.begin());
      const std::string rest = path.substr(dot + 1);
      if (rest == "template")
        t->template_name = value.get<std::string>();
      else if (has_prefix(rest, kNetworkPrefix))
        networks[k][rest.substr(std::string(kNetworkPrefix).size())] = value;
      else if (rest == "rows" || rest == "cols")
        sizes[k][rest] = value;
      else if (rest == "bandwidth_gbs")
        task_overrides[k].push_back("dram.bandwidth=\"" + value.dump() + " GB/s\"");
      else if (has_prefix(rest, "arch."))
        task_overrides[k].push_back(rest.substr(5) + "=" + value.dump());
      else
        throw InputError("'" + path + "' is not a task parameter of " + space.file);
    } else if (space.serving() && has_prefix(path, kScenarioPrefix)) {
      p.scenario_overrides.push_back(path.substr(std::string(kScenarioPrefix).size()) + "=" + value.dump());
    } else if (has_prefix(path, kNetworkPrefix)) {
      networks[0][path.substr(std::string(kNetworkPrefix).size())] = value;
    } else {
      p.arch_overrides.push_back(path + "=" + value.dump());
    }
  };
  for (auto it = point.begin(); it != point.end(); ++it) set(it.key(), it.value());
  for (const auto& d : space.derived) {
    const double v = d.value.evaluate(lookup(p, space.base.json));
    if (!std::isfinite(v))
      throw InputError("derived parameter " + d.path + " = " + d.value.text() + " is not finite");
    // Whole numbers stay integers, so integer config keys accept them.
    const nlohmann::json value = v == std::floor(v) && std::abs(v) < 9.0e15
                                     ? nlohmann::json(static_cast<std::int64_t>(v))
                                     : nlohmann::json(v);
    p.derived[d.path] = value;
    set(d.path, value);
  }
  if (space.network) p.network = resolve_network(*space.network, networks[0]);
  for (std::size_t k = 0; k < p.tasks.size(); ++k) {
    auto& task = p.tasks[k];
    task.network = resolve_network(space.tasks[k].network, networks[k]);
    if (!space.templates.count(task.template_name))
      throw InputError("task " + task.name + ": template '" + task.template_name +
                       "' has no base config in \"templates\" of " + space.file);
    const AcceleratorTemplate& tmpl = accelerator_templates().get(task.template_name);
    task.arch_overrides = tmpl.fixed;
    for (const auto& [key, value] : sizes[k])
      task.arch_overrides.push_back((key == "rows" ? tmpl.rows : tmpl.cols) + "=" + value.dump());
    task.arch_overrides.insert(task.arch_overrides.end(), task_overrides[k].begin(),
                               task_overrides[k].end());
  }
  return p;
}

void check_constraints(const DesignSpace& space, const ResolvedPoint& point,
                       const nlohmann::json& resolved_config,
                       const std::map<std::string, double>* metrics, bool accuracy) {
  for (const auto& c : space.constraints)
    if (c.on_metrics == (metrics != nullptr) && c.on_accuracy == accuracy)
      check(c, lookup(point, resolved_config, metrics));
}

void add_expression_metrics(const DesignSpace& space, const ResolvedPoint& point,
                            std::map<std::string, double>& metrics, bool accuracy) {
  static const nlohmann::json no_config = nlohmann::json::object();
  for (const auto& m : space.metric_expressions) {
    if (space.accuracy_metrics.count(m.path) != static_cast<std::size_t>(accuracy)) continue;
    const double v = m.value.evaluate(lookup(point, no_config, &metrics));
    if (!std::isfinite(v))
      throw InputError("metric " + m.path + " = " + m.value.text() + " is not finite here");
    metrics[m.path] = v;
  }
}

arch::ArchConfig task_config(const DesignSpace& space, const ResolvedPoint::Task& task) {
  arch::ArchDocument doc = space.templates.at(task.template_name);
  for (const auto& o : task.arch_overrides) arch::apply_override(doc, o);
  return arch::build_arch(doc);
}

arch::ArchConfig point_config(const DesignSpace& space, const ResolvedPoint& point) {
  arch::ArchDocument doc = space.base;
  for (const auto& o : point.arch_overrides) arch::apply_override(doc, o);
  return arch::build_arch(doc);
}

arch::ArchConfig point_config(const DesignSpace& space, const nlohmann::json& point) {
  return point_config(space, resolve_point(space, point));
}

}  // namespace tessera::explorer
