#include "sim/analytical.hpp"

#include <algorithm>

namespace tessera::sim {

LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram) {
  LayerTiming t;
  switch (plan.overlap) {
    case dataflows::Overlap::streaming:
      for (const auto& tile : plan.tiles) {
        const u64 memory = transfer_cycles(tile.dram_read_bytes, dram) +
                           transfer_cycles(tile.dram_write_bytes, dram);
        t.cycles += tile.count * std::max(tile.compute_cycles, memory);
        t.compute_cycles += tile.count * tile.compute_cycles;
      }
      break;
  }
  t.stall_cycles = t.cycles - t.compute_cycles;
  return t;
}

}  // namespace tessera::sim
