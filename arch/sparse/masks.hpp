// Zero masks of a layer's operands for the sparse engine: synthetic ones from a density and a
// pattern, and masks from data (ONNX initializers, .npy activations) attached to the operators
// of a graph (`simulate --data`). Also the operators' weight-shaped view the masks index.
//
// Synthetic masks come from a counter-based hash (splitmix64 of seed + (index + 1) * golden), so
// a mask is a pure function of (pattern, density, seed, shape): the same in every run and
// reproducible outside Tessera (tests/data/dysta/make_reference.py draws the same masks in
// NumPy). An element is kept when (hash >> 11) < density * 2^53.
//
// Owns masks and their patterns; may include workloads/ and arch/energy/ (the .npy reader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/graph.hpp"
#include "workloads/operator.hpp"

namespace tessera::arch::sparse {

using workloads::i64;
using u64 = std::uint64_t;
using Mask = std::vector<std::uint8_t>;

// Patterns of synthetic masks. Weights are viewed as filters (rows) × their reduction (columns):
//   uniform    every element kept independently with probability `density`;
//   balanced   every filter keeps exactly round(density × columns) elements (perfect balance);
//   clustered  filter j keeps round(columns × min(1, density × (0.5 + u_j))) elements, u_j
//              stratified over [0, 1) in a drawn order ((rank + 0.5) / filters): densities
//              spread evenly from half to one and a half times the mean, which they keep;
//   channel    whole input channels kept with probability `density` (channel pruning);
//   filter     whole filters kept with probability `density` (filter pruning);
//   block      blocks of `block` consecutive input channels at one (filter, r, s) kept with
//              probability `density` (SparseML's block4 with block = 4);
//   nm         in every group of m consecutive reduction elements, exactly n kept.
// Activations (the layer's input) are viewed as planes (an image's channel: rows) of h × w
// elements; channel and filter prune whole planes, block and nm fall back to uniform.
enum class Pattern { uniform, balanced, clustered, channel, filter, block, nm };
std::string_view to_string(Pattern p);
std::optional<Pattern> pattern_from_string(std::string_view text);
std::string pattern_names();  // "uniform, balanced, ..." for error messages

struct PatternSpec {
  Pattern pattern = Pattern::uniform;
  double density = 1.0;
  std::uint64_t seed = 1;
  int block = 4;
  int n = 2, m = 4;  // nm
};

std::uint64_t mask_hash(std::uint64_t seed, std::uint64_t index);

// A convolution or a matrix product with a weight operand, as groups of filters over windows of
// an input: a matrix product is a 1×1 convolution of batch·m images of k channels.
struct LayerShape {
  i64 n = 1, c = 1, h = 1, w = 1;  // input images, channels (all groups), height, width
  i64 k = 1;                       // filters (all groups)
  i64 r = 1, s = 1;
  i64 stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
  i64 p = 1, q = 1;  // output height, width
  i64 groups = 1;
  bool matmul = false;  // weights stored [k][n] (reduction-major), not [k][c/g][r][s]
  i64 cg() const { return c / groups; }
  i64 kg() const { return k / groups; }
  i64 reduction() const { return cg() * r * s; }
  u64 weight_count() const { return static_cast<u64>(k * cg() * r * s); }
  u64 input_count() const { return static_cast<u64>(n * c * h * w); }
  // Index in the operator's weight layout of filter j, channel ci (within its group), tap r, s.
  u64 weight_index(i64 j, i64 ci, i64 rr, i64 ss) const {
    return matmul ? static_cast<u64>(ci * k + j) : static_cast<u64>(((j * cg() + ci) * r + rr) * s + ss);
  }
};

// The view of a convolution (not transposed) or a matrix product with weights; nullopt for
// every other operator (activation × activation products included).
std::optional<LayerShape> layer_shape(const workloads::Operator& op);

// Masks in the operator's layouts (workloads::OperandMasks).
Mask weight_mask(const LayerShape& shape, const PatternSpec& spec);
Mask input_mask(const LayerShape& shape, const PatternSpec& spec);

// A digest of both masks (workloads::OperandMasks::digest).
std::uint64_t mask_digest(const workloads::OperandMasks& masks);

// Attaches masks from `data` to the graph's convolutions and matrix products with weights:
//   synthetic  none (engines draw them from densities and their pattern);
//   onnx       weights from the ONNX initializers (a zero is a zero: no quantisation);
//   npy:DIR    inputs from DIR/<layer>.npy (arch/energy/values.hpp names and checks them),
//              weights as for onnx.
// Returns how many layers got a mask of each kind; throws InputError for a bad .npy file, an
// unknown data source, or npy:DIR where no layer has a file.
struct AttachedMasks {
  std::size_t weights = 0, inputs = 0;
};
AttachedMasks attach_masks(workloads::Graph& graph, const std::string& data);

}  // namespace tessera::arch::sparse
