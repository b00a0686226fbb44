#include "explorer/evaluator.hpp"

#include <chrono>

#include "common/hash.hpp"
#include "common/version.hpp"
#include "workloads/json_format.hpp"

namespace tessera::explorer {

namespace {

// Identifies the workload's content: operators, shapes, precisions and edges, not the labels
// that depend on where it was read from (graph name, operator sources).
std::string workload_hash(const workloads::Graph& graph) {
  nlohmann::json doc = workloads::workload_to_json(graph);
  doc.erase("name");
  for (auto& op : doc.at("operators")) op.erase("source");
  return json_hash(doc);
}

}  // namespace

sim::Report evaluate(const arch::ArchConfig& arch, const workloads::Graph& graph, const EvaluateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const arch::Engine& engine = *arch.engine;

  sim::Report r;
  r.layers = sim::simulate(engine, graph, options.fidelity);
  r.summary = sim::summarize(r.layers, engine.clock_hz(), engine.peak_macs_per_cycle(), engine.area_mm2());
  r.arch_name = arch.name;
  r.engine = engine.engine_name();
  r.workload_name = graph.name();
  r.config = arch.resolved;
  r.config_hash = arch.hash;
  r.workload_hash = workload_hash(graph);
  r.clock_hz = engine.clock_hz();
  r.peak_macs_per_cycle = engine.peak_macs_per_cycle();
  r.run.fidelity = std::string(sim::to_string(options.fidelity));
  r.run.arch_file = options.arch_file;
  r.run.workload_file = options.workload_file;
  r.run.version = kVersion;
  r.run.git_revision = kGitRevision;
  r.run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tessera::explorer
