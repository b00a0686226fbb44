// Operand values of a layer for the hamming-distance model, as quantised integers.
//
// Sources (HammingOptions::data):
//   synthetic  weights ~ Laplace(0, 1), activations ~ ReLU(Normal(0, 1)) (half are zero), both
//              drawn from a generator seeded by (seed, layer name) and quantised linearly:
//              weights symmetric to [-(2^(b-1)-1), 2^(b-1)-1] with the clip at 6.9 (the 99.9th
//              percentile of |Laplace|), activations unsigned to [0, 2^b - 1] with the clip at 4.
//   trained-like  weights in clusters of near-copy filters with log-normal per-filter scales,
//              interleaved, max-abs quantised (values.cpp); activations as synthetic. A stand-in
//              for trained weights where none are at hand (the shipped ONNX models are untrained).
//   onnx       weights from Operator::weight_values (floats quantised symmetric, max-abs scale;
//              integer types used as stored); synthetic where a layer has no payload.
//   npy:DIR    activations from DIR/<layer name>.npy (the layer's input tensor, any of
//              f4/f8/i1-i8/u1-u8, checked by arch/energy/npy.hpp against the layer's input
//              count; '/' in names becomes '_'), floats quantised (unsigned when all >= 0, else
//              symmetric, max-abs scale); synthetic for a layer without a file, and an error
//              when no layer has one (analyse_hamming); weights as for onnx.
// Layouts: conv input [n][c][h][w], weights [k][c/groups][r][s] (ONNX); matmul input
// [batch][m][k], weights [k][n] (a [n][k] payload, as ONNX Gemm with transB, is transposed), or
// for activation x activation products the second operand [batch][k][n].
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/energy/npy.hpp"
#include "arch/energy/streams.hpp"
#include "workloads/operator.hpp"

namespace tessera::arch::energy {

struct LayerValues {
  std::vector<std::int32_t> input;
  std::vector<std::int32_t> weight;
  std::string input_source, weight_source;
  // Other flat tensors indexed streams read by name (streams.hpp), e.g. "twiddle".
  std::map<std::string, std::vector<std::int32_t>> tables;
};

// `DIR/<layer>.npy` for data "npy:DIR" ('/' in the layer name becomes '_').
std::string npy_path(const std::string& data, const std::string& layer);

// The twiddle factors W_n^j = exp(-2 pi i j / n) of a radix-2 FFT of n points, j < n / 2,
// quantised symmetric to `bits` (scale 2^(bits-1) - 1), real and imaginary parts interleaved:
// [re_0, im_0, re_1, im_1, ...]. An FFT's twiddle streams index it (stride 2 per factor).
std::vector<std::int32_t> twiddle_table(i64 n, int bits);

// Quantises to `bits`: symmetric signed (max-abs scale) or, with `unsigned_range`, [0, 2^b - 1].
std::vector<std::int32_t> quantize(const std::vector<double>& x, int bits, bool unsigned_range);

// The values of one operator with MACs (conv, matmul). Throws InputError for a bad .npy file.
LayerValues make_values(const workloads::Operator& op, const HammingOptions& options);

// Element counts the layouts above expect.
std::size_t input_count(const workloads::Operator& op);
std::size_t weight_count(const workloads::Operator& op);

}  // namespace tessera::arch::energy
