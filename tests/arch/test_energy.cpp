// The energy model: technology tables (loading, scaling, errors), the bit-toggle counter
// (statistics of random streams, hand-computed sequences and ports, the sampling estimator's
// confidence interval), the calibration of datapath energy, and channel reordering (the
// permuted network computes the same function; toggles never increase).
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "arch/config.hpp"
#include "arch/energy/hamming.hpp"
#include "arch/energy/reorder.hpp"
#include "arch/energy/technology.hpp"
#include "arch/systolic/systolic.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::arch::energy;
using Catch::Matchers::Contains;

namespace {

arch::SystolicEngine systolic(dataflows::Dataflow d, arch::i64 rows, arch::i64 cols) {
  arch::SystolicParams p;
  p.rows = rows;
  p.cols = cols;
  p.dataflow = d;
  return arch::SystolicEngine(p);
}

workloads::Operator conv(const std::string& name, arch::i64 c, arch::i64 k, arch::i64 hw) {
  workloads::Operator op;
  op.name = name;
  op.shape = workloads::Conv{.n = 1, .c = c, .h = hw, .w = hw, .k = k, .r = 3, .s = 3,
                             .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
  return op;
}

// Direct convolution (NCHW input, KCRS weights, stride 1, padding 1), for equivalence checks.
std::vector<std::int64_t> run_conv(const workloads::Conv& c, const std::vector<std::int64_t>& in,
                                   const std::vector<std::int32_t>& w) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(c.k * c.h * c.w), 0);
  for (arch::i64 k = 0; k < c.k; ++k)
    for (arch::i64 y = 0; y < c.h; ++y)
      for (arch::i64 x = 0; x < c.w; ++x) {
        std::int64_t acc = 0;
        for (arch::i64 ch = 0; ch < c.c; ++ch)
          for (arch::i64 r = 0; r < 3; ++r)
            for (arch::i64 s = 0; s < 3; ++s) {
              const arch::i64 h = y - 1 + r, ww = x - 1 + s;
              if (h < 0 || h >= c.h || ww < 0 || ww >= c.w) continue;
              acc += in[static_cast<std::size_t>((ch * c.h + h) * c.w + ww)] *
                     w[static_cast<std::size_t>(((k * c.c + ch) * 3 + r) * 3 + s)];
            }
        out[static_cast<std::size_t>((k * c.h + y) * c.w + x)] = acc;
      }
  return out;
}

}  // namespace

TEST_CASE("uniformly random n-bit operands toggle n/2 bits per transition", "[energy][toggles]") {
  std::mt19937_64 rng(7);
  for (int bits : {4, 8, 16}) {
    const std::size_t n = 1 << 20;
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = rng() & ((std::uint64_t{1} << bits) - 1);
    const double mean = static_cast<double>(stream_toggles(v.data(), n)) / static_cast<double>(n - 1);
    // XOR of independent uniform values is uniform: toggles ~ Binomial(bits, 1/2) per pair,
    // variance bits/4; consecutive pairs are pairwise independent. 5 standard errors:
    const double bound = 5 * std::sqrt(bits / 4.0 / static_cast<double>(n - 1));
    INFO("bits " << bits << " mean " << mean);
    CHECK(std::abs(mean - bits / 2.0) < bound);
  }
}

TEST_CASE("toggle kernels: constant streams, hand-computed sequences, packed bytes", "[energy][toggles]") {
  const std::vector<std::uint64_t> constant(1000, 0xA5);
  CHECK(stream_toggles(constant.data(), constant.size()) == 0);
  const std::vector<std::uint64_t> seq{0x00, 0xFF, 0x0F, 0x0F, 0x00, 0x01};
  CHECK(stream_toggles(seq.data(), seq.size()) == 8 + 4 + 0 + 4 + 1);
  std::mt19937_64 rng(3);
  std::vector<std::uint8_t> bytes(1003);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  std::vector<std::uint64_t> wide(bytes.begin(), bytes.end());
  CHECK(stream_toggles_bytes(bytes.data(), bytes.size(), 1) == stream_toggles(wide.data(), wide.size()));
  CHECK(stream_toggles(seq.data(), 1) == 0);
}

TEST_CASE("systolic os ports on a tiny GEMM match hand-computed toggles", "[energy][streams]") {
  // A = [[1,2,3],[0,0,0]], B = [[1,0],[0,1],[1,1]] on a 2x2 output-stationary array:
  //   activation: row 0 sees 1,2,3 (2 + 1 toggles), row 1 zeros; shared by 2 columns -> 6
  //   weight: column 0 sees 1,0,1 (2), column 1 sees 0,1,1 (1); shared by 2 rows -> 6
  //   psum: PE(0,0) 1,1,4 (0 + 2), PE(0,1) 0,2,5 (1 + 3), row 1 zeros -> 6
  workloads::Operator op;
  op.name = "mm";
  op.shape = workloads::MatMul{.batch = 1, .m = 2, .n = 2, .k = 3};
  LayerValues v;
  v.input = {1, 2, 3, 0, 0, 0};
  v.weight = {1, 0, 0, 1, 1, 1};
  const auto e = systolic(dataflows::Dataflow::os, 2, 2);
  const auto streams = e.operand_streams(op);
  REQUIRE(streams);
  const auto counts = count_toggles(*streams, op, v, HammingOptions{});
  REQUIRE(counts.size() == 3);
  CHECK(counts[0].port == "pe.activation");
  CHECK(counts[0].toggles == 6);
  CHECK(counts[0].transitions == 2 * 2 * 2);  // 2 rows x 2 transitions x 2 columns
  CHECK(counts[1].toggles == 6);
  CHECK(counts[2].toggles == 6);
  for (const auto& c : counts) CHECK(c.exact);
}

TEST_CASE("gated and skipped zeros are not latched: no toggles on their ports", "[energy][streams][gating]") {
  // A = [[1,0,3],[0,2,0]], B = [[1,0],[0,1],[1,1]] on a 2x2 output-stationary array.
  //   activation, every value latched: row 0 1,0,3 (1 + 2), row 1 0,2,0 (1 + 1); 2 columns -> 10
  //   zeros held: row 0 1,3 (1), row 1 2 (0) -> 2;  transitions 2 x (1 + 0) = 2
  //   weight, latched: column 0 1,0,1 (2), column 1 0,1,1 (1); 2 rows -> 6; held: 1,1 and 1,1 -> 0
  //   psum: a zero product leaves the sum as it was, so gating changes nothing there:
  //   PE(0,0) 1,1,4 (2), PE(0,1) 0,0,3 (2), PE(1,0) 0,0,0 (0), PE(1,1) 0,2,2 (1) -> 5
  workloads::Operator op;
  op.name = "mm";
  op.shape = workloads::MatMul{.batch = 1, .m = 2, .n = 2, .k = 3};
  LayerValues v;
  v.input = {1, 0, 3, 0, 2, 0};
  v.weight = {1, 0, 0, 1, 1, 1};
  for (int gate = 0; gate < 4; ++gate) {
    arch::SystolicParams p;
    p.rows = p.cols = 2;
    p.dataflow = dataflows::Dataflow::os;
    p.common.gate_activations = gate & 1;
    p.common.gate_weights = gate & 2;
    const arch::SystolicEngine e(p);
    const auto streams = e.operand_streams(op);
    REQUIRE(streams);
    for (const auto& counts : {count_toggles(*streams, op, v, HammingOptions{}),
                               count_toggles_reference(*streams, op, v, HammingOptions{})}) {
      INFO("gating " << gate);
      REQUIRE(counts.size() == 3);
      CHECK(counts[0].toggles == (gate & 1 ? 2 : 10));
      CHECK(counts[0].transitions == (gate & 1 ? 2 : 8));
      CHECK(counts[1].toggles == (gate & 2 ? 0 : 6));
      CHECK(counts[2].toggles == 5);
    }
  }
}

TEST_CASE("row counting equals the loop-nest walk on every port", "[energy][streams]") {
  // count_toggles' exact counts (rows of laid-out operands, repeats summarised) against
  // count_toggles_reference (each position of each loop nest in turn): equal, not close.
  std::vector<workloads::Operator> ops;
  ops.push_back(conv("c3x3", 6, 10, 9));  // odd sizes: partial folds on every dimension
  {
    auto op = conv("strided", 5, 7, 11);
    auto& c = std::get<workloads::Conv>(op.shape);
    c.stride_h = c.stride_w = 2;
    c.dilation_w = 2;
    c.n = 2;
    ops.push_back(op);
  }
  {
    auto op = conv("depthwise", 12, 12, 7);
    std::get<workloads::Conv>(op.shape).groups = 12;
    ops.push_back(op);
  }
  {
    auto op = conv("narrow_16bit", 3, 9, 8);
    op.precision = {.weight_bits = 12, .activation_bits = 16};
    ops.push_back(op);
  }
  {
    workloads::Operator op;
    op.name = "attention";  // activation x activation, one B per batch entry
    op.shape = workloads::MatMul{.batch = 3, .m = 13, .n = 9, .k = 21, .b_is_weight = false};
    ops.push_back(op);
  }
  {
    workloads::Operator op;
    op.name = "fc";
    op.shape = workloads::MatMul{.batch = 2, .m = 5, .n = 37, .k = 70};
    ops.push_back(op);
  }
  std::vector<std::pair<std::string, std::shared_ptr<const arch::Engine>>> engines;
  for (auto d : {dataflows::Dataflow::ws, dataflows::Dataflow::os, dataflows::Dataflow::is})
    for (arch::i64 rows : {4, 5})
      engines.emplace_back(std::string(dataflows::to_string(d)) + std::to_string(rows),
                           std::make_shared<arch::SystolicEngine>(systolic(d, rows, 3)));
  for (const char* f : {"configs/arch/eyeriss.json", "configs/arch/bitfusion_isca2018.json"})
    engines.emplace_back(f, arch::load_arch(test::source_path(f)).engine);
  // Ports that hold gated or skipped zeros (PortStream::hold_zeros).
  for (const char* f : {"configs/arch/systolic_edge_32x32.json", "configs/arch/bitfusion_isca2018.json"})
    engines.emplace_back(std::string(f) + " gated",
                         arch::load_arch(test::source_path(f), {"energy.zero_gating=both"}).engine);
  engines.emplace_back("sparse skip", arch::load_arch(test::source_path("configs/arch/eyeriss_v2.json"),
                                                      {"sparse.pes=12", "sparse.sync_positions=3"}).engine);
  engines.emplace_back("sparse gate-w", arch::load_arch(test::source_path("configs/arch/eyeriss_v2.json"),
                                                        {"sparse.skip=activations", "sparse.gate=weights",
                                                         "sparse.pes=8", "sparse.sync_positions=4"}).engine);
  HammingOptions exact;
  exact.exact_limit = std::uint64_t{1} << 40;
  int compared = 0;
  for (bool sign_magnitude : {false, true}) {
    exact.sign_magnitude = sign_magnitude;
    for (const auto& op : ops) {
      const LayerValues v = make_values(op, exact);
      for (const auto& [name, engine] : engines) {
        const auto* src = engine->stream_source();
        REQUIRE(src);
        const auto streams = src->operand_streams(op);
        if (!streams) continue;
        const auto fast = count_toggles(*streams, op, v, exact);
        const auto ref = count_toggles_reference(*streams, op, v, exact);
        REQUIRE(fast.size() == ref.size());
        for (std::size_t p = 0; p < ref.size(); ++p) {
          INFO(op.name << " on " << name << ", port " << ref[p].port << ", sign-magnitude "
                       << sign_magnitude);
          CHECK(fast[p].exact);
          CHECK(fast[p].toggles == ref[p].toggles);
          CHECK(fast[p].transitions == ref[p].transitions);
          CHECK(fast[p].values == ref[p].values);
          ++compared;
        }
      }
    }
  }
  CHECK(compared >= 250);
}

namespace {

// A radix-2 FFT of n points on two butterfly units: unit u takes pairs u, u + 2, u + 4, ... of
// each stage. Stage s's pair p joins x[upper] and x[upper + 2^s] with the twiddle
// W^(j * n / 2^(s+1)), where j = p mod 2^s and upper = (p / 2^s) * 2^(s+1) + j.
struct Butterfly {
  arch::i64 upper, lower, twiddle;
};
Butterfly butterfly(arch::i64 n, int s, arch::i64 p) {
  const arch::i64 half = arch::i64{1} << s, j = p % half;
  const arch::i64 upper = (p / half) * 2 * half + j;
  return {upper, upper + half, j * (n / (2 * half))};
}

// The same streams as strided loop nests, one segment per stage. At stage 0 the two units take
// neighbouring blocks (stride 2 between units); later they take neighbouring pairs of a block.
IndexedStream fft_stream(const std::string& port, const std::string& tensor, arch::i64 n,
                         int stages, int which) {  // which: 0 upper, 1 lower, 2 re(W), 3 im(W)
  const arch::i64 units = 2;
  IndexedStream st{.port = port, .tensor = tensor, .bits = 8, .segments = {}};
  for (int s = 0; s < stages; ++s) {
    const arch::i64 half = arch::i64{1} << s, tw = n / (2 * half);
    IndexSegment g;
    if (s == 0) {
      const bool data = which < 2;
      g.offset = data ? which : which - 2;
      g.loops = {{"pair", n / 2 / units, data ? 2 * units : 0, false},
                 {"unit", units, data ? 2 : 0, true}};
    } else if (which < 2) {
      g.offset = which * half;
      g.loops = {{"block", n / (2 * half), 2 * half, false},
                 {"pair", half / units, units, false},
                 {"unit", units, 1, true}};
    } else {
      g.offset = which - 2;
      g.loops = {{"block", n / (2 * half), 0, false},
                 {"pair", half / units, 2 * units * tw, false},
                 {"unit", units, 2 * tw, true}};
    }
    st.segments.push_back(g);
  }
  return st;
}

// Brute force: every unit's values in the order it receives them, toggles between neighbours.
double fft_toggles(const std::vector<std::int32_t>& x, const std::vector<std::int32_t>& w,
                   arch::i64 n, int stages, int which) {
  double toggles = 0;
  for (arch::i64 u = 0; u < 2; ++u) {
    std::optional<std::uint64_t> prev;
    for (int s = 0; s < stages; ++s)
      for (arch::i64 p = u; p < n / 2; p += 2) {
        const Butterfly b = butterfly(n, s, p);
        const std::int32_t v = which == 0   ? x[b.upper]
                               : which == 1 ? x[b.lower]
                                            : w[2 * b.twiddle + (which - 2)];
        const std::uint64_t bits = static_cast<std::uint64_t>(v) & 0xff;
        if (prev) toggles += std::popcount(bits ^ *prev);
        prev = bits;
      }
  }
  return toggles;
}

}  // namespace

TEST_CASE("indexed streams: FFT butterfly pairs and twiddles against a brute-force walk",
          "[energy][streams]") {
  const arch::i64 n = 64;
  const int stages = 6;
  std::mt19937_64 rng(5);
  std::vector<std::int32_t> x(n);
  for (auto& v : x) v = std::uniform_int_distribution<std::int32_t>(-128, 127)(rng);
  LayerValues values;
  values.input = x;
  values.tables["twiddle"] = twiddle_table(n, 8);
  REQUIRE(values.tables["twiddle"].size() == static_cast<std::size_t>(n));
  CHECK(values.tables["twiddle"][0] == 127);  // W^0 = 1
  CHECK(values.tables["twiddle"][1] == 0);
  CHECK(values.tables["twiddle"][2 * (n / 4) + 1] == -127);  // W^(n/4) = -i

  HammingOptions exact;
  LayerStreams streams;
  const char* names[] = {"bf.upper", "bf.lower", "bf.twiddle.re", "bf.twiddle.im"};
  for (int which = 0; which < 4; ++which)
    streams.indexed.push_back(
        fft_stream(names[which], which < 2 ? "input" : "twiddle", n, stages, which));
  workloads::Operator op;
  op.name = "fft";
  const auto counts = count_toggles(streams, op, values, exact);
  REQUIRE(counts.size() == 4);
  for (int which = 0; which < 4; ++which) {
    INFO(names[which]);
    const auto& c = counts[static_cast<std::size_t>(which)];
    CHECK(c.exact);
    CHECK(c.port == names[which]);
    CHECK(c.toggles == fft_toggles(x, values.tables["twiddle"], n, stages, which));
    CHECK(c.toggles > 0);
    CHECK(c.transitions == 2 * (stages * n / 4 - 1));  // two units, n/4 pairs per stage each
  }

  // A spatial loop of stride 0 in every segment is one stream seen by every copy.
  IndexedStream shared{.port = "bcast", .tensor = "input", .bits = 8,
                       .segments = {{0, {{"t", n, 1, false}, {"copy", 3, 0, true}}}}};
  IndexedStream one{.port = "one", .tensor = "input", .bits = 8,
                    .segments = {{0, {{"t", n, 1, false}}}}};
  CHECK(count_indexed(shared, x, exact).toggles == 3 * count_indexed(one, x, exact).toggles);
  CHECK(count_indexed(shared, x, exact).values == n);

  // Beyond the exact limit the count is sampled, and its interval covers the exact count.
  HammingOptions sampled;
  sampled.exact_limit = 16;
  sampled.samples = 4096;
  int covered = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed)
    for (const auto& st : streams.indexed) {
      const PortCount e = count_indexed(st, stream_tensor(values, st.tensor), exact);
      const PortCount est = count_indexed(st, stream_tensor(values, st.tensor), sampled, seed);
      CHECK_FALSE(est.exact);
      CHECK(est.transitions == e.transitions);
      covered += std::abs(est.toggles - e.toggles) <= est.ci95;
    }
  CHECK(covered >= 0.8 * 80);  // nominal 95%

  // An engine's stream that reads outside its tensor is a bug, caught before any read.
  IndexedStream outside = one;
  outside.segments[0].offset = 1;
  CHECK_THROWS_WITH(count_indexed(outside, x, exact), Contains("'one'") && Contains("[1, 64]"));
  CHECK_THROWS_WITH(stream_tensor(values, "coefficients"), Contains("'coefficients'"));
}

TEST_CASE("weight-stationary weights cost no toggles while held", "[energy][streams]") {
  workloads::Operator op;
  op.name = "mm";
  op.shape = workloads::MatMul{.batch = 1, .m = 64, .n = 4, .k = 4};
  HammingOptions o;
  const LayerValues v = make_values(op, o);
  const auto e = systolic(dataflows::Dataflow::ws, 4, 4);
  const auto counts = count_toggles(*e.operand_streams(op), op, v, o);
  CHECK(counts[1].port == "pe.weight");
  CHECK(counts[1].toggles == 0);  // one fold: each PE loads one weight and keeps it
  CHECK(counts[0].toggles > 0);
}

TEST_CASE("the sampling estimator's 95% interval covers the exact count", "[energy][sampling]") {
  const auto op = conv("c", 16, 16, 12);
  HammingOptions exact_opts;
  exact_opts.exact_limit = std::uint64_t{1} << 40;
  const LayerValues v = make_values(op, exact_opts);
  for (int gated = 0; gated < 2; ++gated)
  for (auto d : {dataflows::Dataflow::ws, dataflows::Dataflow::os, dataflows::Dataflow::is}) {
    arch::SystolicParams sp;
    sp.rows = sp.cols = 8;
    sp.dataflow = d;
    sp.common.gate_activations = sp.common.gate_weights = gated;  // zeros held: ReLU inputs are half zero
    const arch::SystolicEngine e(sp);
    const auto streams = *e.operand_streams(op);
    const auto exact = count_toggles(streams, op, v, exact_opts);
    int covered = 0, total = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      HammingOptions s;
      s.seed = seed;
      s.exact_limit = 20000;  // forces sampling
      s.samples = 4000;
      const auto est = count_toggles(streams, op, v, s);
      for (std::size_t p = 0; p < est.size(); ++p) {
        if (exact[p].toggles == 0 || est[p].exact) continue;  // small ports stay exact
        ++total;
        covered += std::abs(est[p].toggles - exact[p].toggles) <= est[p].ci95;
      }
    }
    INFO("dataflow " << dataflows::to_string(d) << (gated ? " gated" : "") << ": " << covered << " of " << total);
    CHECK(total >= 10);
    CHECK(covered >= 0.8 * total);  // nominal 95%
  }
}

TEST_CASE("datapath energy is calibrated to the table's MAC energy", "[energy][calibration]") {
  workloads::Graph g("one");
  g.add(conv("c", 8, 8, 6));
  const auto e = systolic(dataflows::Dataflow::ws, 4, 4);
  const auto r = analyse_hamming(e, g, HammingOptions{});
  REQUIRE(r.layers.size() == 1);
  const auto& l = r.layers[0];
  const double e_mac = e.technology()->mac_cost("int8").energy_pj;
  // Fresh uniformly random values at every port each MAC: bits/2 toggles per port.
  const double random_per_mac = l.pj_per_toggle * (8 + 8 + 32) / 2.0 + l.base_pj_per_mac;
  CHECK(random_per_mac == Approx(e_mac));
  CHECK(l.table_mac_pj == Approx(e_mac * static_cast<double>(l.macs)));
  CHECK(l.original.energy_pj() > 0);
}

TEST_CASE("technology tables load, scale and name file and JSON path in errors", "[energy][tech]") {
  const auto t45 = load_technology("45nm");
  CHECK(t45->mac_cost("int8").energy_pj == Approx(0.2977));
  CHECK(t45->dram("ddr4") == Approx(15.0));
  CHECK(t45->sram_read_pj_per_bit(64 * 1024) > t45->sram_read_pj_per_bit(8 * 1024));
  // The fit reproduces Horowitz's 32 KB figure (20 pJ per 64-bit read) within its scatter.
  CHECK(t45->sram_access_pj(32 * 1024, 64, false) == Approx(20.0).epsilon(0.3));
  CHECK(t45->sram_write_pj_per_bit(1024) > t45->sram_read_pj_per_bit(1024));
  const auto t7 = load_technology("7nm");
  CHECK(t7->mac_cost("int8").energy_pj < t45->mac_cost("int8").energy_pj * 0.1);
  CHECK(t7->mac_cost("int8").area_um2 == Approx(687.6 * 0.059).epsilon(1e-3));
  CHECK(t7->dram("hbm2") == t45->dram("hbm2"));  // DRAM does not scale with the logic node
  const auto t28 = load_technology("28nm"), t16 = load_technology("16nm");
  CHECK(t28->mac_cost("int8").energy_pj < t45->mac_cost("int8").energy_pj);
  CHECK(t16->mac_cost("int8").energy_pj < t28->mac_cost("int8").energy_pj);
  CHECK(Technology::int_precision(3) == "int4");
  CHECK(Technology::int_precision(8) == "int8");
  CHECK(Technology::int_precision(12) == "int16");
  CHECK_THROWS_WITH(t45->mac_cost("int7"), Contains("int8"));

  // A user table with an error: the message names the file and the JSON path.
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = (dir / "tessera_bad_tech.json").string();
  auto j = nlohmann::json::parse(std::ifstream(std::string(TESSERA_SOURCE_DIR) + "/configs/tech/45nm.json"));
  j["mac"]["int8"]["energy_pj"] = -1;
  std::ofstream(path) << j.dump();
  CHECK_THROWS_WITH(load_technology(path), Contains("tessera_bad_tech.json") && Contains("/mac/int8/energy_pj"));
  j["mac"]["int8"]["energy_pj"] = 0.3;
  j["sram"]["typo"] = 1;
  std::ofstream(path) << j.dump();
  CHECK_THROWS_WITH(parse_technology(j, path), Contains("tessera_bad_tech.json") && Contains("/sram/typo"));
  CHECK_THROWS_WITH(load_technology("3nm"), Contains("45nm") && Contains("no such file"));
}

TEST_CASE("engines take energy and area from the technology table", "[energy][tech]") {
  const auto e = systolic(dataflows::Dataflow::ws, 8, 8);
  workloads::Operator op = conv("c", 8, 8, 6);
  const auto w = e.map(op);
  const auto energy = e.energy(w, 1000);
  CHECK(energy.at("mac") == Approx(static_cast<double>(w.macs) * 0.2977));
  // Leakage by component: area x the 45 nm table's density (logic 20, SRAM 50 mW/mm2) over
  // 1000 cycles at 1 GHz (1 mW for 1 ns = 1 pJ).
  CHECK(energy.at("leakage.pe_array") == Approx(64 * 687.6e-6 * 20.0 * 1000));
  CHECK(energy.at("leakage.vector") == Approx(e.vector_unit().area_mm2(*e.technology()) * 20.0 * 1000));
  CHECK(energy.at("leakage.sram") > 0);
  CHECK(energy.count("leakage") == 0);
  CHECK(e.area_mm2() > 64 * 687.6e-6);  // PEs plus the SRAMs
  op.precision = {.weight_bits = 16, .activation_bits = 16};
  CHECK(e.energy(e.map(op), 1000).at("mac") == Approx(static_cast<double>(w.macs) * 0.9474));
}

TEST_CASE("PEs are sized and MACs priced by the precision the design supports", "[energy][tech]") {
  // Figures from the 45 nm table itself (configs/tech/45nm.json, generated from the reference CSV).
  const auto t = load_technology("45nm");
  CHECK(t->mac_cost("fp32").energy_pj == Approx(3.7 + 0.9));  // Horowitz fp32 mult + add rows
  const auto sized = [](const char* pe) {
    arch::SystolicParams p;
    p.rows = p.cols = 8;
    p.dataflow = dataflows::Dataflow::ws;
    p.pe_precision = pe;
    return arch::SystolicEngine(p);
  };
  workloads::Operator int8 = conv("c", 8, 8, 6), int16 = int8, bf16 = int8, fp16 = int8;
  int16.precision = {.weight_bits = 16, .activation_bits = 16};
  bf16.precision = {.weight_bits = 16, .activation_bits = 16, .format = workloads::NumberFormat::bf16};
  fp16.precision = {.weight_bits = 16, .activation_bits = 16, .format = workloads::NumberFormat::fp16};
  const auto mac_pj = [](const arch::SystolicEngine& e, const workloads::Operator& op) {
    const auto w = e.map(op);
    return e.energy(w, 1000).at("mac") / static_cast<double>(w.macs);
  };
  const auto area = [&](const char* entry) {
    const auto e = sized(entry);
    return e.area_mm2() - 64 * t->mac_cost(entry).area_um2 * 1e-6;  // SRAMs and vector unit
  };
  // Area: the PE datatype's MAC area; everything else is the same whatever the datatype.
  for (const char* pe : {"int16", "bf16", "fp16", "fp32"}) CHECK(area(pe) == Approx(area("int8")));
  CHECK(sized("bf16").area_mm2() > sized("int8").area_mm2());
  // auto: each layer at its own arithmetic, float formats at the float entries.
  const auto a = sized("auto");
  CHECK(mac_pj(a, int8) == Approx(t->mac_cost("int8").energy_pj));
  CHECK(mac_pj(a, int16) == Approx(t->mac_cost("int16").energy_pj));
  CHECK(mac_pj(a, bf16) == Approx(t->mac_cost("bf16").energy_pj));
  CHECK(mac_pj(a, fp16) == Approx(t->mac_cost("fp16").energy_pj));
  CHECK(a.supports(int8).empty());
  CHECK_THAT(a.supports(bf16).at(0), Contains("sized for int8") && Contains("energy.pe_precision"));
  // Explicit PEs price what they run at their own entry: int8 layers on int16 PEs cost int16
  // MACs, bf16 and fp16 layers on fp32 PEs cost fp32 MACs.
  CHECK(mac_pj(sized("int16"), int8) == Approx(t->mac_cost("int16").energy_pj));
  CHECK(sized("int16").supports(int8).empty());
  CHECK(mac_pj(sized("fp32"), bf16) == Approx(t->mac_cost("fp32").energy_pj));
  CHECK(mac_pj(sized("bf16"), bf16) == Approx(t->mac_cost("bf16").energy_pj));
  // Layers the PEs cannot run: a warning, priced at their own entry.
  const auto i8 = sized("int8");
  CHECK(mac_pj(i8, int16) == Approx(t->mac_cost("int16").energy_pj));
  CHECK_THAT(i8.supports(int16).at(0), Contains("int16 MACs exceed the int8 PEs"));
  CHECK_THAT(i8.supports(bf16).at(0), Contains("bf16 MACs exceed the int8 PEs"));
  CHECK_THAT(sized("bf16").supports(int8).at(0), Contains("int8 MACs exceed the bf16 PEs"));
  CHECK_THAT(sized("fp16").supports(bf16).at(0), Contains("bf16 MACs exceed the fp16 PEs"));
  // The bit-toggle model calibrates to the same entry.
  workloads::Graph g("one");
  g.add(bf16);
  const auto r = analyse_hamming(sized("fp32"), g, HammingOptions{});
  CHECK(r.layers.at(0).precision == "fp32");
  CHECK(r.layers.at(0).table_mac_pj == Approx(static_cast<double>(r.layers[0].macs) * t->mac_cost("fp32").energy_pj));
}

TEST_CASE("channel reordering keeps the network's function", "[energy][reorder]") {
  const auto a = conv("a", 3, 8, 6), b = conv("b", 8, 4, 6);
  HammingOptions o;
  LayerValues va = make_values(a, o), vb = make_values(b, o);
  const auto& ca = std::get<workloads::Conv>(a.shape);
  const auto& cb = std::get<workloads::Conv>(b.shape);
  const std::vector<std::int64_t> x(va.input.begin(), va.input.end());
  const auto reference = run_conv(cb, run_conv(ca, x, va.weight), vb.weight);
  const auto perm = greedy_order(va.weight, 8, 3 * 9, 8);
  REQUIRE(perm.size() == 8);
  permute_outputs(a, va, perm);
  permute_inputs(b, vb, perm);
  CHECK(run_conv(cb, run_conv(ca, x, va.weight), vb.weight) == reference);
}

TEST_CASE("reordering never increases toggles", "[energy][reorder]") {
  workloads::Graph g("chain");
  const auto n1 = g.add(conv("c1", 8, 32, 8));
  const auto n2 = g.add(conv("c2", 32, 32, 8));
  const auto n3 = g.add(conv("c3", 32, 16, 8));
  g.connect(n1, n2);
  g.connect(n2, n3);
  for (auto d : {dataflows::Dataflow::ws, dataflows::Dataflow::os, dataflows::Dataflow::is}) {
    HammingOptions o;
    o.optimize_order = true;
    const auto r = analyse_hamming(systolic(d, 8, 8), g, o);
    INFO(dataflows::to_string(d));
    CHECK(r.toggles_optimized <= r.toggles);
    REQUIRE(r.layers.size() == 3);
    CHECK_FALSE(r.layers[2].permuted);  // no consumer: nothing to match
  }
}

TEST_CASE("the energy table shows whole layer names and explains its columns", "[energy][table]") {
  workloads::Graph g("long");
  const std::string a = "/features/features.3/block/block.0/block.0.0/Conv_long_suffix_a";
  const std::string b = "/features/features.3/block/block.0/block.0.0/Conv_long_suffix_b";
  const auto n1 = g.add(conv(a, 8, 8, 6));
  g.connect(n1, g.add(conv(b, 8, 8, 6)));  // names alike in their first 60 characters
  HammingOptions o;
  o.optimize_order = true;
  const auto table = format_table(analyse_hamming(systolic(dataflows::Dataflow::os, 4, 4), g, o));
  CHECK_THAT(table, Contains(a + "\n") && Contains(b + "\n"));
  CHECK_THAT(table, Contains("t/pair: bit toggles per consecutive pair"));
  // The figures keep their columns: each layer row's name starts at the header's "layer".
  const auto header_at = table.find("layer");
  const auto row = table.substr(table.find('\n') + 1);
  CHECK(row.find(a) == header_at);
}

TEST_CASE("reordering never increases any layer's or port's toggles", "[energy][reorder]") {
  // A MobileNet-like chain: pointwise expansions, depthwise convolutions passed through, 1x1
  // projections. The network total can drop while one layer (a consumer whose input channels
  // were permuted) toggles more; the optimiser must keep the identity order then.
  const auto pointwise = [](const std::string& name, arch::i64 c, arch::i64 k, arch::i64 hw) {
    workloads::Operator op;
    op.name = name;
    op.shape = workloads::Conv{.n = 1, .c = c, .h = hw, .w = hw, .k = k, .r = 1, .s = 1};
    return op;
  };
  const auto dw = [](const std::string& name, arch::i64 c, arch::i64 hw) {
    workloads::Operator op;
    op.name = name;
    op.shape = workloads::Conv{.n = 1, .c = c, .h = hw, .w = hw, .k = c, .r = 3, .s = 3,
                               .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1,
                               .groups = c};
    return op;
  };
  workloads::Graph g("mobile");
  auto last = g.add(conv("stem", 3, 16, 8));
  const auto chain = [&](workloads::Operator op) {
    const auto n = g.add(std::move(op));
    g.connect(last, n);
    last = n;
  };
  chain(pointwise("expand1", 16, 48, 8));
  chain(dw("dw1", 48, 8));
  chain(pointwise("project1", 48, 24, 8));
  chain(pointwise("expand2", 24, 72, 8));
  chain(dw("dw2", 72, 8));
  chain(pointwise("project2", 72, 24, 8));
  int permuted = 0;
  for (auto d : {dataflows::Dataflow::ws, dataflows::Dataflow::os, dataflows::Dataflow::is})
    for (std::uint64_t seed : {1, 2, 3, 4}) {
      HammingOptions o;
      o.optimize_order = true;
      o.seed = seed;
      const auto r = analyse_hamming(systolic(d, 8, 8), g, o);
      INFO(dataflows::to_string(d) << " seed " << seed);
      for (const auto& l : r.layers) {
        INFO(l.name);
        REQUIRE(l.optimized);
        REQUIRE(l.original.exact);
        REQUIRE(l.optimized->ports.size() == l.original.ports.size());
        for (std::size_t p = 0; p < l.original.ports.size(); ++p) {
          INFO(l.original.ports[p].port);
          CHECK(l.optimized->ports[p].toggles <= l.original.ports[p].toggles);
        }
        permuted += l.permuted;
      }
    }
  CHECK(permuted > 0);  // the rule still lets orders that help through
}

TEST_CASE("a port is worse when its exact count rises or a sampled gain is not clear",
          "[energy][reorder]") {
  PortCount before, after;
  before.toggles = 100, after.toggles = 101;
  CHECK(port_worse(before, after));
  after.toggles = 100;
  CHECK_FALSE(port_worse(before, after));
  before.exact = after.exact = false;
  before.ci95 = after.ci95 = 3;  // combined half-width 4.24
  after.toggles = 96;
  CHECK(port_worse(before, after));
  after.toggles = 95;
  CHECK_FALSE(port_worse(before, after));
}

TEST_CASE("sign-magnitude patterns and trained-like weights", "[energy][reorder]") {
  CHECK(encode_sign_magnitude(3, 8) == 0x03);
  CHECK(encode_sign_magnitude(-3, 8) == 0x83);  // two's complement would be 0xfd
  CHECK(encode_sign_magnitude(-127, 8) == 0xff);
  CHECK(encode_sign_magnitude(0, 8) == 0);
  // Small values of both signs: sign-magnitude toggles fewer bits than two's complement.
  workloads::Graph g("chain");
  const auto n1 = g.add(conv("c1", 16, 64, 8));
  g.connect(n1, g.add(conv("c2", 64, 32, 8)));
  HammingOptions twos;
  twos.data = "trained-like";
  twos.optimize_order = true;
  HammingOptions sm = twos;
  sm.sign_magnitude = true;
  const auto e = systolic(dataflows::Dataflow::os, 8, 8);
  const auto a = analyse_hamming(e, g, twos), b = analyse_hamming(e, g, sm);
  CHECK(a.layers[0].weight_source == "trained-like clusters");
  CHECK(b.toggles < a.toggles);
  // Interleaved clusters of near-copy filters: reordering gains far more than on i.i.d. weights.
  HammingOptions iid = twos;
  iid.data = "synthetic";
  const auto c = analyse_hamming(e, g, iid);
  const auto gain = [](const HammingReport& r) { return 1 - r.toggles_optimized / r.toggles; };
  CHECK(a.layers[0].permuted);
  CHECK(gain(a) > 2 * gain(c));
}
