#include "dataflows/tile_plan.hpp"

namespace tessera::dataflows {

std::string_view to_string(Overlap o) {
  switch (o) {
    case Overlap::streaming:
      return "streaming";
    case Overlap::double_buffered:
      return "double_buffered";
  }
  return "unknown";
}

void append_tile(std::vector<Tile>& tiles, const Tile& t) {
  if (!tiles.empty()) {
    Tile& last = tiles.back();
    if (last.compute_cycles == t.compute_cycles && last.read_bytes == t.read_bytes &&
        last.write_bytes == t.write_bytes) {
      last.count += t.count;
      return;
    }
  }
  tiles.push_back(t);
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
u64 TilePlan::dram_read_bytes() const {
  return sum(tiles,
             [](const Tile& t) { return t.read_bytes[0] + t.read_bytes[1] + t.read_bytes[2]; });
}
u64 TilePlan::dram_write_bytes() const {
  return sum(tiles, [](const Tile& t) { return t.write_bytes; });
}

}  // namespace tessera::dataflows
