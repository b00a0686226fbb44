// The analytical fidelity: closed-form timing of tile plans. Pure and thread-safe.
#pragma once

#include <vector>

#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"

namespace tessera::sim {

// Times one layer's plan on its own: it starts with empty buffers and idle channels and ends when
// its last write has landed (layers do not overlap; the SystemC fidelity runs the same rule).
//
// streaming: each tile takes max(compute, the busiest channel's reads + writes + latency).
// otherwise, with buffering depths Di (input) and Do (output): the reads of tiles 0..Di-1 are
// issued at the start; when tile j finishes computing, its writes and then tile j+Di's reads go to
// their channels. A channel serves transfers in issue order, each for its occupancy, the data
// landing the channel's latency later. Tile j computes when its reads have landed, tile j-1 has
// finished and tile j-Do's writes have left their channels (its result buffer is free then; the
// layer ends when the last write has landed). Runs of identical tiles and iterations of repeated
// blocks are extrapolated once the schedule is periodic, so the cost follows the distinct tiles
// and the plan's loops, not the tile count.
LayerTiming time_layer(const dataflows::TilePlan& plan, const arch::MemorySystem& memory);

// Every layer of a run, back to back.
std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::MemorySystem& memory);

}  // namespace tessera::sim
