#include "serving/xr_run.hpp"
#include "serving/csv_lines.hpp"
#include "serving/scenario_file.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/params.hpp"
#include "sim/simulate.hpp"

namespace tessera::serving::xr {

Unit make_unit(const SubAccelerator& hw, Dataflow df, const std::string& where) {
  Unit u;
  u.name = hw.name;
  u.dataflow = df;
  u.hardware = hw;
  arch::ArchDocument doc;
  doc.file = where;
  doc.json = arch_json(hw, df);
  u.arch = arch::build_arch(doc);
  return u;
}

namespace {

// The real-time score falls below 1 % once a frame is ln(99)/k late.
double hopeless_ms(const ScoreParams& p) { return std::log(99.0) / p.k_per_ms; }

}  // namespace

namespace {

// Every (model, unit) of the scenario from a per-layer cost table: each layer of the model once,
// in order and by name; cycles at the unit's clock, energy in pJ.
void read_layer_costs(XrScenario& s, const std::string& file) {
  CsvLines csv(file, {"model", "unit", "dataflow", "layer", "name", "cycles", "energy_pj"}, 0);
  std::map<std::pair<std::string, std::string>, std::size_t> next;  // layers read so far
  for (const Model& m : s.usage.models)
    for (const Unit& u : s.units) next[{m.name, u.name}] = 0;
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> sums;  // cycles, pJ
  std::vector<std::string> f;
  while (csv.next(f)) {
    const auto it = next.find({f[0], f[1]});
    if (it == next.end()) continue;  // a model or unit the scenario does not have
    const Model& m = *std::find_if(s.usage.models.begin(), s.usage.models.end(),
                                   [&](const Model& x) { return x.name == f[0]; });
    const Unit& u = *std::find_if(s.units.begin(), s.units.end(),
                                  [&](const Unit& x) { return x.name == f[1]; });
    if (f[2] != to_string(u.dataflow))
      throw csv.error("unit '" + printable(f[1]) + "' is " + to_string(u.dataflow) + " here, not '" +
                      printable(f[2]) + "'");
    const std::size_t layer = static_cast<std::size_t>(csv.integer(f[3], "layer", 0, 99'999));
    if (layer != it->second || layer >= m.layers.size() || f[4] != m.layers[layer].name)
      throw csv.error(fmt::format("expected layer {} of model '{}' ({}), got layer {} '{}'", it->second,
                                  m.name, it->second < m.layers.size() ? m.layers[it->second].name : "none",
                                  layer, printable(f[4])));
    const double cycles = csv.number(f[5], "cycles"), pj = csv.number(f[6], "energy_pj");
    if (cycles < 0 || cycles > 1e15 || pj < 0 || pj > 1e18)
      throw csv.error("cycles must be in [0, 1e15] and energy_pj in [0, 1e18]");
    auto& c = sums[{m.name, u.name}];  // summed as CostCache sums, then converted
    c.first += cycles;
    c.second += pj;
    ++it->second;
  }
  for (const auto& entry : next) {
    const auto& key = entry.first;  // not a structured binding: lambdas below capture it
    const std::size_t n = entry.second;
    const Model& m = *std::find_if(s.usage.models.begin(), s.usage.models.end(),
                                   [&](const Model& x) { return x.name == key.first; });
    if (n != m.layers.size())
      throw InputError(fmt::format("{}: model '{}' on unit '{}' has {} of its {} layers", file,
                                   key.first, key.second, n, m.layers.size()));
    const Unit& u = *std::find_if(s.units.begin(), s.units.end(),
                                  [&](const Unit& x) { return x.name == key.second; });
    const auto [cycles, pj] = sums[key];
    s.given_costs[key] = {cycles / u.arch.engine->clock_hz(), pj * 1e-9};
  }
}

}  // namespace

bool is_xr_scenario(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("format") && doc["format"] == "tessera.xr_scenario";
}

XrScenario read_xr_scenario(const nlohmann::json& given, const std::string& file, const std::string& dir) {
  // A top-level key set to null is absent, so `--set hardware=null` can switch a scenario to
  // `sub_accelerators`.
  nlohmann::json doc = given;
  if (doc.is_object())
    for (auto it = doc.begin(); it != doc.end();) it = it->is_null() ? doc.erase(it) : std::next(it);
  ParamReader r(doc, file);
  XrScenario s;
  s.file = file;
  s.resolved = doc;
  if (r.string("format") != "tessera.xr_scenario")
    throw r.error("format", "expected \"tessera.xr_scenario\"");
  s.usage = load_usage_scenario(resolve(dir, r.string("usage_scenario")));
  s.name = r.string("name", s.usage.name);
  if (r.has("hardware") == r.has("sub_accelerators"))
    throw r.error("", "give exactly one of 'hardware' (an XRBench hardware file) and "
                      "'sub_accelerators' (a list)");
  if (r.has("hardware")) {
    const HardwareConfig hw = load_hardware_config(resolve(dir, r.string("hardware")));
    std::vector<Dataflow> dfs;
    if (r.is_string("dataflows")) {
      dfs = load_dataflow_file(resolve(dir, r.string("dataflows")));
    } else if (r.has("dataflows")) {
      for (const std::string& d : r.strings("dataflows"))
        dfs.push_back(parse_dataflow(d, json_location(file, r.path_of("dataflows"))));
    } else {
      dfs.assign(1, Dataflow::ws);
    }
    if (dfs.size() == 1) dfs.resize(hw.units.size(), dfs.front());
    if (dfs.size() != hw.units.size())
      throw r.error("dataflows", std::to_string(dfs.size()) + " dataflows for " +
                                     std::to_string(hw.units.size()) + " sub-accelerators of " +
                                     hw.file);
    for (std::size_t i = 0; i < hw.units.size(); ++i)
      s.units.push_back(make_unit(hw.units[i], dfs[i], hw.file + ":" + std::to_string(hw.units[i].line)));
  } else {
    const std::size_t n = r.array_size("sub_accelerators");
    if (n == 0 || n > 64) throw r.error("sub_accelerators", "expected 1 to 64 sub-accelerators");
    for (std::size_t i = 0; i < n; ++i) {
      ParamReader u = r.item("sub_accelerators", i);
      SubAccelerator hw;
      hw.name = u.string("name", "acc" + std::to_string(i));
      hw.num_pes = u.positive_integer("num_pes");
      if (hw.num_pes > (std::int64_t{1} << 20)) throw u.error("num_pes", "at most 2^20");
      hw.offchip_bw = u.positive("offchip_bw", 128);
      if (hw.offchip_bw > 1e9) throw u.error("offchip_bw", "at most 1e9");
      hw.global_shared_memory =
          static_cast<std::int64_t>(u.size_bytes("global_shared_memory", "2 MiB"));
      hw.noc_bw = hw.offchip_bw;
      const Dataflow df = parse_dataflow(u.string("dataflow", "WS"),
                                         json_location(file, u.path_of("dataflow")));
      u.finish();
      s.units.push_back(make_unit(hw, df, file + ": " + r.path_of("sub_accelerators") + "/" + std::to_string(i)));
    }
  }
  s.policy = r.string("policy", s.policy);
  if (!policies().contains(s.policy))
    throw r.error("policy", "unknown XR policy '" + printable(s.policy) + "' (known: fcfs, edf, dream)");
  s.duration_s = r.positive("duration_s", s.duration_s);
  if (s.duration_s > 3600) throw r.error("duration_s", "at most 3600 s");
  s.integer_ms_interval = r.boolean("integer_ms_interval", false);
  s.runtime = r.choice("runtime", {"tessera", "xrbench"}, "tessera");
  s.seed = static_cast<std::uint64_t>(r.non_negative_integer("seed", 1));
  s.fidelity = r.choice("fidelity", {"analytical", "systemc"}, "analytical");
  if (auto sc = r.optional_child("score")) {
    s.score.k_per_ms = sc->positive("k_per_ms", s.score.k_per_ms);
    s.score.max_energy_mj = sc->positive("max_energy_mj", s.score.max_energy_mj);
    s.score.single_precision = sc->boolean("single_precision", false);
    sc->finish();
  }
  if (r.has("layer_costs")) read_layer_costs(s, resolve(dir, r.string("layer_costs")));
  r.finish();
  // A run injects at most 10^7 frames, so that a mistyped duration cannot exhaust memory.
  double frames = 0;
  for (const Model& m : s.usage.models) frames += s.duration_s * m.fps;
  if (frames > 1e7)
    throw r.error("duration_s", fmt::format("{:.0f} frames to inject; at most 10^7", frames));
  return s;
}

XrScenario load_xr_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  return read_xr_scenario(read_scenario_json(path, overrides), path,
                          std::filesystem::path(path).parent_path().string());
}

Registry<Policy>& policies() {
  static Registry<Policy> r = [] {
    Registry<Policy> reg("XR policy");
    reg.add("fcfs", "XR: the frame that became ready first",
            {[](const FrameView& f) { return -f.ready_s; }, false});
    reg.add("edf", "XR: the earliest deadline",
            {[](const FrameView& f) { return -f.deadline_s; }, false});
    // Urgency: the work the frame and its expected cascade need over the time left to its
    // deadline; fairness: models that have lost frames come forward. A frame that cannot make
    // its deadline yields to frames that still can (it is dropped).
    reg.add("dream", "XR: DREAM-style urgency and fairness scores, dropping hopeless frames",
            {[](const FrameView& f) {
               const double left = std::max(f.deadline_s - f.now_s, 1e-9);
               return (f.latency_s + f.cascade_s) / left + f.drop_rate;
             },
             true});
    return reg;
  }();
  return r;
}

namespace {

// The model's layers on the unit's engine, one result per layer.
std::vector<sim::LayerResult> time_layers(const Model& model, const std::string& file,
                                          const Unit& unit, const std::string& fidelity) {
  const workloads::Graph g = to_graph(model, file);
  try {
    return sim::simulate(*unit.arch.engine, g, fidelity);
  } catch (const InputError& e) {
    throw InputError(file + ":" + std::to_string(model.line) + ": model '" + model.name +
                     "' on '" + unit.name + "': " + e.what());
  }
}

}  // namespace

std::pair<double, double> CostCache::get(const Model& model, const std::string& file,
                                         const Unit& unit, const std::string& fidelity) {
  std::ostringstream key;
  key << unit.arch.hash << '|' << fidelity << '|';
  for (const Layer& l : model.layers)
    key << l.n << ',' << l.k << ',' << l.c << ',' << l.y << ',' << l.x << ',' << l.r << ',' << l.s << ';';
  const std::string k = key.str();
  if (const auto it = costs_.find(k); it != costs_.end()) return it->second;
  double cycles = 0, energy_pj = 0;
  for (const auto& l : time_layers(model, file, unit, fidelity)) {
    cycles += static_cast<double>(l.timing.cycles);
    energy_pj += l.energy_pj;
  }
  const std::pair<double, double> c{cycles / unit.arch.engine->clock_hz(), energy_pj * 1e-9};
  costs_.emplace(k, c);
  ++computed_;
  return c;
}

std::string layer_costs_csv(const XrScenario& sc) {
  std::ostringstream out;
  out << "model,unit,dataflow,layer,name,cycles,energy_pj\n";
  out.precision(17);
  for (const Model& m : sc.usage.models)
    for (const Unit& u : sc.units) {
      const auto results = time_layers(m, sc.usage.file, u, sc.fidelity);
      for (std::size_t i = 0; i < results.size(); ++i)
        out << m.name << ',' << u.name << ',' << to_string(u.dataflow) << ',' << i << ','
            << m.layers[i].name << ',' << results[i].timing.cycles << ',' << results[i].energy_pj
            << '\n';
    }
  return out.str();
}

namespace {

// XRBench's own runtime (its artefact's lib/include/heterogeneous-space-exploration/
// HET_runtime.hpp, HET_timer.hpp, HET_load-generator.hpp at commit 8915666), rule for rule, in
// its single-precision times (ms): events are the ticks of the fastest model's whole-ms
// interval and the completions (a process counts as finished 0.01 ms before its end); at each
// event each model injects at most one frame whose nominal time has come (injection = the
// event, deadline = nominal, frames floor(run / interval)); requests queue per model and are
// served in the models' alphabetical order, each queue's front only, when its parent model has
// completed as many inferences as the frame's number; a queue's front past its deadline is
// dropped (its cascaded frames are not: the artefact's check never matches); the idle unit with
// the least latency takes it. The loop ends at the event after the last frame is injected:
// frames still queued or running then are not logged.
void xrbench_runtime(const XrScenario& sc, XrReport& rep) {
  const auto& models = sc.usage.models;
  const std::size_t M = models.size(), U = sc.units.size();
  std::vector<int> interval(M), frames(M), injected(M, -1), completed(M, -1), base(M);
  int base_fps = 1;
  for (std::size_t m = 0; m < M; ++m) {
    const int fps = std::max(1, static_cast<int>(models[m].fps));
    interval[m] = std::max(1, 1000 / fps);
    frames[m] = static_cast<int>(std::floor(static_cast<float>(sc.duration_s * 1000) / static_cast<float>(interval[m])));
    base_fps = std::max(base_fps, fps);
  }
  const float tick = static_cast<float>(std::max(1, 1000 / base_fps));  // above 1000 FPS: 1 ms
  std::vector<std::size_t> alphabetical(M);
  for (std::size_t m = 0; m < M; ++m) alphabetical[m] = m;
  std::sort(alphabetical.begin(), alphabetical.end(),
            [&](std::size_t a, std::size_t b) { return models[a].name < models[b].name; });
  std::vector<int> parent(M, -1);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t p = 0; p < M; ++p)
      if (models[m].dependency == models[p].name) parent[m] = static_cast<int>(p);
  struct Request {
    int frame = 0;
    float inject = 0, deadline = 0;
  };
  struct Process {
    bool busy = false;
    std::size_t model = 0;
    Request req;
    float dispatch = 0, done = 0;
    double energy = 0;
  };
  std::vector<std::deque<Request>> queue(M);
  std::vector<Process> active(U);
  std::mt19937_64 rng(sc.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto remaining = [&] {
    for (std::size_t m = 0; m < M; ++m)
      if (injected[m] < frames[m] - 1) return true;
    return false;
  };
  float now = 0;
  int base_frame = 0;
  while (remaining()) {
    for (std::size_t m = 0; m < M; ++m)
      if (static_cast<float>(interval[m] * (injected[m] + 1)) <= now && injected[m] != frames[m] - 1) {
        const float deadline = static_cast<float>(interval[m] * (injected[m] + 2));
        ++injected[m];
        if (uniform(rng) < models[m].probability)
          queue[m].push_back({injected[m], now, deadline});
        else
          ++rep.skipped;
      }
    for (std::size_t u = 0; u < U; ++u) {
      Process& p = active[u];
      if (!p.busy || now + 1e-2f < p.done) continue;
      rep.log.push_back({models[p.model].name, p.req.frame, static_cast<int>(u), p.req.inject, p.dispatch,
                         p.req.deadline, p.done, p.energy, false});
      rep.units[u].busy_s += rep.costs[p.model][u].first;
      ++rep.units[u].inferences;
      rep.span_s = std::max(rep.span_s, static_cast<double>(p.done) * 1e-3);
      ++completed[p.model];
      p.busy = false;
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t m : alphabetical)
        if (!queue[m].empty() && queue[m].front().deadline < now) {
          const Request& r = queue[m].front();
          rep.log.push_back({models[m].name, r.frame, -1, r.inject, now, r.deadline, now, 0.0, true});
          queue[m].pop_front();
          changed = true;
        }
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t m : alphabetical) {
        if (queue[m].empty()) continue;
        const Request r = queue[m].front();
        if (r.inject > now) continue;
        if (parent[m] >= 0 && completed[static_cast<std::size_t>(parent[m])] < r.frame) continue;
        int best = -1;
        std::int64_t best_cycles = 0;
        for (std::size_t u = 0; u < U; ++u) {
          if (active[u].busy) continue;
          const auto cycles = std::llround(rep.costs[m][u].first * sc.units[u].arch.engine->clock_hz());
          if (best < 0 || cycles < best_cycles) {
            best = static_cast<int>(u);
            best_cycles = cycles;
          }
        }
        if (best < 0) continue;
        Process& p = active[static_cast<std::size_t>(best)];
        // XRBench logs the energy in single precision.
        const float energy = static_cast<float>(rep.costs[m][static_cast<std::size_t>(best)].second);
        p = {true, m, r, now, now + static_cast<float>(best_cycles) / 1000000, energy};
        queue[m].pop_front();
        changed = true;
      }
    }
    float next = static_cast<float>(base_frame + 1) * tick;
    const float at_tick = next;
    for (const Process& p : active)
      if (p.busy) next = std::min(next, p.done);
    if (next == at_tick) ++base_frame;
    now = next;
  }
}

}  // namespace

XrReport run(const XrScenario& sc, const RunOptions& options) {
  const auto wall0 = std::chrono::steady_clock::now();
  const Policy& policy = policies().get(options.policy.empty() ? sc.policy : options.policy);
  CostCache own;
  CostCache& cache = options.costs ? *options.costs : own;
  const auto& models = sc.usage.models;
  const std::size_t M = models.size(), U = sc.units.size();

  XrReport rep;
  rep.scenario = sc.name;
  rep.policy = options.policy.empty() ? sc.policy : options.policy;
  for (const Model& m : models) rep.models.push_back(m.name);
  rep.costs.assign(M, {});
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t u = 0; u < U; ++u)
      if (const auto it = sc.given_costs.find({models[m].name, sc.units[u].name}); it != sc.given_costs.end())
        rep.costs[m].push_back(it->second);
      else
        rep.costs[m].push_back(cache.get(models[m], sc.usage.file, sc.units[u], sc.fidelity));
  for (const Unit& u : sc.units)
    rep.units.push_back({u.name, to_string(u.dataflow), u.hardware.num_pes, 0.0, 0});
  if (sc.runtime == "xrbench") {
    xrbench_runtime(sc, rep);
    rep.score = score(rep.log, rep.models, sc.score);
    rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    return rep;
  }

  // Cascades: parent index and children per model.
  std::vector<int> parent(M, -1);
  std::vector<std::vector<std::size_t>> children(M);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t p = 0; p < M; ++p)
      if (models[m].dependency == models[p].name) {
        parent[m] = static_cast<int>(p);
        children[p].push_back(m);
      }
  std::vector<double> fastest(M, std::numeric_limits<double>::infinity());
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t u = 0; u < U; ++u) fastest[m] = std::min(fastest[m], rep.costs[m][u].first);
  // Expected work a frame of m brings after it: each child's probability times its time and
  // its own cascade. Cascades are acyclic (checked by the reader).
  std::vector<double> cascade(M, -1);
  std::function<double(std::size_t)> cascade_of = [&](std::size_t m) {
    if (cascade[m] >= 0) return cascade[m];
    double w = 0;
    for (std::size_t c : children[m]) w += models[c].probability * (fastest[c] + cascade_of(c));
    return cascade[m] = w;
  };

  // Frames: period per model, count of injections before duration_s.
  enum class State { absent, waiting, running, done, dropped };
  struct Frame {
    State state = State::absent;
    double inject_s = 0, deadline_s = 0, ready_s = 0;
    bool parent_done = false;
  };
  std::vector<double> period(M);
  std::vector<std::vector<Frame>> frames(M);
  for (std::size_t m = 0; m < M; ++m) {
    period[m] = sc.integer_ms_interval ? std::floor(1000.0 / models[m].fps) * 1e-3 : 1.0 / models[m].fps;
    if (period[m] <= 0) period[m] = 1e-3;  // above 1000 FPS whole ms round to 0: one per ms
    std::size_t n = 0;
    while (static_cast<double>(n) * period[m] < sc.duration_s) ++n;
    frames[m].resize(n);
  }
  // Requests: one draw per frame of every model, frame by frame, so a seed fixes them all.
  std::mt19937_64 rng(sc.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::size_t most = 0;
  for (const auto& f : frames) most = std::max(most, f.size());
  std::vector<std::vector<bool>> requested(M);
  for (std::size_t m = 0; m < M; ++m) requested[m].assign(frames[m].size(), false);
  for (std::size_t i = 0; i < most; ++i)
    for (std::size_t m = 0; m < M; ++m) {
      if (i >= frames[m].size()) continue;
      const double u = uniform(rng);
      requested[m][i] = u < models[m].probability;
    }
  // A cascaded frame needs its parent's frame: without it there is nothing to run on.
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t i = 0; i < frames[m].size(); ++i)
      for (int p = parent[m]; p >= 0 && requested[m][i]; p = parent[static_cast<std::size_t>(p)])
        if (i >= requested[static_cast<std::size_t>(p)].size() || !requested[static_cast<std::size_t>(p)][i])
          requested[m][i] = false;

  std::vector<std::int64_t> decided(M, 0), dropped(M, 0);
  std::vector<std::size_t> next_inject(M, 0);
  // Frames before lo[m] are decided or running: the scans start there.
  std::vector<std::size_t> lo(M, 0);
  struct Running {
    bool busy = false;
    std::size_t model = 0, frame = 0;
    double start_s = 0, end_s = 0;
  };
  std::vector<Running> running(U);
  std::int64_t open = 0;  // frames requested and not yet decided
  for (std::size_t m = 0; m < M; ++m)
    for (bool q : requested[m]) open += q ? 1 : 0;
  for (std::size_t m = 0; m < M; ++m)
    for (bool q : requested[m]) rep.skipped += q ? 0 : 1;

  const auto log_drop = [&](std::size_t m, std::size_t i, double now) {
    Frame& f = frames[m][i];
    f.state = State::dropped;
    ++decided[m];
    ++dropped[m];
    --open;
    rep.log.push_back({models[m].name, static_cast<std::int64_t>(i), -1, f.inject_s * 1e3, now * 1e3,
                       f.deadline_s * 1e3, now * 1e3, 0.0, true});
  };
  // Drops a frame and every cascaded frame it feeds (their inputs never come).
  std::function<void(std::size_t, std::size_t, double)> drop = [&](std::size_t m, std::size_t i, double now) {
    log_drop(m, i, now);
    for (std::size_t c : children[m])
      if (i < frames[c].size() && requested[c][i] && frames[c][i].state != State::dropped &&
          frames[c][i].state != State::done)
        drop(c, i, now);
  };

  double now = 0;
  while (true) {
    // 1. Completions at `now`.
    for (std::size_t u = 0; u < U; ++u) {
      Running& r = running[u];
      if (!r.busy || r.end_s > now) continue;
      Frame& f = frames[r.model][r.frame];
      f.state = State::done;
      ++decided[r.model];
      --open;
      const auto [t, e] = rep.costs[r.model][u];
      rep.log.push_back({models[r.model].name, static_cast<std::int64_t>(r.frame), static_cast<int>(u),
                         f.inject_s * 1e3, r.start_s * 1e3, f.deadline_s * 1e3, r.end_s * 1e3, e, false});
      rep.units[u].busy_s += t;
      ++rep.units[u].inferences;
      rep.span_s = std::max(rep.span_s, r.end_s);
      for (std::size_t c : children[r.model])
        if (r.frame < frames[c].size()) {
          frames[c][r.frame].parent_done = true;
          frames[c][r.frame].ready_s = std::max(frames[c][r.frame].ready_s, r.end_s);
        }
      r.busy = false;
    }
    // 2. Injections at `now` (deadline: the model's next injection).
    for (std::size_t m = 0; m < M; ++m)
      while (next_inject[m] < frames[m].size() &&
             static_cast<double>(next_inject[m]) * period[m] <= now) {
        const std::size_t i = next_inject[m]++;
        Frame& f = frames[m][i];
        f.inject_s = static_cast<double>(i) * period[m];
        f.deadline_s = static_cast<double>(i + 1) * period[m];
        f.ready_s = std::max(f.ready_s, f.inject_s);
        if (requested[m][i]) f.state = State::waiting;
      }
    // 3. Frames still waiting after their deadline are dropped with their cascades.
    for (std::size_t m = 0; m < M; ++m)
      while (lo[m] < next_inject[m] && frames[m][lo[m]].state != State::waiting) ++lo[m];
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t i = lo[m]; i < next_inject[m]; ++i)
        if (frames[m][i].state == State::waiting && frames[m][i].deadline_s < now) drop(m, i, now);
    // 4. Dispatch: while a unit is idle and a frame is ready, the policy's first frame runs on
    // the fastest idle unit for it.
    while (true) {
      std::vector<std::size_t> idle;
      for (std::size_t u = 0; u < U; ++u)
        if (!running[u].busy) idle.push_back(u);
      if (idle.empty()) break;
      struct Candidate {
        FrameView view;
        std::size_t model, frame, unit;
        double priority;
      };
      std::vector<Candidate> ready;
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t i = lo[m]; i < next_inject[m]; ++i) {
          const Frame& f = frames[m][i];
          if (f.state != State::waiting || (parent[m] >= 0 && !f.parent_done)) continue;
          std::size_t best = idle.front();
          for (std::size_t u : idle)
            if (rep.costs[m][u].first < rep.costs[m][best].first) best = u;
          FrameView v;
          v.now_s = now;
          v.inject_s = f.inject_s;
          v.ready_s = f.ready_s;
          v.deadline_s = f.deadline_s;
          v.latency_s = rep.costs[m][best].first;
          v.cascade_s = cascade_of(m);
          v.drop_rate = decided[m] ? static_cast<double>(dropped[m]) / static_cast<double>(decided[m]) : 0.0;
          v.model = m;
          ready.push_back({v, m, i, best, policy.priority(v)});
        }
      if (ready.empty()) break;
      if (policy.drop_hopeless) {
        const double late = hopeless_ms(sc.score) * 1e-3;
        const auto hopeless = [&](const Candidate& c) { return now + c.view.latency_s > c.view.deadline_s + late; };
        const bool others = std::any_of(ready.begin(), ready.end(), [&](const Candidate& c) { return !hopeless(c); });
        if (others) {
          bool any = false;
          for (const Candidate& c : ready)
            if (hopeless(c) && frames[c.model][c.frame].state == State::waiting) {
              drop(c.model, c.frame, now);
              any = true;
            }
          if (any) continue;  // the ready set changed
        }
      }
      const auto first = std::min_element(ready.begin(), ready.end(), [](const Candidate& a, const Candidate& b) {
        if (a.priority != b.priority) return a.priority > b.priority;
        if (a.view.deadline_s != b.view.deadline_s) return a.view.deadline_s < b.view.deadline_s;
        if (a.view.inject_s != b.view.inject_s) return a.view.inject_s < b.view.inject_s;
        return a.model < b.model;
      });
      Running& r = running[first->unit];
      r.busy = true;
      r.model = first->model;
      r.frame = first->frame;
      r.start_s = now;
      r.end_s = now + rep.costs[first->model][first->unit].first;
      frames[first->model][first->frame].state = State::running;
    }
    // 5. The next event: an injection or a completion.
    double next = std::numeric_limits<double>::infinity();
    for (std::size_t m = 0; m < M; ++m)
      if (next_inject[m] < frames[m].size())
        next = std::min(next, static_cast<double>(next_inject[m]) * period[m]);
    for (const Running& r : running)
      if (r.busy) next = std::min(next, r.end_s);
    if (!std::isfinite(next)) {
      // Nothing runs and nothing comes: a frame still waiting can never run, so it is dropped
      // (none should be: a waiting frame's parent runs or was dropped with it).
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t i = 0; i < frames[m].size(); ++i)
          if (frames[m][i].state == State::waiting) drop(m, i, now);
      break;
    }
    now = next;
  }
  (void)open;
  rep.score = score(rep.log, rep.models, sc.score);
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return rep;
}

nlohmann::json to_json(const XrReport& r, bool with_log) {
  nlohmann::json j;
  j["format"] = "tessera.xr_report";
  j["scenario"] = r.scenario;
  j["policy"] = r.policy;
  j["score"] = r.score.overall;
  for (const ModelScore& m : r.score.models)
    j["models"].push_back({{"model", m.model},
                           {"frames", m.frames},
                           {"dropped", m.dropped},
                           {"realtime_score", m.realtime},
                           {"energy_score", m.energy},
                           {"qoe", m.qoe},
                           {"score", m.score}});
  for (const UnitUse& u : r.units)
    j["units"].push_back({{"name", u.name},
                          {"dataflow", u.dataflow},
                          {"num_pes", u.num_pes},
                          {"inferences", u.inferences},
                          {"utilization", r.span_s > 0 ? u.busy_s / r.span_s : 0.0}});
  for (std::size_t m = 0; m < r.models.size(); ++m)
    for (std::size_t u = 0; u < r.units.size(); ++u)
      j["costs"][r.models[m]][r.units[u].name] = {{"latency_ms", r.costs[m][u].first * 1e3},
                                                  {"energy_mj", r.costs[m][u].second}};
  j["skipped_cascade_frames"] = r.skipped;
  j["span_s"] = r.span_s;
  j["run"] = {{"wall_s", r.wall_s}};
  if (with_log)
    for (const Inference& i : r.log)
      j["inferences"].push_back({{"model", i.model},
                                 {"frame", i.frame},
                                 {"unit", i.unit},
                                 {"inject_ms", i.inject_ms},
                                 {"dispatch_ms", i.dispatch_ms},
                                 {"deadline_ms", i.deadline_ms},
                                 {"done_ms", i.done_ms},
                                 {"energy_mj", i.energy_mj},
                                 {"dropped", i.dropped}});
  return j;
}

std::string format_table(const XrReport& r) {
  std::string s = fmt::format("XR scenario {} under {}: score {:.3f}\n", r.scenario, r.policy, r.score.overall);
  std::size_t w = 5;
  for (const auto& m : r.score.models) w = std::max(w, m.model.size());
  s += fmt::format("{:<{}}  {:>6}  {:>7}  {:>8}  {:>8}  {:>6}  {:>7}\n", "model", w, "frames", "dropped",
                   "RT", "energy", "QoE", "score");
  for (const auto& m : r.score.models)
    s += fmt::format("{:<{}}  {:>6}  {:>7}  {:>8.4f}  {:>8.4f}  {:>6.3f}  {:>7.4f}\n", m.model, w, m.frames,
                     m.dropped, m.realtime, m.energy, m.qoe, m.score);
  for (const auto& u : r.units)
    s += fmt::format("unit {} ({} PEs, {}): {} inferences, utilization {:.1f} %\n", u.name, u.num_pes,
                     u.dataflow, u.inferences, r.span_s > 0 ? 100.0 * u.busy_s / r.span_s : 0.0);
  if (r.skipped) s += fmt::format("cascaded frames not requested (probability): {}\n", r.skipped);
  return s;
}

}  // namespace tessera::serving::xr
