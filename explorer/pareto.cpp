// Pareto fronts and hypervolumes through pagmo, and merging of results logs (explorer/pareto.hpp).
#include "explorer/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <pagmo/types.hpp>
#include <pagmo/utils/hypervolume.hpp>
#include <pagmo/utils/multi_objective.hpp>

#include "common/error.hpp"
#include "sim/metrics.hpp"

namespace tessera::explorer {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string f; std::getline(ss, f, sep);) out.push_back(trim(f));
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}


// Points per pagmo sorting call in pareto_front(); a power of two only for neatness.
constexpr std::size_t kFrontChunk = 1024;

std::string number(double x) { return fmt::format("{:.6g}", x); }

std::string point_value(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::vector<double> minimised(const LogEntry& e, const std::vector<Objective>& objectives) {
  std::vector<double> v;
  v.reserve(objectives.size());
  for (const auto& o : objectives) {
    const double x = e.metrics.at(o.metric);
    v.push_back(o.minimize ? x : -x);
  }
  return v;
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] > b[j]) return false;
    better = better || a[j] < b[j];
  }
  return better;
}

std::vector<Objective> parse_objectives(const std::string& spec) {
  const std::string where = "--objectives " + spec + ": ";
  std::vector<Objective> out;
  std::set<std::string> seen;
  for (const auto& item : split(spec, ',')) {
    if (item.empty())
      throw InputError(where +
                       "empty objective (expected metric:min or metric:max, comma-separated)");
    Objective o;
    const auto colon = item.find(':');
    o.metric = trim(item.substr(0, colon));
    if (colon == std::string::npos) {  // the metric table's direction; min for other metrics
      const sim::Metric* m = sim::find_metric(o.metric);
      o.minimize = !m || m->direction == sim::Direction::minimize;
    } else {
      const std::string dir = trim(item.substr(colon + 1));
      if (dir == "max")
        o.minimize = false;
      else if (dir != "min")
        throw InputError(where + "objective '" + item + "': direction must be min or max, got '" +
                         dir + "'");
    }
    if (o.metric.empty()) throw InputError(where + "objective '" + item + "' names no metric");
    if (!seen.insert(o.metric).second)
      throw InputError(where + "metric " + o.metric + " is given twice");
    out.push_back(o);
  }
  if (out.empty())
    throw InputError(where + "no objectives (expected e.g. " + kDefaultObjectives + ")");
  return out;
}

std::string to_string(const Objective& o) { return o.metric + (o.minimize ? ":min" : ":max"); }

void check_objectives(const std::vector<LogEntry>& entries,
                      const std::vector<Objective>& objectives, const std::string& source) {
  for (const auto& e : entries) {
    if (!e.ok) continue;
    for (const auto& o : objectives) {
      if (e.metrics.count(o.metric)) continue;
      std::set<std::string> names;
      for (const auto& f : entries)
        for (const auto& [name, value] : f.metrics) names.insert(name);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw InputError(source + ": entry " + std::to_string(e.index) + " has no metric '" +
                       o.metric + "' (metrics in the log: " + (list.empty() ? "none" : list) + ")");
    }
  }
}

std::vector<std::size_t> pareto_front(const std::vector<LogEntry>& entries,
                                      const std::vector<Objective>& objectives) {
  check_objectives(entries, objectives);
  std::vector<std::size_t> ok;
  std::vector<pagmo::vector_double> points;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].ok) continue;
    ok.push_back(i);
    points.push_back(minimised(entries[i], objectives));
  }
  // pagmo's sorting ranks every point and keeps every dominance pair: quadratic in time and
  // memory (10,000 points: 2 s, 350 MB). So it runs on chunks; each chunk's first front goes on
  // to the next round with chunks twice as large, until one chunk holds every survivor. A point
  // dominated within its chunk is dominated overall, and a point on the overall front survives
  // every chunk, so the last round's first front is the front of all the points.
  std::vector<std::size_t> candidates(points.size());  // positions in `points`
  for (std::size_t k = 0; k < candidates.size(); ++k) candidates[k] = k;
  for (std::size_t chunk = kFrontChunk;; chunk *= 2) {
    std::vector<std::size_t> survivors;
    for (std::size_t begin = 0; begin < candidates.size(); begin += chunk) {
      const std::size_t end = std::min(candidates.size(), begin + chunk);
      if (end - begin < 2) {  // pagmo's sorting needs two points; one is its own front
        survivors.push_back(candidates[begin]);
        continue;
      }
      std::vector<pagmo::vector_double> part;
      for (std::size_t k = begin; k < end; ++k) part.push_back(points[candidates[k]]);
      // Named: a range-for over a member of a temporary would outlive it.
      const auto sorted = pagmo::fast_non_dominated_sorting(part);
      for (const auto k : std::get<0>(sorted).at(0)) survivors.push_back(candidates[begin + k]);
    }
    const bool last = candidates.size() <= chunk;
    candidates = std::move(survivors);
    if (last) break;
  }
  std::vector<std::size_t> front;
  for (const auto k : candidates) front.push_back(ok[k]);
  const auto first = [&](std::size_t pos) {
    const double x = entries[pos].metrics.at(objectives.at(0).metric);
    return objectives[0].minimize ? x : -x;
  };
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    return first(a) != first(b) ? first(a) < first(b) : a < b;
  });
  return front;
}

std::vector<double> default_reference_point(const std::vector<LogEntry>& entries,
                                            const std::vector<Objective>& objectives) {
  check_objectives(entries, objectives);
  std::vector<pagmo::vector_double> points;
  for (const auto& e : entries)
    if (e.ok) points.push_back(minimised(e, objectives));
  if (points.empty()) return {};
  std::vector<double> ref;
  for (std::size_t j = 0; j < objectives.size(); ++j) {
    double worst = points[0][j], best = points[0][j];
    for (const auto& p : points) {
      worst = std::max(worst, p[j]);
      best = std::min(best, p[j]);
    }
    double margin = 0.1 * std::abs(worst);
    if (margin == 0) margin = 0.1 * (worst - best);
    if (margin == 0) margin = 1;
    const double r = worst + margin;
    ref.push_back(objectives[j].minimize ? r : -r);
  }
  return ref;
}

std::vector<double> parse_reference_point(const std::string& spec,
                                          const std::vector<Objective>& objectives) {
  const std::string where = "--reference " + spec + ": ";
  std::vector<double> ref;
  for (const auto& item : split(spec, ',')) {
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || !std::isfinite(x))
      throw InputError(where + "'" + item + "' is not a finite number");
    ref.push_back(x);
  }
  if (ref.size() != objectives.size()) {
    std::string names;
    for (const auto& o : objectives) names += (names.empty() ? "" : ",") + o.metric;
    throw InputError(where + "expected " + std::to_string(objectives.size()) +
                     " numbers, one per objective (" + names + "), got " +
                     std::to_string(ref.size()));
  }
  return ref;
}

namespace {

// The volume dominated by `inside` (every point strictly better than `ref`) up to `ref`.
double volume(const std::vector<pagmo::vector_double>& inside, const pagmo::vector_double& ref) {
  if (inside.empty()) return 0;
  if (ref.size() == 1) {  // pagmo's hypervolume needs two dimensions; in one it is a length
    double best = inside[0][0];
    for (const auto& p : inside) best = std::min(best, p[0]);
    return ref[0] - best;
  }
  return pagmo::hypervolume(inside, true).compute(ref);
}

}  // namespace

Hypervolume hypervolume(const std::vector<LogEntry>& entries, const std::vector<std::size_t>& front,
                        const std::vector<Objective>& objectives,
                        const std::vector<double>& reference) {
  if (reference.size() != objectives.size())
    throw std::logic_error("hypervolume: reference point and objectives differ in size");
  pagmo::vector_double ref;
  for (std::size_t j = 0; j < objectives.size(); ++j)
    ref.push_back(objectives[j].minimize ? reference[j] : -reference[j]);
  Hypervolume hv;
  std::vector<pagmo::vector_double> inside;
  for (const auto pos : front) {
    auto p = minimised(entries.at(pos), objectives);
    bool in = true;
    for (std::size_t j = 0; j < p.size(); ++j) in = in && p[j] < ref[j];
    if (in)
      inside.push_back(std::move(p));
    else
      ++hv.outside;  // bounds no volume; pagmo rejects points on or beyond the reference
  }
  hv.value = volume(inside, ref);
  return hv;
}

double normalised_hypervolume(const std::vector<std::vector<double>>& values,
                              const std::vector<double>& lo, const std::vector<double>& ref) {
  if (lo.size() != ref.size())
    throw std::logic_error("normalised_hypervolume: lo and ref differ in size");
  std::vector<pagmo::vector_double> inside;
  for (const auto& v : values) {
    if (v.size() != lo.size())
      throw std::logic_error("normalised_hypervolume: a point has the wrong dimension");
    pagmo::vector_double f;
    bool in = true;
    for (std::size_t j = 0; j < v.size() && in; ++j) {
      f.push_back(std::max(0.0, (v[j] - lo[j]) / (ref[j] - lo[j])));
      in = f.back() < 1.0;
    }
    if (in) inside.push_back(std::move(f));
  }
  return volume(inside, pagmo::vector_double(lo.size(), 1.0));
}

double normalised_hypervolume(const std::vector<LogEntry>& entries,
                              const std::vector<Objective>& objectives,
                              const std::vector<double>& lo, const std::vector<double>& ref) {
  std::vector<std::vector<double>> values;
  for (const auto& e : entries)
    if (e.ok) values.push_back(minimised(e, objectives));
  return normalised_hypervolume(values, lo, ref);
}

bool ParetoArchive::add(const std::vector<double>& v) {
  for (const auto& p : points_)
    if (dominates(p, v) || p == v) return false;
  points_.erase(std::remove_if(points_.begin(), points_.end(),
                               [&](const std::vector<double>& p) { return dominates(v, p); }),
                points_.end());
  points_.push_back(v);
  return true;
}

std::optional<HypervolumeScale> header_scale(const LogHeader& header,
                                             const std::vector<Objective>& objectives) {
  if (header.hv_lo.empty() || header.objectives.size() != objectives.size()) return std::nullopt;
  HypervolumeScale scale;
  for (const auto& o : objectives) {
    const auto it = std::find(header.objectives.begin(), header.objectives.end(), to_string(o));
    if (it == header.objectives.end()) return std::nullopt;
    const auto k = static_cast<std::size_t>(it - header.objectives.begin());
    scale.lo.push_back(header.hv_lo.at(k));
    scale.ref.push_back(header.hv_ref.at(k));
  }
  return scale;
}

const char* to_string(ReferenceSource s) {
  switch (s) {
    case ReferenceSource::given: return "given";
    case ReferenceSource::space: return "space";
    case ReferenceSource::worst: return "default";
  }
  return "default";
}

ParetoResult analyse_pareto(const std::vector<LogEntry>& entries,
                            const std::vector<Objective>& objectives,
                            const std::optional<std::vector<double>>& reference,
                            const std::string& source,
                            const std::optional<HypervolumeScale>& scale) {
  check_objectives(entries, objectives, source);
  ParetoResult r;
  r.objectives = objectives;
  for (const auto& e : entries) ++(e.ok ? r.evaluated : r.failed);
  r.front = pareto_front(entries, objectives);
  if (reference) {
    r.reference = ReferenceSource::given;
    r.reference_point = *reference;
  } else if (scale) {
    if (scale->lo.size() != objectives.size() || scale->ref.size() != objectives.size())
      throw std::logic_error("analyse_pareto: the scale and the objectives differ in size");
    r.reference = ReferenceSource::space;
    r.scale = scale;
    for (std::size_t j = 0; j < objectives.size(); ++j)  // back to the metric's own sign
      r.reference_point.push_back(objectives[j].minimize ? scale->ref[j] : 0.0 - scale->ref[j]);
  } else {
    r.reference_point = default_reference_point(entries, objectives);
  }
  if (r.front.empty()) return r;
  if (r.scale) {
    std::vector<std::vector<double>> values;
    for (const auto pos : r.front) {
      values.push_back(minimised(entries.at(pos), objectives));
      // As normalised_hypervolume(): a point at or beyond ref in some objective bounds nothing.
      for (std::size_t j = 0; j < objectives.size(); ++j)
        if (values.back()[j] >= r.scale->ref[j]) {
          ++r.outside_reference;
          break;
        }
    }
    r.hypervolume = normalised_hypervolume(values, r.scale->lo, r.scale->ref);
  } else {
    const auto hv = hypervolume(entries, r.front, objectives, r.reference_point);
    r.hypervolume = hv.value;
    r.outside_reference = hv.outside;
  }
  return r;
}

nlohmann::json to_json(const ParetoResult& r, const std::vector<LogEntry>& entries) {
  nlohmann::json objectives = nlohmann::json::array(), front = nlohmann::json::array();
  for (const auto& o : r.objectives) objectives.push_back(to_string(o));
  for (const auto pos : r.front) front.push_back(to_json(entries.at(pos)));
  return {{"objectives", std::move(objectives)},
          {"reference_point",
           r.reference_point.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.reference_point)},
          {"reference", to_string(r.reference)},
          {"reference_given", r.reference == ReferenceSource::given},
          {"normalisation", r.scale ? nlohmann::json{{"lo", r.scale->lo}, {"ref", r.scale->ref}}
                                    : nlohmann::json(nullptr)},
          {"hypervolume", r.hypervolume},
          {"front", std::move(front)},
          {"evaluated", r.evaluated},
          {"failed", r.failed},
          {"outside_reference", r.outside_reference}};
}

std::string format_table(const ParetoResult& r, const std::vector<LogEntry>& entries) {
  std::set<std::string> params;
  for (const auto pos : r.front)
    for (const auto& [key, value] : entries.at(pos).point.items()) params.insert(key);
  std::vector<std::string> header = {"index"};
  header.insert(header.end(), params.begin(), params.end());
  for (const auto& o : r.objectives) header.push_back(to_string(o));

  std::vector<std::vector<std::string>> rows;
  for (const auto pos : r.front) {
    const auto& e = entries.at(pos);
    std::vector<std::string> row = {std::to_string(e.index)};
    for (const auto& p : params) row.push_back(e.point.contains(p) ? point_value(e.point[p]) : "-");
    for (const auto& o : r.objectives) row.push_back(number(e.metrics.at(o.metric)));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c)
      l += (c ? "  " : "") + fmt::format("{:>{}}", cells[c], width[c]);
    out += l + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);

  out += fmt::format("{} non-dominated of {} ok entries ({} failed, skipped)\n", r.front.size(),
                     r.evaluated, r.failed);
  if (r.reference_point.empty()) {
    out += "hypervolume: 0 (no ok entries)\n";
    return out;
  }
  std::string ref;
  if (r.scale) {
    for (std::size_t j = 0; j < r.objectives.size(); ++j)
      ref += fmt::format("{}{} lo={} ref={}", j ? ", " : "", r.objectives[j].metric,
                         number(r.scale->lo[j]), number(r.scale->ref[j]));
    out += fmt::format(
        "hypervolume: {} (normalised with the space's fixed scale, f = (v - lo)/(ref - lo) per "
        "objective in minimisation form, in the unit box: {})\n",
        number(r.hypervolume), ref);
  } else {
    for (std::size_t j = 0; j < r.objectives.size(); ++j)
      ref += (j ? ", " : "") + r.objectives[j].metric + "=" + number(r.reference_point[j]);
    out += fmt::format("hypervolume: {} (reference point {}; {})\n", number(r.hypervolume), ref,
                       r.reference == ReferenceSource::given
                           ? "given"
                           : "default: worst ok value moved 10% further");
  }
  if (r.outside_reference)
    out += fmt::format(
        "{} front entries are not better than the reference point in every "
        "objective and add no volume\n",
        r.outside_reference);
  return out;
}

namespace {

// The first difference between two entries of one index, or "" when they agree (wall_s aside).
std::string difference(const LogEntry& a, const LogEntry& b) {
  if (a.point != b.point) return "point " + a.point.dump() + " vs " + b.point.dump();
  if (a.ok != b.ok)
    return std::string("status ") + (a.ok ? "ok" : "failed") + " vs " + (b.ok ? "ok" : "failed");
  if (a.error != b.error) return "error \"" + a.error + "\" vs \"" + b.error + "\"";
  if (a.config_hash != b.config_hash)
    return "config_hash " + a.config_hash + " vs " + b.config_hash;
  if (a.workload_hash != b.workload_hash)
    return "workload_hash " + a.workload_hash + " vs " + b.workload_hash;
  for (const auto& [name, value] : a.metrics) {
    const auto it = b.metrics.find(name);
    if (it == b.metrics.end()) return "metric " + name + " only in the first";
    if (it->second != value)
      return "metric " + name + " " + nlohmann::json(value).dump() + " vs " +
             nlohmann::json(it->second).dump();
  }
  for (const auto& [name, value] : b.metrics)
    if (!a.metrics.count(name)) return "metric " + name + " only in the second";
  return "";
}

}  // namespace

std::vector<LogEntry> merge_logs(const std::vector<Shard>& shards) {
  std::map<std::uint64_t, std::pair<const LogEntry*, const std::string*>> by_index;
  for (const auto& shard : shards) {
    for (const auto& e : shard.entries) {
      const auto [it, inserted] = by_index.try_emplace(e.index, &e, &shard.file);
      if (inserted) continue;
      const std::string diff = difference(*it->second.first, e);
      if (!diff.empty())
        throw InputError("index " + std::to_string(e.index) + " differs between " +
                         *it->second.second + " and " + shard.file + " (" + diff +
                         "): these logs are not shards of one sweep");
    }
  }
  std::vector<LogEntry> merged;
  merged.reserve(by_index.size());
  for (const auto& [index, found] : by_index) merged.push_back(*found.first);
  return merged;
}

std::optional<LogHeader> merged_header(const std::vector<Shard>& shards) {
  const Shard* first = nullptr;
  for (const auto& shard : shards) {
    if (!first) {
      first = &shard;
      continue;
    }
    if (shard.header.has_value() != first->header.has_value())
      throw InputError((shard.header ? first->file : shard.file) +
                       " has no header line (a version 1 log) and " +
                       (shard.header ? shard.file : first->file) +
                       " has one: these logs are not shards of one sweep");
    if (!shard.header) continue;
    if (const auto diff = header_difference(*first->header, *shard.header, false); !diff.empty())
      throw InputError(first->file + " and " + shard.file +
                       " are logs of different runs (their "
                       "headers differ in " +
                       diff + "): these logs are not shards of one sweep");
  }
  if (!first || !first->header) return std::nullopt;
  LogHeader h = *first->header;
  h.shard = 0;
  h.shards = 1;
  return h;
}

Missing missing_indices(const LogHeader& header, const std::vector<LogEntry>& entries,
                        std::size_t limit) {
  Missing m;
  std::uint64_t expected = header.shard;     // the next index the log should hold
  const auto gap = [&](std::uint64_t end) {  // the shard's indices in [expected, end)
    if (expected >= end) return;
    const std::uint64_t n = (end - expected - 1) / header.shards + 1;
    for (std::uint64_t k = 0; k < n && m.first.size() < limit; ++k)
      m.first.push_back(expected + k * header.shards);
    m.count += n;
    expected += n * header.shards;
  };
  for (const auto& e : entries) {
    if (e.index >= header.size) break;
    if (e.index % header.shards != header.shard || e.index < expected) continue;
    gap(e.index);
    expected = e.index + header.shards;
  }
  gap(header.size);
  return m;
}

}  // namespace tessera::explorer
