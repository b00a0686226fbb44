#include "arch/sparse/dysta.hpp"

#include <cmath>
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
    float parallel = static_cast<float>(valid) * 4.0f;
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
