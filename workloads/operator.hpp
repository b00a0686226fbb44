// One operator of a workload: what it computes (its kind and loop bounds), at which operand
// precisions and densities, and where it came from. Pure data plus the derived counts every
// engine needs (MACs, parameters, activation and weight sizes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tessera::workloads {

using i64 = std::int64_t;

// Convolution over NCHW input with K filters of R×S, grouped (groups == c == k is depthwise).
// With `transposed` it is a transposed convolution (ONNX ConvTranspose): h×w is still the input,
// each input pixel scatters an R×S window into the output, and p()/q() give the larger output.
struct Conv {
  i64 n = 1, c = 1, h = 1, w = 1;  // input batch, channels, height, width
  i64 k = 1;                       // output channels (filters)
  i64 r = 1, s = 1;                // filter height, width
  i64 stride_h = 1, stride_w = 1;
  i64 dilation_h = 1, dilation_w = 1;
  i64 pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  i64 groups = 1;
  bool bias = false;
  bool transposed = false;
  i64 output_pad_h = 0, output_pad_w = 0;  // transposed only: extra rows/columns at the end

  // Output height: floor((h + pads - dilation*(r-1) - 1) / stride) + 1; transposed:
  // (h-1)*stride - pads + dilation*(r-1) + output_pad + 1.
  i64 p() const;
  i64 q() const;  // output width
  bool operator==(const Conv&) const = default;
};

// batch × (M×K · K×N). With b_is_weight the K×N operand is a parameter shared by the batch
// (fully connected layers, projections); otherwise both operands are activations (attention).
// With b_is_cache (and not b_is_weight) the K×N operand is a persistent cache tensor (a
// transformer's KV cache): it lives in DRAM, no operator of the graph produces it, each batch
// entry reads its own, and it is stored at Precision::cache().
struct MatMul {
  i64 batch = 1, m = 1, n = 1, k = 1;
  bool b_is_weight = true;
  bool bias = false;
  bool b_is_cache = false;
  bool operator==(const MatMul&) const = default;
};

// Pointwise function over `elements` outputs with `inputs` operands each (Add: 2, Relu: 1).
struct Elementwise {
  std::string function = "identity";
  i64 elements = 1;
  i64 inputs = 1;
  bool operator==(const Elementwise&) const = default;
};

enum class PoolType { max, avg };

// Pooling over NCHW with an R×S window; `global` pools the whole plane (r = h, s = w).
struct Pool {
  PoolType type = PoolType::max;
  bool global = false;
  i64 n = 1, c = 1, h = 1, w = 1;
  i64 r = 1, s = 1;
  i64 stride_h = 1, stride_w = 1;
  i64 pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;

  i64 p() const;
  i64 q() const;
  bool operator==(const Pool&) const = default;
};

// Softmax over each of `rows` rows of length `cols`.
struct Softmax {
  i64 rows = 1, cols = 1;
  bool operator==(const Softmax&) const = default;
};

enum class NormType { batch, layer, rms, group };

// Normalisation of `elements` values with learned scale and shift over `channels` features.
struct Norm {
  NormType type = NormType::layer;
  i64 elements = 1;
  i64 channels = 1;
  bool operator==(const Norm&) const = default;
};

// Table lookup: `tokens` rows of width `dim` gathered from a vocab×dim table (the parameters).
struct Embedding {
  i64 tokens = 1, vocab = 1, dim = 1;
  bool operator==(const Embedding&) const = default;
};

enum class MoveType {
  concat,
  reshape,
  transpose,
  slice,
  split,
  gather,
  flatten,
  copy,
  cache_read,   // reads a persistent state tensor (a transformer's KV cache) from memory
  cache_write,  // appends to / writes a persistent state tensor
};

// Data movement with zero MACs: reads input_elements, writes output_elements.
struct DataMovement {
  MoveType type = MoveType::copy;
  i64 input_elements = 1;
  i64 output_elements = 1;
  bool operator==(const DataMovement&) const = default;
};

// A butterfly linear layer (FABNet; workloads/butterfly_ops.hpp): each of `rows` rows goes from
// in_features to out_features through butterflies of log2 N stages of N/2 2x2 blocks (4 weights
// and 4 MACs each). Sizes round up to powers of two as the Butterfly accelerator builds
// rectangular layers: out > in runs N_out / N_in butterflies of size N_in (expansion), otherwise
// one of size N_in keeps the first out_features outputs (contraction).
struct Butterfly {
  i64 rows = 1, in_features = 1, out_features = 1;
  bool bias = false;
  i64 size() const;      // N = in_features rounded up to a power of two
  i64 copies() const;    // butterflies per row
  i64 stages() const;    // log2 N
  i64 blocks() const;    // 2x2 blocks per row: copies * N/2 * log2 N
  bool operator==(const Butterfly&) const = default;
};

// Radix-2 fast Fourier transforms over `batch` matrices of rows x cols; point counts round up to
// powers of two, a butterfly (a complex twiddle multiply, an add and a subtract) counts 4 MACs.
//   two_d false: a cols-point FFT of every row (ONNX DFT): input real or complex, output complex;
//   two_d true: the FNet token mixer: cols-point FFTs over the rows, then rows-point FFTs over the
//     columns, real part kept (input and output real).
struct Fft {
  i64 batch = 1, rows = 1, cols = 1;
  bool two_d = false;
  bool complex_input = false;  // 1-D only
  i64 row_points() const;  // points of the FFT along a row: cols rounded up
  i64 col_points() const;  // two_d: points of the FFT along a column: rows rounded up
  i64 butterflies() const;  // radix-2 butterflies of the whole operator
  bool operator==(const Fft&) const = default;
};

// The order of this variant defines OpKind.
using OpShape = std::variant<Conv, MatMul, Elementwise, Pool, Softmax, Norm, Embedding,
                             DataMovement, Butterfly, Fft>;

enum class OpKind {
  conv,
  matmul,
  elementwise,
  pool,
  softmax,
  norm,
  embedding,
  data_movement,
  butterfly,
  fft
};

// The arithmetic of a layer's MACs: integers of the widths below, or a floating-point format
// (operands then 16 bits for fp16 and bf16, 32 for fp32). Float32 models keep the IR default,
// integer 8/8: they are taken as quantised for deployment (docs/energy.md).
enum class NumberFormat { integer, fp16, bf16, fp32 };

struct Precision {
  int weight_bits = 8;
  int activation_bits = 8;
  NumberFormat format = NumberFormat::integer;
  // A persistent cache's stored precision (KV cache operands, cache writes); 0 = activation_bits.
  int cache_bits = 0;
  // Complex values: two real parts (real, imaginary), each of the widths above, so every value
  // stores twice the bits. A complex MAC costs real multiplies and adds as its engine says
  // (arch/energy/technology.hpp, ComplexMac); engines without a complex datapath refuse it.
  bool complex = false;
  int cache() const { return cache_bits > 0 ? cache_bits : activation_bits; }
  int parts() const { return complex ? 2 : 1; }
  bool operator==(const Precision&) const = default;
};

std::string_view to_string(NumberFormat f);
std::optional<NumberFormat> number_format_from_string(std::string_view text);

// N:M structured sparsity: at most n non-zero values in every group of m consecutive weights
// (along the reduction dimension), e.g. 2:4.
struct StructuredSparsity {
  int n = 2, m = 4;
  bool operator==(const StructuredSparsity&) const = default;
};

// Fraction of non-zero values, in (0, 1]. With an N:M pattern the weight density is n/m.
struct Density {
  double weight = 1.0;
  double activation = 1.0;
  std::optional<StructuredSparsity> weight_pattern;
  bool operator==(const Density&) const = default;
};

enum class ElementType { f32, f64, f16, bf16, i8, u8, i16, u16, i32, i64 };

// The stored values of a weight tensor, viewed where its loader keeps them (for ONNX, the
// initializer inside the parsed model): no copy is made. `owner` keeps that storage alive.
struct TensorValues {
  ElementType type = ElementType::f32;
  std::vector<i64> dims;
  const std::byte* data = nullptr;  // `count` packed little-endian values of `type`
  std::size_t count = 0;
  std::shared_ptr<const void> owner;

  double at(std::size_t i) const;  // value i converted to double
};

std::size_t element_size(ElementType type);
std::string_view to_string(ElementType type);

// Which operand elements are non-zero, when known from data (an ONNX initializer's zeros, a
// layer's input from a .npy file): one byte per element, 1 = non-zero, in the layouts of
// arch/energy/values.hpp (conv input [n][c][h][w], weights [k][c/groups][r][s]; matmul input
// [batch][m][k], weights [k][n]). An empty vector: unknown. `digest` identifies both (equal
// masks, equal digest), so that plans that depend on masks are keyed on it (sim::MapCache).
struct OperandMasks {
  std::vector<std::uint8_t> weight;
  std::vector<std::uint8_t> input;
  std::uint64_t digest = 0;
};

// Marks an operator whose output is an early-exit point of the network.
struct EarlyExit {
  int index = 0;                      // 0 = first exit
  std::optional<double> probability;  // fraction of inputs that leave here, when known
  bool operator==(const EarlyExit&) const = default;
};

struct Operator {
  std::string name;    // unique in its graph
  std::string source;  // where it came from: file and line, ONNX node, config path
  OpShape shape;
  Precision precision;
  Density density;
  std::optional<EarlyExit> early_exit;
  // The weight values, when the front-end has them (ONNX initializers with payloads); null
  // otherwise. Shared, never copied; not part of the operator's identity (operator== ignores it).
  std::shared_ptr<const TensorValues> weight_values;
  // Zero masks of its operands from data (`simulate --data`), or null. Not part of its identity;
  // engines that skip zeros read them (arch/sparse/).
  std::shared_ptr<const OperandMasks> masks;
  // Operators folded into this one at load time (batch norms: workloads/passes.hpp). Not part of
  // its identity.
  std::vector<std::string> folded;

  OpKind kind() const { return static_cast<OpKind>(shape.index()); }

  i64 macs() const;
  i64 params() const;           // weight elements (incl. bias); zero for activation-only operators
  i64 input_elements() const;   // activation elements read (all activation operands)
  i64 output_elements() const;  // activation elements written

  // Dense storage sizes at the operator's precision (both parts of a complex value), rounded up to
  // whole bytes. A cache operand
  // (MatMul::b_is_cache) counts in input_bytes() at the cache precision; a cache write's output
  // and a cache read's input are stored at the cache precision too.
  i64 weight_bytes() const;
  i64 input_bytes() const;
  i64 output_bytes() const;
  // Bytes read from a cache operand (MatMul::b_is_cache): batch·k·n at the cache precision.
  i64 cache_bytes() const;
  // Bits of the second operand a MAC engine streams (a MatMul's K×N, a convolution's filters):
  // the weight, cache or activation precision.
  int b_bits() const;

  bool operator==(const Operator& other) const;
};

std::string_view to_string(OpKind kind);
std::optional<OpKind> op_kind_from_string(std::string_view text);
std::string_view to_string(PoolType t);
std::string_view to_string(NormType t);
std::string_view to_string(MoveType t);
std::optional<PoolType> pool_type_from_string(std::string_view text);
std::optional<NormType> norm_type_from_string(std::string_view text);
std::optional<MoveType> move_type_from_string(std::string_view text);

// The largest loop bound or derived count (MACs, elements, parameters) an operator may have: 2^53.
// Counts stay exact as doubles (reports, energy), and engines multiply them by bit widths, tile
// sizes and layer counts without leaving 64 bits.
inline constexpr i64 kMaxCount = i64{1} << 53;

// The product of sizes read from a file, saturated at kMaxCount + 1 so that a front-end building
// shapes from untrusted sizes never wraps; validate() then rejects the saturated field.
i64 size_product(std::initializer_list<i64> factors);

// Checks loop bounds, precisions and densities; throws InputError prefixed by `where` naming the
// field and the expected range (e.g. output size <= 0, channels not divisible by groups, a count
// above kMaxCount).
void validate(const Operator& op, const std::string& where);

}  // namespace tessera::workloads
