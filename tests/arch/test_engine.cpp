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
  struct Case {
    const char* config;
    arch::Unit others;  // where kinds without MACs run
  };
  for (const auto& c : {Case{"configs/arch/ideal_edge.json", arch::Unit::vector_unit},
                        Case{"configs/arch/systolic_edge_32x32.json", arch::Unit::vector_unit},
                        Case{"configs/arch/bitfusion_isca2018.json", arch::Unit::none},
                        Case{"configs/arch/eyeriss.json", arch::Unit::vector_unit}}) {
    INFO(c.config);
    const auto cfg = arch::load_arch(test::source_path(c.config));
    const auto kinds = cfg.engine->kinds();
    std::set<OpKind> seen;
    for (const auto& k : kinds) {
      CHECK(seen.insert(k.kind).second);
      const bool mac = k.kind == OpKind::conv || k.kind == OpKind::matmul;
      CHECK(k.unit == (mac ? arch::Unit::datapath : c.others));
    }
    CHECK(seen.size() == count);
  }
  // Reference modes (Bit Fusion's above) list the kinds without MACs as running nowhere (their
  // warnings say so).
  const auto scalesim = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"),
                                        {"systolic.mode=scalesim"});
  CHECK(scalesim.engine->runs_on(op_of(workloads::Softmax{})) == arch::Unit::none);
  CHECK(scalesim.engine->runs_on(op_of(workloads::Conv{})) == arch::Unit::datapath);
}
