// Workload settings: precision and sparsity annotations applied to any front-end's graph, the
// load options, and their errors.
#include <catch2/catch.hpp>

#include "test_support.hpp"
#include "workloads/settings.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Matchers::Contains;

namespace {

WorkloadSettings settings(const nlohmann::json& doc) {
  return read_workload_settings(doc, "s.json");
}

const std::string kLenet = test::source_path("configs/workloads/lenet5.json");

}  // namespace

TEST_CASE("glob patterns", "[workloads][settings]") {
  CHECK(glob_match("*", "anything.at.all"));
  CHECK(glob_match("layer?.conv*", "layer3.conv12"));
  CHECK_FALSE(glob_match("layer?.conv*", "layer13.conv1"));
  CHECK(glob_match("*.fc", "head.fc"));
  CHECK_FALSE(glob_match("*.fc", "head.fc2"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "x"));
}

TEST_CASE("annotations: default, then kinds, then layer patterns from least to most specific",
          "[workloads][settings]") {
  const auto s = settings({{"default", {{"weight_bits", 6}, {"activation_bits", 6}}},
                           {"kinds", {{"matmul", {{"weight_bits", 4}}}}},
                           {"layers",
                            {{"conv1", {{"weight_bits", 2}, {"activation_density", 0.5}}},
                             {"conv*", {{"weight_bits", 3}, {"weight_pattern", "2:4"}}},
                             {"fc3", {{"weight_density", 0.25}}}}}});
  Graph g = load_workload(kLenet, s);
  const Operator& conv1 = g.op(*g.find("conv1"));
  CHECK(conv1.precision == Precision{2, 6});  // conv1 beats conv*, whatever the key order
  CHECK(conv1.density.activation == 0.5);
  REQUIRE(conv1.density.weight_pattern);
  CHECK(conv1.density.weight_pattern->n == 2);
  CHECK(conv1.density.weight == 0.5);
  const Operator& conv2 = g.op(*g.find("conv2"));
  CHECK(conv2.precision == Precision{3, 6});
  CHECK(conv2.density.activation == 1.0);
  const Operator& fc1 = g.op(*g.find("fc1"));
  CHECK(fc1.precision == Precision{4, 6});  // the matmul kind
  const Operator& fc3 = g.op(*g.find("fc3"));
  CHECK(fc3.density.weight == 0.25);
  CHECK_FALSE(fc3.density.weight_pattern);
  CHECK(g.op(*g.find("relu1")).precision == Precision{6, 6});
  // Weight bytes follow the new precision: conv1 has 156 parameters at 2 bits.
  CHECK(conv1.weight_bytes() == (156 * 2 + 7) / 8);
}

TEST_CASE("load options and --set-style assignments", "[workloads][settings]") {
  const auto s = read_workload_settings(nlohmann::json{{"batch", 2}}, "s.json",
                                        {"seq_len=64", "phase=decode", "kv_len=100",
                                         "/layers/a.b*/weight_bits=4", "input_shapes.x=[1,3,8,8]"});
  CHECK(s.load.batch == 2);
  CHECK(s.load.seq_len == 64);
  CHECK(s.load.phase == "decode");
  CHECK(s.load.kv_len == 100);
  CHECK(s.load.input_shapes.at("x") == std::vector<i64>{1, 3, 8, 8});
  CHECK(s.load.kv_read == "per_group");  // the defaults
  CHECK_FALSE(s.load.kv_bits);
  CHECK_FALSE(s.load.experts_touched);
  const auto kv = read_workload_settings(nlohmann::json::object(), "s.json",
                                         {"kv_read=per_query_head", "kv_bits=8",
                                          "experts_touched=3"});
  CHECK(kv.load.kv_read == "per_query_head");
  CHECK(kv.load.kv_bits == 8);
  CHECK(kv.load.experts_touched == 3);
  CHECK(kv.load.given() == std::vector<std::string>{"kv_read", "kv_bits", "experts_touched"});
  REQUIRE(s.layers.size() == 1);
  CHECK(s.layers[0].first == "a.b*");
  CHECK(s.layers[0].second.weight_bits == 4);
  const auto [workload, arch] =
      split_workload_overrides({"workload.batch=4", "systolic.rows=8", "/workload/layers/x=1"});
  CHECK(workload == std::vector<std::string>{"batch=4", "/layers/x=1"});
  CHECK(arch == std::vector<std::string>{"systolic.rows=8"});
}

TEST_CASE("bad workload settings name the file and JSON path", "[workloads][settings][errors]") {
  auto fails = [](const nlohmann::json& doc, const std::string& what) {
    CHECK_THROWS_WITH(load_workload(kLenet, settings(doc)), Contains(what));
  };
  fails({{"batchsize", 2}}, "s.json: /batchsize: unknown key 'batchsize'");
  fails({{"batch", 0}}, "s.json: /batch: ");
  fails({{"phase", "train"}}, "/phase");
  fails({{"default", {{"weight_bits", 65}}}}, "/default/weight_bits: must be at most 64 bits");
  fails({{"default", {{"weight_density", 1.5}}}}, "/default/weight_density: must be in (0, 1]");
  fails({{"kinds", {{"lstm", {{"weight_bits", 4}}}}}}, "/kinds/lstm: unknown operator kind");
  fails({{"layers", {{"conv1", {{"weight_pattern", "4:2"}}}}}},
        "/layers/conv1/weight_pattern: expected an N:M pattern");
  fails({{"layers", {{"conv1", {{"weight_pattern", "2:4"}, {"weight_density", 0.3}}}}}},
        "contradicts weight_pattern");
  fails({{"layers", {{"conv9*", {{"weight_bits", 4}}}}}},
        "lenet5.json: s.json: /layers/conv9*: pattern 'conv9*' matches no operator");
  fails({{"layers", {{"conv1", {{"bits", 4}}}}}}, "/layers/conv1/bits: unknown key 'bits'");
  fails({{"kv_read", "per_token"}}, "/kv_read");
  fails({{"kv_bits", 65}}, "/kv_bits: must be at most 64 bits");
  // A transformer setting given to a front-end that does not take it.
  fails({{"kv_bits", 8}}, "does not take the setting 'kv_bits'");
}
