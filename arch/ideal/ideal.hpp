// The ideal engine: a roofline. Per operator, cycles = max(compute bound, memory bound) with
//   compute bound = ceil(MACs / peak MACs per cycle)
//   memory bound  = every transfer's DRAM latency + ceil(bytes / bandwidth), where the operator
//                   reads its inputs and weights once and writes its outputs once.
// No real engine with the same peak and bandwidth can be faster, so every other engine is
// compared against it. Operators without MACs (elementwise, pooling, data movement, ...) cost
// only their memory traffic.
#pragma once

#include <memory>

#include "arch/engine.hpp"

namespace tessera::arch {

struct IdealParams {
  double clock_hz = 1e9;
  double peak_macs_per_cycle = 1;
  DramParams dram;
  double mac_energy_pj = 0.23;             // int8 multiply + add, 45 nm (Horowitz, ISSCC 2014)
  double dram_energy_pj_per_byte = 160.0;  // 20 pJ/bit, DDR-class (same source)
  double area_mm2 = 0.0;                   // not modelled unless given
};

class IdealEngine final : public Engine {
 public:
  explicit IdealEngine(const IdealParams& p) : p_(p) {}
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "ideal"; }
  double clock_hz() const override { return p_.clock_hz; }
  double peak_macs_per_cycle() const override { return p_.peak_macs_per_cycle; }
  DramParams dram() const override { return p_.dram; }
  double area_mm2() const override { return p_.area_mm2; }
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

 private:
  IdealParams p_;
};

}  // namespace tessera::arch
