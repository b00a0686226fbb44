// Fuzz target: a results log (JSON lines) as sweep --resume, pareto and merge read it.
#include "explorer/results_log.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return tessera::fuzz::expect_clean("results.jsonl", [&] {
    (void)tessera::explorer::parse_results_log(text, "results.jsonl");
  });
}
