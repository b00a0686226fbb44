// The Engine interface's shared rules: every engine lists the operator kinds it runs and where,
// and refuses the others with one line naming the operator and the engine.
#include <set>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

// An engine that lists convolutions only: what a new engine looks like before it models more.
class ConvOnly final : public arch::EngineBase {
 public:
  ConvOnly() : EngineBase(arch::CommonParams{}) {}
  std::string engine_name() const override { return "conv_only"; }
  double peak_macs_per_cycle() const override { return 1; }
  arch::AreaBreakdown area_by_component() const override { return {}; }
  std::vector<arch::KindSupport> kinds() const override {
    return {{workloads::OpKind::conv, arch::Unit::datapath}};
  }
  arch::LayerWork map(const workloads::Operator&, const arch::MapContext&) const override {
    return {};
  }
  arch::EnergyBreakdown energy(const arch::LayerWork&, arch::u64) const override { return {}; }
  nlohmann::json resolved_config() const override { return with_common({}); }
};

workloads::Operator op_of(workloads::OpShape shape) {
  workloads::Operator op;
  op.name = "layer7";
  op.source = "net.json: /operators/7";
  op.shape = std::move(shape);
  return op;
}

}  // namespace

TEST_CASE("an engine refuses operator kinds it does not list", "[arch][errors]") {
  const ConvOnly engine;
  CHECK(engine.supports(op_of(workloads::Conv{})).empty());
  CHECK(engine.runs_on(op_of(workloads::Conv{})) == arch::Unit::datapath);
  const auto softmax = op_of(workloads::Softmax{});
  CHECK_THROWS_AS(engine.supports(softmax), UnsupportedError);
  CHECK_THROWS_WITH(engine.supports(softmax),
                    "net.json: /operators/7: operator 'layer7': engine 'conv_only' does not run "
                    "softmax operators (it runs conv)");
  CHECK_THROWS_AS(engine.runs_on(op_of(workloads::MatMul{})), UnsupportedError);
}

TEST_CASE("every built-in engine lists each operator kind once, with its unit", "[arch]") {
  using workloads::OpKind;
  const auto count = std::variant_size_v<workloads::OpShape>;
  // The array engines run every kind but the butterfly engine's two (butterfly linear layers and
  // FFTs), which they refuse; the ideal roofline runs all; the butterfly engine runs no
  // convolutions, pools or embeddings.
  const std::set<OpKind> butterfly_only = {OpKind::butterfly, OpKind::fft};
  const std::set<OpKind> not_on_butterfly = {OpKind::conv, OpKind::pool, OpKind::embedding};
  struct Case {
    const char* config;
    arch::Unit others;  // where kinds without MACs run
    std::set<OpKind> refused;
  };
  for (const auto& c :
       {Case{"configs/arch/ideal_edge.json", arch::Unit::vector_unit, {}},
        Case{"configs/arch/systolic_edge_32x32.json", arch::Unit::vector_unit, butterfly_only},
        Case{"configs/arch/bitfusion_isca2018.json", arch::Unit::none, butterfly_only},
        Case{"configs/arch/eyeriss.json", arch::Unit::vector_unit, butterfly_only},
        Case{"configs/arch/butterfly_vcu128.json", arch::Unit::vector_unit, not_on_butterfly}}) {
    INFO(c.config);
    const auto cfg = arch::load_arch(test::source_path(c.config));
    const auto kinds = cfg.engine->kinds();
    std::set<OpKind> seen;
    for (const auto& k : kinds) {
      CHECK(seen.insert(k.kind).second);
      const bool mac = k.kind == OpKind::conv || k.kind == OpKind::matmul ||
                       butterfly_only.count(k.kind);
      CHECK(k.unit == (mac ? arch::Unit::datapath : c.others));
      CHECK(c.refused.count(k.kind) == 0);
    }
    CHECK(seen.size() == count - c.refused.size());
  }
  // The butterfly engine's reference mode times butterfly and FFT layers only.
  const auto reference = arch::load_arch(test::source_path("configs/arch/butterfly_vcu128.json"),
                                         {"butterfly.mode=reference"});
  CHECK(reference.engine->runs_on(op_of(workloads::Softmax{})) == arch::Unit::none);
  CHECK(reference.engine->runs_on(op_of(workloads::MatMul{})) == arch::Unit::none);
  CHECK(reference.engine->runs_on(op_of(workloads::Fft{})) == arch::Unit::datapath);
  CHECK_THROWS_WITH(reference.engine->runs_on(op_of(workloads::Conv{})),
                    Catch::Matchers::Contains("engine 'butterfly' does not run conv operators"));
  // Reference modes (Bit Fusion's above) list the kinds without MACs as running nowhere (their
  // warnings say so).
  const auto scalesim = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"),
                                        {"systolic.mode=scalesim"});
  CHECK(scalesim.engine->runs_on(op_of(workloads::Softmax{})) == arch::Unit::none);
  CHECK(scalesim.engine->runs_on(op_of(workloads::Conv{})) == arch::Unit::datapath);
}
