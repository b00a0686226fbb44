// The systolic engine's mapper (`tessera_bench --mapping`): wall time to map every layer of a
// network (each layer searched, no reuse between identical layers), candidates evaluated, and
// the gain over the fixed fold order (`systolic.mapping=fixed`) measured in the same run: cycles
// and DRAM bytes of the whole network at analytical fidelity.
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "sim/simulate.hpp"
#include "workloads/frontend.hpp"

namespace {

using namespace tessera;

struct Run {
  std::uint64_t cycles = 0, dram_bytes = 0;
};

Run run(const arch::ArchConfig& a, const workloads::Graph& g) {
  Run r;
  for (const auto& l : sim::simulate(*a.engine, g, "analytical")) {
    r.cycles += l.timing.cycles;
    for (const auto& [level, acc] : l.accesses)
      if (level.rfind("dram", 0) == 0) r.dram_bytes += acc.read_bytes + acc.write_bytes;
  }
  return r;
}

}  // namespace

int mapping_bench() {
  const std::string root = TESSERA_SOURCE_DIR;
  struct Case {
    std::string arch, workload, label;
    workloads::LoadOptions options;
  };
  std::vector<Case> cases;
  for (const char* a : {"systolic_tpuv1_128x128_ws", "systolic_edge_32x32", "systolic_tiny_8x8"}) {
    cases.push_back({a, "configs/workloads/resnet50_scalesim.csv", "ResNet-50 (CSV)", {}});
    cases.push_back({a, "workloads/models/resnet18.onnx", "ResNet-18 (ONNX)", {}});
    workloads::LoadOptions bert;
    bert.seq_len = 512;
    cases.push_back({a, "configs/models/bert-base-uncased.json", "BERT-base S=512", bert});
  }
  fmt::print("{:<26} {:<18} {:>6} {:>10} {:>11} {:>12} {:>12} {:>10} {:>10}\n", "arch",
             "workload", "layers", "map ms", "candidates", "fixed cyc", "mapper cyc", "speed-up",
             "DRAM ratio");
  for (const auto& c : cases) {
    const auto graph = workloads::load_workload(root + "/" + c.workload, c.options);
    const auto mapper = arch::load_arch(root + "/configs/arch/" + c.arch + ".json");
    const auto fixed =
        arch::load_arch(root + "/configs/arch/" + c.arch + ".json", {"systolic.mapping=fixed"});
    // Mapping time: every layer mapped on its own, repeated for at least half a second.
    std::uint64_t candidates = 0;
    const auto order = graph.topological_order();
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    long reps = 0;
    while (elapsed < 0.5 || reps < 3) {
      candidates = 0;
      for (const auto n : order) {
        const auto w = mapper.engine->map(graph.op(n));
        if (w.mapping) candidates += w.mapping->candidates;
      }
      ++reps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const Run f = run(fixed, graph), m = run(mapper, graph);
    fmt::print("{:<26} {:<18} {:>6} {:>10.2f} {:>11} {:>12} {:>12} {:>9.2f}x {:>10.2f}\n", c.arch,
               c.label, graph.size(), elapsed / double(reps) * 1e3, candidates, f.cycles, m.cycles,
               double(f.cycles) / double(m.cycles), double(m.dram_bytes) / double(f.dram_bytes));
  }
  return 0;
}
