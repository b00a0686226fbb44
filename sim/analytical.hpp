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
// double_buffered: the run is one sequence of tiles across layers. Tile i computes for C_i
//   cycles and waits, before it starts, for what did not fit under tile i-1's compute: the
//   reads of tile i and the writes of tile i-2, which were issued when tile i-2 finished,
//   sharing their channel (per channel: reads_i + writes_{i-2} - C_{i-1}, if positive). The
//   first tile waits for its reads; the run ends when the last writes drain. A tile's transfers
//   of one direction on one channel form one transfer (transfer_cycles()). Waits are charged to
//   the layer of the tile that waits, as in the SystemC fidelity, which simulates the same
//   pipeline event by event; the closed form ignores waits that propagate further than one
//   tile, so the two agree exactly when no tile waits and differ a little when DRAM is the
//   bottleneck.
std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::DramParams& dram);

// A run of one layer.
LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram);

// The cycles a tile's reads (or writes) keep each channel busy: transfer_cycles() of the bytes
// of each operand on that channel, summed.
struct ChannelCycles {
  std::array<u64, dataflows::kOperands> reads{}, writes{};
};
ChannelCycles channel_cycles(const dataflows::Tile& tile, const arch::DramParams& dram);

}  // namespace tessera::sim
