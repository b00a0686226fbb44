// Fuzz targets fuzz_workload_json and fuzz_scalesim_topology: a workload file through
// load_workload, as `--workload` reads it. FUZZ_FILE_NAME picks the front-end by extension:
// "workload.json" (the Tessera workload format; a transformer config.json is accepted there too)
// or "topology.csv" (SCALE-Sim topologies).
#include "fuzz/fuzz_support.hpp"
#include "workloads/frontend.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tessera::fuzz::as_file(data, size, FUZZ_FILE_NAME);
  return tessera::fuzz::expect_clean(path, [&] {
    tessera::workloads::LoadOptions options;
    options.warn = [](const std::string&) {};
    (void)tessera::workloads::load_workload(path, options);
  });
}
