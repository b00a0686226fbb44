// Fuzz targets fuzz_arch_config and fuzz_scalesim_cfg: an architecture config file read and
// built into an engine (load_arch). FUZZ_FILE_NAME picks the reader by extension: "arch.json"
// or "arch.cfg" (SCALE-Sim).
#include "arch/config.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tessera::fuzz::as_file(data, size, FUZZ_FILE_NAME);
  return tessera::fuzz::expect_clean(path, [&] { (void)tessera::arch::load_arch(path); });
}
