// The sparse engine's plans in the simulator: the map cache keys on masks from data, plans from
// masks keep to their tile classes with their totals, and a compute-bound layer's timing is its
// compute (arch/sparse/; the engine's own checks are in tests/arch/test_sparse.cpp).
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/sparse/masks.hpp"
#include "arch/sparse/sparse.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"

using namespace tessera;

namespace {

using test::conv;

std::shared_ptr<const arch::Engine> engine(const nlohmann::json& sparse) {
  nlohmann::json cfg = {{"engine", "sparse"}, {"dram", {{"bandwidth", "1e6 B/cycle"}}}, {"sparse", sparse}};
  return arch::build_arch({"test", cfg}).engine;
}

}  // namespace

TEST_CASE("sparse: a compute-bound layer times as its compute, d x the dense cycles", "[sparse]") {
  const auto dense = engine({{"pes", 16}, {"skip", "none"}});
  const auto skip = engine({{"pes", 16}, {"skip", "weights"}, {"weight_pattern", "balanced"}});
  for (double d : {0.25, 0.5, 1.0}) {
    INFO("density " << d);
    workloads::Graph g("one");
    g.add(conv(64, 8, 32, 3, d));
    const auto rd = sim::simulate(*dense, g, "analytical");
    const auto rs = sim::simulate(*skip, g, "analytical");
    const auto compute = skip->map(g.op(g.topological_order()[0])).plan.compute_cycles();
    CHECK(rs.at(0).timing.compute_cycles == compute);
    CHECK(rs.at(0).timing.cycles >= compute);
    CHECK(static_cast<double>(rs.at(0).timing.cycles) <= 1.01 * static_cast<double>(compute));
    CHECK(rs.at(0).timing.compute_cycles * 4 == static_cast<arch::u64>(d * 4) * rd.at(0).timing.compute_cycles);
  }
}

TEST_CASE("sparse: masks from data key the map cache; plans from masks keep to their tile classes", "[sparse]") {
  const auto e = engine({{"pes", 64}, {"skip", "both"}, {"tile_classes", 16}});
  auto a = conv(64, 56, 64, 3, 0.5, 0.5), b = a;
  const auto L = *arch::sparse::layer_shape(a);
  for (auto* op : {&a, &b}) {
    workloads::OperandMasks m;
    arch::sparse::PatternSpec s;
    s.density = 0.5;
    s.seed = op == &a ? 11 : 12;
    m.weight = arch::sparse::weight_mask(L, s);
    s.seed += 100;
    m.input = arch::sparse::input_mask(L, s);
    m.digest = arch::sparse::mask_digest(m);
    op->masks = std::make_shared<const workloads::OperandMasks>(std::move(m));
  }
  REQUIRE(a.masks->digest != b.masks->digest);
  sim::MapCache cache;
  const auto& wa = cache.map(*e, a, {});
  const auto& wb = cache.map(*e, b, {});
  CHECK(cache.size() == 2);
  CHECK(wa.plan != wb.plan);
  cache.map(*e, a, {});
  CHECK(cache.hits() == 1);
  // ResNet-50's widest 3x3 layer: 1 filter block x 196 position blocks compress to at most
  // two runs per class (and the first tile peeled for the rest of the bytes); the total is kept.
  const auto exact = engine({{"pes", 64}, {"skip", "both"}, {"tile_classes", 100000}});
  CHECK(wa.plan.tiles.size() <= 2 * 16 + 2);
  CHECK(exact->map(a).plan.tiles.size() > 2 * 16 + 2);
  CHECK(wa.plan.compute_cycles() == exact->map(a).plan.compute_cycles());
  CHECK(wa.metrics.at("tiles") == 196);
}

