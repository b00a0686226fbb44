// Analytical timing of tile plans, and the ideal engine as the roofline upper bound.
#include <catch2/catch.hpp>

#include "arch/ideal/ideal.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"

using namespace tessera;

TEST_CASE("streaming tiles take max(compute, transfers) each", "[sim][analytical]") {
  dataflows::TilePlan plan;
  plan.tiles = {{.compute_cycles = 100, .read_bytes = {64, 0, 0}, .write_bytes = 32, .count = 2},
                {.compute_cycles = 10, .read_bytes = {1000, 0, 0}, .write_bytes = 0, .count = 1}};
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

TEST_CASE("double-buffered tiles overlap the next reads and previous writes", "[sim][analytical]") {
  // Three identical tiles of 100 compute cycles, reading 160 B and writing 80 B at 8 B/cycle on
  // one shared channel: reads 20 cycles, writes 10. Window of a tile = max(100, 20 + 10) = 100.
  dataflows::TilePlan plan;
  plan.overlap = dataflows::Overlap::double_buffered;
  plan.tiles = {{.compute_cycles = 100, .read_bytes = {160, 0, 0}, .write_bytes = 80, .count = 3}};
  const arch::DramParams dram{.bytes_per_cycle = 8};
  auto t = sim::time_analytical(plan, dram);
  CHECK(t.cycles == 20 + 3 * 100 + 10);  // fill, three windows, drain
  CHECK(t.compute_cycles == 300);
  // Two such layers back to back: the second's first reads hide under the first's last tile;
  // only the run's first reads (fill) and last writes (drain) are exposed.
  const auto two = sim::time_analytical({&plan, &plan}, dram);
  CHECK(two[0].cycles == 20 + 300);
  CHECK(two[1].cycles == 300 + 10);

  // Memory-bound, 5 compute cycles per tile. Tile 0 waits for its reads (20). Tile 1's reads
  // (20) were issued with tile 0's, and 5 of them hide under tile 0: it waits 15. Tile 2's reads
  // queue behind tile 0's writes (10), issued when tile 0 finished: waits 20 + 10 - 5 = 25.
  // Then tile 1's writes beyond tile 2's compute (5) and tile 2's writes (10) drain. The same
  // as the event-by-event schedule on one channel: 0-20 R0, 20-40 R1, 40-50 W0, 50-70 R2,
  // 70-80 W1, 80-90 W2.
  plan.tiles[0].compute_cycles = 5;
  t = sim::time_analytical(plan, dram);
  CHECK(t.cycles == 20 + 5 + (15 + 5) + (25 + 5) + (5 + 10));
  CHECK(t.stall_cycles == t.cycles - 15);

  // Per-operand channels: ifmap and filter reads proceed in parallel, writes have the ofmap one.
  plan.tiles = {{.compute_cycles = 5, .read_bytes = {160, 80, 0}, .write_bytes = 80, .count = 2}};
  const arch::DramParams split{.bytes_per_cycle = 8, .latency_cycles = 0, .per_operand_channels = true};
  // Tile 0 waits 20 (the ifmap channel), computes 5; tile 1 waits 20 - 5, computes 5; drain:
  // tile 0's writes beyond tile 1's compute (10 - 5), then tile 1's (10).
  CHECK(sim::time_analytical(plan, split).cycles == 20 + 5 + 15 + 5 + 5 + 10);
  // Shared: reads are 30 cycles per tile.
  CHECK(sim::time_analytical(plan, dram).cycles == 30 + 5 + 25 + 5 + 5 + 10);
}
