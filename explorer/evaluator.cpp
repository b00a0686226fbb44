#include "explorer/evaluator.hpp"

#include <chrono>

#include "common/hash.hpp"
#include "common/version.hpp"
#include "sim/generation.hpp"
#include "workloads/json_format.hpp"
#include "workloads/transformer.hpp"

namespace tessera::explorer {

Workload prepare_workload(workloads::Graph graph, std::string file) {
  nlohmann::json doc = workloads::workload_to_json(graph);
  doc.erase("name");
  for (auto& op : doc.at("operators")) op.erase("source");
  std::string hash = json_hash(doc);
  return {std::move(graph), std::move(hash), std::move(file)};
}

namespace {

// The report of `layers`, simulated from `workload` since `start`.
sim::Report make_report(const arch::ArchConfig& arch, const Workload& workload,
                        const EvaluateOptions& options, std::vector<sim::LayerResult> layers,
                        std::chrono::steady_clock::time_point start) {
  const arch::Engine& engine = *arch.engine;
  sim::Report r;
  r.layers = std::move(layers);
  r.summary =
      sim::summarize(r.layers, engine.clock_hz(), engine.peak_macs_per_cycle(),
                     engine.area_by_component());
  r.arch_name = arch.name;
  r.engine = engine.engine_name();
  r.workload_name = workload.graph.name();
  r.config = arch.resolved;
  r.config_hash = arch.hash;
  r.workload_hash = workload.hash;
  r.clock_hz = engine.clock_hz();
  r.peak_macs_per_cycle = engine.peak_macs_per_cycle();
  r.run.fidelity = options.fidelity;
  r.run.arch_file = options.arch_file;
  r.run.workload_file = workload.file;
  r.run.version = kVersion;
  r.run.git_revision = kGitRevision;
  r.run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace

sim::Report evaluate(const arch::ArchConfig& arch, const Workload& workload,
                     const EvaluateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto layers = sim::simulate(*arch.engine, workload.graph, options.fidelity, options.trace,
                              nullptr, options.progress);
  return make_report(arch, workload, options, std::move(layers), start);
}

sim::Report evaluate_generation(const arch::ArchConfig& arch, const std::string& model_file,
                                const workloads::WorkloadSettings& settings,
                                const EvaluateOptions& options,
                                const sim::GenerationOptions& generation) {
  const auto start = std::chrono::steady_clock::now();
  sim::GenerationOptions g = generation;
  g.fidelity = options.fidelity;
  sim::GenerationResult result = sim::simulate_generation(
      *arch.engine, workloads::read_transformer_config(model_file), model_file, settings, g);
  const Workload prefill = prepare_workload(std::move(result.prefill_graph), model_file);
  sim::Report r = make_report(arch, prefill, options, std::move(result.prefill), start);
  r.generation = sim::to_json(result);
  r.run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tessera::explorer
