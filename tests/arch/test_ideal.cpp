// The ideal (roofline) engine's mapping against hand-computed figures. Its timing as a bound on
// layers that move at least its bytes is tested in tests/sim/test_bounds.cpp; the last test here
// shows where it is no bound (a tensor kept on chip).
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/energy/technology.hpp"
#include "arch/ideal/ideal.hpp"
#include "arch/systolic/systolic.hpp"
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

// What the ideal engine bounds (docs/configs.md, "Engine `ideal`"): every layer reads its inputs
// and weights and writes its output once, and nothing stays on chip between layers. An engine
// that keeps a tensor on chip moves fewer bytes, so on a memory-bound layer the ideal is not an
// upper bound; it bounds layers that move at least its bytes (tests/sim/test_bounds.cpp).
TEST_CASE("ideal engine: compulsory traffic per layer, nothing kept on chip between layers",
          "[arch][ideal]") {
  workloads::Operator fc1, fc2;
  fc1.name = "fc1";
  fc1.shape = workloads::MatMul{.batch = 1, .m = 64, .n = 128, .k = 128};
  fc2 = fc1;
  fc2.name = "fc2";
  const auto ideal = edge();
  arch::SystolicParams sp;
  sp.rows = sp.cols = 16;
  const arch::SystolicEngine systolic(sp);
  // The systolic engine keeps fc1's 8 KiB output in its buffers for fc2; the ideal never does,
  // whatever the context asks: it has no buffers to size "on chip" by.
  CHECK(systolic.keeps_on_chip(fc1, fc2));
  CHECK_FALSE(ideal.keeps_on_chip(fc1, fc2));
  const auto chained = systolic.map(fc2, arch::MapContext{.input_on_chip = true});
  const auto roofline = ideal.map(fc2);
  // Ideal: 64 x 128 B in, 128 x 128 B of weights, 64 x 128 B out.
  CHECK(roofline.plan.read_bytes() == 8192 + 16384);
  CHECK(roofline.plan.write_bytes() == 8192);
  // Systolic with fc1's output on chip: no input read; fewer DRAM bytes than the "bound".
  CHECK(chained.plan.port_bytes(dataflows::port::input) == 0);
  CHECK(chained.plan.read_bytes() + chained.plan.write_bytes() <
        roofline.plan.read_bytes() + roofline.plan.write_bytes());
}

TEST_CASE("complex MACs: two real parts, priced as the engine builds them", "[arch][ideal][complex]") {
  workloads::Operator op;
  op.name = "fft_matmul";
  op.shape = workloads::MatMul{.batch = 1, .m = 64, .n = 32, .k = 16};
  op.precision = {.weight_bits = 16, .activation_bits = 16, .format = workloads::NumberFormat::fp16};
  workloads::Operator real = op;
  op.precision.complex = true;
  // Every value stores both parts: twice the bytes of the real operator.
  CHECK(op.input_bytes() == 2 * real.input_bytes());    // 64 x 16 x 2 parts x 2 B = 4096
  CHECK(op.input_bytes() == 4096);
  CHECK(op.weight_bytes() == 2 * real.weight_bytes());
  CHECK(op.output_bytes() == 2 * real.output_bytes());

  const auto tech = arch::energy::load_technology("45nm");
  const double e_mac = tech->mac_cost("fp16").energy_pj, e_add = *tech->mac_cost("fp16").add_pj;
  CHECK(e_mac == Approx(1.5));  // Horowitz 45 nm: fp16 multiply 1.1 + add 0.4
  CHECK(e_add == Approx(0.4));
  const double macs = 64.0 * 32 * 16;
  const auto cfg = arch::build_arch(
      {"complex.json", nlohmann::json{{"engine", "ideal"},
                                      {"peak_macs_per_cycle", 96},
                                      {"energy", {{"pe_precision", "fp16"}}},
                                      {"dram", {{"bandwidth", 1e6}}}}});
  const auto& e = *cfg.engine;
  CHECK(e.supports(op).empty());  // fp16 PEs: no precision warning
  REQUIRE(e.complex_mac());
  CHECK(*e.complex_mac() == arch::energy::kComplexMac4);
  CHECK(e.peak_macs_per_cycle(op) == Approx(96.0 / 4));
  const auto w = e.map(op);
  CHECK(w.macs == 32768);  // complex MACs
  REQUIRE(w.complex_mac);
  CHECK(w.metrics.at("complex_mac_real_multiplies") == 4);
  CHECK(w.metrics.at("complex_mac_real_adds") == 4);
  // Each complex MAC takes 4 of the 96 real MAC slots: ceil(32768 x 4 / 96) = 1366.
  CHECK(w.plan.tiles.at(0).compute_cycles == 1366);
  // 4 multiplies + 4 adds = 4 real MACs.
  CHECK(e.energy(w, 2000).at("mac") == Approx(macs * 4 * e_mac));
  // The real operator on the same engine: one MAC slot and one table MAC each.
  const auto r = e.map(real);
  CHECK(r.plan.tiles.at(0).compute_cycles == 342);  // ceil(32768 / 96)
  CHECK(e.energy(r, 2000).at("mac") == Approx(macs * e_mac));
  // Gauss's form, for engines that build it: 3 multiplies and 7 adds = 3 MACs and 4 more adds.
  CHECK(tech->complex_mac_pj("fp16", arch::energy::kComplexMac3) ==
        Approx(3 * (e_mac - e_add) + 7 * e_add));
  CHECK(tech->complex_mac_pj("fp16", arch::energy::kComplexMac3) == Approx(3 * 1.5 + 4 * 0.4));
  CHECK(tech->complex_mac_pj("fp16", arch::energy::kComplexMac4) == Approx(4 * 1.5));
}

TEST_CASE("engines without a complex datapath refuse complex operators", "[arch][complex][errors]") {
  workloads::Operator op;
  op.name = "cmm";
  op.source = "net.json: /operators/2";
  op.shape = workloads::MatMul{.batch = 1, .m = 8, .n = 8, .k = 8};
  op.precision.complex = true;
  const auto systolic = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"));
  CHECK_THROWS_WITH(systolic.engine->supports(op),
                    "net.json: /operators/2: operator 'cmm': engine 'systolic' has no complex "
                    "datapath");
  // The vector unit has no complex operations, on any engine.
  const auto ideal = arch::load_arch(test::source_path("configs/arch/ideal_edge.json"));
  workloads::Operator add = op;
  add.shape = workloads::Elementwise{.function = "add", .elements = 64, .inputs = 2};
  CHECK_THROWS_WITH(ideal.engine->supports(add), Catch::Matchers::Contains("MACs only"));
  CHECK(ideal.engine->supports(op).empty());
}

TEST_CASE("technology tables: every MAC entry has its adder, within its energy", "[energy][tech][complex]") {
  for (const auto& name : arch::energy::builtin_technologies()) {
    const auto t = arch::energy::load_technology(name);
    for (const auto& [prec, c] : t->mac) {
      INFO(name << " " << prec);
      REQUIRE(c.add_pj);
      CHECK(*c.add_pj > 0);
      CHECK(*c.add_pj < c.energy_pj);
    }
  }
  // A user table without adders prices 4-multiply complex MACs (4 real MACs) but not Gauss's.
  nlohmann::json table = read_json_file(test::source_path("configs/tech/45nm.json"));
  table["mac"]["int8"].erase("add_pj");
  const auto mine = arch::energy::parse_technology(table, "mine.json");
  CHECK(mine->complex_mac_pj("int8", arch::energy::kComplexMac4) == Approx(4 * 0.2977));
  CHECK(mine->complex_mac_pj("int8", arch::energy::kComplexMac4, 1.0) == Approx(4.0));
  CHECK_THROWS_WITH(mine->complex_mac_pj("int8", arch::energy::kComplexMac3),
                    Catch::Matchers::Contains("mine.json': mac.int8 has no add_pj"));
  table["mac"]["int8"]["add_pj"] = 0.3;  // more than the whole MAC's 0.2977
  CHECK_THROWS_WITH(arch::energy::parse_technology(table, "bad.json"),
                    Catch::Matchers::Contains("bad.json: /mac/int8/add_pj"));
}
