// The report: totals, and the JSON names scripts rely on (docs/report-schema.md).
#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "explorer/evaluator.hpp"
#include "sim/report.hpp"
#include "workloads/frontend.hpp"
#include "test_support.hpp"

using namespace tessera;

namespace {

sim::Report conv_relu_report() {
  const auto arch = arch::build_arch({"edge.json",
                                      {{"engine", "ideal"},
                                       {"clock", "800 MHz"},
                                       {"peak_macs_per_cycle", 256},
                                       {"dram", {{"bandwidth", 16}}},
                                       {"fusion", false},
                                       {"energy", {{"mac_pj", 0.23}, {"dram_pj_per_byte", 160}}},
                                       {"area_mm2", 1.5}}});
  return explorer::evaluate(arch, explorer::prepare_workload(test::conv_relu_graph()), {});
}

}  // namespace

TEST_CASE("summary totals the layers", "[sim][report]") {
  const auto r = conv_relu_report();
  const auto& s = r.summary;
  // The ReLU (not fused here) on the 64-lane vector unit: 200,704 compares in 3,136 cycles,
  // hidden under its 25,088 cycles of memory traffic.
  CHECK(s.cycles == 451584 + 25088);
  CHECK(s.compute_cycles == 451584 + 3136);
  CHECK(s.stall_cycles == 25088 - 3136);
  CHECK(s.macs == 115605504);
  CHECK(s.latency_s == Approx((451584.0 + 25088.0) / 800e6));
  CHECK(s.utilization == Approx(115605504.0 / ((451584.0 + 25088.0) * 256)));
  CHECK(s.accesses.at("dram").read_bytes == 237568 + 200704);
  CHECK(s.accesses.at("dram").write_bytes == 200704 + 200704);
  // Leakage of the MAC array (45 nm table: 256 int8 MACs x 687.6 um2 x 20 mW/mm2) over the run.
  const double leakage = 256 * 687.6e-6 * 20.0 * ((451584.0 + 25088.0) / 800e6) * 1e9;
  CHECK(s.energy_by_component.at("leakage.pe_array") == Approx(leakage));
  const auto arch = arch::build_arch({"edge.json", {{"engine", "ideal"}, {"peak_macs_per_cycle", 256},
                                                    {"dram", {{"bandwidth", 16}}}}});
  const double vector = 200704 * arch.engine->vector_unit().energy_pj[2];  // compares
  CHECK(s.energy_by_component.at("vector") == Approx(vector));
  CHECK(s.energy_pj ==
        Approx(115605504 * 0.23 + (237568 + 200704 + 200704 + 200704) * 160.0 + leakage + vector));
  CHECK(s.energy_by_component.at("mac") == Approx(115605504 * 0.23));
  CHECK(s.area_mm2 == 1.5);
}

TEST_CASE("report JSON keeps the stable names", "[sim][report]") {
  const auto j = sim::to_json(conv_relu_report());
  CHECK(j.at("schema_version") == sim::kReportSchemaVersion);
  for (const char* k : {"cycles", "latency_s", "energy_pj", "macs", "area_mm2", "utilization"})
    CHECK(j.at("summary").contains(k));
  REQUIRE(j.at("layers").size() == 2);
  for (const auto& l : j.at("layers"))
    for (const char* k : {"name", "cycles", "compute_cycles", "stall_cycles", "macs", "energy_pj"})
      CHECK(l.contains(k));
  CHECK(j.at("layers")[0].at("name") == "conv");
  CHECK(j.at("config").at("engine") == "ideal");
  for (const char* k : {"config_hash", "workload_hash", "version", "git_revision", "wall_s",
                        "simulated_cycles_per_s", "fidelity"})
    CHECK(j.at("run").contains(k));
  CHECK(j.at("run").at("config_hash").get<std::string>().size() == 16);
}

TEST_CASE("the summary table lists every layer and the totals", "[sim][report]") {
  const auto text = sim::format_table(conv_relu_report());
  CHECK_THAT(text, Catch::Matchers::Contains("conv") && Catch::Matchers::Contains("relu") &&
                       Catch::Matchers::Contains("total") && Catch::Matchers::Contains("latency"));
}

TEST_CASE("the workload hash names content, not labels", "[sim][report]") {
  auto g = test::conv_relu_graph();
  const auto base = explorer::prepare_workload(g).hash;
  g.set_name("renamed");
  g.op(0).source = "elsewhere.json: /operators/0";
  CHECK(explorer::prepare_workload(g).hash == base);
  std::get<workloads::Conv>(g.op(0).shape).k = 32;
  CHECK(explorer::prepare_workload(g).hash != base);
}

TEST_CASE("utilisation counts each layer against its own precision's peak", "[sim][report]") {
  // Bit Fusion: 2-bit layers have 16x the 8-bit peak. Against the 8-bit peak alone the WRPN
  // network's total printed 585%.
  const auto arch = arch::load_arch(test::source_path("configs/arch/bitfusion_isca2018.json"));
  const auto r = explorer::evaluate(
      arch, explorer::prepare_workload(workloads::load_workload(
                test::source_path("configs/workloads/bitfusion/wrpn/cifar10.json"), {})),
      {});
  double capacity = 0;
  for (const auto& l : r.layers) {
    if (!l.fused_into.empty()) continue;
    CHECK(l.peak_macs_per_cycle >= arch.engine->peak_macs_per_cycle());
    CHECK(l.utilization <= 1.0);
    capacity += static_cast<double>(l.timing.cycles) * l.peak_macs_per_cycle;
  }
  CHECK(r.summary.utilization <= 1.0);
  CHECK(r.summary.utilization == Approx(static_cast<double>(r.summary.macs) / capacity));
  CHECK(r.summary.utilization < static_cast<double>(r.summary.macs) /
                                    (static_cast<double>(r.summary.cycles) *
                                     arch.engine->peak_macs_per_cycle()));
}

TEST_CASE("the summary lists each distinct warning once with the layers it concerns",
          "[sim][report]") {
  auto g = test::conv_relu_graph();
  for (const auto n : g.topological_order()) g.op(n).density.weight = 0.5;
  const auto arch = arch::build_arch(
      {"w.json", {{"engine", "ideal"}, {"peak_macs_per_cycle", 256}, {"dram", {{"bandwidth", 16}}},
                  {"fusion", false}}});
  const auto r = explorer::evaluate(arch, explorer::prepare_workload(g), {});
  REQUIRE(r.summary.warnings.size() == 1);
  CHECK_THAT(r.summary.warnings[0],
             Catch::Matchers::Contains("weight density 0.5") && Catch::Matchers::Contains("(2 layers)"));
  for (const auto& l : r.layers) CHECK(l.warnings.size() == 1);
  CHECK_THAT(sim::format_table(r), Catch::Matchers::Contains("warning: ideal runs densely"));
}
