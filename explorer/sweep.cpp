#include "explorer/sweep.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <exception>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <tuple>

#include <pagmo/utils/discrepancy.hpp>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "explorer/network.hpp"
#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "workloads/nasbench201.hpp"
#include "explorer/pool.hpp"
#include "sim/metrics.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

std::optional<SweepOptions::Method> sweep_method_from_string(const std::string& name) {
  using M = SweepOptions::Method;
  for (auto [n, m] :
       {std::pair{"grid", M::grid}, {"random", M::random}, {"halton", M::halton}, {"lhs", M::lhs}})
    if (name == n) return m;
  return std::nullopt;
}

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A bijection of [0, n) chosen by `key`, computed per element (no table: any n costs nothing
// to hold): a balanced Feistel network on the smallest even number of bits that covers n,
// walked until the value falls inside [0, n) (each step stays inside the power of two, so the
// walk ends and stays a bijection).
std::uint64_t permute(std::uint64_t i, std::uint64_t n, std::uint64_t key) {
  if (n <= 1) return 0;
  unsigned bits = static_cast<unsigned>(std::bit_width(n - 1));
  bits += bits & 1u;
  const unsigned half = bits / 2;
  const std::uint64_t mask = (std::uint64_t{1} << half) - 1;
  std::uint64_t x = i;
  do {
    std::uint64_t l = x >> half, r = x & mask;
    for (std::uint64_t round = 0; round < 4; ++round) {
      const std::uint64_t f = mix(r ^ mix(key + round)) & mask;
      const std::uint64_t next = l ^ f;
      l = r;
      r = next;
    }
    x = (l << half) | r;
  } while (x >= n);
  return x;
}

}  // namespace

Sampler::Sampler(const DesignSpace& space, const SweepOptions& o)
    : space_(space),
      method_(o.method),
      seed_(o.seed),
      size_(o.method == SweepOptions::Method::grid ? space.grid_size() : o.samples) {
  // pagmo numbers the Halton sequence with unsigned ints.
  if (method_ == SweepOptions::Method::halton &&
      size_ > std::numeric_limits<unsigned>::max())
    throw InputError("--method halton: at most " +
                     std::to_string(std::numeric_limits<unsigned>::max()) + " samples, got " +
                     std::to_string(size_));
}

nlohmann::json Sampler::point(std::uint64_t index) const {
  switch (method_) {
    case SweepOptions::Method::grid:
      return space_.grid_point(index);
    case SweepOptions::Method::random:
      return space_.random_point(seed_, index);
    case SweepOptions::Method::halton:  // the index-th element of the sequence
      return space_.unit_point(pagmo::halton(static_cast<unsigned>(space_.parameters.size()),
                                             static_cast<unsigned>(index + 1))());
    case SweepOptions::Method::lhs: {  // the middle of the sample's stratum, per parameter
      std::vector<double> u;
      for (std::size_t p = 0; p < space_.parameters.size(); ++p)
        u.push_back((static_cast<double>(permute(index, size_, mix(seed_ * 1000003u + p))) + 0.5) /
                    static_cast<double>(size_));
      return space_.unit_point(u);
    }
  }
  return {};
}

std::vector<std::uint64_t> sweep_indices(const Sampler& sampler, const SweepOptions& o) {
  const std::uint64_t mine =
      o.shard < sampler.size() ? (sampler.size() - o.shard - 1) / o.shards + 1 : 0;
  if (mine > kMaxRunPoints)
    throw InputError("this run would evaluate " + std::to_string(mine) + " points, more than the " +
                     std::to_string(kMaxRunPoints) +
                     " one run lists; split it over runs with --shard/--shards" +
                     (o.method == SweepOptions::Method::grid
                          ? ", or sample the space (--method random|halton|lhs --samples N)"
                          : ""));
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = o.shard; i < sampler.size(); i += o.shards)
    if (!o.done.count(i)) out.push_back(i);
  return out;
}

WorkloadCache::WorkloadCache(const DesignSpace& space, std::size_t capacity)
    : space_(space), capacity_(std::max<std::size_t>(capacity, 1)) {
  if (space.serving()) {  // the scenario loads its own models: their contents count
    try {
      base_hash_ = json_hash(serving::scenario_inputs(serving::read_scenario(
          space.scenario, space.scenario_file,
          std::filesystem::path(space.scenario_file).parent_path().string())));
    } catch (const InputError&) {  // completed by the space's parameters: each point hashes its own
      base_hash_ = json_hash(space.scenario);
    }
    return;
  }
  if (!space.joint()) {
    base_ = get(nullptr, space.workload_settings);
    base_hash_ = base_->hash;
    return;
  }
  // The base is the network of the first grid point whose network is valid and builds: a
  // network parameter's value may be invalid (a hidden size its heads do not divide) at grid
  // point 0 as anywhere, and fails only the points that take it. When none of the first points
  // builds, settings that no network takes are the likelier cause: the first build error stops
  // the run, naming the file; when none even resolves, the hash stands for the space's network
  // specs and base settings.
  const std::uint64_t tries = std::min<std::uint64_t>(space.grid_size(), 64);
  std::exception_ptr build_error;
  for (std::uint64_t i = 0; i < tries && !base_; ++i) {
    nlohmann::json network;
    try {
      const ResolvedPoint first = resolve_point(space, space.grid_point(i));
      network = space.network ? first.network : first.tasks.front().network;
    } catch (const InputError&) {
      continue;
    }
    try {
      base_ = get(network, space.workload_settings);
    } catch (const std::runtime_error&) {  // InputError, UnsupportedError
      if (!build_error) build_error = std::current_exception();
    }
  }
  if (base_) {
    base_hash_ = base_->hash;
    return;
  }
  if (build_error) std::rethrow_exception(build_error);
  nlohmann::json networks = nlohmann::json::array();
  const auto describe = [](const NetworkSpec& n) {
    return nlohmann::json{{"kind", n.kind}, {"dataset", n.dataset}, {"arch", n.arch},
                          {"config", n.config}};
  };
  if (space.network) networks.push_back(describe(*space.network));
  for (const auto& t : space.tasks) networks.push_back(describe(t.network));
  base_hash_ = json_hash({{"networks", networks}, {"settings", space.workload_settings}});
}

const Workload& WorkloadCache::base() const {
  if (!base_)
    throw InputError(space_.file + ": none of the first grid points has a valid network, so "
                                   "the space has no base workload");
  return *base_;
}

std::shared_ptr<const Workload> WorkloadCache::build(const nlohmann::json& network,
                                                     const nlohmann::json& settings) const {
  const auto read = workloads::read_workload_settings(settings, space_.file, "/workload_settings");
  if (network.is_null())
    return std::make_shared<const Workload>(prepare_workload(
        workloads::load_workload(space_.workload_file, read), space_.workload_file));
  return std::make_shared<const Workload>(
      prepare_workload(build_network(network, read), network_source(network)));
}

std::shared_ptr<const Workload> WorkloadCache::get(const nlohmann::json& network,
                                                   const nlohmann::json& settings) const {
  const std::string key = network.dump() + "\n" + settings.dump();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = built_.find(key); it != built_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  auto w = build(network, settings);  // outside the lock: other threads may build others
  const std::lock_guard<std::mutex> lock(mutex_);
  ++builds_;
  if (auto it = built_.find(key); it != built_.end()) return it->second->second;  // first wins
  lru_.emplace_front(key, std::move(w));
  built_.emplace(key, lru_.begin());
  if (lru_.size() > capacity_) {
    built_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return lru_.front().second;
}

std::uint64_t WorkloadCache::builds() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return builds_;
}

namespace {

// One network on one accelerator: the whole point of a single-accelerator space, one task of a
// multi-task space.
struct TaskRun {
  std::string name;  // "" in a single-accelerator space
  arch::ArchConfig arch;
  std::shared_ptr<const Workload> workload;
  nlohmann::json network;
  std::string dataset;
  double weight = 1;
};

// What the names of a multi-task space's constraints read beyond parameters and metrics: per
// task, TASK.rows, TASK.cols (the template's array keys), TASK.bandwidth_gbs and TASK.arch.PATH,
// from the task's resolved config (each quantity in its key's default unit).
nlohmann::json tasks_config(const ResolvedPoint& resolved, const std::vector<TaskRun>& runs) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const nlohmann::json& config = runs[k].arch.resolved;
    const AcceleratorTemplate& tmpl = accelerator_templates().get(resolved.tasks[k].template_name);
    nlohmann::json task = {{"arch", config}};
    for (const auto& [key, path] : {std::pair{"rows", tmpl.rows}, std::pair{"cols", tmpl.cols}}) {
      std::string pointer = "/" + path;
      std::replace(pointer.begin(), pointer.end(), '.', '/');
      if (const auto p = nlohmann::json::json_pointer(pointer); config.contains(p))
        task[key] = config.at(p);
    }
    // dram.bandwidth is in bytes per cycle, the clock in MHz.
    const auto bandwidth = nlohmann::json::json_pointer("/dram/bandwidth");
    if (config.contains(bandwidth) && config.at(bandwidth).is_number() &&
        config.contains("clock") && config.at("clock").is_number())
      task["bandwidth_gbs"] =
          config.at(bandwidth).get<double>() * config.at("clock").get<double>() / 1000.0;
    out[runs[k].name] = std::move(task);
  }
  return out;
}

// A point's configs and workloads, and the config its constraints read.
struct PointRuns {
  std::vector<TaskRun> runs;
  nlohmann::json config;
};

// Builds the configs and workloads of a point, checking the constraints on parameters once the
// configs are built (cheap), before any workload is.
PointRuns task_runs(const DesignSpace& space, const WorkloadCache& workloads,
                    const ResolvedPoint& resolved) {
  PointRuns out;
  auto& runs = out.runs;
  if (space.tasks.empty()) {
    TaskRun run;
    run.arch = point_config(space, resolved);
    check_constraints(space, resolved, run.arch.resolved);
    out.config = run.arch.resolved;
    run.network = resolved.network;
    run.workload = workloads.get(resolved.network, resolved.workload_settings);
    run.dataset = space.dataset;
    runs.push_back(std::move(run));
    return out;
  }
  for (std::size_t k = 0; k < space.tasks.size(); ++k) {
    const auto& task = resolved.tasks[k];
    TaskRun run;
    run.name = task.name;
    try {
      run.arch = task_config(space, task);
    } catch (const InputError& e) {
      throw InputError("task " + task.name + ": " + e.what());
    }
    run.network = task.network;
    run.dataset = space.tasks[k].dataset;
    run.weight = space.tasks[k].weight;
    runs.push_back(std::move(run));
  }
  out.config = tasks_config(resolved, runs);
  check_constraints(space, resolved, out.config);
  for (auto& run : runs) run.workload = workloads.get(run.network, resolved.workload_settings);
  return out;
}

// The config and workload hashes an entry records: the task's own, or for several tasks a hash
// of theirs.
std::pair<std::string, std::string> run_hashes(const std::vector<TaskRun>& runs) {
  if (runs.size() == 1 && runs.front().name.empty())
    return {runs.front().arch.hash, runs.front().workload->hash};
  nlohmann::json configs = nlohmann::json::array(), workloads = nlohmann::json::array();
  for (const auto& r : runs) {
    configs.push_back({r.name, r.arch.hash});
    workloads.push_back({r.name, r.workload->hash});
  }
  return {json_hash(configs), json_hash(workloads)};
}

// JSON has no NaN or infinity, and an impossible result is no result: the point fails.
void check_finite(const std::map<std::string, double>& metrics) {
  for (const auto& [name, value] : metrics)
    if (!std::isfinite(value))
      throw InputError("metric " + name + " is not finite (" + std::to_string(value) +
                       "): the model cannot evaluate this point");
}

// A serving space's point: the scenario with the point's accelerator config paths added to its
// "set" and its scenario keys applied, read as `tessera serve --set` reads it.
serving::Scenario point_scenario(const DesignSpace& space, const ResolvedPoint& resolved) {
  nlohmann::json doc = space.scenario;
  for (const std::string& o : resolved.arch_overrides) {
    const auto eq = o.find('=');
    if (!doc.contains("accelerator") || !doc["accelerator"].contains("arch"))
      throw InputError(space.file + ": parameter " + o.substr(0, eq) +
                       " sets an accelerator config path, but the scenario has sub-accelerators");
    doc["accelerator"]["set"][o.substr(0, eq)] = nlohmann::json::parse(o.substr(eq + 1));
  }
  for (const std::string& o : resolved.scenario_overrides) apply_json_override(doc, space.file, o);
  return serving::read_scenario(doc, space.scenario_file,
                                std::filesystem::path(space.scenario_file).parent_path().string());
}

// The hashes a serving point's entry records: its accelerators' configs, and its scenario with
// the contents of the models and traces it names.
std::pair<std::string, std::string> scenario_hashes(const serving::Scenario& s) {
  nlohmann::json configs = nlohmann::json::array();
  for (const auto& u : s.units) configs.push_back(u.arch.hash);
  return {s.units.size() == 1 ? s.units.front().arch.hash : json_hash(configs),
          json_hash(serving::scenario_inputs(s))};
}

// Serves the point's scenario: the serving metrics, and the area of its accelerators.
void evaluate_serving(const DesignSpace& space, const ResolvedPoint& resolved, LogEntry& e) {
  const serving::Scenario scenario = point_scenario(space, resolved);
  std::tie(e.config_hash, e.workload_hash) = scenario_hashes(scenario);
  check_constraints(space, resolved, scenario.units.front().arch.resolved);
  e.metrics = serving::metric_values(serving::serve(scenario));
  double area = 0;
  for (const auto& u : scenario.units) area += u.arch.engine->area_mm2();
  e.metrics["area_mm2"] = area;
  check_finite(e.metrics);
  add_expression_metrics(space, resolved, e.metrics, false);
  check_constraints(space, resolved, scenario.units.front().arch.resolved, &e.metrics);
}

}  // namespace

LogEntry evaluate_point(const DesignSpace& space, const WorkloadCache& workloads,
                        std::uint64_t index, const nlohmann::json& point) {
  const auto start = std::chrono::steady_clock::now();
  LogEntry e;
  e.index = index;
  e.point = point;
  e.workload_hash = workloads.base_hash();
  try {
    const ResolvedPoint resolved = resolve_point(space, point);
    e.derived = resolved.derived;
    if (space.serving()) {
      evaluate_serving(space, resolved, e);
      e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return e;
    }
    const PointRuns built = task_runs(space, workloads, resolved);
    const std::vector<TaskRun>& runs = built.runs;
    std::tie(e.config_hash, e.workload_hash) = run_hashes(runs);
    EvaluateOptions options;
    options.fidelity = space.fidelity;
    if (space.tasks.empty()) {
      e.metrics =
          sim::metric_values(evaluate(runs.front().arch, *runs.front().workload, options).summary);
    } else {  // one heterogeneous accelerator: its sub-accelerators run their tasks in parallel
      std::vector<std::map<std::string, double>> tasks;
      for (const auto& run : runs) {
        tasks.push_back(sim::metric_values(evaluate(run.arch, *run.workload, options).summary));
        for (const sim::Metric& m : sim::metric_table())
          if (m.combine != sim::Combine::derived && m.combine != sim::Combine::serving)
            e.metrics[std::string(m.name) + "." + run.name] = tasks.back().at(std::string(m.name));
      }
      for (auto& [name, value] : sim::combine_metric_values(tasks)) e.metrics[name] = value;
    }
    check_finite(e.metrics);
    add_expression_metrics(space, resolved, e.metrics, false);
    check_constraints(space, resolved, built.config, &e.metrics);
    if (space.oracle) {  // only for a point that meets every hardware spec (early pruning)
      double weighted = 0, weights = 0;
      for (const auto& run : runs) {
        const double acc = space.oracle->accuracy({point, run.network, run.dataset, run.name});
        if (!run.name.empty()) {
          e.metrics["accuracy." + run.name] = acc;
          e.metrics["test_error." + run.name] = 100.0 - acc;
        }
        weighted += run.weight * acc;
        weights += run.weight;
      }
      e.metrics["accuracy"] = weighted / weights;
      e.metrics["test_error"] = 100.0 - weighted / weights;
      add_expression_metrics(space, resolved, e.metrics, true);
      check_finite(e.metrics);
      check_constraints(space, resolved, built.config, &e.metrics, true);
    }
  } catch (const std::exception& ex) {  // a bad point is logged as failed; the sweep goes on
    e.ok = false;
    e.error = ex.what();
    e.metrics.clear();
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

void check_logged_entry(const DesignSpace& space, const WorkloadCache& workloads, const LogEntry& e,
                        const std::string& log) {
  if (!e.ok) return;  // a failed point may have failed before either hash was known
  const auto fail = [&](const std::string& what) {
    return InputError(log + ": entry " + std::to_string(e.index) + " " + e.point.dump() + ": " +
                      what + ": the log was written for other inputs; choose another --log");
  };
  ResolvedPoint resolved;
  try {
    resolved = resolve_point(space, e.point);
  } catch (const InputError& error) {
    throw fail(std::string("not a point of this space (") + error.what() + ")");
  }
  std::pair<std::string, std::string> hashes;
  try {
    hashes = space.serving() ? scenario_hashes(point_scenario(space, resolved))
                             : run_hashes(task_runs(space, workloads, resolved).runs);
  } catch (const std::exception& error) {
    throw fail(std::string("its config does not build now (") + error.what() + ")");
  }
  if (hashes.second != e.workload_hash) throw fail("its workload_hash differs from this workload's");
  if (hashes.first != e.config_hash) throw fail("its config_hash differs from this base config's");
}

std::unique_ptr<EvaluatorPool> make_default_pool(const DesignSpace& space,
                                                 const WorkloadCache& workloads, unsigned jobs) {
  PoolRegistry pools("evaluator pool");
  add_builtin_pools(pools);
  PoolSettings settings;
  settings.fidelity = space.fidelity;
  settings.jobs = jobs;
  settings.evaluate = [&space, &workloads](std::uint64_t index, const nlohmann::json& point) {
    return evaluate_point(space, workloads, index, point);
  };
  return pools.get(default_pool(space.fidelity, jobs))(settings);
}

void run_sweep(const DesignSpace& space, const WorkloadCache& workloads, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result) {
  make_default_pool(space, workloads, jobs)
      ->run(
          indices, [&](std::uint64_t i) { return sampler.point(i); }, on_result);
}

}  // namespace tessera::explorer
