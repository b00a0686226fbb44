// The fluid-batching NPU: lanes over batch samples, stacking below V samples with its reduction
// stage, worked out by hand from the formulas in arch/fluid_npu/fluid_npu.hpp.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/fluid_npu/fluid_npu.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::arch;

TEST_CASE("fluid NPU schedule: lanes per sample and stacking by hand", "[arch][fluid_npu]") {
  FluidNpuParams p;
  p.pes = 16;
  p.lanes = 8;
  p.stackable = true;
  // A long reduction: M1 = 1000 MACs, O1 = 100 outputs per sample.
  CHECK(npu_schedule(p, 8, 1000, 100).cycles == 63);   // ceil(8/8) * ceil(1000/16)
  CHECK(npu_schedule(p, 16, 1000, 100).cycles == 126);  // two passes
  const NpuSchedule one = npu_schedule(p, 1, 1000, 100);
  CHECK(one.stack == 8);
  CHECK(one.cycles == 8 + 7 + 3);  // ceil(1000/128) + ceil(100/16) + log2(8)
  CHECK(one.reduction_adds == 100 * 7);
  const NpuSchedule three = npu_schedule(p, 3, 1000, 100);
  CHECK(three.stack == 2);
  CHECK(three.cycles == 32 + 7 + 1);  // ceil(1000/32) + ceil(100/16) + log2(2)
  CHECK(three.reduction_adds == 3 * 100 * 1);
  // A short reduction (1 MAC per output): stacking would cost more than it saves.
  const NpuSchedule shallow = npu_schedule(p, 1, 100, 100);
  CHECK(shallow.stack == 1);
  CHECK(shallow.cycles == 7);
  p.stackable = false;
  CHECK(npu_schedule(p, 1, 1000, 100).cycles == 63);  // 7 of 8 lanes idle
  CHECK(npu_schedule(p, 1, 1000, 100).stack == 1);
}

TEST_CASE("fluid NPU engine: a convolution at batch 1 and 8, stackable or not", "[arch][fluid_npu]") {
  const ArchConfig a = load_arch(test::source_path("configs/arch/fluid_npu_edge.json"));
  const ArchConfig flat = load_arch(test::source_path("configs/arch/fluid_npu_edge.json"),
                                    {"npu.stackable=false"});
  workloads::Operator conv = test::conv_relu_graph().op(0);
  const auto cycles = [&](const ArchConfig& c, std::int64_t n) {
    std::get<workloads::Conv>(conv.shape).n = n;
    return c.engine->map(conv).plan.tiles.at(0).compute_cycles;
  };
  // 115,605,504 MACs and 200,704 outputs per sample on 16 PEs x 8 lanes.
  CHECK(cycles(a, 8) == 7225344);                        // ceil(115605504 / 16)
  CHECK(cycles(flat, 1) == 7225344);                     // one lane of eight busy
  CHECK(cycles(a, 1) == 903168 + 12544 + 3);             // stacked 8 ways, plus the reduction
  CHECK(a.engine->peak_macs_per_cycle() == 128);
  CHECK(a.resolved["npu"]["lanes"] == 8);
  CHECK_THROWS_WITH(load_arch(test::source_path("configs/arch/fluid_npu_edge.json"), {"npu.lane=4"}),
                    Catch::Contains("/npu/lane") && Catch::Contains("unknown key"));
}
