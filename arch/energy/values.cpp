#include "arch/energy/values.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "common/error.hpp"

namespace tessera::arch::energy {

namespace {

using workloads::Conv;
using workloads::MatMul;

std::uint64_t mix(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char ch : name) h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::int32_t clamp_round(double v, double lo, double hi) {
  return static_cast<std::int32_t>(std::clamp(std::nearbyint(v), lo, hi));
}

std::vector<std::int32_t> synthetic_weights(std::size_t n, int bits, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double hi = std::ldexp(1.0, bits - 1) - 1, scale = 6.9 / std::max(1.0, hi);
  std::vector<std::int32_t> w(n);
  for (auto& x : w) {
    const double e = -std::log(1.0 - u(rng));  // Exp(1)
    const double v = u(rng) < 0.5 ? -e : e;    // Laplace(0, 1)
    x = bits == 1 ? (v < 0 ? -1 : 0) : clamp_round(v / scale, -hi, hi);
  }
  return w;
}

std::vector<std::int32_t> synthetic_activations(std::size_t n, int bits, std::mt19937_64& rng) {
  std::normal_distribution<double> g(0.0, 1.0);
  const double hi = std::ldexp(1.0, bits) - 1, scale = 4.0 / hi;
  std::vector<std::int32_t> a(n);
  for (auto& x : a) x = clamp_round(std::max(0.0, g(rng)) / scale, 0, hi);
  return a;
}

// Weights that look trained in the ways that matter to toggles: filters come in clusters of
// near-copies (a prototype plus 30% noise, eight filters per cluster on average, clusters
// interleaved in the stored order), with per-filter scales spread log-normally, quantised with
// the max-abs scale (so most values are small, as in trained networks). Rows are output channels.
std::vector<std::int32_t> trained_like_weights(i64 rows, i64 len, int bits, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 0.5);
  const auto laplace = [&] {
    const double e = -std::log(1.0 - u(rng));
    return u(rng) < 0.5 ? -e : e;
  };
  const i64 clusters = std::max<i64>(2, rows / 8);
  std::vector<double> prototypes(static_cast<std::size_t>(clusters * len));
  for (auto& p : prototypes) p = laplace();
  std::vector<double> x(static_cast<std::size_t>(rows * len));
  for (i64 r = 0; r < rows; ++r) {
    const i64 c = static_cast<i64>(rng() % static_cast<std::uint64_t>(clusters));
    const double scale = std::exp(g(rng));
    for (i64 i = 0; i < len; ++i)
      x[static_cast<std::size_t>(r * len + i)] =
          scale * (prototypes[static_cast<std::size_t>(c * len + i)] + 0.3 * laplace());
  }
  return quantize(x, bits, false);
}

}  // namespace

std::string npy_path(const std::string& data, const std::string& layer) {
  std::string name = layer;
  std::replace(name.begin(), name.end(), '/', '_');
  return (std::filesystem::path(data.substr(4)) / (name + ".npy")).string();
}

std::size_t input_count(const workloads::Operator& op) {
  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape))
    return static_cast<std::size_t>(b->rows * b->size());
  if (const auto* f = std::get_if<workloads::Fft>(&op.shape))
    return static_cast<std::size_t>(f->batch * (f->two_d ? f->col_points() : f->rows) *
                                    f->row_points() * (f->complex_input ? 2 : 1));
  if (const auto* c = std::get_if<Conv>(&op.shape))
    return static_cast<std::size_t>(c->n * c->c * c->h * c->w);
  if (const auto* m = std::get_if<MatMul>(&op.shape))
    return static_cast<std::size_t>(m->batch * m->m * m->k);
  return 0;
}

std::size_t weight_count(const workloads::Operator& op) {
  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape))
    return static_cast<std::size_t>(4 * b->blocks());
  if (const auto* c = std::get_if<Conv>(&op.shape))
    return static_cast<std::size_t>(c->k * (c->c / c->groups) * c->r * c->s);
  if (const auto* m = std::get_if<MatMul>(&op.shape))
    return static_cast<std::size_t>((m->b_is_weight ? 1 : m->batch) * m->k * m->n);
  return 0;
}

std::vector<std::int32_t> quantize(const std::vector<double>& x, int bits, bool unsigned_range) {
  double maxabs = 0;
  for (double v : x) maxabs = std::max(maxabs, std::abs(v));
  const double hi = unsigned_range ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  const double lo = unsigned_range ? 0 : -hi;
  const double scale = maxabs > 0 ? maxabs / std::max(1.0, hi) : 1.0;
  std::vector<std::int32_t> q(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) q[i] = clamp_round(x[i] / scale, lo, hi);
  return q;
}

namespace {

// Butterfly and FFT layers: the input zero-padded to the power-of-two points of the network
// (input_count's layout), synthetic or from DIR/<layer>.npy (the operator's own input elements);
// butterfly weights synthetic (stage by stage, block by block, [a, b, c, d]); an FFT's twiddle
// tables ("twiddle" along the rows, "twiddle.col" along the columns of a 2-D mixer).
LayerValues butterfly_values(const workloads::Operator& op, const HammingOptions& o,
                             std::mt19937_64& rng) {
  LayerValues v;
  const int abits = op.precision.activation_bits;
  const auto* b = std::get_if<workloads::Butterfly>(&op.shape);
  const auto* f = std::get_if<workloads::Fft>(&op.shape);
  // Rows of `width` values (per row) padded to `padded`, `rows` of them, in blocks of
  // `block_rows` rows padded to `padded_rows` (a 2-D mixer's columns).
  const i64 parts = f && f->complex_input ? 2 : 1;
  const i64 width = (b ? b->in_features : f->cols) * parts;
  const i64 padded = (b ? b->size() : f->row_points()) * parts;
  const i64 blocks = b ? 1 : f->batch;
  const i64 rows = b ? b->rows : f->rows;
  const i64 padded_rows = f && f->two_d ? f->col_points() : rows;
  const std::size_t own = static_cast<std::size_t>(blocks * rows * width);
  std::vector<std::int32_t> dense;
  v.input_source = "synthetic relu(normal)";
  if (o.data.rfind("npy:", 0) == 0) {
    const auto path = npy_path(o.data, op.name);
    std::error_code ec;
    if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
      const NpyArray a = read_npy(path, own, "the input of layer '" + op.name + "'");
      const bool nonneg = std::all_of(a.values.begin(), a.values.end(), [](double x) { return x >= 0; });
      dense = quantize(a.values, abits, nonneg);
      v.input_source = "npy";
    }
  }
  if (dense.empty()) dense = synthetic_activations(own, abits, rng);
  v.input.assign(input_count(op), 0);
  for (i64 k = 0; k < blocks; ++k)
    for (i64 r = 0; r < rows; ++r)
      std::copy_n(dense.begin() + (k * rows + r) * width, width,
                  v.input.begin() + (k * padded_rows + r) * padded);
  if (b) {
    v.weight = synthetic_weights(weight_count(op), op.precision.weight_bits, rng);
    v.weight_source = "synthetic laplace";
  } else {
    v.tables["twiddle"] = twiddle_table(f->row_points(), abits);
    if (f->two_d) v.tables["twiddle.col"] = twiddle_table(f->col_points(), abits);
    v.weight_source = "twiddle factors";
  }
  return v;
}

}  // namespace

LayerValues make_values(const workloads::Operator& op, const HammingOptions& o) {
  std::mt19937_64 rng(mix(o.seed, op.name));
  if (std::holds_alternative<workloads::Butterfly>(op.shape) ||
      std::holds_alternative<workloads::Fft>(op.shape))
    return butterfly_values(op, o, rng);
  LayerValues v;
  const int wbits = op.b_bits(), abits = op.precision.activation_bits;
  const std::size_t nin = input_count(op), nw = weight_count(op);
  const auto* mm = std::get_if<MatMul>(&op.shape);
  const bool weights_are_activations = mm && !mm->b_is_weight;
  const bool real_weights = o.data != "synthetic" && o.data != "trained-like" && op.weight_values && !weights_are_activations;
  if (real_weights && op.weight_values->count == nw) {
    const auto& t = *op.weight_values;
    std::vector<double> x(t.count);
    for (std::size_t i = 0; i < t.count; ++i) x[i] = t.at(i);
    if (mm && t.dims.size() == 2 && t.dims[0] == mm->n && t.dims[1] == mm->k && mm->n != mm->k) {
      std::vector<double> tr(x.size());  // [n][k] -> [k][n]
      for (i64 n = 0; n < mm->n; ++n)
        for (i64 k = 0; k < mm->k; ++k) tr[k * mm->n + n] = x[n * mm->k + k];
      x.swap(tr);
    }
    v.weight = quantize(x, wbits, false);
    v.weight_source = "onnx";
  } else if (o.data == "trained-like" && !weights_are_activations) {
    const i64 rows = mm ? mm->n : std::get<Conv>(op.shape).k;
    const i64 len = static_cast<i64>(nw) / rows;
    v.weight = trained_like_weights(rows, len, wbits, rng);
    if (mm) {  // rows are output channels n: [n][k] -> [k][n]
      std::vector<std::int32_t> t(v.weight.size());
      for (i64 n = 0; n < rows; ++n)
        for (i64 k = 0; k < len; ++k) t[static_cast<std::size_t>(k * rows + n)] = v.weight[static_cast<std::size_t>(n * len + k)];
      v.weight.swap(t);
    }
    v.weight_source = "trained-like clusters";
  } else {
    v.weight = weights_are_activations ? synthetic_activations(nw, abits, rng)
                                       : synthetic_weights(nw, wbits, rng);
    v.weight_source = weights_are_activations ? "synthetic relu(normal)" : "synthetic laplace";
    if (o.data != "synthetic" && o.data != "trained-like" && !weights_are_activations)
      v.weight_source += op.weight_values ? " (ONNX payload size mismatch)" : " (no ONNX payload)";
  }
  if (o.data.rfind("npy:", 0) == 0) {
    const auto path = npy_path(o.data, op.name);
    std::error_code ec;
    if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
      const NpyArray a = read_npy(path, nin, "the input of layer '" + op.name + "'");
      const bool nonneg = std::all_of(a.values.begin(), a.values.end(), [](double x) { return x >= 0; });
      v.input = quantize(a.values, abits, nonneg);
      v.input_source = "npy";
      return v;
    }
  }
  v.input = synthetic_activations(nin, abits, rng);
  v.input_source = "synthetic relu(normal)";
  return v;
}

}  // namespace tessera::arch::energy

namespace tessera::arch::energy {

std::vector<std::int32_t> twiddle_table(i64 n, int bits) {
  const double scale = std::ldexp(1.0, bits - 1) - 1;
  std::vector<std::int32_t> t;
  t.reserve(static_cast<std::size_t>(n));
  for (i64 j = 0; j < n / 2; ++j) {
    const double angle = -2 * M_PI * static_cast<double>(j) / static_cast<double>(n);
    t.push_back(static_cast<std::int32_t>(std::lround(std::cos(angle) * scale)));
    t.push_back(static_cast<std::int32_t>(std::lround(std::sin(angle) * scale)));
  }
  return t;
}

}  // namespace tessera::arch::energy
