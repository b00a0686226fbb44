// The systolic engine's native mode: the fixed fold-level plan ("mapping": "fixed") against
// hand-computed figures, buffer-dependent reuse and partial-sum spills, depthwise mapping; the
// mapper ("mapping": "mapper", the default) against the fixed plan; operators without MACs on the
// vector unit; config validation. SCALE-Sim mode is validated against SCALE-Sim's own results in
// tests/sim/test_systolic_scalesim.cpp. The mapper itself is tested in
// tests/dataflows/test_mapper.cpp.
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/systolic/systolic.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

// The fixed fold-level plan unless `mapper`.
arch::SystolicEngine engine(dataflows::Dataflow d, arch::i64 rows, arch::i64 cols,
                            arch::u64 sram = 1 << 20, bool mapper = false) {
  arch::SystolicParams p;
  p.rows = rows;
  p.cols = cols;
  p.dataflow = d;
  p.ifmap_sram_bytes = p.filter_sram_bytes = p.ofmap_sram_bytes = sram;
  p.use_mapper = mapper;
  return arch::SystolicEngine(p);
}

workloads::Operator gemm(arch::i64 m, arch::i64 n, arch::i64 k) {
  workloads::Operator op;
  op.name = "gemm";
  op.shape = workloads::MatMul{.batch = 1, .m = m, .n = n, .k = k};
  return op;
}

// DRAM bytes of the old per-operand view: the input and weight reads, partial sums brought back
// (ofmap reads) and everything written (final results and spilled partial sums).
enum Operand { ifmap, filter, ofmap, written };
dataflows::u64 total(const dataflows::TilePlan& p, Operand operand) {
  namespace port = dataflows::port;
  switch (operand) {
    case ifmap: return p.port_bytes(port::input);
    case filter: return p.port_bytes(port::weight);
    case ofmap: return p.port_bytes(port::psum_in);
    case written: return p.write_bytes();
  }
  return 0;
}

dataflows::u64 dram_bytes(const dataflows::TilePlan& p) { return p.read_bytes() + p.write_bytes(); }

}  // namespace

TEST_CASE("native ws: folds pipelined, operands fetched once when they fit", "[arch][systolic]") {
  // M=16, N=8, K=8 on 4x4, weight stationary: rows <- K (2 folds), cols <- N (2 folds), 16
  // streamed rows per fold. Folds overlap the next weights' 4-cycle load: 4 x max(16, 4) = 64,
  // plus the first weight load (4) and the last fold's skew and drain (4 + 4 - 2 = 6).
  const auto w = engine(dataflows::Dataflow::ws, 4, 4).map(gemm(16, 8, 8));
  CHECK_FALSE(w.plan.buffering.streaming);
  CHECK(w.plan.units == 16);
  CHECK(w.plan.compute_cycles() == 4 * 16 + 4 + 6);
  CHECK(w.plan.tile_count() == 4);
  CHECK(w.macs == 16 * 8 * 8);
  CHECK(!w.mapping);  // the fixed plan records no mapper choice
  // Every fold uses all 16 PEs for 16 cycles (fill and drain cycles count as busy too).
  CHECK(w.plan.busy_unit_cycles() == 16 * w.plan.compute_cycles());
  // Large buffers: A (16x8) and B (8x8) read once, C (16x8) written once after accumulating.
  CHECK(total(w.plan, ifmap) == 128);
  CHECK(total(w.plan, filter) == 64);
  CHECK(total(w.plan, ofmap) == 0);
  CHECK(total(w.plan, written) == 128);
  CHECK(w.plan.port_bytes(dataflows::port::output) == 128);
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
  CHECK(total(w.plan, ifmap) == 512);
  CHECK(total(w.plan, filter) == 64);
  CHECK(total(w.plan, ofmap) == 0);
  CHECK(total(w.plan, written) == 512);
  // Buffering depths: the other half of each buffer queues prefetched tiles and pending writes.
  // Largest input tile 32 B (8 rows x 4 of K), weight tile 16 B, output tile 8 x 4 = 32 B, in
  // 128 B halves: min(128/32, 128/16) = 4 tiles in flight each way.
  CHECK(w.plan.buffering.input == 4);
  CHECK(w.plan.buffering.output == 4);
  const auto big = engine(dataflows::Dataflow::ws, 4, 4).map(gemm(64, 8, 8));
  CHECK(big.plan.compute_cycles() == 4 * 64 + 4 + 6);
  CHECK(w.plan.compute_cycles() == big.plan.compute_cycles());

  // A 16 B ofmap buffer cannot hold one row of four 32-bit partial sums: the first row fold
  // writes them at 32 bits and the second reads them back, per column fold.
  auto p = engine(dataflows::Dataflow::ws, 4, 4).params();
  p.ofmap_sram_bytes = 16;
  const auto spill = arch::SystolicEngine(p).map(gemm(64, 8, 8));
  CHECK(total(spill.plan, ifmap) == 512);
  CHECK(total(spill.plan, ofmap) == 2 * 64 * 4 * 4);          // read back at 32 bits
  CHECK(total(spill.plan, written) == 2 * (64 * 4 * 4) + 2 * (64 * 4));  // spill + final outputs
  CHECK(spill.plan.port_bytes(dataflows::port::psum_out) == 2 * 64 * 4 * 4);
  CHECK(spill.plan.compute_cycles() == big.plan.compute_cycles());
  CHECK(spill.accesses.at("dram.ofmap").read_bytes == 2 * 64 * 4 * 4);
  CHECK(spill.accesses.at("dram.ofmap").write_bytes == 2 * (64 * 4 * 4) + 2 * (64 * 4));

  // The mapper cannot place even one 4 x 4 block of 32-bit partial sums (64 B) in 8 B: the
  // engine falls back to the fixed plan, spills included, and records no mapping.
  p.use_mapper = true;
  const auto fallback = arch::SystolicEngine(p).map(gemm(64, 8, 8));
  CHECK(!fallback.mapping);
  CHECK(fallback.plan.tiles == spill.plan.tiles);
}

TEST_CASE("native os and is: traffic by loop order", "[arch][systolic]") {
  const auto os = engine(dataflows::Dataflow::os, 4, 4).map(gemm(8, 8, 16));
  // rows <- M (2 folds), cols <- N (2 folds), 16 streamed: 4 x 16 + drain 6, no preload.
  CHECK(os.plan.compute_cycles() == 4 * 16 + 6);
  CHECK(total(os.plan, ifmap) == 8 * 16);
  CHECK(total(os.plan, filter) == 16 * 8);
  CHECK(total(os.plan, written) == 8 * 8);
  const auto is = engine(dataflows::Dataflow::is, 4, 4).map(gemm(8, 8, 16));
  // rows <- K (4 folds), cols <- M (2 folds), 8 streamed: 8 x 8 + preload 4 + drain 6.
  CHECK(is.plan.compute_cycles() == 8 * 8 + 4 + 6);
  CHECK(total(is.plan, ifmap) == 8 * 16);
  CHECK(total(is.plan, filter) == 16 * 8);
  CHECK(total(is.plan, written) == 8 * 8);
}

TEST_CASE("native os with weights larger than half the filter buffer: the fixed order re-reads "
          "them, the mapper does not move more", "[arch][systolic][mapper]") {
  // M=64, N=64, K=256 on 8x8, output stationary, 8-bit operands. A (16 KiB) fits half the 64 KiB
  // ifmap buffer; B (16 KiB) does not fit half the 4 KiB filter buffer, so the fixed plan (row
  // folds outer) fetches all of B again for each of the 8 row folds.
  arch::SystolicParams p;
  p.rows = p.cols = 8;
  p.dataflow = dataflows::Dataflow::os;
  p.ifmap_sram_bytes = p.ofmap_sram_bytes = 64 * 1024;
  p.filter_sram_bytes = 4 * 1024;
  p.use_mapper = false;
  const auto op = gemm(64, 64, 256);
  const arch::SystolicEngine fixed_engine(p);
  const auto fixed = fixed_engine.map(op);
  CHECK(total(fixed.plan, ifmap) == 64 * 256);
  CHECK(total(fixed.plan, filter) == 8 * 256 * 64);
  CHECK(total(fixed.plan, written) == 64 * 64);
  CHECK(!fixed.mapping);

  p.use_mapper = true;
  p.objective = dataflows::MapperObjective::energy;
  const arch::SystolicEngine mapped_engine(p);
  const auto mapped = mapped_engine.map(op);
  REQUIRE(mapped.mapping);
  INFO(mapped.mapping->to_json().dump());
  CHECK(dram_bytes(mapped.plan) <= dram_bytes(fixed.plan));
  // Blocks of B that fit 2 KiB, kept while M runs inside them, exist (e.g. 256 x 8 with M
  // innermost): minimising energy must not re-read all of B per row fold.
  CHECK(total(mapped.plan, filter) < total(fixed.plan, filter));
  CHECK(mapped.accesses.at("dram.filter").read_bytes == total(mapped.plan, filter));
  // The same MACs, and the final outputs written once either way.
  CHECK(mapped.macs == fixed.macs);
  CHECK(mapped.plan.port_bytes(dataflows::port::output) == 64 * 64);
  // The DRAM energy follows the bytes.
  const arch::u64 cycles = 20000;
  const auto e_fixed = fixed_engine.energy(fixed, cycles), e_mapped = mapped_engine.energy(mapped, cycles);
  CHECK(e_mapped.at("dram.filter.read") < e_fixed.at("dram.filter.read"));

  // The choice fits the half-buffers: an (m x k) block of A, (k x n) of B, (m x n) partial sums
  // at 32 bits.
  const auto tile = mapped.mapping->to_json().at("tile");
  const long tm = tile.at("m"), tn = tile.at("n"), tk = tile.at("k");
  CHECK(tm * tk <= 32 * 1024);
  CHECK(tk * tn <= 2 * 1024);
  CHECK(tm * tn * 4 <= 32 * 1024);
  // Every tile's fetches fit too.
  for (const auto& t : mapped.plan.tiles) {
    CHECK(t.bytes[mapped.plan.find_port(dataflows::port::input)] <= 32 * 1024);
    CHECK(t.bytes[mapped.plan.find_port(dataflows::port::weight)] <= 2 * 1024);
  }
  // Compute never beats the array's peak.
  CHECK(mapped.plan.compute_cycles() >= 64ull * 64 * 256 / 64);
}

TEST_CASE("native mapper with large buffers: every operand once, the fixed plan's cycles",
          "[arch][systolic][mapper]") {
  // The first case above (ws, M=16, N=8, K=8 on 4x4): whatever tiles the mapper picks, the folds
  // add up to 4 x 16 cycles plus the first weight load (4) and the drain (6), and nothing is
  // fetched twice.
  for (auto d : {dataflows::Dataflow::ws, dataflows::Dataflow::os, dataflows::Dataflow::is}) {
    INFO(dataflows::to_string(d));
    const auto fixed = engine(d, 4, 4).map(gemm(16, 8, 8));
    const auto mapped = engine(d, 4, 4, 1 << 20, true).map(gemm(16, 8, 8));
    REQUIRE(mapped.mapping);
    CHECK(total(mapped.plan, ifmap) == 16 * 8);
    CHECK(total(mapped.plan, filter) == 8 * 8);
    CHECK(total(mapped.plan, ofmap) == 0);
    CHECK(total(mapped.plan, written) == 16 * 8);
    CHECK(dram_bytes(mapped.plan) <= dram_bytes(fixed.plan));
    CHECK(mapped.macs == fixed.macs);
    CHECK(mapped.accesses.at("sram.ifmap").read_bytes == fixed.accesses.at("sram.ifmap").read_bytes);
  }
  CHECK(engine(dataflows::Dataflow::ws, 4, 4, 1 << 20, true).map(gemm(16, 8, 8)).plan.compute_cycles() ==
        4 * 16 + 4 + 6);
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
  const auto mapped = engine(dataflows::Dataflow::ws, 8, 8, 1 << 20, true).map(dw);
  CHECK(mapped.metrics.at("folds") == 8);  // the mapper sees the same side-by-side GEMM
  CHECK(mapped.macs == native.macs);
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
  for (bool mapper : {false, true}) {
    INFO("mapper " << mapper);
    const auto w = engine(dataflows::Dataflow::os, 16, 16, 1 << 20, mapper).map(conv);
    // M = 2 x 16 x 16 output pixels, K = 27, N = 16.
    CHECK(w.macs == 2 * 16 * 16 * 27 * 16);
    CHECK(w.metrics.at("folds") == (512 / 16) * 1);
    // Large buffers: the input (2 x 3 x 32 x 32) and the weights (16 x 27) once, not the
    // im2col matrix; the output (2 x 16 x 16 x 16) once.
    CHECK(total(w.plan, ifmap) == 2 * 3 * 32 * 32);
    CHECK(total(w.plan, filter) == 16 * 27);
    CHECK(total(w.plan, written) == 2 * 16 * 16 * 16);
  }
}

TEST_CASE("operators without MACs run on the vector unit in native mode, nothing in SCALE-Sim "
          "mode", "[arch][systolic]") {
  workloads::Operator relu;
  relu.name = "relu";
  relu.shape = workloads::Elementwise{.function = "relu", .elements = 1000};
  auto e = engine(dataflows::Dataflow::ws, 8, 8);
  const auto w = e.map(relu);
  CHECK(w.macs == 0);
  // 1000 compares on the 64 lanes of a vector unit built in code: ceil(1000 / 64) = 16 cycles.
  CHECK(w.vector[arch::VectorOp::compare] == 1000);
  CHECK(w.plan.compute_cycles() == 16);
  CHECK(w.plan.units == 64);
  CHECK(w.plan.read_bytes() == 1000);
  CHECK(w.plan.write_bytes() == 1000);
  CHECK(e.supports(relu).empty());
  auto p = e.params();
  p.scalesim_mode = true;
  const arch::SystolicEngine scalesim(p);
  CHECK(scalesim.map(relu).plan.tiles.empty());
  // ... and says so.
  const auto warnings = scalesim.supports(relu);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("without MACs") && Contains("scalesim"));
  // A MAC layer in SCALE-Sim mode gets the note on what its DRAM timing leaves out.
  const auto mac_warnings = scalesim.supports(gemm(8, 8, 8));
  REQUIRE(mac_warnings.size() == 1);
  CHECK_THAT(mac_warnings[0], Contains("DRAM"));
  CHECK(e.supports(gemm(8, 8, 8)).empty());
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
  // One shared channel by default, with the whole bandwidth.
  REQUIRE(e.memory().channels.size() == 1);
  CHECK(e.memory().form == arch::ChannelForm::shared);
  CHECK(e.memory().channels[0].bytes_per_cycle == Approx(34e9 / 700e6));
  CHECK(e.peak_macs_per_cycle() == 128 * 128);
  CHECK(e.vector_unit().lanes == 64);  // a stated default, not one lane per column
  CHECK(e.params().use_mapper);
  CHECK(e.params().objective == dataflows::MapperObjective::latency);
  CHECK(cfg.resolved["systolic"]["dataflow"] == "ws");
  CHECK(cfg.resolved["systolic"]["mapping"] == "mapper");
  CHECK(cfg.resolved["systolic"]["objective"] == "latency");
  CHECK(cfg.resolved["dram"]["channels"] == "shared");
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
  fails({{"systolic", {{"rows", 8}, {"cols", 8}, {"mapping", "greedy"}}}}, "/systolic/mapping",
        "mapper, fixed");
  fails({{"systolic", {{"rows", 8}, {"cols", 8}, {"objective", "area"}}}}, "/systolic/objective",
        "latency, energy, edp");
  // SCALE-Sim mode shares one channel; native mode may have one per operand.
  const auto ss = arch::build_arch(
      {"s.json",
       {{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 8}, {"mode", "scalesim"}}}}});
  CHECK(ss.engine->memory().form == arch::ChannelForm::shared);
  CHECK(ss.engine->memory().channels.size() == 1);
  const auto po = arch::build_arch({"s.json",
                                    {{"engine", "systolic"},
                                     {"systolic", {{"rows", 8}, {"cols", 8}}},
                                     {"dram", {{"channels", "per_operand"}}}}});
  CHECK(po.engine->memory().form == arch::ChannelForm::per_operand);
  CHECK(po.engine->memory().channels.size() == 3);
  // mapping and objective read back.
  const auto fixed = arch::build_arch({"s.json",
                                       {{"engine", "systolic"},
                                        {"systolic",
                                         {{"rows", 8}, {"cols", 8}, {"mapping", "fixed"},
                                          {"objective", "edp"}}}}});
  const auto& fe = dynamic_cast<const arch::SystolicEngine&>(*fixed.engine);
  CHECK_FALSE(fe.params().use_mapper);
  CHECK(fe.params().objective == dataflows::MapperObjective::edp);
  CHECK(arch::build_arch({"r.json", fixed.resolved}).hash == fixed.hash);
  CHECK(fixed.hash != ss.hash);
}

TEST_CASE("fixed fold plans are closed-form in the layer size, and spread operands exactly",
          "[arch][systolic]") {
  // Convolutions whose input words do not divide evenly over the row folds and chunks (valid
  // padding, stride 3), on arrays that leave partial last folds; 8-bit operands, so words are
  // bytes. Small layers, and the same with a batch of 2^30 (10^15 MACs, ~10^12 folds).
  const auto conv = [](arch::i64 batch) {
    workloads::Operator op;
    op.name = "conv";
    op.shape = workloads::Conv{.n = batch, .c = 5, .h = 23, .w = 19, .k = 13, .r = 4, .s = 3,
                               .stride_h = 3, .stride_w = 2};
    return op;
  };
  using dataflows::Dataflow;
  for (const Dataflow d : {Dataflow::os, Dataflow::ws, Dataflow::is})
    for (const arch::u64 sram : {arch::u64{1} << 20, arch::u64{300}})
      for (const bool scalesim : {false, true})
        for (const arch::i64 batch : {arch::i64{3}, arch::i64{1} << 30}) {
          INFO(dataflows::to_string(d) << ", SRAM " << sram << ", scalesim " << scalesim
                                       << ", batch " << batch);
          arch::SystolicParams p;
          p.rows = 7, p.cols = 6, p.dataflow = d, p.use_mapper = false, p.scalesim_mode = scalesim;
          p.ifmap_sram_bytes = p.filter_sram_bytes = p.ofmap_sram_bytes = sram;
          const arch::SystolicEngine e(p);
          const workloads::Operator op = conv(batch);
          const auto w = e.map(op);
          CHECK(w.plan.tiles.size() < 200);
          CHECK(static_cast<double>(w.plan.tile_count()) == w.metrics.at("folds"));
          if (scalesim) continue;  // SCALE-Sim counts traffic its own way (its own tests)
          const auto g = *dataflows::as_gemm(op);
          // The operands spread over folds and chunks add up to what is fetched once: os
          // fetches A at each row's first fold; with buffers that hold them, ws and is fetch
          // each once.
          if (d == Dataflow::os || (sram > 1000 && batch < 10))
            CHECK(total(w.plan, ifmap) == static_cast<dataflows::u64>(g.a_distinct));
          if (sram > 1000 && batch < 10) {
            CHECK(total(w.plan, filter) == static_cast<dataflows::u64>(g.b_distinct));
            CHECK(total(w.plan, written) == static_cast<dataflows::u64>(g.m * g.n));
          }
        }
}

TEST_CASE("systolic: a layer whose cycles pass 64 bits is an error, not a wrapped count",
          "[arch][systolic][overflow]") {
  // ws on 65536 rows x 1 column: K = 1 uses one row, each column of B is a fold of
  // max(M, R) = 2^16 cycles, plus the first stationary load (R) and the drain (R + C - 2).
  const auto e = engine(dataflows::Dataflow::ws, 65536, 1);
  const auto fits = e.map(gemm(1, arch::i64{1} << 40, 1), {});
  CHECK(fits.plan.tile_count() == arch::u64{1} << 40);
  CHECK(fits.plan.compute_cycles() == (arch::u64{1} << 56) + 65536 + 65535);
  // 2^50 folds: 2^66 cycles. Before, the total wrapped to 131071.
  const auto wide = e.map(gemm(1, arch::i64{1} << 50, 1), {});
  CHECK(wide.plan.tile_count() == arch::u64{1} << 50);
  CHECK_THROWS_WITH(wide.plan.compute_cycles(),
                    Contains("compute cycle count does not fit in 64 bits"));
}
