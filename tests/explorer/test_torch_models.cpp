// The libtorch models module loads on demand, and a missing entry point is a clear error.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "explorer/torch_models.hpp"

using namespace tessera;

TEST_CASE("the libtorch models module loads on first use", "[explorer][torch]") {
  using Abi = int (*)();
  auto abi = reinterpret_cast<Abi>(explorer::torch_models_symbol("tessera_torch_models_abi"));
  REQUIRE(abi != nullptr);
  CHECK(abi() == 1);
  CHECK_THROWS_AS(explorer::torch_models_symbol("no_such_entry_point"), UnsupportedError);
}
