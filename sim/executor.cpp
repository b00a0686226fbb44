#include "sim/executor.hpp"

#include "sim/analytical.hpp"

namespace tessera::sim {

Registry<Timer>& fidelities() {
  static Registry<Timer> registry = [] {
    Registry<Timer> r("fidelity");
    r.add("analytical", "closed-form timing of the tile plans (one recurrence per layer)",
          [](const std::vector<const dataflows::TilePlan*>& plans,
             const arch::MemorySystem& memory, Trace*) { return time_analytical(plans, memory); });
    return r;
  }();
  return registry;
}

}  // namespace tessera::sim
