#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"
#include "workloads/rebatch.hpp"

using namespace tessera;
using namespace tessera::workloads;

TEST_CASE("rebatch multiplies MACs and activations, not weights", "[workloads][rebatch]") {
  const Graph g = load_workload(test::source_path("configs/workloads/lenet5.json"));
  const Graph b = rebatch(g, 4);
  REQUIRE(b.size() == g.size());
  CHECK(b.totals().macs == 4 * g.totals().macs);
  CHECK(b.totals().params == g.totals().params);
  for (Graph::Node n = 0; n < g.size(); ++n) {
    CHECK(b.op(n).name == g.op(n).name);
    CHECK(b.op(n).output_elements() == 4 * g.op(n).output_elements());
  }
  CHECK(rebatch(g, 1) == g);
  CHECK_THROWS_WITH(rebatch(g, 0), Catch::Contains("must be >= 1"));
  CHECK_THROWS_WITH(rebatch(g, std::int64_t{1} << 62), Catch::Contains("does not fit in 64 bits"));
}

TEST_CASE("rebatch scales butterfly and FFT operators by their rows and batch", "[workloads][rebatch]") {
  const Graph g = load_workload(test::source_path("configs/models/fabnet-base.json"));
  const Graph b = rebatch(g, 3);
  bool butterfly = false, fft = false;
  for (Graph::Node n = 0; n < g.size(); ++n) {
    butterfly |= g.op(n).kind() == OpKind::butterfly;
    fft |= g.op(n).kind() == OpKind::fft;
    CHECK(b.op(n).macs() == 3 * g.op(n).macs());
    CHECK(b.op(n).params() == g.op(n).params());
  }
  CHECK(butterfly);
  CHECK(fft);
}

TEST_CASE("split_stages cuts a network at its exits", "[workloads][rebatch]") {
  // a -> b -> c -> d, with an exit head x on b (exit 0, 30 %) and y on c (exit 1, 20 %).
  Graph g("exits");
  const auto op = [](const std::string& name) {
    Operator o;
    o.name = name;
    o.shape = MatMul{.batch = 1, .m = 1, .n = 64, .k = 64};
    return o;
  };
  const auto a = g.add(op("a")), b = g.add(op("b")), c = g.add(op("c")), d = g.add(op("d"));
  Operator xo = op("x"), yo = op("y");
  xo.early_exit = EarlyExit{0, 0.3};
  yo.early_exit = EarlyExit{1, 0.2};
  const auto x = g.add(xo), y = g.add(yo);
  g.connect(a, b);
  g.connect(b, c);
  g.connect(c, d);
  g.connect(b, x);
  g.connect(c, y);
  const ExitStages s = split_stages(g);
  REQUIRE(s.stages.size() == 3);
  const auto names = [](const Graph& h) {
    std::vector<std::string> out;
    for (auto n : h.topological_order()) out.push_back(h.op(n).name);
    return out;
  };
  CHECK(names(s.stages[0]) == std::vector<std::string>{"a", "b", "x"});
  CHECK(names(s.stages[1]) == std::vector<std::string>{"c", "y"});
  CHECK(names(s.stages[2]) == std::vector<std::string>{"d"});
  REQUIRE(s.exit_probability.size() == 3);
  CHECK(s.exit_probability[0] == Approx(0.3));
  CHECK(s.exit_probability[1] == Approx(0.2));
  CHECK(s.exit_probability[2] == Approx(0.5));
  // Without exits: the whole graph, everyone leaves at its end.
  const ExitStages whole = split_stages(load_workload(test::source_path("configs/workloads/lenet5.json")));
  REQUIRE(whole.stages.size() == 1);
  CHECK(whole.exit_probability == std::vector<double>{1.0});
}
