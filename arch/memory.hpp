// The off-chip memory system as both fidelities see it: channels, each with its own bandwidth,
// latency, DMA depth (requests in flight) and burst size, and the tile-plan ports each carries.
//
// Config keys, in an engine's "dram" object (docs/configs.md, "Memory"):
//   bandwidth       the total bandwidth (bytes/cycle, units, or "unlimited"); with
//                   channels = "per_operand" the bandwidth of each channel
//   latency_cycles  cycles from a burst leaving the channel to its data landing (default 0)
//   outstanding     DMA requests in flight per channel (default 1024: 64 KiB in flight, enough
//                   for 400 cycles of latency at 160 B/cycle)
//   burst_bytes     bytes per request (default 64)
//   channels        "shared" (default: one channel carries every port), "per_operand" (three
//                   channels named in the config: input, weight, and output with partial sums),
//                   or a list of channels [{name, bandwidth, latency_cycles, outstanding,
//                   burst_bytes, ports: [...]}, ...] (HBM pseudo-channel groups, DDR ports of
//                   different widths): each names the plan ports it carries, a port at most once;
//                   a plan port no listed channel carries is an error. A channel's bandwidth,
//                   latency_cycles, outstanding and burst_bytes default to the dram object's
//                   (each channel's, as with per_operand)
//   capacity        bytes the off-chip memory holds (default 16 GiB); generation runs check the
//                   weights and the KV cache against it (sim/generation.hpp)
//   model           "simple" (default: the occupancy formula below, both fidelities) or
//                   "detailed": each channel is one DRAM channel of `preset` (arch/dram/spec.hpp:
//                   ddr4_3200, lpddr4x_4266, lpddr5_6400, hbm2_2000), with optional `mapping`,
//                   `page` (open|closed), `scheduling` (frfcfs|fcfs), `queue_depth` and `ranks`.
//                   The SystemC fidelity runs its command-level controller
//                   (arch/dram/controller.hpp) on each transfer at the addresses the ports'
//                   layouts give; the analytical fidelity costs each port as that controller
//                   serves the layer's access pattern (sim/analytical.hpp). `bandwidth` and
//                   `latency_cycles` then come from the preset and may not be given.
//
// A transfer of B bytes holds its channel for ceil(B / rate) cycles and lands latency_cycles
// after it has left, where rate = min(bandwidth, outstanding * burst / (latency + burst /
// bandwidth)): a channel cannot have more bytes in flight than its DMA can track (Little's law).
// Back-to-back transfers overlap their latencies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/dram/spec.hpp"
#include "common/params.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::arch {

using u64 = std::uint64_t;

struct MemoryChannel {
  std::string name = "dram";
  double bytes_per_cycle = 16;  // may be infinite: transfers then cost only their latency
  u64 latency_cycles = 0;
  u64 outstanding = 1024;
  u64 burst_bytes = 64;
  // model "detailed": the DRAM channel, and the engine clock its cycles are converted with.
  std::optional<dram::Spec> detailed = std::nullopt;
  double clock_hz = 0;
  std::vector<std::string> ports;  // carried ports; empty: every port no other channel names

  // The sustained rate: the bandwidth, or less when the DMA cannot cover the latency.
  double rate() const;
  // Cycles a transfer of `bytes` holds the channel (0 for no bytes).
  u64 occupancy(u64 bytes) const;
  bool operator==(const MemoryChannel&) const = default;
};

inline constexpr u64 kDefaultDramCapacity = u64{16} << 30;  // 16 GiB: an edge SoC's LPDDR

// How a config named the channels (resolved configs write it back).
enum class ChannelForm { shared, per_operand, list };

struct MemorySystem {
  std::vector<MemoryChannel> channels{MemoryChannel{}};
  ChannelForm form = ChannelForm::shared;
  u64 capacity_bytes = kDefaultDramCapacity;
  // Where a listed form was read ("FILE: /dram/channels: "), for errors; not part of its identity.
  std::string source;

  // The channel that carries a port: the one naming it, else the one naming none. A listed form
  // has no such catch-all: a port no channel names is an InputError naming the port and the
  // config.
  std::size_t channel_for(std::string_view port) const;
  // Sets every port's channel.
  void assign(dataflows::TilePlan& plan) const;
  bool operator==(const MemorySystem& o) const {
    return channels == o.channels && form == o.form && capacity_bytes == o.capacity_bytes;
  }
};

struct MemoryDefaults {
  std::string bandwidth = "16 B/cycle";
  bool allow_per_operand = true;  // false: SCALE-Sim's shared channel only
  std::string shared_only_reason;  // the error when per_operand is asked for and not allowed
};

// Reads the "dram" object's memory keys (other keys are the engine's to read; the caller calls
// finish()).
MemorySystem read_memory(ParamReader& dram, double clock_hz, const MemoryDefaults& defaults);
// The keys read_memory reads, resolved (bandwidth in bytes/cycle or "unlimited").
nlohmann::json memory_json(const MemorySystem& memory);
// Bytes per DRAM cycle a channel of `spec` sustains on one long sequential read stream (its
// command-level controller run once per spec, then remembered).
double sustained_bytes_per_dram_cycle(const dram::Spec& spec);

// A bandwidth in bytes/cycle as resolved configs write it: the number, or "unlimited".
nlohmann::json bandwidth_json(double bytes_per_cycle);

}  // namespace tessera::arch
