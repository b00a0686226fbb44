#include "arch/ideal/ideal.hpp"

#include <cmath>

namespace tessera::arch {

std::unique_ptr<Engine> IdealEngine::create(ParamReader& r) {
  IdealParams p;
  p.clock_hz = r.frequency_hz("clock", "1 GHz");
  p.peak_macs_per_cycle = r.positive("peak_macs_per_cycle");
  ParamReader dram = r.child("dram");
  p.dram.bytes_per_cycle = dram.bandwidth("bandwidth", "").bytes_per_cycle(p.clock_hz);
  p.dram.latency_cycles = static_cast<u64>(dram.non_negative_integer("latency_cycles", 0));
  dram.finish();
  if (auto energy = r.optional_child("energy")) {
    p.mac_energy_pj = energy->non_negative("mac_pj", p.mac_energy_pj);
    p.dram_energy_pj_per_byte = energy->non_negative("dram_pj_per_byte", p.dram_energy_pj_per_byte);
    energy->finish();
  }
  p.area_mm2 = r.non_negative("area_mm2", p.area_mm2);
  return std::make_unique<IdealEngine>(p);
}

LayerWork IdealEngine::map(const workloads::Operator& op, const MapContext& /*context*/) const {
  LayerWork w;
  w.macs = static_cast<u64>(op.macs());
  dataflows::Tile t;
  t.compute_cycles =
      static_cast<u64>(std::ceil(static_cast<double>(w.macs) / p_.peak_macs_per_cycle));
  t.read_bytes[dataflows::ifmap] = static_cast<u64>(op.input_bytes());
  t.read_bytes[dataflows::filter] = static_cast<u64>(op.weight_bytes());
  t.write_bytes = static_cast<u64>(op.output_bytes());
  w.plan.overlap = dataflows::Overlap::streaming;
  w.plan.tiles.push_back(t);
  w.accesses["dram"] = {w.plan.dram_read_bytes(), w.plan.dram_write_bytes()};
  return w;
}

EnergyBreakdown IdealEngine::energy(const LayerWork& work, u64 /*cycles*/) const {
  const auto& dram = work.accesses.at("dram");
  return {{"mac", static_cast<double>(work.macs) * p_.mac_energy_pj},
          {"dram.read", static_cast<double>(dram.read_bytes) * p_.dram_energy_pj_per_byte},
          {"dram.write", static_cast<double>(dram.write_bytes) * p_.dram_energy_pj_per_byte}};
}

nlohmann::json IdealEngine::resolved_config() const {
  // Same keys as the input, numbers in each key's default unit: a resolved config reads back
  // as a config of the same design point.
  return {
      {"clock", p_.clock_hz / 1e6},
      {"peak_macs_per_cycle", p_.peak_macs_per_cycle},
      {"dram",
       {{"bandwidth", p_.dram.bytes_per_cycle}, {"latency_cycles", p_.dram.latency_cycles}}},
      {"energy", {{"mac_pj", p_.mac_energy_pj}, {"dram_pj_per_byte", p_.dram_energy_pj_per_byte}}},
      {"area_mm2", p_.area_mm2}};
}

}  // namespace tessera::arch
