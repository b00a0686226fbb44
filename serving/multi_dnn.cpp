#include "serving/multi_dnn.hpp"
#include "serving/csv_lines.hpp"
#include "serving/multi_dnn_workload.hpp"
#include "serving/sampling.hpp"
#include "serving/scenario_file.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"

namespace tessera::serving {

namespace {

// The rows of `table` for model `name`: samples in order of first appearance, every layer
// 0..L-1 once per sample, the same L for every sample.
void read_latency_table(LatencyTableModel& m) {
  CsvLines csv(m.table_file, {"model", "sample", "layer", "latency_s", "sparsity"}, 1);
  std::map<std::int64_t, std::size_t> index;
  std::vector<std::vector<std::pair<double, double>>> rows;  // [sample][layer] (latency, sparsity)
  std::vector<std::vector<bool>> seen;
  std::vector<std::string> f;
  while (csv.next(f)) {
    if (f[0] != m.name) continue;
    const std::int64_t id = csv.integer(f[1], "sample", 0, 1'000'000'000);
    const std::int64_t layer = csv.integer(f[2], "layer", 0, 99'999);
    const double lat = csv.number(f[3], "latency_s");
    if (lat < 0 || lat > 1e6) throw csv.error("latency_s must be in [0, 1e6] s");
    double sp = 0;
    if (csv.columns() == 5) {
      sp = csv.number(f[4], "sparsity");
      // The predictors divide by 1 - the average sparsity.
      if (sp < 0 || sp >= 1) throw csv.error("sparsity must be in [0, 1)");
    }
    auto [it, fresh] = index.emplace(id, rows.size());
    if (fresh) {
      if (rows.size() >= 1'000'000) throw csv.error("more than 1e6 samples");
      m.sample_ids.push_back(id);
      rows.emplace_back();
      seen.emplace_back();
    }
    auto& r = rows[it->second];
    auto& s = seen[it->second];
    const auto l = static_cast<std::size_t>(layer);
    if (l >= r.size()) {
      r.resize(l + 1);
      s.resize(l + 1, false);
    }
    if (s[l]) throw csv.error(fmt::format("sample {} layer {} given twice", id, layer));
    s[l] = true;
    r[l] = {lat, sp};
  }
  if (rows.empty())
    throw InputError(m.table_file + ": no rows for model '" + printable(m.name) + "'");
  const std::size_t layers = rows.front().size();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto missing = std::find(seen[i].begin(), seen[i].end(), false);
    if (missing != seen[i].end() || rows[i].size() != layers)
      throw InputError(fmt::format(
          "{}: model '{}' sample {} has {} layers (sample {}: {}), or misses one", m.table_file,
          printable(m.name), m.sample_ids[i], rows[i].size(), m.sample_ids.front(), layers));
  }
  m.latency_s.assign(rows.size(), std::vector<double>(layers));
  m.sparsity.assign(rows.size(), std::vector<double>(layers));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t l = 0; l < layers; ++l) {
      m.latency_s[i][l] = rows[i][l].first;
      m.sparsity[i][l] = rows[i][l].second;
    }
  summarise_latency_table(m);
}

}  // namespace

void summarise_latency_table(LatencyTableModel& m) {
  const std::size_t samples = m.latency_s.size(), layers = m.latency_s.front().size();
  m.avg_latency_s.assign(layers, 0.0);
  m.avg_sparsity.assign(layers, 0.0);
  double e2e_sum = 0;
  for (std::size_t i = 0; i < samples; ++i) {
    double e2e = 0;  // left to right, as Python's sum()
    for (std::size_t l = 0; l < layers; ++l) {
      m.avg_latency_s[l] += m.latency_s[i][l];
      m.avg_sparsity[l] += m.sparsity[i][l];
      e2e += m.latency_s[i][l];
    }
    e2e_sum += e2e;
  }
  const auto n = static_cast<double>(samples);
  for (std::size_t l = 0; l < layers; ++l) {
    m.avg_latency_s[l] /= n;
    m.avg_sparsity[l] /= n;
  }
  for (std::size_t l = 0; l < layers; ++l)
    if (m.avg_sparsity[l] >= 1) throw InputError(m.table_file + ": average sparsity reaches 1");
  m.mean_isolated_s = e2e_sum / n;
}

namespace {

// The artefact's family averages (calc_avg_lat_per_model): weighted by sample counts, in the
// order the models are given.
void family_averages(std::vector<LatencyTableModel>& models, const std::string& file) {
  std::map<std::string, std::vector<std::size_t>> families;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < models.size(); ++i) {
    auto& f = families[models[i].family];
    if (f.empty()) order.push_back(models[i].family);
    f.push_back(i);
  }
  for (const auto& name : order) {
    const auto& members = families[name];
    const std::size_t layers = models[members.front()].layers();
    std::vector<double> avg(layers, 0.0);
    double target = 0, total = 0;
    for (std::size_t i : members) {
      if (models[i].layers() != layers)
        throw InputError(fmt::format(
            "{}: models '{}' and '{}' of family '{}' have {} and {} layers (latency tables {} and "
            "{})",
            file, models[members.front()].name, models[i].name, name, layers, models[i].layers(),
            models[members.front()].table_file, models[i].table_file));
      const auto nb = static_cast<double>(models[i].sample_ids.size());
      total += nb;
      target += nb * models[i].mean_isolated_s;
      for (std::size_t l = 0; l < layers; ++l) avg[l] += nb * models[i].avg_latency_s[l];
    }
    for (double& a : avg) a /= total;
    for (std::size_t i : members) {
      models[i].family_avg_latency_s = avg;
      models[i].family_mean_isolated_s = target / total;
    }
  }
}

// One of n indices, uniformly, from serving's generator.
std::size_t draw_index(Rng& rng, std::size_t n) {
  return std::min(n - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(n)));
}

}  // namespace

Registry<MultiDnnPolicy>& multi_dnn_policies() {
  static Registry<MultiDnnPolicy> r = [] {
    using R = MultiDnnRule;
    Registry<MultiDnnPolicy> p("multi-DNN scheduling policy");
    p.add("fcfs", "multi-DNN: the earliest arrival", {R::fcfs, false, false, false});
    p.add("sjf", "multi-DNN: least estimated remaining time (family per-layer averages)",
          {R::sjf, false, false, false});
    p.add("sjf_sparse", "multi-DNN: sjf on the model's own averages x measured sparsity ratio",
          {R::sjf, true, true, true});
    p.add("prema",
          "multi-DNN: PREMA (HPCA 2020) tokens by priority x slowdown, then least estimate",
          {R::prema, false, false, false});
    p.add("prema_sparse", "multi-DNN: prema with the sparsity-scaled estimates",
          {R::prema, true, true, true});
    p.add("planaria", "multi-DNN: Planaria (MICRO 2020) largest priority / slack",
          {R::planaria, false, false, false});
    p.add("sdrm3", "multi-DNN: SDRM3 largest urgency + alpha x fairness",
          {R::sdrm3, false, false, false});
    p.add("sdrm3_sparse", "multi-DNN: sdrm3 with the sparsity-scaled estimates",
          {R::sdrm3, true, true, true});
    p.add("dysta", "multi-DNN: Dysta (MICRO 2023) with its sparse latency predictor",
          {R::dysta, true, true, true});
    p.add("dysta_static", "multi-DNN: Dysta with static (family average) estimates only",
          {R::dysta, false, false, false});
    p.add("dysta_oracle", "multi-DNN: Dysta knowing every request's real layer latencies",
          {R::dysta_oracle, false, true, false});
    return p;
  }();
  return r;
}

bool is_multi_dnn_scenario(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("format") && doc["format"] == "tessera.multi_dnn";
}

MultiDnnScenario read_multi_dnn_scenario(const nlohmann::json& doc, const std::string& file,
                                         const std::string& dir) {
  ParamReader r(doc, file);
  MultiDnnScenario s;
  s.file = file;
  s.resolved = doc;
  if (r.string("format") != "tessera.multi_dnn")
    throw r.error("format", "expected \"tessera.multi_dnn\"");
  s.name = r.string("name", std::filesystem::path(file).stem().string());
  // The engine config of models given as workloads that name none.
  const std::string default_arch = r.has("arch") ? resolve(dir, r.string("arch")) : "";
  {
    ParamReader m = r.child("models");
    std::vector<std::string> names = m.keys();
    for (const auto& name : names) {
      ParamReader one = m.child(name);
      LatencyTableModel model;
      model.name = name;
      // The artefact's family is the model name up to its first '_'.
      model.family = one.string("family", name.substr(0, name.find('_')));
      if (one.has("latency_table") == one.has("workload"))
        throw one.error("", "give exactly one of latency_table (a CSV file) and workload");
      if (one.has("workload")) {
        compute_workload_table(model, one, doc.at("models").at(name), dir, default_arch);
      } else {
        model.table_file = resolve(dir, one.string("latency_table"));
        try {
          read_latency_table(model);
        } catch (const InputError& e) {
          throw one.error("latency_table", e.what());
        }
      }
      if (one.has("slo_s") == one.has("slo_multiple"))
        throw one.error("",
                        "give exactly one of slo_s (seconds) and slo_multiple (x the family's mean "
                        "isolated latency)");
      if (one.has("slo_s")) model.slo_s = one.positive("slo_s");
      s.models.push_back(std::move(model));
      if (one.has("slo_multiple")) s.models.back().slo_s = -one.positive("slo_multiple");
      one.finish();
    }
    if (s.models.empty()) throw r.error("models", "names no model");
    if (s.models.size() > 100000) throw r.error("models", "more than 1e5 models");
    m.finish();
    family_averages(s.models, file);
    for (auto& model :
         s.models)  // a negative slo_s held the multiple until the averages were known
      if (model.slo_s < 0) model.slo_s = -model.slo_s * model.family_mean_isolated_s;
  }
  std::map<std::string, std::uint32_t> model_index;
  for (std::uint32_t i = 0; i < s.models.size(); ++i) model_index[s.models[i].name] = i;

  ParamReader a = r.child("arrival");
  s.arrival = a.choice("process", {"poisson", "trace"}, "poisson");
  if (s.arrival == "trace") {
    const std::string trace = resolve(dir, a.string("file"));
    try {
      CsvLines csv(trace, {"arrival_s", "model", "priority", "sample"}, 0);
      std::vector<std::string> f;
      while (csv.next(f)) {
        MultiDnnRequest q;
        q.arrival_s = csv.number(f[0], "arrival_s");
        if (q.arrival_s < 0 || q.arrival_s > 1e9)
          throw csv.error("arrival_s must be in [0, 1e9] s");
        if (!s.requests.empty() && q.arrival_s < s.requests.back().arrival_s)
          throw csv.error("arrival times must not decrease");
        const auto it = model_index.find(f[1]);
        if (it == model_index.end())
          throw csv.error("no model '" + printable(f[1]) + "' in the scenario");
        q.model = it->second;
        // PREMA's thresholds and tokens start from priorities of at least 1.
        q.priority = csv.integer(f[2], "priority", 1, 1'000'000);
        const std::int64_t id = csv.integer(f[3], "sample", 0, 1'000'000'000);
        const auto& ids = s.models[q.model].sample_ids;
        const auto at = std::find(ids.begin(), ids.end(), id);
        if (at == ids.end()) throw csv.error(fmt::format("model '{}' has no sample {}", f[1], id));
        q.sample = static_cast<std::uint32_t>(at - ids.begin());
        if (s.requests.size() >= 100'000'000) throw csv.error("more than 1e8 requests");
        s.requests.push_back(q);
      }
      if (s.requests.empty()) throw InputError(trace + ": holds no request");
    } catch (const InputError& e) {
      throw a.error("file", e.what());
    }
    a.finish();
    if (r.has("requests")) throw r.error("requests", "a trace gives its own requests");
    if (r.has("priorities")) throw r.error("priorities", "a trace gives its own priorities");
  } else {
    s.rate_per_s = a.positive("rate_per_s");
    if (s.rate_per_s > 1e12)
      throw a.error("rate_per_s", "must be at most 1e12 requests per second");
    a.finish();
  }
  s.policy = r.string("policy", "dysta");
  if (!multi_dnn_policies().contains(s.policy)) {
    std::string known;
    for (const auto& [n, d] : multi_dnn_policies().list()) known += (known.empty() ? "" : ", ") + n;
    throw r.error("policy", "unknown multi-DNN policy '" + s.policy + "' (known: " + known + ")");
  }
  s.alpha = r.non_negative("alpha", 1.0);
  s.beta = r.non_negative("beta", 0.01);
  s.seed = static_cast<std::uint64_t>(r.non_negative_integer("seed", 1));
  if (s.arrival == "poisson") {
    const std::int64_t n = r.positive_integer("requests");
    if (n > 100'000'000) throw r.error("requests", "must be at most 1e8");
    std::vector<std::int64_t> priorities = {1, 3, 9};  // PREMA's levels, as the artefact
    if (r.has("priorities")) {
      const std::size_t k = r.array_size("priorities");
      if (k == 0) throw r.error("priorities", "lists no priority");
      priorities.clear();
      for (std::size_t i = 0; i < k; ++i) {
        const auto& v = doc.at("priorities").at(i);
        if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
            v.get<std::int64_t>() > 1'000'000)
          throw InputError(json_location(file, "/priorities/" + std::to_string(i)) +
                           "expected an integer priority in [1, 1e6]");
        priorities.push_back(v.get<std::int64_t>());
      }
    }
    // The artefact's draw order per request: gap, model, priority, sample.
    Rng rng(s.seed);
    double t = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      t += -std::log1p(-rng.uniform()) / s.rate_per_s;
      MultiDnnRequest q;
      q.arrival_s = t;
      q.model = static_cast<std::uint32_t>(draw_index(rng, s.models.size()));
      q.priority = priorities[draw_index(rng, priorities.size())];
      q.sample = static_cast<std::uint32_t>(draw_index(rng, s.models[q.model].sample_ids.size()));
      s.requests.push_back(q);
    }
  }
  r.finish();
  return s;
}

MultiDnnScenario load_multi_dnn_scenario(const std::string& path,
                                         const std::vector<std::string>& overrides) {
  return read_multi_dnn_scenario(read_scenario_json(path, overrides), path,
                                 std::filesystem::path(path).parent_path().string());
}

std::string latency_tables_csv(const MultiDnnScenario& s) {
  std::string out = "model,sample,layer,latency_s,sparsity\n";
  for (const auto& m : s.models)
    for (std::size_t i = 0; i < m.latency_s.size(); ++i)
      for (std::size_t l = 0; l < m.latency_s[i].size(); ++l)
        out += fmt::format("{},{},{},{},{}\n", m.name, m.sample_ids[i], l, m.latency_s[i][l],
                           m.sparsity[i][l]);
  return out;
}

namespace {

// Python's sum() of a list is left to right from 0; the artefact sums the remaining layers'
// latencies at every decision, so suffix[k] is computed the same way for every k.
std::vector<double> suffix_sums(const std::vector<double>& v) {
  std::vector<double> out(v.size() + 1, 0.0);
  for (std::size_t k = 0; k < v.size(); ++k) {
    double s = 0;
    for (std::size_t l = k; l < v.size(); ++l) s += v[l];
    out[k] = s;
  }
  return out;
}

struct Task {
  std::uint32_t request = 0;
  std::size_t layer = 0;  // the next layer to run
  double arrival_s = 0, target_s = 0, last_exe_s = 0;
  double priority = 1;
  const std::vector<double>* est = nullptr;        // estimate suffix sums (family or own averages)
  const std::vector<double>* est_layer = nullptr;  // the estimates per layer
  const std::vector<double>* real = nullptr;       // this sample's latency suffix sums
  double est_isolated_s = 0, real_isolated_s = 0;
  double gamma = 1.0, ratio_sum = 0;
  std::int64_t measured = 0;
  double prema_token = -1;
};

MultiDnnStats stats_of(const std::string& name,
                       const std::vector<const MultiDnnReport::Request*>& rs) {
  MultiDnnStats s;
  s.name = name;
  s.requests = static_cast<std::int64_t>(rs.size());
  if (rs.empty()) return s;
  // The artefact's throughput runs from the first arrival to the last finish.
  double ntt = 0, lat = 0, first = rs.front()->arrival_s, last = 0;
  std::vector<double> lats;
  for (const auto* q : rs) {
    if (q->finish_s > q->deadline_s) ++s.violations;
    ntt += (q->finish_s - q->arrival_s) / q->isolated_s;
    lat += q->finish_s - q->arrival_s;
    lats.push_back(q->finish_s - q->arrival_s);
    first = std::min(first, q->arrival_s);
    last = std::max(last, q->finish_s);
  }
  const auto n = static_cast<double>(rs.size());
  s.violation_rate = static_cast<double>(s.violations) / n;
  s.antt = ntt / n;
  s.stp = n / (last - first);
  s.mean_latency_s = lat / n;
  std::sort(lats.begin(), lats.end());
  s.p99_latency_s = percentile(lats, 0.99);
  return s;
}

}  // namespace

MultiDnnReport run_multi_dnn(const MultiDnnScenario& sc, const std::string& policy_name) {
  const auto wall0 = std::chrono::steady_clock::now();
  const std::string name = policy_name.empty() ? sc.policy : policy_name;
  const MultiDnnPolicy& pol = multi_dnn_policies().get(name);
  MultiDnnReport rep;
  rep.scenario = sc.name;
  rep.file = sc.file;
  rep.policy = name;
  rep.seed = sc.seed;
  rep.resolved = sc.resolved;

  // Suffix sums: estimates per model, real latencies per (model, sample) on first use.
  std::vector<std::vector<double>> est_sfx(sc.models.size());
  std::vector<std::vector<std::vector<double>>> real_sfx(sc.models.size());
  for (std::size_t m = 0; m < sc.models.size(); ++m) {
    const auto& mod = sc.models[m];
    est_sfx[m] = suffix_sums(pol.pattern_aware ? mod.avg_latency_s : mod.family_avg_latency_s);
    real_sfx[m].resize(mod.sample_ids.size());
  }

  const auto& reqs = sc.requests;
  const std::size_t n = reqs.size();
  rep.requests.resize(n);
  std::vector<Task> active;  // in admission order (the artefact's dict order)
  double sys = 0;
  std::size_t cur = 0, done = 0;
  std::uint32_t last_run = std::numeric_limits<std::uint32_t>::max();

  const auto admit = [&](std::size_t i) {
    const MultiDnnRequest& q = reqs[i];
    const auto& mod = sc.models[q.model];
    auto& rs = real_sfx[q.model][q.sample];
    if (rs.empty()) rs = suffix_sums(mod.latency_s[q.sample]);
    Task t;
    t.request = static_cast<std::uint32_t>(i);
    t.arrival_s = q.arrival_s;
    t.target_s = q.arrival_s + mod.slo_s;
    t.last_exe_s = q.arrival_s;
    t.priority = static_cast<double>(q.priority);
    t.est = &est_sfx[q.model];
    t.est_layer = pol.pattern_aware ? &mod.avg_latency_s : &mod.family_avg_latency_s;
    t.real = &rs;
    t.est_isolated_s = (*t.est)[0];
    t.real_isolated_s = rs[0];
    active.push_back(t);
  };

  // The request to run next, as each of the artefact's update_schedule() picks it.
  const auto pick = [&]() -> std::size_t {
    const std::size_t k = active.size();
    const auto est_left = [&](const Task& t) {
      return pol.sparse ? t.gamma * (*t.est)[t.layer] : (*t.est)[t.layer];
    };
    std::size_t best = 0;
    switch (pol.rule) {
      case MultiDnnRule::fcfs: {
        double earliest = -1;
        for (std::size_t i = 0; i < k; ++i)
          if (earliest < 0 || earliest > active[i].arrival_s) {
            best = i;
            earliest = active[i].arrival_s;
          }
        return best;
      }
      case MultiDnnRule::sjf: {
        double shortest = 0;
        for (std::size_t i = 0; i < k; ++i) {
          const double e = est_left(active[i]);
          if (i == 0 || shortest > e) {
            best = i;
            shortest = e;
          }
        }
        return best;
      }
      case MultiDnnRule::prema: {
        double max_token = 0;
        for (auto& t : active) {
          if (t.prema_token < 0) {
            t.prema_token = t.priority;  // a new task's token is its priority (not compared)
          } else {
            // The idle time since its last layer, added again at every decision.
            const double idle = sys - t.last_exe_s;
            const double slowdown =
                pol.sparse ? idle / (t.gamma * t.est_isolated_s) : idle / t.est_isolated_s;
            t.prema_token += t.priority * slowdown;
            if (max_token < t.prema_token) max_token = t.prema_token;
          }
        }
        const double threshold = max_token >= 9 ? 9 : max_token >= 3 ? 3 : 1;
        // The artefact scales every candidate's estimate by the gamma of the last task in its
        // loop (a stale loop variable), not the candidate's own.
        const double gamma_last = active.back().gamma;
        bool any = false;
        double shortest = 0;
        for (std::size_t i = 0; i < k; ++i) {
          if (!(active[i].prema_token >= threshold)) continue;
          const double sum = (*active[i].est)[active[i].layer];
          const double e = pol.sparse ? gamma_last * sum : sum;
          if (!any || shortest > e) {
            best = i;
            shortest = e;
            any = true;
          }
        }
        return best;
      }
      case MultiDnnRule::planaria:
      case MultiDnnRule::sdrm3: {
        double max_score = -1;
        bool any = false;
        for (std::size_t i = 0; i < k; ++i) {
          const Task& t = active[i];
          const double slack = t.target_s - sys;
          double score = 0;
          if (pol.rule == MultiDnnRule::planaria) {
            score = t.priority / slack;
          } else {
            double urgency = est_left(t) / slack;
            urgency = urgency > 1 ? 1 : urgency;
            const double idle = sys - t.last_exe_s;
            const double next = (*t.est_layer)[t.layer];
            const double fairness = pol.sparse ? idle / (t.gamma * next) : idle / next;
            score = urgency + sc.alpha * fairness;
          }
          // Ties go to the earlier arrival; a negative best is replaced by any later task.
          if (max_score < 0 || max_score <= score) {
            if (any && max_score == score && active[best].arrival_s < t.arrival_s) continue;
            best = i;
            max_score = score;
            any = true;
          }
        }
        return best;
      }
      case MultiDnnRule::dysta:
      case MultiDnnRule::dysta_oracle: {
        const bool oracle = pol.rule == MultiDnnRule::dysta_oracle;
        double shortest = 0;
        for (std::size_t i = 0; i < k; ++i) {
          const Task& t = active[i];
          const double torun = oracle ? (*t.real)[t.layer] : est_left(t);
          double urgency = (t.target_s - sys) - torun;
          if (urgency < 0) urgency = 0;
          double penalty = (sys - t.last_exe_s) / (oracle ? t.real_isolated_s : t.est_isolated_s);
          penalty /= static_cast<double>(k);
          const double e = torun + sc.beta * (urgency + penalty);
          if (i == 0 || shortest > e) {
            best = i;
            shortest = e;
          }
        }
        return best;
      }
    }
    return best;
  };

  while (done < n) {
    // The artefact's update_reqst(): with nothing running, the next request alone is admitted
    // and the clock set to its arrival (even back in time, when it arrived during the last
    // layer that ran); otherwise every request that arrived strictly before the clock.
    if (cur < n) {
      if (active.empty()) {
        admit(cur);
        sys = reqs[cur].arrival_s;
        ++cur;
      } else {
        while (cur < n && reqs[cur].arrival_s < sys) admit(cur++);
      }
    }
    const std::size_t i = pick();
    ++rep.decisions;
    Task& t = active[i];
    if (t.request != last_run) ++rep.switches;
    last_run = t.request;
    const MultiDnnRequest& q = reqs[t.request];
    const auto& mod = sc.models[q.model];
    sys += mod.latency_s[q.sample][t.layer];
    if (pol.monitor) {
      t.ratio_sum += (1 - mod.sparsity[q.sample][t.layer]) / (1 - mod.avg_sparsity[t.layer]);
      ++t.measured;
      t.gamma = t.ratio_sum / static_cast<double>(t.measured);
    }
    ++t.layer;
    t.last_exe_s = sys;
    if (t.layer == mod.layers()) {
      auto& out = rep.requests[t.request];
      out.model = q.model;
      out.sample = q.sample;
      out.priority = q.priority;
      out.arrival_s = q.arrival_s;
      out.finish_s = sys;
      out.deadline_s = t.target_s;
      out.isolated_s = t.real_isolated_s;
      active.erase(active.begin() + static_cast<std::ptrdiff_t>(i));
      ++done;
    }
  }

  std::vector<const MultiDnnReport::Request*> all;
  std::vector<std::vector<const MultiDnnReport::Request*>> per(sc.models.size());
  for (const auto& q : rep.requests) {
    all.push_back(&q);
    per[q.model].push_back(&q);
  }
  rep.summary = stats_of("all", all);
  for (std::size_t m = 0; m < sc.models.size(); ++m)
    rep.models.push_back(stats_of(sc.models[m].name, per[m]));
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return rep;
}

nlohmann::json to_json(const MultiDnnReport& r, bool requests) {
  const auto stats = [](const MultiDnnStats& s) {
    return nlohmann::json{{"name", s.name},
                          {"requests", s.requests},
                          {"violations", s.violations},
                          {"violation_rate", s.violation_rate},
                          {"antt", s.antt},
                          {"stp", s.stp},
                          {"mean_latency_s", s.mean_latency_s},
                          {"p99_latency_s", s.p99_latency_s}};
  };
  nlohmann::json doc = {{"format", "tessera.multi_dnn_report"},
                        {"scenario", r.scenario},
                        {"file", r.file},
                        {"policy", r.policy},
                        {"seed", r.seed},
                        {"summary", stats(r.summary)},
                        {"models", nlohmann::json::array()},
                        {"decisions", r.decisions},
                        {"switches", r.switches},
                        {"wall_s", r.wall_s},
                        {"resolved", r.resolved}};
  for (const auto& m : r.models) doc["models"].push_back(stats(m));
  if (requests) {
    doc["requests"] = nlohmann::json::array();
    for (const auto& q : r.requests)
      doc["requests"].push_back({{"model", q.model},
                                 {"sample", q.sample},
                                 {"priority", q.priority},
                                 {"arrival_s", q.arrival_s},
                                 {"finish_s", q.finish_s},
                                 {"deadline_s", q.deadline_s},
                                 {"isolated_s", q.isolated_s}});
  }
  return doc;
}

std::string format_table(const MultiDnnReport& r) {
  std::string out = fmt::format("{} ({}), policy {}: {} decisions, {} switches\n", r.scenario,
                                r.file, r.policy, r.decisions, r.switches);
  out += fmt::format("  {:<28} {:>9} {:>10} {:>10} {:>10} {:>12}\n", "model", "requests",
                     "violation", "antt", "stp/s", "mean lat s");
  const auto row = [&](const MultiDnnStats& s) {
    out += fmt::format("  {:<28} {:>9} {:>10.4f} {:>10.4f} {:>10.3f} {:>12.6g}\n",
                       s.name.substr(0, 28), s.requests, s.violation_rate, s.antt, s.stp,
                       s.mean_latency_s);
  };
  for (const auto& m : r.models) row(m);
  row(r.summary);
  return out;
}

}  // namespace tessera::serving
