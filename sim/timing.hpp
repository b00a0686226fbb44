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

// Cycles one DRAM transfer occupies the channel: latency + ceil(bytes / bandwidth); 0 for no bytes.
inline u64 transfer_cycles(u64 bytes, const arch::DramParams& dram) {
  if (bytes == 0) return 0;
  return dram.latency_cycles +
         static_cast<u64>(std::ceil(static_cast<double>(bytes) / dram.bytes_per_cycle));
}

}  // namespace tessera::sim
