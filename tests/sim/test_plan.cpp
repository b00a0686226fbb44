// Planning a graph once and accounting it per job (sim::plan_graph, time_layers, account) against
// sim::simulate, and a MapCache shared by TBB threads against runs without a cache.
#include <vector>

#include <catch2/catch.hpp>
#include <tbb/parallel_for.h>

#include "arch/config.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

namespace {

using namespace tessera;

void check_same(const std::vector<sim::LayerResult>& a, const std::vector<sim::LayerResult>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("layer " << a[i].name);
    CHECK(a[i].name == b[i].name);
    CHECK(a[i].timing == b[i].timing);
    CHECK(a[i].macs == b[i].macs);
    CHECK(a[i].energy == b[i].energy);
    CHECK(a[i].energy_pj == b[i].energy_pj);
    CHECK(a[i].roofline_cycles == b[i].roofline_cycles);
    CHECK(a[i].fused == b[i].fused);
    CHECK(a[i].fused_into == b[i].fused_into);
    CHECK(a[i].warnings == b[i].warnings);
  }
}

}  // namespace

TEST_CASE("plan: a graph planned once and accounted twice is simulate()'s result", "[sim][plan]") {
  const auto arch = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"));
  const auto graph = workloads::load_workload(test::source_path("configs/workloads/lenet5.json"));
  const auto reference = sim::simulate(*arch.engine, graph, "analytical");
  const sim::GraphPlan plan = sim::plan_graph(*arch.engine, graph);
  REQUIRE(plan.plans().size() == plan.heads.size());
  for (int job = 0; job < 2; ++job) {
    const auto timings = sim::time_layers(*arch.engine, graph, plan, "analytical");
    check_same(sim::account(*arch.engine, graph, plan, timings), reference);
  }
  CHECK_THROWS_AS(sim::account(*arch.engine, graph, plan, {}), std::invalid_argument);
}

TEST_CASE("plan: one MapCache shared by TBB threads gives the results of runs without one",
          "[sim][plan][threads]") {
  const auto arch = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"));
  std::vector<workloads::Graph> graphs;
  for (const char* w : {"configs/workloads/lenet5.json", "configs/workloads/bert_base_layer.json",
                        "configs/workloads/resnet18_scalesim.csv"})
    graphs.push_back(workloads::load_workload(test::source_path(w)));
  std::vector<std::vector<sim::LayerResult>> reference;
  sim::MapCache serial;
  for (const auto& g : graphs) {
    reference.push_back(sim::simulate(*arch.engine, g, "analytical"));
    sim::simulate(*arch.engine, g, "analytical", nullptr, &serial);
  }
  // Every graph many times over, in an order that interleaves them across threads.
  constexpr std::size_t kRuns = 48;
  sim::MapCache shared;
  std::vector<std::vector<sim::LayerResult>> results(kRuns);
  tbb::parallel_for(std::size_t{0}, kRuns, [&](std::size_t k) {
    results[k] = sim::simulate(*arch.engine, graphs[k % graphs.size()], "analytical", nullptr, &shared);
  });
  for (std::size_t k = 0; k < kRuns; ++k) check_same(results[k], reference[k % graphs.size()]);
  // Each distinct operator mapped once, whichever thread met it first.
  CHECK(shared.size() == serial.size());
}
