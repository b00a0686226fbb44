// Multi-DNN scheduling (serving/multi_dnn.hpp) against Dysta's own scheduler: latency tables and
// request traces replayed through every policy give the violation counts, ANTT and STP that the
// artefact's Python classes computed on the same inputs (tests/data/dysta_sched/README.md); and
// small cases worked out by hand: preemption at a layer boundary, the artefact's admission rule,
// family averages, SLO multiples, the generator, and the strict readers.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

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

TEST_CASE("multi-DNN: a model given as a workload computes the shipped CNN latency table",
          "[serving][multi_dnn]") {
  // configs/scenarios/dysta_cnn/tables.csv was written by `tessera serve
  // dysta_cnn_eyeriss_v2_workloads.json --tables` (scripts/dysta_tables.py); every model draws
  // its samples from its own seed, so one model alone gives its rows of the whole table.
  // MobileNet (block4 60 %) keeps the test short: a ResNet-50 sample takes seconds in dysta mode.
  const std::string dir = test::source_path("configs/scenarios");
  const std::string file = dir + "/dysta_cnn_eyeriss_v2_workloads.json";
  json doc = read_json_file(file);
  const std::string name = "mobilenet_block4_60";
  const json one = doc.at("models").at(name);
  doc["models"] = {{name, one}};
  const MultiDnnScenario computed = read_multi_dnn_scenario(doc, file, dir);
  const MultiDnnScenario shipped = load_multi_dnn_scenario(dir + "/dysta_cnn_eyeriss_v2.json");
  const auto it = std::find_if(shipped.models.begin(), shipped.models.end(),
                               [&](const auto& m) { return m.name == name; });
  REQUIRE(it != shipped.models.end());
  const LatencyTableModel& m = computed.models.at(0);
  REQUIRE(m.sample_ids == it->sample_ids);
  CHECK(m.latency_s == it->latency_s);  // exactly: the CSV holds the shortest exact digits
  CHECK(m.sparsity == it->sparsity);
  // The rule: the image stays dense, the other inputs vary around 0.5 within the clamp.
  std::set<double> second_layer;
  for (std::size_t s = 0; s < m.sparsity.size(); ++s) {
    CHECK(m.sparsity[s][0] == 0);
    for (std::size_t l = 1; l < m.sparsity[s].size(); ++l) {
      CHECK(m.sparsity[s][l] >= 1 - 0.5 * 1.4 * 1.15);
      CHECK(m.sparsity[s][l] <= 1 - 0.5 * 0.6 * 0.85);
    }
    second_layer.insert(m.latency_s[s][1]);
  }
  CHECK(second_layer.size() == m.sparsity.size());  // samples differ
}

TEST_CASE("multi-DNN: the attention workloads compute the shipped attention latency tables",
          "[serving][multi_dnn]") {
  // configs/scenarios/dysta_attn/tables.csv was written by `tessera serve
  // dysta_attn_sanger_like_workloads.json --tables` (scripts/dysta_tables.py): BERT, BART and
  // GPT-2 on the Sanger-like engine, 16 samples each (under a second in all).
  const std::string dir = test::source_path("configs/scenarios");
  const MultiDnnScenario computed = load_multi_dnn_scenario(dir + "/dysta_attn_sanger_like_workloads.json");
  const MultiDnnScenario shipped = load_multi_dnn_scenario(dir + "/dysta_attn_sanger_like.json");
  REQUIRE(computed.models.size() == 3);
  for (const LatencyTableModel& m : computed.models) {
    INFO(m.name);
    const auto it = std::find_if(shipped.models.begin(), shipped.models.end(),
                                 [&](const auto& s) { return s.name == m.name; });
    REQUIRE(it != shipped.models.end());
    CHECK(m.sample_ids == it->sample_ids);
    CHECK(m.latency_s == it->latency_s);
    CHECK(m.sparsity == it->sparsity);
  }
}

TEST_CASE("multi-DNN: a workload model's table is its samples' simulations",
          "[serving][multi_dnn]") {
  Scratch d("workload");
  // Two layers on a sparse engine in expected mode, where a layer's cycles follow its density.
  d.write("w.json", R"({"format": "tessera.workload", "version": 1, "name": "two",
    "operators": [
      {"name": "a.l0", "kind": "matmul", "shape": {"m": 64, "k": 256, "n": 256}},
      {"name": "a.l1", "kind": "matmul", "inputs": ["a.l0"], "shape": {"m": 64, "k": 256, "n": 256},
       "density": {"activation": 0.4}},
      {"name": "b.l2", "kind": "matmul", "inputs": ["a.l1"], "shape": {"m": 64, "k": 256, "n": 256},
       "density": {"activation": 0.4}}]})");
  const std::string arch = test::source_path("configs/arch/sanger_like.json");
  json doc = {{"format", "tessera.multi_dnn"},
              {"arch", arch},
              {"models",
               {{"m_x",
                 {{"workload", "w.json"},
                  {"samples", 3},
                  {"variation", {{"sample", {0.5, 2.0}}, {"layer", {0.9, 1.1}}, {"seed", 7}}},
                  {"slo_multiple", 5}}}}},
              {"arrival", {{"process", "poisson"}, {"rate_per_s", 10}}},
              {"requests", 5}};
  const MultiDnnScenario s = d.read(doc);
  const LatencyTableModel& m = s.models.at(0);
  REQUIRE(m.latency_s.size() == 3);
  REQUIRE(m.layers() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(m.sparsity[i][0] == 0);  // a dense input stays dense
    // Each sample is `tessera simulate` of the workload at the sample's densities.
    const std::string report = (d.dir / "r.json").string();
    std::vector<std::string> args = {"simulate", "--arch", arch, "--workload",
                                     (d.dir / "w.json").string(), "--quiet", "--out", report};
    for (int l = 1; l < 3; ++l) {
      std::ostringstream set;
      set << "/workload/layers/" << (l == 1 ? "a.l1" : "b.l2") << "/activation_density="
          << std::setprecision(17) << 1 - m.sparsity[i][l];
      args.insert(args.end(), {"--set", set.str()});
    }
    REQUIRE(test::run_cli(args).code == 0);
    const json layers = read_json_file(report).at("layers");
    for (std::size_t l = 0; l < 3; ++l)
      CHECK(layers.at(l).at("latency_s").get<double>() == Approx(m.latency_s[i][l]).epsilon(1e-12));
  }
  CHECK(m.latency_s[0][1] != m.latency_s[1][1]);
  // Grouped by the first name part: a.l0 + a.l1, then b.l2; the group's sparsity is its
  // MAC-weighted input sparsity.
  doc["models"]["m_x"]["layer_name_parts"] = 1;
  const LatencyTableModel g = d.read(doc).models.at(0);
  REQUIRE(g.layers() == 2);
  CHECK(g.latency_s[2][0] == m.latency_s[2][0] + m.latency_s[2][1]);
  CHECK(g.sparsity[2][0] == Approx(m.sparsity[2][1] / 2));
  CHECK(g.latency_s[2][1] == m.latency_s[2][2]);
  // The tables written by `tessera serve --tables` read back equal.
  d.write("s.json", doc.dump());
  const std::string csv = (d.dir / "t.csv").string();
  REQUIRE(test::run_cli({"serve", (d.dir / "s.json").string(), "--quiet", "--tables", csv}).code == 0);
  const MultiDnnScenario back =
      d.read({{"format", "tessera.multi_dnn"},
              {"models", {{"m_x", {{"latency_table", "t.csv"}, {"slo_multiple", 5}}}}},
              {"arrival", {{"process", "poisson"}, {"rate_per_s", 10}}},
              {"requests", 5}});
  CHECK(back.models.at(0).latency_s == g.latency_s);
  CHECK(back.models.at(0).sparsity == g.sparsity);
}

TEST_CASE("multi-DNN: bad workload models name the scenario file and JSON path",
          "[serving][multi_dnn]") {
  Scratch d("workload_errors");
  d.write("w.json", R"({"format": "tessera.workload", "version": 1, "name": "one",
    "operators": [{"name": "l0", "kind": "matmul", "shape": {"m": 8, "k": 8, "n": 8}}]})");
  d.write("t.csv", kTables);
  const std::string arch = test::source_path("configs/arch/sanger_like.json");
  const auto doc = [&](const json& model) {
    return json{{"format", "tessera.multi_dnn"},
                {"models", {{"m_x", model}}},
                {"arrival", {{"process", "poisson"}, {"rate_per_s", 10}}},
                {"requests", 5}};
  };
  const auto fails = [&](const json& model, const std::string& what) {
    REQUIRE_THROWS_WITH(d.read(doc(model)), Contains("s.json: ") && Contains(what));
  };
  const json ok = {{"workload", "w.json"}, {"arch", arch}, {"slo_s", 1}};
  CHECK_NOTHROW(d.read(doc(ok)));
  json m = ok;
  m["latency_table"] = "t.csv";
  fails(m, "/models/m_x: give exactly one of latency_table (a CSV file) and workload");
  m = ok;
  m.erase("arch");
  fails(m, "/models/m_x: a model given as a workload needs an engine config");
  m = ok;
  m["workload"] = "missing.json";
  fails(m, "/models/m_x/workload: ");
  m = ok;
  m["arch"] = "missing_arch.json";
  fails(m, "/models/m_x/arch: ");
  m = ok;
  m["variation"] = {{"sample", {1.2, 0.5}}};
  fails(m, "/models/m_x/variation/sample: expected [low, high] factors");
  m = ok;
  m["variation"] = {{"smaple", {0.5, 1.2}}};
  fails(m, "/models/m_x/variation/smaple: unknown key 'smaple'");
  m = ok;
  m["samples"] = 0;
  fails(m, "/models/m_x/samples");
  m = ok;
  m["workload_settings"] = {{"layers", {{"nope*", {{"activation_density", 0.5}}}}}};
  fails(m, "/models/m_x/workload: ");
  m = ok;
  m["set"] = {"sparse.pes=-3"};
  fails(m, "/models/m_x/arch: ");
}
