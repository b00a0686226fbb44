#include "arch/sparse/lanes.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/error.hpp"

namespace tessera::arch::sparse {

namespace {

u64 ceil_div(u64 a, u64 b) { return a / b + (a % b != 0); }

// The popcount clones are picked at load time on CPUs that have the instruction (the project
// does not build with -mpopcnt globally); these are the inner loops of plans from masks.
__attribute__((target_clones("popcnt", "default"))) void popcounts(const u64* bits, u64 items, u64 words, u64* out) {
  for (u64 i = 0; i < items; ++i) {
    u64 n = 0;
    for (u64 w = 0; w < words; ++w) n += static_cast<u64>(std::popcount(bits[i * words + w]));
    out[i] = n;
  }
}

// Effectual taps of every filter against one chunk: filter j's bits `wb + j·span` against the
// chunk's bit-sliced counters (word i's plane b at counters[i · planes + b], weight 2^b; planes
// from `used` on are zero).
__attribute__((target_clones("popcnt", "default"))) void chunk_effectual(const u64* wb, u64 filters, u64 span,
                                                                         const u64* counters, u64 planes, u64 used,
                                                                         u64* out) {
  for (u64 j = 0; j < filters; ++j) {
    const u64* wj = wb + j * span;
    u64 e = 0;
    for (u64 i = 0; i < span; ++i) {
      const u64 x = wj[i];
      const u64* c = counters + i * planes;
      for (u64 b = 0; b < used; ++b) e += static_cast<u64>(std::popcount(x & c[b])) << b;
    }
    out[j] = e;
  }
}

// Calls f(position, tap, pixel) for every tap of every position in [first, last) whose input
// pixel lies inside the image (pixel = (image · h + y) · w + x).
template <class F>
void for_each_tap(const LayerShape& L, u64 first, u64 last, F&& f) {
  // (image, oh, ow) of `first`, then stepped: divisions per position dominated depthwise layers.
  const u64 pq = static_cast<u64>(L.p * L.q);
  i64 img = static_cast<i64>(first / pq), oh = static_cast<i64>(first % pq / static_cast<u64>(L.q)),
      ow = static_cast<i64>(first % static_cast<u64>(L.q));
  for (u64 p = first; p < last; ++p) {
    for (i64 r = 0; r < L.r; ++r) {
      const i64 y = oh * L.stride_h - L.pad_top + r * L.dilation_h;
      if (y < 0 || y >= L.h) continue;
      for (i64 s = 0; s < L.s; ++s) {
        const i64 x = ow * L.stride_w - L.pad_left + s * L.dilation_w;
        if (x < 0 || x >= L.w) continue;
        f(p, static_cast<u64>(r * L.s + s), static_cast<u64>((img * L.h + y) * L.w + x));
      }
    }
    if (++ow == L.q) {
      ow = 0;
      if (++oh == L.p) oh = 0, ++img;
    }
  }
}

// Bit i set where src[i] is non-zero, i < n <= 64: eight bytes at a time (each byte's bits
// folded onto its lowest, then the eight gathered by one multiplication).
u64 pack_bytes(const std::uint8_t* src, u64 n) {
  u64 bits = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    u64 v = 0;
    std::memcpy(&v, src + i, 8);
    v |= v >> 4, v |= v >> 2, v |= v >> 1;
    bits |= ((v & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56 << i;
  }
  for (; i < n; ++i) bits |= static_cast<u64>(src[i] != 0) << i;
  return bits;
}

// dst[i · dst_stride] gets bit c from src[c · channel_stride + i] != 0, for channels c < n <= 64
// and items i < items: a pass over each channel's contiguous items, eight channels gathered in
// bytes (which vectorise) before they join the words, in blocks that stay in L1.
void pack_planes(const std::uint8_t* src, u64 channel_stride, u64 items, u64 n, u64* dst, u64 dst_stride) {
  constexpr u64 kBlock = 512;
  u64 acc[kBlock];
  std::uint8_t eight[kBlock];
  for (u64 i0 = 0; i0 < items; i0 += kBlock) {
    const u64 nb = std::min(kBlock, items - i0);
    std::fill_n(acc, nb, 0);
    for (u64 c0 = 0; c0 < n; c0 += 8) {
      std::fill_n(eight, nb, 0);
      for (u64 c = c0; c < std::min(n, c0 + 8); ++c) {
        const std::uint8_t* p = src + c * channel_stride + i0;
        const int bit = static_cast<int>(c - c0);
        for (u64 i = 0; i < nb; ++i) eight[i] = static_cast<std::uint8_t>(eight[i] | ((p[i] != 0) << bit));
      }
      for (u64 i = 0; i < nb; ++i) acc[i] |= static_cast<u64>(eight[i]) << c0;
    }
    for (u64 i = 0; i < nb; ++i) dst[(i0 + i) * dst_stride] = acc[i];
  }
}

}  // namespace

MaskCounts count_masks(const LayerShape& L, std::span<const std::uint8_t> weight, std::span<const std::uint8_t> input,
                       u64 T) {
  MaskCounts c;
  const i64 cg = L.cg(), kg = L.kg();
  c.groups = L.groups, c.kg = kg, c.T = T;
  c.positions = static_cast<u64>(L.n * L.p * L.q);
  c.chunks = ceil_div(c.positions, T);
  // A pixel's inputs are `words` words of channel bits; a window's reduction (tap t, channel ch)
  // is bit t·cg + ch of `span` words, packed densely so that few channels (a first layer's 3, a
  // depthwise layer's 1) do not cost a word per tap.
  const u64 cgu = static_cast<u64>(cg), words = (cgu + 63) / 64, taps = static_cast<u64>(L.r * L.s);
  const u64 span = (taps * cgu + 63) / 64;
  const u64 planes = static_cast<u64>(std::bit_width(T));  // a chunk's count per reduction bit is 0..T
  const u64 kgu = static_cast<u64>(kg), hw = static_cast<u64>(L.h * L.w), pixels = static_cast<u64>(L.n) * hw;
  c.effectual.assign(static_cast<std::size_t>(static_cast<u64>(L.groups) * c.chunks * kgu), 0);
  c.active.assign(static_cast<std::size_t>(static_cast<u64>(L.groups) * c.chunks), 0);
  c.filter_nnz.assign(static_cast<std::size_t>(static_cast<u64>(L.groups) * kgu), 0);
  std::vector<u64> ib(pixels * words), wb(kgu * span), tap_bits(taps * words), pc(pixels), counters(planes * span);
  // Adds one to the counters of the bits of `part` in reduction word q (a bit-sliced ripple);
  // returns the planes it reached.
  const auto increment = [&](u64 q, u64 part) {
    u64* slot = counters.data() + q * planes;
    u64 b = 0;
    for (; part; ++b) {
      const u64 x = slot[b];
      slot[b] = x ^ part;
      part &= x;
    }
    return b;
  };
  for (i64 g = 0; g < L.groups; ++g) {
    // Inputs channel-packed per pixel (every word written).
    for (u64 w = 0; w < words; ++w)
      for (i64 img = 0; img < L.n; ++img)
        pack_planes(input.data() + ((static_cast<u64>(img * L.c + g * cg) + 64 * w) * hw), hw, hw,
                    std::min<u64>(64, cgu - 64 * w), ib.data() + static_cast<u64>(img) * hw * words + w, words);
    // Weights per filter: channel words per tap, then spliced at their reduction offsets.
    if (L.matmul) {  // weights [reduction][filters], one tap: the packing is the pixels'
      for (u64 w = 0; w < words; ++w)
        pack_planes(weight.data() + 64 * w * static_cast<u64>(L.k) + static_cast<u64>(g) * kgu, static_cast<u64>(L.k),
                    kgu, std::min<u64>(64, cgu - 64 * w), wb.data() + w, span);
    } else {
      std::fill(wb.begin(), wb.end(), 0);
      for (u64 j = 0; j < kgu; ++j) {
        const u64 f = static_cast<u64>(g) * kgu + j;
        for (u64 w = 0; w < words; ++w) {
          const u64 n = std::min<u64>(64, cgu - 64 * w);
          if (taps == 1)  // [filter][channel]: contiguous
            tap_bits[w] = pack_bytes(weight.data() + f * cgu + 64 * w, n);
          else  // [filter][channel][tap]
            pack_planes(weight.data() + (f * cgu + 64 * w) * taps, taps, taps, n, tap_bits.data() + w, words);
        }
        u64* dst = wb.data() + j * span;
        for (u64 t = 0; t < taps; ++t)
          for (u64 w = 0; w < words; ++w) {
            const u64 v = tap_bits[t * words + w], bit = t * cgu + 64 * w, sh = bit % 64;
            dst[bit / 64] |= v << sh;
            if (sh && (v >> (64 - sh))) dst[bit / 64 + 1] |= v >> (64 - sh);
          }
      }
    }
    popcounts(wb.data(), kgu, span, c.filter_nnz.data() + static_cast<u64>(g) * kgu);
    popcounts(ib.data(), pixels, words, pc.data());
    for (u64 ci = 0; ci < c.chunks; ++ci) {
      // Bit-sliced counters: per reduction word, plane b holds bit b of how many of the chunk's
      // positions have that (tap, channel) input non-zero.
      std::fill(counters.begin(), counters.end(), 0);
      u64 active = 0, used = 0;  // planes from `used` on stay zero
      for_each_tap(L, ci * T, std::min(c.positions, (ci + 1) * T), [&](u64, u64 t, u64 px) {
        active += pc[px];
        const u64* in = ib.data() + px * words;
        for (u64 w = 0; w < words; ++w) {
          const u64 v = in[w], bit = t * cgu + 64 * w, sh = bit % 64;
          used = std::max(used, increment(bit / 64, v << sh));
          if (sh && v >> (64 - sh)) used = std::max(used, increment(bit / 64 + 1, v >> (64 - sh)));
        }
      });
      c.active[static_cast<u64>(g) * c.chunks + ci] = active;
      chunk_effectual(wb.data(), kgu, span, counters.data(), planes, used,
                      c.effectual.data() + (static_cast<u64>(g) * c.chunks + ci) * kgu);
    }
    for (u64 j = 0; j < kgu; ++j) c.weight_nnz += c.filter_nnz[static_cast<u64>(g) * kgu + j];
    for (u64 i = 0; i < pixels; ++i) c.input_nnz += pc[i];
  }
  return c;
}

std::shared_ptr<const MaskCounts> count_cached(const std::string& key, const std::function<MaskCounts()>& make) {
  static constexpr u64 kLimit = u64{256} << 20;
  struct Cache {
    std::mutex mutex;
    std::list<std::pair<std::string, std::shared_ptr<const MaskCounts>>> order;  // most recent first
    std::unordered_map<std::string, decltype(order)::iterator> index;
    u64 bytes = 0;
  };
  static Cache cache;
  {
    const std::lock_guard<std::mutex> lock(cache.mutex);
    if (const auto it = cache.index.find(key); it != cache.index.end()) {
      cache.order.splice(cache.order.begin(), cache.order, it->second);
      return it->second->second;
    }
  }
  auto counts = std::make_shared<const MaskCounts>(make());  // outside the lock: others keep planning
  if (counts->bytes() > kLimit / 4) return counts;
  const std::lock_guard<std::mutex> lock(cache.mutex);
  if (const auto it = cache.index.find(key); it != cache.index.end()) return it->second->second;
  cache.order.emplace_front(key, counts);
  cache.index.emplace(key, cache.order.begin());
  cache.bytes += counts->bytes();
  while (cache.bytes > kLimit) {
    cache.bytes -= cache.order.back().second->bytes();
    cache.index.erase(cache.order.back().first);
    cache.order.pop_back();
  }
  return counts;
}

namespace {

u64 lane_cost(bool weights, bool activations, const LaneRules& rules, u64 effectual, u64 filter_nnz, u64 active,
              u64 positions, u64 reduction) {
  if (weights && activations) return effectual;
  if (weights) return (rules.structured ? rules.structured_work : filter_nnz) * positions;
  if (activations) return active;
  return reduction * positions;
}

}  // namespace

LaneWork lane_work(const MaskCounts& c, const LayerShape& L, u64 lanes_k, u64 lanes_m, const LaneRules& rules) {
  LaneWork w;
  const u64 kg = static_cast<u64>(c.kg), red = static_cast<u64>(L.reduction());
  const u64 filter_blocks = ceil_div(kg, lanes_k), position_blocks = ceil_div(c.chunks, lanes_m);
  w.tiles.reserve(static_cast<std::size_t>(static_cast<u64>(c.groups) * filter_blocks * position_blocks));
  for (u64 g = 0; g < static_cast<u64>(c.groups); ++g)
    for (u64 fb = 0; fb < filter_blocks; ++fb) {
      const u64 lk = std::min(lanes_k, kg - fb * lanes_k);
      for (u64 pb = 0; pb < position_blocks; ++pb) {
        TileWork t;
        for (u64 mm = 0; mm < lanes_m; ++mm) {
          const u64 ci = pb * lanes_m + mm;
          if (ci >= c.chunks) break;
          const u64 n = std::min(c.T, c.positions - ci * c.T), active = c.active[g * c.chunks + ci];
          const u64* eff = c.effectual.data() + (g * c.chunks + ci) * kg + fb * lanes_k;
          const u64* nnz = c.filter_nnz.data() + g * kg + fb * lanes_k;
          for (u64 kk = 0; kk < lk; ++kk) {
            const u64 lane = lane_cost(rules.cycle_weights, rules.cycle_activations, rules, eff[kk], nnz[kk], active, n, red);
            w.effectual += eff[kk];
            w.energy_macs += lane_cost(rules.energy_weights, rules.energy_activations, rules, eff[kk], nnz[kk], active, n, red);
            t.busiest = std::max(t.busiest, lane);
            t.sum += lane;
          }
          t.lanes += lk;
        }
        w.cycle_work += t.sum;
        w.tiles.push_back(t);
      }
    }
  return w;
}

LaneWork lane_work_reference(const LayerShape& L, std::span<const std::uint8_t> weight,
                             std::span<const std::uint8_t> input, u64 lanes_k, u64 lanes_m, u64 T,
                             const LaneRules& rules) {
  LaneWork w;
  const i64 cg = L.cg(), kg = L.kg();
  const u64 positions = static_cast<u64>(L.n * L.p * L.q), red = static_cast<u64>(L.reduction());
  const u64 filter_blocks = ceil_div(static_cast<u64>(kg), lanes_k), position_blocks = ceil_div(positions, lanes_m * T);
  for (i64 g = 0; g < L.groups; ++g)
    for (u64 fb = 0; fb < filter_blocks; ++fb)
      for (u64 pb = 0; pb < position_blocks; ++pb) {
        TileWork t;
        for (u64 kk = 0; kk < std::min(lanes_k, static_cast<u64>(kg) - fb * lanes_k); ++kk) {
          const i64 j = g * kg + static_cast<i64>(fb * lanes_k + kk);
          for (u64 mm = 0; mm < lanes_m; ++mm) {
            const u64 first = (pb * lanes_m + mm) * T;
            if (first >= positions) break;
            u64 lane = 0, energy = 0;
            for (u64 p = first; p < std::min(positions, first + T); ++p) {
              const i64 img = static_cast<i64>(p / static_cast<u64>(L.p * L.q));
              const i64 oh = static_cast<i64>(p / static_cast<u64>(L.q) % static_cast<u64>(L.p));
              const i64 ow = static_cast<i64>(p % static_cast<u64>(L.q));
              u64 eff = 0, nnz = 0, active = 0;
              for (i64 ch = 0; ch < cg; ++ch)
                for (i64 r = 0; r < L.r; ++r)
                  for (i64 s = 0; s < L.s; ++s) {
                    const bool wv = weight[L.weight_index(j, ch, r, s)] != 0;
                    const i64 y = oh * L.stride_h - L.pad_top + r * L.dilation_h;
                    const i64 x = ow * L.stride_w - L.pad_left + s * L.dilation_w;
                    const bool iv = y >= 0 && y < L.h && x >= 0 && x < L.w &&
                                    input[static_cast<std::size_t>(((img * L.c + g * cg + ch) * L.h + y) * L.w + x)] != 0;
                    nnz += wv;
                    active += iv;
                    eff += wv && iv;
                  }
              w.effectual += eff;
              lane += lane_cost(rules.cycle_weights, rules.cycle_activations, rules, eff, nnz, active, 1, red);
              energy += lane_cost(rules.energy_weights, rules.energy_activations, rules, eff, nnz, active, 1, red);
            }
            w.energy_macs += energy;
            t.busiest = std::max(t.busiest, lane);
            t.sum += lane;
            ++t.lanes;
          }
        }
        w.cycle_work += t.sum;
        w.tiles.push_back(t);
      }
  return w;
}

}  // namespace tessera::arch::sparse
