// The SystemC fidelity: executes tile plans as timed transactions. An accelerator module runs
// each layer's tiles in order; per tile a DMA process moves the tile's bytes through a TLM-2.0
// socket to a DRAM target (bandwidth and latency, one channel shared by reads and writes) while
// a compute process is busy for the tile's compute cycles. Time is annotated per tile, not per
// PE per cycle. Simulated time runs in engine cycles (1 cycle = 1 ns of SystemC time), so cycle
// counts are exact whatever the clock; seconds come from the clock afterwards.
//
// The header is free of SystemC so callers do not pay for <systemc>.
#pragma once

#include <vector>

#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"
#include "sim/trace.hpp"

namespace tessera::sim::systemc {

// Runs the plans back to back in one simulation (a fresh kernel context per call), recording
// every compute span and transfer into `trace` when given. Not thread-safe: one call at a time
// per process.
std::vector<LayerTiming> simulate_tile_plans(const std::vector<const dataflows::TilePlan*>& plans,
                                             const arch::DramParams& dram, Trace* trace = nullptr);

}  // namespace tessera::sim::systemc
