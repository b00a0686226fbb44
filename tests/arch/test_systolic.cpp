// The systolic engine's native mode: tile plans against hand-computed figures, buffer-dependent
// reuse and partial-sum spills, depthwise mapping, and config validation. SCALE-Sim mode is
// validated against SCALE-Sim's own results in tests/sim/test_systolic_scalesim.cpp.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/systolic/systolic.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

arch::SystolicEngine engine(dataflows::Dataflow d, arch::i64 rows, arch::i64 cols,
                            arch::u64 sram = 1 << 20) {
  arch::SystolicParams p;
  p.rows = rows;
  p.cols = cols;
  p.dataflow = d;
  p.ifmap_sram_bytes = p.filter_sram_bytes = p.ofmap_sram_bytes = sram;
  return arch::SystolicEngine(p);
}

workloads::Operator gemm(arch::i64 m, arch::i64 n, arch::i64 k) {
  workloads::Operator op;
  op.name = "gemm";
  op.shape = workloads::MatMul{.batch = 1, .m = m, .n = n, .k = k};
  return op;
}

dataflows::u64 total(const dataflows::TilePlan& p, int operand) {
  dataflows::u64 s = 0;
  for (const auto& t : p.tiles)
    s += t.count * (operand < 0 ? t.write_bytes : t.read_bytes[operand]);
  return s;
}

}  // namespace

TEST_CASE("native ws: folds pipelined, operands fetched once when they fit", "[arch][systolic]") {
  // M=16, N=8, K=8 on 4x4, weight stationary: rows <- K (2 folds), cols <- N (2 folds), 16
  // streamed rows per fold. Folds overlap the next weights' 4-cycle load: 4 x max(16, 4) = 64,
  // plus the first weight load (4) and the last fold's skew and drain (4 + 4 - 2 = 6).
  const auto w = engine(dataflows::Dataflow::ws, 4, 4).map(gemm(16, 8, 8));
  CHECK(w.plan.overlap == dataflows::Overlap::double_buffered);
  CHECK(w.plan.compute_cycles() == 4 * 16 + 4 + 6);
  CHECK(w.plan.tile_count() == 4);
  CHECK(w.macs == 16 * 8 * 8);
  // Large buffers: A (16x8) and B (8x8) read once, C (16x8) written once after accumulating.
  CHECK(total(w.plan, dataflows::ifmap) == 128);
  CHECK(total(w.plan, dataflows::filter) == 64);
  CHECK(total(w.plan, dataflows::ofmap) == 0);
  CHECK(total(w.plan, -1) == 128);
  CHECK(w.accesses.at("dram.ifmap").read_bytes == 128);
  // SRAM reads as the array streams them: A once per column fold, B once.
  CHECK(w.accesses.at("sram.ifmap").read_bytes == 2 * 128);
  CHECK(w.accesses.at("sram.filter").read_bytes == 64);
  CHECK(w.metrics.at("mapping_efficiency") == 1.0);
}

TEST_CASE("native: small accumulators split the stream, tiny ones spill partial sums",
          "[arch][systolic]") {
  // 256 B buffers (128 B halves). ws, M=64, N=8, K=8 on 4x4. A 64 x 4 block of 32-bit partial
  // sums (1 KiB) does not fit, so M is streamed in chunks of 8 rows (8 x 4 x 4 B = 128 B): each
  // chunk's 64 B of A is fetched once and reused across the two column folds; B (64 B) fits and
  // is fetched once; outputs are written once. Same folds and cycles as with large buffers.
  const auto w = engine(dataflows::Dataflow::ws, 4, 4, 256).map(gemm(64, 8, 8));
  CHECK(total(w.plan, dataflows::ifmap) == 512);
  CHECK(total(w.plan, dataflows::filter) == 64);
  CHECK(total(w.plan, dataflows::ofmap) == 0);
  CHECK(total(w.plan, -1) == 512);
  const auto big = engine(dataflows::Dataflow::ws, 4, 4).map(gemm(64, 8, 8));
  CHECK(big.plan.compute_cycles() == 4 * 64 + 4 + 6);
  CHECK(w.plan.compute_cycles() == big.plan.compute_cycles());

  // A 16 B ofmap buffer cannot hold one row of four 32-bit partial sums: the first row fold
  // writes them at 32 bits and the second reads them back, per column fold.
  auto p = engine(dataflows::Dataflow::ws, 4, 4).params();
  p.ofmap_sram_bytes = 16;
  const auto spill = arch::SystolicEngine(p).map(gemm(64, 8, 8));
  CHECK(total(spill.plan, dataflows::ifmap) == 512);
  CHECK(total(spill.plan, dataflows::ofmap) == 2 * 64 * 4 * 4);     // read back at 32 bits
  CHECK(total(spill.plan, -1) == 2 * (64 * 4 * 4) + 2 * (64 * 4));  // spill + final 8-bit outputs
  CHECK(spill.plan.compute_cycles() == big.plan.compute_cycles());
}

TEST_CASE("native os and is: traffic by loop order", "[arch][systolic]") {
  const auto os = engine(dataflows::Dataflow::os, 4, 4).map(gemm(8, 8, 16));
  // rows <- M (2 folds), cols <- N (2 folds), 16 streamed: 4 x 16 + drain 6, no preload.
  CHECK(os.plan.compute_cycles() == 4 * 16 + 6);
  CHECK(total(os.plan, dataflows::ifmap) == 8 * 16);
  CHECK(total(os.plan, dataflows::filter) == 16 * 8);
  CHECK(total(os.plan, -1) == 8 * 8);
  const auto is = engine(dataflows::Dataflow::is, 4, 4).map(gemm(8, 8, 16));
  // rows <- K (4 folds), cols <- M (2 folds), 8 streamed: 8 x 8 + preload 4 + drain 6.
  CHECK(is.plan.compute_cycles() == 8 * 8 + 4 + 6);
  CHECK(total(is.plan, dataflows::ifmap) == 8 * 16);
  CHECK(total(is.plan, dataflows::filter) == 16 * 8);
  CHECK(total(is.plan, -1) == 8 * 8);
}

TEST_CASE("native depthwise: channels across columns, not one GEMM per channel",
          "[arch][systolic]") {
  workloads::Operator dw;
  dw.name = "dw";
  dw.shape = workloads::Conv{.n = 1,
                             .c = 32,
                             .h = 16,
                             .w = 16,
                             .k = 32,
                             .r = 3,
                             .s = 3,
                             .pad_top = 1,
                             .pad_left = 1,
                             .pad_bottom = 1,
                             .pad_right = 1,
                             .groups = 32};
  auto e = engine(dataflows::Dataflow::ws, 8, 8);
  const auto native = e.map(dw);
  // K = 9 taps (2 row folds), N = 32 channels (4 column folds): 8 folds.
  CHECK(native.metrics.at("folds") == 8);
  CHECK(native.macs == 16 * 16 * 32 * 9);
  auto p = e.params();
  p.scalesim_mode = true;
  const auto split = arch::SystolicEngine(p).map(dw);
  // SCALE-Sim's DP convention: 32 single-channel layers of 2 x 1 folds each.
  CHECK(split.metrics.at("folds") == 64);
  CHECK(native.plan.compute_cycles() < split.plan.compute_cycles());
}

TEST_CASE("native batch and padding enter the GEMM", "[arch][systolic]") {
  workloads::Operator conv;
  conv.name = "conv";
  conv.shape = workloads::Conv{.n = 2,
                               .c = 3,
                               .h = 32,
                               .w = 32,
                               .k = 16,
                               .r = 3,
                               .s = 3,
                               .stride_h = 2,
                               .stride_w = 2,
                               .pad_top = 1,
                               .pad_left = 1,
                               .pad_bottom = 1,
                               .pad_right = 1};
  const auto w = engine(dataflows::Dataflow::os, 16, 16).map(conv);
  // M = 2 x 16 x 16 output pixels, K = 27, N = 16.
  CHECK(w.macs == 2 * 16 * 16 * 27 * 16);
  CHECK(w.metrics.at("folds") == (512 / 16) * 1);
}

TEST_CASE("operators without MACs cost DRAM traffic in native mode, nothing in SCALE-Sim mode",
          "[arch][systolic]") {
  workloads::Operator relu;
  relu.name = "relu";
  relu.shape = workloads::Elementwise{.function = "relu", .elements = 1000};
  auto e = engine(dataflows::Dataflow::ws, 8, 8);
  const auto w = e.map(relu);
  CHECK(w.macs == 0);
  CHECK(w.plan.dram_read_bytes() == 1000);
  CHECK(w.plan.dram_write_bytes() == 1000);
  auto p = e.params();
  p.scalesim_mode = true;
  CHECK(arch::SystolicEngine(p).map(relu).plan.tiles.empty());
}

TEST_CASE("systolic config: defaults, units, and errors with JSON paths",
          "[arch][systolic][config]") {
  const auto cfg = arch::build_arch({"s.json",
                                     {{"engine", "systolic"},
                                      {"systolic", {{"rows", 128}, {"cols", 128}}},
                                      {"sram", {{"ifmap", "8 MiB"}}},
                                      {"dram", {{"bandwidth", "34 GB/s"}}},
                                      {"clock", "700 MHz"}}});
  const auto& e = dynamic_cast<const arch::SystolicEngine&>(*cfg.engine);
  CHECK(e.params().ifmap_sram_bytes == 8u << 20);
  CHECK(e.params().filter_sram_bytes == 64u << 10);
  CHECK(e.dram().bytes_per_cycle == Approx(34e9 / 700e6));
  CHECK(e.dram().per_operand_channels);
  CHECK(e.peak_macs_per_cycle() == 128 * 128);
  CHECK(cfg.resolved["systolic"]["dataflow"] == "ws");
  CHECK(arch::build_arch({"r.json", cfg.resolved}).hash == cfg.hash);

  auto fails = [](nlohmann::json j, const std::string& path, const std::string& what) {
    j["engine"] = "systolic";
    CHECK_THROWS_WITH(arch::build_arch({"s.json", j}),
                      Contains("s.json: " + path) && Contains(what));
  };
  fails({{"systolic", {{"rows", 0}, {"cols", 8}}}}, "/systolic/rows", "positive integer");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", "rs"}}}}, "/systolic/dataflow",
        "ws, os, is");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}, {"mdoe", "native"}}}}, "/systolic/mdoe",
        "unknown key");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}}}, {"sram", {{"ifmap", "1 furlong"}}}},
        "/sram/ifmap", "unknown unit");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}}}, {"dram", {{"bandwidth", "lots"}}}},
        "/dram/bandwidth", "cannot read");
  fails({{"systolic", {{"rows", 8}}}}, "/systolic", "missing required key 'cols'");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}, {"mode", "scalesim"}}},
         {"dram", {{"channels", "per_operand"}}}},
        "/dram/channels", "shared");
  // SCALE-Sim mode shares one channel by default; native mode has one per operand.
  const auto ss = arch::build_arch(
      {"s.json",
       {{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 8}, {"mode", "scalesim"}}}}});
  CHECK_FALSE(ss.engine->dram().per_operand_channels);
}
