#include <catch2/catch.hpp>

#include "dataflows/tile_plan.hpp"

using namespace tessera::dataflows;

TEST_CASE("tile plan totals count repeated tiles", "[dataflows]") {
  TilePlan plan;
  plan.tiles = {{.compute_cycles = 10, .read_bytes = {100, 0, 0}, .write_bytes = 7, .count = 3},
                {.compute_cycles = 5, .read_bytes = {0, 0, 0}, .write_bytes = 1, .count = 1}};
  CHECK(plan.tile_count() == 4);
  CHECK(plan.compute_cycles() == 35);
  CHECK(plan.dram_read_bytes() == 300);
  CHECK(plan.dram_write_bytes() == 22);
  CHECK(to_string(plan.overlap) == "streaming");
}
