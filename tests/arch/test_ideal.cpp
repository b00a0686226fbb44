// The ideal (roofline) engine's mapping against hand-computed figures. Its timing as an upper
// bound is tested in tests/sim/test_analytical.cpp.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/ideal/ideal.hpp"
#include "test_support.hpp"

using namespace tessera;

namespace {

arch::IdealEngine edge(double peak = 256, double bytes_per_cycle = 16, arch::u64 latency = 0) {
  arch::IdealParams p;
  p.common.clock_hz = 800e6;
  p.peak_macs_per_cycle = peak;
  p.common.memory.channels.at(0).bytes_per_cycle = bytes_per_cycle;
  p.common.memory.channels.at(0).latency_cycles = latency;
  return arch::IdealEngine(p);
}

}  // namespace

TEST_CASE("ideal engine: hand-computed conv and relu", "[arch][ideal]") {
  const auto g = test::conv_relu_graph();
  const auto e = edge();
  // conv: 115,605,504 MACs / 256 per cycle = 451,584 compute cycles.
  // DRAM: reads 64*56*56 + 64*64*9 = 237,568 B, writes 200,704 B at 16 B/cycle = 14,848 + 12,544.
  const auto conv = e.map(g.op(*g.find("conv")));
  REQUIRE(conv.plan.tiles.size() == 1);
  CHECK(conv.plan.buffering == dataflows::kStreaming);  // the roofline
  CHECK(conv.macs == 115605504);
  CHECK(conv.plan.tiles[0].compute_cycles == 451584);
  CHECK(conv.plan.port_bytes(dataflows::port::input) == 200704);
  CHECK(conv.plan.port_bytes(dataflows::port::weight) == 36864);
  CHECK(conv.plan.port_bytes(dataflows::port::output) == 200704);
  CHECK(conv.plan.write_bytes() == 200704);
  CHECK(conv.accesses.at("dram").read_bytes == 237568);
  // relu: no MACs; on the vector unit (64 lanes by default, one compare per element, 1 cycle):
  // ceil(200,704 / 64) = 3,136 cycles; reads and writes 200,704 B in one streaming tile.
  const auto relu = e.map(g.op(*g.find("relu")));
  CHECK(relu.macs == 0);
  REQUIRE(relu.plan.tiles.size() == 1);
  CHECK(relu.plan.buffering == dataflows::kStreaming);
  CHECK(relu.vector[arch::VectorOp::compare] == 200704);
  CHECK(relu.plan.tiles[0].compute_cycles == 3136);
  CHECK(relu.plan.read_bytes() == 200704);
  CHECK(relu.plan.write_bytes() == 200704);
  CHECK(relu.accesses.at("dram").write_bytes == 200704);
}

TEST_CASE("ideal engine energy: MACs and DRAM bytes times the per-action energies",
          "[arch][ideal]") {
  const auto g = test::conv_relu_graph();
  const auto e = edge();
  const auto w = e.map(g.op(*g.find("conv")));
  const auto energy = e.energy(w, 451584);
  // The 45 nm table (configs/tech/45nm.json): int8 MAC 0.2977 pJ, DDR4 15 pJ/bit.
  CHECK(energy.at("mac") == Approx(115605504 * 0.2977));
  CHECK(energy.at("dram.read") == Approx(237568 * 8 * 15.0));
  CHECK(energy.at("dram.write") == Approx(200704 * 8 * 15.0));
}

TEST_CASE("ideal engine rejects zero peak and zero bandwidth at load time",
          "[arch][ideal][errors]") {
  nlohmann::json j = {
      {"engine", "ideal"}, {"peak_macs_per_cycle", 0}, {"dram", {{"bandwidth", 16}}}};
  CHECK_THROWS_WITH(arch::build_arch({"z.json", j}),
                    Catch::Matchers::Contains("z.json: /peak_macs_per_cycle"));
  j["peak_macs_per_cycle"] = 16;
  j["dram"]["bandwidth"] = 0;
  CHECK_THROWS_WITH(arch::build_arch({"z.json", j}),
                    Catch::Matchers::Contains("z.json: /dram/bandwidth"));
}
