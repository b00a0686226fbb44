// Addresses that follow the dataflow on shipped configs and workloads with the detailed DRAM
// model: the analytical fidelity, at the rate the controller sustains on each layer's access
// pattern (arch/dram/pattern.hpp), against the SystemC fidelity, which runs every access.
//
// Classification: a layer is streaming-dominated when, on every detailed channel it uses, at
// least 90 % of the channel's bytes belong to ports that stream (contiguous layout, transfers of
// at least kStreamTransfer bytes on average: a row switch between two such transfers costs well
// under 1 %). On those layers the analytical cycles are within 5 % of SystemC's; on the others
// the difference is reported (docs/validation.md, scripts/dram_layers.py), not asserted.
#include <catch2/catch.hpp>

#include <cmath>

#include "arch/config.hpp"
#include "arch/dram/pattern.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;
using u64 = std::uint64_t;

namespace {

constexpr u64 kStreamTransfer = 16 << 10;

bool streaming_dominated(const dataflows::TilePlan& plan, const arch::MemorySystem& memory) {
  for (std::size_t ch = 0; ch < memory.channels.size(); ++ch) {
    if (!memory.channels[ch].detailed) continue;
    const arch::dram::Pattern p = arch::dram::plan_pattern(plan, ch);
    double all = 0, streamed = 0;
    for (const auto& port : p.ports) {
      // Bytes in proportion: transfers x mean transfer (per_1024 is the transfers' frequency).
      const double bytes = static_cast<double>(port.per_1024) * static_cast<double>(port.transfer);
      all += bytes;
      const bool contiguous = port.layout.run == 0 || port.layout.run >= port.layout.pitch;
      if (contiguous && port.transfer >= kStreamTransfer) streamed += bytes;
    }
    if (all > 0 && streamed < 0.9 * all) return false;
  }
  return true;
}

struct Case {
  std::string arch, preset, workload;
};

}  // namespace

TEST_CASE("detailed DRAM on shipped configs: analytical within 5 % of SystemC on streaming-dominated "
          "layers, never below bytes / peak",
          "[dram][sim]") {
  const std::vector<std::string> archs = {"configs/arch/systolic_edge_32x32.json",
                                          "configs/arch/systolic_tiny_8x8.json",
                                          "configs/arch/ideal_edge.json"};
  const std::vector<std::string> workloads = {"configs/workloads/lenet5.json",
                                              "configs/workloads/gemm_set.csv"};
  std::size_t checked = 0, other = 0;
  for (const auto& af : archs)
    for (const std::string preset : {"ddr4_3200", "hbm2_2000"}) {
      const auto a = arch::load_arch(
          test::source_path(af),
          {R"(dram={"model": "detailed", "preset": ")" + preset + R"(", "channels": "shared"})"});
      const arch::Engine& e = *a.engine;
      const auto& spec = *e.memory().channels.front().detailed;
      const double peak = spec.peak_bytes_per_cycle() / spec.timing.tck_ns /
                          (e.memory().channels.front().clock_hz / 1e9);  // bytes per engine cycle
      for (const auto& wf : workloads) {
        const auto g = workloads::load_workload(test::source_path(wf));
        const auto plan = sim::plan_graph(e, g);
        const auto an = sim::time_layers(e, g, plan, "analytical");
        const auto sc = sim::time_layers(e, g, plan, "systemc");
        for (std::size_t h = 0; h < plan.heads.size(); ++h) {
          const auto& p = plan.work[plan.heads[h]].plan;
          INFO(af << " " << preset << " " << wf << " layer " << h);
          const double bytes = static_cast<double>(p.read_bytes() + p.write_bytes());
          // Bounds: no fidelity moves the layer's bytes faster than the channel's peak.
          CHECK(static_cast<double>(an[h].cycles) >= std::floor(bytes / peak));
          CHECK(static_cast<double>(sc[h].cycles) >= std::floor(bytes / peak));
          if (bytes == 0) continue;
          if (streaming_dominated(p, e.memory())) {
            CHECK(static_cast<double>(an[h].cycles) ==
                  Approx(static_cast<double>(sc[h].cycles)).epsilon(0.05));
            ++checked;
          } else {
            ++other;
          }
        }
      }
    }
  // The check is not empty, and the other class exists on these configs.
  CHECK(checked >= 10);
  CHECK(other >= 10);
}
