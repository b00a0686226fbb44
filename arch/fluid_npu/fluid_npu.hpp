// The fluid-batching NPU (Kouris et al., "Fluid Batching", ICCAD 2022): `pes` processing elements,
// each with `lanes` (V) MAC lanes mapped to the samples of a batch. At batch b >= V each lane
// runs one sample, ceil(b / V) passes; at b < V the lanes of the samples it lacks idle, unless
// the PEs are stackable: then groups of g = floor(V / b) lanes stack on one sample and split its
// reduction (input channel) loop g ways, paying an extra reduction stage that sums the g partial
// results of each output (one output per PE per cycle through an adder tree of depth
// ceil(log2 g)). The engine stacks a layer only where that is faster.
//
// Per operator with MACs, with M1 MACs and O1 outputs per sample and the outputs spread over
// the PEs:
//   unstacked: cycles = ceil(b / V) * ceil(M1 / P)
//   stacked:   cycles = ceil(M1 / (P g)) + ceil(O1 / P) + ceil(log2 g)
// Memory as the ideal engine: inputs and weights read once, outputs written once, overlapped
// with compute (one streaming tile). Operators without MACs run on the vector unit.
#pragma once

#include <memory>
#include <string>

#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

struct FluidNpuParams {
  CommonParams common;
  std::int64_t pes = 16;
  std::int64_t lanes = 8;  // V
  bool stackable = true;
  std::string dram_type = "ddr4";
};

// How a layer of `samples` samples, `macs_per_sample` and `outputs_per_sample` runs on the NPU.
struct NpuSchedule {
  std::uint64_t cycles = 0;
  std::int64_t stack = 1;  // lanes per sample (g); 1: unstacked
  std::uint64_t reduction_adds = 0;  // the extra reduction stage's additions
};
NpuSchedule npu_schedule(const FluidNpuParams& p, std::int64_t samples, std::uint64_t macs_per_sample,
                         std::uint64_t outputs_per_sample);

class FluidNpuEngine final : public EngineBase {
 public:
  explicit FluidNpuEngine(const FluidNpuParams& p) : EngineBase(p.common), p_(p) {}
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "fluid_npu"; }
  double peak_macs_per_cycle() const override { return static_cast<double>(p_.pes * p_.lanes); }
  AreaBreakdown area_by_component() const override;
  std::vector<KindSupport> kinds() const override {
    return mac_kinds_on_datapath(Unit::vector_unit);
  }
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

 private:
  FluidNpuParams p_;
};

}  // namespace tessera::arch
