// Design spaces over a serving scenario: scenario keys and the accelerator's config as
// parameters, the serving metrics and area per point, and the cheapest accelerator that meets a
// p99 latency SLO found by a sweep (through the CLI, resumable like any sweep).
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "cli_support.hpp"
#include "explorer/space.hpp"
#include "explorer/sweep.hpp"
#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

const std::string kScenario = test::source_path("configs/scenarios/lenet5_two_streams_edge.json");

std::string write_space(const std::string& name, const json& doc) {
  const auto path = std::filesystem::temp_directory_path() / ("tessera_serving_space_" + name + ".json");
  std::ofstream(path) << doc.dump(2);
  return path.string();
}

// The scenario as `tessera serve --set` runs it with the array at rows x rows.
serving::ServingReport serve_at(std::int64_t rows, double rate) {
  return serving::serve(serving::load_scenario(
      kScenario, {"/accelerator/set/systolic.rows=" + std::to_string(rows),
                  "/accelerator/set/systolic.cols=" + std::to_string(rows),
                  "streams.1.arrival.rate_per_s=" + json(rate).dump(), "requests=2000"}));
}

}  // namespace

TEST_CASE("a sweep over a scenario finds the cheapest array that meets a p99 SLO", "[explorer][serving]") {
  // LeNet-5's two streams on square systolic arrays of 4 to 32 rows. The SLO lies between the
  // p99 latency of the 8- and the 16-row array, both served directly here: 16 rows is the
  // cheapest array that meets it (area grows with the array).
  const double rate = 3000;
  std::map<std::int64_t, double> p99;
  for (std::int64_t rows : {4, 8, 16, 32}) p99[rows] = serve_at(rows, rate).summary.p99_latency_s;
  REQUIRE(p99[8] > p99[16]);
  const double slo = std::sqrt(p99[8] * p99[16]);
  const json doc = {{"format", "tessera.space"}, {"version", 1}, {"scenario", kScenario},
                    {"parameters", {{"systolic.rows", {{"pow2", {{"min", 4}, {"max", 32}}}}},
                                    {"scenario.streams.1.arrival.rate_per_s", {{"values", json::array({rate})}}},
                                    {"scenario.requests", {{"values", json::array({2000})}}}}},
                    {"derived", {{"systolic.cols", "systolic.rows"}}},
                    {"objectives", json::array({"area_mm2:min", "p99_latency_s:min"})},
                    {"constraints", json::array({"p99_latency_s <= " + json(slo).dump()})}};
  const std::string path = write_space("slo", doc);
  const explorer::DesignSpace space = explorer::read_space(path);
  REQUIRE(space.serving());
  REQUIRE(space.grid_size() == 4);
  explorer::WorkloadCache workloads(space);
  std::map<std::int64_t, explorer::LogEntry> entries;
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const json point = space.grid_point(i);
    entries[point.at("systolic.rows").get<std::int64_t>()] = explorer::evaluate_point(space, workloads, i, point);
  }
  for (std::int64_t rows : {4, 8}) {
    INFO(rows << " rows: " << entries[rows].error);
    CHECK_FALSE(entries[rows].ok);
    CHECK_THAT(entries[rows].error, Contains("infeasible: p99_latency_s <="));
  }
  std::optional<std::int64_t> cheapest;
  double least = 0;
  for (std::int64_t rows : {16, 32}) {
    const auto& e = entries[rows];
    INFO(rows << " rows: " << e.error);
    REQUIRE(e.ok);
    // The point's metrics are the direct run's.
    CHECK(e.metrics.at("p99_latency_s") == Approx(p99[rows]).epsilon(1e-12));
    CHECK(e.metrics.count("throughput_rps") == 1);
    if (!cheapest || e.metrics.at("area_mm2") < least) {
      cheapest = rows;
      least = e.metrics.at("area_mm2");
    }
  }
  CHECK(cheapest == 16);
  CHECK(entries[16].metrics.at("area_mm2") < entries[32].metrics.at("area_mm2"));

  // Through the CLI: the sweep logs the same points; a resumed run accepts its own log.
  const std::string log = (std::filesystem::temp_directory_path() / "tessera_serving_space.jsonl").string();
  std::filesystem::remove(log);
  CHECK(test::run_cli({"sweep", path, "--log", log, "--quiet"}).code == 0);
  CHECK(test::run_cli({"sweep", path, "--log", log, "--quiet", "--resume"}).code == 0);
  const auto logged = test::log_by_index(log);
  REQUIRE(logged.size() == 4);
}

TEST_CASE("serving spaces: bad parameters and metrics name the file and path", "[explorer][serving]") {
  json doc = {{"format", "tessera.space"}, {"version", 1}, {"scenario", kScenario},
              {"parameters", {{"workload.batch", {{"values", json::array({1, 2})}}}}}};
  CHECK_THROWS_WITH(explorer::read_space(write_space("bad1", doc)),
                    Contains("/parameters/workload.batch: a space over a scenario takes scenario.KEY"));
  doc["parameters"] = {{"scenario.policy", {{"values", json::array({"fcfs", "edf"})}}}};
  doc["objectives"] = json::array({"latency_s:min"});
  CHECK_THROWS_WITH(explorer::read_space(write_space("bad2", doc)), Contains("unknown metric 'latency_s'"));
  doc.erase("objectives");
  doc["arch"] = "x.json";
  CHECK_THROWS_WITH(explorer::read_space(write_space("bad3", doc)),
                    Contains("/arch: a space over a scenario takes its accelerator and models from the scenario"));
  doc.erase("arch");
  doc["scenario"] = "/nonexistent/scenario.json";
  CHECK_THROWS_WITH(explorer::read_space(write_space("bad4", doc)), Contains("/scenario: "));
}

TEST_CASE("serving spaces: a changed model or trace file is not resumed from the old log",
          "[explorer][serving]") {
  // The scenario names a copy of LeNet-5 and an arrival trace in a folder of its own; a resumed
  // sweep accepts its log while they are unchanged and refuses it once either changed, although
  // the scenario and space documents are the same.
  const auto dir = std::filesystem::temp_directory_path() / "tessera_serving_space_inputs";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto model = dir / "lenet5.json";
  const auto trace = dir / "arrivals.txt";
  std::filesystem::copy_file(test::source_path("configs/workloads/lenet5.json"), model);
  std::ofstream(trace) << "0\n0.0001\n0.0002\n";
  const json scenario = {
      {"format", "tessera.scenario"},
      {"accelerator", {{"arch", test::source_path("configs/arch/systolic_tiny_8x8.json")}}},
      {"models", {{"lenet5", {{"workload", "lenet5.json"}}}}},
      {"streams", json::array({{{"model", "lenet5"},
                                {"arrival", {{"process", "trace"}, {"file", "arrivals.txt"}}}}})},
      {"requests", 3}};
  std::ofstream(dir / "scenario.json") << scenario.dump(2);
  const json doc = {{"format", "tessera.space"}, {"version", 1},
                    {"scenario", (dir / "scenario.json").string()},
                    {"parameters", {{"scenario.policy", {{"values", json::array({"fcfs", "sjf"})}}}}}};
  const std::string path = write_space("inputs", doc);
  const std::string log = (dir / "log.jsonl").string();
  REQUIRE(test::run_cli({"sweep", path, "--log", log, "--quiet"}).code == 0);
  const std::string logged = test::log_by_index(log).at(0).at("workload_hash").get<std::string>();
  CHECK(test::run_cli({"sweep", path, "--log", log, "--quiet", "--resume"}).code == 0);

  // The last layer without its bias: the same document, another model.
  json lenet = json::parse(std::ifstream(model));
  lenet["operators"].back()["shape"]["bias"] = false;
  std::ofstream(model) << lenet.dump(2);
  auto r = test::run_cli({"sweep", path, "--log", log, "--quiet", "--resume"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("workload_hash"));
  // Each point's entry records the model's contents too.
  const explorer::DesignSpace space = explorer::read_space(path);
  explorer::WorkloadCache workloads(space);
  const auto e = explorer::evaluate_point(space, workloads, 0, space.grid_point(0));
  REQUIRE(e.ok);
  CHECK(e.workload_hash != logged);

  // The model back as it was: resumable again; then another arrival trace: refused.
  std::filesystem::copy_file(test::source_path("configs/workloads/lenet5.json"), model,
                             std::filesystem::copy_options::overwrite_existing);
  CHECK(test::run_cli({"sweep", path, "--log", log, "--quiet", "--resume"}).code == 0);
  std::ofstream(trace) << "0\n0.0001\n0.0003\n";
  r = test::run_cli({"sweep", path, "--log", log, "--quiet", "--resume"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("workload_hash"));
  std::filesystem::remove_all(dir);
}
