#include "workloads/operator.hpp"

#include <array>
#include <bit>
#include <concepts>
#include <cmath>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/checked.hpp"
#include "common/error.hpp"
#include "workloads/butterfly_ops.hpp"

namespace tessera::workloads {

namespace {

i64 out_size(i64 in, i64 pad0, i64 pad1, i64 dilation, i64 window, i64 stride) {
  const i64 span = in + pad0 + pad1 - dilation * (window - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// Counts of a validated operator stay below kMaxCount; these keep an operator built in code
// without validate() from wrapping (common/checked.hpp).
i64 product(std::initializer_list<i64> factors, const char* what) {
  i64 out = 1;
  for (i64 f : factors) out = checked_mul(out, f, what);
  return out;
}
i64 sum(i64 a, i64 b, const char* what) { return checked_add(a, b, what); }

i64 bytes(i64 elements, int bits) {
  return checked_add(checked_mul(elements, i64{bits}, "byte count"), i64{7}, "byte count") / 8;
}

constexpr const char* kMacs = "MAC count";
constexpr const char* kParams = "parameter count";
constexpr const char* kElements = "element count";

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// A shape among those listed: the counts below name every shape they give zero, so that a new
// shape does not compile there until someone says what it costs.
template <class T, class... Ts>
concept OneOf = (std::same_as<std::remove_cvref_t<T>, Ts> || ...);

}  // namespace

i64 transposed_out_size(i64 in, i64 pad0, i64 pad1, i64 dilation, i64 window, i64 stride,
                        i64 output_pad) {
  const i64 out = (in - 1) * stride - pad0 - pad1 + dilation * (window - 1) + output_pad + 1;
  return out < 0 ? 0 : out;
}

i64 Conv::p() const {
  return transposed
             ? transposed_out_size(h, pad_top, pad_bottom, dilation_h, r, stride_h, output_pad_h)
             : out_size(h, pad_top, pad_bottom, dilation_h, r, stride_h);
}
i64 Conv::q() const {
  return transposed
             ? transposed_out_size(w, pad_left, pad_right, dilation_w, s, stride_w, output_pad_w)
             : out_size(w, pad_left, pad_right, dilation_w, s, stride_w);
}
i64 Pool::p() const { return global ? 1 : out_size(h, pad_top, pad_bottom, 1, r, stride_h); }
i64 Pool::q() const { return global ? 1 : out_size(w, pad_left, pad_right, 1, s, stride_w); }

i64 Butterfly::size() const { return ceil_pow2(in_features); }
i64 Butterfly::copies() const { return butterfly_copies(in_features, out_features); }
i64 Butterfly::stages() const { return log2_pow2(size()); }
i64 Butterfly::blocks() const { return copies() * (size() / 2) * stages(); }
i64 Fft::row_points() const { return ceil_pow2(cols); }
i64 Fft::col_points() const { return ceil_pow2(rows); }
i64 Fft::butterflies() const {
  const i64 along_rows = rows * (row_points() / 2) * log2_pow2(row_points());
  const i64 along_cols = two_d ? cols * (col_points() / 2) * log2_pow2(col_points()) : 0;
  return batch * (along_rows + along_cols);
}

i64 Operator::macs() const {
  return std::visit(
      Overloaded{
          [](const Conv& c) {
            // A transposed convolution scatters every input pixel through every filter tap.
            return c.transposed
                       ? product({c.n, c.c, c.h, c.w, c.k / c.groups, c.r, c.s}, kMacs)
                       : product({c.n, c.k, c.p(), c.q(), c.c / c.groups, c.r, c.s}, kMacs);
          },
          [](const MatMul& m) { return product({m.batch, m.m, m.n, m.k}, kMacs); },
          // Vector-unit work (arch/vector_unit.hpp), not MACs.
          [](const OneOf<Elementwise, Pool, Softmax, Norm, Embedding, DataMovement> auto&) {
            return i64{0};
          },
          // Four real multiplies per 2x2 block or radix-2 butterfly.
          [](const Butterfly& b) { return product({4, b.rows, b.blocks()}, kMacs); },
          [](const Fft& f) { return product({4, f.butterflies()}, kMacs); },
      },
      shape);
}

i64 Operator::params() const {
  return std::visit(
      Overloaded{
          [](const Conv& c) {
            return sum(product({c.k, c.c / c.groups, c.r, c.s}, kParams), c.bias ? c.k : 0,
                       kParams);
          },
          [](const MatMul& m) {
            return m.b_is_weight ? sum(product({m.k, m.n}, kParams), m.bias ? m.n : 0, kParams)
                                 : i64{0};
          },
          [](const Norm& n) {
            return n.type == NormType::rms ? n.channels : product({2, n.channels}, kParams);
          },
          [](const Embedding& e) { return product({e.vocab, e.dim}, kParams); },
          [](const Butterfly& b) {
            return sum(product({4, b.blocks()}, kParams), b.bias ? b.out_features : 0, kParams);
          },
          // FFT twiddles are constants, not parameters.
          [](const OneOf<Elementwise, Pool, Softmax, DataMovement, Fft> auto&) { return i64{0}; },
      },
      shape);
}

i64 Operator::input_elements() const {
  return std::visit(
      Overloaded{
          [](const Conv& c) { return product({c.n, c.c, c.h, c.w}, kElements); },
          [](const MatMul& m) {
            return product({m.batch, sum(product({m.m, m.k}, kElements),
                                         m.b_is_weight ? 0 : product({m.k, m.n}, kElements),
                                         kElements)},
                           kElements);
          },
          [](const Elementwise& e) { return product({e.elements, e.inputs}, kElements); },
          [](const Pool& p) { return product({p.n, p.c, p.h, p.w}, kElements); },
          [](const Softmax& s) { return product({s.rows, s.cols}, kElements); },
          [](const Norm& n) { return n.elements; },
          [](const Embedding& e) { return e.tokens; },  // the token ids
          [](const DataMovement& d) { return d.input_elements; },
          [](const Butterfly& b) { return product({b.rows, b.in_features}, kElements); },
          // A complex value counts two elements.
          [](const Fft& f) {
            return product({f.batch, f.rows, f.cols, !f.two_d && f.complex_input ? 2 : 1}, kElements);
          },
      },
      shape);
}

i64 Operator::output_elements() const {
  return std::visit(Overloaded{
                        [](const Conv& c) {
                          return product({c.n, c.k, c.p(), c.q()}, kElements);
                        },
                        [](const MatMul& m) { return product({m.batch, m.m, m.n}, kElements); },
                        [](const Elementwise& e) { return e.elements; },
                        [](const Pool& p) {
                          return product({p.n, p.c, p.p(), p.q()}, kElements);
                        },
                        [](const Softmax& s) { return product({s.rows, s.cols}, kElements); },
                        [](const Norm& n) { return n.elements; },
                        [](const Embedding& e) { return product({e.tokens, e.dim}, kElements); },
                        [](const DataMovement& d) { return d.output_elements; },
                        [](const Butterfly& b) { return product({b.rows, b.out_features}, kElements); },
                        [](const Fft& f) {
                          return product({f.batch, f.rows, f.cols, f.two_d ? 1 : 2}, kElements);
                        },
                    },
                    shape);
}

i64 size_product(std::initializer_list<i64> factors) {
  i64 out = 1;
  for (i64 f : factors)
    if (__builtin_mul_overflow(out, f, &out) || out > kMaxCount || out < -kMaxCount)
      return out < 0 ? -(kMaxCount + 1) : kMaxCount + 1;
  return out;
}

bool Operator::operator==(const Operator& o) const {
  return std::tie(name, source, shape, precision, density, early_exit) ==
         std::tie(o.name, o.source, o.shape, o.precision, o.density, o.early_exit);
}

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::f64:
    case ElementType::i64: return 8;
    case ElementType::f32:
    case ElementType::i32: return 4;
    case ElementType::f16:
    case ElementType::bf16:
    case ElementType::i16:
    case ElementType::u16: return 2;
    case ElementType::i8:
    case ElementType::u8: return 1;
  }
  return 1;
}

namespace {

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double half_to_double(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

}  // namespace

double TensorValues::at(std::size_t i) const {
  const std::byte* p = data + i * element_size(type);
  switch (type) {
    case ElementType::f32: return load<float>(p);
    case ElementType::f64: return load<double>(p);
    case ElementType::f16: return half_to_double(load<std::uint16_t>(p));
    case ElementType::bf16:
      return std::bit_cast<float>(static_cast<std::uint32_t>(load<std::uint16_t>(p)) << 16);
    case ElementType::i8: return load<std::int8_t>(p);
    case ElementType::u8: return load<std::uint8_t>(p);
    case ElementType::i16: return load<std::int16_t>(p);
    case ElementType::u16: return load<std::uint16_t>(p);
    case ElementType::i32: return load<std::int32_t>(p);
    case ElementType::i64: return static_cast<double>(load<std::int64_t>(p));
  }
  return 0;
}

namespace {
const DataMovement* cache_move(const Operator& op, MoveType type) {
  const auto* d = std::get_if<DataMovement>(&op.shape);
  return d && d->type == type ? d : nullptr;
}
}  // namespace

i64 Operator::weight_bytes() const { return bytes(params(), precision.weight_bits * precision.parts()); }
i64 Operator::cache_bytes() const {
  const auto* m = std::get_if<MatMul>(&shape);
  return m && m->b_is_cache && !m->b_is_weight
             ? bytes(product({m->batch, m->k, m->n}, kElements), precision.cache() * precision.parts())
             : 0;
}
i64 Operator::input_bytes() const {
  const int parts = precision.parts();
  if (cache_move(*this, MoveType::cache_read))
    return bytes(input_elements(), precision.cache() * parts);
  if (const i64 cache = cache_bytes()) {
    const auto& m = std::get<MatMul>(shape);
    return sum(bytes(product({m.batch, m.m, m.k}, kElements), precision.activation_bits * parts),
               cache, "byte count");
  }
  return bytes(input_elements(), precision.activation_bits * parts);
}
i64 Operator::output_bytes() const {
  return bytes(output_elements(), (cache_move(*this, MoveType::cache_write)
                                       ? precision.cache()
                                       : precision.activation_bits) *
                                      precision.parts());
}
int Operator::b_bits() const {
  const auto* m = std::get_if<MatMul>(&shape);
  if (!m || m->b_is_weight) return precision.weight_bits;
  return m->b_is_cache ? precision.cache() : precision.activation_bits;
}

namespace {

constexpr std::array<std::string_view, 10> kKindNames = {
    "conv",      "matmul",        "elementwise", "pool", "softmax", "norm",
    "embedding", "data_movement", "butterfly",   "fft"};
// OpKind follows OpShape's alternatives, one name each.
static_assert(kKindNames.size() == std::variant_size_v<OpShape>);
constexpr std::array<std::string_view, 2> kPoolNames = {"max", "avg"};
constexpr std::array<std::string_view, 4> kNormNames = {"batch", "layer", "rms", "group"};
constexpr std::array<std::string_view, 10> kMoveNames = {
    "concat", "reshape", "transpose", "slice",      "split",
    "gather", "flatten", "copy",      "cache_read", "cache_write"};
constexpr std::array<std::string_view, 10> kElementNames = {"f32", "f64", "f16", "bf16", "i8",
                                                            "u8",  "i16", "u16", "i32",  "i64"};

constexpr std::array<std::string_view, 4> kFormatNames = {"integer", "fp16", "bf16", "fp32"};

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(OpKind k) { return kKindNames.at(static_cast<std::size_t>(k)); }
std::string_view to_string(PoolType t) { return kPoolNames.at(static_cast<std::size_t>(t)); }
std::string_view to_string(NormType t) { return kNormNames.at(static_cast<std::size_t>(t)); }
std::string_view to_string(MoveType t) { return kMoveNames.at(static_cast<std::size_t>(t)); }
std::string_view to_string(ElementType t) {
  return kElementNames.at(static_cast<std::size_t>(t));
}
std::string_view to_string(NumberFormat f) { return kFormatNames.at(static_cast<std::size_t>(f)); }
std::optional<NumberFormat> number_format_from_string(std::string_view t) {
  return lookup<NumberFormat>(kFormatNames, t);
}
std::optional<OpKind> op_kind_from_string(std::string_view t) {
  return lookup<OpKind>(kKindNames, t);
}
std::optional<PoolType> pool_type_from_string(std::string_view t) {
  return lookup<PoolType>(kPoolNames, t);
}
std::optional<NormType> norm_type_from_string(std::string_view t) {
  return lookup<NormType>(kNormNames, t);
}
std::optional<MoveType> move_type_from_string(std::string_view t) {
  return lookup<MoveType>(kMoveNames, t);
}

void validate(const Operator& op, const std::string& where) {
  if (op.name.empty()) throw InputError(where + "operator name must not be empty");
  // Messages are built only on failure: validation runs for every operator a front-end builds.
  const auto fail = [&](const std::string& what) {
    throw InputError(where + "operator '" + op.name + "': " + what);
  };
  if (!(op.precision.weight_bits >= 1 && op.precision.weight_bits <= 64))
    fail("weight_bits must be in [1, 64], got " + std::to_string(op.precision.weight_bits));
  if (!(op.precision.activation_bits >= 1 && op.precision.activation_bits <= 64))
    fail("activation_bits must be in [1, 64], got " + std::to_string(op.precision.activation_bits));
  if (!(op.precision.cache_bits >= 0 && op.precision.cache_bits <= 64))
    fail("cache_bits must be in [1, 64] (0 = activation_bits), got " +
         std::to_string(op.precision.cache_bits));
  if (!(op.density.weight > 0 && op.density.weight <= 1)) fail("weight density must be in (0, 1]");
  if (!(op.density.activation > 0 && op.density.activation <= 1))
    fail("activation density must be in (0, 1]");
  if (const auto& nm = op.density.weight_pattern) {
    if (!(nm->m >= 1 && nm->n >= 1 && nm->n <= nm->m))
      fail("weight pattern N:M needs 1 <= N <= M, got " + std::to_string(nm->n) + ":" +
           std::to_string(nm->m));
    if (!(std::abs(op.density.weight - double(nm->n) / nm->m) < 1e-9))
      fail("weight density must equal N/M of its N:M pattern");
  }
  if (op.early_exit) {
    if (op.early_exit->index < 0) fail("early_exit index must be >= 0");
    if (op.early_exit->probability &&
        !(*op.early_exit->probability >= 0 && *op.early_exit->probability <= 1))
      fail("early_exit probability must be in [0, 1]");
  }
  const auto limit = [] {
    return "2^" + std::to_string(std::countr_zero(std::uint64_t(kMaxCount)));
  };
  auto at_most_limit = [&](i64 v, const char* name) {
    if (v > kMaxCount)
      fail(std::string(name) + " must be at most " + limit() + ", got " + std::to_string(v));
  };
  auto positive = [&](i64 v, const char* name) {
    if (v <= 0) fail(std::string(name) + " must be > 0, got " + std::to_string(v));
    at_most_limit(v, name);
  };
  auto non_negative = [&](i64 v, const char* name) {
    if (v < 0) fail(std::string(name) + " must be >= 0, got " + std::to_string(v));
    at_most_limit(v, name);
  };
  // A count derived from several fields (MACs, elements) must not exceed the limit either.
  auto count = [&](std::initializer_list<i64> factors, const char* what) {
    if (size_product(factors) > kMaxCount)  // the factors are positive here
      fail(what + std::string(" exceed ") + limit() + " (the largest count Tessera accepts)");
  };
  std::visit(
      Overloaded{
          [&](const Conv& c) {
            for (auto [v, n] : {std::pair{c.n, "n"},
                                {c.c, "c"},
                                {c.h, "h"},
                                {c.w, "w"},
                                {c.k, "k"},
                                {c.r, "r"},
                                {c.s, "s"},
                                {c.stride_h, "stride_h"},
                                {c.stride_w, "stride_w"},
                                {c.dilation_h, "dilation_h"},
                                {c.dilation_w, "dilation_w"},
                                {c.groups, "groups"}})
              positive(v, n);
            for (auto [v, n] : {std::pair{c.pad_top, "pad_top"},
                                {c.pad_left, "pad_left"},
                                {c.pad_bottom, "pad_bottom"},
                                {c.pad_right, "pad_right"}})
              non_negative(v, n);
            non_negative(c.output_pad_h, "output_pad_h");
            non_negative(c.output_pad_w, "output_pad_w");
            // p() and q() multiply dilation by the window and, transposed, the input by
            // the stride.
            count({c.dilation_h, c.r}, "dilation_h x r");
            count({c.dilation_w, c.s}, "dilation_w x s");
            if (c.transposed) {
              count({c.h, c.stride_h}, "h x stride_h");
              count({c.w, c.stride_w}, "w x stride_w");
            }
            if (!(c.c % c.groups == 0 && c.k % c.groups == 0))
              fail("channels c=" + std::to_string(c.c) + " and filters k=" + std::to_string(c.k) +
                   " must both be divisible by groups=" + std::to_string(c.groups));
            if (!(c.p() > 0 && c.q() > 0))
              fail("the filter does not fit the padded input (output would be " +
                   std::to_string(c.p()) + "x" + std::to_string(c.q()) + ")");
            count({c.n, c.c, c.h, c.w}, "input elements (n x c x h x w)");
            count({c.n, c.k, c.p(), c.q()}, "output elements (n x k x p x q)");
            count({c.k, c.c / c.groups, c.r, c.s}, "weights (k x c/groups x r x s)");
            if (c.transposed)
              count({c.n, c.c, c.h, c.w, c.k / c.groups, c.r, c.s},
                    "MACs (n x c x h x w x k/groups x r x s)");
            else
              count({c.n, c.k, c.p(), c.q(), c.c / c.groups, c.r, c.s},
                    "MACs (n x k x p x q x c/groups x r x s)");
          },
          [&](const MatMul& m) {
            positive(m.batch, "batch");
            positive(m.m, "m");
            positive(m.n, "n");
            positive(m.k, "k");
            count({m.batch, m.m, m.n, m.k}, "MACs (batch x m x n x k)");
            // Inputs are batch x (m x k + k x n): each term is at most the MACs, and
            // their sum at most twice the limit, which an i64 holds.
            count({m.k, m.n}, "weights (k x n)");
            if (m.b_is_cache && m.b_is_weight)
              fail("b_is_cache needs b_is_weight false (a cache is not a parameter)");
          },
          [&](const Elementwise& e) {
            if (e.function.empty()) fail("function must not be empty");
            positive(e.elements, "elements");
            positive(e.inputs, "inputs");
            count({e.elements, e.inputs}, "input elements (elements x inputs)");
          },
          [&](const Pool& p) {
            for (auto [v, n] : {std::pair{p.n, "n"},
                                {p.c, "c"},
                                {p.h, "h"},
                                {p.w, "w"},
                                {p.r, "r"},
                                {p.s, "s"},
                                {p.stride_h, "stride_h"},
                                {p.stride_w, "stride_w"}})
              positive(v, n);
            for (auto [v, n] : {std::pair{p.pad_top, "pad_top"},
                                {p.pad_left, "pad_left"},
                                {p.pad_bottom, "pad_bottom"},
                                {p.pad_right, "pad_right"}})
              non_negative(v, n);
            if (!(p.p() > 0 && p.q() > 0)) fail("the window does not fit the padded input");
            count({p.n, p.c, p.h, p.w}, "input elements (n x c x h x w)");
            count({p.n, p.c, p.p(), p.q(), p.r, p.s}, "window operations (n x c x p x q x r x s)");
          },
          [&](const Softmax& s) {
            positive(s.rows, "rows");
            positive(s.cols, "cols");
            count({s.rows, s.cols}, "elements (rows x cols)");
          },
          [&](const Norm& n) {
            positive(n.elements, "elements");
            positive(n.channels, "channels");
          },
          [&](const Embedding& e) {
            positive(e.tokens, "tokens");
            positive(e.vocab, "vocab");
            positive(e.dim, "dim");
            count({e.tokens, e.dim}, "output elements (tokens x dim)");
            count({e.vocab, e.dim}, "weights (vocab x dim)");
          },
          [&](const DataMovement& d) {
            positive(d.input_elements, "input_elements");
            positive(d.output_elements, "output_elements");
          },
          [&](const Butterfly& b) {
            positive(b.rows, "rows");
            positive(b.in_features, "in_features");
            positive(b.out_features, "out_features");
            if (b.in_features < 2) fail("in_features must be >= 2 (a butterfly pairs values)");
            // N, the copies and the blocks follow from these; each product stays in range.
            count({b.rows, 2 * b.in_features}, "input elements (rows x in_features)");
            count({b.rows, 2 * b.out_features}, "output elements (rows x out_features)");
            count({4, b.rows, b.copies(), b.size(), b.stages()}, "MACs (4 x rows x blocks)");
          },
          [&](const Fft& f) {
            positive(f.batch, "batch");
            positive(f.rows, "rows");
            positive(f.cols, "cols");
            if (f.two_d && f.complex_input) fail("complex_input applies to a 1-D FFT only");
            if (!f.two_d && f.cols < 2) fail("cols must be >= 2 (the points of each FFT)");
            count({4, f.batch, 2 * f.rows, 2 * f.cols, 64}, "MACs (4 x butterflies)");
          },
      },
      op.shape);
}

}  // namespace tessera::workloads
