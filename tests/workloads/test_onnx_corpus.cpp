// ONNX models from today's exporters (workloads/models/modern/, made by
// scripts/export_onnx_corpus.py with torch 2.11, timm, transformers 5.17 and onnxruntime's
// quantizer; opsets 17 to 23, both exporters, fp16/bf16, QDQ, QOperator, dynamic quantization).
// Each must import, and its conv + matmul MACs must match torch's FlopCounterMode (FLOPs / 2 on
// the same module and input, stored in reference.json) within 0.1 %. Tessera's own shape rules
// are checked against ONNX 1.23's shape inference on single-operator models
// (tests/data/onnx/ops/ops.json, written by the same script).
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "workloads/frontend.hpp"
#include "workloads/onnx_import.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;

namespace {

const std::string kCorpus = std::string(TESSERA_SOURCE_DIR) + "/workloads/models/modern/";
const std::string kOps = std::string(TESSERA_TEST_DATA) + "/onnx/ops/";

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

i64 compute_macs(const Graph& g) {
  i64 total = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) {
    const Operator& op = g.op(n);
    if (op.kind() == OpKind::conv || op.kind() == OpKind::matmul) total += op.macs();
  }
  return total;
}

// The models in reference.json that exported (the failed mixture-of-experts exports are listed
// with their errors and no MACs).
std::vector<nlohmann::json> corpus() {
  std::vector<nlohmann::json> models;
  const nlohmann::json ref = read_json(kCorpus + "reference.json");
  for (const auto& m : ref.at("models"))
    if (m.contains("reference_macs")) models.push_back(m);
  return models;
}

// MACs torch computes at run time on constants only, which Tessera counts as preprocessing
// (a node whose inputs are all constants is not part of the run-time graph, as onnxruntime's
// constant folding would also precompute it). Where that exceeds the tolerance it is taken off
// the reference: edgenext_xx_small's PositionalEncodingFourier, a 1x1 Conv of 64 Fourier
// channels to 48 over the 32x32 grid of stage 2 (256 / 8), on a constant grid. (The rotary
// embeddings' inv_freq x positions products of the decoders, 64 to 512 MACs, stay within it.)
i64 macs_on_constants(const std::string& name) {
  return name == "edgenext_xx_small" ? 64 * 48 * 32 * 32 : 0;
}

LoadOptions options_for(const nlohmann::json& m) {
  LoadOptions o;
  for (const auto& [name, dims] : m.at("dynamic_dims").items())
    o.input_shapes[name] = m.at("inputs").at(name).get<std::vector<i64>>();
  o.warn = [](const std::string& w) { FAIL("unexpected warning: " << w); };
  return o;
}

}  // namespace

TEST_CASE("today's exports import and match torch's FlopCounterMode MACs within 0.1 %", "[onnx]") {
  const auto models = corpus();
  REQUIRE(models.size() >= 30);
  std::map<std::string, int> families;
  std::set<std::string> exporters;
  for (const auto& m : models) {
    ++families[m.at("family").get<std::string>()];
    exporters.insert(m.at("exporter").get<std::string>());
  }
  CHECK(families.at("cnn") >= 10);
  CHECK(families.at("vit") >= 10);
  CHECK(families.at("llm") >= 10);
  CHECK(exporters == std::set<std::string>{"dynamo", "legacy"});
  for (const auto& m : models) {
    const std::string name = m.at("name");
    SECTION(name) {
      const Graph g = load_workload(kCorpus + m.at("file").get<std::string>(), options_for(m));
      const double macs = double(compute_macs(g));
      const double ref = m.at("reference_macs").get<double>() - double(macs_on_constants(name));
      INFO(name << ": " << macs << " MACs, FlopCounterMode less MACs on constants " << ref);
      CHECK(std::abs(macs - ref) <= 1e-3 * ref);
    }
  }
}

TEST_CASE("quantized and half-precision exports set operator precision from tensor types",
          "[onnx]") {
  // Bits of the (weight, activation) operands of every conv and matmul operator.
  auto bits = [](const std::string& file) {
    std::set<std::pair<int, int>> seen;
    const Graph g = load_workload(kCorpus + file);
    for (Graph::Node n = 0; n < g.size(); ++n) {
      const Operator& op = g.op(n);
      if (op.kind() == OpKind::conv || op.kind() == OpKind::matmul)
        seen.insert({op.precision.weight_bits, op.precision.activation_bits});
    }
    return seen;
  };
  using S = std::set<std::pair<int, int>>;
  // QDQ and QOperator: int8 weights, uint8 activations.
  CHECK(bits("resnet18_qdq.onnx") == S{{8, 8}});
  CHECK(bits("resnet18_qoperator.onnx") == S{{8, 8}});
  // Int4 weights (QDQ); activations uint8.
  CHECK(bits("mobilenetv4_qdq_int4.onnx") == S{{4, 8}});
  // Half precision: every product reads 16-bit operands.
  CHECK(bits("convnext_atto_fp16.onnx") == S{{16, 16}});
  CHECK(bits("qwen2_bf16.onnx") == S{{16, 16}});
  // ... and their arithmetic is the float format (the MACs are priced as such, docs/energy.md).
  auto formats = [](const std::string& file) {
    std::set<NumberFormat> seen;
    const Graph g = load_workload(kCorpus + file);
    for (Graph::Node n = 0; n < g.size(); ++n)
      if (g.op(n).kind() == OpKind::conv || g.op(n).kind() == OpKind::matmul)
        seen.insert(g.op(n).precision.format);
    return seen;
  };
  CHECK(formats("convnext_atto_fp16.onnx") == std::set{NumberFormat::fp16});
  CHECK(formats("qwen2_bf16.onnx") == std::set{NumberFormat::bf16});
  CHECK(formats("resnet18_qdq.onnx") == std::set{NumberFormat::integer});
  // Dynamic quantization: the projections are MatMulInteger at 8/8; the attention products stay
  // in float (the IR default, 8/8, as for a float32 model).
  const Graph bert = load_workload(kCorpus + "bert_dynamic_int8.onnx");
  i64 integer_products = 0;
  for (Graph::Node n = 0; n < bert.size(); ++n)
    if (bert.op(n).source.find("(MatMulInteger)") != std::string::npos) {
      ++integer_products;
      CHECK(bert.op(n).precision == Precision{8, 8});
    }
  // 2 layers x (Q, K, V, output, two MLP projections), and the pooler.
  CHECK(integer_products == 13);
}

TEST_CASE("a float32 model keeps the IR's default precision", "[onnx]") {
  const Graph g = load_workload(kCorpus + "convnext_atto.onnx");
  for (Graph::Node n = 0; n < g.size(); ++n) CHECK(g.op(n).precision == Precision{});
}

TEST_CASE("Tessera's shape rules agree with ONNX 1.23's shape inference", "[onnx]") {
  const nlohmann::json ref = read_json(kOps + "ops.json");
  REQUIRE(ref.at("outputs").size() >= 20);
  for (const auto& [name, outputs] : ref.at("outputs").items()) {
    SECTION(name) {
      const auto shapes = onnx_output_shapes(kOps + name + ".onnx");
      for (const auto& [tensor, dims] : outputs.items()) {
        // ONNX 1.23 leaves GroupNormalization-21's output unknown (its function body is not
        // expanded by shape inference), stored as []: nothing to compare.
        if (dims.empty()) continue;
        INFO(name << ": output " << tensor);
        REQUIRE(shapes.count(tensor));
        CHECK(shapes.at(tensor) == dims.get<std::vector<i64>>());
      }
      // And the model imports (the operators map onto the IR).
      CHECK(load_workload(kOps + name + ".onnx").size() > 0);
    }
  }
}
