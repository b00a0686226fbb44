// Operand streams: what each datapath port of an engine sees, in order, for one layer.
//
// This is the interface an engine implements so that the bit-toggle (hamming-distance) datapath
// energy model (arch/energy/hamming.hpp) can count toggles on its ports. It is deliberately
// generic: an engine describes each *kind* of port (e.g. "the activation input register of a
// PE") as a loop nest over the layer's GEMM dimensions; the counter walks the nest with real or
// synthetic operand values and counts bit flips between consecutive values a port receives.
//
// The layer is seen as a matrix product per group (dataflows/gemm.hpp):
//     C[g][m][n] = sum_k A[g][m][k] * B[g][k][n]
//   A: activations (im2col of the input for a convolution; padding reads as 0),
//   B: weights, C: partial sums / outputs.
//   conv:   g = group, m = (batch*P + p)*Q + q, n = output channel within the group,
//           k = (r*S + s)*C_g + c   (input channel innermost: an HWC buffer layout)
//   matmul: g = batch, m, n, k as in the operator.
//
// A PortStream is a loop nest, outermost loop first. Each loop iterates one dimension; a dimension
// split over several loops is composed mixed-radix in the order the loops appear (outer loop =
// more significant digit): index_d = sum over loops l on d of i_l * prod(extents of the loops on
// d after l). Index values >= the dimension's size are *invalid*: the port is idle at that step
// (edge folds) and keeps its previous value, so an idle step costs no toggles.
//
//   spatial loops   distinguish physical ports (PE rows, columns). A spatial loop over a
//                   dimension the port's tensor does not depend on is *shared*: all those ports
//                   see the same stream (a systolic row sees the same activations, shifted), so it
//                   is counted once and multiplied by the number of valid copies.
//   temporal loops  are the order in which values arrive. A temporal loop over a dimension the
//                   tensor does not depend on repeats values (innermost such loops are stationary
//                   operands: no toggles while held).
//
// Tensors depend on: activation (g, m, k), weight (g, k, n), psum (g, m, n and k, see below).
// A psum port sees a running partial sum: the k loops at positions >= accumulate_from are summed
// as a prefix (starting from zero whenever an outer loop, or a k loop before accumulate_from,
// changes); k loops before accumulate_from pick a fresh block of the reduction. Example, systolic
// weight-stationary: k is split as [k_fold (temporal), k_row (spatial)], accumulate_from points at
// k_row, so the psum leaving PE row r carries sum over the fold's rows 0..r.
//
// Values are two's-complement integers of `bits` bits (operands at the layer's precision, psums at
// the accumulator width); a toggle is a bit that differs between consecutive values on a port.
//
// Cost: counting is proportional to the values streamed (sum over distinct streams of their
// steps), not to MACs, except for psum ports, whose streams are per PE by nature.
//
// A second form, IndexedStream, describes streams that are not GEMM loop nests: butterfly pairs
// at stride 2^s, FFT twiddle factors. It is an index generator over one flat tensor of the layer
// (its input, its weights, or a named table such as the twiddle factors): a sequence of segments
// (one per FFT stage, say), each a strided loop nest over named dimensions with a base offset; at
// each position the port receives tensor[offset + sum over loops of i_l * stride_l]. Spatial
// loops distinguish physical ports; one whose stride is 0 in every segment gives copies of one
// stream (counted once and multiplied). Temporal loops are the order values arrive. A port keeps
// its value across a segment boundary, so a segment's first value toggles against the previous
// segment's last. Every segment has the same spatial loops (names and extents, in order); their
// strides may differ (butterfly unit u takes pair u of each stage, at that stage's stride).
// Example, radix-2 FFT of n points, stage s, one butterfly unit: the upper inputs are the loops
// {block: n / 2^(s+1), stride 2^(s+1)}, {pair: 2^s, stride 1} at offset 0, the lower inputs the
// same at offset 2^s, and the twiddle stream W^(pair * n / 2^(s+1)) the same loops with strides
// 0 and n / 2^(s+1) into the twiddle table (values.hpp: twiddle_table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/energy/technology.hpp"
#include "workloads/operator.hpp"

namespace tessera::arch::energy {

using workloads::i64;

enum class GemmDim { g, m, n, k };
enum class StreamTensor { activation, weight, psum };

struct StreamLoop {
  GemmDim dim = GemmDim::m;
  i64 extent = 1;        // trip count (> 0)
  bool spatial = false;  // true: parallel ports; false: time steps
};

struct PortStream {
  std::string port;  // a name for reports: "pe.activation", "pe.weight", "pe.psum"
  StreamTensor tensor = StreamTensor::activation;
  int bits = 8;                   // port width: two's-complement values masked to this many bits
  std::vector<StreamLoop> loops;  // outermost first
  std::size_t accumulate_from = 0;  // psum only: index into `loops` (see the header comment)
  // Operand ports whose zeros are gated or skipped: a zero is never latched (gating holds the
  // register, skipping never sends it), so the port keeps its previous value and the zero
  // costs no toggles; counts run over the stream's non-zero values.
  bool hold_zeros = false;
};

// A loop of an IndexedStream: a named dimension, its trip count (> 0) and the elements its step
// adds to the index (0: the value repeats along it, a held operand or a shared port).
struct IndexLoop {
  std::string dim;
  i64 extent = 1;
  i64 stride = 0;
  bool spatial = false;
};

struct IndexSegment {
  i64 offset = 0;
  std::vector<IndexLoop> loops;  // outermost first
};

struct IndexedStream {
  std::string port;
  // The flat tensor it reads: "input", "weight" (LayerValues' layouts) or a table of
  // LayerValues::tables ("twiddle").
  std::string tensor = "input";
  int bits = 8;
  std::vector<IndexSegment> segments;  // in the order the port receives them
};

// The GEMM sizes the loops index (dim sizes for validity) and the ports of the datapath: GEMM
// loop nests, and index generators for the streams that are not.
struct LayerStreams {
  i64 groups = 1, m = 1, n = 1, k = 1;
  std::vector<PortStream> ports;
  std::vector<IndexedStream> indexed;
};

// Where operand values come from and how toggles are counted (arch/energy/hamming.hpp).
struct HammingOptions {
  // "synthetic", "trained-like" (values.hpp), "onnx" (Operator::weight_values), "npy:DIR"
  std::string data = "synthetic";
  // Operand ports (activations, weights) carry sign and magnitude instead of two's complement
  // (a small negative value then toggles few bits); partial sums stay two's complement.
  bool sign_magnitude = false;
  std::uint64_t seed = 1;
  bool optimize_order = false;     // permute output channels to reduce toggles (reorder.hpp)
  // Exact counting while a layer costs at most this many value evaluations; otherwise sampling.
  std::uint64_t exact_limit = std::uint64_t{1} << 25;
  std::uint64_t samples = std::uint64_t{1} << 16;  // sampled transitions per port
};

// Implemented by engines that can describe their datapath streams (in addition to arch::Engine,
// whose stream_source() hands it to the energy code). operand_streams: nullopt when the operator
// does not run on the datapath (no MACs) or the engine cannot describe it.
class OperandStreamSource {
 public:
  virtual ~OperandStreamSource() = default;
  virtual std::optional<LayerStreams> operand_streams(const workloads::Operator& op) const = 0;
  // The technology table the engine's energy comes from (MAC energy calibrates toggles).
  virtual std::shared_ptr<const Technology> technology() const = 0;
  // The table's MAC entry the engine prices the operator's MACs at (config.hpp's rules with
  // "auto" PEs unless the engine has a PE precision).
  virtual std::string mac_precision(const workloads::Operator& op) const;
  // Set when the engine's config enables energy.hamming: `tessera simulate` then reports
  // hamming-distance datapath energy in place of the table's flat MAC energy.
  virtual std::optional<HammingOptions> hamming_in_simulate() const { return std::nullopt; }
  // Whether that datapath energy replaces the report's "mac" energy (true) or is reported beside
  // an energy model that has no separate MAC term (false: Bit Fusion's per-cycle core energy,
  // kept as its reference simulator computes it).
  virtual bool hamming_replaces_mac_energy() const { return true; }
};

}  // namespace tessera::arch::energy
