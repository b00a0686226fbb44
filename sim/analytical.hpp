// The analytical fidelity: closed-form timing of a tile plan. Pure and thread-safe.
#pragma once

#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"

namespace tessera::sim {

// Streaming plans: each tile takes max(compute, read transfer + write transfer) cycles, where a
// transfer's time is transfer_cycles(); tiles run one after another.
LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram);

}  // namespace tessera::sim
