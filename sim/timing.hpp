// Timing results and the memory-channel arithmetic both fidelities share.
#pragma once

#include <array>
#include <cstdint>

#include "arch/memory.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::sim {

using u64 = std::uint64_t;

struct LayerTiming {
  u64 cycles = 0;            // from the layer's first transfer or computation to its last
  u64 compute_cycles = 0;    // cycles the compute unit is busy
  u64 stall_cycles = 0;      // cycles - compute_cycles: compute waiting on memory
  u64 busy_unit_cycles = 0;  // sum over tiles of busy units x compute cycles
  bool operator==(const LayerTiming&) const = default;
};

// MACs done per MAC slot over `cycles`: overall utilisation with total cycles, compute
// utilisation with the cycles the compute unit was busy. 0 for no cycles.
inline double utilization(u64 macs, u64 cycles, double peak_macs_per_cycle) {
  const double capacity = static_cast<double>(cycles) * peak_macs_per_cycle;
  return capacity > 0 ? static_cast<double>(macs) / capacity : 0.0;
}

inline constexpr std::size_t kMaxChannels = dataflows::kMaxPorts;

// What one tile's transfers do to each channel: its reads on a channel form one transfer, its
// writes another; each holds the channel for MemoryChannel::occupancy() of its bytes. `any_*`
// marks transfers with bytes (a transfer of unlimited bandwidth occupies nothing but still has
// its latency).
struct TileTransfers {
  std::array<u64, kMaxChannels> reads{}, writes{};
  std::array<bool, kMaxChannels> any_read{}, any_write{};
};
// The plan's ports must have their channels assigned (arch::MemorySystem::assign).
TileTransfers tile_transfers(const dataflows::TilePlan& plan, const dataflows::Tile& tile,
                             const arch::MemorySystem& memory);

}  // namespace tessera::sim
