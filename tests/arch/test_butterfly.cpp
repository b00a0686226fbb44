// The butterfly engine: reference mode against the Butterfly accelerator artefact's own
// latencies (tests/data/butterfly_acc/latency.csv, README.md there), native plans worked by hand.
#include <bit>
#include <functional>
#include <optional>

#include <catch2/catch.hpp>

#include "arch/butterfly/butterfly.hpp"
#include "common/csv.hpp"
#include "arch/config.hpp"
#include "arch/energy/hamming.hpp"
#include "arch/energy/values.hpp"
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
          .name = "coef", .bytes_per_cycle = coef_bits / 8, .ports = {"coefficients", "weight"}},
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

TEST_CASE("butterfly reference mode: the artefact's cycles and latency on every reference row",
          "[arch][butterfly]") {
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

TEST_CASE("butterfly reference mode: other operators cost nothing and say so", "[arch][butterfly]") {
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

TEST_CASE("butterfly native: a butterfly layer's tiles, worked by hand", "[arch][butterfly]") {
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

TEST_CASE("butterfly native: a complex butterfly layer on the complex datapath",
          "[arch][butterfly]") {
  // The same 5 rows of a 64 -> 64 butterfly as above, complex: a unit's four multipliers do one
  // complex multiply a cycle, so a row takes 4 x 96 = 384 cycles (S2P and P2S: 64); values and
  // weights are twice the bytes.
  const ButterflyEngine e(board(2, 2, 256, 64, 256));
  auto op = fp16("bfly", workloads::Butterfly{.rows = 5, .in_features = 64, .out_features = 64});
  op.precision.complex = true;
  CHECK(e.supports(op).empty());
  const auto w = e.map(op);
  CHECK(w.plan.compute_cycles() == 3 * 4 * 96);
  CHECK(w.plan.port_bytes("input") == 5 * 64 * 4);
  CHECK(w.plan.port_bytes("output") == 5 * 64 * 4);
  CHECK(w.plan.port_bytes("coefficients") == 2 * 64 * 6 * 4);
  // Peak: one complex MAC a cycle per unit; the plan's busiest time holds it.
  CHECK(e.peak_macs_per_cycle(op) == 4);
  CHECK(static_cast<double>(w.plan.compute_cycles()) * e.peak_macs_per_cycle(op) >=
        static_cast<double>(op.macs()));
  // Energy: each complex MAC as 4 real multiplies with their adds (kComplexMac4).
  REQUIRE(w.complex_mac);
  CHECK(*w.complex_mac == arch::energy::kComplexMac4);
  const auto& tech = *e.technology();
  const auto en = e.energy(w, w.plan.compute_cycles());
  CHECK(en.at("mac") == Approx(static_cast<double>(op.macs()) * 4 * tech.mac_cost("fp16").energy_pj));
  // No streams described for complex values: their MACs keep the table's energy.
  CHECK_FALSE(e.operand_streams(op));
  // The artefact's model has no complex datapath; an FFT is complex by its shape.
  ButterflyParams ref = board(2, 2, 256, 64, 256);
  ref.reference = true;
  CHECK_THROWS_WITH(ButterflyEngine(ref).supports(op),
                    Catch::Contains("'bfly'") && Catch::Contains("no complex datapath"));
  auto fft = fp16("fft", workloads::Fft{.rows = 4, .cols = 64});
  fft.precision.complex = true;
  CHECK_THROWS_WITH(e.supports(fft), Catch::Contains("'fft'") && Catch::Contains("complex_input"));
}

TEST_CASE("butterfly native: the FNet mixer runs both passes, the second L-point over columns",
          "[arch][butterfly]") {
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

TEST_CASE("butterfly: operators it cannot run are one line naming them", "[arch][butterfly][errors]") {
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

namespace {

// Brute force: every port's values in the order it receives them. Engine e of `engines` takes
// rows e, e + engines, ... (each row is one stream: the walk below treats every row as its own
// port, as the engine's streams do); unit u takes pairs u, u + units, ... of each stage; stage s
// pairs j and j + 2^s, j = pair p with a zero bit inserted at s. `at` gives the value a port sees
// for (row, stage, pair); the toggles are summed over rows and units.
double walk(i64 rows, i64 n, i64 units, i64 stages, int bits,
            const std::function<std::int32_t(i64 row, i64 s, i64 p)>& at) {
  double toggles = 0;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  for (i64 r = 0; r < rows; ++r)
    for (i64 u = 0; u < units; ++u) {
      std::optional<std::uint64_t> prev;
      for (i64 s = 0; s < stages; ++s)
        for (i64 p = u; p < n / 2; p += units) {
          const std::uint64_t v = static_cast<std::uint64_t>(at(r, s, p)) & mask;
          if (prev) toggles += std::popcount(v ^ *prev);
          prev = v;
        }
    }
  return toggles;
}

i64 upper_of(i64 s, i64 p) {
  const i64 half = i64{1} << s;
  return (p / half) * 2 * half + p % half;
}

}  // namespace

TEST_CASE("butterfly streams: pairs, block weights and twiddles against a brute-force walk",
          "[arch][butterfly][energy][streams]") {
  arch::energy::HammingOptions exact;
  exact.exact_limit = std::uint64_t{1} << 30;
  for (const i64 units : {1, 2, 4, 8}) {
    INFO("units " << units);
    const ButterflyEngine e(board(4, units, 256, 64, 256));
    // A 48 -> 96 expansion: N = 64 (inputs zero-padded), 2 copies of 6 stages.
    const auto up =
        fp16("up", workloads::Butterfly{.rows = 5, .in_features = 48, .out_features = 96});
    const auto streams = e.operand_streams(up);
    REQUIRE(streams);
    const auto values = arch::energy::make_values(up, exact);
    REQUIRE(values.input.size() == 5 * 64);
    CHECK(values.input[63] == 0);  // padding
    const auto counts = arch::energy::count_toggles(*streams, up, values, exact);
    REQUIRE(counts.size() == 6);
    const i64 n = 64, stages = 6, u = std::min<i64>(units, n / 2);
    // Data: the same pairs for each copy (the rows again).
    const auto data = [&](bool lower) {
      return [&, lower](i64 r, i64 s, i64 p) {
        return values.input[static_cast<std::size_t>(r * n + upper_of(s, p) +
                                                      (lower ? (i64{1} << s) : 0))];
      };
    };
    double upper = 0, lower = 0;
    for (int copy = 0; copy < 2; ++copy) {
      upper += walk(5, n, u, stages, 16, data(false));
      lower += walk(5, n, u, stages, 16, data(true));
    }
    // Copies follow each other on a port: the copy boundary adds one transition per port.
    const auto boundary = [&](bool low) {
      double t = 0;
      const std::uint64_t mask = 0xffff;
      for (i64 r = 0; r < 5; ++r)
        for (i64 k = 0; k < u; ++k) {
          const i64 last_p = n / 2 - u + k;
          const auto last = static_cast<std::uint64_t>(data(low)(r, stages - 1, last_p)) & mask;
          const auto first = static_cast<std::uint64_t>(data(low)(r, 0, k)) & mask;
          t += std::popcount(last ^ first);
        }
      return t;
    };
    CHECK(counts[0].port == "bu.upper");
    CHECK(counts[0].exact);
    CHECK(counts[0].toggles == upper + boundary(false));
    CHECK(counts[1].toggles == lower + boundary(true));
    // Coefficient a of block (copy, stage, pair) on every row's engine (broadcast).
    double a = 0;
    {
      const std::uint64_t mask = 0xffff;
      for (i64 r = 0; r < 5; ++r)
        for (i64 k = 0; k < u; ++k) {
          std::optional<std::uint64_t> prev;
          for (i64 copy = 0; copy < 2; ++copy)
            for (i64 s = 0; s < stages; ++s)
              for (i64 p = k; p < n / 2; p += u) {
                const auto v = static_cast<std::uint64_t>(
                                   values.weight[static_cast<std::size_t>(
                                       ((copy * stages + s) * (n / 2) + p) * 4)]) &
                               mask;
                if (prev) a += std::popcount(v ^ *prev);
                prev = v;
              }
        }
    }
    CHECK(counts[2].port == "bu.coef.a");
    CHECK(counts[2].toggles == a);
    CHECK(counts[2].toggles > 0);

    // The FNet mixer, L = 6 rows (columns padded to 8 points) of D = 16: row FFTs, then column
    // FFTs over the padded columns, with their twiddles.
    const auto mix = fp16("mix", workloads::Fft{.rows = 6, .cols = 16, .two_d = true});
    const auto ms = e.operand_streams(mix);
    REQUIRE(ms);
    const auto mv = arch::energy::make_values(mix, exact);
    REQUIRE(mv.input.size() == 8 * 16);
    const auto mc = arch::energy::count_toggles(*ms, mix, mv, exact);
    REQUIRE(mc.size() == 8);
    const auto& tw = mv.tables.at("twiddle");
    const auto& twc = mv.tables.at("twiddle.col");
    const i64 ur = std::min<i64>(units, 8), uc = std::min<i64>(units, 4);
    CHECK(mc[0].port == "bu.rows.upper");
    CHECK(mc[0].toggles == walk(6, 16, ur, 4, 16, [&](i64 r, i64 s, i64 p) {
            return mv.input[static_cast<std::size_t>(r * 16 + upper_of(s, p))];
          }));
    CHECK(mc[2].port == "bu.rows.twiddle.re");
    CHECK(mc[2].toggles == walk(6, 16, ur, 4, 16, [&](i64, i64 s, i64 p) {
            const i64 half = i64{1} << s;
            return tw[static_cast<std::size_t>(2 * ((p % half) * (16 / (2 * half))))];
          }));
    CHECK(mc[5].port == "bu.cols.lower");
    CHECK(mc[5].toggles == walk(16, 8, uc, 3, 16, [&](i64 c, i64 s, i64 p) {
            return mv.input[static_cast<std::size_t>((upper_of(s, p) + (i64{1} << s)) * 16 + c)];
          }));
    CHECK(mc[7].port == "bu.cols.twiddle.im");
    CHECK(mc[7].toggles == walk(16, 8, uc, 3, 16, [&](i64, i64 s, i64 p) {
            const i64 half = i64{1} << s;
            return twc[static_cast<std::size_t>(2 * ((p % half) * (8 / (2 * half))) + 1)];
          }));
  }
  // Attention products and vector operators stream nothing through the butterfly units.
  const ButterflyEngine e(board(4, 4, 256, 64, 256));
  CHECK_FALSE(e.operand_streams(
      fp16("qk", workloads::MatMul{.batch = 2, .m = 8, .n = 8, .k = 8, .b_is_weight = false})));
}

TEST_CASE("butterfly: area by component and energy from the technology table",
          "[arch][butterfly][energy]") {
  const auto cfg = arch::load_arch(test::source_path("configs/arch/butterfly_vcu128.json"));
  const auto area = cfg.engine->area_by_component();
  for (const char* c : {"butterfly_units", "attention", "data_banks", "coefficient_buffer", "vector"}) {
    INFO(c);
    REQUIRE(area.count(c));
    CHECK(area.at(c) > 0);
  }
  const auto tech = arch::energy::load_technology("16nm");
  // 120 engines x 4 units x 4 fp16 multipliers.
  CHECK(area.at("butterfly_units") == Approx(1920 * tech->mac_cost("fp16").area_um2 * 1e-6));
  // Twice the units: twice the butterfly units' area and banks, the same coefficient buffer.
  const auto twice = arch::load_arch(test::source_path("configs/arch/butterfly_vcu128.json"),
                                     {"butterfly.units=8"});
  const auto a2 = twice.engine->area_by_component();
  CHECK(a2.at("butterfly_units") == Approx(2 * area.at("butterfly_units")));
  CHECK(a2.at("coefficient_buffer") == Approx(area.at("coefficient_buffer")));
  // MAC energy: the layer's MACs at the table's fp16 entry.
  const auto op = fp16("bfly", workloads::Butterfly{.rows = 8, .in_features = 64, .out_features = 64});
  const auto w = cfg.engine->map(op);
  const auto en = cfg.engine->energy(w, w.plan.compute_cycles());
  CHECK(en.at("mac") == Approx(static_cast<double>(op.macs()) * tech->mac_cost("fp16").energy_pj));
  CHECK(en.at("sram.data.read") > 0);
  CHECK(en.at("dram.read") > 0);
}
