// Fuzz target: a serving scenario file (load_scenario), then, for one that reads, a short serving
// run of its first requests (at most 200), as `tessera serve` would start it. The scenario
// names "arch.json" and "workload.json", copies of shipped files beside it.
#include <algorithm>
#include <filesystem>

#include "fuzz/fuzz_support.hpp"
#include "serving/scenario.hpp"
#include "serving/serve.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::copy_beside("configs/arch/systolic_tiny_8x8.json", "arch.json");
  tessera::fuzz::copy_beside("configs/workloads/lenet5.json", "workload.json");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::serving;
  const std::string path = tessera::fuzz::as_file(data, size, "scenario.json");
  Scenario scenario;
  bool read = false;
  tessera::fuzz::expect_clean(path, [&] {
    scenario = load_scenario(path);
    read = true;
  });
  if (!read || !scenario.requests) return 0;  // a duration may hold any number of arrivals
  scenario.requests = std::min<std::int64_t>(*scenario.requests, 200);
  tessera::fuzz::expect_clean(path, [&] { (void)serve(scenario); });
  return 0;
}
