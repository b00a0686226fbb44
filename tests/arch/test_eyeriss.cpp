// The Eyeriss engine: row-stationary mapping of AlexNet's convolutions against the active PE
// counts Eyeriss published, cycles worked by hand, energy by level.
//
// Published figures: Y.-H. Chen, T. Krishna, J. Emer, V. Sze, "Eyeriss: An Energy-Efficient
// Reconfigurable Accelerator for Deep Convolutional Neural Networks", IEEE JSSC 52(1), 2017,
// Table V (AlexNet CONV1-5, batch 4, 200 MHz, 1 V): active PEs 154, 135, 156, 156, 156 of 168.
// The latency comparison is in tests/sim/test_bitfusion_validation.cpp.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/energy/technology.hpp"
#include "arch/eyeriss/eyeriss.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;

namespace {
const std::string kAlexNet = "configs/workloads/bitfusion/eyeriss_alexnet_conv_b4.json";
}

TEST_CASE("eyeriss: row-stationary mapping of AlexNet's convolutions") {
  const auto arch = arch::load_arch(test::source_path("configs/arch/eyeriss.json"));
  CHECK(arch.engine->engine_name() == "eyeriss");
  CHECK(arch.engine->clock_hz() == 200e6);
  CHECK(arch.engine->peak_macs_per_cycle() == 168);
  const auto graph = workloads::load_workload(test::source_path(kAlexNet));
  const auto order = graph.topological_order();
  REQUIRE(order.size() == 5);
  // Published active PEs; ours for CONV2 is 2 strips × 5 rows × 14 (the second strip has 13
  // output rows, which Eyeriss maps exactly: 135).
  const double published[5] = {154, 135, 156, 156, 156};
  const double ours[5] = {154, 140, 156, 156, 156};
  const std::uint64_t macs[5] = {421'660'800, 895'795'200, 598'081'536, 448'561'152, 299'040'768};
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& op = graph.op(order[i]);
    const auto w = arch.engine->map(op);
    INFO(op.name << ": published active PEs " << published[i]);
    CHECK(w.metrics.at("active_pes") == ours[i]);
    CHECK(w.macs == macs[i]);
  }
}

TEST_CASE("eyeriss: cycles and accesses worked by hand") {
  const arch::EyerissEngine e{arch::EyerissParams{}};
  // CONV3 of AlexNet at batch 4: R = 3, E = 13 -> one strip of 13 rows; 4 × 1 copies of 3×13;
  // planes 4·256·384 = 393,216 -> 98,304 passes of S·F = 3·13 cycles = 3,833,856 cycles.
  workloads::Operator conv3;
  conv3.name = "conv3";
  conv3.precision = {16, 16};
  conv3.shape = workloads::Conv{.n = 4, .c = 256, .h = 13, .w = 13, .k = 384, .r = 3, .s = 3,
                                .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
  const auto w = e.map(conv3);
  CHECK(w.plan.compute_cycles() == 3'833'856);
  CHECK(w.metrics.at("pe_channels_q") == 4);  // 12-word ifmap spad / S
  CHECK(w.metrics.at("pe_filters_p") == 18);  // min(24 psums, 224 / (3·4))
  // RF: 3 reads and a write per MAC, 2 bytes a word.
  CHECK(w.accesses.at("rf").read_bytes == 3 * w.macs * 2);
  CHECK(w.accesses.at("rf").write_bytes == w.macs * 2);
  // DRAM: every operand once, 16-bit.
  CHECK(w.accesses.at("dram.ifmap").read_bytes == 4ull * 256 * 13 * 13 * 2);
  CHECK(w.accesses.at("dram.filter").read_bytes == 384ull * 256 * 9 * 2);
  CHECK(w.accesses.at("dram.ofmap").write_bytes == 4ull * 384 * 13 * 13 * 2);
  const auto energy = e.energy(w, 0);
  CHECK(energy.at("mac") == Approx(static_cast<double>(w.macs) * 3.2));
  CHECK(energy.at("dram.filter.read") == Approx(384.0 * 256 * 9 * 30 * 3.2));

  // A matrix product is a 1×1 convolution over all 168 PEs.
  workloads::Operator fc;
  fc.shape = workloads::MatMul{.batch = 1, .m = 16, .n = 100, .k = 100};
  CHECK(e.map(fc).plan.compute_cycles() == (16 * 100 * 100 + 167) / 168);
}

TEST_CASE("eyeriss: area is the chip's at its size and scales with the array and buffer") {
  // The chip (configs/arch/eyeriss.json): 12 x 14 PEs, 108 KiB global buffer, 12.25 mm^2. Other
  // sizes scale it by the technology table's area of a 16-bit MAC unit with its 260 words of
  // scratchpad registers per PE and of the global buffer, computed here from the table.
  const auto path = test::source_path("configs/arch/eyeriss.json");
  const auto area = [&](std::vector<std::string> set) {
    return arch::load_arch(path, set).engine->area_by_component().at("chip");
  };
  CHECK(area({}) == Approx(12.25));
  // The total adds the model's vector unit (64 fp16 lanes), which the chip did not have.
  const auto engine = arch::load_arch(path).engine;
  CHECK(engine->area_mm2() == Approx(12.25 + engine->vector_unit().area_mm2(
                                                 *arch::energy::load_technology("45nm"))));
  const auto tech = arch::energy::load_technology("45nm");
  const double pe = tech->mac_cost("int16").area_um2 * 1e-6 +
                    (12 + 224 + 24) * 16 * tech->register_area_um2_per_bit * 1e-6;
  const auto estimate = [&](double pes, std::uint64_t glb) { return pes * pe + tech->sram_area_mm2(glb); };
  const double chip = estimate(12 * 14, 108 * 1024);
  CHECK(area({"eyeriss.rows=24", "eyeriss.cols=28"}) ==
        Approx(12.25 * estimate(24 * 28, 108 * 1024) / chip));
  CHECK(area({"eyeriss.rows=6", "eyeriss.cols=7"}) < area({}));
  CHECK(area({"sram.global_buffer=432 KiB"}) ==
        Approx(12.25 * estimate(12 * 14, 432 * 1024) / chip));
  CHECK(area({"sram.global_buffer=432 KiB"}) > area({}));
  // An explicit area is the chip's at its own size: it scales the same way.
  CHECK(area({"area_mm2=5.871", "eyeriss.rows=24", "eyeriss.cols=28"}) ==
        Approx(5.871 * estimate(24 * 28, 108 * 1024) / chip));
}
