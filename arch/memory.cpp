#include "arch/memory.hpp"

#include <cmath>
#include <limits>

#include "common/checked.hpp"

namespace tessera::arch {

namespace {
// Ranges of the channel keys (docs/configs.md), far beyond any memory: a latency of 2^32 cycles
// (4 s at 1 GHz), a million requests in flight, bursts of 1 GiB.
constexpr std::int64_t kMaxLatencyCycles = std::int64_t{1} << 32;
constexpr std::int64_t kMaxOutstanding = std::int64_t{1} << 20;
constexpr std::int64_t kMaxBurstBytes = std::int64_t{1} << 30;
}  // namespace

double MemoryChannel::rate() const {
  if (std::isinf(bytes_per_cycle)) {
    if (latency_cycles == 0) return bytes_per_cycle;
    return static_cast<double>(outstanding * burst_bytes) / static_cast<double>(latency_cycles);
  }
  const double round_trip =
      static_cast<double>(latency_cycles) + static_cast<double>(burst_bytes) / bytes_per_cycle;
  return std::min(bytes_per_cycle, static_cast<double>(outstanding * burst_bytes) / round_trip);
}

u64 MemoryChannel::occupancy(u64 bytes) const {
  if (bytes == 0) return 0;
  const double r = rate();
  if (std::isinf(r)) return 0;
  return checked_ceil<u64>(static_cast<double>(bytes) / r, "cycle count");
}

std::size_t MemorySystem::channel_for(std::string_view port) const {
  std::size_t fallback = 0;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    if (channels[c].ports.empty()) fallback = c;
    for (const auto& p : channels[c].ports)
      if (p == port) return c;
  }
  return fallback;
}

void MemorySystem::assign(dataflows::TilePlan& plan) const {
  for (auto& p : plan.ports) p.channel = channel_for(p.name);
}

MemorySystem read_memory(ParamReader& dram, double clock_hz, const MemoryDefaults& defaults) {
  MemoryChannel c;
  if (dram.is_string("bandwidth") && dram.string("bandwidth") == "unlimited")
    c.bytes_per_cycle = std::numeric_limits<double>::infinity();
  else
    c.bytes_per_cycle = dram.bandwidth("bandwidth", defaults.bandwidth).bytes_per_cycle(clock_hz);
  // Ranges far beyond any memory, so that outstanding x burst_bytes and the cycle counts built
  // from latencies stay exact in 64 bits.
  const auto at_most = [&dram](const char* key, std::int64_t v, std::int64_t max,
                               const char* limit) {
    if (v > max)
      throw dram.error(key, std::string("must be at most ") + limit + ", got " + std::to_string(v));
    return static_cast<u64>(v);
  };
  c.latency_cycles = at_most("latency_cycles", dram.non_negative_integer("latency_cycles", 0),
                             kMaxLatencyCycles, "2^32");
  c.outstanding =
      at_most("outstanding", dram.positive_integer("outstanding", 1024), kMaxOutstanding, "2^20");
  c.burst_bytes =
      at_most("burst_bytes", dram.positive_integer("burst_bytes", 64), kMaxBurstBytes, "2^30");
  MemorySystem m;
  const std::string channels = dram.choice("channels", {"shared", "per_operand"}, "shared");
  if (channels == "per_operand" && !defaults.allow_per_operand)
    throw dram.error("channels", defaults.shared_only_reason);
  m.per_operand = channels == "per_operand";
  m.capacity_bytes = dram.size_bytes("capacity", "16 GiB");
  if (!m.per_operand) {
    m.channels = {c};
  } else {
    using namespace dataflows;
    MemoryChannel in = c, w = c, out = c;
    in.name = "dram.input";  // carries input and any port not named below
    w.name = "dram.weight";
    w.ports = {std::string(port::weight)};
    out.name = "dram.output";
    out.ports = {std::string(port::output), std::string(port::psum_in),
                 std::string(port::psum_out)};
    m.channels = {in, w, out};
  }
  return m;
}

nlohmann::json bandwidth_json(double bytes_per_cycle) {
  if (std::isinf(bytes_per_cycle)) return "unlimited";
  return bytes_per_cycle;
}

nlohmann::json memory_json(const MemorySystem& m) {
  const MemoryChannel& c = m.channels.front();
  return {{"bandwidth", bandwidth_json(c.bytes_per_cycle)},
          {"latency_cycles", c.latency_cycles},
          {"outstanding", c.outstanding},
          {"burst_bytes", c.burst_bytes},
          {"channels", m.per_operand ? "per_operand" : "shared"},
          {"capacity", m.capacity_bytes}};
}

}  // namespace tessera::arch
