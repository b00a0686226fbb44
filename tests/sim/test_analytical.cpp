// Analytical timing of tile plans, and the ideal engine as the roofline upper bound.
#include <catch2/catch.hpp>

#include "arch/ideal/ideal.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"

using namespace tessera;

TEST_CASE("streaming tiles take max(compute, transfers) each", "[sim][analytical]") {
  dataflows::TilePlan plan;
  plan.tiles = {{.compute_cycles = 100, .dram_read_bytes = 64, .dram_write_bytes = 32, .count = 2},
                {.compute_cycles = 10, .dram_read_bytes = 1000, .dram_write_bytes = 0, .count = 1}};
  const arch::DramParams dram{.bytes_per_cycle = 8, .latency_cycles = 5};
  // tile 1: memory 5+8 + 5+4 = 22 < 100 -> 100 each, twice. tile 2: memory 5+125 = 130 > 10.
  const auto t = sim::time_analytical(plan, dram);
  CHECK(t.cycles == 330);
  CHECK(t.compute_cycles == 210);
  CHECK(t.stall_cycles == 120);
  CHECK(sim::transfer_cycles(0, dram) == 0);
  CHECK(sim::transfer_cycles(1, dram) == 6);
  CHECK(sim::transfer_cycles(17, dram) == 8);
}

namespace {

arch::IdealEngine ideal(double peak, double bw, arch::u64 latency) {
  arch::IdealParams p;
  p.peak_macs_per_cycle = peak;
  p.dram = {bw, latency};
  return arch::IdealEngine(p);
}

// The roofline written out independently of the engine and the tile plan.
arch::u64 roofline(const workloads::Operator& op, double peak, double bw, arch::u64 latency) {
  const auto ceil_div = [](double a, double b) { return static_cast<arch::u64>(std::ceil(a / b)); };
  const auto xfer = [&](double bytes) {
    return bytes > 0 ? latency + ceil_div(bytes, bw) : arch::u64{0};
  };
  const arch::u64 compute = ceil_div(static_cast<double>(op.macs()), peak);
  const arch::u64 memory = xfer(static_cast<double>(op.input_bytes() + op.weight_bytes())) +
                           xfer(static_cast<double>(op.output_bytes()));
  return std::max(compute, memory);
}

workloads::Graph mixed_graph() {
  auto g = test::conv_relu_graph();
  workloads::Operator fc;
  fc.name = "fc";
  fc.shape = workloads::MatMul{.batch = 1, .m = 1, .n = 1000, .k = 512};  // bandwidth-bound GEMV
  workloads::Operator qk;
  qk.name = "qk";
  qk.shape = workloads::MatMul{.batch = 12, .m = 128, .n = 128, .k = 64, .b_is_weight = false};
  g.connect(1, g.add(fc));
  g.add(qk);
  return g;
}

}  // namespace

TEST_CASE("ideal engine: hand-computed cycles, latency and utilisation", "[sim][ideal]") {
  const auto g = test::conv_relu_graph();
  const auto e = ideal(256, 16, 0);
  const auto layers = sim::simulate(e, g, sim::Fidelity::analytical);
  REQUIRE(layers.size() == 2);
  // conv: compute 451,584 cycles > memory 14,848 + 12,544: compute-bound, fully utilised.
  CHECK(layers[0].timing.cycles == 451584);
  CHECK(layers[0].timing.stall_cycles == 0);
  CHECK(layers[0].utilization == Approx(115605504.0 / (451584.0 * 256)));
  // relu: memory-bound, 12,544 + 12,544 cycles, all of them stalls.
  CHECK(layers[1].timing.cycles == 25088);
  CHECK(layers[1].timing.compute_cycles == 0);
  CHECK(layers[1].timing.stall_cycles == 25088);
  CHECK(layers[1].utilization == 0);
}

TEST_CASE("ideal engine is the roofline and an upper bound on performance", "[sim][ideal]") {
  const auto g = mixed_graph();
  for (double peak : {16.0, 256.0, 4096.0}) {
    for (double bw : {1.0, 16.0, 256.0}) {
      for (arch::u64 lat : {arch::u64{0}, arch::u64{100}}) {
        const auto layers = sim::simulate(ideal(peak, bw, lat), g, sim::Fidelity::analytical);
        const auto faster =
            sim::simulate(ideal(peak * 2, bw * 2, lat), g, sim::Fidelity::analytical);
        for (std::size_t i = 0; i < layers.size(); ++i) {
          const auto& op = g.op(*g.find(layers[i].name));
          INFO(op.name << " peak " << peak << " bw " << bw << " latency " << lat);
          CHECK(layers[i].timing.cycles == roofline(op, peak, bw, lat));
          // No engine of the same peak can beat the compute bound; none of the same bandwidth
          // can beat the memory bound; so utilisation never exceeds 1.
          CHECK(layers[i].timing.cycles >= layers[i].timing.compute_cycles);
          CHECK(layers[i].utilization <= 1.0);
          CHECK(faster[i].timing.cycles <= layers[i].timing.cycles);
        }
      }
    }
  }
}
