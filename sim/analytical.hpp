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
// (arch/dram/pattern.hpp), never shorter than at the sequential-stream rate. (The multi-unit
// executor uses memory_for.)
LayerTiming time_layer(const dataflows::TilePlan& plan, const arch::MemorySystem& memory);

// The memory as the analytical fidelity times `plan` on it: each detailed DRAM channel at the
// rate its controller sustains on the pattern of the plan's ports it carries (streaming, strided
// or interleaved, arch/dram/pattern.hpp; run once per spec and pattern, then remembered), at most
// its sequential-stream rate; other channels as they are.
arch::MemorySystem memory_for(const dataflows::TilePlan& plan, const arch::MemorySystem& memory);

// Every layer of a run, back to back.
std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::MemorySystem& memory);

// Several units sharing the memory system (sim/executor.hpp), as a fluid model: each layer is
// timed alone (time_layer) and needs a fraction of each channel (its transfers' occupancy over
// its time); running layers share every channel's sustained rate by processor sharing (equal
// shares, a layer needing less than its share keeping only what it needs, max-min fair), and a
// layer progresses at the least, over its channels, of what it gets over what it needs, at most
// its own pace, and at most 1 / (1 + sum over channels of its need x the others' use of the
// channel), for the queueing behind their transfers below saturation. Rates are recomputed at
// every layer start and finish. One unit, or layers that
// never overlap, match time_layer exactly; several units are held to the SystemC executor
// (tests/sim/test_executor.cpp, docs/validation.md).
std::unique_ptr<PlanExecutor> make_analytical_executor(const ExecutorSpec& spec);

}  // namespace tessera::sim
