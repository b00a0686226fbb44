// Speed of one design-point evaluation at both fidelities: workloads simulated per second and
// simulated cycles per second, on shipped workloads and architectures. The SystemC figure
// includes the kernel reset and elaboration each run pays, as a sweep would.
//
//   tessera_bench [--seconds S] [ARCH WORKLOAD]...   (default: every shipped example)
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <systemc>

#include "explorer/evaluator.hpp"
#include "workloads/frontend.hpp"

namespace {

struct Measurement {
  double runs_per_s = 0;
  double cycles_per_s = 0;
};

Measurement measure(const tessera::arch::ArchConfig& arch,
                    const tessera::explorer::Workload& workload, tessera::sim::Fidelity fidelity,
                    double seconds) {
  tessera::explorer::EvaluateOptions opt;
  opt.fidelity = fidelity;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  long runs = 0;
  unsigned long long cycles = 0;
  while (elapsed < seconds || runs < 3) {
    cycles += tessera::explorer::evaluate(arch, workload, opt).summary.cycles;
    ++runs;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return {runs / elapsed, static_cast<double>(cycles) / elapsed};
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  double seconds = 1.0;
  std::vector<std::pair<std::string, std::string>> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (i + 1 < argc) {
      cases.emplace_back(a, argv[i + 1]);
      ++i;
    }
  }
  const std::string root = TESSERA_SOURCE_DIR;
  if (cases.empty()) {
    for (const char* w : {"configs/workloads/lenet5.json", "configs/workloads/bert_base_layer.json",
                          "configs/workloads/resnet18_scalesim.csv"})
      cases.emplace_back(root + "/configs/arch/ideal_edge.json", root + "/" + w);
  }
  std::cout << fmt::format("{:<28} {:<22} {:>7} {:>14} {:>16} {:>14} {:>16} {:>9}\n", "workload",
                           "arch", "layers", "analytic run/s", "analytic cyc/s", "systemc run/s",
                           "systemc cyc/s", "ratio");
  for (const auto& [arch_file, workload_file] : cases) {
    const auto arch = tessera::arch::load_arch(arch_file);
    const auto workload =
        tessera::explorer::prepare_workload(tessera::workloads::load_workload(workload_file));
    const auto& graph = workload.graph;
    const auto a = measure(arch, workload, tessera::sim::Fidelity::analytical, seconds);
    const auto s = measure(arch, workload, tessera::sim::Fidelity::systemc, seconds);
    std::cout << fmt::format(
        "{:<28} {:<22} {:>7} {:>14.0f} {:>16.3g} {:>14.0f} {:>16.3g} {:>8.1f}x\n", graph.name(),
        arch.name, graph.size(), a.runs_per_s, a.cycles_per_s, s.runs_per_s, s.cycles_per_s,
        a.runs_per_s / s.runs_per_s);
  }
  return 0;
}
