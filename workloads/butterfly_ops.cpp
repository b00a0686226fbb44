#include "workloads/butterfly_ops.hpp"

#include <bit>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace tessera::workloads {

i64 ceil_pow2(i64 v) {
  return v <= 1 ? 1 : static_cast<i64>(std::bit_ceil(static_cast<std::uint64_t>(v)));
}

int log2_pow2(i64 pow2) { return std::countr_zero(static_cast<std::uint64_t>(pow2)); }

std::size_t butterfly_weight_count(i64 n) {
  return static_cast<std::size_t>(log2_pow2(n) * (n / 2) * 4);
}

namespace {

void check_pow2(i64 n, const char* what) {
  if (n < 1 || !std::has_single_bit(static_cast<std::uint64_t>(n)))
    throw std::invalid_argument(std::string(what) + " needs a power-of-two size");
}

}  // namespace

std::vector<double> butterfly_apply(const std::vector<double>& x,
                                    const std::vector<double>& weights, i64* multiplies) {
  const i64 n = static_cast<i64>(x.size());
  check_pow2(n, "butterfly_apply");
  if (weights.size() < butterfly_weight_count(n))
    throw std::invalid_argument("butterfly_apply: too few weights");
  std::vector<double> y = x;
  std::size_t w = 0;
  for (i64 stride = 1; stride < n; stride *= 2)
    for (i64 j = 0; j < n; ++j) {
      if (j & stride) continue;
      const double x0 = y[j], x1 = y[j + stride];
      y[j] = weights[w] * x0 + weights[w + 1] * x1;
      y[j + stride] = weights[w + 2] * x0 + weights[w + 3] * x1;
      w += 4;
      if (multiplies) *multiplies += 4;
    }
  return y;
}

std::vector<double> butterfly_dense(i64 n, const std::vector<double>& weights) {
  check_pow2(n, "butterfly_dense");
  const auto idx = [n](i64 r, i64 c) { return static_cast<std::size_t>(r * n + c); };
  std::vector<double> m(static_cast<std::size_t>(n * n), 0.0);
  for (i64 i = 0; i < n; ++i) m[idx(i, i)] = 1.0;
  std::size_t w = 0;
  for (i64 stride = 1; stride < n; stride *= 2) {
    // The stage as its own matrix, then multiplied in front of the product so far.
    std::vector<double> stage(m.size(), 0.0);
    for (i64 j = 0; j < n; ++j) {
      if (j & stride) continue;
      stage[idx(j, j)] = weights[w];
      stage[idx(j, j + stride)] = weights[w + 1];
      stage[idx(j + stride, j)] = weights[w + 2];
      stage[idx(j + stride, j + stride)] = weights[w + 3];
      w += 4;
    }
    std::vector<double> next(m.size(), 0.0);
    for (i64 r = 0; r < n; ++r)
      for (i64 k = 0; k < n; ++k)
        if (const double s = stage[idx(r, k)]; s != 0.0)
          for (i64 c = 0; c < n; ++c) next[idx(r, c)] += s * m[idx(k, c)];
    m = std::move(next);
  }
  return m;
}

i64 butterfly_copies(i64 in, i64 out) {
  const i64 nin = ceil_pow2(in), nout = ceil_pow2(out);
  return nout > nin ? nout / nin : 1;
}

std::vector<double> butterfly_layer(const std::vector<double>& x, i64 in, i64 out,
                                    const std::vector<double>& weights, i64* multiplies) {
  const i64 n = ceil_pow2(in);
  std::vector<double> padded(static_cast<std::size_t>(n), 0.0);
  for (i64 i = 0; i < in && i < static_cast<i64>(x.size()); ++i) padded[i] = x[i];
  const std::size_t per = butterfly_weight_count(n);
  std::vector<double> y;
  for (i64 c = 0; c < butterfly_copies(in, out); ++c) {
    const std::vector<double> part(weights.begin() + static_cast<std::ptrdiff_t>(c * per),
                                   weights.begin() + static_cast<std::ptrdiff_t>((c + 1) * per));
    const auto yc = butterfly_apply(padded, part, multiplies);
    y.insert(y.end(), yc.begin(), yc.end());
  }
  y.resize(static_cast<std::size_t>(out));
  return y;
}

void fft_radix2(std::vector<Complex>& x, i64* butterflies) {
  const i64 n = static_cast<i64>(x.size());
  check_pow2(n, "fft_radix2");
  const int bits = log2_pow2(n);
  for (i64 i = 0; i < n; ++i) {  // bit-reversed order
    i64 r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    if (r > i) std::swap(x[i], x[r]);
  }
  for (i64 stride = 1; stride < n; stride *= 2)
    for (i64 j = 0; j < n; ++j) {
      if (j & stride) continue;
      const i64 k = j % stride;
      const Complex w =
          std::polar(1.0, -std::numbers::pi * static_cast<double>(k) / static_cast<double>(stride));
      const Complex t = w * x[j + stride];
      x[j + stride] = x[j] - t;
      x[j] += t;
      if (butterflies) ++*butterflies;
    }
}

std::vector<Complex> dft_direct(const std::vector<Complex>& x) {
  const std::size_t n = x.size();
  std::vector<Complex> out(n);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < n; ++j)
      out[k] += x[j] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>((j * k) % n) /
                                           static_cast<double>(n));
  return out;
}

namespace {

template <class Transform>
std::vector<double> mix(const std::vector<double>& x, i64 rows, i64 cols, Transform transform) {
  std::vector<Complex> a(x.begin(), x.end());
  for (i64 r = 0; r < rows; ++r) {
    std::vector<Complex> row(a.begin() + r * cols, a.begin() + (r + 1) * cols);
    transform(row);
    std::copy(row.begin(), row.end(), a.begin() + r * cols);
  }
  std::vector<double> out(x.size());
  for (i64 c = 0; c < cols; ++c) {
    std::vector<Complex> col(static_cast<std::size_t>(rows));
    for (i64 r = 0; r < rows; ++r) col[r] = a[r * cols + c];
    transform(col);
    for (i64 r = 0; r < rows; ++r) out[r * cols + c] = col[r].real();
  }
  return out;
}

}  // namespace

std::vector<double> fourier_mix(const std::vector<double>& x, i64 rows, i64 cols) {
  return mix(x, rows, cols, [](std::vector<Complex>& v) { fft_radix2(v); });
}

std::vector<double> fourier_mix_direct(const std::vector<double>& x, i64 rows, i64 cols) {
  return mix(x, rows, cols, [](std::vector<Complex>& v) { v = dft_direct(v); });
}

}  // namespace tessera::workloads
