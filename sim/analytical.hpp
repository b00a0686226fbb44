// The analytical fidelity: closed-form timing of tile plans. Pure and thread-safe.
#pragma once

#include <vector>

#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"

namespace tessera::sim {

// Times the layers of one run, back to back. All plans of a run share one overlap mode.
//
// streaming: each tile takes max(compute, the busiest channel's reads + writes); each layer
//   stands alone.
// double_buffered: each layer is scheduled tile by tile exactly as the SystemC fidelity's DMA
//   and compute processes run it (reads of tile i+2 and writes of tile i issued when tile i
//   finishes; FIFO channels; a tile computes when its reads have landed and its result half is
//   free), with runs of identical tiles extrapolated once periodic. Between layers it assumes
//   the ideal overlap: a layer after the first finds its first reads prefetched and its channels
//   free, and a layer before the last leaves its final writes to drain unseen. SystemC simulates
//   that overlap with its contention, so the two agree exactly on a single layer and on layers
//   whose neighbours' transfers hide under compute, and differ where they do not.
std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::DramParams& dram);

// A run of one layer.
LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram);

// The cycles a tile's reads (or writes) keep each channel busy (occupancy_cycles() of the
// bytes of the operands on that channel), and whether there is any transfer at all (a transfer
// of unlimited bandwidth occupies nothing but still has its latency).
struct ChannelCycles {
  std::array<u64, dataflows::kOperands> reads{}, writes{};
  std::array<bool, dataflows::kOperands> any_read{}, any_write{};
};
ChannelCycles channel_cycles(const dataflows::Tile& tile, const arch::DramParams& dram);

}  // namespace tessera::sim
