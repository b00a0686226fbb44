// The SystemC fidelity: agreement with the analytical model on the same tile plans, and many
// simulations in one process (kernel reset).
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/ideal/ideal.hpp"
#include "sim/analytical.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;

TEST_CASE("SystemC and analytical agree tile by tile on streaming plans", "[sim][systemc]") {
  dataflows::TilePlan compute_bound, memory_bound, mixed;
  compute_bound.tiles = {
      {.compute_cycles = 1000, .read_bytes = {64, 0, 0}, .write_bytes = 64, .count = 4}};
  memory_bound.tiles = {
      {.compute_cycles = 3, .read_bytes = {4096, 0, 0}, .write_bytes = 100, .count = 2}};
  mixed.tiles = {{.compute_cycles = 50, .read_bytes = {0, 0, 0}, .write_bytes = 0, .count = 1},
                 {.compute_cycles = 0, .read_bytes = {7, 0, 0}, .write_bytes = 0, .count = 3},
                 {.compute_cycles = 77, .read_bytes = {300, 0, 0}, .write_bytes = 900, .count = 5}};
  for (arch::DramParams dram : {arch::DramParams{16, 0}, arch::DramParams{3.5, 40}}) {
    const auto timings =
        sim::systemc::simulate_tile_plans({&compute_bound, &memory_bound, &mixed}, dram);
    REQUIRE(timings.size() == 3);
    CHECK(timings[0] == sim::time_analytical(compute_bound, dram));
    CHECK(timings[1] == sim::time_analytical(memory_bound, dram));
    CHECK(timings[2] == sim::time_analytical(mixed, dram));
  }
}

TEST_CASE("one process runs many SystemC simulations with identical results", "[sim][systemc]") {
  const auto g = test::conv_relu_graph();
  arch::IdealParams p;
  p.peak_macs_per_cycle = 256;
  p.dram = {16, 20};
  const arch::IdealEngine e(p);
  const auto first = sim::simulate(e, g, sim::Fidelity::systemc);
  for (int i = 0; i < 20; ++i) {
    const auto again = sim::simulate(e, g, sim::Fidelity::systemc);
    REQUIRE(again.size() == first.size());
    for (std::size_t l = 0; l < first.size(); ++l) CHECK(again[l].timing == first[l].timing);
  }
  const auto analytical = sim::simulate(e, g, sim::Fidelity::analytical);
  for (std::size_t l = 0; l < first.size(); ++l) CHECK(first[l].timing == analytical[l].timing);
}

TEST_CASE("an empty plan list simulates to nothing", "[sim][systemc]") {
  CHECK(sim::systemc::simulate_tile_plans({}, arch::DramParams{}).empty());
}

namespace {

// Plans of random tiles whose compute covers every transfer that can run under it (reads of
// the next tile, also across layers, plus writes of the previous), so no tile ever waits.
std::vector<dataflows::TilePlan> compute_bound_plans(unsigned seed, const arch::DramParams& dram) {
  std::uint64_t state = seed * 2654435761u + 1;
  auto rnd = [&](std::uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  std::vector<dataflows::TilePlan> plans(4);
  for (auto& p : plans) {
    p.overlap = dataflows::Overlap::double_buffered;
    for (std::uint64_t g = 0, groups = 1 + rnd(4); g < groups; ++g) {
      dataflows::Tile t;
      t.read_bytes = {rnd(4000), rnd(4000), rnd(2) * rnd(500)};
      t.write_bytes = rnd(3000);
      t.count = 1 + rnd(5);
      p.tiles.push_back(t);
    }
  }
  // Largest transfer of any tile on any channel; compute covers twice that plus the latency.
  sim::u64 worst = 0;
  for (const auto& p : plans)
    for (const auto& t : p.tiles) {
      const auto c = sim::channel_cycles(t, dram);
      for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch)
        worst = std::max({worst, c.reads[ch], c.writes[ch]});
    }
  for (auto& p : plans)
    for (auto& t : p.tiles) t.compute_cycles = 2 * worst + dram.latency_cycles + rnd(100);
  return plans;
}

}  // namespace

TEST_CASE("double-buffered: both fidelities agree on compute-bound layers", "[sim][systemc]") {
  for (const arch::DramParams dram : {arch::DramParams{8, 0, false}, arch::DramParams{8, 30, true},
                                      arch::DramParams{2.5, 7, true}}) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
      const auto plans = compute_bound_plans(seed, dram);
      std::vector<const dataflows::TilePlan*> ptrs;
      for (const auto& p : plans) ptrs.push_back(&p);
      const auto sc = sim::systemc::simulate_tile_plans(ptrs, dram);
      REQUIRE(sc.size() == plans.size());
      const auto an = sim::time_analytical(ptrs, dram);
      for (std::size_t l = 0; l < plans.size(); ++l) {
        INFO("seed " << seed << " layer " << l << " channels " << dram.channels());
        CHECK(sc[l] == an[l]);
      }
    }
  }
}

TEST_CASE("double-buffered: bandwidth-bound runs respect compute and channel bounds",
          "[sim][systemc]") {
  dataflows::TilePlan a, b;
  a.overlap = b.overlap = dataflows::Overlap::double_buffered;
  a.tiles = {{.compute_cycles = 10, .read_bytes = {800, 400, 0}, .write_bytes = 50, .count = 6}};
  b.tiles = {{.compute_cycles = 300, .read_bytes = {100, 100, 0}, .write_bytes = 100, .count = 2},
             {.compute_cycles = 1, .read_bytes = {0, 2000, 0}, .write_bytes = 0, .count = 1}};
  const arch::DramParams dram{8, 20, true};
  const auto sc = sim::systemc::simulate_tile_plans({&a, &b}, dram);
  sim::u64 total = 0, compute = 0;
  for (const auto& t : sc) total += t.cycles, compute += t.compute_cycles;
  CHECK(compute == 6 * 10 + 2 * 300 + 1);
  // The filter channel alone must carry 6 x 400 + 2 x 100 + 2000 bytes at 8 B/cycle, the last
  // landing a latency later: a lower bound on the whole run.
  CHECK(total >= 6 * 50 + 2 * 13 + 250 + 20);
}

TEST_CASE("systolic native: fidelities agree when DRAM never stalls, differ where it does",
          "[sim][systemc][systolic]") {
  const auto graph =
      workloads::load_workload(test::source_path("configs/workloads/resnet18_scalesim.csv"));
  nlohmann::json cfg = {{"engine", "systolic"},
                        {"systolic", {{"rows", 32}, {"cols", 32}, {"dataflow", "ws"}}},
                        {"sram", {{"ifmap", "1 MiB"}, {"filter", "1 MiB"}, {"ofmap", "1 MiB"}}},
                        {"dram", {{"bandwidth", "unlimited"}}}};
  const auto fast = arch::build_arch({"fast.json", cfg});
  const auto a = sim::simulate(*fast.engine, graph, sim::Fidelity::analytical);
  const auto s = sim::simulate(*fast.engine, graph, sim::Fidelity::systemc);
  REQUIRE(a.size() == s.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].name);
    CHECK(a[i].timing == s[i].timing);
    CHECK(a[i].timing.stall_cycles == 0);
  }
  // At 1 byte/cycle the layers are bandwidth-bound: the SystemC run overlaps each layer's first
  // reads with the previous layer, which the analytical model assumes free, and simulates the
  // channel contention the closed form approximates. Both still do the same work.
  cfg["dram"]["bandwidth"] = 1;
  const auto slow = arch::build_arch({"slow.json", cfg});
  const auto as = sim::simulate(*slow.engine, graph, sim::Fidelity::analytical);
  const auto ss = sim::simulate(*slow.engine, graph, sim::Fidelity::systemc);
  sim::u64 a_total = 0, s_total = 0;
  for (std::size_t i = 0; i < as.size(); ++i) {
    CHECK(as[i].timing.compute_cycles == ss[i].timing.compute_cycles);
    CHECK(as[i].timing.stall_cycles > 0);
    a_total += as[i].timing.cycles;
    s_total += ss[i].timing.cycles;
  }
  INFO("analytical " << a_total << " SystemC " << s_total);
  CHECK(a_total != s_total);
}

TEST_CASE("a SystemC trace shows every tile's compute and transfers", "[sim][systemc][trace]") {
  nlohmann::json cfg = {{"engine", "systolic"},
                        {"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", "os"}}},
                        {"dram", {{"bandwidth", 4}, {"latency_cycles", 10}}}};
  const auto arch = arch::build_arch({"t.json", cfg});
  const auto graph = test::conv_relu_graph();
  sim::Trace trace;
  const auto layers = sim::simulate(*arch.engine, graph, sim::Fidelity::systemc, &trace);
  std::uint64_t compute = 0, end = 0, reads = 0;
  for (const auto& s : trace.spans) {
    if (s.track == "compute") compute += s.end_cycle - s.start_cycle;
    if (s.track.rfind("dram", 0) == 0 && !s.write) reads += s.bytes;
    end = std::max(end, s.end_cycle);
  }
  CHECK(compute == layers[0].timing.compute_cycles + layers[1].timing.compute_cycles);
  CHECK(end == layers[0].timing.cycles + layers[1].timing.cycles);
  CHECK(reads == layers[0].accesses.at("dram.ifmap").read_bytes +
                     layers[0].accesses.at("dram.filter").read_bytes +
                     layers[1].accesses.at("dram.ifmap").read_bytes);
  const auto json = sim::chrome_trace(trace, {"conv", "relu"}, 1e9);
  const auto& events = json.at("traceEvents");
  REQUIRE(events.size() > trace.spans.size());  // plus track names
  const auto& last = events.back();
  CHECK(last.at("ph") == "X");
  CHECK(last.at("pid") == 1);
  CHECK(last.at("dur").get<double>() >= 0);
}

TEST_CASE("double-buffered SystemC schedules, worked by hand", "[sim][systemc]") {
  dataflows::TilePlan plan;
  plan.overlap = dataflows::Overlap::double_buffered;
  // One shared channel, 8 B/cycle: three tiles of 5 compute cycles, reads 20, writes 10.
  // 0-20 R0, 20-40 R1 | compute 20-25 | 25: W0 40-50, R2 50-70 | compute 40-45 | 45: W1 70-80 |
  // compute 70-75 | 75: W2 80-90. The analytical model gives the same 90.
  plan.tiles = {{.compute_cycles = 5, .read_bytes = {160, 0, 0}, .write_bytes = 80, .count = 3}};
  const arch::DramParams shared{.bytes_per_cycle = 8};
  CHECK(sim::systemc::simulate_tile_plans({&plan}, shared).at(0).cycles == 90);
  CHECK(sim::time_analytical(plan, shared).cycles == 90);
  // Per-operand channels, two tiles reading 20 (ifmap) and 10 (filter), writing 10:
  // ifmap 0-20 R0, 20-40 R1; compute 20-25; ofmap 25-35 W0; compute 40-45; 45-55 W1: 55.
  // The analytical model follows the same schedule within a layer.
  plan.tiles = {{.compute_cycles = 5, .read_bytes = {160, 80, 0}, .write_bytes = 80, .count = 2}};
  const arch::DramParams split{
      .bytes_per_cycle = 8, .latency_cycles = 0, .per_operand_channels = true};
  CHECK(sim::systemc::simulate_tile_plans({&plan}, split).at(0).cycles == 55);
  CHECK(sim::time_analytical(plan, split).cycles == 55);
}

TEST_CASE("systolic native keeps an output on chip for the next layer when it fits",
          "[sim][systolic]") {
  // conv (16 -> 16 channels, 28x28, 12,544 B of output) feeding one conv of the same input size.
  workloads::Graph g("chain");
  workloads::Operator a, b, c;
  a.name = "a";
  a.shape = workloads::Conv{.n = 1,
                            .c = 16,
                            .h = 28,
                            .w = 28,
                            .k = 16,
                            .r = 3,
                            .s = 3,
                            .pad_top = 1,
                            .pad_left = 1,
                            .pad_bottom = 1,
                            .pad_right = 1};
  b = a;
  b.name = "b";
  c = a;
  c.name = "c";  // a second consumer of a's output (a branch): nothing kept on chip for it
  const auto na = g.add(a), nb = g.add(b);
  g.connect(na, nb);
  nlohmann::json cfg = {{"engine", "systolic"}, {"systolic", {{"rows", 16}, {"cols", 16}}}};
  auto layers =
      sim::simulate(*arch::build_arch({"c.json", cfg}).engine, g, sim::Fidelity::analytical);
  CHECK(layers[0].accesses.at("dram.ofmap").write_bytes == 0);
  CHECK(layers[1].accesses.at("dram.ifmap").read_bytes == 0);
  CHECK(layers[1].accesses.at("dram.ofmap").write_bytes == 28 * 28 * 16);  // the last layer writes

  // Buffers too small for the 12,544 B output (8 KiB halves): both go through DRAM.
  cfg["sram"] = {{"ifmap", "16 KiB"}, {"ofmap", "16 KiB"}};
  layers = sim::simulate(*arch::build_arch({"c.json", cfg}).engine, g, sim::Fidelity::analytical);
  CHECK(layers[0].accesses.at("dram.ofmap").write_bytes == 28 * 28 * 16);
  CHECK(layers[1].accesses.at("dram.ifmap").read_bytes == 28 * 28 * 16);

  // A branch: a's output is read by two operators, so it must reach DRAM.
  cfg.erase("sram");
  g.connect(na, g.add(c));
  layers = sim::simulate(*arch::build_arch({"c.json", cfg}).engine, g, sim::Fidelity::analytical);
  CHECK(layers[0].accesses.at("dram.ofmap").write_bytes == 28 * 28 * 16);

  // SCALE-Sim mode never keeps anything: SCALE-Sim runs every layer from DRAM.
  cfg["systolic"]["mode"] = "scalesim";
  workloads::Graph chain("chain");
  chain.connect(chain.add(a), chain.add(b));
  layers =
      sim::simulate(*arch::build_arch({"c.json", cfg}).engine, chain, sim::Fidelity::analytical);
  CHECK(layers[1].accesses.at("dram.ifmap").read_bytes > 0);
}

TEST_CASE("layers without tiles take no time at either fidelity", "[sim][systemc]") {
  dataflows::TilePlan work, empty;
  work.overlap = empty.overlap = dataflows::Overlap::double_buffered;
  work.tiles = {{.compute_cycles = 50, .read_bytes = {64, 64, 0}, .write_bytes = 64, .count = 3}};
  const arch::DramParams dram{
      .bytes_per_cycle = 8, .latency_cycles = 10, .per_operand_channels = true};
  const std::vector<const dataflows::TilePlan*> run = {&empty, &work, &empty, &work, &empty};
  const auto sc = sim::systemc::simulate_tile_plans(run, dram);
  const auto an = sim::time_analytical(run, dram);
  for (std::size_t l : {0u, 2u, 4u}) {
    CHECK(sc[l].cycles == 0);
    CHECK(an[l].cycles == 0);
  }
  CHECK(sc[1] == an[1]);  // first reads: 8 + 10; then compute-bound
  CHECK(sc[3] == an[3]);  // ends with the final writes: 8 + 10 after the last compute
  CHECK(an[1].cycles == 18 + 150);
  CHECK(an[3].cycles == 150 + 18);
}
