// What a stage of a model costs on a unit at a batch size: the time at which each of its layers
// ends (the boundaries where it can be preempted) and the energy spent by then. Planned from the
// engine's own plans (sim::plan_graph), timed at the scenario's fidelity (sim::time_layers) and
// accounted (sim::account) once per (model, stage, batch, unit), then looked up: a serving run
// of a million requests plans each distinct job once.
//
// Each stage is timed alone on its unit, from empty buffers, with the unit's whole memory
// system: sub-accelerators sharing one memory system do not slow each other here (the serving
// report says so when there are several).
//
// Owns the stage cost table; includes serving/scenario.hpp and sim/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "serving/scenario.hpp"
#include "sim/simulate.hpp"

namespace tessera::serving {

struct StageCost {
  std::vector<double> end_s;      // per layer: when it ends, from the stage's start (cumulative)
  std::vector<double> energy_pj;  // per layer: the energy spent by its end (cumulative)
  std::uint64_t macs = 0;
  // The stage's planned graph (its layers' tile plans, channels assigned), for an executor.
  std::shared_ptr<const workloads::Graph> graph;
  std::shared_ptr<const sim::GraphPlan> plan;
  double time_s() const { return end_s.empty() ? 0.0 : end_s.back(); }
  std::size_t layers() const { return end_s.size(); }
};

class StageCosts {
 public:
  explicit StageCosts(const Scenario& scenario);

  std::size_t stages(std::size_t model) const { return models_[model].stages.size(); }
  // exit_probability(m)[s]: the fraction of all requests that leave after stage s.
  const std::vector<double>& exit_probability(std::size_t model) const {
    return models_[model].exit_probability;
  }
  // The stage on `unit` at `batch` requests; computed on first use. InputError naming the model
  // and stage when the engine cannot run it.
  const StageCost& get(std::size_t model, std::size_t stage, std::int64_t batch, std::size_t unit);
  // Every stage of `model` one request at a time on `unit`, from stage `from` on: a request that
  // never exits early.
  double full_time_s(std::size_t model, std::size_t unit, std::size_t from = 0);
  // The same weighted by the chance of reaching each stage, given that stage `from` is reached.
  double expected_time_s(std::size_t model, std::size_t unit, std::size_t from = 0);
  std::size_t computed() const { return computed_; }
  double wall_s() const { return wall_s_; }  // spent computing costs

 private:
  struct ModelStages {
    std::vector<workloads::Graph> stages;
    std::vector<double> exit_probability;
  };
  const Scenario& scenario_;
  std::string fidelity_;  // what times the stages
  std::vector<ModelStages> models_;
  std::vector<std::unique_ptr<sim::MapCache>> caches_;  // one per unit (a cache serves one engine)
  // [model][stage][unit] -> batch -> cost; node-based, so references stay valid.
  std::vector<std::vector<std::vector<std::map<std::int64_t, StageCost>>>> costs_;
  std::size_t computed_ = 0;
  double wall_s_ = 0;
};

}  // namespace tessera::serving
