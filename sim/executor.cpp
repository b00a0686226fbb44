#include "sim/executor.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/checked.hpp"
#include "sim/analytical.hpp"

namespace tessera::sim {

Registry<Fidelity>& fidelities() {
  static Registry<Fidelity> registry = [] {
    Registry<Fidelity> r("fidelity");
    Fidelity f;
    f.timer = [](const std::vector<const dataflows::TilePlan*>& plans,
                 const arch::MemorySystem& memory, Trace*) { return time_analytical(plans, memory); };
    f.executor = [](const ExecutorSpec& spec, Trace*) { return make_analytical_executor(spec); };
    f.thread_safe = true;
    f.memoizes_layers = true;
    r.add("analytical", "closed form over the tile plan; thread-safe", std::move(f));
    return r;
  }();
  return registry;
}

const dataflows::TilePlan& on_memory_clock(const dataflows::TilePlan& plan, double unit_clock_hz,
                                           double memory_clock_hz,
                                           std::unique_ptr<dataflows::TilePlan>& scratch) {
  if (unit_clock_hz == memory_clock_hz) return plan;
  if (!(unit_clock_hz > 0) || !(memory_clock_hz > 0))
    throw std::invalid_argument("executor: clocks must be positive");
  scratch = std::make_unique<dataflows::TilePlan>(plan);
  const long double ratio = static_cast<long double>(memory_clock_hz) / unit_clock_hz;
  for (auto& t : scratch->tiles) {
    const long double c = std::ceil(static_cast<long double>(t.compute_cycles) * ratio);
    if (!(c < 18446744073709551616.0L)) throw CountOverflow("a tile's cycle count on the memory's clock");
    t.compute_cycles = static_cast<u64>(c);
  }
  return *scratch;
}

u64 serial_cycles_bound(const dataflows::TilePlan& plan, const arch::MemorySystem& memory) {
  u64 bound = plan.compute_cycles();
  const u64 tiles = plan.tile_count();
  for (std::size_t p = 0; p < plan.ports.size(); ++p) {
    const arch::MemoryChannel& ch = memory.channels.at(plan.ports[p].channel);
    const u64 per_tile = checked_add(ch.latency_cycles, u64{1}, "the run's cycle bound");
    bound = checked_add(bound, ch.occupancy(plan.port_bytes(p)), "the run's cycle bound");
    bound = checked_add(bound, checked_mul(tiles, per_tile, "the run's cycle bound"),
                        "the run's cycle bound");
  }
  return bound;
}

namespace {

// Appends tiles [from, to) of `plan` (walked with its blocks expanded) to `out`.
void copy_tiles(const dataflows::TilePlan& plan, u64 from, u64 to, dataflows::TilePlan& out) {
  dataflows::TileCursor c(plan);
  u64 at = 0;
  while (!c.done() && at < to) {
    const u64 n = std::min(c.left_in_run(), to - at);
    if (at + n > from) {
      dataflows::Tile t = c.tile();
      t.count = at + n - std::max(at, from);
      out.append(t);
    }
    at += n;
    c.advance(n);
  }
}

dataflows::TilePlan empty_like(const dataflows::TilePlan& plan) {
  dataflows::TilePlan out;
  out.ports = plan.ports;
  out.buffering = plan.buffering;
  out.units = plan.units;
  return out;
}

}  // namespace

dataflows::TilePlan plan_head(const dataflows::TilePlan& plan, u64 k) {
  dataflows::TilePlan out = empty_like(plan);
  copy_tiles(plan, 0, k, out);
  return out;
}

dataflows::TilePlan plan_tail(const dataflows::TilePlan& plan, u64 k) {
  dataflows::TilePlan out = empty_like(plan);
  copy_tiles(plan, k, plan.tile_count(), out);
  return out;
}

void add_port_bytes(const dataflows::TilePlan& plan, std::map<std::string, u64>& bytes) {
  for (std::size_t p = 0; p < plan.ports.size(); ++p) bytes[plan.ports[p].name] += plan.port_bytes(p);
}

std::vector<std::string> fidelity_names() {
  std::vector<std::string> out;
  for (const auto& [name, description] : fidelities().list()) out.push_back(name);
  return out;
}

}  // namespace tessera::sim
