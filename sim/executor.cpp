#include "sim/executor.hpp"

#include "sim/analytical.hpp"

namespace tessera::sim {

Registry<Fidelity>& fidelities() {
  static Registry<Fidelity> registry = [] {
    Registry<Fidelity> r("fidelity");
    Fidelity f;
    f.timer = [](const std::vector<const dataflows::TilePlan*>& plans,
                 const arch::MemorySystem& memory, Trace*) { return time_analytical(plans, memory); };
    f.thread_safe = true;
    f.memoizes_layers = true;
    r.add("analytical", "closed form over the tile plan; thread-safe", std::move(f));
    return r;
  }();
  return registry;
}

std::vector<std::string> fidelity_names() {
  std::vector<std::string> out;
  for (const auto& [name, description] : fidelities().list()) out.push_back(name);
  return out;
}

}  // namespace tessera::sim
