// The detailed DRAM model (dram.model = "detailed"): config keys, the SystemC fidelity running the
// command-level controller on each transfer, and the analytical fidelity's sustained rate held to
// it on streaming layers.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/dram/controller.hpp"
#include "sim/simulate.hpp"
#include "workloads/json_format.hpp"

using namespace tessera;
using u64 = std::uint64_t;
namespace dram = tessera::arch::dram;
using Catch::Matchers::Contains;

namespace {

arch::ArchConfig arch_with(const nlohmann::json& dram) {
  return arch::build_arch({"dram.json", {{"engine", "ideal"},
                                         {"peak_macs_per_cycle", 4096},
                                         {"clock", "1 GHz"},
                                         {"dram", dram}}});
}

workloads::Graph one(const nlohmann::json& op) {
  return workloads::workload_from_json(
      {{"format", "tessera.workload"}, {"version", 1}, {"name", "w"}, {"operators", {op}}}, "w.json");
}

u64 total_cycles(const std::vector<sim::LayerResult>& layers) {
  u64 c = 0;
  for (const auto& l : layers) c += l.timing.cycles;
  return c;
}

}  // namespace

TEST_CASE("dram.model detailed: keys, resolved config, errors naming the key", "[dram][config]") {
  const auto a = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}});
  const auto& ch = a.engine->memory().channels.front();
  REQUIRE(ch.detailed);
  CHECK(ch.detailed->name == "ddr4_3200");
  // Sustained: at most the peak (64 B per 4 DRAM cycles of 0.625 ns = 25.6 B/ns at 1 GHz).
  CHECK(ch.bytes_per_cycle <= 25.6);
  CHECK(ch.bytes_per_cycle >= 0.9 * 25.6);
  // The resolved config reads back to the same memory.
  const auto again = arch_with(a.resolved.at("dram"));
  CHECK(again.engine->memory() == a.engine->memory());
  CHECK(a.resolved.at("dram").at("preset") == "ddr4_3200");

  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"bandwidth", "10 GB/s"}}),
                    Contains("/dram/bandwidth: comes from the DRAM preset"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}}),
                    Contains("/dram/preset: required with model 'detailed'") && Contains("hbm2_2000"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr9"}}),
                    Contains("/dram/preset: 'ddr9' is not one of"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"mapping", "RoRo"}}),
                    Contains("/dram/mapping: five fields"));
  CHECK_THROWS_WITH(arch_with({{"model", "fancy"}}), Contains("/dram/model: 'fancy' is not one of"));
}

TEST_CASE("detailed DRAM: SystemC runs the controller, analytical within 5 % on a streaming layer",
          "[dram]") {
  // A copy of 8 Mi elements: one read stream and one write stream, no compute to hide them.
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 8 << 20}, {"output_elements", 8 << 20}}}});
  for (const std::string preset : {"ddr4_3200", "lpddr5_6400", "hbm2_2000"}) {
    INFO(preset);
    // Reads and writes on channels of their own: each is one sequential stream.
    const auto a = arch_with({{"model", "detailed"}, {"preset", preset}, {"channels", "per_operand"}});
    const u64 analytical = total_cycles(sim::simulate(*a.engine, g, "analytical"));
    const u64 systemc = total_cycles(sim::simulate(*a.engine, g, "systemc"));
    CHECK(static_cast<double>(analytical) == Approx(static_cast<double>(systemc)).epsilon(0.05));
    // Never faster than the preset's peak on the read.
    const auto& spec = dram::preset(preset);
    const double peak_per_engine_cycle = spec.peak_bytes_per_cycle() / spec.timing.tck_ns;  // 1 GHz
    CHECK(static_cast<double>(systemc) >= static_cast<double>(g.op(0).input_bytes()) / peak_per_engine_cycle);
  }
}

TEST_CASE("detailed DRAM: operand streams sharing a channel cost row conflicts the simple model does not see",
          "[dram]") {
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 8 << 20}, {"output_elements", 8 << 20}}}});
  const auto shared = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}});
  const auto split = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"channels", "per_operand"}});
  const u64 one_channel = total_cycles(sim::simulate(*shared.engine, g, "systemc"));
  const u64 two_channels = total_cycles(sim::simulate(*split.engine, g, "systemc"));
  // Twice the data on one channel, and read/write turnarounds and row switches between them.
  CHECK(one_channel > 2 * two_channels * 0.95);
  const auto& spec = dram::preset("ddr4_3200");
  const double bytes = static_cast<double>(g.op(0).input_bytes() + g.op(0).output_bytes());
  CHECK(static_cast<double>(one_channel) >= bytes / (spec.peak_bytes_per_cycle() / spec.timing.tck_ns));
}
