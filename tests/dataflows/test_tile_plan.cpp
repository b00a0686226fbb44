// Tile plans: named ports, totals over run-length encoded tiles, and the helpers that build
// plans (append_tile merging, append_split, add_fill_drain).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "dataflows/tile_plan.hpp"

using namespace tessera::dataflows;

TEST_CASE("tile plan totals count repeated tiles per named port", "[dataflows]") {
  TilePlan plan;
  const std::size_t in = plan.port(port::input), wt = plan.port(port::weight),
                    out = plan.port(port::output, Direction::write);
  CHECK(in == 0);
  CHECK(wt == 1);
  CHECK(out == 2);
  CHECK(plan.port(port::weight) == wt);  // found, not added again
  CHECK(plan.ports.size() == 3);
  CHECK(plan.ports[out].direction == Direction::write);

  Tile a;
  a.compute_cycles = 10, a.busy_units = 4, a.count = 3;
  a.bytes[in] = 100, a.bytes[out] = 7;
  Tile b;
  b.compute_cycles = 5, b.busy_units = 2, b.count = 1;
  b.bytes[wt] = 9, b.bytes[out] = 1;
  plan.tiles = {a, b};
  CHECK(plan.tile_count() == 4);
  CHECK(plan.compute_cycles() == 35);
  CHECK(plan.busy_unit_cycles() == 3 * 10 * 4 + 5 * 2);
  CHECK(plan.port_bytes(in) == 300);
  CHECK(plan.port_bytes(port::weight) == 9);
  CHECK(plan.port_bytes(port::psum_in) == 0);  // no such port
  CHECK(plan.find_port(port::psum_in) == kMaxPorts);
  CHECK(plan.read_bytes() == 309);
  CHECK(plan.write_bytes() == 22);
  CHECK(plan.buffering == kDoubleBuffered);  // the default
  CHECK_FALSE(kDoubleBuffered.streaming);
  CHECK(kStreaming.streaming);
}

TEST_CASE("a port's name and direction identify it; plans hold at most kMaxPorts",
          "[dataflows]") {
  TilePlan plan;
  const std::size_t r = plan.port("x");
  const std::size_t w = plan.port("x", Direction::write);
  CHECK(r != w);
  for (std::size_t i = plan.ports.size(); i < kMaxPorts; ++i) plan.port("p" + std::to_string(i));
  CHECK(plan.ports.size() == kMaxPorts);
  CHECK_THROWS_AS(plan.port("one_too_many"), std::length_error);
}

TEST_CASE("append_tile merges equal neighbours; append_split keeps totals in two runs",
          "[dataflows]") {
  std::vector<Tile> tiles;
  Tile t;
  t.compute_cycles = 3;
  t.bytes[0] = 8;
  append_tile(tiles, t);
  append_tile(tiles, t);
  REQUIRE(tiles.size() == 1);
  CHECK(tiles[0].count == 2);
  Tile other = t;
  other.bytes[1] = 1;  // differs in one port: a new run
  append_tile(tiles, other);
  CHECK(tiles.size() == 2);

  // 100 cycles, 1001 and 13 bytes in 7 parts: parts of ceil(x / 7) = 15 cycles, 143 and 2 bytes,
  // the last with the rest (10 cycles, 143 and 1 bytes).
  std::vector<Tile> split;
  Tile total;
  total.compute_cycles = 100;
  total.busy_units = 5;
  total.bytes[0] = 1001;
  total.bytes[2] = 13;
  append_split(split, total, 7);
  REQUIRE(split.size() == 2);
  CHECK(split[0].count == 6);
  CHECK(split[0].compute_cycles == 15);
  CHECK(split[0].bytes[0] == 143);
  CHECK(split[0].bytes[2] == 2);
  CHECK(split[1].count == 1);
  CHECK(split[1].compute_cycles == 100 - 6 * 15);
  CHECK(split[1].bytes[2] == 13 - 6 * 2);
  // 5 bytes in 4 parts: ceil (2) would leave the last part negative, so parts of 1 and a last of 2.
  std::vector<Tile> small;
  Tile five;
  five.bytes[0] = 5;
  append_split(small, five, 4);
  REQUIRE(small.size() == 2);
  CHECK(small[0].bytes[0] == 1);
  CHECK(small[1].bytes[0] == 2);
  TilePlan p;
  p.tiles = split;
  CHECK(p.tile_count() == 7);
  CHECK(p.compute_cycles() == 100);
  CHECK(p.port_bytes(std::size_t{0}) == 1001);
  CHECK(p.port_bytes(std::size_t{2}) == 13);
  CHECK(split[1].busy_units == 5);

  std::vector<Tile> whole;
  append_split(whole, total, 1);
  REQUIRE(whole.size() == 1);
  CHECK(whole[0] == total);
}

TEST_CASE("add_fill_drain pays fill on the first tile and drain on the last, once",
          "[dataflows]") {
  Tile t;
  t.compute_cycles = 10;
  t.count = 5;
  std::vector<Tile> tiles{t};
  add_fill_drain(tiles, 3, 4);
  REQUIRE(tiles.size() == 3);
  CHECK(tiles[0].count == 1);
  CHECK(tiles[0].compute_cycles == 13);
  CHECK(tiles[1].count == 3);
  CHECK(tiles[1].compute_cycles == 10);
  CHECK(tiles[2].count == 1);
  CHECK(tiles[2].compute_cycles == 14);
  TilePlan p;
  p.tiles = tiles;
  CHECK(p.tile_count() == 5);
  CHECK(p.compute_cycles() == 5 * 10 + 3 + 4);

  std::vector<Tile> one{Tile{.compute_cycles = 10}};
  add_fill_drain(one, 3, 4);
  REQUIRE(one.size() == 1);
  CHECK(one[0].compute_cycles == 17);
  std::vector<Tile> none;
  add_fill_drain(none, 3, 4);
  CHECK(none.empty());
}
