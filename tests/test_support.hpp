// Helpers shared by the tests: paths to shipped files and small workloads built in code.
#pragma once

#include <string>

#include "workloads/graph.hpp"

namespace tessera::test {

inline std::string source_path(const std::string& rel) {
  return std::string(TESSERA_SOURCE_DIR) + "/" + rel;
}
inline std::string data_path(const std::string& rel) {
  return std::string(TESSERA_TEST_DATA) + "/" + rel;
}

// A c -> k channel convolution on hw x hw with r x r kernels, "same" padding, at the given weight
// and activation densities (the sparse engine's tests).
inline workloads::Operator conv(workloads::i64 c, workloads::i64 hw, workloads::i64 k,
                                workloads::i64 r, double wd = 1.0, double ad = 1.0) {
  workloads::Operator op;
  op.name = "conv";
  workloads::Conv cv;
  cv.c = c, cv.h = hw, cv.w = hw, cv.k = k, cv.r = r, cv.s = r;
  cv.pad_top = cv.pad_bottom = cv.pad_left = cv.pad_right = (r - 1) / 2;
  op.shape = cv;
  op.density.weight = wd;
  op.density.activation = ad;
  return op;
}

// ResNet-18's conv2_x 3x3 convolution (64 -> 64 channels on 56x56, padding 1) followed by a ReLU.
// MACs 56*56*64*64*9 = 115,605,504; 8-bit operands.
inline workloads::Graph conv_relu_graph() {
  workloads::Graph g("conv_relu");
  workloads::Operator conv;
  conv.name = "conv";
  conv.shape = workloads::Conv{.n = 1,
                               .c = 64,
                               .h = 56,
                               .w = 56,
                               .k = 64,
                               .r = 3,
                               .s = 3,
                               .pad_top = 1,
                               .pad_left = 1,
                               .pad_bottom = 1,
                               .pad_right = 1};
  workloads::Operator relu;
  relu.name = "relu";
  relu.shape = workloads::Elementwise{.function = "relu", .elements = 64 * 56 * 56, .inputs = 1};
  const auto a = g.add(conv);
  const auto b = g.add(relu);
  g.connect(a, b);
  return g;
}

}  // namespace tessera::test
