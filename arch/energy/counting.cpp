// Counting the bit toggles of one layer's datapath ports (hamming.hpp: count_toggles).
//
// A port's values can be produced two ways, with the same counts (tested):
//   the loop-nest walk (Walker::exact): every (stream, step) position in turn, its value computed
//     from its GEMM indices. About 1e7 values/s; kept as the reference the tests compare against
//     (count_toggles_reference) and for partial sums accumulated over several loops.
//   row counting (Walker::exact_rows): the operand is encoded once per port straight from the
//     operator's tensor into a layout where the innermost temporal loop reads contiguous memory
//     (DenseOperands::for_each_a, for_each_b: im2col on the fly); toggles are counted
//     over whole rows by the XOR+popcount kernel, and the sequence under a temporal loop over a
//     dimension the tensor does not use (the same values again) is summarised once and repeated
//     arithmetically, its boundary transitions added. Incremental partial sums (one accumulated
//     loop, innermost) are prefix sums over rows of the laid-out operands.
// Sampling draws the same positions as before; its values come from the laid-out operands.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>

#include "arch/energy/hamming.hpp"

namespace tessera::arch::energy {

// Plain loops over popcount: the compiler emits popcnt in the "popcnt" clone, picked at load time
// on CPUs that have it (the project does not build with -mpopcnt globally).
__attribute__((target_clones("popcnt", "default"))) std::uint64_t stream_toggles(
    const std::uint64_t* v, std::size_t n) {
  std::uint64_t t = 0;
  for (std::size_t i = 1; i < n; ++i) t += static_cast<std::uint64_t>(std::popcount(v[i] ^ v[i - 1]));
  return t;
}

__attribute__((target_clones("popcnt", "default"))) std::uint64_t stream_toggles_bytes(
    const std::uint8_t* v, std::size_t n, std::size_t width) {
  if (n < 2) return 0;
  const std::size_t bytes = n * width;
  std::uint64_t t = 0;
  std::size_t i = width;
  // The word at byte i against the word `width` bytes before: each byte of a value meets the same
  // byte of its predecessor, 8 / width pairs per popcount.
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t a, b;
    std::memcpy(&a, v + i, 8);
    std::memcpy(&b, v + i - width, 8);
    t += static_cast<std::uint64_t>(std::popcount(a ^ b));
  }
  for (; i < bytes; ++i) t += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(v[i] ^ v[i - width])));
  return t;
}

std::uint64_t encode_sign_magnitude(std::int64_t v, int bits) {
  const std::uint64_t magnitude_mask = (std::uint64_t{1} << (bits - 1)) - 1;
  const std::uint64_t magnitude = static_cast<std::uint64_t>(v < 0 ? -v : v) & magnitude_mask;
  return v < 0 ? (std::uint64_t{1} << (bits - 1)) | magnitude : magnitude;
}

namespace {

using workloads::Conv;
using workloads::MatMul;

// Sum of a[i] * b[i] in 64 bits (vectorised in the AVX2 clone).
__attribute__((target_clones("avx2", "default"))) std::int64_t dot(const std::int32_t* a,
                                                                   const std::int32_t* b, i64 n) {
  std::int64_t s = 0;
  for (i64 i = 0; i < n; ++i) s += static_cast<std::int64_t>(a[i]) * b[i];
  return s;
}

// a(g, m, k) and b(g, k, n) of the layer's GEMM view (streams.hpp), computed from the operator's
// own layouts at each call (im2col on the fly): the reference walk's operands.
class Operands {
 public:
  static constexpr bool kDense = false;
  Operands(const workloads::Operator& op, const LayerValues& v) : v_(v) {
    if (const auto* c = std::get_if<Conv>(&op.shape)) {
      conv_ = true;
      c_ = *c;
      cg_ = c->c / c->groups;
      kg_ = c->k / c->groups;
      p_ = c->p();
      q_ = c->q();
    } else if (const auto* m = std::get_if<MatMul>(&op.shape)) {
      mm_ = *m;
    }
  }
  std::int64_t a(i64 g, i64 m, i64 k) const {
    if (!conv_) return v_.input[static_cast<std::size_t>((g * mm_.m + m) * mm_.k + k)];
    const i64 q = m % q_, p = (m / q_) % p_, nb = m / (p_ * q_);
    const i64 ch = k % cg_, s = (k / cg_) % c_.s, r = k / (cg_ * c_.s);
    const i64 h = p * c_.stride_h - c_.pad_top + r * c_.dilation_h;
    const i64 w = q * c_.stride_w - c_.pad_left + s * c_.dilation_w;
    if (h < 0 || h >= c_.h || w < 0 || w >= c_.w) return 0;
    return v_.input[static_cast<std::size_t>(((nb * c_.c + g * cg_ + ch) * c_.h + h) * c_.w + w)];
  }
  void prepare(bool, bool, bool) const {}  // computes every value at its call
  std::int64_t b(i64 g, i64 k, i64 n) const {
    if (!conv_) {
      const i64 base = mm_.b_is_weight ? 0 : g * mm_.k * mm_.n;
      return v_.weight[static_cast<std::size_t>(base + k * mm_.n + n)];
    }
    const i64 ch = k % cg_, s = (k / cg_) % c_.s, r = k / (cg_ * c_.s);
    return v_.weight[static_cast<std::size_t>((((g * kg_ + n) * cg_ + ch) * c_.r + r) * c_.s + s)];
  }

 private:
  const LayerValues& v_;
  bool conv_ = false;
  Conv c_;
  MatMul mm_;
  i64 cg_ = 1, kg_ = 1, p_ = 1, q_ = 1;
};

// The same operands laid out, each part on first use: A as [g][m][k] (the im2col matrix for a
// convolution, the input itself for a matmul) and B as [g][k][n] and [g][n][k], so values are
// loads and the reductions of partial sums run over contiguous memory. Ports counted by rows
// encode their operand straight from the operator's own tensors (for_each_a, for_each_b) and
// need none of it. Lazily built parts make it one port's (one thread's) at a time.
class DenseOperands {
 public:
  static constexpr bool kDense = true;
  // Elements of the laid-out A above which the layer is counted with Operands (memory).
  static constexpr i64 kMaxElements = i64{1} << 26;

  static i64 elements(const workloads::Operator& op, const LayerStreams& s) {
    if (std::holds_alternative<Conv>(op.shape)) return s.groups * s.m * s.k;
    return 0;  // a matmul's A is its input: nothing to lay out
  }

  DenseOperands(const workloads::Operator& op, const LayerValues& v, const LayerStreams& s)
      : v_(v), m_(s.m), n_(s.n), k_(s.k), groups_(s.groups) {
    if (const auto* c = std::get_if<Conv>(&op.shape)) {
      conv_ = *c;
      b_groups_ = groups_;
    } else {
      const auto& mm = std::get<MatMul>(op.shape);
      a_ = v.input.data();
      b_ = v.weight.data();
      b_groups_ = mm.b_is_weight ? 1 : groups_;
    }
  }

  // Builds the laid-out parts the walks below read: A and B (a(), b()) and B transposed (bt_row).
  void prepare(bool need_a, bool need_b, bool need_bt) const {
    if (need_a && !a_) {
      a_own_.assign(static_cast<std::size_t>(groups_ * m_ * k_), 0);
      for_each_a(m_ * k_, k_, 1, [&](i64 i, std::int32_t x) { a_own_[static_cast<std::size_t>(i)] = x; });
      a_ = a_own_.data();
    }
    if ((need_b || need_bt) && !b_) {
      b_own_.resize(static_cast<std::size_t>(b_groups_ * k_ * n_));
      for_each_b(k_ * n_, n_, 1, [&](i64 i, std::int32_t x) { b_own_[static_cast<std::size_t>(i)] = x; });
      b_ = b_own_.data();
    }
    if (need_bt && bt_.empty()) {
      bt_.resize(static_cast<std::size_t>(b_groups_ * k_ * n_));
      for (i64 g = 0; g < b_groups_; ++g)
        for (i64 k = 0; k < k_; ++k)
          for (i64 n = 0; n < n_; ++n)
            bt_[static_cast<std::size_t>((g * n_ + n) * k_ + k)] = b_[(g * k_ + k) * n_ + n];
    }
  }

  // put(g * sg + m * sm + k * sk, A[g][m][k]) for every element of A but a convolution's
  // padding (zeros), read from the input tensor in the order that writes the smaller stride
  // innermost.
  template <class F>
  void for_each_a(i64 sg, i64 sm, i64 sk, F&& put) const {
    if (!conv_) {
      const std::int32_t* in = v_.input.data();
      for (i64 g = 0; g < groups_; ++g)
        for (i64 m = 0; m < m_; ++m)
          for (i64 k = 0; k < k_; ++k) put(g * sg + m * sm + k * sk, *in++);
      return;
    }
    const Conv& c = *conv_;
    const i64 cg = c.c / c.groups, P = c.p(), Q = c.q(), HW = c.h * c.w;
    const i64 N = m_ / (P * Q);
    // k = (r * s + t) * cg + ch (input channel innermost, as Operands::a).
    if (sk <= sm) {
      for (i64 g = 0; g < groups_; ++g)
        for (i64 m = 0; m < m_; ++m) {
          const i64 q = m % Q, p = (m / Q) % P, nb = m / (P * Q);
          const i64 at = g * sg + m * sm;
          for (i64 r = 0; r < c.r; ++r) {
            const i64 h = p * c.stride_h - c.pad_top + r * c.dilation_h;
            if (h < 0 || h >= c.h) continue;
            for (i64 t = 0; t < c.s; ++t) {
              const i64 w = q * c.stride_w - c.pad_left + t * c.dilation_w;
              if (w < 0 || w >= c.w) continue;
              const std::int32_t* in = &v_.input[static_cast<std::size_t>(((nb * c.c + g * cg) * c.h + h) * c.w + w)];
              const i64 k0 = (r * c.s + t) * cg;
              for (i64 ch = 0; ch < cg; ++ch) put(at + (k0 + ch) * sk, in[ch * HW]);
            }
          }
        }
      return;
    }
    for (i64 g = 0; g < groups_; ++g)
      for (i64 r = 0; r < c.r; ++r)
        for (i64 t = 0; t < c.s; ++t)
          for (i64 ch = 0; ch < cg; ++ch) {
            const i64 at = g * sg + ((r * c.s + t) * cg + ch) * sk;
            for (i64 nb = 0; nb < N; ++nb) {
              const std::int32_t* plane = &v_.input[static_cast<std::size_t>((nb * c.c + g * cg + ch) * HW)];
              for (i64 p = 0; p < P; ++p) {
                const i64 h = p * c.stride_h - c.pad_top + r * c.dilation_h;
                if (h < 0 || h >= c.h) continue;
                const i64 m0 = (nb * P + p) * Q;
                for (i64 q = 0; q < Q; ++q) {
                  const i64 w = q * c.stride_w - c.pad_left + t * c.dilation_w;
                  if (w >= 0 && w < c.w) put(at + (m0 + q) * sm, plane[h * c.w + w]);
                }
              }
            }
          }
  }

  // put(g * sg + k * sk + n * sn, B[g][k][n]) for every element of B (g < b_groups()), read
  // in the weight tensor's order.
  template <class F>
  void for_each_b(i64 sg, i64 sk, i64 sn, F&& put) const {
    const std::int32_t* w = v_.weight.data();
    if (!conv_) {
      for (i64 g = 0; g < b_groups_; ++g)
        for (i64 k = 0; k < k_; ++k)
          for (i64 n = 0; n < n_; ++n) put(g * sg + k * sk + n * sn, *w++);
      return;
    }
    // Weights [g * kg + n][ch][r][s]; k = (r * s + t) * cg + ch.
    const Conv& c = *conv_;
    const i64 cg = c.c / c.groups;
    for (i64 g = 0; g < b_groups_; ++g)
      for (i64 n = 0; n < n_; ++n)
        for (i64 ch = 0; ch < cg; ++ch)
          for (i64 r = 0; r < c.r; ++r)
            for (i64 t = 0; t < c.s; ++t) put(g * sg + ((r * c.s + t) * cg + ch) * sk + n * sn, *w++);
  }

  std::int64_t a(i64 g, i64 m, i64 k) const { return a_[(g * m_ + m) * k_ + k]; }
  std::int64_t b(i64 g, i64 k, i64 n) const { return b_[(bg(g) * k_ + k) * n_ + n]; }
  // Row pointers along k: A[g][m][.] and B[g][.][n].
  const std::int32_t* a_row(i64 g, i64 m) const { return a_ + (g * m_ + m) * k_; }
  const std::int32_t* bt_row(i64 g, i64 n) const { return bt_.data() + (bg(g) * n_ + n) * k_; }
  // B shared by every group (a matmul with weights): its group stride is 0.
  i64 b_groups() const { return b_groups_; }
  i64 bg(i64 g) const { return b_groups_ == 1 ? 0 : g; }

 private:
  const LayerValues& v_;
  std::optional<Conv> conv_;
  i64 m_, n_, k_, groups_;
  i64 b_groups_ = 1;
  mutable std::vector<std::int32_t> a_own_, b_own_, bt_;
  mutable const std::int32_t* a_ = nullptr;
  mutable const std::int32_t* b_ = nullptr;
};

constexpr int kDims = 4;
int di(GemmDim d) { return static_cast<int>(d); }

bool uses(StreamTensor t, GemmDim d) {
  switch (t) {
    case StreamTensor::activation: return d != GemmDim::n;
    case StreamTensor::weight: return d != GemmDim::m;
    case StreamTensor::psum: return true;
  }
  return true;
}

// A stretch of one stream: its first and last values and the toggles and transitions inside it,
// weighted by the number of physical ports that see each step.
struct Summary {
  bool any = false;
  std::uint64_t first = 0, last = 0, first_mult = 0;
  std::uint64_t toggles = 0, transitions = 0, values = 0;
};

// `s` follows `acc` in time: the transition between them is counted at s's first step.
void append(Summary& acc, const Summary& s) {
  if (!s.any) return;
  if (acc.any) {
    acc.toggles += static_cast<std::uint64_t>(std::popcount(acc.last ^ s.first)) * s.first_mult;
    acc.transitions += s.first_mult;
  } else {
    acc.first = s.first;
    acc.first_mult = s.first_mult;
  }
  acc.toggles += s.toggles;
  acc.transitions += s.transitions;
  acc.values += s.values;
  acc.last = s.last;
  acc.any = true;
}

// `s` n times in a row.
Summary repeated(const Summary& s, std::uint64_t n) {
  if (!s.any || n == 0) return {};
  Summary r = s;
  const std::uint64_t seam = static_cast<std::uint64_t>(std::popcount(s.last ^ s.first)) * s.first_mult;
  r.toggles = n * s.toggles + (n - 1) * seam;
  r.transitions = n * s.transitions + (n - 1) * s.first_mult;
  r.values = n * s.values;
  return r;
}

// `s` seen by `num` ports where it was seen by `den` (den divides every weighted count of s).
Summary rescaled(const Summary& s, std::uint64_t num, std::uint64_t den) {
  Summary r = s;
  r.toggles = s.toggles / den * num;
  r.transitions = s.transitions / den * num;
  r.first_mult = s.first_mult / den * num;
  return r;
}

// A port's operand tensor in its encoding, laid out so that `row_dim` is innermost.
struct Encoded {
  std::vector<std::uint8_t> bytes;
  std::size_t width = 1;        // bytes per value: 1, 2, 4 or 8
  i64 stride[kDims] = {0, 0, 0, 0};  // elements per unit of each GEMM dimension (0: unused)
};

std::size_t width_for(int bits) { return bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 32 ? 4 : 8; }

// Fixed-size copies per width (plain moves; a variable-size memcpy is a library call per value).
template <class T>
std::uint64_t load_as(const std::uint8_t* p, std::size_t i) {
  T v;
  std::memcpy(&v, p + i * sizeof(T), sizeof(T));
  return v;
}
std::uint64_t load(const std::uint8_t* p, std::size_t i, std::size_t width) {
  switch (width) {
    case 1: return p[i];
    case 2: return load_as<std::uint16_t>(p, i);
    case 4: return load_as<std::uint32_t>(p, i);
    default: return load_as<std::uint64_t>(p, i);
  }
}

template <class T>
void store_as(std::uint8_t* p, std::size_t i, std::uint64_t v) {
  const auto t = static_cast<T>(v);  // values are masked to the port's width
  std::memcpy(p + i * sizeof(T), &t, sizeof(T));
}
void store(std::uint8_t* p, std::size_t i, std::size_t width, std::uint64_t v) {
  switch (width) {
    case 1: p[i] = static_cast<std::uint8_t>(v); return;
    case 2: store_as<std::uint16_t>(p, i, v); return;
    case 4: store_as<std::uint32_t>(p, i, v); return;
    default: store_as<std::uint64_t>(p, i, v); return;
  }
}

// One port's loop nest, prepared for walking; Ops supplies the operand values.
template <class Ops>
class Walker {
 public:
  Walker(const LayerStreams& s, const PortStream& p, const Ops& ops, bool sign_magnitude)
      : p_(p), ops_(ops), size_{s.groups, s.m, s.n, s.k} {
    const std::size_t L = p.loops.size();
    stride_.assign(L, 1);
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t j = l + 1; j < L; ++j)
        if (p.loops[j].dim == p.loops[l].dim) stride_[l] *= p.loops[j].extent;
    // Temporal loops, minus the innermost ones over dimensions the tensor does not use
    // (stationary values: no toggles while held).
    std::vector<std::size_t> temporal;
    for (std::size_t l = 0; l < L; ++l)
      if (!p.loops[l].spatial) temporal.push_back(l);
    while (!temporal.empty() && !uses(p.tensor, p.loops[temporal.back()].dim))
      temporal.pop_back();
    temporal_ = temporal;
    for (std::size_t l = 0; l < L; ++l) {
      if (!p.loops[l].spatial) continue;
      if (uses(p.tensor, p.loops[l].dim)) distinct_.push_back(l);
      else shared_.push_back(l);
    }
    // Offsets of the shared spatial loops per dimension, sorted, for the count of valid copies.
    for (int d = 0; d < kDims; ++d) {
      std::vector<i64> offs{0};
      for (std::size_t l : shared_) {
        if (di(p.loops[l].dim) != d) continue;
        std::vector<i64> next;
        for (i64 o : offs)
          for (i64 i = 0; i < p.loops[l].extent; ++i) next.push_back(o + i * stride_[l]);
        offs.swap(next);
      }
      std::sort(offs.begin(), offs.end());
      shared_offsets_[d] = offs;
      has_shared_[d] = offs.size() > 1 || std::any_of(shared_.begin(), shared_.end(), [&](std::size_t l) {
                         return di(p.loops[l].dim) == d;
                       });
    }
    for (std::size_t l = 0; l < L; ++l)
      if (p.tensor == StreamTensor::psum && p.loops[l].dim == GemmDim::k && l >= p.accumulate_from)
        acc_.push_back(l);
    mask_ = p.bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << p.bits) - 1;
    sign_magnitude_ = sign_magnitude && p.tensor != StreamTensor::psum && p.bits < 64;
    distinct_count_ = 1;
    for (std::size_t l : distinct_) distinct_count_ *= p.loops[l].extent;
    steps_ = 1;
    for (std::size_t l : temporal_) steps_ *= p.loops[l].extent;
    acc_terms_ = 1;
    for (std::size_t l : acc_) acc_terms_ *= p.loops[l].extent;
    incremental_ = acc_.empty() || (acc_.size() == 1 && !temporal_.empty() && temporal_.back() == acc_[0]);
  }

  double positions() const { return static_cast<double>(distinct_count_) * static_cast<double>(steps_); }
  double cost_per_value() const { return incremental_ ? 1.0 : std::max(1.0, acc_terms_ / 2.0); }
  // Whether exact_rows can count this port: operands, or partial sums accumulated over the
  // innermost temporal loop alone.
  bool rows_apply() const {
    return p_.tensor != StreamTensor::psum || (acc_.size() == 1 && incremental_);
  }

  // Sets the digits of distinct stream `d` (all other spatial digits 0).
  void set_stream(std::vector<i64>& idx, i64 d) const {
    for (auto it = distinct_.rbegin(); it != distinct_.rend(); ++it) {
      idx[*it] = d % p_.loops[*it].extent;
      d /= p_.loops[*it].extent;
    }
  }
  void set_step(std::vector<i64>& idx, i64 t) const {
    for (auto it = temporal_.rbegin(); it != temporal_.rend(); ++it) {
      idx[*it] = t % p_.loops[*it].extent;
      t /= p_.loops[*it].extent;
    }
  }
  // Copies of dimension d's shared spatial loops that are valid at index `base` of d.
  std::uint64_t copies(int d, i64 base) const {
    const auto& offs = shared_offsets_[d];
    return static_cast<std::uint64_t>(std::lower_bound(offs.begin(), offs.end(), size_[d] - base) - offs.begin());
  }
  // Multiplicity (valid copies) at the position `idx`; 0 when invalid.
  i64 multiplicity(const std::vector<i64>& idx, i64 base[kDims]) const {
    for (int d = 0; d < kDims; ++d) base[d] = 0;
    for (std::size_t l = 0; l < idx.size(); ++l) base[di(p_.loops[l].dim)] += idx[l] * stride_[l];
    i64 mult = 1;
    for (int d = 0; d < kDims; ++d) {
      if (base[d] >= size_[d]) return 0;
      if (!has_shared_[d]) continue;
      mult *= static_cast<i64>(copies(d, base[d]));
      if (mult == 0) return 0;
    }
    return mult;
  }
  std::uint64_t encode(std::int64_t v) const {
    return sign_magnitude_ ? encode_sign_magnitude(v, p_.bits) : static_cast<std::uint64_t>(v) & mask_;
  }
  std::uint64_t value(std::vector<i64>& idx, const i64 base[kDims]) const {
    std::int64_t v = 0;
    switch (p_.tensor) {
      case StreamTensor::activation: v = ops_.a(base[0], base[1], base[3]); break;
      case StreamTensor::weight: v = ops_.b(base[0], base[3], base[2]); break;
      case StreamTensor::psum: v = psum(idx, base); break;
    }
    return encode(v);
  }
  // Running partial sum: the accumulated k loops' combinations up to the current one.
  std::int64_t psum(std::vector<i64>& idx, const i64 base[kDims]) const {
    if constexpr (Ops::kDense) {
      if (acc_.size() == 1) {  // terms c = 0..cur of one loop, k = k0 + c * stride: a strided dot
        const i64 st = stride_[acc_[0]], cur = idx[acc_[0]], k0 = base[3] - cur * st;
        const i64 n = std::min(cur + 1, (size_[3] - k0 + st - 1) / st);
        if (st == 1) return dot(ops_.a_row(base[0], base[1]) + k0, ops_.bt_row(base[0], base[2]) + k0, n);
        std::int64_t sum = 0;
        for (i64 c = 0; c < n; ++c)
          sum += ops_.a(base[0], base[1], k0 + c * st) * ops_.b(base[0], k0 + c * st, base[2]);
        return sum;
      }
    }
    i64 kfixed = base[3];
    std::vector<i64> cur(acc_.size()), c(acc_.size(), 0);
    for (std::size_t j = 0; j < acc_.size(); ++j) {
      cur[j] = idx[acc_[j]];
      kfixed -= cur[j] * stride_[acc_[j]];
    }
    std::int64_t sum = 0;
    while (true) {
      i64 k = kfixed;
      for (std::size_t j = 0; j < acc_.size(); ++j) k += c[j] * stride_[acc_[j]];
      if (k < size_[3]) sum += ops_.a(base[0], base[1], k) * ops_.b(base[0], k, base[2]);
      if (c == cur) break;
      for (std::size_t j = acc_.size(); j-- > 0;) {  // next combination, lexicographic
        if (++c[j] < p_.loops[acc_[j]].extent) break;
        c[j] = 0;
      }
    }
    return sum;
  }

  // Exact count over every stream and step, one position at a time (the reference).
  PortCount exact() const {
    ops_.prepare(true, true, true);
    PortCount r = header();
    std::vector<i64> idx(p_.loops.size(), 0);
    std::vector<std::uint64_t> vals;
    std::vector<i64> mults;
    double evals = 0;
    i64 base[kDims];
    for (i64 d = 0; d < distinct_count_; ++d) {
      std::fill(idx.begin(), idx.end(), 0);
      set_stream(idx, d);
      vals.clear();
      mults.clear();
      bool have = false;
      std::int64_t running = 0;
      i64 prev_acc = -1;
      for (i64 t = 0; t < steps_; ++t) {
        // Odometer over the temporal loops (t is the mixed-radix number of their digits).
        if (t > 0) {
          for (std::size_t j = temporal_.size(); j-- > 0;) {
            if (++idx[temporal_[j]] < p_.loops[temporal_[j]].extent) break;
            idx[temporal_[j]] = 0;
          }
        }
        const i64 mult = multiplicity(idx, base);
        if (mult == 0) continue;
        std::uint64_t v;
        if (p_.tensor == StreamTensor::psum && incremental_ && !acc_.empty()) {
          const i64 a = idx[acc_[0]];
          if (have && a == prev_acc + 1) {
            running += ops_.a(base[0], base[1], base[3]) * ops_.b(base[0], base[3], base[2]);
            evals += 1;
          } else {
            running = psum(idx, base);
            evals += static_cast<double>(a + 1);
          }
          prev_acc = a;
          v = static_cast<std::uint64_t>(running) & mask_;
        } else {
          v = value(idx, base);
          evals += cost_per_value();
          if (holds() && v == 0) continue;
        }
        have = true;
        vals.push_back(v);
        mults.push_back(mult);
      }
      r.values += static_cast<double>(vals.size());
      if (vals.size() < 2) continue;
      const bool uniform = std::all_of(mults.begin() + 1, mults.end(), [&](i64 m) { return m == mults[1]; });
      if (uniform) {
        r.toggles += static_cast<double>(stream_toggles(vals.data(), vals.size())) * static_cast<double>(mults[1]);
        r.transitions += static_cast<double>(vals.size() - 1) * static_cast<double>(mults[1]);
      } else {
        for (std::size_t i = 1; i < vals.size(); ++i) {
          r.toggles += static_cast<double>(std::popcount(vals[i] ^ vals[i - 1]) * mults[i]);
          r.transitions += static_cast<double>(mults[i]);
        }
      }
    }
    r.evaluations = evals;
    return r;
  }

  // Exact count by rows (rows_apply() must hold; Ops must be DenseOperands).
  PortCount exact_rows() const {
    PortCount r = header();
    J_ = temporal_.size();
    // The row: the innermost temporal loop, merged with the loops outside it on the same
    // dimension that continue it (index = base + i * stride over the merged extent). Partial
    // sums restart at each row, so theirs is the accumulated loop alone.
    row_begin_ = J_;
    row_extent_ = 1;
    row_step_ = 1;
    row_dim_ = 0;  // no temporal loop: one value per stream (g is used by every tensor)
    if (J_ > 0) {
      const std::size_t inner = temporal_[J_ - 1];
      row_begin_ = J_ - 1;
      row_dim_ = di(p_.loops[inner].dim);
      row_step_ = stride_[inner];
      row_extent_ = p_.loops[inner].extent;
      while (p_.tensor != StreamTensor::psum && row_begin_ > 0) {
        const std::size_t l = temporal_[row_begin_ - 1];
        if (di(p_.loops[l].dim) != row_dim_ || stride_[l] != row_extent_ * row_step_) break;
        row_extent_ *= p_.loops[l].extent;
        --row_begin_;
      }
    }
    // A repeat: a temporal loop over a dimension the tensor does not use, with no deeper
    // temporal loop on that dimension (its digit then changes only validity and copies).
    repeat_.assign(J_, false);
    for (std::size_t j = 0; j < row_begin_; ++j) {
      const auto d = p_.loops[temporal_[j]].dim;
      bool deeper = false;
      for (std::size_t i = j + 1; i < J_; ++i) deeper = deeper || p_.loops[temporal_[i]].dim == d;
      repeat_[j] = !uses(p_.tensor, d) && !deeper;
    }
    if (p_.tensor != StreamTensor::psum) encode_tensor();
    else ops_.prepare(true, false, true);  // running sums over rows of A and B transposed
    width_ = p_.tensor == StreamTensor::psum ? width_for(p_.bits) : enc_.width;
    scratch_.resize(static_cast<std::size_t>(row_extent_) * width_);
    std::vector<i64> idx(p_.loops.size(), 0);
    for (i64 s = 0; s < distinct_count_; ++s) {
      std::fill(idx.begin(), idx.end(), 0);
      set_stream(idx, s);
      std::array<i64, kDims> base{};
      for (std::size_t l = 0; l < idx.size(); ++l) base[di(p_.loops[l].dim)] += idx[l] * stride_[l];
      const Summary sum = walk(0, base);
      r.toggles += static_cast<double>(sum.toggles);
      r.transitions += static_cast<double>(sum.transitions);
      r.values += static_cast<double>(sum.values);
    }
    r.evaluations = r.values;
    return r;
  }

  // Uniform samples over (stream, step) positions; estimates with a 95% CI.
  PortCount sampled(std::uint64_t samples, std::uint64_t seed) const {
    const bool sums = p_.tensor == StreamTensor::psum;  // running sums read A and B
    ops_.prepare(sums || p_.tensor == StreamTensor::activation,
                 sums || p_.tensor == StreamTensor::weight, sums);
    PortCount r = header();
    r.exact = false;
    std::mt19937_64 rng(seed);
    const auto total = static_cast<std::uint64_t>(distinct_count_) * static_cast<std::uint64_t>(steps_);
    std::uniform_int_distribution<std::uint64_t> pick(0, total - 1);
    std::vector<i64> idx(p_.loops.size(), 0);
    i64 base[kDims];
    const bool running = p_.tensor == StreamTensor::psum && incremental_ && !acc_.empty();
    double sx = 0, sxx = 0, sy = 0, sz = 0, evals = 0;
    for (std::uint64_t s = 0; s < samples; ++s) {
      const std::uint64_t pos = pick(rng);
      const i64 d = static_cast<i64>(pos / static_cast<std::uint64_t>(steps_));
      const i64 t = static_cast<i64>(pos % static_cast<std::uint64_t>(steps_));
      std::fill(idx.begin(), idx.end(), 0);
      set_stream(idx, d);
      set_step(idx, t);
      const i64 mult = multiplicity(idx, base);
      if (mult == 0) continue;
      std::uint64_t v, prev = 0;
      bool found = false;
      if (running && idx[acc_[0]] > 0) {
        // The previous step is the same running sum without this step's term.
        const std::int64_t sum = psum(idx, base);
        v = encode(sum);
        prev = encode(sum - ops_.a(base[0], base[1], base[3]) * ops_.b(base[0], base[3], base[2]));
        evals += 2 * cost_per_value();
        found = true;
      } else {
        v = value(idx, base);
        evals += cost_per_value();
        if (holds() && v == 0) continue;  // not latched: no value, no transition
        // The previous value this stream delivered (idle steps and held zeros keep it).
        for (i64 u = t - 1; u >= 0 && t - u <= (i64{1} << 22); --u) {
          std::fill(idx.begin(), idx.end(), 0);
          set_stream(idx, d);
          set_step(idx, u);
          if (multiplicity(idx, base) == 0) continue;
          prev = value(idx, base);
          evals += cost_per_value();
          if (holds() && prev == 0) continue;
          found = true;
          break;
        }
      }
      sz += 1;
      if (!found) continue;
      const double x = static_cast<double>(std::popcount(v ^ prev)) * static_cast<double>(mult);
      sx += x;
      sxx += x * x;
      sy += static_cast<double>(mult);
    }
    const double n = static_cast<double>(samples), scale = static_cast<double>(total);
    const double mean = sx / n, var = std::max(0.0, sxx / n - mean * mean);
    r.toggles = scale * mean;
    r.ci95 = 1.96 * scale * std::sqrt(var / n);
    r.transitions = scale * sy / n;
    r.values = scale * sz / n;
    r.evaluations = evals;
    return r;
  }

  // Zeros on this port are not latched (PortStream::hold_zeros); encoded operands are zero
  // exactly when their value is.
  bool holds() const { return p_.hold_zeros && p_.tensor != StreamTensor::psum; }

  PortCount header() const {
    PortCount r;
    r.port = p_.port;
    r.tensor = p_.tensor;
    r.bits = p_.bits;
    return r;
  }

 private:
  // The operand tensor in the port's encoding, [g][other][row dimension], straight from the
  // operator's tensors (padding stays 0, which encodes as 0).
  void encode_tensor() const {
    const bool act = p_.tensor == StreamTensor::activation;
    const int G = 0, M = 1, N = 2, K = 3;
    const int inner = row_dim_ == G ? (act ? K : N) : row_dim_;
    const int other = act ? (inner == M ? K : M) : (inner == K ? N : K);
    const i64 groups = act ? size_[G] : ops_.b_groups();
    enc_.width = width_for(p_.bits);
    enc_.bytes.assign(static_cast<std::size_t>(groups * size_[other] * size_[inner]) * enc_.width, 0);
    for (int d = 0; d < kDims; ++d) enc_.stride[d] = 0;
    enc_.stride[inner] = 1;
    enc_.stride[other] = size_[inner];
    enc_.stride[G] = groups == 1 ? 0 : size_[other] * size_[inner];
    const i64* st = enc_.stride;
    std::uint8_t* out = enc_.bytes.data();
    const auto fill = [&]<class T>(T) {
      const auto put = [&](i64 i, std::int32_t v) { store_as<T>(out, static_cast<std::size_t>(i), encode(v)); };
      if (act) ops_.for_each_a(st[G], st[M], st[K], put);
      else ops_.for_each_b(st[G], st[K], st[N], put);
    };
    switch (enc_.width) {
      case 1: fill(std::uint8_t{}); break;
      case 2: fill(std::uint16_t{}); break;
      case 4: fill(std::uint32_t{}); break;
      default: fill(std::uint64_t{}); break;
    }
  }

  // The summary of the temporal levels j.. with the outer digits giving `base`.
  Summary walk(std::size_t j, std::array<i64, kDims> base) const {
    if (j == row_begin_) return row(base);
    const std::size_t l = temporal_[j];
    const int d = di(p_.loops[l].dim);
    const i64 extent = p_.loops[l].extent, st = stride_[l];
    // Valid digits: the index only grows with the digit, so they are a prefix.
    if (base[d] >= size_[d]) return {};
    const i64 valid = std::min(extent, (size_[d] - base[d] + st - 1) / st);
    if (repeat_[j]) {
      const Summary once = walk(j + 1, base);
      if (!has_shared_[d]) return repeated(once, static_cast<std::uint64_t>(valid));
      Summary acc;
      const std::uint64_t c0 = copies(d, base[d]);
      for (i64 i = 0; i < valid; ++i) append(acc, rescaled(once, copies(d, base[d] + i * st), c0));
      return acc;
    }
    Summary acc;
    for (i64 i = 0; i < valid; ++i) {
      auto b = base;
      b[d] += i * st;
      append(acc, walk(j + 1, b));
    }
    return acc;
  }

  // One row: its values, the toggles between them, and its copies.
  Summary row(const std::array<i64, kDims>& base) const {
    std::uint64_t mult = 1;
    for (int d = 0; d < kDims; ++d) {
      if (base[d] >= size_[d]) return {};
      if (d != row_dim_ && has_shared_[d]) mult *= copies(d, base[d]);
    }
    if (mult == 0) return {};
    const int D = row_dim_;
    i64 n = std::min(row_extent_, (size_[D] - base[D] + row_step_ - 1) / row_step_);
    const std::uint8_t* v = scratch_.data();
    if (p_.tensor == StreamTensor::psum) {
      // Running sums restart at the row's start (the accumulated loop is the row).
      const std::int32_t* a = ops_.a_row(base[0], base[1]) + base[3];
      const std::int32_t* b = ops_.bt_row(base[0], base[2]) + base[3];
      std::int64_t sum = 0;
      for (i64 i = 0; i < n; ++i) {
        sum += static_cast<std::int64_t>(a[i]) * b[i];
        store(scratch_.data(), static_cast<std::size_t>(i), width_, static_cast<std::uint64_t>(sum) & mask_);
      }
    } else {
      i64 at = 0;
      for (int d = 0; d < kDims; ++d) at += base[d] * enc_.stride[d];
      const i64 step = row_step_ * enc_.stride[D];
      const std::uint8_t* src = enc_.bytes.data();
      if (step == 1) {
        v = src + at * static_cast<i64>(width_);
      } else {
        for (i64 i = 0; i < n; ++i)
          std::memcpy(scratch_.data() + i * static_cast<i64>(width_), src + (at + i * step) * static_cast<i64>(width_), width_);
      }
    }
    if (holds()) {  // keep the non-zero values, in order (in place: the write never passes the read)
      i64 kept = 0;
      for (i64 i = 0; i < n; ++i)
        if (const std::uint64_t x = load(v, static_cast<std::size_t>(i), width_); x != 0)
          store(scratch_.data(), static_cast<std::size_t>(kept++), width_, x);
      if (kept == 0) return {};
      v = scratch_.data();
      n = kept;
    }
    Summary s;
    s.any = true;
    s.first = load(v, 0, width_);
    s.last = load(v, static_cast<std::size_t>(n - 1), width_);
    s.first_mult = mult;
    s.toggles = stream_toggles_bytes(v, static_cast<std::size_t>(n), width_) * mult;
    s.transitions = static_cast<std::uint64_t>(n - 1) * mult;
    s.values = static_cast<std::uint64_t>(n);
    return s;
  }

  const PortStream& p_;
  const Ops& ops_;
  i64 size_[kDims];
  std::vector<i64> stride_;
  std::vector<std::size_t> temporal_, distinct_, shared_, acc_;
  std::vector<i64> shared_offsets_[kDims];
  bool has_shared_[kDims] = {};
  std::uint64_t mask_ = 0;
  bool sign_magnitude_ = false;
  i64 distinct_count_ = 1, steps_ = 1;
  double acc_terms_ = 1;
  bool incremental_ = true;
  // exact_rows' state (a Walker counts one port on one thread).
  mutable std::size_t J_ = 0, row_begin_ = 0;
  mutable int row_dim_ = 0;
  mutable i64 row_extent_ = 1, row_step_ = 1;
  mutable std::vector<bool> repeat_;
  mutable Encoded enc_;
  mutable std::size_t width_ = 1;
  mutable std::vector<std::uint8_t> scratch_;
};

std::uint64_t port_seed(const HammingOptions& o, const std::string& layer, const std::string& port) {
  std::uint64_t h = 1469598103934665603ull ^ (o.seed * 0x9E3779B97F4A7C15ull);
  for (unsigned char ch : layer + "/" + port) h = (h ^ ch) * 1099511628211ull;
  return h;
}

template <class Ops>
PortCount count_port(const LayerStreams& streams, const PortStream& p, const workloads::Operator& op,
                     const Ops& ops, const HammingOptions& options) {
  const Walker<Ops> w(streams, p, ops, options.sign_magnitude);
  const double cost = w.positions() * w.cost_per_value();
  if (cost <= static_cast<double>(options.exact_limit)) {
    if constexpr (Ops::kDense)
      if (w.rows_apply()) return w.exact_rows();
    return w.exact();
  }
  // Each sample evaluates about two values; keep the work near exact_limit.
  const double affordable = static_cast<double>(options.exact_limit) / (2 * w.cost_per_value());
  const auto samples = static_cast<std::uint64_t>(
      std::clamp(affordable, 256.0, static_cast<double>(std::max<std::uint64_t>(options.samples, 256))));
  return w.sampled(samples, port_seed(options, op.name, p.port));
}

}  // namespace

std::vector<PortCount> count_toggles(const LayerStreams& streams, const workloads::Operator& op,
                                     const LayerValues& values, const HammingOptions& options) {
  std::vector<PortCount> out;
  // GEMM operand views only for GEMM ports (a layer of indexed streams alone, such as a
  // butterfly or FFT layer, is no GEMM).
  if (streams.ports.empty()) {
  } else if (DenseOperands::elements(op, streams) <= DenseOperands::kMaxElements) {
    const DenseOperands ops(op, values, streams);
    for (const PortStream& p : streams.ports) out.push_back(count_port(streams, p, op, ops, options));
  } else {
    const Operands ops(op, values);
    for (const PortStream& p : streams.ports) out.push_back(count_port(streams, p, op, ops, options));
  }
  for (const IndexedStream& s : streams.indexed)
    out.push_back(count_indexed(s, stream_tensor(values, s.tensor), options,
                                port_seed(options, op.name, s.port)));
  return out;
}

std::vector<PortCount> count_toggles_reference(const LayerStreams& streams,
                                               const workloads::Operator& op,
                                               const LayerValues& values,
                                               const HammingOptions& options) {
  const Operands ops(op, values);
  std::vector<PortCount> out;
  for (const PortStream& p : streams.ports)
    out.push_back(Walker<Operands>(streams, p, ops, options.sign_magnitude).exact());
  HammingOptions all = options;
  all.exact_limit = ~std::uint64_t{0};
  for (const IndexedStream& s : streams.indexed)
    out.push_back(count_indexed(s, stream_tensor(values, s.tensor), all));
  return out;
}

}  // namespace tessera::arch::energy
