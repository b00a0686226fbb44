// Multi-DNN scheduling (serving/multi_dnn.hpp) against Dysta's own scheduler: latency tables and
// request traces replayed through every policy give the violation counts, ANTT and STP that the
// artefact's Python classes computed on the same inputs (tests/data/dysta_sched/README.md); and
// small cases worked out by hand: preemption at a layer boundary, the artefact's admission rule,
// family averages, SLO multiples, the generator, and the strict readers.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "cli_support.hpp"
#include "common/error.hpp"
#include "common/params.hpp"
#include "serving/multi_dnn.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::serving;
using Catch::Contains;
using json = nlohmann::json;

namespace {

// A scratch folder with the given files.
struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("tessera_multi_dnn_" + name)) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
  }
  MultiDnnScenario read(const json& doc) const {
    return read_multi_dnn_scenario(doc, (dir / "s.json").string(), dir.string());
  }
};

// Two models of one family: "a_x" 2 layers of 1 s (sample 0) or 3 s (sample 1), "b_y" 1 layer.
const char* kTables =
    "model,sample,layer,latency_s,sparsity\n"
    "a_x,0,0,1,0.5\n"
    "a_x,0,1,1,0.5\n"
    "a_x,1,0,3,0.1\n"
    "a_x,1,1,3,0.1\n"
    "c_z,0,0,0.5,0\n";

json doc_with(const std::string& trace, const std::string& policy) {
  return {{"format", "tessera.multi_dnn"},
          {"models",
           {{"a_x", {{"latency_table", "t.csv"}, {"slo_s", 10}}},
            {"c_z", {{"latency_table", "t.csv"}, {"slo_multiple", 6}}}}},
          {"arrival", {{"process", "trace"}, {"file", trace}}},
          {"policy", policy}};
}

}  // namespace

TEST_CASE("multi-DNN policies replay the artefact's figures on its traces",
          "[serving][multi_dnn]") {
  const json ref = read_json_file(test::data_path("dysta_sched/reference.json"));
  for (const auto& [name, c] : ref.at("cases").items()) {
    const MultiDnnScenario s =
        load_multi_dnn_scenario(test::data_path("dysta_sched/" + name + ".json"));
    REQUIRE(s.requests.size() == c.at("requests").get<std::size_t>());
    for (const auto& [policy, want] : c.at("policies").items()) {
      INFO(name << " " << policy);
      const MultiDnnReport r = run_multi_dnn(s, policy);
      CHECK(r.summary.violations == want.at("violations").get<std::int64_t>());
      CHECK(std::abs(r.summary.antt - want.at("antt").get<double>()) <= 1e-6);
      CHECK(r.summary.stp == Approx(want.at("stp").get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("multi-DNN: a shorter request takes over at the next layer boundary",
          "[serving][multi_dnn]") {
  Scratch d("preempt");
  d.write("t.csv", kTables);
  // a_x sample 1 (3 s + 3 s) at 0; c_z (0.5 s) at 1: SJF runs c_z after a_x's first layer.
  d.write("r.csv", "arrival_s,model,priority,sample\n0,a_x,1,1\n1,c_z,1,0\n");
  const MultiDnnScenario s = d.read(doc_with("r.csv", "sjf"));
  const MultiDnnReport sjf = run_multi_dnn(s);
  REQUIRE(sjf.requests.size() == 2);
  CHECK(sjf.requests[1].finish_s == 3.5);
  CHECK(sjf.requests[0].finish_s == 6.5);
  CHECK(sjf.switches == 3);
  const MultiDnnReport fcfs = run_multi_dnn(s, "fcfs");
  CHECK(fcfs.requests[0].finish_s == 6);
  CHECK(fcfs.requests[1].finish_s == 6.5);
  // c_z's SLO: 6 x its family's (c) mean isolated latency 0.5 s = 3 s: SJF (2.5 s) meets it, FCFS
  // (5.5 s) misses it.
  CHECK(s.models[1].slo_s == 3);
  CHECK(fcfs.summary.violations == 1);
  CHECK(sjf.summary.violations == 0);
  CHECK(fcfs.summary.antt == Approx((6.0 / 6 + 5.5 / 0.5) / 2));
  CHECK(fcfs.summary.stp == Approx(2 / 6.5));
}

TEST_CASE("multi-DNN: the artefact's admission rule and family averages", "[serving][multi_dnn]") {
  Scratch d("admission");
  d.write("t.csv", kTables);
  // a_x runs 0..2; c_z arrives at 1.5 during a_x's last layer and, with nothing left running,
  // starts at its arrival time (the artefact sets the clock to the next arrival).
  d.write("r.csv", "arrival_s,model,priority,sample\n0,a_x,1,0\n1.5,c_z,1,0\n");
  const MultiDnnScenario s = d.read(doc_with("r.csv", "fcfs"));
  const MultiDnnReport r = run_multi_dnn(s);
  CHECK(r.requests[0].finish_s == 2);
  CHECK(r.requests[1].finish_s == 2);  // 1.5 + 0.5
  // a_x's averages over its two samples; its family is "a" (the name up to '_').
  const LatencyTableModel& a = s.models[0];
  CHECK(a.family == "a");
  CHECK(a.avg_latency_s == std::vector<double>{2, 2});
  CHECK(a.avg_sparsity[0] == Approx(0.3));
  CHECK(a.mean_isolated_s == 4);
  CHECK(a.family_mean_isolated_s == 4);
}

TEST_CASE("multi-DNN: models of one family share the static per-layer averages",
          "[serving][multi_dnn]") {
  Scratch d("family");
  d.write("t.csv",
          "model,sample,layer,latency_s\n"
          "n_p,0,0,1\nn_p,0,1,1\n"
          "n_q,0,0,3\nn_q,0,1,3\nn_q,1,0,3\nn_q,1,1,3\n");
  d.write("r.csv", "arrival_s,model,priority,sample\n0,n_p,1,0\n");
  json doc = doc_with("r.csv", "sjf");
  doc["models"] = {{"n_p", {{"latency_table", "t.csv"}, {"slo_multiple", 1}}},
                   {"n_q", {{"latency_table", "t.csv"}, {"slo_s", 1}, {"family", "n"}}}};
  const MultiDnnScenario s = d.read(doc);
  // Weighted by sample counts: (1 x 1 + 2 x 3) / 3 per layer.
  CHECK(s.models[0].family_avg_latency_s[0] == Approx(7.0 / 3));
  CHECK(s.models[1].family_avg_latency_s == s.models[0].family_avg_latency_s);
  CHECK(s.models[0].slo_s == Approx(14.0 / 3));
}

TEST_CASE("multi-DNN: the generator is deterministic for a seed", "[serving][multi_dnn]") {
  json doc = read_json_file(test::data_path("dysta_sched/loaded.json"));
  doc["arrival"] = {{"process", "poisson"}, {"rate_per_s", 50}};
  doc["requests"] = 400;
  doc["seed"] = 4;
  const std::string dir = test::data_path("dysta_sched");
  const MultiDnnScenario a = read_multi_dnn_scenario(doc, "g.json", dir);
  const MultiDnnScenario b = read_multi_dnn_scenario(doc, "g.json", dir);
  REQUIRE(a.requests.size() == 400);
  double mean_gap = a.requests.back().arrival_s / 400;
  CHECK(mean_gap == Approx(1.0 / 50).epsilon(0.15));
  std::set<std::int64_t> priorities;
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    CHECK(a.requests[i].arrival_s == b.requests[i].arrival_s);
    CHECK(a.requests[i].model == b.requests[i].model);
    priorities.insert(a.requests[i].priority);
  }
  CHECK(priorities == std::set<std::int64_t>{1, 3, 9});
  CHECK(run_multi_dnn(a, "dysta").summary.antt == run_multi_dnn(b, "dysta").summary.antt);
}

TEST_CASE("multi-DNN: bad tables and traces name the file and line", "[serving][multi_dnn]") {
  Scratch d("errors");
  d.write("t.csv", kTables);
  const auto fails = [&](const std::string& trace, const std::string& what) {
    d.write("r.csv", trace);
    REQUIRE_THROWS_WITH(d.read(doc_with("r.csv", "dysta")), Contains(what));
  };
  fails("arrival_s,model,priority,sample\n0,a_x,1,0\nx,a_x,1,0\n", "r.csv:3: arrival_s 'x'");
  fails("arrival_s,model,priority,sample\n1,a_x,1,0\n0,a_x,1,0\n",
        "r.csv:3: arrival times must not decrease");
  fails("arrival_s,model,priority,sample\n0,zz,1,0\n", "r.csv:2: no model 'zz'");
  fails("arrival_s,model,priority,sample\n0,a_x,0,0\n", "r.csv:2: priority '0'");
  fails("arrival_s,model,priority,sample\n0,a_x,1,7\n", "r.csv:2: model 'a_x' has no sample 7");
  fails("arrival_s,model,priority,sample\n0,a_x,1\n", "r.csv:2: expected 4 fields, found 3");
  fails("time,model,priority,sample\n", "r.csv:1: expected the header");
  fails("arrival_s,model,priority,sample\n", "holds no request");
  d.write("r.csv", "arrival_s,model,priority,sample\n0,a_x,1,0\n");
  const auto table_fails = [&](const std::string& table, const std::string& what) {
    d.write("t.csv", table);
    REQUIRE_THROWS_WITH(d.read(doc_with("r.csv", "dysta")), Contains(what));
  };
  table_fails("model,sample,layer,latency_s\na_x,0,0,-1\n", "t.csv:2: latency_s must be in");
  table_fails("model,sample,layer,latency_s,sparsity\na_x,0,0,1,1\n",
              "t.csv:2: sparsity must be in [0, 1)");
  table_fails("model,sample,layer,latency_s\na_x,0,0,1\na_x,0,0,1\n",
              "t.csv:3: sample 0 layer 0 given twice");
  table_fails("model,sample,layer,latency_s\na_x,0,1,1\nc_z,0,0,1\n", "sample 0 has 2 layers");
  table_fails("model,sample,layer,latency_s\nc_z,0,0,1\n", "no rows for model 'a_x'");
  d.write("t.csv", kTables);
  json doc = doc_with("r.csv", "dysta");
  doc["policy"] = "edf";
  REQUIRE_THROWS_WITH(d.read(doc), Contains("unknown multi-DNN policy 'edf'"));
  doc = doc_with("r.csv", "dysta");
  doc["models"]["a_x"].erase("slo_s");
  REQUIRE_THROWS_WITH(d.read(doc), Contains("/models/a_x: give exactly one of slo_s"));
}

TEST_CASE("tessera serve runs a multi-DNN scenario and names a bad trace line",
          "[serving][multi_dnn][cli]") {
  const std::string scenario = test::data_path("dysta_sched/loaded.json");
  Scratch d("cli");
  const std::string out = (d.dir / "r.json").string();
  const auto ok = test::run_cli({"serve", scenario, "--policy", "prema", "--quiet", "--out", out});
  REQUIRE(ok.code == 0);
  const json report = read_json_file(out);
  CHECK(report.at("format") == "tessera.multi_dnn_report");
  CHECK(report.at("policy") == "prema");
  const json ref = read_json_file(test::data_path("dysta_sched/reference.json"));
  CHECK(report.at("summary").at("violations") ==
        ref.at("cases").at("loaded").at("policies").at("prema").at("violations"));
  CHECK(report.at("models").size() == 6);

  d.write("t.csv", kTables);
  d.write("r.csv", "arrival_s,model,priority,sample\n0,a_x,1,0\n0.5,a_x,1,9\n");
  std::ofstream((d.dir / "s.json").string()) << doc_with("r.csv", "dysta").dump();
  const auto bad = test::run_cli({"serve", (d.dir / "s.json").string(), "--quiet"});
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Contains("r.csv:3: model 'a_x' has no sample 9"));
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
}
