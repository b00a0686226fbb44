// Evaluates one design point: an architecture config on a workload at a fidelity, producing a
// complete report (results, resolved config and hashes, run metadata). The CLI's `simulate`
// and, later, the explorer's search loops call this in-process.
#pragma once

#include <string>

#include "arch/config.hpp"
#include "sim/report.hpp"
#include "workloads/graph.hpp"

namespace tessera::explorer {

struct EvaluateOptions {
  sim::Fidelity fidelity = sim::Fidelity::analytical;
  std::string arch_file;      // provenance, recorded in the report
  std::string workload_file;  // provenance, recorded in the report
};

sim::Report evaluate(const arch::ArchConfig& arch, const workloads::Graph& graph, const EvaluateOptions& options);

}  // namespace tessera::explorer
