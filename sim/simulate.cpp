#include "sim/simulate.hpp"

#include "arch/energy/hamming.hpp"
#include "common/error.hpp"
#include "sim/analytical.hpp"
#include "sim/systemc/tile_sim.hpp"

namespace tessera::sim {

std::string_view to_string(Fidelity f) {
  return f == Fidelity::analytical ? "analytical" : "systemc";
}

Fidelity fidelity_from_string(const std::string& text) {
  if (text == "analytical") return Fidelity::analytical;
  if (text == "systemc") return Fidelity::systemc;
  throw InputError("unknown fidelity '" + text + "' (known: analytical, systemc)");
}

std::vector<LayerResult> simulate(const arch::Engine& engine, const workloads::Graph& graph,
                                  Fidelity fidelity, Trace* trace) {
  const auto order = graph.topological_order();
  // An operator's output stays on chip for the next one when it is that operator's only input,
  // the next operator is its only consumer, and the engine has room for it.
  std::vector<bool> kept(order.size(), false);  // kept[i]: output of order[i] stays for order[i+1]
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const auto consumers = graph.consumers(order[i]);
    const auto producers = graph.producers(order[i + 1]);
    kept[i] = consumers.size() == 1 && consumers[0] == order[i + 1] && producers.size() == 1 &&
              engine.keeps_on_chip(graph.op(order[i]), graph.op(order[i + 1]));
  }
  std::vector<arch::LayerWork> work;
  work.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    work.push_back(engine.map(graph.op(order[i]),
                              {.input_on_chip = i > 0 && kept[i - 1], .output_on_chip = kept[i]}));

  std::vector<const dataflows::TilePlan*> plans;
  for (const auto& w : work) plans.push_back(&w.plan);
  const std::vector<LayerTiming> timings =
      fidelity == Fidelity::analytical ? time_analytical(plans, engine.dram())
                                       : systemc::simulate_tile_plans(plans, engine.dram(), trace);

  std::vector<LayerResult> out;
  out.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& op = graph.op(order[i]);
    LayerResult r;
    r.name = op.name;
    r.kind = std::string(workloads::to_string(op.kind()));
    r.source = op.source;
    r.timing = timings[i];
    r.macs = work[i].macs;
    r.utilization = utilization(r.macs, r.timing.cycles, engine.peak_macs_per_cycle());
    r.compute_utilization =
        utilization(r.macs, r.timing.compute_cycles, engine.peak_macs_per_cycle());
    r.energy = engine.energy(work[i], r.timing.cycles);
    r.accesses = std::move(work[i].accesses);
    r.metrics = std::move(work[i].metrics);
    out.push_back(std::move(r));
  }
  // Hamming-distance datapath energy in place of the flat MAC energy, when the config asks.
  const auto* streams = dynamic_cast<const arch::energy::OperandStreamSource*>(&engine);
  if (const auto options = streams ? streams->hamming_in_simulate() : std::nullopt) {
    const auto report = arch::energy::analyse_hamming(engine, graph, *options);
    const bool replace = streams->hamming_replaces_mac_energy();
    const nlohmann::json j = arch::energy::to_json(report);
    std::map<std::string, std::size_t> by_name;
    for (std::size_t i = 0; i < out.size(); ++i) by_name[out[i].name] = i;
    for (std::size_t i = 0; i < report.layers.size(); ++i) {
      const auto& l = report.layers[i];
      auto& r = out.at(by_name.at(l.name));
      const auto& used = l.optimized ? *l.optimized : l.original;
      if (replace) {
        r.energy.erase("mac");
        r.energy["mac.toggle"] = used.toggle_pj;
        r.energy["mac.base"] = used.base_pj;
      }
      r.hamming = j["layers"][i];
    }
    for (auto& r : out)  // layers off the datapath: no MAC energy to split
      if (replace && r.hamming.is_null() && r.energy.count("mac") && r.energy.at("mac") == 0)
        r.energy.erase("mac");
  }
  for (auto& r : out)
    for (const auto& [component, pj] : r.energy) r.energy_pj += pj;
  return out;
}

}  // namespace tessera::sim
