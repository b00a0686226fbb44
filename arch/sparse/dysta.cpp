#include "arch/sparse/dysta.hpp"

#include <bit>
#include <cmath>
#include <vector>
#include <string>

#include "common/error.hpp"

namespace tessera::arch::sparse {

namespace {

// Python's 2**int(math.log(x, 2)): math.log(x, base) is log(x) / log(base) in double.
i64 pow2_floor_py(i64 x, const char* what) {
  if (x <= 0)
    throw UnsupportedError(std::string("dysta: the artefact's mapping fails on this layer (") + what +
                           " is 0: math.log(0) is a domain error)");
  return i64{1} << static_cast<int>(std::log(static_cast<double>(x)) / std::log(2.0));
}

// Effectual MACs of one image at stride 1 with 'same' padding (PyTorch pads (k-1)/2 before).
u64 valid_stride1(const LayerShape& L, const Mask& w, const Mask& in, i64 image) {
  const i64 cg = L.cg(), kg = L.kg(), pt = (L.r - 1) / 2, pl = (L.s - 1) / 2;
  // nnz[j_local sum over the group's filters][c][r][s]: filters with a non-zero at each tap.
  u64 total = 0;
  for (i64 g = 0; g < L.groups; ++g)
    for (i64 c = 0; c < cg; ++c) {
      const i64 cin = g * cg + c;
      const std::uint8_t* plane = in.data() + static_cast<std::size_t>((image * L.c + cin) * L.h * L.w);
      // Prefix sums of the plane: non-zeros in any rectangle.
      std::vector<u64> pre(static_cast<std::size_t>((L.h + 1) * (L.w + 1)), 0);
      const auto P = [&](i64 y, i64 x) -> u64& { return pre[static_cast<std::size_t>(y * (L.w + 1) + x)]; };
      for (i64 y = 0; y < L.h; ++y)
        for (i64 x = 0; x < L.w; ++x)
          P(y + 1, x + 1) = P(y, x + 1) + P(y + 1, x) - P(y, x) + plane[y * L.w + x];
      for (i64 r = 0; r < L.r; ++r)
        for (i64 s = 0; s < L.s; ++s) {
          u64 filters = 0;
          for (i64 j = 0; j < kg; ++j) filters += w[L.weight_index(g * kg + j, c, r, s)];
          if (!filters) continue;
          // Output (y, x) reads input (y + r - pt, x + s - pl): input rows [r - pt, h + r - pt).
          const i64 y0 = std::max<i64>(0, r - pt), y1 = std::min<i64>(L.h, L.h + r - pt);
          const i64 x0 = std::max<i64>(0, s - pl), x1 = std::min<i64>(L.w, L.w + s - pl);
          if (y0 >= y1 || x0 >= x1) continue;
          const u64 nz = P(y1, x1) - P(y0, x1) - P(y1, x0) + P(y0, x0);
          total += nz * filters;
        }
    }
  return total;
}

// The convolution's output at stride 1, 'same' padding, of one image, in PyTorch's order
// (filter, row, column): the effectual MACs of each output.
std::vector<float> outputs_stride1(const LayerShape& L, const Mask& w, const Mask& in, i64 image) {
  const i64 cg = L.cg(), kg = L.kg(), pt = (L.r - 1) / 2, pl = (L.s - 1) / 2;
  const std::size_t words = static_cast<std::size_t>((cg + 63) / 64);
  std::vector<float> out(static_cast<std::size_t>(L.k * L.h * L.w));
  std::vector<u64> ib(static_cast<std::size_t>(L.h * L.w) * words), wb(static_cast<std::size_t>(L.r * L.s) * words);
  for (i64 g = 0; g < L.groups; ++g) {
    std::fill(ib.begin(), ib.end(), 0);
    for (i64 c = 0; c < cg; ++c)
      for (i64 i = 0; i < L.h * L.w; ++i)
        if (in[static_cast<std::size_t>((image * L.c + g * cg + c) * L.h * L.w + i)])
          ib[static_cast<std::size_t>(i) * words + static_cast<std::size_t>(c / 64)] |= u64{1} << (c % 64);
    for (i64 j = 0; j < kg; ++j) {
      const i64 k = g * kg + j;
      std::fill(wb.begin(), wb.end(), 0);
      for (i64 c = 0; c < cg; ++c)
        for (i64 t = 0; t < L.r * L.s; ++t)
          if (w[L.weight_index(k, c, t / L.s, t % L.s)])
            wb[static_cast<std::size_t>(t) * words + static_cast<std::size_t>(c / 64)] |= u64{1} << (c % 64);
      for (i64 y = 0; y < L.h; ++y)
        for (i64 x = 0; x < L.w; ++x) {
          u64 n = 0;
          for (i64 r = 0; r < L.r; ++r) {
            const i64 yy = y + r - pt;
            if (yy < 0 || yy >= L.h) continue;
            for (i64 s2 = 0; s2 < L.s; ++s2) {
              const i64 xx = x + s2 - pl;
              if (xx < 0 || xx >= L.w) continue;
              const u64* a = &ib[static_cast<std::size_t>(yy * L.w + xx) * words];
              const u64* b = &wb[static_cast<std::size_t>(r * L.s + s2) * words];
              for (std::size_t q = 0; q < words; ++q) n += static_cast<u64>(std::popcount(a[q] & b[q]));
            }
          }
          out[static_cast<std::size_t>((k * L.h + y) * L.w + x)] = static_cast<float>(n);
        }
    }
  }
  return out;
}

int ceil_log2(i64 x) { return x <= 2 ? 1 : static_cast<int>(std::bit_width(static_cast<u64>(x - 1))); }

// PyTorch's CPU sum of a contiguous float32 tensor on one thread (ATen's cascade sum): vectors of
// `lanes` floats, four of them side by side, accumulated in four levels of 2^p vectors
// (p = max(4, ceil(log2(vectors / 4)) / 4)); leftover vectors, then the four partial vectors,
// then the scalar tail, then the lanes in order.
float torch_sum(const std::vector<float>& v, int lanes) {
  using Vec = std::vector<float>;
  const i64 n = static_cast<i64>(v.size()), vl = lanes;
  const i64 vec_size = n / vl;
  float final_acc = 0;
  Vec partial(static_cast<std::size_t>(vl), 0.0f);
  if (n >= vl) {
    const auto load = [&](i64 vi, Vec& acc) {
      for (i64 l = 0; l < vl; ++l) acc[static_cast<std::size_t>(l)] += v[static_cast<std::size_t>(vi * vl + l)];
    };
    constexpr i64 ilp = 4, levels = 4;
    const i64 size_ilp = vec_size / ilp;
    const i64 level_power = std::max<i64>(4, ceil_log2(size_ilp) / levels);
    const i64 level_step = i64{1} << level_power, level_mask = level_step - 1;
    std::vector<std::vector<Vec>> acc(levels, std::vector<Vec>(ilp, Vec(static_cast<std::size_t>(vl), 0.0f)));
    const auto add = [](Vec& a, const Vec& b) { for (std::size_t l = 0; l < a.size(); ++l) a[l] += b[l]; };
    i64 i = 0;
    for (; i + level_step <= size_ilp;) {
      for (i64 j = 0; j < level_step; ++j, ++i)
        for (i64 k = 0; k < ilp; ++k) load(i * ilp + k, acc[0][static_cast<std::size_t>(k)]);
      for (i64 j = 1; j < levels; ++j) {
        for (i64 k = 0; k < ilp; ++k) {
          add(acc[static_cast<std::size_t>(j)][static_cast<std::size_t>(k)], acc[static_cast<std::size_t>(j - 1)][static_cast<std::size_t>(k)]);
          std::fill(acc[static_cast<std::size_t>(j - 1)][static_cast<std::size_t>(k)].begin(), acc[static_cast<std::size_t>(j - 1)][static_cast<std::size_t>(k)].end(), 0.0f);
        }
        if ((i & (level_mask << (j * level_power))) != 0) break;
      }
    }
    for (; i < size_ilp; ++i)
      for (i64 k = 0; k < ilp; ++k) load(i * ilp + k, acc[0][static_cast<std::size_t>(k)]);
    for (i64 j = 1; j < levels; ++j)
      for (i64 k = 0; k < ilp; ++k) add(acc[0][static_cast<std::size_t>(k)], acc[static_cast<std::size_t>(j)][static_cast<std::size_t>(k)]);
    partial = acc[0][0];
    for (i64 vi = size_ilp * ilp; vi < vec_size; ++vi) load(vi, partial);
    for (i64 k = 1; k < ilp; ++k) add(partial, acc[0][static_cast<std::size_t>(k)]);
    for (i64 t = vec_size * vl; t < n; ++t) final_acc += v[static_cast<std::size_t>(t)];
    for (i64 l = 0; l < vl; ++l) final_acc += partial[static_cast<std::size_t>(l)];
  } else {
    // Too short for a vector: the scalar cascade (four rows of one element).
    const i64 size_ilp = n / 4;
    float p[4] = {0, 0, 0, 0};
    for (i64 i = 0; i < size_ilp; ++i)
      for (int k = 0; k < 4; ++k) p[k] += v[static_cast<std::size_t>(i * 4 + k)];
    for (i64 t = size_ilp * 4; t < n; ++t) p[0] += v[static_cast<std::size_t>(t)];
    final_acc = ((p[0] + p[1]) + p[2]) + p[3];
  }
  return 0.0f + final_acc;
}

// Lanes of the vectors PyTorch's sum uses: its AVX2 kernel's 8 floats, as in the reference run
// (PyTorch 1.13.1 on one thread, tests/data/dysta/README.md).
constexpr int kTorchLanes = 8;

}  // namespace

DystaLayer dysta_layer(const LayerShape& L, const Mask& w, const Mask& in) {
  DystaLayer d;
  const bool fc = L.matmul;
  const double out_channel = fc ? static_cast<double>(L.k) : static_cast<double>(L.k) / static_cast<double>(L.groups);
  const i64 in_channel = L.c;
  const i64 kh = fc ? 1 : L.r, kw = fc ? 1 : L.s;
  const i64 out_width = fc ? 1 : L.w;
  const i64 R = kh;
  i64 c0 = 16 / R;
  if (in_channel <= 3) c0 = in_channel;
  else {
    c0 = pow2_floor_py(c0, "C0");
    if (c0 > in_channel) c0 = in_channel;
  }
  const i64 E = out_width;
  i64 f0 = 3 * 4 * 1000 * 8 / (E * R * c0 * 8);
  f0 = pow2_floor_py(f0, "F0");
  if (f0 > out_width) f0 = out_width;
  const double m0 = out_channel > 32 ? 32.0 : out_channel;
  const i64 c1 = 8 * c0 <= in_channel ? 8 : static_cast<i64>(static_cast<double>(in_channel) / static_cast<double>(c0));
  const i64 f1 = 4 * f0 <= out_width ? 4 : static_cast<i64>(static_cast<double>(out_width) / static_cast<double>(f0));
  const i64 s1 = kw >= 3 ? 3 : kw;
  const i64 m1 = 2 * m0 <= out_channel ? 2 : static_cast<i64>(out_channel / m0);
  const i64 m2 = static_cast<i64>(std::ceil(out_channel / (m0 * static_cast<double>(m1))));
  const i64 f2 = static_cast<i64>(std::ceil(static_cast<double>(out_width) / static_cast<double>(f0 * f1)));
  const i64 c2 = static_cast<i64>(std::ceil(static_cast<double>(in_channel) / static_cast<double>(c0 * c1)));
  const i64 s2 = static_cast<i64>(std::ceil(static_cast<double>(kw) / static_cast<double>(s1)));
  d.c0 = c0; d.c1 = c1; d.c2 = c2; d.f0 = f0; d.f1 = f1; d.f2 = f2; d.s1 = s1; d.s2 = s2;
  d.m0 = m0; d.m1 = m1; d.m2 = m2; d.e = E;
  if (in_channel != c2 * c1 * c0)
    throw UnsupportedError("dysta: the artefact asserts channels == C2·C1·C0 (" + std::to_string(in_channel) +
                           " != " + std::to_string(c2 * c1 * c0) + ")");
  // The input plane as the artefact reshapes it: padded right and bottom by as much when its
  // width is not F2·F1·F0, then cut into F2·F1·F0 rows of `height` elements in flat order.
  const i64 H = fc ? 1 : L.h, W = fc ? 1 : L.w, span = f2 * f1 * f0;
  i64 Hp = H, Wp = W, height = H;
  if (W != span) {
    const i64 pad = span - W;
    Hp = H + pad; Wp = W + pad; height = span;
    if (Hp * Wp != span * height)
      throw UnsupportedError("dysta: the artefact's reshape fails on a non-square padded input");
  }
  const auto act_checks = static_cast<u64>(m1 * f1 * c1 * s1 * m2 * f2 * c2 * s2 * E * f0);
  for (i64 image = 0; image < L.n; ++image) {
    const u64 valid = valid_stride1(L, w, in, image);
    u64 windows = 0;
    std::vector<u64> rows(static_cast<std::size_t>(span));
    for (i64 c = 0; c < L.c; ++c) {
      std::fill(rows.begin(), rows.end(), 0);
      const std::uint8_t* plane = in.data() + static_cast<std::size_t>((image * L.c + c) * H * W);
      for (i64 y = 0; y < H; ++y)
        for (i64 x = 0; x < W; ++x)
          if (plane[y * W + x]) ++rows[static_cast<std::size_t>((y * Wp + x) / height)];
      for (i64 chunk = 0; chunk < f2 * f1; ++chunk)
        for (i64 a = 0; a < f0; ++a) {
          bool any = false;
          for (i64 j = 0; j < R && a + j < f0 && !any; ++j) any = rows[static_cast<std::size_t>(chunk * f0 + a + j)] != 0;
          windows += any;
        }
    }
    const u64 weight_checks = static_cast<u64>(2 * m1 * s1 * m2 * s2) * windows;
    // PyTorch's float32 arithmetic on the tensor the sum is.
    const float valid_f = torch_sum(outputs_stride1(L, w, in, image), kTorchLanes);
    float parallel = valid_f * 4.0f;
    parallel = parallel + static_cast<float>(act_checks);
    parallel = parallel + static_cast<float>(weight_checks);
    const float per_pe = parallel / 192.0f;
    d.cycles += static_cast<u64>(static_cast<double>(per_pe));
    d.valid_macs += valid;
    d.act_checks += act_checks;
    d.weight_checks += weight_checks;
    d.nonzero_windows += windows;
  }
  return d;
}

}  // namespace tessera::arch::sparse
