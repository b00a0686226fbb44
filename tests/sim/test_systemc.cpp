// The SystemC fidelity: agreement with the analytical model on the same tile plans, and many
// simulations in one process (kernel reset).
#include <catch2/catch.hpp>

#include "arch/ideal/ideal.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "test_support.hpp"

using namespace tessera;

TEST_CASE("SystemC and analytical agree tile by tile on streaming plans", "[sim][systemc]") {
  dataflows::TilePlan compute_bound, memory_bound, mixed;
  compute_bound.tiles = {
      {.compute_cycles = 1000, .dram_read_bytes = 64, .dram_write_bytes = 64, .count = 4}};
  memory_bound.tiles = {
      {.compute_cycles = 3, .dram_read_bytes = 4096, .dram_write_bytes = 100, .count = 2}};
  mixed.tiles = {
      {.compute_cycles = 50, .dram_read_bytes = 0, .dram_write_bytes = 0, .count = 1},
      {.compute_cycles = 0, .dram_read_bytes = 7, .dram_write_bytes = 0, .count = 3},
      {.compute_cycles = 77, .dram_read_bytes = 300, .dram_write_bytes = 900, .count = 5}};
  for (arch::DramParams dram : {arch::DramParams{16, 0}, arch::DramParams{3.5, 40}}) {
    const auto timings =
        sim::systemc::simulate_tile_plans({&compute_bound, &memory_bound, &mixed}, dram);
    REQUIRE(timings.size() == 3);
    CHECK(timings[0] == sim::time_analytical(compute_bound, dram));
    CHECK(timings[1] == sim::time_analytical(memory_bound, dram));
    CHECK(timings[2] == sim::time_analytical(mixed, dram));
  }
}

TEST_CASE("one process runs many SystemC simulations with identical results", "[sim][systemc]") {
  const auto g = test::conv_relu_graph();
  arch::IdealParams p;
  p.peak_macs_per_cycle = 256;
  p.dram = {16, 20};
  const arch::IdealEngine e(p);
  const auto first = sim::simulate(e, g, sim::Fidelity::systemc);
  for (int i = 0; i < 20; ++i) {
    const auto again = sim::simulate(e, g, sim::Fidelity::systemc);
    REQUIRE(again.size() == first.size());
    for (std::size_t l = 0; l < first.size(); ++l) CHECK(again[l].timing == first[l].timing);
  }
  const auto analytical = sim::simulate(e, g, sim::Fidelity::analytical);
  for (std::size_t l = 0; l < first.size(); ++l) CHECK(first[l].timing == analytical[l].timing);
}

TEST_CASE("an empty plan list simulates to nothing", "[sim][systemc]") {
  CHECK(sim::systemc::simulate_tile_plans({}, arch::DramParams{}).empty());
}
