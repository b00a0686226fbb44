// The workload DAG: edges, topological order, cycle errors, totals and equality.
#include <algorithm>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "workloads/graph.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;

namespace {

Operator named(const std::string& name,
               OpShape shape = Elementwise{.function = "relu", .elements = 10}) {
  Operator op;
  op.name = name;
  op.shape = std::move(shape);
  return op;
}

std::size_t position(const std::vector<Graph::Node>& order, Graph::Node n) {
  return static_cast<std::size_t>(std::find(order.begin(), order.end(), n) - order.begin());
}

}  // namespace

TEST_CASE("a diamond keeps insertion order and its edges", "[workloads][graph]") {
  Graph g("diamond");
  const auto a = g.add(named("a"));
  const auto b = g.add(named("b"));
  const auto c = g.add(named("c"));
  const auto d = g.add(named("d"));
  g.connect(a, b);
  g.connect(a, c);
  g.connect(b, d);
  g.connect(c, d);
  g.connect(c, d);  // duplicates are ignored
  CHECK(boost::num_edges(g.dag()) == 4);
  CHECK(g.topological_order() == std::vector<Graph::Node>{a, b, c, d});
  CHECK(g.producers(d) == std::vector<Graph::Node>{b, c});
  CHECK(g.consumers(a) == std::vector<Graph::Node>{b, c});
  CHECK(g.find("c") == c);
  CHECK_FALSE(g.find("e"));
  CHECK(g.op(b).name == "b");
}

TEST_CASE("operators added before their producers are ordered producers first",
          "[workloads][graph]") {
  Graph g("reversed");
  const auto sink = g.add(named("sink"));
  const auto mid = g.add(named("mid"));
  const auto source = g.add(named("source"));
  g.connect(source, mid);
  g.connect(mid, sink);
  const auto order = g.topological_order();
  REQUIRE(order.size() == 3);
  CHECK(position(order, source) < position(order, mid));
  CHECK(position(order, mid) < position(order, sink));
}

TEST_CASE("a cycle is an error naming its operators", "[workloads][graph]") {
  Graph g("loop");
  const auto x = g.add(named("x"));
  const auto a = g.add(named("a"));
  const auto b = g.add(named("b"));
  const auto c = g.add(named("c"));
  g.connect(x, a);
  g.connect(a, b);
  g.connect(b, c);
  g.connect(c, a);
  CHECK_THROWS_WITH(g.topological_order(), Contains("workload 'loop' is not acyclic") &&
                                               Contains("a -> b -> c") && !Contains("x"));

  Graph self("self");
  const auto s = self.add(named("s"));
  self.connect(s, s);
  CHECK_THROWS_WITH(self.topological_order(), Contains("cycle through s"));
}

TEST_CASE("duplicate operator names are an error", "[workloads][graph]") {
  Graph g("dup");
  g.add(named("conv"));
  CHECK_THROWS_AS(g.add(named("conv")), InputError);
  CHECK_THROWS_WITH(g.add(named("conv")), Contains("operator name 'conv' is used twice"));
}

TEST_CASE("totals count each activation tensor once", "[workloads][graph]") {
  Graph g("net");
  Operator conv = named("conv", Conv{.c = 3, .h = 8, .w = 8, .k = 4, .r = 3, .s = 3, .bias = true});
  conv.precision = {.weight_bits = 4, .activation_bits = 16};
  const auto c = g.add(conv);
  const auto r = g.add(named("relu", Elementwise{.function = "relu", .elements = 144}));
  const auto fc = g.add(named("fc", MatMul{.m = 1, .n = 10, .k = 144}));
  g.connect(c, r);
  g.connect(r, fc);
  const GraphTotals t = g.totals();
  CHECK(t.macs == 3888 + 1440);        // conv 4 * 6*6 * 3*3*3, fc 144*10
  CHECK(t.params == 112 + 1440);       // conv 4*27 + 4 bias, fc 144*10
  CHECK(t.weight_bytes == 56 + 1440);  // conv at 4 bits, fc at 8
  // Network input (conv's, 3*8*8 at 2 bytes) plus every output: conv 4*6*6 at 2 bytes,
  // relu 144 and fc 10 at 1 byte.
  CHECK(t.activation_bytes == 384 + 288 + 144 + 10);
}

TEST_CASE("graphs compare by name, operators and edges", "[workloads][graph]") {
  auto build = [](bool edge, const std::string& second) {
    Graph g("g");
    const auto a = g.add(named("a"));
    const auto b = g.add(named(second));
    if (edge) g.connect(a, b);
    return g;
  };
  CHECK(build(true, "b") == build(true, "b"));
  CHECK_FALSE(build(true, "b") == build(false, "b"));
  CHECK_FALSE(build(true, "b") == build(true, "c"));
  Graph renamed = build(true, "b");
  renamed.set_name("h");
  CHECK_FALSE(renamed == build(true, "b"));
  CHECK(Graph().empty());
}
