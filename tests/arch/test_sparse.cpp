// The sparse engine (arch/sparse/): the checks, each against a count made by hand or by
// brute force over the masks the engine uses:
//   - weight skipping on a perfectly balanced mask of density d takes d x the dense cycles;
//   - 2:4 (1:4) weights on the N:M datapath take exactly half (a quarter) of the dense cycles;
//   - a clustered mask is measurably slower than a uniform one of the same density, and neither
//     beats the balanced bound (the tile work spread evenly over the PEs);
//   - compressed sizes equal each format's formula; run-length fillers counted by hand;
//   - one skip-both PE on a 1x1 convolution takes exactly the effectual MACs of its masks;
//   - the expected-value mode states its balance assumption; bad keys name their path.
// The map cache and the timing of sparse plans: tests/sim/test_sparse_sim.cpp.
#include <catch2/catch.hpp>

#include <fstream>

#include "arch/config.hpp"
#include "arch/sparse/masks.hpp"
#include "arch/sparse/sparse.hpp"
#include "test_support.hpp"

using namespace tessera;
using arch::SparseFormat;

namespace {

using test::conv;

std::shared_ptr<const arch::Engine> engine(const nlohmann::json& sparse, const std::string& bandwidth = "1e6 B/cycle") {
  nlohmann::json cfg = {{"engine", "sparse"}, {"dram", {{"bandwidth", bandwidth}}}, {"sparse", sparse}};
  return arch::build_arch({"test", cfg}).engine;
}

arch::u64 cycles(const arch::Engine& e, const workloads::Operator& op) { return e.map(op).plan.compute_cycles(); }

}  // namespace

TEST_CASE("sparse: weight skipping on a balanced mask of density d takes d x the dense cycles", "[sparse]") {
  const auto dense = engine({{"pes", 16}, {"skip", "none"}});
  const auto skip = engine({{"pes", 16}, {"skip", "weights"}, {"weight_pattern", "balanced"}});
  const auto base = conv(64, 8, 32, 3);  // reduction 576 per filter
  const arch::u64 d1 = cycles(*dense, base);
  CHECK(d1 == 2 * 576 * 16 * 4);  // 2 filter blocks x 4 position blocks of 16 lanes x 16 positions
  for (double d : {0.25, 0.5, 0.75}) {
    INFO("density " << d);
    const auto op = conv(64, 8, 32, 3, d);
    CHECK(cycles(*skip, op) * 4 == static_cast<arch::u64>(d * 4) * d1);
  }
}

TEST_CASE("sparse: 2:4 and 1:4 weights on the N:M datapath take a half and a quarter of the dense cycles",
          "[sparse]") {
  const auto tc = arch::load_arch(test::source_path("configs/arch/nm_tensor_core.json"));
  auto dense = conv(64, 14, 128, 3);
  const arch::u64 d = cycles(*tc.engine, dense);
  auto half = dense, quarter = dense, other = dense;
  half.density.weight_pattern = workloads::StructuredSparsity{2, 4};
  half.density.weight = 0.5;
  quarter.density.weight_pattern = workloads::StructuredSparsity{1, 4};
  quarter.density.weight = 0.25;
  other.density.weight_pattern = workloads::StructuredSparsity{2, 8};
  other.density.weight = 0.25;
  CHECK(cycles(*tc.engine, half) * 2 == d);
  CHECK(cycles(*tc.engine, quarter) * 4 == d);
  CHECK(cycles(*tc.engine, other) == d);  // not a pattern of the datapath: dense, with a warning
  CHECK(tc.engine->supports(other).size() == 1);
  // Unstructured density gains nothing there.
  CHECK(cycles(*tc.engine, conv(64, 14, 128, 3, 0.5)) == d);
}

TEST_CASE("sparse: a clustered mask is slower than a uniform one of equal density, never below the balanced bound",
          "[sparse]") {
  for (const char* skip : {"weights", "both"}) {
    INFO(skip);
    const auto uniform = engine({{"pes", 64}, {"skip", skip}, {"weight_pattern", "uniform"}});
    const auto clustered = engine({{"pes", 64}, {"skip", skip}, {"weight_pattern", "clustered"}});
    const auto op = conv(64, 14, 64, 3, 0.4, 0.6);
    const auto wu = uniform->map(op), wc = clustered->map(op);
    // Equal density within 1%.
    CHECK(std::abs(wu.metrics.at("weight_density") - wc.metrics.at("weight_density")) < 0.01);
    const double cu = static_cast<double>(wu.plan.compute_cycles()), cc = static_cast<double>(wc.plan.compute_cycles());
    CHECK(cc > 1.2 * cu);
    for (const auto* w : {&wu, &wc}) {
      const double bound = w->metrics.at("mac_work") / 64.0;
      CHECK(static_cast<double>(w->plan.compute_cycles()) >= bound);
      CHECK(w->metrics.at("lane_utilization") <= 1.0);
    }
    CHECK(wc.metrics.at("lane_utilization") < wu.metrics.at("lane_utilization"));
  }
  // A perfectly balanced weight mask of the same density (every filter 40 % of its taps) is the
  // bound: it takes 0.4 x the dense cycles, and neither the uniform nor the clustered mask beats it.
  const auto op = conv(64, 14, 64, 3, 0.4, 0.6);
  const auto dense = cycles(*engine({{"pes", 64}, {"skip", "none"}}), op);
  const auto balanced = cycles(*engine({{"pes", 64}, {"skip", "weights"}, {"weight_pattern", "balanced"}}), op);
  CHECK(static_cast<double>(balanced) == Approx(0.4 * static_cast<double>(dense)).epsilon(0.01));
  for (const char* pattern : {"uniform", "clustered"})
    CHECK(cycles(*engine({{"pes", 64}, {"skip", "weights"}, {"weight_pattern", pattern}}), op) > balanced);
}

TEST_CASE("sparse: compressed sizes follow each format's formula", "[sparse]") {
  using arch::sparse::format_bits;
  // 4 x 8 elements, 10 non-zeros, 8-bit values, 4-bit runs with 2 fillers.
  const auto f = [](SparseFormat fmt) { return format_bits(fmt, 4, 8, 10, 8, 4, 2, 4); };
  CHECK(f(SparseFormat::uncompressed).value_bits == 256);
  CHECK(f(SparseFormat::uncompressed).meta_bits == 0);
  CHECK(f(SparseFormat::bitmap).value_bits == 80);
  CHECK(f(SparseFormat::bitmap).meta_bits == 32);
  CHECK(f(SparseFormat::csr).meta_bits == 10 * 3 + 5 * 4);  // column indices, row pointers
  CHECK(f(SparseFormat::csc).meta_bits == 10 * 2 + 9 * 4);  // row indices, column pointers
  CHECK(f(SparseFormat::coo).meta_bits == 10 * (2 + 3));
  CHECK(f(SparseFormat::rle).value_bits == 12 * 8);
  CHECK(f(SparseFormat::rle).meta_bits == 12 * 4);
  CHECK(f(SparseFormat::nm).meta_bits == 10 * 2);
  CHECK(arch::sparse::index_bits(1) == 1);
  CHECK(arch::sparse::index_bits(1024) == 10);
  CHECK(arch::sparse::index_bits(1025) == 11);

  // A 40-weight filter with non-zeros at 0 and 39: a run of 38 zeros takes floor(38 / 16) = 2
  // fillers in 4-bit run-length coding; the engine's DRAM traffic carries them.
  workloads::Operator fc;
  fc.name = "fc";
  fc.shape = workloads::MatMul{.batch = 1, .m = 1, .n = 1, .k = 40};
  workloads::OperandMasks m;
  m.weight.assign(40, 0);
  m.weight[0] = m.weight[39] = 1;
  m.input.assign(40, 1);
  m.digest = arch::sparse::mask_digest(m);
  fc.masks = std::make_shared<const workloads::OperandMasks>(m);
  const auto rle = engine({{"pes", 1}, {"run_bits", 4}, {"formats", {{"dram", {{"weight", "rle"}, {"input", "bitmap"}}}}}});
  const auto w = rle->map(fc);
  CHECK(w.accesses.at("dram.filter").read_bytes == 4);       // 4 entries of 8 bits
  CHECK(w.accesses.at("dram.filter_meta").read_bytes == 2);  // 4 runs of 4 bits
  CHECK(w.accesses.at("dram.ifmap").read_bytes == 40);       // 40 non-zero inputs
  CHECK(w.accesses.at("dram.ifmap_meta").read_bytes == 5);   // a 40-bit bitmap
  CHECK(w.metrics.at("effectual_macs") == 2);
  CHECK(w.plan.compute_cycles() == 2);

  // Over a drawn mask: the engine's bytes are the formula at the mask's count of non-zeros.
  const auto csr = engine({{"formats", {{"dram", {{"weight", "csr"}, {"input", "coo"}}}}}});
  const auto op = conv(32, 10, 48, 3, 0.3, 0.55);
  const auto wc = csr->map(op);
  const auto nnz_w = static_cast<arch::u64>(std::llround(wc.metrics.at("weight_density") * 48 * 32 * 9));
  const auto nnz_i = static_cast<arch::u64>(std::llround(wc.metrics.at("input_density") * 32 * 100));
  const auto bw = format_bits(SparseFormat::csr, 48, 32 * 9, nnz_w, 8, 4, 0, 4);
  const auto bi = format_bits(SparseFormat::coo, 32, 100, nnz_i, 8, 4, 0, 4);
  CHECK(wc.accesses.at("dram.filter").read_bytes == (bw.value_bits + 7) / 8);
  CHECK(wc.accesses.at("dram.filter_meta").read_bytes == (bw.meta_bits + 7) / 8);
  CHECK(wc.accesses.at("dram.ifmap").read_bytes == (bi.value_bits + 7) / 8);
  CHECK(wc.accesses.at("dram.ifmap_meta").read_bytes == (bi.meta_bits + 7) / 8);
  CHECK(wc.plan.port_bytes("weight_meta") == (bw.meta_bits + 7) / 8);  // timed as well
}

TEST_CASE("sparse: one skip-both PE on a 1x1 convolution takes exactly its effectual MACs", "[sparse]") {
  const auto one = engine({{"pes", 1}, {"skip", "both"}});
  const auto op = conv(24, 9, 20, 1, 0.6, 0.45);
  const auto& e = dynamic_cast<const arch::SparseEngine&>(*one);
  const auto L = *arch::sparse::layer_shape(op);
  const auto m = e.masks_for(op, L);
  arch::u64 effectual = 0;
  for (workloads::i64 k = 0; k < 20; ++k)
    for (workloads::i64 p = 0; p < 81; ++p)
      for (workloads::i64 c = 0; c < 24; ++c)
        effectual += m.weight[static_cast<std::size_t>(k * 24 + c)] & m.input[static_cast<std::size_t>(c * 81 + p)];
  REQUIRE(effectual > 0);
  const auto w = one->map(op);
  CHECK(w.plan.compute_cycles() == effectual);
  CHECK(w.macs == effectual);
}

TEST_CASE("sparse: the expected-value mode states its balance assumption", "[sparse]") {
  const auto e = engine({{"mode", "expected"}, {"pes", 16}, {"skip", "weights"}});
  const auto op = conv(64, 8, 32, 3, 0.5);
  const auto warnings = e->supports(op);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("perfect balance") != std::string::npos);
  const auto w = e->map(op);
  CHECK(w.metrics.at("balance_assumed") == 1);
  CHECK(w.plan.compute_cycles() == 288 * 16 * 4 * 2);
}

TEST_CASE("sparse: bad keys are errors naming their path", "[sparse]") {
  CHECK_THROWS_WITH(engine({{"skip", "filters"}}), Catch::Contains("/sparse/skip"));
  CHECK_THROWS_WITH(engine({{"structured", {"4:2"}}}), Catch::Contains("/sparse/structured"));
  CHECK_THROWS_WITH(engine({{"formats", {{"dram", {{"input", "nm"}}}}}}), Catch::Contains("/sparse/formats/dram/input"));
  CHECK_THROWS_WITH(engine({{"mode", "dysta"}, {"pes", 168}}), Catch::Contains("/sparse/pes"));
  CHECK_THROWS_WITH(engine({{"pe", 4}}), Catch::Contains("pe"));
}

TEST_CASE("zero gating: the systolic array and Bit Fusion spare the MAC energy of gated zeros", "[sparse]") {
  auto op = conv(64, 8, 32, 3, 0.5, 0.25);
  for (const char* file : {"configs/arch/systolic_edge_32x32.json", "configs/arch/bitfusion_isca2018.json"}) {
    INFO(file);
    const auto dense = arch::load_arch(test::source_path(file));
    const auto gated_w = arch::load_arch(test::source_path(file), {"energy.zero_gating=weights"});
    const auto gated_b = arch::load_arch(test::source_path(file), {"energy.zero_gating=both"});
    CHECK(dense.engine->mac_energy_fraction(op) == 1.0);
    CHECK(gated_w.engine->mac_energy_fraction(op) == 0.5);
    CHECK(gated_b.engine->mac_energy_fraction(op) == 0.125);
    auto w = gated_b.engine->map(op);
    const auto d = dense.engine->map(op);
    CHECK(w.plan.compute_cycles() == d.plan.compute_cycles());  // gating keeps the cycles
    const std::string key = std::string(file).find("bitfusion") != std::string::npos ? "core" : "mac";
    const double full = gated_b.engine->energy(w, 1000).at(key);
    w.mac_energy_fraction = gated_b.engine->mac_energy_fraction(op);
    CHECK(gated_b.engine->energy(w, 1000).at(key) == Approx(full * 0.125));
    CHECK(gated_b.resolved.at("energy").at("zero_gating") == "both");
  }
}

TEST_CASE("sparse: activation x activation products skip the first operand's zeros at its density", "[sparse][transformer]") {
  workloads::Operator scores;
  scores.name = "scores";
  scores.shape = workloads::MatMul{.batch = 4, .m = 128, .n = 128, .k = 64, .b_is_weight = false};
  scores.density.activation = 0.3;
  const auto skip = engine({{"pes", 64}, {"macs_per_pe", 4}, {"skip", "activations"}});
  const auto dense = engine({{"pes", 64}, {"macs_per_pe", 4}, {"skip", "weights"}});
  const arch::u64 macs = 4 * 128 * 128 * 64;
  CHECK(cycles(*dense, scores) == macs / 256);
  // ceil(MACs x 0.3 / 256): 0.3 x 4,194,304 = 1,258,291.2 -> 1,258,292 products -> 4,916 cycles
  CHECK(cycles(*skip, scores) == 4916);
  const auto w = skip->map(scores);
  CHECK(w.metrics.at("energy_macs") == 1258291);
  CHECK(skip->mac_energy_fraction(scores) == 0.3);
  CHECK(dense->mac_energy_fraction(scores) == 1.0);
  const auto warnings = skip->supports(scores);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("skips the zeros of its first operand"));
}

TEST_CASE("sparse: dynamic pruning sets the activation density and costs compares on the vector unit",
          "[sparse][transformer]") {
  workloads::Operator fc;
  fc.name = "ff1";
  fc.shape = workloads::MatMul{.batch = 1, .m = 512, .n = 512, .k = 128};
  fc.density.activation = 0.4;  // the layer's target density
  const nlohmann::json base = {{"pes", 1024}, {"macs_per_pe", 16}, {"skip", "activations"},
                               {"distribution", "flexible"}, {"mode", "expected"}};
  auto pruned_cfg = base;
  pruned_cfg["pruning"] = "dynamic";
  const auto plain = engine(base), pruned = engine(pruned_cfg);
  // Without pruning the workload's density is already what the engine skips: same MAC cycles,
  // 16 tiles of ceil(16 positions x 128 x 0.4 / 16) = 52 cycles.
  const auto w = pruned->map(fc);
  CHECK(cycles(*plain, fc) == 16 * 52);
  CHECK(w.metrics.at("mac_compute_cycles") == 16 * 52);
  CHECK(w.metrics.at("pruning_compares") == 512 * 128);
  CHECK(w.metrics.at("pruned_activation_density") == 0.4);
  CHECK(w.vector[arch::VectorOp::compare] == 512 * 128);
  // The 65,536 compares on the default 64 vector lanes outlast the MACs: the layer takes theirs.
  CHECK(w.plan.compute_cycles() == 1024);
  // A threshold tau: density erfc(tau / sqrt 2) whatever the layer's own (tau = 1: 0.3173).
  auto thr_cfg = pruned_cfg;
  thr_cfg["pruning_threshold"] = 1.0;
  const auto thr = engine(thr_cfg);
  const auto t = thr->map(fc);
  CHECK(t.metrics.at("pruned_activation_density") == Approx(0.317310508));
  CHECK(t.metrics.at("mac_work") == Approx(512.0 * 512 * 128 * 0.317310508).epsilon(1e-6));
  CHECK(thr->mac_energy_fraction(fc) == Approx(0.317310508));
  // The compares bound a layer whose MACs take fewer cycles than the vector unit needs.
  auto narrow = thr_cfg;
  narrow["pruning_threshold"] = 4.0;  // density 6.3e-5: almost no MAC work left
  const auto few = engine(narrow)->map(fc);
  const arch::u64 vector_cycles = (512 * 128 + 63) / 64;  // 64 lanes, a compare per cycle each
  CHECK(few.plan.compute_cycles() == vector_cycles);
  CHECK_THROWS_WITH(engine({{"pruning_threshold", 1.0}}), Catch::Contains("/sparse/pruning_threshold"));
  CHECK_THROWS_WITH(engine({{"pruning", "static"}}), Catch::Contains("/sparse/pruning"));
}
