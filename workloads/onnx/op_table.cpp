// The ONNX front-end's operator tables (op_table.hpp). Sources: ONNX's Changelog.md (operator
// versions 18 to 23) and Operators.md; onnxruntime's ContribOperators.md for com.microsoft.
#include "workloads/onnx/op_table.hpp"

#include <map>
#include <vector>

namespace tessera::workloads::onnx_import {

namespace {

// Operator versions after 17 that changed more than the allowed types. Type-only versions
// (Cast, Reshape, Shape, Squeeze, Transpose, Flatten, Identity, Constant(OfShape) in 19, 21 and
// 23; opset 22's bfloat16 additions; Equal 19; QLinearMatMul 21; If/Loop/Scan) are absent:
// ONNX 1.12's inference of the previous version gives the same shapes.
const std::map<std::string, std::vector<int>>& changes() {
  static const std::map<std::string, std::vector<int>> table = {
      // opset 18: axes become inputs, num_outputs, Pad axes, Resize axes and aspect policy.
      {"ReduceL1", {18}}, {"ReduceL2", {18}}, {"ReduceLogSum", {18}},
      {"ReduceLogSumExp", {18}}, {"ReduceMax", {18, 20}}, {"ReduceMean", {18}},
      {"ReduceMin", {18, 20}}, {"ReduceProd", {18}}, {"ReduceSumSquare", {18}},
      {"Split", {18}}, {"Pad", {18, 19, 21, 23}}, {"Resize", {18, 19}},
      {"ScatterElements", {18}}, {"ScatterND", {18}}, {"LpPool", {18}},
      {"CenterCropPad", {18}}, {"Col2Im", {18}}, {"GroupNormalization", {18, 21}},
      {"Mish", {18}}, {"BitwiseAnd", {18}}, {"BitwiseOr", {18}}, {"BitwiseXor", {18}},
      {"BitwiseNot", {18}}, {"OptionalGetElement", {18}}, {"OptionalHasElement", {18}},
      // opset 19: pooling dilations, quantization saturation, DeformConv.
      {"AveragePool", {19}}, {"DeformConv", {19}}, {"QuantizeLinear", {19, 21, 23}},
      {"DequantizeLinear", {19, 21, 23}},
      // opset 20
      {"AffineGrid", {20}}, {"DFT", {20}}, {"Gelu", {20}}, {"GridSample", {20}},
      {"ImageDecoder", {20}}, {"IsInf", {20}}, {"IsNaN", {20}}, {"RegexFullMatch", {20}},
      {"StringConcat", {20}}, {"StringSplit", {20}},
      // opset 23
      {"Attention", {23}}, {"RMSNormalization", {23}}, {"RotaryEmbedding", {23}}};
  return table;
}

}  // namespace

std::optional<int> schema_change_after_17(const std::string& op, i64 opset) {
  auto it = changes().find(op);
  if (it == changes().end()) return std::nullopt;
  std::optional<int> newest;
  for (int v : it->second)
    if (v <= opset) newest = v;
  return newest;
}

bool tessera_rule_at_every_opset(const std::string& op) {
  return op == "Einsum" || op == "GatherND" || op == "Resize";
}

std::optional<OpMapping> generic_mapping(const std::string& domain, const std::string& op) {
  using M = Mapping;
  static const std::map<std::string, OpMapping> onnx = [] {
    std::map<std::string, OpMapping> t;
    for (const char* o :
         {"Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid",
          "HardSwish", "Tanh", "Softplus", "Softsign", "Gelu", "Erf", "Sqrt", "Exp", "Log",
          "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Clip",
          "Not", "Sign", "Mish", "ThresholdedRelu", "Cast", "CastLike", "QuantizeLinear",
          "DequantizeLinear", "DynamicQuantizeLinear", "IsNaN", "IsInf", "Shrink",
          "LpNormalization", "LRN", "MeanVarianceNormalization", "Add", "Sub", "Mul", "Div",
          "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
          "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd", "BitwiseOr",
          "BitwiseXor", "BitwiseNot", "Where", "Trilu", "RotaryEmbedding", "Swish"})
      t[o] = {M::elementwise};
    for (const char* o : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                          "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                          "ReduceSumSquare", "ArgMax", "ArgMin", "TopK", "CumSum"})
      t[o] = {M::reduction};
    const std::pair<const char*, MoveType> moves[] = {
        {"Concat", MoveType::concat},         {"Reshape", MoveType::reshape},
        {"Squeeze", MoveType::reshape},       {"Unsqueeze", MoveType::reshape},
        {"Flatten", MoveType::flatten},       {"Transpose", MoveType::transpose},
        {"DepthToSpace", MoveType::transpose}, {"SpaceToDepth", MoveType::transpose},
        {"Slice", MoveType::slice},           {"Split", MoveType::split},
        {"Gather", MoveType::gather},         {"GatherElements", MoveType::gather},
        {"GatherND", MoveType::gather},       {"ScatterND", MoveType::copy},
        {"ScatterElements", MoveType::copy},  {"Pad", MoveType::copy},
        {"CenterCropPad", MoveType::slice},   {"Resize", MoveType::copy},
        {"Upsample", MoveType::copy},         {"Expand", MoveType::copy},
        {"Tile", MoveType::copy}};
    for (const auto& [o, m] : moves) t[o] = {M::movement, m};
    return t;
  }();
  static const std::map<std::string, OpMapping> microsoft = {
      {"QLinearAdd", {M::elementwise}},     {"QLinearMul", {M::elementwise}},
      {"QLinearSigmoid", {M::elementwise}}, {"QLinearLeakyRelu", {M::elementwise}},
      {"QuantizeLinear", {M::elementwise}}, {"DequantizeLinear", {M::elementwise}},
      {"QLinearConcat", {M::movement, MoveType::concat}},
      {"Gelu", {M::elementwise}},           {"FastGelu", {M::elementwise}},
      {"BiasGelu", {M::elementwise}},       {"QuickGelu", {M::elementwise}}};
  const auto& table = domain.empty() || domain == "ai.onnx" ? onnx : microsoft;
  if (domain != "" && domain != "ai.onnx" && domain != "com.microsoft") return std::nullopt;
  auto it = table.find(op);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

}  // namespace tessera::workloads::onnx_import
