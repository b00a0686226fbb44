// Fuzz target: a .npy file as `energy --data npy:DIR` reads a layer's activations, with and
// without the layer's element count, then quantised as the hamming model does.
#include "arch/energy/values.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tessera::fuzz::as_file(data, size, "layer.npy");
  return tessera::fuzz::expect_clean("layer.npy", [&] {
    const auto a = tessera::arch::energy::read_npy(path);
    (void)tessera::arch::energy::quantize(a.values, 8, false);
    // The seeds hold 6 values: the count check before the data is read.
    (void)tessera::arch::energy::read_npy(path, 6, "the input of layer 'x'");
  });
}
