// Plans from masks (arch/sparse/lanes.hpp): the bit-packed, chunked counts the engine plans from
// equal a count made element by element from the byte masks, tile by tile, on random masks of
// random shapes (channels across 64-bit words, strides, dilation, padding, groups, depthwise,
// matrix products, every skip and gate combination, N:M work); the engine's plan is built from
// them tile for tile; cached counts are keyed on the masks, never reused for other masks.
#include <catch2/catch.hpp>

#include <random>

#include "arch/config.hpp"
#include "arch/sparse/lanes.hpp"
#include "arch/sparse/sparse.hpp"

using namespace tessera;
using arch::u64;
using workloads::i64;

namespace {

struct Case {
  workloads::Operator op;
  arch::sparse::LayerShape shape;
  arch::sparse::Mask weight, input;
};

// A random convolution (or matrix product) and masks of random density; mask bytes are any
// non-zero value, not only 1.
Case random_case(std::mt19937_64& rng) {
  const auto pick = [&](i64 lo, i64 hi) { return std::uniform_int_distribution<i64>(lo, hi)(rng); };
  workloads::Operator op;
  op.name = "layer";
  if (pick(0, 4) == 0) {
    op.shape = workloads::MatMul{.batch = pick(1, 2), .m = pick(1, 40), .n = pick(1, 90), .k = pick(1, 150)};
  } else {
    workloads::Conv c;
    const bool depthwise = pick(0, 4) == 0;
    c.groups = depthwise ? pick(1, 8) : pick(1, 3);
    c.c = depthwise ? c.groups : c.groups * pick(1, 70);
    c.k = c.groups * (depthwise ? pick(1, 2) : pick(1, 12));
    c.n = pick(1, 2);
    c.h = pick(1, 14), c.w = pick(1, 14);
    c.r = pick(1, 4), c.s = pick(1, 4);
    c.stride_h = pick(1, 2), c.stride_w = pick(1, 3);
    c.dilation_h = pick(1, 2), c.dilation_w = pick(1, 2);
    c.pad_top = pick(0, 2), c.pad_bottom = pick(0, 2), c.pad_left = pick(0, 2), c.pad_right = pick(0, 2);
    c.h = std::max(c.h, c.dilation_h * (c.r - 1) + 1), c.w = std::max(c.w, c.dilation_w * (c.s - 1) + 1);
    op.shape = c;
  }
  Case k;
  k.shape = *arch::sparse::layer_shape(op);
  k.op = op;
  const auto fill = [&](arch::sparse::Mask& m, u64 n) {
    const double d = std::uniform_real_distribution<double>(0, 1)(rng);
    const int kind = static_cast<int>(pick(0, 9));
    m.resize(n);
    for (auto& b : m) {
      const bool on = kind == 0 ? false : kind == 1 ? true : std::uniform_real_distribution<double>(0, 1)(rng) < d;
      b = on ? static_cast<std::uint8_t>(pick(1, 255)) : 0;
    }
  };
  fill(k.weight, k.shape.weight_count());
  fill(k.input, k.shape.input_count());
  return k;
}

arch::sparse::LaneRules random_rules(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> bit(0, 1);
  arch::sparse::LaneRules r;
  r.cycle_weights = bit(rng), r.cycle_activations = bit(rng);
  r.energy_weights = r.cycle_weights || bit(rng), r.energy_activations = r.cycle_activations || bit(rng);
  r.structured = bit(rng) && bit(rng);
  r.structured_work = std::uniform_int_distribution<u64>(0, 20)(rng);
  return r;
}

}  // namespace

TEST_CASE("sparse lanes: packed counts equal the element-by-element count on random masks and shapes", "[sparse]") {
  std::mt19937_64 rng(24);
  for (int trial = 0; trial < 300; ++trial) {
    const Case k = random_case(rng);
    const u64 T = std::uniform_int_distribution<u64>(1, 40)(rng);
    const u64 lanes_k = std::uniform_int_distribution<u64>(1, static_cast<u64>(k.shape.kg()))(rng);
    const u64 lanes_m = std::uniform_int_distribution<u64>(1, 5)(rng);
    const auto rules = random_rules(rng);
    INFO("trial " << trial << ": c " << k.shape.c << " k " << k.shape.k << " groups " << k.shape.groups << " "
                  << k.shape.h << "x" << k.shape.w << " r,s " << k.shape.r << "," << k.shape.s << " T " << T
                  << " lanes " << lanes_k << "x" << lanes_m << (k.shape.matmul ? " matmul" : ""));
    const auto counts = arch::sparse::count_masks(k.shape, k.weight, k.input, T);
    const auto fast = arch::sparse::lane_work(counts, k.shape, lanes_k, lanes_m, rules);
    const auto ref = arch::sparse::lane_work_reference(k.shape, k.weight, k.input, lanes_k, lanes_m, T, rules);
    REQUIRE(fast.tiles.size() == ref.tiles.size());
    CHECK(fast == ref);
    u64 nnz_w = 0, nnz_i = 0;
    for (auto b : k.weight) nnz_w += b != 0;
    for (auto b : k.input) nnz_i += b != 0;
    CHECK(counts.weight_nnz == nnz_w);
    CHECK(counts.input_nnz == nnz_i);
  }
}

TEST_CASE("sparse lanes: the engine's plan from masks is the reference count's, tile for tile", "[sparse]") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    Case k = random_case(rng);
    const i64 pes = std::uniform_int_distribution<i64>(1, 64)(rng), T = std::uniform_int_distribution<i64>(1, 20)(rng);
    const i64 macs = std::uniform_int_distribution<i64>(1, 3)(rng), overhead = std::uniform_int_distribution<i64>(0, 2)(rng);
    const nlohmann::json cfg = {{"engine", "sparse"},
                                {"dram", {{"bandwidth", "1e6 B/cycle"}}},
                                {"sparse",
                                 {{"pes", pes},
                                  {"sync_positions", T},
                                  {"macs_per_pe", macs},
                                  {"tile_overhead", overhead},
                                  {"skip", trial % 2 ? "both" : "activations"},
                                  {"gate", trial % 3 ? "none" : "weights"},
                                  {"tile_classes", 1 << 20}}}};
    const auto engine = arch::build_arch({"test", cfg}).engine;
    workloads::OperandMasks m;
    m.weight = k.weight, m.input = k.input;
    m.digest = arch::sparse::mask_digest(m);
    k.op.masks = std::make_shared<const workloads::OperandMasks>(m);
    const auto w = engine->map(k.op);
    const u64 lanes_k = std::min<u64>(static_cast<u64>(pes), static_cast<u64>(k.shape.kg()));
    const u64 lanes_m = std::max<u64>(1, static_cast<u64>(pes) / lanes_k);
    arch::sparse::LaneRules rules;
    rules.cycle_weights = trial % 2, rules.cycle_activations = true;
    rules.energy_weights = trial % 2 || trial % 3 == 0, rules.energy_activations = true;
    const auto ref = arch::sparse::lane_work_reference(k.shape, k.weight, k.input, lanes_k, lanes_m,
                                                       static_cast<u64>(T), rules);
    std::vector<u64> expected, planned;
    for (const auto& t : ref.tiles)
      expected.push_back((t.busiest + static_cast<u64>(macs) - 1) / static_cast<u64>(macs) + static_cast<u64>(overhead));
    for (const auto& t : w.plan.tiles) planned.insert(planned.end(), t.count, t.compute_cycles);
    INFO("trial " << trial);
    CHECK(planned == expected);
    CHECK(w.macs == ref.effectual);
    CHECK(w.metrics.at("mac_work") == static_cast<double>(ref.cycle_work));
    CHECK(w.metrics.at("energy_macs") == static_cast<double>(ref.energy_macs));
  }
}

TEST_CASE("sparse lanes: cached counts follow the masks, not only the shape", "[sparse]") {
  workloads::Conv c;
  c.c = 20, c.h = c.w = 9, c.k = 6, c.r = c.s = 3, c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 1;
  workloads::Operator op;
  op.name = "conv";
  op.shape = c;
  const auto L = *arch::sparse::layer_shape(op);
  const auto engine = arch::build_arch({"test", {{"engine", "sparse"}, {"sparse", {{"pes", 6}}}}}).engine;
  std::mt19937_64 rng(3);
  const auto masks = [&](double d, bool digest) {
    workloads::OperandMasks m;
    std::bernoulli_distribution on(d);
    for (u64 i = 0; i < L.weight_count(); ++i) m.weight.push_back(on(rng));
    for (u64 i = 0; i < L.input_count(); ++i) m.input.push_back(on(rng));
    if (digest) m.digest = arch::sparse::mask_digest(m);
    return std::make_shared<const workloads::OperandMasks>(m);
  };
  for (const bool digest : {true, false}) {
    for (int i = 0; i < 4; ++i) {
      auto a = op;
      a.masks = masks(0.2 + 0.2 * i, digest);
      const auto once = engine->map(a), again = engine->map(a);  // the second from the cache
      arch::sparse::LaneRules both;
      both.cycle_weights = both.cycle_activations = both.energy_weights = both.energy_activations = true;
      const auto ref = arch::sparse::lane_work_reference(L, a.masks->weight, a.masks->input, 6, 1, 16, both);
      CHECK(once.macs == ref.effectual);
      CHECK(again.macs == ref.effectual);
      CHECK(once.plan.compute_cycles() == again.plan.compute_cycles());
    }
  }
}
