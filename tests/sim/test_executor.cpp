// The multi-unit executors (sim/executor.hpp): the analytical one against time_layer for one
// unit (exactly), against the SystemC one for several units sharing the memory channels (mean
// and p99 job latency on random scenarios, docs/validation.md), preemption worked by hand at both
// fidelities, and units on their own clocks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include <catch2/catch.hpp>

#include "sim/analytical.hpp"
#include "sim/executor.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "sim/plan_support.hpp"

using namespace tessera;
using dataflows::Direction;
using dataflows::Tile;
using dataflows::TilePlan;

namespace {

using u64 = std::uint64_t;

using test::memory;
using test::plan3;
using test::tile;

sim::ExecutorSpec spec(std::size_t units, const arch::MemorySystem& m) {
  return {std::vector<sim::UnitSpec>(units, sim::UnitSpec{"test", 1e9}), m, 1e9};
}

u64 cycle(double s) { return static_cast<u64>(std::llround(s * 1e9)); }

struct Rng {
  std::mt19937_64 engine;
  u64 operator()(u64 lo, u64 hi) { return std::uniform_int_distribution<u64>(lo, hi)(engine); }
};

// A random layer: 1-5 runs of random tiles, random depths, ports on random channels; the
// balance of compute and transfers spans compute-bound to memory-bound layers.
TilePlan random_layer(Rng& pick, std::size_t channels) {
  TilePlan p = plan3({static_cast<unsigned>(pick(1, 4)), static_cast<unsigned>(pick(1, 4)),
                      pick(0, 7) == 0},
                     {pick(0, channels - 1), pick(0, channels - 1), pick(0, channels - 1)});
  const u64 runs = pick(1, 5);
  for (u64 r = 0; r < runs; ++r)
    dataflows::append_tile(p.tiles, tile(pick(10, 400), pick(0, 3000), pick(0, 1) * pick(0, 3000),
                                         pick(0, 1500), pick(5, 40)));
  return p;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

struct Latencies {
  double mean = 0, p99 = 0;
};

// Jobs (each a list of layers) arriving on their units at the given cycles; latency = end -
// arrival.
struct Arrival {
  u64 cycle;
  std::size_t unit;
  std::vector<const TilePlan*> layers;
};

Latencies run_scenario(sim::PlanExecutor& exec, const std::vector<Arrival>& arrivals) {
  std::vector<double> latency(arrivals.size());
  std::size_t done = 0;
  const auto collect = [&](const std::vector<sim::Completion>& cs) {
    for (const auto& c : cs) {
      latency[c.id] = c.end_s - static_cast<double>(arrivals[c.id].cycle) * 1e-9;
      ++done;
    }
  };
  for (std::size_t j = 0; j < arrivals.size(); ++j) {
    collect(exec.run_until(static_cast<double>(arrivals[j].cycle) * 1e-9));
    exec.submit(arrivals[j].unit, arrivals[j].layers, j);
  }
  collect(exec.run_to_completion());
  REQUIRE(done == arrivals.size());
  Latencies l;
  for (double x : latency) l.mean += x / static_cast<double>(latency.size());
  l.p99 = percentile(latency, 0.99);
  return l;
}

}  // namespace

TEST_CASE("analytical executor: one unit is time_layer exactly", "[sim][executor]") {
  Rng pick{std::mt19937_64(20261207)};
  for (int trial = 0; trial < 60; ++trial) {
    const std::size_t channels = pick(1, 3);
    auto m = memory(static_cast<double>(pick(1, 64)) / 4.0, pick(0, 300), channels);
    m.channels[0].outstanding = pick(1, 64);
    std::vector<TilePlan> layers;
    const u64 n = pick(1, 4);
    for (u64 l = 0; l < n; ++l) layers.push_back(random_layer(pick, channels));
    std::vector<const TilePlan*> job;
    u64 expected = 0, compute = 0;
    for (const auto& l : layers) {
      job.push_back(&l);
      const auto t = sim::time_layer(l, m);
      expected += t.cycles;
      compute += t.compute_cycles;
    }
    INFO("trial " << trial);
    auto exec = sim::make_analytical_executor(spec(1, m));
    const u64 arrival = pick(0, 1000);
    exec->run_until(static_cast<double>(arrival) * 1e-9);
    exec->submit(0, job, 1);
    // Stepping through time on the way changes nothing.
    std::vector<sim::Completion> done;
    for (u64 t = arrival; done.empty() && t < arrival + 2 * expected + 10; t += expected / 3 + 1)
      for (const auto& c : exec->run_until(static_cast<double>(t) * 1e-9)) done.push_back(c);
    for (const auto& c : exec->run_to_completion()) done.push_back(c);
    REQUIRE(done.size() == 1);
    CHECK(cycle(done[0].start_s) == arrival);
    CHECK(cycle(done[0].end_s) == arrival + expected);
    CHECK(done[0].timing.cycles == expected);
    CHECK(done[0].timing.compute_cycles == compute);
    CHECK(done[0].layers_done == n);
    CHECK_FALSE(done[0].preempted);
  }
}

TEST_CASE("analytical executor: stepped beside another unit, a layer alone on its channels is "
          "time_layer exactly",
          "[sim][executor]") {
  // Unit 1 holds every channel with one tile (1 B in, a long compute, 1 B out), so the layers
  // of unit 0 are stepped tile by tile; their transfers never meet unit 1's (its read has
  // landed before they start, its write leaves after they end), so each job still takes
  // time_layer's cycles summed.
  Rng pick{std::mt19937_64(20261210)};
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t channels = pick(1, 3);
    auto m = memory(static_cast<double>(pick(1, 64)) / 4.0, pick(0, 300), channels);
    std::vector<TilePlan> layers;
    const u64 n = pick(1, 4);
    for (u64 l = 0; l < n; ++l) layers.push_back(random_layer(pick, channels));
    std::vector<const TilePlan*> job;
    u64 expected = 0;
    for (const auto& l : layers) {
      job.push_back(&l);
      expected += sim::time_layer(l, m).cycles;
    }
    TilePlan hold = plan3(dataflows::kDoubleBuffered, {0, std::min<std::size_t>(1, channels - 1), channels - 1});
    hold.tiles = {tile(expected + 1000, 1, 1, 1)};
    INFO("trial " << trial);
    auto exec = sim::make_analytical_executor(spec(2, m));
    exec->submit(1, hold, 0);
    exec->run_until(500e-9);  // unit 1's reads have landed (latency at most 300 cycles)
    exec->submit(0, job, 1);
    const auto done = exec->run_to_completion();
    REQUIRE(done.size() == 2);
    CHECK(done[0].id == 1);
    CHECK(cycle(done[0].end_s) == 500 + expected);
    CHECK(done[1].timing.cycles == sim::time_layer(hold, m).cycles);
  }
}

TEST_CASE("executors: two units meet on a channel, worked by hand", "[sim][executor][systemc]") {
  // One channel of 8 B/cycle and 20 cycles of latency; each unit runs one tile: 80 B in (10
  // cycles on the channel), 100 cycles of compute, 80 B out. Alone: 10 + 20 + 100 + 10 + 20 =
  // 160 cycles. Unit 0 starts at 0: its read holds the channel over [0, 10) and lands at 30; it
  // computes over [30, 130); its write holds [130, 140) and lands at 160. Unit 1 starts at 5: its
  // read waits for the channel, holds [10, 20) and lands at 40; it computes over [40, 140); its
  // write holds [140, 150) and lands at 170: a latency of 165, 5 cycles behind unit 0's.
  const auto m = memory(8, 20);
  TilePlan layer = plan3(dataflows::kDoubleBuffered);
  layer.tiles = {tile(100, 80, 0, 80)};
  REQUIRE(sim::time_layer(layer, m).cycles == 160);
  for (const bool systemc : {false, true}) {
    INFO((systemc ? "systemc" : "analytical"));
    auto exec = systemc ? sim::systemc::make_executor(spec(2, m))
                        : sim::make_analytical_executor(spec(2, m));
    exec->submit(0, layer, 0);
    CHECK(exec->run_until(5e-9).empty());
    exec->submit(1, layer, 1);
    CHECK(cycle(*exec->next_completion()) == 160);
    const auto done = exec->run_to_completion();
    REQUIRE(done.size() == 2);
    CHECK(done[0].id == 0);
    CHECK(cycle(done[0].end_s) == 160);
    CHECK(done[1].id == 1);
    CHECK(cycle(done[1].start_s) == 5);
    CHECK(cycle(done[1].end_s) == 170);
    CHECK(done[1].timing.cycles == 165);
    CHECK(done[1].timing.stall_cycles == 65);
  }
}

TEST_CASE("analytical executor: several units against SystemC, mean and p99 latency",
          "[sim][executor][systemc]") {
  // The goal of issue #26: 5 % on both (docs/validation.md, "Several units sharing memory").
  // Both executors serve each channel in issue order; they differ only where transfers of
  // several units are issued in the same cycle (SystemC's order is its kernel's).
  constexpr double kMeanGap = 0.05, kP99Gap = 0.05;
  // Scenarios: 2 to 4 units sharing 1 to 3 channels (4 to 16 B/cycle each, 0 to 200 cycles of
  // latency); per unit a stream of 40 jobs of 1 to 4 random layers, arriving with exponential
  // gaps whose mean is the unit's mean job time alone over `load` (0.3 to 1.2: from mostly idle
  // units to queues building up; sharing the memory makes the units' real load higher).
  Rng pick{std::mt19937_64(20261208)};
  std::exponential_distribution<double> unit_exp(1.0);
  double worst_mean = 0, worst_p99 = 0;
  for (int scenario = 0; scenario < 12; ++scenario) {
    const std::size_t units = pick(2, 4), channels = pick(1, 3);
    const auto m = memory(static_cast<double>(pick(4, 16)), pick(0, 200), channels);
    std::vector<TilePlan> plans;
    plans.reserve(units * 40 * 4);
    std::vector<Arrival> arrivals;
    const double load = 0.3 + static_cast<double>(pick(0, 9)) / 10.0;
    for (std::size_t u = 0; u < units; ++u) {
      std::vector<std::vector<const TilePlan*>> jobs(40);
      double alone = 0;
      for (auto& job : jobs) {
        const u64 n = pick(1, 4);
        for (u64 l = 0; l < n; ++l) {
          plans.push_back(random_layer(pick, channels));
          job.push_back(&plans.back());
          alone += static_cast<double>(sim::time_layer(plans.back(), m).cycles);
        }
      }
      const double gap = alone / 40.0 / load;
      double t = 0;
      for (auto& job : jobs) {
        t += gap * unit_exp(pick.engine);
        arrivals.push_back({static_cast<u64>(t), u, std::move(job)});
      }
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const Arrival& a, const Arrival& b) { return a.cycle < b.cycle; });
    auto a = sim::make_analytical_executor(spec(units, m));
    const Latencies fluid = run_scenario(*a, arrivals);
    auto s = sim::systemc::make_executor(spec(units, m));
    const Latencies tiles = run_scenario(*s, arrivals);
    const double mean_gap = std::abs(fluid.mean - tiles.mean) / tiles.mean;
    const double p99_gap = std::abs(fluid.p99 - tiles.p99) / tiles.p99;
    worst_mean = std::max(worst_mean, mean_gap);
    worst_p99 = std::max(worst_p99, p99_gap);
    INFO("scenario " << scenario << ": " << units << " units, " << channels << " channels, load "
                     << load << "; mean " << fluid.mean * 1e6 << " us vs " << tiles.mean * 1e6
                     << " us, p99 " << fluid.p99 * 1e6 << " us vs " << tiles.p99 * 1e6 << " us");
    CHECK(mean_gap <= kMeanGap);
    CHECK(p99_gap <= kP99Gap);
  }
  std::printf("executors: worst gap over the scenarios: mean %.2f %%, p99 %.2f %%\n",
              100 * worst_mean, 100 * worst_p99);
}

TEST_CASE("executors: preemption at a layer boundary, worked by hand", "[sim][executor][systemc]") {
  const auto m = memory(8, 20);
  // Compute-bound layer: 10 tiles of 1000 cycles, 8 B in and 8 B out each, double buffered.
  // Tile 0's reads land at 1 + 20 = 21, the tiles compute back to back until 10,021, the last
  // write leaves at 10,022 and lands at 10,042: 10,042 cycles.
  TilePlan layer = plan3(dataflows::kDoubleBuffered);
  layer.tiles = {tile(1000, 8, 0, 8, 10)};
  REQUIRE(sim::time_layer(layer, m).cycles == 10042);
  // A job of no transfers on the other unit: 500 cycles, no contention.
  TilePlan quiet = plan3(dataflows::kDoubleBuffered);
  quiet.tiles = {tile(500, 0, 0, 0, 1)};
  for (const bool systemc : {false, true}) {
    INFO((systemc ? "systemc" : "analytical"));
    auto exec = systemc ? sim::systemc::make_executor(spec(2, m))
                        : sim::make_analytical_executor(spec(2, m));
    exec->submit(0, {&layer, &layer, &layer}, 1);
    exec->submit(1, quiet, 2);
    const auto next = exec->next_completion();
    REQUIRE(next);
    CHECK(cycle(*next) == 500);
    auto done = exec->run_until(3000e-9);
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == 2);
    CHECK(cycle(done[0].end_s) == 500);
    CHECK_FALSE(exec->preempt(1));  // idle
    const auto p = exec->preempt(0);
    REQUIRE(p);
    CHECK(p->id == 1);
    CHECK(p->layer == 1);
    CHECK(p->tile == 0);
    CHECK(p->bytes == std::map<std::string, u64>{{"input", 80}, {"weight", 0}, {"output", 80}});
    CHECK_FALSE(exec->preempt(0));  // already stopping
    done = exec->run_to_completion();
    REQUIRE(done.size() == 1);
    CHECK(done[0].preempted);
    CHECK(done[0].layers_done == 1);
    CHECK(cycle(done[0].end_s) == 10042);
    CHECK(done[0].timing.compute_cycles == 10000);
    // Resumed from the layer it stopped before: two more layers from 12,000.
    exec->run_until(12000e-9);
    exec->submit(0, {&layer, &layer}, 3);
    CHECK(cycle(*exec->next_completion()) == 12000 + 2 * 10042);
    done = exec->run_to_completion();
    REQUIRE(done.size() == 1);
    CHECK_FALSE(done[0].preempted);
    CHECK(done[0].layers_done == 2);
    CHECK(cycle(done[0].start_s) == 12000);
    CHECK(cycle(done[0].end_s) == 12000 + 2 * 10042);
    CHECK_FALSE(exec->next_completion());
    // The last layer cannot be preempted: nothing would be left to stop before.
    exec->submit(0, layer, 4);
    exec->run_until(exec->now() + 100e-9);
    CHECK_FALSE(exec->preempt(0));
  }
}

TEST_CASE("executors: preemption at a tile boundary, two requests worked by hand",
          "[sim][executor][systemc]") {
  const auto m = memory(8, 20);
  // Request A: one layer of 10 compute-bound tiles (1000 cycles, 8 B in and 8 B out each,
  // double buffered): 10,042 cycles alone (tile j computes from 21 + 1000 j; the last write
  // leaves at 10,022 and lands 20 cycles later). The first k tiles alone take 1000 k + 42.
  TilePlan layer = plan3(dataflows::kDoubleBuffered);
  layer.tiles = {tile(1000, 8, 0, 8, 10)};
  REQUIRE(sim::time_layer(layer, m).cycles == 10042);
  REQUIRE(sim::time_layer(sim::plan_head(layer, 4), m).cycles == 4042);
  // Request B: the same tiles, 2 of them: 2,042 cycles alone.
  TilePlan urgent = plan3(dataflows::kDoubleBuffered);
  urgent.tiles = {tile(1000, 8, 0, 8, 2)};
  const TilePlan rest = sim::plan_tail(layer, 4);
  REQUIRE(rest.tile_count() == 6);
  REQUIRE(sim::time_layer(rest, m).cycles == 6042);
  for (const bool systemc : {false, true}) {
    INFO((systemc ? "systemc" : "analytical"));
    auto exec = systemc ? sim::systemc::make_executor(spec(1, m))
                        : sim::make_analytical_executor(spec(1, m));
    exec->submit(0, layer, 1);
    // B arrives at 3,500, while A computes its tile 3 (3,021 to 4,021): A stops after it, its
    // write landing at 4,042, having moved tiles 0-3's 32 B in and 32 B out.
    CHECK(exec->run_until(3500e-9).empty());
    const auto p = exec->preempt(0, sim::Boundary::tile);
    REQUIRE(p);
    CHECK(p->id == 1);
    CHECK(p->layer == 0);
    CHECK(p->tile == 4);
    CHECK(p->bytes == std::map<std::string, u64>{{"input", 32}, {"weight", 0}, {"output", 32}});
    CHECK_FALSE(exec->preempt(0, sim::Boundary::tile));  // already stopping
    CHECK_FALSE(exec->preempt(0));
    // B runs next, then the rest of A from tile 4.
    exec->submit(0, urgent, 2);
    exec->submit(0, rest, 3);
    CHECK(cycle(*exec->next_completion()) == 4042);
    auto done = exec->run_to_completion();
    REQUIRE(done.size() == 3);
    CHECK(done[0].id == 1);
    CHECK(done[0].preempted);
    CHECK(done[0].layers_done == 0);
    CHECK(cycle(done[0].end_s) == 4042);
    CHECK(done[0].timing.compute_cycles == 4000);
    // B: 4,042 + 2,042 = 6,084, a latency of 2,584 (waiting for all of A: 8,584).
    CHECK(done[1].id == 2);
    CHECK(cycle(done[1].start_s) == 4042);
    CHECK(cycle(done[1].end_s) == 6084);
    // A's rest: 6 tiles, 6,042 cycles from 6,084: A ends at 12,126, 42 cycles (a refill and a
    // drain) later than 10,042 + B's 2,042.
    CHECK(done[2].id == 3);
    CHECK_FALSE(done[2].preempted);
    CHECK(cycle(done[2].end_s) == 12126);
    CHECK(done[2].timing.compute_cycles == 6000);
    // In its last tile a one-layer job has no boundary left to stop at.
    exec->submit(0, layer, 4);
    exec->run_until(exec->now() + 9500e-9);
    CHECK_FALSE(exec->preempt(0, sim::Boundary::tile));
    exec->run_to_completion();
    // Waiting for its first reads (they land 21 cycles after the start): it stops before tile
    // 0 at once, having done nothing (the reads in flight land, but nothing waits for them).
    exec->submit(0, layer, 5);
    const u64 t5 = cycle(exec->now());
    exec->run_until(exec->now() + 10e-9);
    const auto first = exec->preempt(0, sim::Boundary::tile);
    REQUIRE(first);
    CHECK(first->tile == 0u);
    CHECK(first->bytes == std::map<std::string, u64>{{"input", 0}, {"weight", 0}, {"output", 0}});
    done = exec->run_to_completion();
    REQUIRE(done.size() == 1);
    CHECK(done[0].preempted);
    CHECK(done[0].timing.compute_cycles == 0);
    CHECK(cycle(done[0].end_s) == t5 + 10);
  }
}

TEST_CASE("executors: random preemptions at tile boundaries resume to the whole work",
          "[sim][executor][systemc]") {
  // Random jobs on one unit, preempted at a tile boundary at a random time and resumed from the
  // tile reported: the compute done before and after adds up to the job's, the preempted part's
  // compute is that of the layers before and the tiles before the cut, the cut job takes no less
  // than those layers and tiles alone (reads issued ahead for tiles after the cut still hold the
  // channels), and the two executors agree exactly on where it stops and when both parts end.
  Rng pick{std::mt19937_64(20261209)};
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t channels = pick(1, 3);
    const auto m = memory(static_cast<double>(pick(4, 64)) / 4.0, pick(0, 200), channels);
    std::vector<TilePlan> layers;
    const u64 n = pick(1, 3);
    for (u64 l = 0; l < n; ++l) layers.push_back(random_layer(pick, channels));
    std::vector<const TilePlan*> job;
    u64 alone = 0, compute = 0;
    for (const auto& l : layers) {
      job.push_back(&l);
      alone += sim::time_layer(l, m).cycles;
      compute += l.compute_cycles();
    }
    const u64 at = pick(0, alone);
    // Per fidelity: the tile and layer it stopped at, when the cut part and the resumed part end.
    std::vector<std::array<u64, 4>> seen;
    for (const bool systemc : {false, true}) {
      INFO("trial " << trial << (systemc ? " systemc" : " analytical") << ", preempted at " << at
                    << " of " << alone);
      auto exec = systemc ? sim::systemc::make_executor(spec(1, m))
                          : sim::make_analytical_executor(spec(1, m));
      exec->submit(0, job, 0);
      exec->run_until(static_cast<double>(at) * 1e-9);
      const auto p = exec->preempt(0, sim::Boundary::tile);
      auto done = exec->run_to_completion();
      REQUIRE(done.size() == 1);
      if (!p) {  // done already, or in the last tile of the last layer
        CHECK_FALSE(done[0].preempted);
        CHECK(done[0].timing.compute_cycles == compute);
        seen.push_back({n, 0, cycle(done[0].end_s), 0});
        continue;
      }
      REQUIRE(p->layer < n);
      const TilePlan head = sim::plan_head(layers[p->layer], p->tile);
      u64 before = head.compute_cycles(), before_time = sim::time_layer(head, m).cycles;
      for (std::size_t l = 0; l < p->layer; ++l) {
        before += layers[l].compute_cycles();
        before_time += sim::time_layer(layers[l], m).cycles;
      }
      CHECK(done[0].preempted);
      CHECK(done[0].layers_done == p->layer);
      CHECK(done[0].timing.compute_cycles == before);
      CHECK(done[0].timing.cycles >= before_time);
      const u64 cut_end = cycle(done[0].end_s);
      // Resumed: the tail of the cut layer and the layers after it.
      const TilePlan tail = sim::plan_tail(layers[p->layer], p->tile);
      std::vector<const TilePlan*> rest{&tail};
      for (std::size_t l = p->layer + 1; l < n; ++l) rest.push_back(&layers[l]);
      exec->submit(0, rest, 1);
      done = exec->run_to_completion();
      REQUIRE(done.size() == 1);
      CHECK_FALSE(done[0].preempted);
      CHECK(before + done[0].timing.compute_cycles == compute);
      seen.push_back({p->layer, p->tile, cut_end, cycle(done[0].end_s)});
    }
    CHECK(seen[0] == seen[1]);
  }
}

TEST_CASE("executors: a unit on its own clock", "[sim][executor][systemc]") {
  const auto m = memory(8, 20);
  TilePlan layer = plan3(dataflows::kDoubleBuffered);
  layer.tiles = {tile(1000, 8, 0, 8, 10)};
  // At 500 MHz against a 1 GHz memory a tile's 1000 cycles take 2000 memory cycles.
  TilePlan slow = layer;
  slow.tiles[0].compute_cycles = 2000;
  const u64 expected = sim::time_layer(slow, m).cycles;
  sim::ExecutorSpec s{{sim::UnitSpec{"test", 500e6}}, m, 1e9};
  for (const bool systemc : {false, true}) {
    INFO((systemc ? "systemc" : "analytical"));
    auto exec = systemc ? sim::systemc::make_executor(s) : sim::make_analytical_executor(s);
    exec->submit(0, layer, 0);
    const auto done = exec->run_to_completion();
    REQUIRE(done.size() == 1);
    CHECK(cycle(done[0].end_s) == expected);
  }
}

TEST_CASE("SystemC executor: a layer of no tiles between others wakes nothing",
          "[sim][executor][systemc]") {
  // A layer that takes no time (no tiles), then a streaming layer, then a double-buffered one:
  // SystemC gives each its time alone, summed (a stray wake of the compute process by the empty
  // layer once ran the streaming layer's plan and left the next layer waiting forever).
  const auto m = memory(8, 20);
  TilePlan empty = plan3(dataflows::kDoubleBuffered);
  TilePlan streaming = plan3(dataflows::kStreaming);
  streaming.tiles = {tile(300, 64, 0, 64, 3)};
  TilePlan buffered = plan3(dataflows::kDoubleBuffered);
  buffered.tiles = {tile(1000, 8, 0, 8, 4)};
  u64 expected = 0;
  for (const TilePlan* p : {&empty, &streaming, &buffered}) expected += sim::time_layer(*p, m).cycles;
  auto exec = sim::systemc::make_executor(spec(1, m));
  exec->submit(0, {&empty, &streaming, &buffered}, 1);
  const auto done = exec->run_to_completion();
  REQUIRE(done.size() == 1);
  CHECK(done[0].timing.cycles == expected);
  CHECK(done[0].layers_done == 3);
}
