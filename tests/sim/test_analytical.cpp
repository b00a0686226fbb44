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
  // tile 1: memory 8 + 4 + 5 = 17 < 100 -> 100 each, twice. tile 2: memory 125 + 5 = 130 > 10.
  const auto t = sim::time_analytical(plan, dram);
  CHECK(t.cycles == 330);
  CHECK(t.compute_cycles == 210);
  CHECK(t.stall_cycles == 120);
  CHECK(sim::occupancy_cycles(0, dram) == 0);
  CHECK(sim::occupancy_cycles(1, dram) == 1);
  CHECK(sim::occupancy_cycles(17, dram) == 3);
}

namespace {

arch::IdealEngine ideal(double peak, double bw, arch::u64 latency) {
  arch::IdealParams p;
  p.peak_macs_per_cycle = peak;
  p.dram = {bw, latency};
  return arch::IdealEngine(p);
}

// The roofline written out independently of the engine and the tile plan: the reads and the
// writes stream back to back on one channel, the last data landing a latency later.
arch::u64 roofline(const workloads::Operator& op, double peak, double bw, arch::u64 latency) {
  const auto ceil_div = [](double a, double b) { return static_cast<arch::u64>(std::ceil(a / b)); };
  const double reads = static_cast<double>(op.input_bytes() + op.weight_bytes());
  const double writes = static_cast<double>(op.output_bytes());
  const arch::u64 compute = ceil_div(static_cast<double>(op.macs()), peak);
  const arch::u64 memory =
      reads + writes > 0 ? ceil_div(reads, bw) + ceil_div(writes, bw) + latency : arch::u64{0};
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

  // Memory-bound, 5 compute cycles per tile, on one channel: 0-20 R0, 20-40 R1, compute 20-25;
  // at 25 W0 (40-50) then R2 (50-70); compute 40-45; at 45 W1 (70-80); compute 70-75; at 75 W2
  // (80-90): the run ends at 90.
  plan.tiles[0].compute_cycles = 5;
  t = sim::time_analytical(plan, dram);
  CHECK(t.cycles == 90);
  CHECK(t.stall_cycles == t.cycles - 15);

  // Per-operand channels: ifmap and filter reads proceed in parallel, writes have the ofmap one.
  plan.tiles = {{.compute_cycles = 5, .read_bytes = {160, 80, 0}, .write_bytes = 80, .count = 2}};
  const arch::DramParams split{
      .bytes_per_cycle = 8, .latency_cycles = 0, .per_operand_channels = true};
  // ifmap 0-20 R0, 20-40 R1; compute 20-25; ofmap 25-35 W0; compute 40-45; ofmap 45-55 W1.
  CHECK(sim::time_analytical(plan, split).cycles == 55);
  // Shared: 0-30 R0, 30-60 R1; compute 30-35; 35: W0 60-70; compute 60-65; 65: W1 70-80.
  CHECK(sim::time_analytical(plan, dram).cycles == 80);
}

TEST_CASE("double-buffered: long runs of identical tiles are extrapolated exactly",
          "[sim][analytical]") {
  // The same plan as one run of n tiles and as n separate runs of one tile (never merged, so
  // never extrapolated) must time the same, whatever the balance of compute and transfers.
  for (const arch::DramParams dram :
       {arch::DramParams{8, 0, false}, arch::DramParams{3, 40, true}}) {
    for (sim::u64 compute : {1u, 17u, 60u, 400u}) {
      for (sim::u64 n : {1u, 2u, 3u, 7u, 50u, 1001u}) {
        dataflows::Tile t{
            .compute_cycles = compute, .read_bytes = {160, 48, 0}, .write_bytes = 80, .count = n};
        dataflows::TilePlan merged, split;
        merged.overlap = split.overlap = dataflows::Overlap::double_buffered;
        merged.tiles = {t};
        t.count = 1;
        for (sim::u64 i = 0; i < n; ++i) split.tiles.push_back(t);
        INFO("compute " << compute << " n " << n << " channels " << dram.channels());
        CHECK(sim::time_analytical(merged, dram) == sim::time_analytical(split, dram));
      }
    }
  }
}
