#include "explorer/space.hpp"

#include <filesystem>
#include <random>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/params.hpp"
#include "sim/simulate.hpp"

namespace tessera::explorer {

namespace {

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
    for (std::int64_t v = lo; v <= hi; v += step) values.push_back(v);
    return values;
  }
  if (r.has("pow2")) {
    ParamReader range = r.child("pow2");
    const std::int64_t lo = range.positive_integer("min"), hi = range.positive_integer("max");
    range.finish();
    const auto is_pow2 = [](std::int64_t v) { return (v & (v - 1)) == 0; };
    if (!is_pow2(lo) || !is_pow2(hi)) throw r.error("pow2", "min and max must be powers of two");
    if (hi < lo) throw r.error("pow2", "max must be >= min");
    for (std::int64_t v = lo; v <= hi; v *= 2) values.push_back(v);
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
  s.base = arch::read_arch_document(resolve(r.string("arch")));
  s.workload_file = resolve(r.string("workload"));
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
  if (s.objectives.empty()) s.objectives = {{"latency_s", true}, {"energy_pj", true}};
  const auto constraints = r.strings("constraints");
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const std::string& text = constraints[i];
    const auto op = text.find_first_of("<>");
    Constraint c{text.substr(0, op), op != std::string::npos && text[op] == '<', 0, text};
    c.metric.erase(c.metric.find_last_not_of(' ') + 1);
    std::size_t used = 0;
    try {
      if (op == std::string::npos || op + 1 >= text.size() || text[op + 1] != '=' ||
          c.metric.empty())
        throw std::invalid_argument("operator");
      const std::string bound = text.substr(op + 2);
      c.bound = std::stod(bound, &used);
      if (bound.find_first_not_of(' ', used) != std::string::npos)
        throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw InputError(json_location(path, "/constraints/" + std::to_string(i)) +
                       "expected \"METRIC <= NUMBER\" or \"METRIC >= NUMBER\", got \"" + text +
                       "\"");
    }
    s.constraints.push_back(std::move(c));
  }
  r.finish();
  return s;
}

std::uint64_t DesignSpace::grid_size() const {
  std::uint64_t n = 1;
  for (const auto& p : parameters) n *= p.values.size();
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

arch::ArchConfig point_config(const DesignSpace& space, const nlohmann::json& point) {
  arch::ArchDocument doc = space.base;
  for (auto it = point.begin(); it != point.end(); ++it)
    arch::apply_override(doc, it.key() + "=" + it.value().dump());
  return arch::build_arch(doc);
}

}  // namespace tessera::explorer
