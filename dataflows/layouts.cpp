#include "dataflows/layouts.hpp"

#include <algorithm>
#include <variant>

namespace tessera::dataflows {

namespace {

u64 bytes(i64 words, int bits) {
  const u64 b = static_cast<u64>(words) * static_cast<u64>(bits);
  return b / 8 + (b % 8 != 0);
}

const workloads::Conv* plain_conv(const workloads::Operator& op) {
  const auto* c = std::get_if<workloads::Conv>(&op.shape);
  return c && c->groups == 1 && !c->transposed ? c : nullptr;
}

// The whole NHWC input (a_distinct leaves out what a filter smaller than its stride skips).
u64 input_bytes(const workloads::Conv& c, int bits) { return bytes(c.n * c.h * c.w * c.c, bits); }

}  // namespace

Layout matrix_layout(double row_bytes, i64 tile, i64 whole, u64 extent) {
  Layout l;
  l.pitch = static_cast<u64>(row_bytes);
  l.run = tile >= whole ? 0 : static_cast<u64>(row_bytes * static_cast<double>(tile) / static_cast<double>(whole));
  if (l.run == 0 || l.pitch == 0) l.run = l.pitch = 0;  // contiguous
  l.extent = extent;
  return l;
}

Layout input_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 k_tile) {
  const u64 extent = bytes(g.a_distinct, bits);
  if (const auto* c = plain_conv(op)) {
    // A K tile of (r, s, c) words, c fastest: a slice of each pixel's channels, or whole pixels.
    Layout l;
    l.extent = input_bytes(*c, bits);
    if (k_tile < c->c) l.run = bytes(k_tile, bits), l.pitch = bytes(c->c, bits);
    return l;
  }
  return matrix_layout(static_cast<double>(bytes(g.a_distinct / g.count, bits)) / static_cast<double>(g.m),
                       k_tile, g.k, extent);
}

Layout window_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 k_tile) {
  const auto* c = plain_conv(op);
  if (!c || c->dilation_h != 1 || c->dilation_w != 1) return input_layout(op, g, bits, k_tile);
  const u64 pixel = bytes(c->c, bits);
  Layout l;
  l.pitch = bytes(g.k, bits);  // a field: R x S x C words
  l.run = k_tile >= g.k ? 0 : bytes(k_tile, bits);
  l.window = static_cast<u64>(c->s) * pixel;
  l.line = static_cast<u64>(c->w) * pixel;
  l.step = static_cast<u64>(c->stride_w) * pixel;
  l.across = static_cast<u64>(c->q());
  l.down = static_cast<u64>(c->stride_h) * l.line;
  l.windows = static_cast<u64>(g.m);
  l.extent = input_bytes(*c, bits);
  return l;
}

Layout tile_layout(const workloads::Operator& op, const GemmView& g, int bits, i64 oh_tile,
                   i64 ow_tile, i64 c_tile) {
  const auto* c = plain_conv(op);
  if (!c || c_tile < c->c) return input_layout(op, g, bits, c_tile);
  const u64 pixel = bytes(c->c, bits);
  const i64 ih = (c->r - 1) * c->dilation_h + 1 + (oh_tile - 1) * c->stride_h;
  const i64 iw = (c->s - 1) * c->dilation_w + 1 + (ow_tile - 1) * c->stride_w;
  const i64 across = (c->q() + ow_tile - 1) / ow_tile, down = (c->p() + oh_tile - 1) / oh_tile;
  Layout l;
  l.window = static_cast<u64>(std::min(iw, c->w)) * pixel;
  l.line = static_cast<u64>(c->w) * pixel;
  l.pitch = static_cast<u64>(std::min(ih, c->h)) * l.window;
  l.step = static_cast<u64>(ow_tile * c->stride_w) * pixel;
  l.across = static_cast<u64>(across);
  l.down = static_cast<u64>(oh_tile * c->stride_h) * l.line;
  l.windows = static_cast<u64>(across * down * c->n);
  l.extent = input_bytes(*c, bits);
  return l;
}

Layout weight_layout(const GemmView& g, int bits, i64 k_tile) {
  return matrix_layout(static_cast<double>(bytes(g.k, bits)), k_tile, g.k, bytes(g.b_distinct, bits));
}

Layout output_layout(const GemmView& g, int bits, i64 n_tile) {
  return matrix_layout(static_cast<double>(bytes(g.n, bits)), n_tile, g.n, bytes(g.m * g.n * g.count, bits));
}

}  // namespace tessera::dataflows
