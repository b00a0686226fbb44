// ONNX import (workloads/onnx_import.*, docs/onnx.md). The torchvision exports shipped in
// workloads/models/ must reproduce the MAC and parameter counts of
// data/reference/model_macs.json exactly; that file is read through the TESSERA_SOURCE_DIR
// compile definition (tests/CMakeLists.txt). Its parameter counts are torchvision's
// sum(p.numel() for p in model.parameters()), which includes BatchNorm's weight and bias
// (2 x channels, the IR's Norm params) and not its running statistics; the models are exported
// with BatchNormalization nodes kept, so the two agree.
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

const std::string kModels = std::string(TESSERA_SOURCE_DIR) + "/workloads/models/";
const std::string kBad = std::string(TESSERA_TEST_DATA) + "/onnx/";

nlohmann::json reference() {
  std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/data/reference/model_macs.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// Conv + Gemm + MatMul MACs (the IR gives MACs only to conv and matmul operators).
i64 compute_macs(const Graph& g) {
  i64 total = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) {
    const Operator& op = g.op(n);
    if (op.kind() == OpKind::conv || op.kind() == OpKind::matmul) total += op.macs();
  }
  return total;
}

std::size_t count_kind(const Graph& g, OpKind kind) {
  std::size_t count = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) count += g.op(n).kind() == kind;
  return count;
}

bool has_source_containing(const Graph& g, const std::string& text) {
  for (Graph::Node n = 0; n < g.size(); ++n)
    if (g.op(n).source.find(text) != std::string::npos) return true;
  return false;
}

const Operator& find_op(const Graph& g, const std::string& name) {
  auto n = g.find(name);
  REQUIRE(n);
  return g.op(*n);
}

}  // namespace

TEST_CASE("torchvision exports reproduce the reference MACs and parameters", "[onnx]") {
  const nlohmann::json ref = reference();
  for (const std::string name : {"resnet18", "mobilenet_v2", "resnet34", "vgg11",
                                 "mobilenet_v3_small", "efficientnet_b1", "inception_v3"}) {
    SECTION(name) {
      const nlohmann::json& m = ref.at("models").at(name);
      // The trained model as torch counts it: batch norms not folded.
      LoadOptions unfolded;
      unfolded.fold_batch_norms = false;
      const Graph g = load_workload(kModels + name + ".onnx", unfolded);
      CHECK(g.name() == name);
      CHECK(compute_macs(g) == m.at("macs").get<i64>());
      CHECK(g.totals().params == m.at("params").get<i64>());
      // The input size the reference used is the shipped one.
      const Operator& first = g.op(g.topological_order().front());
      REQUIRE(first.kind() == OpKind::conv);
      const auto& c = std::get<Conv>(first.shape);
      CHECK(std::vector<i64>{c.n, c.c, c.h, c.w} == m.at("input").get<std::vector<i64>>());
      CHECK_THAT(first.source, Contains(name + ".onnx: node '") && Contains("' (Conv)"));
      CHECK(first.weight_values == nullptr);  // payloads are stripped
      CHECK((count_kind(g, OpKind::norm) > 0 || name == "vgg11"));
      // Folded as an inference compiler would: each batch norm right after a convolution goes
      // into it (the same MACs; the norm's scale and shift become the convolution's bias).
      const Graph f = load_workload(kModels + name + ".onnx");
      std::size_t folded = 0;
      i64 bias_added = 0, norm_params = 0;
      for (const auto n : f.topological_order()) {
        const Operator& op = f.op(n);
        folded += op.folded.size();
        for (const auto& bn : op.folded) norm_params += find_op(g, bn).params();
        if (!op.folded.empty() && !std::get<Conv>(find_op(g, op.name).shape).bias)
          bias_added += std::get<Conv>(op.shape).k;
      }
      CHECK(compute_macs(f) == compute_macs(g));
      CHECK(count_kind(f, OpKind::norm) + folded == count_kind(g, OpKind::norm));
      CHECK((folded > 0 || name == "vgg11"));
      CHECK(f.totals().params == g.totals().params - norm_params + bias_added);
    }
  }
}

TEST_CASE("ONNX nodes map to IR operators with producer-consumer edges", "[onnx]") {
  const Graph g = read_onnx(kModels + "resnet18.onnx");
  const Operator& conv1 = find_op(g, "/conv1/Conv");
  CHECK(conv1.source == kModels + "resnet18.onnx: node '/conv1/Conv' (Conv)");
  CHECK(std::get<Conv>(conv1.shape) == Conv{.n = 1, .c = 3, .h = 224, .w = 224, .k = 64, .r = 7,
                                            .s = 7, .stride_h = 2, .stride_w = 2, .pad_top = 3,
                                            .pad_left = 3, .pad_bottom = 3, .pad_right = 3});
  const Operator& bn = find_op(g, "/bn1/BatchNormalization");
  CHECK(std::get<Norm>(bn.shape) == Norm{NormType::batch, 64 * 112 * 112, 64});
  const Operator& pool = find_op(g, "/maxpool/MaxPool");
  CHECK(std::get<Pool>(pool.shape).p() == 56);
  const Operator& gap = find_op(g, "/avgpool/GlobalAveragePool");
  CHECK(std::get<Pool>(gap.shape).global);
  const Operator& fc = find_op(g, "/fc/Gemm");
  CHECK(std::get<MatMul>(fc.shape) ==
        MatMul{.batch = 1, .m = 1, .n = 1000, .k = 512, .b_is_weight = true, .bias = true});
  // conv1 -> bn1 -> relu -> maxpool; the residual Add has two producers.
  const auto conv1_node = *g.find("/conv1/Conv");
  REQUIRE(g.consumers(conv1_node).size() == 1);
  CHECK(g.op(g.consumers(conv1_node)[0]).name == "/bn1/BatchNormalization");
  const auto add = *g.find("/layer1/layer1.0/Add");
  CHECK(g.producers(add).size() == 2);
  CHECK(std::get<Elementwise>(g.op(add).shape) == Elementwise{"add", 64 * 56 * 56, 2});
  // Graph inputs and initializers are not nodes; the first operator has no producer.
  CHECK(g.producers(conv1_node).empty());
  CHECK(conv1.precision == Precision{});  // float models keep the IR default 8/8
}

TEST_CASE("ONNX convolution variants: groups, depthwise, auto_pad, dilation, transposed",
          "[onnx]") {
  // convs.onnx lists its nodes out of order and without names (scripts/make_onnx_test_data.py).
  const Graph g = read_onnx(kBad + "convs.onnx");
  REQUIRE(g.size() == 3);
  const auto order = g.topological_order();
  const auto& grouped = std::get<Conv>(g.op(order[0]).shape);
  const auto& depthwise = std::get<Conv>(g.op(order[1]).shape);
  const auto& transposed = std::get<Conv>(g.op(order[2]).shape);
  CHECK(g.op(order[0]).name == "Conv_1");
  CHECK(g.op(order[2]).name == "ConvTranspose_0");
  CHECK(grouped.groups == 2);
  CHECK(grouped.dilation_h == 2);
  CHECK(grouped.pad_top + grouped.pad_bottom == 4);  // SAME_UPPER keeps 15x15
  CHECK(grouped.p() == 15);
  CHECK(g.op(order[0]).macs() == 16 * 15 * 15 * 4 * 9);
  CHECK(depthwise.groups == 16);
  CHECK(depthwise.p() == 8);
  CHECK(g.op(order[1]).macs() == 16 * 8 * 8 * 9);
  CHECK(transposed.transposed);
  CHECK(transposed.k == 4);
  CHECK(transposed.output_pad_h == 1);
  CHECK(transposed.p() == 17);
  CHECK(g.op(order[2]).macs() == 16 * 8 * 8 * 4 * 16);
  CHECK(g.producers(order[2]) == std::vector<Graph::Node>{order[1]});
}

TEST_CASE("ONNX initializers: inline payload, external data, stripped", "[onnx]") {
  // tiny_payload: conv weight element i is i * 0.5, fc weight element i is -i, fc bias
  // [1.5, -2.5] (scripts/export_models.py, TinyConvNet).
  auto check_values = [](const Graph& g, std::size_t conv_bytes) {
    const Operator& conv = find_op(g, "/conv/Conv");
    REQUIRE(conv.weight_values);
    const TensorValues& w = *conv.weight_values;
    CHECK(w.type == ElementType::f32);
    CHECK(w.dims == std::vector<i64>{4, 3, 3, 3});
    REQUIRE(w.count == 108);
    for (std::size_t i = 0; i < w.count; ++i) CHECK(w.at(i) == 0.5 * double(i));
    // No copy: the owner aliases the std::string that holds the bytes (the initializer's
    // raw_data inside the parsed ModelProto, or the external-data file read once).
    REQUIRE(w.owner);
    const auto* storage = static_cast<const std::string*>(w.owner.get());
    const auto* begin = reinterpret_cast<const std::byte*>(storage->data());
    CHECK(storage->size() >= conv_bytes);
    CHECK(w.data >= begin);
    CHECK(w.data + w.count * 4 <= begin + storage->size());

    const Operator& fc = find_op(g, "/fc/Gemm");
    REQUIRE(fc.weight_values);
    CHECK(fc.weight_values->dims == std::vector<i64>{2, 4});
    for (std::size_t i = 0; i < 8; ++i) CHECK(fc.weight_values->at(i) == -double(i));
    // Both views share ownership of the same model.
    CHECK(!fc.weight_values->owner.owner_before(w.owner));
    CHECK(!w.owner.owner_before(fc.weight_values->owner));
    CHECK(g.totals().params == 108 + 2 * 4 + 8 + 2);  // conv, BN scale+shift, fc weight+bias
  };
  SECTION("inline raw_data") {
    const Graph g = read_onnx(kModels + "tiny_payload.onnx");
    check_values(g, 108 * 4);
    const auto& storage = *static_cast<const std::string*>(
        find_op(g, "/conv/Conv").weight_values->owner.get());
    CHECK(storage.size() == 108 * 4);  // exactly the initializer's raw_data
  }
  SECTION("external data, relative to the model's directory") {
    const Graph g = read_onnx(kModels + "tiny_external.onnx");
    check_values(g, 108 * 4);
    const auto& storage = *static_cast<const std::string*>(
        find_op(g, "/conv/Conv").weight_values->owner.get());
    CHECK(storage.size() > 108 * 4);  // the whole data file, read into one buffer
  }
  SECTION("weights outlive the graph and the file read") {
    std::shared_ptr<const TensorValues> w;
    {
      const Graph g = read_onnx(kModels + "tiny_payload.onnx");
      w = find_op(g, "/conv/Conv").weight_values;
    }
    CHECK(w->at(107) == 53.5);
  }
  SECTION("stripped payloads import with dims only") {
    const Graph g = read_onnx(kModels + "mobilenet_v2.onnx");
    CHECK(compute_macs(g) == 300774272);
    for (Graph::Node n = 0; n < g.size(); ++n) CHECK(g.op(n).weight_values == nullptr);
  }
}

TEST_CASE("ONNX shape computations are folded (ShuffleNet channel shuffle, transformer)",
          "[onnx]") {
  SECTION("shufflenet_v2_x0_5, dynamic batch") {
    CHECK_THROWS_WITH(read_onnx(kModels + "shufflenet_v2_x0_5.onnx"),
                      Contains("input 'input' has a dynamic dimension 0 ('batch')"));
    LoadOptions o;
    o.batch = 1;
    const Graph g = read_onnx(kModels + "shufflenet_v2_x0_5.onnx", o);
    // Forward-hook count of Conv2d and Linear in torchvision 0.14 (scripts/export_models.py).
    CHECK(compute_macs(g) == 40476448);
    CHECK(g.totals().params == 1366792);
    CHECK_FALSE(has_source_containing(g, "(Shape)"));
    CHECK_FALSE(has_source_containing(g, "(Gather)"));
    CHECK(has_source_containing(g, "(Concat)"));  // the real concatenations stay
    std::size_t reshapes = 0;
    for (Graph::Node n = 0; n < g.size(); ++n)
      if (const auto* d = std::get_if<DataMovement>(&g.op(n).shape))
        reshapes += d->type == MoveType::reshape;
    CHECK(reshapes >= 2 * 16);  // two per channel shuffle
    o.batch = 4;
    CHECK(compute_macs(read_onnx(kModels + "shufflenet_v2_x0_5.onnx", o)) == 4 * 40476448);
  }
  SECTION("tiny transformer, dynamic batch and sequence") {
    CHECK_THROWS_WITH(read_onnx(kModels + "tiny_transformer.onnx"),
                      Contains("tiny_transformer.onnx: input 'tokens' has a dynamic dimension"));
    LoadOptions o;
    o.batch = 2;
    o.seq_len = 8;
    const Graph g = read_onnx(kModels + "tiny_transformer.onnx", o);
    // Linear layers 313344 (export script's hook count for batch 2, sequence 8) plus per block
    // Q.K^T and att.V: 2 * batch * heads * seq * seq * head_dim = 2 * 2 * 4 * 8 * 8 * 8.
    CHECK(compute_macs(g) == 313344 + 2 * (2 * 2 * 4 * 8 * 8 * 8));
    std::size_t attention = 0;
    for (Graph::Node n = 0; n < g.size(); ++n)
      if (const auto* m = std::get_if<MatMul>(&g.op(n).shape); m && !m->b_is_weight) {
        ++attention;
        CHECK(m->batch == 2 * 4);
        CHECK(m->m == 8);
      }
    CHECK(attention == 4);
    CHECK(count_kind(g, OpKind::embedding) == 1);
    CHECK(count_kind(g, OpKind::softmax) == 2);
    CHECK(count_kind(g, OpKind::norm) == 4);
    CHECK_FALSE(has_source_containing(g, "(Shape)"));
    for (Graph::Node n = 0; n < g.size(); ++n)
      if (const auto* s = std::get_if<Softmax>(&g.op(n).shape)) {
        CHECK(s->rows == 2 * 4 * 8);
        CHECK(s->cols == 8);
      }
    o.seq_len = 16;
    CHECK(compute_macs(read_onnx(kModels + "tiny_transformer.onnx", o)) ==
          2 * 313344 + 2 * (2 * 2 * 4 * 16 * 16 * 8));
  }
}

TEST_CASE("ONNX recurrent layers become per-step matrix products", "[onnx]") {
  // tiny_rnn: x [seq 5, batch 2, 16] -> LSTM(16 -> 32) -> bidirectional GRU(32 -> 24) -> Linear.
  const Graph g = read_onnx(kModels + "tiny_rnn.onnx");
  const i64 lstm = 5 * 2 * (16 + 32) * 4 * 32;
  const i64 gru = 2 * 5 * 2 * (32 + 24) * 3 * 24;
  const i64 fc = 2 * 48 * 10;
  CHECK(compute_macs(g) == lstm + gru + fc);
  std::size_t steps = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) steps += g.op(n).name.find("/t") != std::string::npos;
  CHECK(steps == 2 * (5 + 2 * 5));  // a MatMul and a cell update per direction and step
}

TEST_CASE("ONNX input size overrides", "[onnx]") {
  const std::string resnet = kModels + "resnet18.onnx";
  const i64 macs = 1814073344, fc = 512 * 1000;
  LoadOptions o;
  o.batch = 4;
  CHECK(compute_macs(read_onnx(resnet, o)) == 4 * macs);
  o = {};
  o.image_size = 448;  // every feature map doubles in both directions; the classifier does not
  CHECK(compute_macs(read_onnx(resnet, o)) == 4 * (macs - fc) + fc);
  o = {};
  o.input_shapes["input"] = {2, 3, 224, 224};
  o.batch = 8;  // input_shapes wins
  CHECK(compute_macs(read_onnx(resnet, o)) == 2 * macs);
  o = {};
  o.input_shapes["image"] = {1, 3, 224, 224};
  CHECK_THROWS_WITH(read_onnx(resnet, o),
                    Contains("an input shape is given for 'image', which is not an input") &&
                        Contains("(inputs: input)"));
}

TEST_CASE("ONNX bad input gives a clear error naming the file", "[onnx]") {
  CHECK_THROWS_AS(read_onnx(kBad + "truncated.onnx"), InputError);
  CHECK_THROWS_WITH(read_onnx(kBad + "truncated.onnx"),
                    Contains("truncated.onnx: not a valid ONNX model") &&
                        Contains("truncated or corrupt"));
  CHECK_THROWS_WITH(read_onnx(kBad + "corrupt.onnx"),
                    Contains("corrupt.onnx: not a valid ONNX model"));
  CHECK_THROWS_WITH(read_onnx(kBad + "missing.onnx"), Contains("missing.onnx: cannot open file"));
  CHECK_THROWS_WITH(read_onnx(kBad + "opset3.onnx"),
                    Contains("opset3.onnx: ai.onnx opset 3 is not supported (supported: 7 to 23)"));
  CHECK_THROWS_WITH(read_onnx(kBad + "opset99.onnx"), Contains("ai.onnx opset 99 is not supported"));
  CHECK_THROWS_WITH(read_onnx(kBad + "dynamic.onnx"),
                    Contains("dynamic.onnx: input 'x' has a dynamic dimension 0 ('N')"));
  LoadOptions o;
  o.batch = 1;
  CHECK_THROWS_WITH(read_onnx(kBad + "dynamic.onnx", o),
                    Contains("input 'x' has a dynamic dimension 2 ('H')"));
  o.image_size = 32;
  CHECK(read_onnx(kBad + "dynamic.onnx", o).size() == 1);
  CHECK_THROWS_WITH(read_onnx(kBad + "cycle.onnx"),
                    Contains("cycle.onnx: the graph has a cycle through nodes") &&
                        Contains("'a'") && Contains("'b'"));
  CHECK_THROWS_WITH(read_onnx(kBad + "unsupported_op.onnx"),
                    Contains("unsupported_op.onnx: node 'det' (Det): unsupported operator Det"));
  // Attributes that ONNX 1.12's inference would divide by or index with unchecked.
  CHECK_THROWS_WITH(read_onnx(kBad + "zero_stride.onnx"),
                    Contains("node 'conv' (Conv): attribute 'strides' has a value 0 (must be "
                             "positive)"));
  CHECK_THROWS_WITH(read_onnx(kBad + "gather_nd_batch_dims.onnx"),
                    Contains("node 'gather' (GatherND): batch_dims -3 does not fit data"));
}

TEST_CASE("ONNX sizes that contradict each other or are missing name the node", "[onnx]") {
  // ConvTranspose output_shape: a negative size, and one larger than the input reaches.
  CHECK_THROWS_WITH(read_onnx(kBad + "convtranspose_negative_output_shape.onnx"),
                    Contains("convtranspose_negative_output_shape.onnx: node 'deconv' "
                             "(ConvTranspose): attribute 'output_shape' has a value -6 (must be "
                             "positive)"));
  CHECK_THROWS_WITH(read_onnx(kBad + "convtranspose_output_shape_too_large.onnx"),
                    Contains("node 'deconv' (ConvTranspose): output_shape [100, 100] is larger "
                             "than the input [1, 2, 4, 4] reaches (at most 6"));
  // Batch norm parameters of another length than the channels.
  CHECK_THROWS_WITH(read_onnx(kBad + "batchnorm_channel_mismatch.onnx"),
                    Contains("node 'bn' (BatchNormalization): input 'scale' has 3 values for 2 "
                             "channels (input shape [1, 2, 4, 4])"));
  // An input with no shape at all: its consumer fails naming it; an override gives it one.
  CHECK_THROWS_WITH(read_onnx(kBad + "input_without_shape.onnx"),
                    Contains("node 'conv' (Conv)") &&
                        Contains("input 'x' has no shape in the model; give one with an input "
                                 "shape override for 'x'"));
  LoadOptions o;
  o.input_shapes["x"] = {1, 2, 8, 8};
  const Graph g = read_onnx(kBad + "input_without_shape.onnx", o);
  CHECK(compute_macs(g) == 4 * 2 * 9 * 6 * 6);
}

TEST_CASE("ONNX unsupported operators can be kept as zero-cost nodes", "[onnx]") {
  LoadOptions o;
  o.allow_unsupported = true;
  std::vector<std::string> warnings;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  const Graph g = load_workload(kBad + "unsupported_op.onnx", o);
  REQUIRE(g.size() == 3);
  const Operator& det = find_op(g, "det");
  CHECK(det.macs() == 0);
  CHECK(std::get<DataMovement>(det.shape) == DataMovement{MoveType::copy, 2 * 3 * 3, 2});
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("node 'det' (Det)") && Contains("zero-cost"));
  const auto order = g.topological_order();
  CHECK(g.op(order[1]).name == "det");
  CHECK(g.producers(order[2]) == std::vector<Graph::Node>{order[1]});
}

TEST_CASE("the onnx front-end is registered for *.onnx", "[onnx]") {
  CHECK(frontends().contains("onnx"));
  CHECK(looks_like_onnx("a/b/model.ONNX"));
  CHECK_FALSE(looks_like_onnx("model.onnx.data"));
}

TEST_CASE("ONNX opset 20+: unknown operators and schemas without a rule are named", "[onnx]") {
  CHECK_THROWS_WITH(read_onnx(kBad + "unknown_op_opset20.onnx"),
                    Contains("unknown_op_opset20.onnx: node 'fancy' (FancyNewOp): unsupported "
                             "operator FancyNewOp"));
  // AffineGrid is newer than ONNX 1.12 and has no Tessera shape rule: its output has no shape,
  // and the error at its consumer names both nodes and says why.
  LoadOptions o;
  o.allow_unsupported = true;
  o.warn = [](const std::string&) {};
  CHECK_THROWS_WITH(read_onnx(kBad + "changed_schema.onnx", o),
                    Contains("node 'relu' (Relu): tensor 'y' has no static shape") &&
                        Contains("input 'd' has no known shape; node 'grid' (AffineGrid): its ai.onnx schema changed in opset "
                                 "20 and Tessera has no shape rule for it"));
}

TEST_CASE("ONNX Attention and Einsum become matrix products", "[onnx]") {
  const std::string ops = kBad + "ops/";
  // Attention-23, 4-D, 8 query heads sharing 2 key/value heads, S = L = 16, D = 32, Dv = 24:
  // Q·Kᵀ per query head, softmax, weights·V.
  const Graph att = read_onnx(ops + "attention_4d_gqa.onnx");
  REQUIRE(att.size() == 3);
  CHECK(std::get<MatMul>(find_op(att, "Attention_0/qk").shape) ==
        MatMul{.batch = 2 * 8, .m = 16, .n = 16, .k = 32, .b_is_weight = false});
  CHECK(std::get<Softmax>(find_op(att, "Attention_0/softmax").shape) ==
        Softmax{.rows = 2 * 8 * 16, .cols = 16});
  CHECK(std::get<MatMul>(find_op(att, "Attention_0/av").shape) ==
        MatMul{.batch = 2 * 8, .m = 16, .n = 24, .k = 16, .b_is_weight = false});
  // 3-D inputs with q_num_heads 4, kv_num_heads 2: D = 128 / 4, Dv = 48 / 2, L = 20.
  const Graph att3 = read_onnx(ops + "attention_3d.onnx");
  CHECK(std::get<MatMul>(find_op(att3, "Attention_0/qk").shape) ==
        MatMul{.batch = 2 * 4, .m = 16, .n = 20, .k = 32, .b_is_weight = false});
  CHECK(std::get<MatMul>(find_op(att3, "Attention_0/av").shape) ==
        MatMul{.batch = 2 * 4, .m = 16, .n = 24, .k = 20, .b_is_weight = false});
  // Einsum: batch labels in both operands and the output, M and N from one operand each, K
  // summed; an ellipsis expands to the leading dims.
  const Graph e1 = read_onnx(ops + "einsum_attention.onnx");  // bhqd,bhkd->bhqk
  CHECK(std::get<MatMul>(e1.op(0).shape) ==
        MatMul{.batch = 2 * 4, .m = 16, .n = 12, .k = 8, .b_is_weight = false});
  const Graph e2 = read_onnx(ops + "einsum_ellipsis.onnx");  // ...ij,jk (implicit output)
  CHECK(e2.op(0).macs() == 2 * 3 * 5 * 7 * 4);
  CHECK(std::get<MatMul>(e2.op(0).shape).m == 2 * 3 * 5);
  // One operand: bij->bji is a transpose, bji->b a reduction.
  const Graph e3 = read_onnx(kBad + "einsum_single.onnx");
  CHECK(std::get<DataMovement>(find_op(e3, "transpose").shape) ==
        DataMovement{MoveType::transpose, 30, 30});
  CHECK(std::get<Elementwise>(find_op(e3, "sum").shape) == Elementwise{"einsum", 30, 1});
  CHECK(onnx_output_shapes(kBad + "einsum_single.onnx") ==
        std::map<std::string, std::vector<i64>>{{"y", {2}}});
}

TEST_CASE("ONNX com.microsoft operators: MatMulNBits sets 4-bit weights", "[onnx]") {
  std::map<std::string, std::string> became;
  LoadOptions o;
  o.on_node = [&](const std::string& type, const std::string& what) { became[type] = what; };
  const Graph g = read_onnx(kBad + "com_microsoft.onnx", o);
  REQUIRE(g.size() == 4);
  const Operator& mm = find_op(g, "nbits");
  CHECK(std::get<MatMul>(mm.shape) == MatMul{.batch = 1, .m = 8, .n = 32, .k = 64});
  CHECK(mm.precision == Precision{4, 8});
  CHECK(std::get<Norm>(find_op(g, "norm").shape) == Norm{NormType::rms, 8 * 32, 32});
  CHECK(std::get<Norm>(find_op(g, "rms").shape) == Norm{NormType::rms, 8 * 32, 32});
  CHECK(became == std::map<std::string, std::string>{
                      {"SimplifiedLayerNormalization", "norm"},
                      {"com.microsoft::FastGelu", "elementwise"},
                      {"com.microsoft::MatMulNBits", "matmul"},
                      {"com.microsoft::SkipSimplifiedLayerNormalization", "norm"}});
}

TEST_CASE("ONNX float16 constants are read for shapes", "[onnx]") {
  // Resize-19 with float16 scales [1, 1, 2, 1.5] of a 1x2x4x4 input.
  CHECK(onnx_output_shapes(kBad + "resize_fp16.onnx") ==
        std::map<std::string, std::vector<i64>>{{"y", {1, 2, 8, 6}}});
}
