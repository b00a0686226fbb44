// The analytical fidelity: closed-form timing of tile plans. Pure and thread-safe.
#pragma once

#include <vector>

#include <memory>

#include "dataflows/tile_plan.hpp"
#include "sim/executor.hpp"
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
// On a detailed DRAM channel (dram.model "detailed") each port's transfers hold the channel as
// long as they held it in the controller's run of the plan's access pattern
// (arch/dram/pattern.hpp), never shorter than at the sequential-stream rate.
LayerTiming time_layer(const dataflows::TilePlan& plan, const arch::MemorySystem& memory);

// The transfers of each run of the plan's tiles as time_layer moves them (TileTransfers per
// entry of plan.tiles; detailed DRAM channels at their ports' pattern rates).
std::vector<TileTransfers> run_transfers(const dataflows::TilePlan& plan,
                                         const arch::MemorySystem& memory);

// Every layer of a run, back to back.
std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::MemorySystem& memory);

// Several units sharing the memory system (sim/executor.hpp): a layer that has its channels to
// itself takes time_layer's cycles (one unit alone, or layers that never share a channel, match
// time_layer exactly); layers of several units that overlap on a channel are stepped tile by
// tile through time_layer's recurrence with each channel serving every unit's transfers in the
// order they are issued, the rule of the SystemC executor (sim/analytical_executor.cpp; held to
// SystemC in tests/sim/test_executor.cpp and docs/validation.md).
std::unique_ptr<PlanExecutor> make_analytical_executor(const ExecutorSpec& spec);

}  // namespace tessera::sim
