// The analytical fidelity: closed-form timing of a tile plan. Pure and thread-safe.
#pragma once

#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"

namespace tessera::sim {

// Where a layer sits in a network run back to back: whether it pays its pipeline fill (the first
// tile's reads, which nothing earlier hides) and drain (the last tile's writes, which nothing
// later hides). Double-buffered plans only; a layer on its own pays both.
struct Boundary {
  bool fill = true;
  bool drain = true;
};

// streaming: each tile takes max(compute, the busiest channel's reads + writes); tiles run in
//   order.
// double_buffered: tile i takes window_i = max(compute_i, max over channels of
//   reads_{i+1} + writes_{i-1}), the next tile's reads and the previous tile's writes running
//   under its compute; plus the first tile's reads (fill) and the last tile's writes (drain)
//   where `boundary` says so. Transfers of one direction on one channel per tile form one
//   transfer (transfer_cycles()). Neighbouring layers' transfers are assumed hidden: the SystemC
//   fidelity simulates them.
LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram, Boundary boundary = {});

// The cycles a tile's reads (or writes) keep each channel busy: transfer_cycles() of the bytes
// of each operand on that channel, summed.
struct ChannelCycles {
  std::array<u64, dataflows::kOperands> reads{}, writes{};
};
ChannelCycles channel_cycles(const dataflows::Tile& tile, const arch::DramParams& dram);

}  // namespace tessera::sim
