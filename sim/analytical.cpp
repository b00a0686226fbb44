#include "sim/analytical.hpp"

#include <algorithm>
#include <stdexcept>

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

u64 max_of(const std::array<u64, dataflows::kOperands>& a) { return *std::max_element(a.begin(), a.end()); }

// How long a tile whose reads are `reads` waits after the previous tile (compute `previous`)
// finishes, given the writes issued with those reads (of the tile two back).
u64 wait(const ChannelCycles* reads, const ChannelCycles* writes, u64 previous) {
  u64 need = 0;
  for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch)
    need = std::max(need, (reads ? reads->reads[ch] : 0) + (writes ? writes->writes[ch] : 0));
  return need > previous ? need - previous : 0;
}

LayerTiming streaming(const dataflows::TilePlan& plan, const arch::DramParams& dram) {
  LayerTiming t;
  for (const auto& tile : plan.tiles) {
    const auto c = channel_cycles(tile, dram);
    u64 memory = 0;
    for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch) memory = std::max(memory, c.reads[ch] + c.writes[ch]);
    t.cycles += tile.count * std::max(tile.compute_cycles, memory);
    t.compute_cycles += tile.count * tile.compute_cycles;
  }
  return t;
}

}  // namespace

std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::DramParams& dram) {
  std::vector<LayerTiming> out(plans.size());
  if (plans.empty()) return out;
  const auto overlap = plans.front()->overlap;
  for (const auto* p : plans)
    if (p->overlap != overlap) throw std::logic_error("analytical fidelity: layers of one run must share one overlap mode");

  if (overlap == dataflows::Overlap::streaming) {
    for (std::size_t l = 0; l < plans.size(); ++l) out[l] = streaming(*plans[l], dram);
  } else {
    // Runs of identical tiles, across layers, with their channel cycles.
    struct Group {
      std::size_t layer;
      const dataflows::Tile* tile;
      ChannelCycles cc;
    };
    std::vector<Group> groups;
    for (std::size_t l = 0; l < plans.size(); ++l)
      for (const auto& t : plans[l]->tiles) groups.push_back({l, &t, channel_cycles(t, dram)});

    // Tile i (in group g) waits for its reads and for the writes of tile i-2 beyond tile i-1's
    // compute. Walk the groups keeping the last two tiles seen.
    const ChannelCycles* two_back = nullptr;  // writes of tile i-2
    const ChannelCycles* one_back = nullptr;  // tile i-1
    u64 previous_compute = 0;
    for (const Group& g : groups) {
      LayerTiming& t = out[g.layer];
      const u64 c = g.tile->compute_cycles, n = g.tile->count;
      t.compute_cycles += n * c;
      t.cycles += n * c;
      if (!one_back) {
        t.cycles += max_of(g.cc.reads);  // the first tile waits for its reads (fill)
      } else {
        t.cycles += wait(&g.cc, two_back, previous_compute);
      }
      if (n >= 2) {
        // The second tile: previous is this tile, two back is whatever preceded it.
        t.cycles += wait(&g.cc, one_back, c);
        // The rest: all neighbours are copies of this tile.
        t.cycles += (n - 2) * wait(&g.cc, &g.cc, c);
        two_back = &g.cc;
      } else {
        two_back = one_back;
      }
      one_back = &g.cc;
      previous_compute = c;
    }
    // The run ends when the writes drain: the second-to-last tile's writes beyond the last
    // compute, then the last tile's.
    if (one_back) {
      u64 drain = 0;
      for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch) {
        const u64 before = two_back && two_back->writes[ch] > previous_compute ? two_back->writes[ch] - previous_compute : 0;
        drain = std::max(drain, before + one_back->writes[ch]);
      }
      out[groups.back().layer].cycles += drain;
    }
  }
  for (auto& t : out) t.stall_cycles = t.cycles - t.compute_cycles;
  return out;
}

LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram) {
  return time_analytical(std::vector<const dataflows::TilePlan*>{&plan}, dram).front();
}

}  // namespace tessera::sim
