#include "explorer/evaluator.hpp"

#include <chrono>

#include "common/hash.hpp"
#include "common/version.hpp"
#include "workloads/json_format.hpp"

namespace tessera::explorer {

Workload prepare_workload(workloads::Graph graph, std::string file) {
  nlohmann::json doc = workloads::workload_to_json(graph);
  doc.erase("name");
  for (auto& op : doc.at("operators")) op.erase("source");
  std::string hash = json_hash(doc);
  return {std::move(graph), std::move(hash), std::move(file)};
}

sim::Report evaluate(const arch::ArchConfig& arch, const Workload& workload,
                     const EvaluateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const arch::Engine& engine = *arch.engine;

  sim::Report r;
  r.layers = sim::simulate(engine, workload.graph, options.fidelity, options.trace, options.progress);
  r.summary =
      sim::summarize(r.layers, engine.clock_hz(), engine.peak_macs_per_cycle(), engine.area_mm2());
  r.arch_name = arch.name;
  r.engine = engine.engine_name();
  r.workload_name = workload.graph.name();
  r.config = arch.resolved;
  r.config_hash = arch.hash;
  r.workload_hash = workload.hash;
  r.clock_hz = engine.clock_hz();
  r.peak_macs_per_cycle = engine.peak_macs_per_cycle();
  r.run.fidelity = std::string(sim::to_string(options.fidelity));
  r.run.arch_file = options.arch_file;
  r.run.workload_file = workload.file;
  r.run.version = kVersion;
  r.run.git_revision = kGitRevision;
  r.run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tessera::explorer
