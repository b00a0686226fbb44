#include "arch/ideal/ideal.hpp"

#include <algorithm>
#include <cmath>

#include "arch/energy/config.hpp"

namespace tessera::arch {

std::unique_ptr<Engine> IdealEngine::create(ParamReader& r) {
  IdealParams p;
  CommonDefaults d;
  d.memory.bandwidth = "";  // required
  d.dram_required = true;
  p.common = read_common(r, d, [&p](ParamReader& energy, const energy::Technology& tech) {
    p.mac_energy_pj = energy.optional_number("mac_pj");
    p.dram_energy_pj_per_byte = energy.optional_number("dram_pj_per_byte");
    for (const char* k : {"mac_pj", "dram_pj_per_byte"})
      if (energy.has(k)) energy.non_negative(k, 0);  // range check
    p.dram_type = energy::read_dram_type(energy, tech, p.dram_type);
    p.pe_precision = energy::read_pe_precision(energy, tech);
  });
  p.peak_macs_per_cycle = r.positive("peak_macs_per_cycle");
  // The same reach as an array of kMaxArrayDimension^2 PEs; below 1e-3 a cycle count overflows.
  if (p.peak_macs_per_cycle < 1e-3 || p.peak_macs_per_cycle > 4294967296.0)
    throw r.error("peak_macs_per_cycle", "must be in [0.001, 2^32]");
  return std::make_unique<IdealEngine>(p);
}

AreaBreakdown IdealEngine::area_by_component() const {
  const std::string prec = energy::area_mac_precision(p_.pe_precision);
  return area_or_given(
      {{"pe_array", p_.peak_macs_per_cycle * common_.tech->mac_cost(prec).area_um2 * 1e-6}});
}

std::vector<std::string> IdealEngine::supports(const workloads::Operator& op) const {
  std::vector<std::string> w = Engine::supports(op);
  if (auto m = energy::mac_warning(p_.pe_precision, op)) w.push_back(*m);
  return w;
}

LayerWork IdealEngine::map(const workloads::Operator& op, const MapContext& context) const {
  using namespace dataflows;
  LayerWork w;
  if (op.macs() == 0) {
    w = map_vector(op, context, /*split=*/false);
  } else {
    w.macs = static_cast<u64>(op.macs());
    w.mac_bits = std::max(op.precision.weight_bits, op.precision.activation_bits);
    w.mac_format = op.precision.format;
    if (const auto form = complex_mac(); form && op.precision.complex) {
      w.complex_mac = form;
      w.metrics["complex_mac_real_multiplies"] = form->multiplies;
      w.metrics["complex_mac_real_adds"] = form->adds;
    }
    Tile t;
    t.compute_cycles =
        static_cast<u64>(std::ceil(static_cast<double>(w.macs) / peak_macs_per_cycle(op)));
    t.busy_units = static_cast<u64>(std::ceil(p_.peak_macs_per_cycle));
    // A product of two activations streams its second operand where a weight would go (the
    // weight port), as the array engines do, so a per-operand memory serves both in parallel; a
    // KV cache operand streams there too, at its own precision.
    u64 input = static_cast<u64>(op.input_bytes()), weight = static_cast<u64>(op.weight_bytes());
    if (const auto* m = std::get_if<workloads::MatMul>(&op.shape); m && !m->b_is_weight) {
      weight = static_cast<u64>((m->batch * m->k * m->n * op.b_bits() * op.precision.parts() + 7) / 8);
      input -= std::min(input, weight);
    }
    t.bytes[w.plan.port(port::input)] = input;
    t.bytes[w.plan.port(port::weight)] = weight;
    t.bytes[w.plan.port(port::output, Direction::write)] = static_cast<u64>(op.output_bytes());
    w.plan.units = t.busy_units;
    w.plan.tiles.push_back(t);
  }
  w.plan.buffering = kStreaming;
  w.accesses.clear();
  w.accesses["dram"] = {w.plan.read_bytes(), w.plan.write_bytes()};
  return w;
}

EnergyBreakdown IdealEngine::energy(const LayerWork& work, u64 cycles) const {
  const energy::Technology& t = *common_.tech;
  const auto& dram = work.accesses.at("dram");
  const std::string prec = energy::priced_mac_precision(p_.pe_precision, work.mac_bits, work.mac_format);
  const double mac_pj = work.complex_mac
                            ? t.complex_mac_pj(prec, *work.complex_mac, p_.mac_energy_pj)
                            : p_.mac_energy_pj.value_or(t.mac_cost(prec).energy_pj);
  const double dram_pj_per_byte = p_.dram_energy_pj_per_byte.value_or(8 * t.dram(p_.dram_type));
  // Leakage of the MAC array (no buffers in a roofline) over the layer's cycles.
  const std::string area_prec = energy::area_mac_precision(p_.pe_precision);
  const double logic_mm2 = p_.peak_macs_per_cycle * t.mac_cost(area_prec).area_um2 * 1e-6;
  const double seconds = static_cast<double>(cycles) / common_.clock_hz;
  return {{"mac", static_cast<double>(work.macs) * mac_pj},
          {"dram.read", static_cast<double>(dram.read_bytes) * dram_pj_per_byte},
          {"dram.write", static_cast<double>(dram.write_bytes) * dram_pj_per_byte},
          {"leakage.pe_array", logic_mm2 * t.leakage_logic_mw_per_mm2 * seconds * 1e9}};
}

nlohmann::json IdealEngine::resolved_config() const {
  // Same keys as the input, numbers in each key's default unit: a resolved config reads back
  // as a config of the same design point.
  nlohmann::json energy_config = {{"dram", p_.dram_type}, {"pe_precision", p_.pe_precision}};
  if (p_.mac_energy_pj) energy_config["mac_pj"] = *p_.mac_energy_pj;
  if (p_.dram_energy_pj_per_byte) energy_config["dram_pj_per_byte"] = *p_.dram_energy_pj_per_byte;
  return with_common(
      {{"peak_macs_per_cycle", p_.peak_macs_per_cycle}, {"energy", energy_config}});
}

}  // namespace tessera::arch
