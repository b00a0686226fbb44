// What the DRAM controllers counted for each layer a fidelity timed (the SystemC fidelity runs
// them transfer by transfer), passed to sim::account beside the LayerTimings the fidelity's timer
// returns. Kept per thread (a run is timed and accounted on one thread), keyed by the tile plan
// timed and its timing, and taken once; account forgets what is left. A layer whose counts are
// not there (the analytical fidelity, memoised layers) gets estimates instead.
// (A side table rather than a member of LayerTiming: sim/timing.hpp is included by most of the
// tree and carries only times.)
#pragma once

#include <optional>
#include <vector>

#include "arch/dram/controller.hpp"
#include "dataflows/tile_plan.hpp"
#include "sim/timing.hpp"

namespace tessera::sim {

// Forgets what this thread recorded (a timer calls it before it runs).
void clear_dram_counts();
// Per memory channel (by index; zero counts for channels of the simple model).
void record_dram_counts(const dataflows::TilePlan* plan, const LayerTiming& timing,
                        std::vector<arch::dram::Stats> channels);
// The counts recorded for `plan` with this timing, removed; nullopt when none.
std::optional<std::vector<arch::dram::Stats>> take_dram_counts(const dataflows::TilePlan* plan,
                                                               const LayerTiming& timing);

}  // namespace tessera::sim
