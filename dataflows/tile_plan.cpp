#include "dataflows/tile_plan.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace tessera::dataflows {

void append_tile(std::vector<Tile>& tiles, const Tile& t) {
  if (!tiles.empty()) {
    Tile& last = tiles.back();
    if (last.compute_cycles == t.compute_cycles && last.busy_units == t.busy_units &&
        last.bytes == t.bytes) {
      last.count += t.count;
      return;
    }
  }
  tiles.push_back(t);
}

void add_fill_drain(std::vector<Tile>& tiles, u64 fill, u64 drain) {
  if (tiles.empty()) return;
  if (tiles.front().count > 1) {
    Tile first = tiles.front();
    first.count = 1;
    tiles.front().count -= 1;
    tiles.insert(tiles.begin(), first);
  }
  tiles.front().compute_cycles += fill;
  if (tiles.back().count > 1) {
    Tile last = tiles.back();
    last.count = 1;
    tiles.back().count -= 1;
    tiles.push_back(last);
  }
  tiles.back().compute_cycles += drain;
}

void append_split(std::vector<Tile>& tiles, const Tile& total, u64 n) {
  if (n <= 1) {
    append_tile(tiles, total);
    return;
  }
  // Parts of ceil(total / n), so no tile exceeds the n-th of the total by more than a unit (the
  // last takes what is left); floor where ceil would leave the last part negative.
  const auto split = [n](u64 v) { return (n - 1) * ((v + n - 1) / n) <= v ? (v + n - 1) / n : v / n; };
  Tile part = total, last = total;
  part.count = n - 1;
  last.count = 1;
  part.compute_cycles = split(total.compute_cycles);
  last.compute_cycles = total.compute_cycles - (n - 1) * part.compute_cycles;
  for (std::size_t p = 0; p < kMaxPorts; ++p) {
    part.bytes[p] = split(total.bytes[p]);
    last.bytes[p] = total.bytes[p] - (n - 1) * part.bytes[p];
  }
  append_tile(tiles, part);
  append_tile(tiles, last);
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
template <class F>
u64 sum(const std::vector<Tile>& tiles, F field) {
  u64 s = 0;
  for (const Tile& t : tiles) s += t.count * field(t);
  return s;
}
}  // namespace

u64 TilePlan::tile_count() const {
  return sum(tiles, [](const Tile&) { return u64{1}; });
}
u64 TilePlan::compute_cycles() const {
  return sum(tiles, [](const Tile& t) { return t.compute_cycles; });
}
u64 TilePlan::busy_unit_cycles() const {
  return sum(tiles, [](const Tile& t) { return t.busy_units * t.compute_cycles; });
}
u64 TilePlan::port_bytes(std::size_t p) const {
  return sum(tiles, [p](const Tile& t) { return t.bytes[p]; });
}
u64 TilePlan::port_bytes(std::string_view name) const {
  const std::size_t p = find_port(name);
  return p == kMaxPorts ? 0 : port_bytes(p);
}
u64 TilePlan::read_bytes() const {
  u64 s = 0;
  for (std::size_t p = 0; p < ports.size(); ++p)
    if (ports[p].direction == Direction::read) s += port_bytes(p);
  return s;
}
u64 TilePlan::write_bytes() const {
  u64 s = 0;
  for (std::size_t p = 0; p < ports.size(); ++p)
    if (ports[p].direction == Direction::write) s += port_bytes(p);
  return s;
}

u64 digest(const TilePlan& plan) {
  u64 h = 0xcbf29ce484222325ull;
  const auto mix = [&h](u64 v) { h = (h ^ v) * 0x100000001b3ull; };
  for (const auto& p : plan.ports) {
    mix(std::hash<std::string>{}(p.name));
    mix(static_cast<u64>(p.direction) | p.channel << 1);
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
  return h;
}

}  // namespace tessera::dataflows
