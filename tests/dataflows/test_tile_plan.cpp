// Tile plans: named ports, totals over run-length encoded tiles, and the helpers that build
// plans (append_tile merging, append_split, add_fill_drain), repeated blocks and their walk.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "common/checked.hpp"
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
  TileSeq split;
  Tile total;
  total.compute_cycles = 100;
  total.busy_units = 5;
  total.bytes[0] = 1001;
  total.bytes[2] = 13;
  append_split(split, total, 7);
  REQUIRE(split.tiles.size() == 2);
  CHECK(split.tiles[0].count == 6);
  CHECK(split.tiles[0].compute_cycles == 15);
  CHECK(split.tiles[0].bytes[0] == 143);
  CHECK(split.tiles[0].bytes[2] == 2);
  CHECK(split.tiles[1].count == 1);
  CHECK(split.tiles[1].compute_cycles == 100 - 6 * 15);
  CHECK(split.tiles[1].bytes[2] == 13 - 6 * 2);
  // 5 bytes in 4 parts: ceil (2) would leave the last part negative, so parts of 1 and a last of 2.
  TileSeq small;
  Tile five;
  five.bytes[0] = 5;
  append_split(small, five, 4);
  REQUIRE(small.tiles.size() == 2);
  CHECK(small.tiles[0].bytes[0] == 1);
  CHECK(small.tiles[1].bytes[0] == 2);
  TilePlan p;
  p.tiles = split.tiles;
  CHECK(p.tile_count() == 7);
  CHECK(p.compute_cycles() == 100);
  CHECK(p.port_bytes(std::size_t{0}) == 1001);
  CHECK(p.port_bytes(std::size_t{2}) == 13);
  CHECK(split.tiles[1].busy_units == 5);

  TileSeq whole;
  append_split(whole, total, 1);
  REQUIRE(whole.tiles.size() == 1);
  CHECK(whole.tiles[0] == total);
}

TEST_CASE("add_fill_drain pays fill on the first tile and drain on the last, once",
          "[dataflows]") {
  Tile t;
  t.compute_cycles = 10;
  t.count = 5;
  TileSeq tiles{{t}, {}};
  add_fill_drain(tiles, 3, 4);
  REQUIRE(tiles.tiles.size() == 3);
  CHECK(tiles.tiles[0].count == 1);
  CHECK(tiles.tiles[0].compute_cycles == 13);
  CHECK(tiles.tiles[1].count == 3);
  CHECK(tiles.tiles[1].compute_cycles == 10);
  CHECK(tiles.tiles[2].count == 1);
  CHECK(tiles.tiles[2].compute_cycles == 14);
  TilePlan p;
  p.tiles = tiles.tiles;
  CHECK(p.tile_count() == 5);
  CHECK(p.compute_cycles() == 5 * 10 + 3 + 4);

  TileSeq one{{Tile{.compute_cycles = 10}}, {}};
  add_fill_drain(one, 3, 4);
  REQUIRE(one.tiles.size() == 1);
  CHECK(one.tiles[0].compute_cycles == 17);
  TileSeq none;
  add_fill_drain(none, 3, 4);
  CHECK(none.tiles.empty());
}

namespace {
Tile cycles(u64 c, u64 count = 1) {
  Tile t;
  t.compute_cycles = c;
  t.count = count;
  return t;
}
// The compute cycles of each tile of the expanded sequence.
std::vector<u64> walk(const TileSeq& s) {
  std::vector<u64> out;
  for (TileCursor c(s); !c.done(); c.advance()) out.push_back(c.tile().compute_cycles);
  return out;
}
}  // namespace

TEST_CASE("repeated blocks: totals, iterations and the walk", "[dataflows]") {
  TileSeq row;
  row.append(cycles(1));
  row.append(cycles(2, 3));
  TileSeq gemm;
  gemm.append(cycles(9));
  gemm.append(row, 4);  // a block of two runs, 4 times
  TilePlan plan;
  plan.append(gemm, 2);  // the whole, twice: a block around a block
  REQUIRE(plan.tiles.size() == 3);
  REQUIRE(plan.repeats.size() == 2);
  CHECK(plan.repeats[0] == Repeat{0, 3, 2});
  CHECK(plan.repeats[1] == Repeat{1, 3, 4});
  CHECK(plan.multiplicities() == std::vector<u64>{2, 8, 8});
  CHECK(plan.iteration_tiles(0) == 1 + 4 * 4);
  CHECK(plan.iteration_tiles(1) == 4);
  CHECK(plan.tile_count() == 2 * 17);
  CHECK(plan.compute_cycles() == 2 * (9 + 4 * 7));
  const std::vector<u64> one_gemm = {9, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2};
  std::vector<u64> both = one_gemm;
  both.insert(both.end(), one_gemm.begin(), one_gemm.end());
  CHECK(walk(plan) == both);

  // A single run repeated is a longer run; a run appended after a block starts a new run even
  // when equal to the block's last.
  TileSeq s;
  s.append(TileSeq{{cycles(5, 2)}, {}}, 3);
  CHECK(s.tiles.size() == 1);
  CHECK(s.tiles[0].count == 6);
  s.append(row, 2);
  s.append(cycles(2));
  CHECK(s.tiles.size() == 4);
  CHECK(walk(s) == std::vector<u64>{5, 5, 5, 5, 5, 5, 1, 2, 2, 2, 1, 2, 2, 2, 2});
  // A body that is one block already multiplies its times.
  TileSeq blocks;
  blocks.append(row, 3);
  TileSeq outer;
  outer.append(blocks, 5);
  CHECK(outer.repeats == std::vector<Repeat>{{0, 2, 15}});
}

TEST_CASE("the cursor reports the frames it restarts and enters", "[dataflows]") {
  TileSeq row;
  row.append(cycles(1));
  row.append(cycles(2));
  TileSeq s;
  s.append(row, 3);
  TileCursor c(s);
  REQUIRE(c.frames().size() == 1);
  CHECK(c.frames()[0] == TileCursor::Frame{0, 0});
  auto step = c.advance();
  CHECK(step.restarted == TileCursor::kNone);
  step = c.advance();  // back to the block's first run: iteration 1
  CHECK(step.restarted == 0);
  CHECK(c.frames()[0].iteration == 1);
  c.skip(0, 1);  // to the third iteration, same place
  CHECK(c.frames()[0].iteration == 2);
  c.advance();
  c.advance();
  CHECK(c.done());
}

TEST_CASE("peeling the first and last tiles keeps what a sequence executes", "[dataflows]") {
  TileSeq row;
  row.append(cycles(1, 2));
  row.append(cycles(2));
  TileSeq gemm;
  gemm.append(row, 3);
  gemm.append(cycles(7, 4));
  TileSeq s;
  s.append(gemm, 5);
  const std::vector<u64> before = walk(s);
  TileSeq p = s;
  peel_first(p);
  CHECK(walk(p) == before);
  CHECK(p.tiles[0].count == 1);
  CHECK(std::none_of(p.repeats.begin(), p.repeats.end(), [](const Repeat& r) { return r.begin == 0; }));
  peel_last(p);
  CHECK(walk(p) == before);
  CHECK(p.tiles.back().count == 1);
  CHECK(std::none_of(p.repeats.begin(), p.repeats.end(),
                     [&](const Repeat& r) { return r.end == p.tiles.size(); }));
  // Fill and drain land on the first and last tiles only.
  add_fill_drain(s, 100, 1000);
  std::vector<u64> paid = before;
  paid.front() += 100;
  paid.back() += 1000;
  CHECK(walk(s) == paid);
  CHECK(s.tiles.size() < 20);
}

TEST_CASE("tile plan totals that do not fit in 64 bits are errors, never wrapped",
          "[dataflows][overflow]") {
  using Catch::Matchers::Contains;
  using tessera::CountOverflow;
  TilePlan plan;
  const std::size_t in = plan.port(port::input);
  Tile t;
  t.compute_cycles = u64{1} << 40;
  t.busy_units = u64{1} << 16;
  t.bytes[in] = u64{1} << 30;
  t.count = u64{1} << 20;
  plan.tiles = {t};
  // 2^60 cycles and 2^50 bytes fit; 2^76 busy unit-cycles do not.
  CHECK(plan.compute_cycles() == u64{1} << 60);
  CHECK(plan.port_bytes(in) == u64{1} << 50);
  CHECK_THROWS_AS(plan.busy_unit_cycles(), CountOverflow);
  // A block repeated 2^10 times: 2^70 cycles, 2^60 bytes, 2^30 tiles.
  TilePlan repeated = plan;
  repeated.tiles.push_back(t);
  repeated.tiles.back().bytes[in] = 1;  // a second run, so the block is a block
  repeated.repeats = {{0, 2, u64{1} << 10}};
  CHECK(repeated.tile_count() == u64{1} << 31);
  CHECK_THROWS_WITH(repeated.compute_cycles(),
                    Contains("compute cycle count does not fit in 64 bits"));
  // Appending a body more times than a count holds.
  TileSeq seq;
  seq.append(TileSeq{{t}, {}}, u64{1} << 43);  // one run of 2^63 tiles
  CHECK_THROWS_AS(seq.append(TileSeq{{t}, {}}, u64{1} << 43), CountOverflow);
  CHECK_THROWS_AS(seq.append(TileSeq{{t}, {}}, u64{1} << 44), CountOverflow);
  // append_split of a total near 2^64: equal parts of ceil(total / n), no wrap in the rounding.
  TileSeq split;
  Tile big;
  big.compute_cycles = ~u64{0} - 1;
  append_split(split, big, 3);
  REQUIRE(split.tiles.size() == 2);
  CHECK(split.tiles[0].compute_cycles == ~u64{0} / 3);  // ceil((2^64 - 2) / 3)
  CHECK(split.tiles[0].count == 2);
  CHECK(split.tiles[0].compute_cycles * 2 + split.tiles[1].compute_cycles == ~u64{0} - 1);
}
