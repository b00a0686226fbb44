// Timing results and the DRAM transfer time that both fidelities use.
#pragma once

#include <cmath>
#include <cstdint>

#include "arch/engine.hpp"

namespace tessera::sim {

using u64 = std::uint64_t;

enum class Fidelity { analytical, systemc };

struct LayerTiming {
  u64 cycles = 0;          // from the first transfer or computation to the last
  u64 compute_cycles = 0;  // cycles the compute unit is busy
  u64 stall_cycles = 0;    // cycles - compute_cycles: compute waiting on memory
  bool operator==(const LayerTiming&) const = default;
};

// MACs done per MAC slot over `cycles`: overall utilisation with total cycles, compute
// utilisation with the cycles the compute unit was busy. 0 for no cycles.
inline double utilization(u64 macs, u64 cycles, double peak_macs_per_cycle) {
  const double capacity = static_cast<double>(cycles) * peak_macs_per_cycle;
  return capacity > 0 ? static_cast<double>(macs) / capacity : 0.0;
}

// The DRAM channel model both fidelities use: a transfer holds its channel for
// ceil(bytes / bandwidth) cycles and its data arrive latency_cycles after the channel has sent
// them. A channel takes the next transfer as soon as it is free, so back-to-back transfers
// overlap their latencies (requests are pipelined). 0 for no bytes.
inline u64 occupancy_cycles(u64 bytes, const arch::DramParams& dram) {
  if (bytes == 0) return 0;
  return static_cast<u64>(std::ceil(static_cast<double>(bytes) / dram.bytes_per_cycle));
}

}  // namespace tessera::sim
