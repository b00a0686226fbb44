// The butterfly engine: reference mode against the Butterfly accelerator artefact's own
// latencies (tests/data/butterfly_acc/latency.csv, README.md there), native plans worked by hand.
#include <catch2/catch.hpp>

#include "arch/butterfly/butterfly.hpp"
#include "common/csv.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

using namespace tessera;
using arch::ButterflyEngine;
using arch::ButterflyParams;
using workloads::i64;

namespace {

// Input, coefficient and output ports of the given widths in bits per cycle.
ButterflyParams board(i64 engines, i64 units, double in_bits, double coef_bits, double out_bits) {
  ButterflyParams p;
  p.common.clock_hz = 200e6;
  p.common.memory.channels = {
      arch::MemoryChannel{
          .name = "in", .bytes_per_cycle = in_bits / 8, .ports = {"input", "epilogue_in"}},
      arch::MemoryChannel{
          .name = "coef", .bytes_per_cycle = coef_bits / 8, .ports = {"coefficients"}},
      arch::MemoryChannel{.name = "out", .bytes_per_cycle = out_bits / 8, .ports = {"output"}}};
  p.engines = engines;
  p.units = units;
  return p;
}

workloads::Operator fp16(std::string name, workloads::OpShape shape) {
  workloads::Operator op;
  op.name = std::move(name);
  op.shape = std::move(shape);
  op.precision = {16, 16, workloads::NumberFormat::fp16};
  return op;
}

}  // namespace

TEST_CASE("butterfly reference mode: the artefact's cycles and latency on every reference row") {
  const auto rows = read_csv_table(test::data_path("butterfly_acc/latency.csv"));
  REQUIRE(rows.size() >= 80);
  for (const auto& r : rows) {
    const auto num = [&](const char* k) { return std::stod(r.at(k)); };
    const auto whole = [&](const char* k) { return static_cast<i64>(std::stoll(r.at(k))); };
    const auto cycles = [&](const char* k) { return static_cast<arch::u64>(std::stoull(r.at(k))); };
    INFO(r.at("board") << " " << r.at("version") << " L=" << r.at("seq_len")
                       << " P_BE=" << r.at("p_be") << " P_BU=" << r.at("p_bu"));
    ButterflyParams p =
        board(whole("p_be"), whole("p_bu"), num("in_bits"), num("coef_bits"), num("out_bits"));
    p.reference = true;
    p.efficiency = 0.85;
    const ButterflyEngine e(p);
    const i64 L = whole("seq_len");
    const i64 D = r.at("version") == "base" ? 768 : 1024;
    const auto mix = fp16("mix", workloads::Fft{.rows = L, .cols = D, .two_d = true});
    const auto up =
        fp16("up", workloads::Butterfly{.rows = L, .in_features = D, .out_features = 4 * D});
    const auto down =
        fp16("down", workloads::Butterfly{.rows = L, .in_features = 4 * D, .out_features = D});
    // Exact: the artefact's cycles per operator.
    CHECK(e.reference_cycles(mix) == cycles("fft_pass1_cycles") + cycles("fft_pass2_cycles"));
    CHECK(e.reference_cycles(up) == cycles("bfly_expand_cycles"));
    CHECK(e.reference_cycles(down) == cycles("bfly_contract_cycles"));
    // The latency: each operator's cycles divided by the efficiency, rounded up to a cycle, so
    // within one cycle per operator of the artefact's layers x cycles / (f x efficiency).
    arch::u64 layer = 0;
    for (const auto* op : {&mix, &up, &down}) layer += e.map(*op).plan.compute_cycles();
    const double layers = num("layers");
    const double ms = layers * static_cast<double>(layer) / 200e6 * 1e3;
    const double cycle_ms = 1e3 / 200e6;
    CHECK(ms >= num("latency_ms") - 1e-12);
    CHECK(ms <= num("latency_ms") + 3 * layers * cycle_ms);
  }
}

TEST_CASE("butterfly reference mode: other operators cost nothing and say so") {
  ButterflyParams p = board(120, 4, 2048, 256, 2048);
  p.reference = true;
  const ButterflyEngine e(p);
  const auto norm = fp16("ln", workloads::Norm{workloads::NormType::layer, 128 * 768, 768});
  CHECK(e.map(norm).plan.compute_cycles() == 0);
  const auto w = e.supports(norm);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Contains("reference mode: not timed"));
  // A port width that does not hold whole values is an error, not a rounding.
  ButterflyParams odd = board(120, 4, 2040, 256, 2048);
  odd.reference = true;
  const auto up =
      fp16("up", workloads::Butterfly{.rows = 8, .in_features = 64, .out_features = 64});
  CHECK_THROWS_WITH(ButterflyEngine(odd).reference_cycles(up), Catch::Contains("input port"));
}

TEST_CASE("butterfly native: a butterfly layer's tiles, worked by hand") {
  // 2 engines of 2 units, 5 rows of a 64 -> 64 butterfly: 3 row groups (2, 2, 1 rows); a row takes
  // 6 stages x 16 steps = 96 cycles (S2P and P2S: 64); 64 x 6 x 4 x 2 B of weights once.
  const ButterflyEngine e(board(2, 2, 256, 64, 256));
  const auto op =
      fp16("bfly", workloads::Butterfly{.rows = 5, .in_features = 64, .out_features = 64});
  const auto w = e.map(op);
  CHECK(w.plan.tile_count() == 3);
  CHECK(w.plan.compute_cycles() == 3 * 96);
  CHECK(w.plan.port_bytes("input") == 5 * 64 * 2);
  CHECK(w.plan.port_bytes("output") == 5 * 64 * 2);
  CHECK(w.plan.port_bytes("coefficients") == 2 * 64 * 6 * 2);
  CHECK(w.macs == static_cast<arch::u64>(op.macs()));
  // The linear bank layout: the 4 stages of stride >= 4 read both values from one bank.
  ButterflyParams linear = board(2, 2, 256, 64, 256);
  linear.linear_banks = true;
  CHECK(ButterflyEngine(linear).map(op).plan.compute_cycles() == 3 * 16 * (6 + 4));
  // An expansion 64 -> 256 runs 4 copies, each with its weights and the rows again.
  const auto up =
      fp16("up", workloads::Butterfly{.rows = 5, .in_features = 64, .out_features = 256});
  const auto u = e.map(up);
  CHECK(u.plan.tile_count() == 12);
  CHECK(u.plan.port_bytes("input") == 4 * 5 * 64 * 2);
  CHECK(u.plan.port_bytes("output") == 5 * 256 * 2);
  CHECK(u.plan.port_bytes("coefficients") == 4 * 2 * 64 * 6 * 2);
}

TEST_CASE("butterfly native: the FNet mixer runs both passes, the second L-point over columns") {
  const ButterflyEngine e(board(4, 4, 256, 64, 256));
  // L = 16 rows of D = 64: pass 1, 4 groups of 64-point rows: 6 stages x 8 steps = 48 < 64 (S2P);
  // pass 2, 16 groups of 16-point columns: 4 x 2 = 8 < 16 (S2P).
  const auto mix = fp16("mix", workloads::Fft{.rows = 16, .cols = 64, .two_d = true});
  const auto w = e.map(mix);
  CHECK(w.plan.tile_count() == 4 + 16);
  CHECK(w.plan.compute_cycles() == 4 * 64 + 16 * 16);
  // Real in, complex intermediate out and back in, real out.
  CHECK(w.plan.port_bytes("input") == 16 * 64 * 2 + 16 * 64 * 4);
  CHECK(w.plan.port_bytes("output") == 16 * 64 * 4 + 16 * 64 * 2);
  // Twiddles: N/2 log2 N complex values per pass.
  CHECK(w.plan.port_bytes("coefficients") == (32 * 6 + 8 * 4) * 4);
}

TEST_CASE("butterfly: operators it cannot run are one line naming them") {
  const ButterflyEngine e(board(4, 4, 256, 64, 256));
  auto fc = fp16("fc", workloads::MatMul{.m = 4, .n = 4, .k = 4});
  CHECK_THROWS_WITH(e.supports(fc), Catch::Contains("'fc'") && Catch::Contains("dense"));
  ButterflyParams small = board(4, 4, 256, 64, 256);
  small.max_length = 64;
  const auto big =
      fp16("big", workloads::Butterfly{.rows = 1, .in_features = 128, .out_features = 128});
  CHECK_THROWS_AS(ButterflyEngine(small).supports(big), UnsupportedError);
  // Attention products run on the attention processor: 8 lanes of 32 MACs.
  const auto scores =
      fp16("qk", workloads::MatMul{.batch = 12, .m = 128, .n = 128, .k = 64, .b_is_weight = false});
  const auto w = e.map(scores);
  CHECK(w.plan.tile_count() == 2);
  CHECK(w.plan.compute_cycles() == 2 * 128 * 128 * 64 / 32);
  CHECK(e.peak_macs_per_cycle(scores) == 256);
}
