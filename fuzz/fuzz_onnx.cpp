// Fuzz target: the ONNX front-end (read_onnx) on a model file, operators the IR cannot express
// kept as warnings so mapping is reached too.
#include "fuzz/fuzz_support.hpp"
#include "workloads/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tessera::fuzz::as_file(data, size, "model.onnx");
  return tessera::fuzz::expect_clean(path, [&] {
    tessera::workloads::LoadOptions options;
    options.seq_len = 16;  // symbolic sequence dims get a size; other dynamic dims are errors
    options.allow_unsupported = true;
    options.warn = [](const std::string&) {};
    (void)tessera::workloads::read_onnx(path, options);
  });
}
