#include "dataflows/tile_plan.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "common/checked.hpp"

namespace tessera::dataflows {

namespace {

bool same_but_count(const Tile& a, const Tile& b) {
  return a.compute_cycles == b.compute_cycles && a.busy_units == b.busy_units &&
         a.bytes == b.bytes;
}

// Blocks by first run, outer (longer) first.
void sort_repeats(std::vector<Repeat>& r) {
  std::sort(r.begin(), r.end(), [](const Repeat& x, const Repeat& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end > y.end;
  });
}

// Runs [begin, end) of `seq` with the blocks inside them other than `except`, as a sequence.
TileSeq slice(const TileSeq& seq, std::size_t begin, std::size_t end, std::size_t except) {
  TileSeq out;
  out.tiles.assign(seq.tiles.begin() + static_cast<std::ptrdiff_t>(begin),
                   seq.tiles.begin() + static_cast<std::ptrdiff_t>(end));
  for (std::size_t i = 0; i < seq.repeats.size(); ++i) {
    const Repeat& r = seq.repeats[i];
    if (i != except && r.begin >= begin && r.end <= end)
      out.repeats.push_back({r.begin - begin, r.end - begin, r.times});
  }
  return out;
}

// Inserts `part` before run `at` of `seq`.
void insert(TileSeq& seq, std::size_t at, const TileSeq& part) {
  const std::size_t n = part.tiles.size();
  for (Repeat& r : seq.repeats) {
    if (r.begin >= at) r.begin += n;
    if (r.end > at) r.end += n;
  }
  seq.tiles.insert(seq.tiles.begin() + static_cast<std::ptrdiff_t>(at), part.tiles.begin(),
                   part.tiles.end());
  for (const Repeat& r : part.repeats) seq.repeats.push_back({r.begin + at, r.end + at, r.times});
  sort_repeats(seq.repeats);
}

// One less iteration of block `i`, dropped when one is left.
void drop_iteration(TileSeq& seq, std::size_t i) {
  if (--seq.repeats[i].times == 1)
    seq.repeats.erase(seq.repeats.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace

double Layout::reread() const {
  if (window == 0 || step == 0) return 1.0;
  // A row of `pitch` bytes per step across; a line of rows per `down` bytes, which is down / line
  // tensor lines.
  const double per_row = static_cast<double>(step) *
                         (across > 0 && line > 0 ? static_cast<double>(down) / static_cast<double>(line) : 1.0);
  return static_cast<double>(pitch) / per_row;
}

void append_tile(std::vector<Tile>& tiles, const Tile& t) {
  if (!tiles.empty() && same_but_count(tiles.back(), t))
    tiles.back().count = checked_add(tiles.back().count, t.count, "tile count");
  else
    tiles.push_back(t);
}

void TileSeq::append(const Tile& t) {
  const bool closes_block = std::any_of(repeats.begin(), repeats.end(),
                                        [&](const Repeat& r) { return r.end == tiles.size(); });
  if (!tiles.empty() && !closes_block && same_but_count(tiles.back(), t)) {
    tiles.back().count = checked_add(tiles.back().count, t.count, "tile count");
    return;
  }
  tiles.push_back(t);
}

void TileSeq::append(const TileSeq& body, u64 times) {
  if (times == 0 || body.tiles.empty()) return;
  if (body.repeats.empty() && (times == 1 || body.tiles.size() == 1)) {
    for (Tile t : body.tiles) {
      t.count = checked_mul(t.count, times, "tile count");
      append(t);
    }
    return;
  }
  const std::size_t at = tiles.size();
  tiles.insert(tiles.end(), body.tiles.begin(), body.tiles.end());
  std::size_t first = 0;
  if (times > 1) {
    // A body that is one block already: that block, repeated times times as often.
    const bool one_block = !body.repeats.empty() && body.repeats[0].begin == 0 &&
                           body.repeats[0].end == body.tiles.size();
    repeats.push_back(
        {at, tiles.size(),
         one_block ? checked_mul(times, body.repeats[0].times, "tile count") : times});
    first = one_block ? 1 : 0;
  }
  for (std::size_t i = first; i < body.repeats.size(); ++i)
    if (body.repeats[i].times > 1)
      repeats.push_back({body.repeats[i].begin + at, body.repeats[i].end + at, body.repeats[i].times});
}

std::vector<u64> TileSeq::multiplicities() const {
  std::vector<u64> m(tiles.size(), 1);
  for (const Repeat& r : repeats)
    for (std::size_t i = r.begin; i < r.end; ++i) m[i] = checked_mul(m[i], r.times, "tile count");
  return m;
}

u64 TileSeq::iteration_tiles(std::size_t repeat) const {
  const Repeat& block = repeats[repeat];
  u64 n = 0;
  for (std::size_t i = block.begin; i < block.end; ++i) {
    u64 m = tiles[i].count;
    for (std::size_t k = 0; k < repeats.size(); ++k) {
      const Repeat& r = repeats[k];
      if (k != repeat && r.begin <= i && i < r.end && r.begin >= block.begin && r.end <= block.end)
        m = checked_mul(m, r.times, "tile count");
    }
    n = checked_add(n, m, "tile count");
  }
  return n;
}

void peel_first(TileSeq& seq) {
  if (seq.tiles.empty()) return;
  // The outermost block around run 0 is listed first; unroll its first iteration until run 0
  // is in no block.
  while (!seq.repeats.empty() && seq.repeats[0].begin == 0) {
    const TileSeq first = slice(seq, 0, seq.repeats[0].end, 0);
    drop_iteration(seq, 0);
    insert(seq, 0, first);
  }
  if (seq.tiles[0].count > 1) {
    TileSeq one;
    one.tiles = {seq.tiles[0]};
    one.tiles[0].count = 1;
    seq.tiles[0].count -= 1;
    insert(seq, 0, one);
  }
}

void peel_last(TileSeq& seq) {
  if (seq.tiles.empty()) return;
  const auto outermost_at_end = [&seq] {
    std::size_t best = seq.repeats.size();
    for (std::size_t i = 0; i < seq.repeats.size(); ++i)
      if (seq.repeats[i].end == seq.tiles.size() &&
          (best == seq.repeats.size() || seq.repeats[i].begin < seq.repeats[best].begin))
        best = i;
    return best;
  };
  for (std::size_t i; (i = outermost_at_end()) < seq.repeats.size();) {
    const Repeat r = seq.repeats[i];
    const TileSeq last = slice(seq, r.begin, r.end, i);
    drop_iteration(seq, i);
    insert(seq, seq.tiles.size(), last);
  }
  if (seq.tiles.back().count > 1) {
    Tile one = seq.tiles.back();
    one.count = 1;
    seq.tiles.back().count -= 1;
    seq.tiles.push_back(one);
  }
}

void add_fill_drain(TileSeq& seq, u64 fill, u64 drain) {
  if (seq.tiles.empty()) return;
  peel_first(seq);
  seq.tiles.front().compute_cycles =
      checked_add(seq.tiles.front().compute_cycles, fill, "cycle count");
  peel_last(seq);
  seq.tiles.back().compute_cycles =
      checked_add(seq.tiles.back().compute_cycles, drain, "cycle count");
}

void append_split(TileSeq& seq, const Tile& total, u64 n) {
  if (n <= 1) {
    seq.append(total);
    return;
  }
  // Parts of ceil(total / n), so no tile exceeds the n-th of the total by more than a unit (the
  // last takes what is left); floor where ceil would leave the last part negative.
  const auto split = [n](u64 v) {
    const u64 up = v / n + (v % n != 0);  // ceil(v / n), without v + n - 1 overflowing
    const auto parts = try_mul(up, n - 1);
    return parts && *parts <= v ? up : v / n;
  };
  Tile part = total, last = total;
  part.count = n - 1;
  last.count = 1;
  part.compute_cycles = split(total.compute_cycles);
  last.compute_cycles = total.compute_cycles - (n - 1) * part.compute_cycles;
  for (std::size_t p = 0; p < kMaxPorts; ++p) {
    part.bytes[p] = split(total.bytes[p]);
    last.bytes[p] = total.bytes[p] - (n - 1) * part.bytes[p];
  }
  seq.append(part);
  seq.append(last);
}

TileCursor::TileCursor(const TileSeq& seq) : seq_(&seq), starts_(seq.tiles.size()) {
  for (std::size_t i = 0; i < seq.repeats.size(); ++i) starts_[seq.repeats[i].begin].push_back(i);
  if (!done()) enter(0);
}

void TileCursor::enter(std::size_t from) {
  const auto& list = starts_[run_];
  for (std::size_t k = from; k < list.size(); ++k) frames_.push_back({list[k], 0});
}

TileCursor::Step TileCursor::advance(u64 n) {
  Step step;
  offset_ += n;
  if (offset_ < seq_->tiles[run_].count) return step;
  offset_ = 0;
  ++run_;
  while (!frames_.empty() && seq_->repeats[frames_.back().repeat].end == run_) {
    Frame& f = frames_.back();
    const Repeat& r = seq_->repeats[f.repeat];
    if (f.iteration + 1 < r.times) {
      ++f.iteration;
      run_ = r.begin;
      step.restarted = frames_.size() - 1;
      // The blocks inside this one that start where it does begin again.
      const auto& list = starts_[run_];
      const std::size_t before = frames_.size();
      enter(static_cast<std::size_t>(std::find(list.begin(), list.end(), f.repeat) - list.begin()) + 1);
      if (frames_.size() > before) step.entered = before;
      return step;
    }
    frames_.pop_back();
  }
  if (!done()) {
    const std::size_t before = frames_.size();
    enter(0);
    if (frames_.size() > before) step.entered = before;
  }
  return step;
}

unsigned prefetch_depth(u64 room, u64 tile) {
  return static_cast<unsigned>(std::clamp<u64>(tile ? room / tile : kMaxPrefetch, 2, kMaxPrefetch));
}

Buffering prefetch_buffering(const TilePlan& plan, u64 input_half, u64 weight_half,
                             u64 output_half) {
  std::array<u64, kMaxPorts> largest{};
  for (const Tile& t : plan.tiles)
    for (std::size_t p = 0; p < plan.ports.size(); ++p) largest[p] = std::max(largest[p], t.bytes[p]);
  const auto depth = prefetch_depth;
  Buffering b;
  b.input = kMaxPrefetch, b.output = kMaxPrefetch;
  for (std::size_t p = 0; p < plan.ports.size(); ++p) {
    const auto& name = plan.ports[p].name;
    if (plan.ports[p].direction == Direction::write) {
      b.output = std::min(b.output, depth(output_half, largest[p]));
    } else {
      const u64 room = name == port::weight ? weight_half
                       : name == port::psum_in ? output_half
                                               : input_half;
      b.input = std::min(b.input, depth(room, largest[p]));
    }
  }
  return b;
}

std::size_t TilePlan::port(std::string_view name, Direction direction) {
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name && ports[i].direction == direction) return i;
  if (ports.size() == kMaxPorts)
    throw std::length_error("tile plan: more than " + std::to_string(kMaxPorts) + " ports");
  ports.push_back({std::string(name), direction, 0});
  return ports.size() - 1;
}

std::size_t TilePlan::find_port(std::string_view name) const {
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name) return i;
  return kMaxPorts;
}

namespace {
// The sum over the expanded tiles of field(tile); `what` names the count in an overflow error.
template <class F>
u64 sum(const TileSeq& seq, const char* what, F field) {
  u64 s = 0;
  const std::vector<u64> m = seq.repeats.empty() ? std::vector<u64>{} : seq.multiplicities();
  for (std::size_t i = 0; i < seq.tiles.size(); ++i) {
    u64 v = checked_mul(seq.tiles[i].count, field(seq.tiles[i]), what);
    if (!m.empty()) v = checked_mul(m[i], v, what);
    s = checked_add(s, v, what);
  }
  return s;
}
}  // namespace

u64 TilePlan::tile_count() const {
  return sum(*this, "tile count", [](const Tile&) { return u64{1}; });
}
u64 TilePlan::compute_cycles() const {
  return sum(*this, "compute cycle count", [](const Tile& t) { return t.compute_cycles; });
}
u64 TilePlan::busy_unit_cycles() const {
  return sum(*this, "busy unit-cycle count", [](const Tile& t) {
    return checked_mul(t.busy_units, t.compute_cycles, "busy unit-cycle count");
  });
}
u64 TilePlan::port_bytes(std::size_t p) const {
  return sum(*this, "byte count", [p](const Tile& t) { return t.bytes[p]; });
}
u64 TilePlan::port_bytes(std::string_view name) const {
  const std::size_t p = find_port(name);
  return p == kMaxPorts ? 0 : port_bytes(p);
}
u64 TilePlan::read_bytes() const {
  u64 s = 0;
  for (std::size_t p = 0; p < ports.size(); ++p)
    if (ports[p].direction == Direction::read) s = checked_add(s, port_bytes(p), "byte count");
  return s;
}
u64 TilePlan::write_bytes() const {
  u64 s = 0;
  for (std::size_t p = 0; p < ports.size(); ++p)
    if (ports[p].direction == Direction::write) s = checked_add(s, port_bytes(p), "byte count");
  return s;
}

u64 digest(const TilePlan& plan) {
  u64 h = 0xcbf29ce484222325ull;
  const auto mix = [&h](u64 v) { h = (h ^ v) * 0x100000001b3ull; };
  for (const auto& p : plan.ports) {
    mix(std::hash<std::string>{}(p.name));
    mix(static_cast<u64>(p.direction) | p.channel << 1);
    mix(p.layout.run);
    mix(p.layout.pitch);
    mix(p.layout.extent);
  }
  mix(plan.buffering.input | static_cast<u64>(plan.buffering.output) << 20 |
      static_cast<u64>(plan.buffering.streaming) << 40);
  mix(plan.units);
  for (const auto& t : plan.tiles) {
    mix(t.compute_cycles);
    mix(t.busy_units);
    mix(t.count);
    for (std::size_t p = 0; p < plan.ports.size(); ++p) mix(t.bytes[p]);
  }
  for (const auto& r : plan.repeats) {
    mix(r.begin | static_cast<u64>(r.end) << 32);
    mix(r.times);
  }
  return h;
}

}  // namespace tessera::dataflows
