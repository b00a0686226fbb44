#include "sim/analytical.hpp"

#include <algorithm>

namespace tessera::sim {

ChannelCycles channel_cycles(const dataflows::Tile& tile, const arch::DramParams& dram) {
  // Bytes per channel first: a tile's reads on one channel are one transfer.
  std::array<u64, dataflows::kOperands> read_bytes{};
  for (std::size_t o = 0; o < dataflows::kOperands; ++o)
    read_bytes[dram.channel_of(static_cast<dataflows::Operand>(o))] += tile.read_bytes[o];
  ChannelCycles c;
  for (std::size_t ch = 0; ch < dram.channels(); ++ch) c.reads[ch] = transfer_cycles(read_bytes[ch], dram);
  c.writes[dram.channel_of(dataflows::ofmap)] = transfer_cycles(tile.write_bytes, dram);
  return c;
}

namespace {

// Cycles of tile `cur` with `next`'s reads and `prev`'s writes under its compute.
u64 window(const ChannelCycles* prev, const dataflows::Tile& cur, const ChannelCycles* next) {
  u64 w = cur.compute_cycles;
  for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch)
    w = std::max(w, (next ? next->reads[ch] : 0) + (prev ? prev->writes[ch] : 0));
  return w;
}

u64 max_of(const std::array<u64, dataflows::kOperands>& a) { return *std::max_element(a.begin(), a.end()); }

}  // namespace

LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram, Boundary boundary) {
  LayerTiming t;
  for (const auto& tile : plan.tiles) t.compute_cycles += tile.count * tile.compute_cycles;
  switch (plan.overlap) {
    case dataflows::Overlap::streaming:
      for (const auto& tile : plan.tiles) {
        const auto c = channel_cycles(tile, dram);
        u64 memory = 0;
        for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch) memory = std::max(memory, c.reads[ch] + c.writes[ch]);
        t.cycles += tile.count * std::max(tile.compute_cycles, memory);
      }
      break;
    case dataflows::Overlap::double_buffered: {
      const auto& tiles = plan.tiles;
      std::vector<ChannelCycles> c;
      c.reserve(tiles.size());
      for (const auto& tile : tiles) c.push_back(channel_cycles(tile, dram));
      for (std::size_t g = 0; g < tiles.size(); ++g) {
        const ChannelCycles* prev = g > 0 ? &c[g - 1] : nullptr;
        const ChannelCycles* next = g + 1 < tiles.size() ? &c[g + 1] : nullptr;
        const u64 n = tiles[g].count;
        if (n == 1) {
          t.cycles += window(prev, tiles[g], next);
        } else {  // first, n-2 interior, last: interior neighbours are copies of the tile itself
          t.cycles += window(prev, tiles[g], &c[g]) + (n - 2) * window(&c[g], tiles[g], &c[g]) +
                      window(&c[g], tiles[g], next);
        }
      }
      if (!tiles.empty()) {
        if (boundary.fill) t.cycles += max_of(c.front().reads);
        if (boundary.drain) t.cycles += max_of(c.back().writes);
      }
      break;
    }
  }
  t.stall_cycles = t.cycles - t.compute_cycles;
  return t;
}

}  // namespace tessera::sim
