#include "explorer/xr_space.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/params.hpp"
#include "serving/xr_run.hpp"

namespace tessera::explorer {

namespace {

constexpr std::uint64_t kMaxPoints = 100000;

// A parameter's values: `values` (any JSON values), `range` {min, max, step} or `pow2`
// {min, max}, as in explorer design spaces.
std::vector<nlohmann::json> parameter_values(ParamReader& p, const nlohmann::json& node) {
  std::vector<nlohmann::json> out;
  if (p.has("values")) {
    const std::size_t n = p.array_size("values");
    if (n == 0) throw p.error("values", "empty list");
    if (n > kMaxPoints) throw p.error("values", "more than 100,000 values");
    for (const auto& v : node.at("values")) out.push_back(v);
    return out;
  }
  if (auto r = p.optional_child("range")) {
    const std::int64_t lo = r->integer("min"), hi = r->integer("max"), step = r->positive_integer("step", 1);
    r->finish();
    if (hi < lo) throw p.error("range", "max < min");
    if ((hi - lo) / step >= static_cast<std::int64_t>(kMaxPoints)) throw p.error("range", "more than 100,000 values");
    for (std::int64_t v = lo; v <= hi; v += step) out.emplace_back(v);
    return out;
  }
  if (auto r = p.optional_child("pow2")) {
    const std::int64_t lo = r->positive_integer("min"), hi = r->positive_integer("max");
    r->finish();
    if ((lo & (lo - 1)) || (hi & (hi - 1))) throw p.error("pow2", "bounds must be powers of two");
    if (hi < lo) throw p.error("pow2", "max < min");
    for (std::int64_t v = lo; v <= hi; v *= 2) out.emplace_back(v);
    return out;
  }
  throw p.error("", "expected one of values, range, pow2");
}

}  // namespace

std::uint64_t XrSpace::grid_size() const {
  std::uint64_t n = 1;
  for (const auto& [path, values] : parameters) n *= values.size();
  return n;
}

XrSpace read_xr_space(const std::string& path) {
  const nlohmann::json doc = read_json_file(path);
  ParamReader r(doc, path);
  XrSpace s;
  s.file = path;
  s.doc = doc;
  if (r.string("format") != "tessera.xr_space") throw r.error("format", "expected \"tessera.xr_space\"");
  if (r.integer("version") != 1) throw r.error("version", "expected 1");
  s.name = r.string("name", std::filesystem::path(path).stem().string());
  const std::string dir = std::filesystem::path(path).parent_path().string();
  s.scenario = r.string("scenario");
  if (!std::filesystem::path(s.scenario).is_absolute() && !dir.empty())
    s.scenario = (std::filesystem::path(dir) / s.scenario).string();
  s.scenario_doc = read_json_file(s.scenario);
  if (!serving::xr::is_xr_scenario(s.scenario_doc))
    throw r.error("scenario", s.scenario + " is not an XR scenario (\"format\": \"tessera.xr_scenario\")");
  ParamReader params = r.child("parameters");
  const auto keys = params.keys();
  if (keys.empty()) throw r.error("parameters", "at least one parameter");
  std::uint64_t size = 1;
  for (const std::string& k : keys) {
    ParamReader p = params.child(k);
    std::vector<nlohmann::json> values = parameter_values(p, doc.at("parameters").at(k));
    p.finish();
    size *= values.size();
    if (size > kMaxPoints) throw params.error(k, "the grid has more than 100,000 points");
    s.parameters.emplace_back(k, std::move(values));
  }
  if (auto d = r.optional_child("derived")) {
    for (const std::string& k : d->keys()) {
      const std::string text = d->string(k);
      s.derived.emplace_back(k, Expression::parse(text, json_location(path, d->path_of(k))));
    }
    d->finish();
  }
  for (const std::string& p : r.strings("policies")) {
    if (!serving::xr::policies().contains(p))
      throw r.error("policies", "unknown XR policy '" + printable(p) + "'");
    s.policies.push_back(p);
  }
  r.finish();
  return s;
}

std::vector<XrPointResult> sweep_xr_space(const XrSpace& space,
                                          const std::function<void(std::size_t, std::size_t)>& progress) {
  XrSweepOptions o;
  o.progress = progress;
  return sweep_xr_space(space, o);
}

std::vector<XrPointResult> sweep_xr_space(const XrSpace& space, const XrSweepOptions& options) {
  std::vector<XrPointResult> out;
  serving::xr::CostCache costs;
  const std::uint64_t n = space.grid_size();
  const std::string dir = std::filesystem::path(space.scenario).parent_path().string();
  std::size_t done = 0, to_do = 0;
  for (std::uint64_t i = 0; i < n; ++i) to_do += options.done.count(i) ? 0 : 1;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (options.done.count(i)) continue;
    const std::size_t first = out.size();
    // Mixed radix, the first parameter slowest (as explorer grids number their points).
    nlohmann::json point = nlohmann::json::object();
    std::uint64_t rest = i;
    std::vector<std::size_t> digit(space.parameters.size());
    for (std::size_t p = space.parameters.size(); p-- > 0;) {
      digit[p] = static_cast<std::size_t>(rest % space.parameters[p].second.size());
      rest /= space.parameters[p].second.size();
    }
    for (std::size_t p = 0; p < space.parameters.size(); ++p)
      point[space.parameters[p].first] = space.parameters[p].second[digit[p]];
    nlohmann::json doc = space.scenario_doc;
    std::vector<std::string> policies = space.policies;
    std::string error;
    try {
      for (const auto& [path, value] : point.items()) apply_json_override(doc, space.scenario, path + "=" + value.dump());
      for (const auto& [path, expr] : space.derived) {
        const double v = expr.evaluate([&](const std::string& name) -> std::optional<double> {
          if (point.contains(name) && point[name].is_number()) return point[name].get<double>();
          return std::nullopt;
        });
        if (!std::isfinite(v)) throw InputError(space.file + ": derived '" + path + "' is not a number here");
        const nlohmann::json value = std::floor(v) == v && std::abs(v) < 9e15 ? nlohmann::json(static_cast<std::int64_t>(v)) : nlohmann::json(v);
        point[path] = value;
        apply_json_override(doc, space.scenario, path + "=" + value.dump());
      }
      const serving::xr::XrScenario sc = serving::xr::read_xr_scenario(doc, space.scenario, dir);
      if (policies.empty()) policies.push_back(sc.policy);
      for (const std::string& policy : policies) {
        serving::xr::RunOptions o;
        o.policy = policy;
        o.costs = &costs;
        const auto rep = serving::xr::run(sc, o);
        XrPointResult res;
        res.index = i;
        res.point = point;
        res.policy = policy;
        res.score = rep.score.overall;
        for (const auto& m : rep.score.models)
          res.models[m.model] = {{"score", m.score}, {"qoe", m.qoe}, {"dropped", m.dropped}};
        out.push_back(std::move(res));
      }
    } catch (const InputError& e) {
      XrPointResult res;
      res.index = i;
      res.point = point;
      res.error = e.what();
      out.push_back(std::move(res));
    }
    if (options.on_point)
      options.on_point(std::vector<XrPointResult>(out.begin() + static_cast<std::ptrdiff_t>(first),
                                                  out.end()));
    if (options.progress) options.progress(++done, to_do);
  }
  return out;
}

nlohmann::json to_json(const XrPointResult& r) {
  nlohmann::json j = {{"index", r.index}, {"point", r.point}};
  if (r.error.empty()) {
    j["policy"] = r.policy;
    j["score"] = r.score;
    j["models"] = r.models;
  } else {
    j["error"] = r.error;
  }
  return j;
}

XrPointResult xr_point_from_json(const nlohmann::json& j, const std::string& where) {
  XrPointResult r;
  const bool ok = j.is_object() && j.contains("index") && j["index"].is_number_unsigned() &&
                  j.contains("point") && j["point"].is_object() &&
                  (j.contains("error") ? j["error"].is_string()
                                       : j.contains("policy") && j["policy"].is_string() &&
                                             j.contains("score") && j["score"].is_number() &&
                                             j.contains("models"));
  if (!ok) throw InputError(where + ": not an XR point result (index, point, policy, score, models)");
  r.index = j["index"].get<std::uint64_t>();
  r.point = j["point"];
  if (j.contains("error")) {
    r.error = j["error"].get<std::string>();
  } else {
    r.policy = j["policy"].get<std::string>();
    r.score = j["score"].get<double>();
    r.models = j["models"];
  }
  return r;
}

std::string format_xr_results(const XrSpace& space, std::vector<XrPointResult> results,
                              std::size_t top) {
  std::stable_sort(results.begin(), results.end(), [](const auto& x, const auto& y) {
    if (x.error.empty() != y.error.empty()) return x.error.empty();
    return x.score > y.score;
  });
  std::vector<std::string> paths;
  for (const auto& [path, values] : space.parameters) paths.push_back(path);
  for (const auto& [path, expr] : space.derived) paths.push_back(path);
  // The dotted prefix every path shares ("sub_accelerators."), left out of the headings.
  std::size_t common = paths.empty() ? 0 : paths.front().size();
  for (const auto& p : paths) {
    std::size_t k = 0;
    while (k < common && k < p.size() && p[k] == paths.front()[k]) ++k;
    common = k;
  }
  while (common > 0 && paths.front()[common - 1] != '.') --common;
  const auto cell = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::vector<std::size_t> width;
  for (const auto& p : paths) width.push_back(std::max<std::size_t>(p.size() - common, 3));
  std::size_t shown = 0;
  for (const auto& r : results) {
    if (!r.error.empty() || shown++ >= top) continue;
    for (std::size_t c = 0; c < paths.size(); ++c)
      if (r.point.contains(paths[c])) width[c] = std::max(width[c], cell(r.point[paths[c]]).size());
  }
  std::string out = fmt::format("XR design space {}: {} points, best first\n", space.name, space.grid_size());
  if (common > 0) out += fmt::format("  (parameters {}*)\n", paths.front().substr(0, common));
  out += fmt::format("  {:>6} {:>8}  {:<6}", "point", "score", "policy");
  for (std::size_t c = 0; c < paths.size(); ++c) out += fmt::format(" {:>{}}", paths[c].substr(common), width[c]);
  out += "\n";
  shown = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      out += fmt::format("  point {} failed: {}\n", r.index, r.error);
      continue;
    }
    if (shown++ >= top) continue;
    out += fmt::format("  {:>6} {:>8.3f}  {:<6}", r.index, r.score, r.policy);
    for (std::size_t c = 0; c < paths.size(); ++c)
      out += fmt::format(" {:>{}}", r.point.contains(paths[c]) ? cell(r.point[paths[c]]) : "-", width[c]);
    out += "\n";
  }
  return out;
}

}  // namespace tessera::explorer
