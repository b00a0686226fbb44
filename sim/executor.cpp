#include "sim/executor.hpp"

#include <cmath>
#include <stdexcept>

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
  for (auto& t : scratch->tiles)
    t.compute_cycles = static_cast<u64>(std::ceil(static_cast<long double>(t.compute_cycles) * ratio));
  return *scratch;
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
