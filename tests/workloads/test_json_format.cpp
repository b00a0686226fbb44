// The Tessera workload JSON format: lossless canonical round trips, short forms and defaults,
// the shipped workloads' totals, and one assertion on the message of each kind of bad input.
// load_workload() (front-end choice) is tested here too, since most of its inputs are JSON.
#include <filesystem>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "workloads/frontend.hpp"
#include "workloads/json_format.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;
using nlohmann::json;

namespace {

const std::string kData = std::string(TESSERA_TEST_DATA) + "/workloads/";
const std::string kShipped = std::string(TESSERA_SOURCE_DIR) + "/configs/workloads/";

// A graph with every operator kind and non-default values in every field the format has.
Graph every_kind() {
  Graph g("every_kind");
  auto add = [&](const std::string& name, OpShape shape) {
    Operator op;
    op.name = name;
    op.source = "test.cpp:" + name;
    op.shape = std::move(shape);
    return g.add(std::move(op));
  };
  Conv conv{.n = 2, .c = 4, .h = 17, .w = 19, .k = 8, .r = 3, .s = 5, .groups = 2, .bias = true};
  conv.stride_h = 2;
  conv.stride_w = 3;
  conv.dilation_h = 2;
  conv.pad_top = 1;
  conv.pad_left = 2;
  conv.pad_bottom = 3;
  conv.pad_right = 4;
  const auto c = add("conv", conv);
  Pool pool{.type = PoolType::avg, .n = 2, .c = 8, .h = 8, .w = 8, .r = 3, .s = 2};
  pool.stride_h = 2;
  pool.pad_bottom = 1;
  const auto p = add("pool", pool);
  const auto gp = add("gap", Pool{.global = true, .n = 2, .c = 8, .h = 4, .w = 4, .r = 4, .s = 4});
  const auto e = add("embed", Embedding{.tokens = 7, .vocab = 100, .dim = 16});
  const auto mm =
      add("attn", MatMul{.batch = 4, .m = 7, .n = 7, .k = 16, .b_is_weight = false, .bias = true});
  const auto sm = add("softmax", Softmax{.rows = 28, .cols = 7});
  const auto n = add("norm", Norm{.type = NormType::group, .elements = 112, .channels = 16});
  const auto ew = add("add", Elementwise{.function = "add", .elements = 112, .inputs = 3});
  const auto dm = add(
      "cat", DataMovement{.type = MoveType::concat, .input_elements = 112, .output_elements = 128});
  g.connect(c, p);
  g.connect(p, gp);
  g.connect(e, mm);
  g.connect(mm, sm);
  g.connect(sm, n);
  g.connect(n, ew);
  g.connect(gp, ew);
  g.connect(e, ew);
  g.connect(ew, dm);
  g.op(c).precision = {.weight_bits = 4, .activation_bits = 6};
  g.op(mm).precision.complex = true;
  g.op(c).density = {.weight = 0.25, .activation = 0.5, .weight_pattern = std::nullopt};
  g.op(gp).early_exit = EarlyExit{0, 0.125};
  g.op(dm).early_exit = EarlyExit{1, std::nullopt};
  return g;
}

void check_round_trip(const Graph& g) {
  const json written = workload_to_json(g);
  const Graph reread = workload_from_json(written, "written.json");
  CHECK(reread == g);
  CHECK(workload_to_json(reread).dump() == written.dump());
}

// The message of the InputError that reading `doc` throws.
std::string error_of(const std::string& doc) {
  try {
    workload_from_json(json::parse(doc), "w.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// A one-operator document whose operator is `op` (a JSON object's members).
std::string with_op(const std::string& op) {
  return R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": [{)" + op +
         "}]}";
}

}  // namespace

TEST_CASE("a graph of every kind round-trips losslessly and canonically", "[workloads][json]") {
  const Graph g = every_kind();
  check_round_trip(g);

  const json j = workload_to_json(g);
  CHECK(j["format"] == "tessera.workload");
  CHECK(j["version"] == 1);
  const json& conv = j["operators"][0];
  CHECK(conv["shape"]["stride"] == json::array({2, 3}));
  CHECK(conv["shape"]["dilation"] == json::array({2, 1}));
  CHECK(conv["shape"]["padding"] == json::array({1, 2, 3, 4}));
  CHECK(conv["shape"]["n"].is_number_integer());
  CHECK(conv["precision"] == json({{"weight_bits", 4}, {"activation_bits", 6}}));
  CHECK(conv["density"]["weight"] == 0.25);
  CHECK(conv["source"] == "test.cpp:conv");
  CHECK_FALSE(conv.contains("early_exit"));
  CHECK(j["operators"][2]["early_exit"] == json({{"index", 0}, {"probability", 0.125}}));
  CHECK(j["operators"][8]["early_exit"] == json({{"index", 1}}));
  CHECK(j["operators"][7]["inputs"] == json::array({"gap", "embed", "norm"}));
  CHECK(j["operators"][3]["precision"] == json({{"weight_bits", 8}, {"activation_bits", 8}}));
}

TEST_CASE("every shipped JSON workload round-trips", "[workloads][json]") {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kShipped)) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    check_round_trip(read_workload_json(entry.path().string()));
    ++checked;
  }
  CHECK(checked >= 3);
}

TEST_CASE("shipped JSON workloads have their real sizes", "[workloads][json]") {
  SECTION("LeNet-5") {
    const Graph g = load_workload(kShipped + "lenet5.json");
    CHECK(g.size() == 12);
    // conv 6*28*28*25 + conv 16*10*10*150 + fc 400*120 + 120*84 + 84*10
    CHECK(g.totals().macs == 416520);
    CHECK(g.totals().params == 61706);  // the classic LeNet-5 parameter count
  }
  SECTION("BERT-base encoder layer at sequence 128, 16-bit") {
    const Graph g = load_workload(kShipped + "bert_base_layer.json");
    // 4 projections 128*768*768, 2 attention products 12*128*128*64, FFN 2 * 128*768*3072
    CHECK(g.totals().macs == 931135488);
    CHECK(g.totals().params == 7087872);  // 4*(768*768+768) + FFN weights+biases + 2 norms
    CHECK(g.op(*g.find("scores")).precision.weight_bits == 16);
    const auto& scores = std::get<MatMul>(g.op(*g.find("scores")).shape);
    CHECK(scores.batch == 12);
    CHECK_FALSE(scores.b_is_weight);
  }
  SECTION("tiny early-exit CNN") {
    const Graph g = load_workload(kShipped + "tiny_early_exit.json");
    CHECK(g.totals().macs == 2802784);
    int exits = 0;
    for (Graph::Node n = 0; n < g.size(); ++n)
      if (g.op(n).early_exit) ++exits;
    CHECK(exits == 2);
    CHECK(g.op(*g.find("exit1_fc")).early_exit == EarlyExit{1, 0.4});
  }
}

TEST_CASE("short forms and defaults are expanded", "[workloads][json]") {
  const Graph g = workload_from_json(json::parse(R"({
    "format": "tessera.workload", "version": 1, "name": "short",
    "defaults": {"precision": {"weight_bits": 4}, "density": {"activation": 0.5}},
    "operators": [
      {"name": "fc", "kind": "matmul", "inputs": ["gap"], "shape": {"m": 1, "n": 10, "k": 8},
       "precision": {"activation_bits": 16}},
      {"name": "conv", "kind": "conv",
       "shape": {"c": 3, "h": 9, "w": 9, "k": 8, "r": 3, "s": 3, "stride": 2, "padding": 1}},
      {"name": "gap", "kind": "pool", "inputs": ["conv"],
       "shape": {"type": "avg", "global": true, "c": 8, "h": 5, "w": 5}}
    ]})"),
                                     "short.json");
  const Operator& fc = g.op(0);
  CHECK(fc.precision == Precision{4, 16});
  CHECK(fc.density == Density{1.0, 0.5, std::nullopt});
  CHECK(fc.source == "short.json: /operators/0");
  CHECK(std::get<MatMul>(fc.shape) == MatMul{.m = 1, .n = 10, .k = 8});
  const auto& conv = std::get<Conv>(g.op(1).shape);
  CHECK(conv.stride_h == 2);
  CHECK(conv.stride_w == 2);
  CHECK(conv.pad_top == 1);
  CHECK(conv.pad_right == 1);
  CHECK(conv.n == 1);
  CHECK(conv.p() == 5);
  const auto& gap = std::get<Pool>(g.op(2).shape);
  CHECK(gap.r == 5);
  CHECK(gap.s == 5);
  // Inputs may refer forward; edges follow the names, not the list order.
  CHECK(g.producers(0) == std::vector<Graph::Node>{2});
  CHECK(g.topological_order() == std::vector<Graph::Node>{1, 2, 0});
}

TEST_CASE("bad workload JSON is reported with file, path and expectation", "[workloads][json]") {
  const std::string conv = R"("name": "c", "kind": "conv", )";
  const std::string shape = R"("c": 3, "h": 8, "w": 8, "k": 4, "r": 3, "s": 3)";
  struct Case {
    std::string doc;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {R"({"format": "onnx", "version": 1})", {"w.json: /format: expected \"tessera.workload\""}},
      {R"({"format": "tessera.workload", "version": 2})",
       {"w.json: /version: unsupported version 2 (supported: 1)"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": []})",
       {"w.json: /operators: workload has no operators"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": {}})",
       {"w.json: /operators: expected an array, got an object"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": [3]})",
       {"w.json: /operators/0: expected an object"}},
      {R"({"format": "tessera.workload", "version": 1, "operators": []})",
       {"w.json: /: missing required key 'name'"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": [], "extra": 1})",
       {"w.json: /extra: unknown key 'extra'"}},
      {with_op(conv + R"("shape": {)" + shape + R"(, "strid": 2})"),
       {"w.json: /operators/0/shape/strid: unknown key 'strid'", "accepted here:", "stride"}},
      {with_op(conv + R"("shape": {)" + shape + R"(, "stride": [1, 0]})"),
       {"w.json: /operators/0/shape/stride/1: must be a positive integer, got 0"}},
      {with_op(conv + R"("shape": {)" + shape + R"(, "stride": [1, 2, 3]})"),
       {"w.json: /operators/0/shape/stride: expected one integer or an array of 2"}},
      {with_op(conv + R"("shape": {)" + shape + R"(, "padding": -1})"),
       {"w.json: /operators/0/shape/padding: must be >= 0, got -1"}},
      {with_op(conv + R"("shape": {"c": 3, "h": 8, "w": 8, "k": 0, "r": 3, "s": 3})"),
       {"w.json: /operators/0/shape/k: must be a positive integer, got 0"}},
      {with_op(conv + R"("shape": {"c": 3, "h": -8, "w": 8, "k": 4, "r": 3, "s": 3})"),
       {"w.json: /operators/0/shape/h: must be a positive integer, got -8"}},
      {with_op(conv + R"("shape": {"c": 3, "h": "8", "w": 8, "k": 4, "r": 3, "s": 3})"),
       {"w.json: /operators/0/shape/h: expected an integer, got a string"}},
      {with_op(conv + R"("shape": {"c": 3, "h": 8.5, "w": 8, "k": 4, "r": 3, "s": 3})"),
       {"w.json: /operators/0/shape/h: expected an integer, got 8.5"}},
      {with_op(conv + R"("shape": {"c": 3, "h": 2, "w": 8, "k": 4, "r": 3, "s": 3})"),
       {"w.json: /operators/0: operator 'c': the filter does not fit"}},
      {with_op(conv + R"("shape": {"c": 3, "w": 8, "k": 4, "r": 3, "s": 3})"),
       {"w.json: /operators/0/shape: missing required key 'h'"}},
      {with_op(R"("name": "c", "kind": "convolution", "shape": {})"),
       {"w.json: /operators/0/kind: 'convolution' is not one of: conv, matmul,"}},
      {with_op(R"("name": "p", "kind": "pool", "shape": {"type": "min", "c": 1, "h": 2, "w": 2})"),
       {"w.json: /operators/0/shape/type: 'min' is not one of: max, avg"}},
      {with_op(R"("name": "p", "kind": "pool", "shape": {"type": "max", "global": true, "c": 1,
                  "h": 4, "w": 4, "r": 2})"),
       {"w.json: /operators/0/shape/global: a global pool's window"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "inputs": ["nowhere"])"),
       {"w.json: /operators/0/inputs/0: unknown operator 'nowhere'"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "inputs": "m")"),
       {"w.json: /operators/0/inputs: expected an array, got a string"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "precision": {"weight_bits": 65})"),
       {"w.json: /operators/0/precision/weight_bits: must be at most 64 bits, got 65"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "density": {"weight": 1.5})"),
       {"w.json: /operators/0/density/weight: must be at most 1, got 1.5"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "early_exit": {"probability": 0.5})"),
       {"w.json: /operators/0/early_exit: missing required key 'index'"}},
      {with_op(R"("name": "m", "kind": "matmul", "shape": {"m": 1, "n": 1, "k": 1},
                  "early_exit": {"index": 0, "probability": -0.5})"),
       {"w.json: /operators/0/early_exit/probability: must be >= 0"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": [
           {"name": "a", "kind": "softmax", "shape": {"rows": 1, "cols": 1}},
           {"name": "a", "kind": "softmax", "shape": {"rows": 1, "cols": 1}}]})",
       {"w.json: /operators/1/name: operator name 'a' is already used at /operators/0"}},
      {R"({"format": "tessera.workload", "version": 1, "name": "t", "operators": [
           {"name": "a", "kind": "softmax", "inputs": ["b"], "shape": {"rows": 1, "cols": 1}},
           {"name": "b", "kind": "softmax", "inputs": ["a"], "shape": {"rows": 1, "cols": 1}}]})",
       {"w.json: workload 't' is not acyclic: cycle through a -> b"}},
  };
  for (const auto& c : cases) {
    INFO(c.doc);
    const std::string message = error_of(c.doc);
    for (const auto& e : c.expected) CHECK_THAT(message, Contains(e));
  }
}

TEST_CASE("bad workload files through load_workload", "[workloads][json][frontend]") {
  CHECK_THROWS_WITH(load_workload(kData + "malformed.json"),
                    Contains("malformed.json:5:13: malformed JSON: syntax error"));
  CHECK_THROWS_WITH(load_workload(kData + "typo_key.json"),
                    Contains("typo_key.json: /operators/1/shape/strid: unknown key 'strid'"));
  CHECK_THROWS_WITH(
      load_workload(kData + "cycle.json"),
      Contains("cycle.json: workload 'cycle' is not acyclic") && Contains("left -> right"));
  CHECK_THROWS_WITH(load_workload(kData + "missing.json"),
                    Contains("missing.json: cannot open file"));
  CHECK_THROWS_WITH(load_workload(kData), Contains("is a directory"));
  CHECK_THROWS_WITH(load_workload(kData + "unknown_format.txt"),
                    Contains("unknown_format.txt: no workload front-end reads this file") &&
                        Contains("json: ") && Contains("scalesim: "));
}

TEST_CASE("the front-end registry lists every front-end", "[workloads][frontend]") {
  const auto list = frontends().list();
  std::vector<std::string> names;
  for (const auto& [name, description] : list) names.push_back(name);
  CHECK(names ==
        std::vector<std::string>{"fabnet", "json", "nasbench201", "onnx", "scalesim", "transformer"});
  CHECK(frontends().get("json").accepts("a/b/net.JSON"));
  CHECK_FALSE(frontends().get("json").accepts("net.csv"));
  CHECK(frontends().get("scalesim").accepts("topo.csv"));
  CHECK_THROWS_WITH(frontends().get("tflite"), Contains("known: fabnet, json, nasbench201, onnx"));
}

TEST_CASE("a setting the front-end would ignore is an error", "[workloads][frontend][errors]") {
  LoadOptions batch;
  batch.batch = 4;
  CHECK_THROWS_WITH(load_workload(kShipped + "lenet5.json", batch),
                    Contains("lenet5.json: the json front-end does not take the setting 'batch'"));
  LoadOptions decode;
  decode.phase = "decode";
  CHECK_THROWS_WITH(load_workload("nasbench201:|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                                  decode),
                    Contains("does not take the setting 'phase' (it takes: batch)"));
  CHECK(load_workload(kShipped + "resnet18_scalesim.csv").size() == 20);
}
