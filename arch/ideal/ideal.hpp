// The ideal engine: a roofline. Per operator, cycles = max(compute bound, memory bound) with
//   compute bound = ceil(MACs / peak MACs per cycle) (operators without MACs: their vector-unit
//                   cycles)
//   memory bound  = each channel's latency + ceil(bytes / rate), where the operator reads its
//                   inputs and weights once and writes its outputs once.
// No real engine with the same peak, memory and vector unit can be faster, so every other engine
// is compared against it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

struct IdealParams {
  CommonParams common;  // clock, dram, vector unit, technology, fusion, area
  double peak_macs_per_cycle = 1;
  std::string dram_type = "ddr4";
  std::string pe_precision = "auto";  // "auto": each layer's operand width; area uses int8
  std::optional<double> mac_energy_pj, dram_energy_pj_per_byte;  // flat overrides of the table
};

class IdealEngine final : public EngineBase {
 public:
  explicit IdealEngine(const IdealParams& p) : EngineBase(p.common), p_(p) {}
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "ideal"; }
  double peak_macs_per_cycle() const override { return p_.peak_macs_per_cycle; }
  AreaBreakdown area_by_component() const override;
  // A complex MAC on four of the roofline's real MAC units (4 multiplies, their adds and the
  // accumulation): it takes four of the peak's slots.
  double peak_macs_per_cycle(const workloads::Operator& op) const override {
    return op.precision.complex ? p_.peak_macs_per_cycle / energy::kComplexMac4.multiplies
                                : p_.peak_macs_per_cycle;
  }
  std::optional<energy::ComplexMac> complex_mac() const override { return energy::kComplexMac4; }
  // Layers whose MACs the PEs do not support (energy.pe_precision) are a warning.
  // Products, butterfly linear layers and FFTs (their MACs: 4 real multiplies a 2x2 block or a
  // radix-2 butterfly) on the roofline, everything else on the vector unit.
  std::vector<KindSupport> kinds() const override {
    auto k = mac_kinds_on_datapath(Unit::vector_unit);
    k.push_back({workloads::OpKind::butterfly, Unit::datapath});
    k.push_back({workloads::OpKind::fft, Unit::datapath});
    return k;
  }
  std::vector<std::string> supports(const workloads::Operator& op) const override;
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

 private:
  IdealParams p_;
};

}  // namespace tessera::arch
