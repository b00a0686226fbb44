// Fuzz target: the expression parser of derived parameters and constraints, and evaluation of
// what it accepts (every name is 3, a value that may divide by zero or overflow: the result may
// be any double, but evaluation must not crash or recurse without bound).
#include "explorer/expression.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string where = "space.json: /derived/x: ";
  return tessera::fuzz::expect_clean("space.json", [&] {
    const auto e = tessera::explorer::Expression::parse(text, where);
    (void)e.evaluate([](const std::string&) { return std::optional<double>(3.0); });
  });
}
