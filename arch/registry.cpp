// The one place engine templates are registered. A new engine adds one line here.
#include "arch/bitfusion/bitfusion.hpp"
#include "arch/butterfly/butterfly.hpp"
#include "arch/engine.hpp"
#include "arch/eyeriss/eyeriss.hpp"
#include "arch/fluid_npu/fluid_npu.hpp"
#include "arch/ideal/ideal.hpp"
#include "arch/sparse/sparse.hpp"
#include "arch/systolic/systolic.hpp"

namespace tessera::arch {

const Registry<EngineFactory>& engines() {
  static const Registry<EngineFactory> registry = [] {
    Registry<EngineFactory> r("engine");
    r.add("ideal", "roofline upper bound: max(compute, DRAM traffic) per operator",
          &IdealEngine::create);
    r.add("systolic", "R x C MAC array, weight/output/input stationary, SCALE-Sim compatible",
          &SystolicEngine::create);
    r.add("bitfusion", "Bit Fusion (ISCA 2018): bit-composable fusion units, per-layer precision",
          &BitFusionEngine::create);
    r.add("butterfly",
          "adaptable butterfly accelerator (MICRO 2022): butterfly and FFT layers, FABNet",
          &ButterflyEngine::create);
    r.add("eyeriss", "Eyeriss (ISSCC 2016): 12 x 14 PEs, row stationary, 16-bit",
          &EyerissEngine::create);
    r.add("fluid_npu",
          "fluid-batching NPU (ICCAD 2022): PEs of V MAC lanes over batch samples, stackable PEs",
          &FluidNpuEngine::create);
    r.add("sparse", "PE array skipping or gating zeros, compressed formats, N:M, imbalance from masks",
          &SparseEngine::create);
    return r;
  }();
  return registry;
}

}  // namespace tessera::arch
