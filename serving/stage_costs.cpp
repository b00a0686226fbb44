#include "serving/stage_costs.hpp"

#include <chrono>

#include "common/error.hpp"
#include "workloads/rebatch.hpp"

namespace tessera::serving {

StageCosts::StageCosts(const Scenario& scenario)
    : scenario_(scenario),
      // With shared memory the executor times the jobs; the costs (plans, energy, estimates) are
      // timed analytically, which also keeps a SystemC executor's kernel the only one running.
      fidelity_(scenario.memory == "shared" ? "analytical" : scenario.fidelity) {
  for (const Model& m : scenario.models) {
    auto split = workloads::split_stages(m.graph);
    models_.push_back({std::move(split.stages), std::move(split.exit_probability)});
  }
  for (std::size_t u = 0; u < scenario.units.size(); ++u)
    caches_.push_back(std::make_unique<sim::MapCache>());
  costs_.resize(models_.size());
  for (std::size_t m = 0; m < models_.size(); ++m) {
    costs_[m].resize(models_[m].stages.size());
    for (auto& s : costs_[m]) s.resize(scenario.units.size());
  }
}

const StageCost& StageCosts::get(std::size_t model, std::size_t stage, std::int64_t batch,
                                 std::size_t unit) {
  auto& slot = costs_[model][stage][unit];
  if (const auto it = slot.find(batch); it != slot.end()) return it->second;
  const auto start = std::chrono::steady_clock::now();
  const arch::Engine& engine = *scenario_.units[unit].arch.engine;
  StageCost c;
  try {
    auto graph = std::make_shared<const workloads::Graph>(
        workloads::rebatch(models_[model].stages[stage], batch));
    const workloads::Graph& g = *graph;
    sim::MapCache& cache = *caches_[unit];
    auto planned = std::make_shared<const sim::GraphPlan>(sim::plan_graph(engine, g, &cache));
    const sim::GraphPlan& plan = *planned;
    c.graph = graph;
    c.plan = planned;
    const auto timings = sim::time_layers(engine, g, plan, fidelity_, nullptr, &cache);
    const auto results = sim::account(engine, g, plan, timings);
    std::vector<std::size_t> layer_of(plan.order.size());
    for (std::size_t j = 0; j < plan.heads.size(); ++j) layer_of[plan.heads[j]] = j;
    std::vector<double> energy(plan.heads.size(), 0.0);
    for (std::size_t i = 0; i < plan.order.size(); ++i) {
      energy[layer_of[plan.head[i]]] += results[i].energy_pj;
      c.macs += results[i].macs;
    }
    double t = 0, e = 0;
    for (std::size_t j = 0; j < plan.heads.size(); ++j) {
      t += static_cast<double>(timings[j].cycles) / engine.clock_hz();
      e += energy[j];
      c.end_s.push_back(t);
      c.energy_pj.push_back(e);
    }
  } catch (const InputError& e) {
    throw InputError(scenario_.file + ": model '" + scenario_.models[model].name + "'" +
                     (models_[model].stages.size() > 1 ? " stage " + std::to_string(stage) : "") +
                     " at batch " + std::to_string(batch) + " on '" + scenario_.units[unit].name +
                     "': " + e.what());
  }
  if (c.end_s.empty() || !(c.time_s() > 0))
    throw InputError(scenario_.file + ": model '" + scenario_.models[model].name +
                     "' takes no time on '" + scenario_.units[unit].name + "'");
  ++computed_;
  wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return slot.emplace(batch, std::move(c)).first->second;
}

double StageCosts::full_time_s(std::size_t model, std::size_t unit, std::size_t from) {
  double t = 0;
  for (std::size_t s = from; s < stages(model); ++s) t += get(model, s, 1, unit).time_s();
  return t;
}

double StageCosts::expected_time_s(std::size_t model, std::size_t unit, std::size_t from) {
  const auto& p = exit_probability(model);
  double reach = 1;  // of all requests, the fraction reaching stage s
  for (std::size_t s = 0; s < from; ++s) reach -= p[s];
  if (reach <= 1e-12) return get(model, from, 1, unit).time_s();
  double t = 0, left = reach;
  for (std::size_t s = from; s < stages(model); ++s) {
    t += (left / reach) * get(model, s, 1, unit).time_s();
    left -= p[s];
    if (left <= 1e-12) break;
  }
  return t;
}

}  // namespace tessera::serving
