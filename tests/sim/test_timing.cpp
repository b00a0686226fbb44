// Timing of tile plans at both fidelities: hand-worked schedules, the physical bounds, exact
// agreement of the analytical recurrence with the SystemC executor on random plans, latency
// hidden by deep buffering, several compute units sharing memory, and the ideal roofline.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "arch/config.hpp"
#include "arch/ideal/ideal.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "sim/plan_support.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;
using dataflows::Direction;
using dataflows::Tile;
using dataflows::TilePlan;

namespace {

using test::memory;
using test::plan3;
using test::tile;

sim::LayerTiming systemc_one(const TilePlan& p, const arch::MemorySystem& m) {
  return sim::systemc::simulate_tile_plans({&p}, m).front();
}

// The plan with its blocks expanded and every tile its own run.
TilePlan expanded(const TilePlan& p) {
  TilePlan out = p;
  out.tiles.clear();
  out.repeats.clear();
  for (dataflows::TileCursor c(p); !c.done(); c.advance()) {
    Tile one = c.tile();
    one.count = 1;
    out.tiles.push_back(one);
  }
  return out;
}

// Random tiles as a sequence with up to `depth` levels of repeated blocks.
dataflows::TileSeq random_seq(std::mt19937_64& rng, int depth) {
  auto pick = [&](arch::u64 lo, arch::u64 hi) {
    return std::uniform_int_distribution<arch::u64>(lo, hi)(rng);
  };
  dataflows::TileSeq s;
  const int parts = static_cast<int>(pick(1, 4));
  for (int k = 0; k < parts; ++k) {
    if (depth > 0 && pick(0, 2) == 0)
      s.append(random_seq(rng, depth - 1), pick(1, 12));
    else
      s.append(tile(pick(0, 300), pick(0, 2000), pick(0, 1) * pick(0, 2000), pick(0, 1500),
                    pick(1, 30)));
  }
  return s;
}

}  // namespace

TEST_CASE("streaming tiles take max(compute, transfers + latency) each", "[sim][timing]") {
  TilePlan p = plan3(dataflows::kStreaming);
  p.tiles = {tile(100, 400, 400, 0), tile(100, 80, 0, 80, 3)};
  const auto m = memory(8, 5);
  // Tile 1: 800 B / 8 = 100 cycles + 5 latency = 105 > 100. Tiles 2-4: 160 / 8 = 20 + 5 < 100.
  const auto t = sim::time_layer(p, m);
  CHECK(t.cycles == 105 + 3 * 100);
  CHECK(t.compute_cycles == 400);
  CHECK(t.stall_cycles == 5);
  CHECK(systemc_one(p, m) == t);
}

TEST_CASE("buffered schedule worked by hand", "[sim][timing]") {
  // Double buffering, one channel of 1 B/cycle, latency 10. Three tiles: compute 50, read 20 B,
  // write 30 B.
  //   reads of tiles 0 and 1 issued at 0: channel [0,20) lands 30, [20,40) lands 50.
  //   tile 0 computes [30,80); at 80 its write [80,110) lands 120, tile 2's read [110,130)
  //   lands 140. tile 1 computes [80,130) (its reads landed at 50); at 130 its write [130,160)
  //   lands 170. tile 2 needs its read (140) and tile 0's write (120): computes [140,190); its
  //   write [190,220) lands 230, the layer's end.
  TilePlan p = plan3(dataflows::kDoubleBuffered);
  p.tiles = {tile(50, 20, 0, 30, 3)};
  const auto m = memory(1, 10);
  const auto t = sim::time_layer(p, m);
  CHECK(t.cycles == 230);
  CHECK(t.compute_cycles == 150);
  CHECK(systemc_one(p, m) == t);
  // One input buffer: tile j's reads wait for tile j-1 to finish.
  p.buffering.input = 1;
  CHECK(sim::time_layer(p, m) == systemc_one(p, m));
  CHECK(sim::time_layer(p, m).cycles > 230);
}

TEST_CASE("analytical and SystemC agree exactly on random plans", "[sim][timing][systemc]") {
  std::mt19937_64 rng(20261201);
  auto pick = [&](arch::u64 lo, arch::u64 hi) {
    return std::uniform_int_distribution<arch::u64>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 150; ++trial) {
    const std::size_t channels = pick(1, 3);
    auto m = memory(static_cast<double>(pick(1, 64)) / 4.0, pick(0, 300), channels);
    m.channels[0].outstanding = pick(1, 64);
    TilePlan p = plan3({static_cast<unsigned>(pick(1, 6)), static_cast<unsigned>(pick(1, 6)),
                        pick(0, 5) == 0},
                       {pick(0, channels - 1), pick(0, channels - 1), pick(0, channels - 1)});
    const int runs = static_cast<int>(pick(1, 6));
    for (int r = 0; r < runs; ++r)
      dataflows::append_tile(p.tiles, tile(pick(0, 400), pick(0, 3000), pick(0, 1) * pick(0, 3000),
                                           pick(0, 2000), pick(1, 40)));
    INFO("trial " << trial);
    const auto a = sim::time_layer(p, m);
    CHECK(a == systemc_one(p, m));
    // Run-length encoding changes nothing: the same tiles one by one.
    TilePlan expanded = p;
    expanded.tiles.clear();
    for (const Tile& t : p.tiles)
      for (arch::u64 k = 0; k < t.count; ++k) {
        Tile one = t;
        one.count = 1;
        expanded.tiles.push_back(one);
      }
    CHECK(sim::time_layer(expanded, m) == a);
    // The bounds: compute, and each channel's occupancy plus one latency.
    CHECK(a.cycles >= a.compute_cycles);
    std::array<arch::u64, 8> bytes{};
    for (std::size_t port = 0; port < 3; ++port) bytes[p.ports[port].channel] += p.port_bytes(port);
    for (std::size_t c = 0; c < channels; ++c)
      if (bytes[c]) CHECK(a.cycles >= m.channels[c].occupancy(bytes[c]) + m.channels[c].latency_cycles);
  }
}

TEST_CASE("repeated blocks time as their expansion, at both fidelities", "[sim][timing][systemc]") {
  std::mt19937_64 rng(20261202);
  auto pick = [&](arch::u64 lo, arch::u64 hi) {
    return std::uniform_int_distribution<arch::u64>(lo, hi)(rng);
  };
  int with_blocks = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t channels = pick(1, 2);
    auto m = memory(static_cast<double>(pick(1, 64)) / 4.0, pick(0, 300), channels);
    TilePlan p = plan3({static_cast<unsigned>(pick(1, 6)), static_cast<unsigned>(pick(1, 6)),
                        pick(0, 5) == 0},
                       {pick(0, channels - 1), pick(0, channels - 1), pick(0, channels - 1)});
    static_cast<dataflows::TileSeq&>(p) = random_seq(rng, 3);
    if (pick(0, 1)) dataflows::add_fill_drain(p, pick(0, 50), pick(0, 80));
    with_blocks += !p.repeats.empty();
    INFO("trial " << trial << ", " << p.tiles.size() << " runs, " << p.repeats.size() << " blocks");
    const TilePlan flat = expanded(p);
    REQUIRE(flat.tile_count() == p.tile_count());
    CHECK(flat.compute_cycles() == p.compute_cycles());
    CHECK(flat.port_bytes(std::size_t{0}) == p.port_bytes(std::size_t{0}));
    CHECK(flat.write_bytes() == p.write_bytes());
    const auto a = sim::time_layer(p, m);
    CHECK(a == sim::time_layer(flat, m));
    CHECK(a == systemc_one(p, m));
  }
  CHECK(with_blocks > 100);
}

TEST_CASE("a block repeated a trillion times is timed in closed form", "[sim][timing]") {
  // Rows of 3 folds (first, middle x 5, last), 2^20 rows, 2^20 GEMMs: 7.7e12 tiles.
  TilePlan p = plan3(dataflows::kDoubleBuffered);
  dataflows::TileSeq row, gemm;
  row.append(tile(40, 900, 0, 0));
  row.append(tile(40, 0, 100, 0, 5));
  row.append(tile(40, 0, 100, 400));
  gemm.append(row, 1 << 20);
  p.append(gemm, 1 << 20);
  dataflows::add_fill_drain(p, 16, 30);
  REQUIRE(p.tile_count() == (arch::u64{7} << 40));
  CHECK(p.tiles.size() < 20);
  // The expansion of a smaller copy agrees, so the skipped iterations are exact.
  TilePlan small = plan3(dataflows::kDoubleBuffered);
  dataflows::TileSeq small_gemm;
  small_gemm.append(row, 40);
  small.append(small_gemm, 6);
  dataflows::add_fill_drain(small, 16, 30);
  for (const auto& m : {memory(8, 0), memory(8, 150), memory(64, 20)}) {
    CHECK(sim::time_layer(small, m) == sim::time_layer(expanded(small), m));
    const auto t = sim::time_layer(p, m);
    CHECK(t.compute_cycles == p.compute_cycles());
    CHECK(t.cycles >= t.compute_cycles);
    CHECK(t.cycles >= m.channels[0].occupancy(p.read_bytes() + p.write_bytes()));
  }
}

TEST_CASE("latency-bound runs compute in bursts and are still extrapolated", "[sim][timing]") {
  // 16 reads in flight against 1000 cycles of latency: tiles compute in bursts of about 16, so
  // the schedule repeats every 16 tiles, not every tile or two.
  TilePlan p = plan3({16, 16, false});
  p.tiles = {tile(10, 64, 0, 16, 50'000)};
  const auto m = memory(16, 1000);
  const auto walked = sim::time_layer(expanded(p), m);  // runs of one tile: nothing to skip
  CHECK(sim::time_layer(p, m) == walked);
  CHECK(walked.cycles > 50'000 * 1000 / 16);
  p.tiles[0].count = arch::u64{1} << 40;  // would take hours walked
  CHECK(sim::time_layer(p, m).cycles > (arch::u64{1} << 40) * 1000 / 16);
}

TEST_CASE("long runs of identical tiles are extrapolated, not walked", "[sim][timing]") {
  TilePlan p = plan3(dataflows::kDoubleBuffered);
  p.tiles = {tile(100, 300, 0, 50, 1'000'000'000)};  // a billion tiles
  // 350 B per tile at 4 B/cycle = 87.5 cycles < 100: compute-bound after the first fill.
  auto t = sim::time_layer(p, memory(4, 0));
  CHECK(t.compute_cycles == 100'000'000'000);
  CHECK(t.cycles >= t.compute_cycles);
  CHECK(t.cycles < t.compute_cycles + 1000);
  // With 200 cycles of latency two buffers cannot cover it (a read issued when a tile finishes
  // must land within the next tile's 100 cycles); four can.
  t = sim::time_layer(p, memory(4, 200));
  CHECK(t.cycles > t.compute_cycles * 3 / 2);
  p.buffering.input = 4;
  t = sim::time_layer(p, memory(4, 200));
  CHECK(t.cycles < t.compute_cycles + 1000);
}

TEST_CASE("deep input buffering hides DRAM latency when bandwidth allows", "[sim][timing]") {
  // A layer that needs a third of the bandwidth: 64-cycle tiles reading 340 B at 16 B/cycle.
  TilePlan p = plan3(dataflows::kDoubleBuffered);
  p.tiles = {tile(64, 340, 0, 0, 1000)};
  for (arch::u64 latency : {100, 400}) {
    const auto m = memory(16, latency);
    p.buffering.input = 2;
    const auto shallow = sim::time_layer(p, m);
    p.buffering.input = 16;
    const auto deep = sim::time_layer(p, m);
    INFO("latency " << latency);
    CHECK(shallow.cycles > deep.cycles);
    // Deep: within one tile's fill and the latency of the compute bound.
    CHECK(deep.cycles <= 64'000 + 64 + latency + 340 / 16 + 1);
    CHECK(deep == systemc_one(p, m));
  }
}

TEST_CASE("a DMA with few requests in flight cannot cover the latency", "[sim][timing]") {
  arch::MemoryChannel c;
  c.bytes_per_cycle = 32;
  c.latency_cycles = 400;
  c.outstanding = 16;
  c.burst_bytes = 64;
  // 16 x 64 B in flight over 400 + 2 cycles: 2.55 B/cycle, far below 32.
  CHECK(c.rate() == Approx(1024.0 / 402.0));
  c.outstanding = 1024;
  CHECK(c.rate() == 32);
  c.latency_cycles = 0;
  c.outstanding = 1;
  CHECK(c.rate() == 32);  // one request per burst time keeps up without latency
}

TEST_CASE("several compute units share the memory channels", "[sim][systemc][executor]") {
  const auto m = memory(8, 20);
  // Memory-bound: 10 tiles of 800 B at 8 B/cycle = 1000 cycles of transfers, 100 of compute.
  TilePlan memory_bound = plan3(dataflows::kDoubleBuffered);
  memory_bound.tiles = {tile(10, 800, 0, 0, 10)};
  TilePlan compute_bound = plan3(dataflows::kDoubleBuffered);
  compute_bound.tiles = {tile(1000, 8, 0, 0, 10)};
  // 1 GHz everywhere: a cycle is a nanosecond.
  const auto spec = [&](std::size_t units) {
    return sim::ExecutorSpec{std::vector<sim::UnitSpec>(units, sim::UnitSpec{"test", 1e9}), m, 1e9};
  };
  const auto cycle = [](double s) { return static_cast<arch::u64>(std::llround(s * 1e9)); };
  for (const TilePlan* p : {&memory_bound, &compute_bound}) {
    const auto alone = systemc_one(*p, m).cycles;
    auto exec = sim::systemc::make_executor(spec(2));
    exec->submit(0, *p, 0);
    exec->submit(1, *p, 1);
    const auto done = exec->run_to_completion();
    REQUIRE(done.size() == 2);
    const auto end = cycle(std::max(done[0].end_s, done[1].end_s));
    if (p == &memory_bound) {
      CHECK(end >= 2 * 1000);  // one channel: the transfers of both add up
      CHECK(end <= 2 * alone);
    } else {
      CHECK(end <= alone + 10);  // compute overlaps; only the first reads contend
    }
  }
  // Work arriving while time runs: a job submitted at cycle 20000 starts then.
  auto exec = sim::systemc::make_executor(spec(1));
  exec->submit(0, compute_bound, 7);
  auto first = exec->run_until(5000e-9);
  REQUIRE(first.empty());  // still running (10,000 compute cycles)
  first = exec->run_until(20000e-9);
  REQUIRE(first.size() == 1);
  CHECK(cycle(exec->now()) == 20000);
  exec->submit(0, compute_bound, 8);
  const auto second = exec->run_to_completion();
  REQUIRE(second.size() == 1);
  CHECK(second[0].id == 8);
  CHECK(cycle(second[0].start_s) == 20000);
  CHECK(second[0].timing.cycles == first[0].timing.cycles);
}

TEST_CASE("one process runs many SystemC simulations with identical results", "[sim][systemc]") {
  const auto g = test::conv_relu_graph();
  arch::IdealParams p;
  p.peak_macs_per_cycle = 256;
  p.common.memory = memory(16, 20);
  const arch::IdealEngine e(p);
  const auto first = sim::simulate(e, g, "systemc");
  for (int i = 0; i < 20; ++i) {
    const auto again = sim::simulate(e, g, "systemc");
    REQUIRE(again.size() == first.size());
    for (std::size_t l = 0; l < first.size(); ++l) CHECK(again[l].timing == first[l].timing);
  }
  const auto analytical = sim::simulate(e, g, "analytical");
  for (std::size_t l = 0; l < first.size(); ++l) CHECK(first[l].timing == analytical[l].timing);
}

TEST_CASE("a SystemC trace shows every tile's compute and transfers", "[sim][systemc][trace]") {
  nlohmann::json cfg = {{"engine", "systolic"},
                        {"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", "os"}}},
                        {"dram", {{"bandwidth", 4}, {"latency_cycles", 10}}},
                        {"fusion", false}};
  const auto arch = arch::build_arch({"t.json", cfg});
  const auto graph = test::conv_relu_graph();
  sim::Trace trace;
  const auto layers = sim::simulate(*arch.engine, graph, "systemc", &trace);
  std::uint64_t compute = 0, end = 0, reads = 0;
  for (const auto& s : trace.spans) {
    if (s.track == "compute") compute += s.end_cycle - s.start_cycle;
    if (s.track.rfind("dram", 0) == 0 && !s.write) reads += s.bytes;
    end = std::max(end, s.end_cycle + s.latency);
  }
  CHECK(compute == layers[0].timing.compute_cycles + layers[1].timing.compute_cycles);
  CHECK(end == layers[0].timing.cycles + layers[1].timing.cycles);
  arch::u64 expected_reads = 0;
  for (const auto& l : layers)
    for (const auto& [level, a] : l.accesses)
      if (level.rfind("dram", 0) == 0) expected_reads += a.read_bytes;
  CHECK(reads == expected_reads);
  const auto json = nlohmann::json::parse(sim::chrome_trace(trace, {"conv \"3x3\"", "relu"}, 1e9));
  const auto& events = json.at("traceEvents");
  REQUIRE(events.size() > trace.spans.size());  // plus track names
  CHECK(events.back().at("ph") == "X");
  CHECK(events.back().at("args").at("layer") == "relu");
  const auto first_slice = std::find_if(events.begin(), events.end(),
                                        [](const auto& e) { return e.at("ph") == "X"; });
  REQUIRE(first_slice != events.end());
  CHECK(first_slice->at("args").at("layer") == "conv \"3x3\"");  // names escaped
  CHECK_FALSE(json.contains("otherData"));

  // A trace keeps its first `limit` spans and counts the rest.
  sim::Trace short_trace;
  short_trace.limit = 40;
  sim::simulate(*arch.engine, graph, "systemc", &short_trace);
  REQUIRE(trace.spans.size() > 40);
  CHECK(short_trace.spans.size() == 40);
  CHECK(short_trace.dropped == trace.spans.size() - 40);
  const auto cut = nlohmann::json::parse(sim::chrome_trace(short_trace, {"conv", "relu"}, 1e9));
  CHECK(cut.at("otherData").at("dropped_spans") == short_trace.dropped);
  CHECK(cut.at("traceEvents").size() < events.size());
}

TEST_CASE("listed channels of different widths time alike at both fidelities",
          "[sim][timing][systemc]") {
  // A narrow, high-latency port for activations and a wide one with a shallow DMA for the rest:
  // every layer's plan is split over both, and each channel runs at its own sustained rate.
  const std::string list =
      R"(dram.channels=[{"name": "narrow", "bandwidth": 3, "latency_cycles": 120,
                         "ports": ["input", "epilogue_in"]},
                        {"name": "wide", "bandwidth": 48, "latency_cycles": 50, "outstanding": 16,
                         "ports": ["weight", "output", "psum_in", "psum_out"]}])";
  const auto g = workloads::load_workload(test::source_path("configs/workloads/lenet5.json"));
  for (const char* config : {"configs/arch/systolic_edge_32x32.json", "configs/arch/ideal_edge.json",
                             "configs/arch/eyeriss.json"}) {
    INFO(config);
    const auto listed = arch::load_arch(test::source_path(config), {list});
    const auto& memory = listed.engine->memory();
    REQUIRE(memory.channels.size() == 2);
    CHECK(memory.channels[1].rate() < 20);  // 16 x 64 B in flight cannot cover 50 cycles
    const auto a = sim::simulate(*listed.engine, g, "analytical");
    const auto s = sim::simulate(*listed.engine, g, "systemc");
    const auto shared = sim::simulate(*arch::load_arch(test::source_path(config)).engine, g,
                                      "analytical");
    REQUIRE(a.size() == s.size());
    arch::u64 listed_cycles = 0, shared_cycles = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      INFO(a[i].name);
      CHECK(a[i].timing == s[i].timing);
      CHECK(a[i].timing.cycles >= a[i].roofline_cycles);
      listed_cycles += a[i].timing.cycles;
      shared_cycles += shared[i].timing.cycles;
    }
    CHECK(listed_cycles != shared_cycles);  // the list is what was timed
  }
}

TEST_CASE("ideal engine: hand-computed cycles and the roofline", "[sim][ideal]") {
  const auto g = test::conv_relu_graph();
  arch::IdealParams p;
  p.peak_macs_per_cycle = 256;
  p.common.memory = memory(16, 0);
  p.common.fusion = false;
  const arch::IdealEngine e(p);
  const auto layers = sim::simulate(e, g, "analytical");
  REQUIRE(layers.size() == 2);
  // conv: compute 115,605,504 / 256 = 451,584 cycles > memory (200,704 + 36,864 + 200,704) / 16.
  CHECK(layers[0].timing.cycles == 451584);
  CHECK(layers[0].roofline_cycles == 451584);
  // relu: 200,704 compares on 64 lanes = 3,136 cycles < memory 401,408 B / 16 = 25,088.
  CHECK(layers[1].timing.compute_cycles == 3136);
  CHECK(layers[1].timing.cycles == 25088);
  // Fused, the ReLU runs on the convolution's output path: no cycles of its own.
  p.common.fusion = true;
  const auto fused = sim::simulate(arch::IdealEngine(p), g, "analytical");
  CHECK(fused[1].fused_into == "conv");
  CHECK(fused[1].timing.cycles == 0);
  CHECK(fused[0].fused == std::vector<std::string>{"relu"});
  CHECK(fused[0].timing.cycles == 451584);
  CHECK(fused[0].energy.at("vector") > 0);
}
