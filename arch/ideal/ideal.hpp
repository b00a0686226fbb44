// The ideal engine: a roofline. Per operator, cycles = max(compute bound, memory bound) with
//   compute bound = ceil(MACs / peak MACs per cycle)
//   memory bound  = every transfer's DRAM latency + ceil(bytes / bandwidth), where the operator
//                   reads its inputs and weights once and writes its outputs once.
// No real engine with the same peak and bandwidth can be faster, so every other engine is
// compared against it. Operators without MACs (elementwise, pooling, data movement, ...) cost
// only their memory traffic.
#pragma once

#include <memory>

#include <optional>
#include <string>

#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

struct IdealParams {
  double clock_hz = 1e9;
  double peak_macs_per_cycle = 1;
  DramParams dram;
  // Energy and area from a technology table (arch/energy/technology.hpp, docs/energy.md).
  std::string technology = "45nm";
  std::shared_ptr<const energy::Technology> tech;  // loaded from `technology` when null
  std::string dram_type = "ddr4";
  std::string pe_precision = "auto";  // "auto": each layer's operand width; area uses int8
  std::optional<double> mac_energy_pj, dram_energy_pj_per_byte;  // flat overrides of the table
  std::optional<double> area_mm2;  // given area instead of peak MACs x the table's MAC area
};

class IdealEngine final : public Engine {
 public:
  explicit IdealEngine(const IdealParams& p);
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "ideal"; }
  double clock_hz() const override { return p_.clock_hz; }
  double peak_macs_per_cycle() const override { return p_.peak_macs_per_cycle; }
  DramParams dram() const override { return p_.dram; }
  double area_mm2() const override;
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

 private:
  IdealParams p_;
};

}  // namespace tessera::arch
