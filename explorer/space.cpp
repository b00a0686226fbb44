#include "explorer/space.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/params.hpp"
#include "sim/simulate.hpp"
#include "workloads/nasbench201.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

namespace {

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
  const std::string arch_file = resolve(r.string("arch"));
  try {  // a missing or broken architecture file is named with the key that points to it
    s.base = arch::read_arch_document(arch_file);
  } catch (const InputError& e) {
    throw r.error("arch", e.what());
  }
  const std::string workload = r.string("workload");
  s.workload_file = workloads::is_nasbench201_spec(workload) ? workload : resolve(workload);
  s.fidelity =
      sim::fidelity_from_string(r.choice("fidelity", {"analytical", "systemc"}, "analytical"));

  ParamReader params = r.child("parameters");
  for (auto it = doc.at("parameters").begin(); it != doc.at("parameters").end(); ++it) {
    ParamReader p = params.child(it.key());
    s.parameters.push_back({it.key(), parameter_values(p, it.value())});
    p.finish();
  }
  params.finish();
  if (s.parameters.empty())
    throw r.error("parameters", "a design space needs at least one parameter");

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
    if (std::find(metric_names().begin(), metric_names().end(), name) == metric_names().end()) {
      std::string known;
      for (const auto& m : metric_names()) known += (known.empty() ? "" : ", ") + m;
      throw InputError(json_location(path, "/objectives/" + std::to_string(i)) +
                       "unknown metric '" + name + "' (metrics: " + known + ")");
    }
    for (std::size_t k = 0; k < i; ++k)
      if (s.objectives[k].first == name)
        throw InputError(json_location(path, "/objectives/" + std::to_string(i)) + "metric '" +
                         name + "' is an objective twice");
  }
  if (s.objectives.empty()) s.objectives = {{"latency_s", true}, {"energy_pj", true}};
  if (auto derived = r.optional_child("derived")) {
    for (const auto& key : derived->keys()) {
      if (std::any_of(s.parameters.begin(), s.parameters.end(),
                      [&](const Parameter& p) { return p.path == key; }))
        throw derived->error(key, "is also a swept parameter; a path is either swept or derived");
      const std::string text = derived->string(key);
      s.derived.push_back(
          {key, Expression::parse(text, json_location(path, derived->path_of(key)))});
    }
    derived->finish();
    // Evaluation order: each after the derived parameters it names (JSON objects keep no key
    // order, and dependencies are what matter).
    std::vector<Derived> ordered;
    while (!s.derived.empty()) {
      const auto ready = std::find_if(s.derived.begin(), s.derived.end(), [&](const Derived& d) {
        return std::none_of(s.derived.begin(), s.derived.end(), [&](const Derived& other) {
          const auto& names = d.value.names();
          return std::find(names.begin(), names.end(), other.path) != names.end();
        });
      });
      if (ready == s.derived.end())
        throw r.error("derived", "derived parameters depend on each other in a cycle (" +
                                     s.derived.front().path + " is in it or depends on it)");
      ordered.push_back(std::move(*ready));
      s.derived.erase(ready);
    }
    s.derived = std::move(ordered);
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
                 Expression::parse(text.substr(op + 2), where), text[op] == '<', false, text};
    for (const auto* side : {&c.left, &c.right})
      for (const auto& name : side->names())
        if (std::count(metric_names().begin(), metric_names().end(), name)) c.on_metrics = true;
    s.constraints.push_back(std::move(c));
  }
  if (r.has("workload_settings")) {
    (void)r.child("workload_settings");  // an object, or an error naming the path
    s.workload_settings = doc.at("workload_settings");
    // Read once here so a bad setting fails now, naming the space file and path.
    (void)workloads::read_workload_settings(s.workload_settings, path, "/workload_settings");
  }
  r.finish();
  (void)s.grid_size();  // fails now, naming the file, if the grid cannot be numbered
  s.hash = json_hash(doc);
  s.base_config_hash = json_hash(s.base.json);
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
  static const std::vector<std::string> names = {"cycles",
                                                 "latency_s",
                                                 "energy_pj",
                                                 "area_mm2",
                                                 "utilization",
                                                 "macs",
                                                 "throughput_macs_per_s",
                                                 "edp_pj_s",
                                                 "power_w"};
  return names;
}

namespace {

constexpr const char* kWorkloadPrefix = "workload.";

bool is_workload_path(const std::string& path) { return path.rfind(kWorkloadPrefix, 0) == 0; }

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
  auto set = [&](const std::string& path, const nlohmann::json& value) {
    if (value.is_number()) p.values[path] = value.get<double>();
    if (is_workload_path(path))
      apply_json_override(p.workload_settings, space.file,
                          path.substr(std::string(kWorkloadPrefix).size()) + "=" + value.dump());
    else
      p.arch_overrides.push_back(path + "=" + value.dump());
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
  return p;
}

void check_constraints(const DesignSpace& space, const ResolvedPoint& point,
                       const nlohmann::json& resolved_config,
                       const std::map<std::string, double>* metrics) {
  for (const auto& c : space.constraints)
    if (c.on_metrics == (metrics != nullptr)) check(c, lookup(point, resolved_config, metrics));
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
