// Fuzz target: XRBench's MAESTRO-style files (serving/xr.hpp). As "usage.m" the input is read as
// a usage scenario and, for one that reads and is small (at most 16 layers a model, at most 10^8
// MACs a layer, at most 50 frames a model), run for a short while on one small sub-accelerator
// as `tessera serve` would run it; as "hardware.m" it is read as a hardware config and each
// sub-accelerator is built into its engine.
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "serving/xr.hpp"
#include "serving/xr_run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::serving::xr;
  const std::string name = FUZZ_FILE_NAME;
  const std::string path = tessera::fuzz::as_file(data, size, name);
  if (name == "hardware.m") {
    tessera::fuzz::expect_clean(path, [&] {
      const HardwareConfig h = load_hardware_config(path);
      for (const SubAccelerator& a : h.units)
        if (a.num_pes <= 4096) (void)make_unit(a, Dataflow::ws, path);
    });
    return 0;
  }
  XrScenario s;
  bool read = false;
  tessera::fuzz::expect_clean(path, [&] {
    s.usage = load_usage_scenario(path);
    read = true;
  });
  if (!read) return 0;
  for (const Model& m : s.usage.models) {
    if (m.layers.size() > 16 || m.fps * 0.05 > 50) return 0;
    for (const Layer& l : m.layers)
      if (static_cast<double>(l.n) * l.k * l.c * l.y * l.x * l.r * l.s > 1e8) return 0;
  }
  SubAccelerator a;
  a.name = "fuzz";
  a.num_pes = 64;
  a.offchip_bw = 16;
  a.global_shared_memory = 256 << 10;
  s.file = path;
  s.units.push_back(make_unit(a, Dataflow::ws, path));
  s.duration_s = 0.05;
  s.policy = "dream";
  tessera::fuzz::expect_clean(path, [&] { (void)run(s); });
  return 0;
}
