// The Bit Fusion engine: fusion throughput against the reference table, a layer worked by hand,
// precision overrides, plans and operand streams.
#include <catch2/catch.hpp>

#include "arch/bitfusion/bitfusion.hpp"
#include "arch/config.hpp"
#include "common/csv.hpp"
#include "test_support.hpp"

using namespace tessera;
using arch::BitFusionEngine;
using arch::BitFusionParams;

namespace {

workloads::Operator fc(workloads::i64 batch, workloads::i64 k, workloads::i64 n, int a, int w) {
  workloads::Operator op;
  op.name = "fc";
  op.shape = workloads::MatMul{.batch = 1, .m = batch, .n = n, .k = k};
  op.precision = {.weight_bits = w, .activation_bits = a};
  return op;
}

workloads::Operator conv3x3(workloads::i64 c, workloads::i64 k, workloads::i64 hw, int a, int w) {
  workloads::Operator op;
  op.name = "conv";
  op.shape = workloads::Conv{.n = 16, .c = c, .h = hw, .w = hw, .k = k, .r = 3, .s = 3,
                             .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
  op.precision = {.weight_bits = w, .activation_bits = a};
  return op;
}

}  // namespace

TEST_CASE("bitfusion: MACs per cycle per Fusion Unit match the reference throughput table") {
  const BitFusionEngine e{BitFusionParams{}};
  const auto rows = read_csv_table(test::source_path("data/reference/bitfusion/throughput.csv"));
  REQUIRE(rows.size() == 25);
  for (const auto& row : rows) {
    const int a = std::stoi(row.at("act_bits")), w = std::stoi(row.at("wgt_bits"));
    INFO("a=" << a << " w=" << w);
    CHECK(e.macs_per_cycle_per_unit(a, w) ==
          Approx(std::stod(row.at("macs_per_cycle_per_fusion_unit"))));
  }
}

TEST_CASE("bitfusion: a fully connected layer worked by hand") {
  // 1 × 16 · 16 × 32 at 8 bits on 16×32 units: one tile holds everything (the other tilings
  // split the 16 input channels and pad each weight tile to 16 rows, so they are slower).
  //   compute: ceil(32/32) · ceil(16/16) = 1 cycle
  //   first load: act 16·8 = 128 + wgt 16·32·8 = 4096 + psums 32·32 = 1024 = 5248 bits
  //               -> ceil(5248/192) = 28 cycles; last store 1024 bits -> 6 cycles
  //   cycles 1 + 28 + 6 = 35, stalls 34
  const BitFusionEngine e{BitFusionParams{}};
  const auto layer = e.layer_of(fc(1, 16, 32, 8, 8));
  REQUIRE(layer);
  CHECK_FALSE(layer->im2col);
  const auto m = e.search(*layer);
  CHECK(m.tiles == 1);
  CHECK(m.compute_cycles == 1);
  CHECK(m.stall_cycles == 34);
  CHECK(m.cycles == 35);
  // Output stationary is the cheapest SRAM order here (os 9216 < is 20608 < ws 24576):
  // IBUF reads 32·16·8, WBUF reads 32·16·8, OBUF 32 psums of 32 bits each way plus the DRAM fills.
  CHECK(m.ibuf_read == 4096);
  CHECK(m.wbuf_read == 4096);
  CHECK(m.obuf_read == 2048);
  CHECK(m.obuf_write == 2048);
  CHECK(m.ibuf_write == 128);
  CHECK(m.wbuf_write == 4096);
  const double sram = 4096 * 0.059474 + 128 * 0.113704 + 4096 * 0.021366 + 4096 * 0.028916 +
                      2048 * 0.033155 + 2048 * 0.073084;
  CHECK(m.energy_pj == Approx(235.104 + sram + (128 + 4096 + 1024 + 1024) * 15.0));

  const auto work = e.map(fc(1, 16, 32, 8, 8));
  CHECK(work.macs == 512);
  CHECK(work.plan.compute_cycles() == 1);
  double total = 0;
  for (const auto& [k, pj] : e.energy(work, 35)) total += pj;
  CHECK(total == Approx(m.energy_pj));
}

TEST_CASE("bitfusion: lower precision runs proportionally faster when compute-bound") {
  arch::BitFusionParams p;
  p.common.memory.channels.at(0).bytes_per_cycle = std::numeric_limits<double>::infinity();
  const BitFusionEngine e{p};
  const auto at = [&](int a, int w) { return e.search(*e.layer_of(conv3x3(256, 256, 16, a, w))); };
  const auto m8 = at(8, 8), m4 = at(4, 4), m2 = at(2, 2), m1 = at(1, 1), m16 = at(16, 16);
  CHECK(m8.stall_cycles == 0);
  // 16·16·16·9·256·256 MACs over 512 units.
  CHECK(m8.compute_cycles == 16ull * 16 * 16 * 9 * 256 * 256 / 512);
  CHECK(m4.compute_cycles * 4 == m8.compute_cycles);
  CHECK(m2.compute_cycles * 16 == m8.compute_cycles);
  CHECK(m1.compute_cycles == m2.compute_cycles);  // 1 bit runs as 2
  CHECK(m16.compute_cycles == 4 * m8.compute_cycles);  // 2 passes per 16-bit operand
}

TEST_CASE("bitfusion: per-layer precision from the workload, overridable by config") {
  const auto doc = [](std::vector<std::string> sets) {
    arch::ArchDocument d{"<inline>", {{"engine", "bitfusion"}}};
    for (const auto& s : sets) arch::apply_override(d, s);
    return arch::build_arch(d);
  };
  const auto op = conv3x3(64, 64, 8, 4, 2);
  const auto plain = doc({});
  const auto w = plain.engine->map(op);
  CHECK(w.metrics.at("activation_bits") == 4);
  CHECK(w.metrics.at("weight_bits") == 2);
  CHECK(w.metrics.at("macs_per_cycle_per_unit") == 8);
  const auto forced = doc({"bitfusion.weight_bits=8", "bitfusion.activation_bits=8"});
  const auto w8 = forced.engine->map(op);
  CHECK(w8.metrics.at("weight_bits") == 8);
  CHECK(w8.metrics.at("macs_per_cycle_per_unit") == 1);
  CHECK(w8.plan.compute_cycles() > w.plan.compute_cycles());
  CHECK(forced.hash != plain.hash);
  CHECK_THROWS_AS(doc({"bitfusion.fused_bits=7"}), InputError);
  CHECK_THROWS_AS(doc({"bitfusion.mode=fast"}), InputError);
}

TEST_CASE("bitfusion: reference and native plans carry the same compute and traffic") {
  BitFusionParams p;
  p.reference_mode = true;
  const BitFusionEngine ref{p};
  p.reference_mode = false;
  p.max_plan_tiles = 64;
  const BitFusionEngine native{p};
  const auto op = conv3x3(128, 256, 16, 2, 2);
  const auto r = ref.map(op), n = native.map(op);
  CHECK(r.plan.buffering == dataflows::kStreaming);
  CHECK(n.plan.buffering == dataflows::kDoubleBuffered);
  REQUIRE(r.plan.tiles.size() == 3);
  CHECK(r.plan.tiles[0].compute_cycles == 0);
  CHECK(r.plan.tiles[2].compute_cycles == 0);
  CHECK(r.plan.compute_cycles() == n.plan.compute_cycles());
  CHECK(n.plan.tile_count() <= 64);
  // Bytes are rounded per tile, so the native plan may carry a few more.
  const auto dram = r.accesses.at("dram.ifmap").read_bytes + r.accesses.at("dram.filter").read_bytes +
                    r.accesses.at("dram.ofmap").read_bytes;
  CHECK(r.plan.read_bytes() >= dram);
  CHECK(r.plan.read_bytes() <= dram + 6);
  CHECK(n.plan.read_bytes() >= dram);
  CHECK(n.plan.read_bytes() <= dram + 3 * n.plan.tile_count());
  CHECK(n.plan.write_bytes() >= r.accesses.at("dram.ofmap").write_bytes);
  // Per port: the input, weight and partial-sum reads each within their rounding.
  CHECK(r.plan.port_bytes(dataflows::port::input) >= r.accesses.at("dram.ifmap").read_bytes);
  CHECK(r.plan.port_bytes(dataflows::port::weight) >= r.accesses.at("dram.filter").read_bytes);
  CHECK(n.plan.port_bytes(dataflows::port::weight) >= r.accesses.at("dram.filter").read_bytes);
  CHECK(n.plan.port_bytes(dataflows::port::weight) <=
        r.accesses.at("dram.filter").read_bytes + n.plan.tile_count());
}

TEST_CASE("bitfusion: first layers with few channels run as im2col") {
  const BitFusionEngine e{BitFusionParams{}};
  CHECK(e.layer_of(conv3x3(3, 64, 32, 8, 8))->im2col);
  CHECK_FALSE(e.layer_of(conv3x3(16, 64, 32, 8, 8))->im2col);
  BitFusionParams never;
  never.im2col = BitFusionParams::Im2col::never;
  CHECK_FALSE(BitFusionEngine{never}.layer_of(conv3x3(3, 64, 32, 8, 8))->im2col);
  // Pooling has no MACs: nothing in reference mode (and supports() says so); natively it runs
  // on the vector unit (32 lanes, one per column): 8·4·4 outputs × 4 compares = 512 compares,
  // 16 cycles; reads 512 B, writes 128 B.
  BitFusionParams p;
  p.reference_mode = true;
  workloads::Operator pool;
  pool.name = "pool";
  pool.shape = workloads::Pool{.c = 8, .h = 8, .w = 8, .r = 2, .s = 2, .stride_h = 2, .stride_w = 2};
  CHECK(BitFusionEngine{p}.map(pool).plan.tiles.empty());
  const auto warnings = BitFusionEngine{p}.supports(pool);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Matchers::Contains("without MACs"));
  CHECK(e.supports(pool).empty());
  const auto native = e.map(pool);
  CHECK(native.plan.read_bytes() == 512);
  CHECK(native.plan.write_bytes() == 128);
  CHECK(native.vector[arch::VectorOp::compare] == 512);
  CHECK(native.plan.compute_cycles() == 8);  // 512 compares on the default 64 lanes
}

TEST_CASE("bitfusion: operand streams describe the fused array") {
  const BitFusionEngine e{BitFusionParams{}};
  const auto s = e.operand_streams(conv3x3(64, 96, 8, 4, 4));
  REQUIRE(s);
  CHECK(s->m == 16 * 8 * 8);
  CHECK(s->n == 96);
  CHECK(s->k == 9 * 64);
  REQUIRE(s->ports.size() == 3);
  CHECK(s->ports[0].bits == 4);
  CHECK(s->ports[2].bits == 32);
  // 16 rows × 4 lanes of reduction, 32 columns.
  CHECK(s->ports[0].loops[4].extent == 64);
  CHECK(s->ports[0].loops[5].extent == 32);
  CHECK(s->ports[0].loops[2].extent == 9);
  workloads::Operator relu;
  relu.shape = workloads::Elementwise{};
  CHECK_FALSE(e.operand_streams(relu));
}

TEST_CASE("bitfusion: the peak at an operator's precisions") {
  const BitFusionEngine e{BitFusionParams{}};
  // 16 × 32 Fusion Units; per unit 1 MAC/cycle at 8×8, 8 at 4×2 (the reference throughput
  // table), a quarter at 16×16 (two passes per 16-bit operand).
  CHECK(e.peak_macs_per_cycle() == 512);
  CHECK(e.peak_macs_per_cycle(fc(1, 16, 32, 8, 8)) == 512);
  CHECK(e.peak_macs_per_cycle(fc(1, 16, 32, 4, 2)) == 512 * 8);
  CHECK(e.peak_macs_per_cycle(fc(1, 16, 32, 16, 16)) == 512 / 4);
  workloads::Operator relu;
  relu.shape = workloads::Elementwise{.function = "relu", .elements = 10};
  CHECK(e.peak_macs_per_cycle(relu) == 512);  // no MACs: the fused peak
}

TEST_CASE("bitfusion: the compiler's choice is reported as a mapping") {
  const BitFusionEngine e{BitFusionParams{}};
  const auto w = e.map(conv3x3(64, 64, 28, 8, 8));
  REQUIRE(w.mapping);
  const auto& m = *w.mapping;
  CHECK(m.loops == 5);
  // The order is a permutation of the five tile loops, and the tiles cover each loop.
  std::array<int, 5> seen{};
  for (std::size_t i = 0; i < 5; ++i) ++seen[static_cast<std::size_t>(m.order[i])];
  CHECK(seen == std::array<int, 5>{1, 1, 1, 1, 1});
  CHECK(m.tile[1] * m.count[1] >= 28);  // output width
  CHECK(m.tile[3] * m.count[3] >= 64);  // input channels
  for (std::size_t t = 0; t < 3; ++t) CHECK(m.refetch[t] >= 1.0);
  CHECK(m.candidates > 0);
  const auto j = m.to_json();
  CHECK(j.at("loop_order").size() == 5);
  CHECK(j.at("tile").contains("oc"));
  CHECK(m.estimate.latency > 0);
}
