// Toggle counting of indexed streams (streams.hpp's second form: strided loop nests over named
// dimensions into one flat tensor, segment after segment). Exact while the positions stay within
// the exact limit, sampled beyond it as the GEMM ports are (counting.cpp).
#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <stdexcept>

#include "arch/energy/hamming.hpp"

namespace tessera::arch::energy {

namespace {

// One segment's loops split by role, with the segment's place in the stream.
struct Segment {
  i64 offset = 0;
  std::vector<const IndexLoop*> spatial, temporal;
  i64 steps = 1;   // temporal positions
  i64 first = 0;   // the stream's step at which it starts
};

class IndexWalker {
 public:
  IndexWalker(const IndexedStream& s, std::span<const std::int32_t> values, bool sign_magnitude)
      : s_(s), values_(values), sign_magnitude_(sign_magnitude) {
    if (s.bits < 1 || s.bits > 64) fail("bits must be in [1, 64]");
    if (s.segments.empty()) fail("has no segments");
    mask_ = s.bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << s.bits) - 1;
    for (const auto& seg : s.segments) {
      Segment g;
      g.offset = seg.offset;
      g.first = steps_;
      i64 low = seg.offset, high = seg.offset;
      for (const auto& l : seg.loops) {
        if (l.extent < 1) fail("loop '" + l.dim + "' has extent " + std::to_string(l.extent));
        (l.spatial ? g.spatial : g.temporal).push_back(&l);
        if (!l.spatial) g.steps *= l.extent;
        (l.stride < 0 ? low : high) += (l.extent - 1) * l.stride;
      }
      if (low < 0 || high >= static_cast<i64>(values.size()))
        fail("indexes [" + std::to_string(low) + ", " + std::to_string(high) + "] of a tensor of " +
             std::to_string(values.size()) + " values");
      steps_ += g.steps;
      segments_.push_back(std::move(g));
    }
    // Spatial loops: the same in every segment; a loop of stride 0 everywhere is a shared copy.
    const auto& first = segments_.front().spatial;
    for (const auto& g : segments_) {
      if (g.spatial.size() != first.size()) fail("segments differ in their spatial loops");
      for (std::size_t i = 0; i < first.size(); ++i)
        if (g.spatial[i]->dim != first[i]->dim || g.spatial[i]->extent != first[i]->extent)
          fail("segments differ in their spatial loops");
    }
    for (std::size_t i = 0; i < first.size(); ++i) {
      bool shared = true;
      for (const auto& g : segments_) shared = shared && g.spatial[i]->stride == 0;
      (shared ? copies_ : distinct_) *= first[i]->extent;
      if (!shared) distinct_loops_.push_back(i);
    }
  }

  double positions() const { return static_cast<double>(distinct_) * static_cast<double>(steps_); }

  PortCount exact() const {
    PortCount r = header();
    double toggles = 0, transitions = 0;
    for (i64 d = 0; d < distinct_; ++d) {
      bool have = false;
      std::uint64_t prev = 0;
      for (const auto& g : segments_) {
        i64 index = g.offset + spatial_offset(g, d);
        // Temporal positions in order: an odometer over the loops, innermost fastest.
        std::vector<i64> at(g.temporal.size(), 0);
        for (i64 t = 0; t < g.steps; ++t) {
          const std::uint64_t v = value(index);
          if (have) {
            toggles += std::popcount(v ^ prev);
            transitions += 1;
          }
          prev = v;
          have = true;
          for (std::size_t l = g.temporal.size(); l-- > 0;) {
            index += g.temporal[l]->stride;
            if (++at[l] < g.temporal[l]->extent) break;
            index -= g.temporal[l]->extent * g.temporal[l]->stride;
            at[l] = 0;
          }
        }
      }
    }
    r.toggles = toggles * static_cast<double>(copies_);
    r.transitions = transitions * static_cast<double>(copies_);
    r.values = positions();
    r.evaluations = positions();
    return r;
  }

  PortCount sampled(std::uint64_t samples, std::uint64_t seed) const {
    PortCount r = header();
    r.exact = false;
    std::mt19937_64 rng(seed);
    const auto total = static_cast<std::uint64_t>(distinct_) * static_cast<std::uint64_t>(steps_);
    std::uniform_int_distribution<std::uint64_t> pick(0, total - 1);
    double sx = 0, sxx = 0, sy = 0;
    for (std::uint64_t n = 0; n < samples; ++n) {
      const std::uint64_t pos = pick(rng);
      const i64 d = static_cast<i64>(pos / static_cast<std::uint64_t>(steps_));
      const i64 t = static_cast<i64>(pos % static_cast<std::uint64_t>(steps_));
      if (t == 0) continue;  // a stream's first value follows nothing
      const double x = static_cast<double>(std::popcount(value(index_at(d, t)) ^ value(index_at(d, t - 1))));
      sx += x;
      sxx += x * x;
      sy += 1;
    }
    const double n = static_cast<double>(samples), scale = static_cast<double>(total);
    const double mean = sx / n, var = std::max(0.0, sxx / n - mean * mean);
    const double copies = static_cast<double>(copies_);
    r.toggles = scale * mean * copies;
    r.ci95 = 1.96 * scale * std::sqrt(var / n) * copies;
    r.transitions = static_cast<double>(distinct_) * static_cast<double>(steps_ - 1) * copies;
    r.values = positions();
    r.evaluations = 2 * sy;
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    // An engine's description is wrong: a bug, not bad input.
    throw std::invalid_argument("indexed stream '" + s_.port + "': " + what);
  }

  PortCount header() const {
    PortCount r;
    r.port = s_.port;
    r.tensor = s_.tensor == "weight" ? StreamTensor::weight : StreamTensor::activation;
    r.bits = s_.bits;
    return r;
  }

  std::uint64_t value(i64 index) const {
    const std::int64_t v = values_[static_cast<std::size_t>(index)];
    return sign_magnitude_ ? encode_sign_magnitude(v, s_.bits) : static_cast<std::uint64_t>(v) & mask_;
  }

  // The index offset of distinct stream d (mixed radix over the distinct spatial loops, the
  // first outermost) in segment g.
  i64 spatial_offset(const Segment& g, i64 d) const {
    i64 off = 0;
    for (std::size_t i = distinct_loops_.size(); i-- > 0;) {
      const IndexLoop& l = *g.spatial[distinct_loops_[i]];
      off += (d % l.extent) * l.stride;
      d /= l.extent;
    }
    return off;
  }

  // The index stream d reads at its step t.
  i64 index_at(i64 d, i64 t) const {
    const auto g = std::upper_bound(segments_.begin(), segments_.end(), t,
                                    [](i64 v, const Segment& s) { return v < s.first; }) -
                   1;
    i64 index = g->offset + spatial_offset(*g, d), local = t - g->first;
    for (std::size_t l = g->temporal.size(); l-- > 0;) {
      index += (local % g->temporal[l]->extent) * g->temporal[l]->stride;
      local /= g->temporal[l]->extent;
    }
    return index;
  }

  const IndexedStream& s_;
  std::span<const std::int32_t> values_;
  bool sign_magnitude_ = false;
  std::uint64_t mask_ = 0;
  std::vector<Segment> segments_;
  i64 steps_ = 0, distinct_ = 1, copies_ = 1;
  std::vector<std::size_t> distinct_loops_;  // indices into each segment's spatial loops
};

}  // namespace

PortCount count_indexed(const IndexedStream& stream, std::span<const std::int32_t> values,
                        const HammingOptions& options, std::uint64_t seed) {
  const IndexWalker w(stream, values, options.sign_magnitude);
  if (w.positions() <= static_cast<double>(options.exact_limit)) return w.exact();
  return w.sampled(std::max<std::uint64_t>(options.samples, 256), seed);
}

std::span<const std::int32_t> stream_tensor(const LayerValues& values, const std::string& name) {
  if (name == "input") return values.input;
  if (name == "weight") return values.weight;
  const auto it = values.tables.find(name);
  if (it == values.tables.end())
    throw std::invalid_argument("indexed stream tensor '" + name + "': the layer's values have none");
  return it->second;
}

}  // namespace tessera::arch::energy
