// Evaluates one design point: an architecture config on a workload at a fidelity, producing a
// complete report (results, resolved config and hashes, run metadata). The CLI's `simulate`
// and, later, the explorer's search loops call this in-process.
#pragma once

#include <string>

#include "arch/config.hpp"
#include "sim/report.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {
struct WorkloadSettings;
}
namespace tessera::sim {
struct GenerationOptions;
}

namespace tessera::explorer {

// A workload ready for evaluation on many design points: its content hash is computed once
// here, not per point (hashing serialises the whole graph).
struct Workload {
  workloads::Graph graph;
  std::string hash;  // operators, shapes, precisions and edges; not the graph name or sources
  std::string file;  // provenance, recorded in reports
};

Workload prepare_workload(workloads::Graph graph, std::string file = "");

struct EvaluateOptions {
  std::string fidelity = "analytical";  // a sim::fidelities() name
  std::string arch_file;        // provenance, recorded in the report
  sim::Trace* trace = nullptr;  // SystemC fidelity: record the run's trace here
  sim::Progress progress;       // bit-toggle counting progress (energy.hamming)
};

sim::Report evaluate(const arch::ArchConfig& arch, const Workload& workload,
                     const EvaluateOptions& options);

// A generation run (sim/generation.hpp) of the transformer config `model_file` with
// settings.generation: the report's layers and summary are the prefill's, its "generation"
// section the run's figures.
sim::Report evaluate_generation(const arch::ArchConfig& arch, const std::string& model_file,
                                const workloads::WorkloadSettings& settings,
                                const EvaluateOptions& options,
                                const sim::GenerationOptions& generation);

}  // namespace tessera::explorer
