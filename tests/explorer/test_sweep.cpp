// Design spaces and sweeps: enumeration, determinism across threads and shards, resume after a
// kill, failed points, and bad space files.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/app.hpp"
#include "cli_support.hpp"
#include "explorer/pareto.hpp"
#include "explorer/sweep.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"
#include "workloads/settings.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

std::string space_path(const std::string& f) { return test::data_path("spaces/" + f); }

std::string temp_log(const std::string& name) {
  const auto p =
      (std::filesystem::temp_directory_path() / ("tessera_sweep_" + name + ".jsonl")).string();
  std::filesystem::remove(p);
  return p;
}

int run_cli(std::vector<std::string> args, std::string* err = nullptr) {
  const auto r = test::run_cli(std::move(args));
  if (err) *err = r.err;
  return r.code;
}

const auto by_index = test::log_by_index;

}  // namespace

TEST_CASE("a design space enumerates its grid deterministically", "[explorer][space]") {
  const auto s = explorer::read_space(space_path("small.json"));
  REQUIRE(s.parameters.size() == 3);
  // Keys in sorted order: dram.bandwidth {2,4,6}, systolic.dataflow {ws,os}, systolic.rows
  // {4,8,16}.
  CHECK(s.parameters[0].path == "dram.bandwidth");
  CHECK(s.grid_size() == 3 * 2 * 3);
  CHECK(s.grid_point(0) ==
        nlohmann::json{{"dram.bandwidth", 2}, {"systolic.dataflow", "ws"}, {"systolic.rows", 4}});
  CHECK(s.grid_point(1) ==
        nlohmann::json{{"dram.bandwidth", 2}, {"systolic.dataflow", "ws"}, {"systolic.rows", 8}});
  CHECK(s.grid_point(17) ==
        nlohmann::json{{"dram.bandwidth", 6}, {"systolic.dataflow", "os"}, {"systolic.rows", 16}});
  // Random points depend only on (seed, index).
  CHECK(s.random_point(7, 5) == s.random_point(7, 5));
  int differ = 0;
  for (std::uint64_t i = 0; i < 20; ++i) differ += s.random_point(7, i) != s.random_point(8, i);
  CHECK(differ > 0);
  const auto cfg = explorer::point_config(s, s.grid_point(17));
  CHECK(cfg.resolved["systolic"]["rows"] == 16);
  CHECK(cfg.resolved["systolic"]["dataflow"] == "os");
  CHECK(cfg.resolved["dram"]["bandwidth"] == 6);
}

TEST_CASE("bad design spaces name the file and JSON path", "[explorer][space][errors]") {
  const auto dir = std::filesystem::temp_directory_path();
  auto fails = [&](const std::string& body, const std::string& what) {
    const auto p = (dir / "tessera_bad_space.json").string();
    std::ofstream(p) << body;
    CHECK_THROWS_WITH(explorer::read_space(p),
                      Contains("tessera_bad_space.json") && Contains(what));
  };
  const std::string head = std::string(R"({"format": "tessera.space", "version": 1, "arch": ")") +
                           TESSERA_SOURCE_DIR +
                           R"(/configs/arch/systolic_tiny_8x8.json", "workload": "w.json", )";
  fails(head + R"("parameters": {"systolic.rows": {"values": []}}})",
        "/parameters/systolic.rows/values");
  fails(head + R"("parameters": {"systolic.rows": {"pow2": {"min": 3, "max": 16}}}})",
        "powers of two");
  fails(head + R"("parameters": {"systolic.rows": {"range": {"min": 8, "max": 4}}}})",
        "max must be >= min");
  fails(head + R"("parameters": {"systolic.rows": {"list": [1]}}})", "expected one of");
  fails(head + R"("parameters": {}})", "at least one parameter");
  fails(head + R"("parameters": {"systolic.rows": {"values": [8]}}, "objectivs": {}})",
        "unknown key 'objectivs'");
  fails(
      head +
          R"("parameters": {"systolic.rows": {"values": [8]}}, "objectives": ["latency_s:fast"]})",
      "/objectives/0");
  fails(R"({"format": "tessera.spaces", "version": 1})", "/format");
}

TEST_CASE("sweeps give the same results whatever the number of threads", "[explorer][sweep]") {
  const auto one = temp_log("jobs1"), two = temp_log("jobs2");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", one, "--quiet"}) == 0);
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", two, "--jobs", "2", "--quiet"}) ==
          0);
  const auto a = by_index(one), b = by_index(two);
  CHECK(a.size() == 18);
  CHECK(a == b);
  // Random sampling too, and it draws the same points for a seed.
  const auto r1 = temp_log("rand1"), r2 = temp_log("rand2");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", r1, "--method", "random",
                   "--samples", "9", "--seed", "3", "--quiet"}) == 0);
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", r2, "--method", "random",
                   "--samples", "9", "--seed", "3", "--jobs", "2", "--quiet"}) == 0);
  CHECK(by_index(r1) == by_index(r2));
}

TEST_CASE("shards together evaluate each point once, as a single run does", "[explorer][sweep]") {
  const auto full = temp_log("full");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", full, "--quiet"}) == 0);
  std::map<std::uint64_t, nlohmann::json> merged;
  for (int i = 0; i < 3; ++i) {
    const auto shard = temp_log("shard" + std::to_string(i));
    REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", shard, "--shard",
                     std::to_string(i) + "/3", "--quiet"}) == 0);
    for (auto& [index, entry] : by_index(shard)) {
      CHECK(index % 3 == static_cast<std::uint64_t>(i));
      CHECK(merged.emplace(index, entry).second);
    }
  }
  CHECK(merged == by_index(full));
}

TEST_CASE("resume after a kill: nothing lost, nothing evaluated twice", "[explorer][sweep]") {
  const auto full = temp_log("ref"), killed = temp_log("killed");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", full, "--quiet"}) == 0);
  // A run killed after 7 points, in the middle of writing the 8th line.
  {
    std::ifstream in(full);
    std::ofstream out(killed);
    std::string line;
    for (int i = 0; i < 7 && std::getline(in, line); ++i) out << line << "\n";
    std::getline(in, line);
    out << line.substr(0, line.size() / 2);
  }
  std::string err;
  CHECK(run_cli({"sweep", space_path("small.json"), "--log", killed, "--quiet"}, &err) ==
        cli::kExitInputError);
  CHECK_THAT(err, Contains("--resume"));
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", killed, "--resume", "--quiet"}) ==
          0);
  CHECK(by_index(killed) == by_index(full));
  // Resuming a finished log evaluates nothing more.
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", killed, "--resume", "--quiet"}) ==
          0);
  CHECK(by_index(killed).size() == 18);
  // A log of another sweep is refused.
  CHECK(run_cli({"sweep", space_path("small.json"), "--log", killed, "--resume", "--method",
                 "random", "--samples", "5", "--quiet"},
                &err) == cli::kExitInputError);
  CHECK_THAT(err, Contains("is the log of another run (its header differs in run"));
}

TEST_CASE("a point that fails is logged with its reason and the sweep goes on",
          "[explorer][sweep]") {
  const auto log = temp_log("bad_point");
  REQUIRE(run_cli({"sweep", space_path("with_bad_point.json"), "--log", log, "--quiet"}) == 0);
  const auto entries = explorer::read_log(log);
  REQUIRE(entries.size() == 3);
  int failed = 0;
  for (const auto& e : entries) {
    if (e.ok) continue;
    ++failed;
    CHECK(e.point.at("systolic.rows") == 0);
    CHECK_THAT(e.error, Contains("/systolic/rows") && Contains("positive integer"));
  }
  CHECK(failed == 1);
}

TEST_CASE("bad sweep options are errors", "[explorer][sweep][errors]") {
  std::string err;
  CHECK(run_cli({"sweep", space_path("small.json"), "--log", temp_log("x"), "--shard", "3/3"},
                &err) == cli::kExitInputError);
  CHECK_THAT(err, Contains("--shard"));
  CHECK(run_cli({"sweep", space_path("small.json"), "--log", temp_log("y"), "--method", "random"},
                &err) == cli::kExitInputError);
  CHECK_THAT(err, Contains("--samples"));
}

TEST_CASE("Latin hypercube and Halton samples", "[explorer][space]") {
  const auto s = explorer::read_space(space_path("small.json"));
  explorer::SweepOptions o;
  o.method = explorer::SweepOptions::Method::lhs;
  o.samples = 6;  // systolic.dataflow has 2 values, the others 3: each must appear equally often
  o.seed = 11;
  const explorer::Sampler lhs(s, o);
  std::map<std::string, int> seen;
  for (std::uint64_t i = 0; i < 6; ++i) {
    const auto point = lhs.point(i);
    for (auto it = point.begin(); it != point.end(); ++it)
      ++seen[it.key() + "=" + it.value().dump()];
  }
  for (const auto& [value, n] : seen)
    CHECK(n == (value.rfind("systolic.dataflow", 0) == 0 ? 3 : 2));
  CHECK(explorer::Sampler(s, o).point(4) == lhs.point(4));  // a function of (space, seed, samples)

  // Strata are a permutation for any sample count (computed per point, nothing stored): with 999
  // samples each of 3 values takes exactly 333 strata, each of 2 values 500 or 499.
  o.samples = 999;
  const explorer::Sampler many(s, o);
  seen.clear();
  for (std::uint64_t i = 0; i < 999; ++i) {
    const auto point = many.point(i);
    for (auto it = point.begin(); it != point.end(); ++it) ++seen[it.key() + "=" + it.value().dump()];
  }
  for (const auto& [value, n] : seen) {
    INFO(value);
    if (value.rfind("systolic.dataflow", 0) == 0)
      CHECK((n == 500 || n == 499));
    else
      CHECK(n == 333);
  }
  // 2^40 samples cost no memory to set up; one run refuses to list more than 2^26 of them.
  o.samples = std::uint64_t{1} << 40;
  const explorer::Sampler huge(s, o);
  CHECK(huge.point((std::uint64_t{1} << 40) - 1).is_object());
  CHECK_THROWS_WITH(explorer::sweep_indices(huge, o), Contains("--shard") && Contains("67108864"));
  o.method = explorer::SweepOptions::Method::halton;
  CHECK_THROWS_WITH(explorer::Sampler(s, o), Contains("halton") && Contains("1099511627776"));
  o.samples = 6;

  o.method = explorer::SweepOptions::Method::halton;
  const explorer::Sampler halton(s, o);
  CHECK(halton.point(0) != halton.point(1));
  CHECK(halton.point(3) == explorer::Sampler(s, o).point(3));
  const auto log = temp_log("halton");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", log, "--method", "halton",
                   "--samples", "5", "--quiet"}) == 0);
  CHECK(by_index(log).size() == 5);
}

TEST_CASE("explore: deterministic, resumable, and NSGA-II finds the known front",
          "[explorer][search]") {
  const auto a = temp_log("explore_a"), b = temp_log("explore_b");
  REQUIRE(run_cli({"explore", space_path("small.json"), "--log", a, "--budget", "64", "--seed", "5",
                   "--quiet"}) == 0);
  REQUIRE(run_cli({"explore", space_path("small.json"), "--log", b, "--budget", "64", "--seed", "5",
                   "--quiet"}) == 0);
  const auto full = by_index(a);
  CHECK(full == by_index(b));
  CHECK(full.size() <= 18);  // distinct points only: the space has 18

  // Killed after 5 points, mid-line: resuming replays those and evaluates the rest once.
  const auto killed = temp_log("explore_killed");
  {
    std::ifstream in(a);
    std::ofstream out(killed);
    std::string line;
    for (int i = 0; i < 5 && std::getline(in, line); ++i) out << line << "\n";
    std::getline(in, line);
    out << line.substr(0, 10);
  }
  REQUIRE(run_cli({"explore", space_path("small.json"), "--log", killed, "--budget", "64", "--seed",
                   "5", "--resume", "--quiet"}) == 0);
  CHECK(by_index(killed) == full);
  std::string err;
  CHECK(run_cli({"explore", space_path("small.json"), "--log", killed, "--budget", "64", "--seed",
                 "6", "--resume", "--quiet"},
                &err) == cli::kExitInputError);
  CHECK_THAT(err, Contains("is the log of another run (its header differs in run"));

  // The front NSGA-II reports is the true front of the space (from its full grid).
  const auto grid = temp_log("explore_grid");
  REQUIRE(run_cli({"sweep", space_path("small.json"), "--log", grid, "--quiet"}) == 0);
  const std::vector<explorer::Objective> objectives = {{"latency_s", true}, {"energy_pj", true}};
  const auto front_points = [&](const std::string& log) {
    const auto entries = explorer::read_log(log);
    std::set<std::string> points;
    for (auto i : explorer::pareto_front(entries, objectives))
      points.insert(entries[i].point.dump());
    return points;
  };
  CHECK(front_points(a) == front_points(grid));
  CHECK(
      run_cli({"explore", space_path("small.json"), "--log", temp_log("x"), "--algo", "annealing"},
              &err) == cli::kExitInputError);
  CHECK_THAT(err, Contains("known: boshcode, moead, nasaic, nsga2, random"));
}

TEST_CASE("constraints turn points that break them into failed entries with the reason",
          "[explorer][sweep]") {
  const auto space = explorer::read_space(space_path("constrained.json"));
  REQUIRE(space.constraints.size() == 2);
  CHECK(space.constraints[0].left.text() == "utilization ");
  CHECK_FALSE(space.constraints[0].at_most);
  CHECK(space.constraints[0].on_metrics);
  CHECK(space.constraints[0].right.evaluate([](const std::string&) { return 0.0; }) == 0.2);
  const auto log = temp_log("constrained");
  REQUIRE(run_cli({"sweep", space_path("constrained.json"), "--log", log, "--quiet"}) == 0);
  const explorer::WorkloadCache workloads(space);
  int failed = 0;
  for (const auto& e : explorer::read_log(log)) {
    // The same point evaluated without constraints tells whether it should have passed.
    auto free = space;
    free.constraints.clear();
    const auto reference = explorer::evaluate_point(free, workloads, e.index, e.point);
    REQUIRE(reference.ok);
    const bool feasible = reference.metrics.at("utilization") >= 0.2;
    INFO(e.point.dump() << " utilization " << reference.metrics.at("utilization"));
    CHECK(e.ok == feasible);
    if (!e.ok) CHECK_THAT(e.error, Contains("infeasible: utilization >= 0.2 violated"));
    failed += !e.ok;
  }
  CHECK(failed == 1);  // 16 rows: the least utilised
  const auto dir = std::filesystem::temp_directory_path();
  const auto bad = (dir / "tessera_bad_constraint.json").string();
  auto j = nlohmann::json::parse(std::ifstream(space_path("constrained.json")));
  j["arch"] = std::string(TESSERA_SOURCE_DIR) + "/configs/arch/systolic_tiny_8x8.json";
  j["constraints"] = {"area_mm2 < 3"};
  std::ofstream(bad) << j.dump();
  CHECK_THROWS_WITH(explorer::read_space(bad),
                    Contains("/constraints/0") && Contains("LEFT <= RIGHT"));
}

TEST_CASE("expressions: arithmetic, functions, names and errors", "[explorer][space]") {
  const auto e = explorer::Expression::parse("2 * (a.b + 3) ^ 2 / max(1, c) - -ceil(0.5)", "x: ");
  CHECK(e.names() == std::vector<std::string>{"a.b", "c"});
  const auto value = e.evaluate([](const std::string& n) -> std::optional<double> {
    return n == "a.b" ? 1.0 : 4.0;
  });
  CHECK(value == Approx(2.0 * 16 / 4 + 1));
  CHECK(explorer::Expression::parse("log2(64) + sqrt(16) + floor(2.7) + min(3, 1e1)", "")
            .evaluate([](const std::string&) { return std::nullopt; }) == Approx(6 + 4 + 2 + 3));
  CHECK_THROWS_WITH(
      explorer::Expression::parse("a +", "f.json: /derived/x: "),
      Contains("f.json: /derived/x: expected a number, a name or '(' at character 4 of \"a +\""));
  CHECK_THROWS_WITH(explorer::Expression::parse("pow(2, 3)", ""),
                    Contains("one of the functions min, max"));
  CHECK_THROWS_WITH(explorer::Expression::parse("max(1)", ""), Contains("max with 2 argument"));
  CHECK_THROWS_WITH(explorer::Expression::parse("(1 + 2", ""), Contains("expected ')'"));
  CHECK_THROWS_WITH(explorer::Expression::parse("nope * 2", "").evaluate([](const std::string&) {
    return std::nullopt;
  }),
                    Contains("unknown name 'nope'"));
}

TEST_CASE("derived parameters, workload parameters and constraints on the config",
          "[explorer][space]") {
  const auto space = explorer::read_space(space_path("derived.json"));
  REQUIRE(space.derived.size() == 2);
  REQUIRE(space.constraints.size() == 2);
  CHECK_FALSE(space.constraints[0].on_metrics);
  CHECK(space.constraints[1].on_metrics);
  // Point: rows 16, seq_len 32, weight bits 4.
  const nlohmann::json point = {
      {"systolic.rows", 16}, {"workload.default.weight_bits", 4}, {"workload.seq_len", 32}};
  const auto resolved = explorer::resolve_point(space, point);
  CHECK(resolved.values.at("systolic.cols") == 16);
  CHECK(resolved.values.at("sram.filter") == 16 * 16 * 4 / 8 * 64);
  CHECK(resolved.workload_settings ==
        nlohmann::json{{"batch", 1},
                       {"seq_len", 32},
                       {"default", {{"activation_bits", 8}, {"weight_bits", 4}}}});
  const auto cfg = explorer::point_config(space, resolved);
  CHECK(cfg.resolved["systolic"]["cols"] == 16);
  CHECK(cfg.resolved["sram"]["filter"] == 16 * 16 * 4 / 8 * 64);
  // sram.ifmap is "16 KiB" in the base config: 16384 bytes in the resolved config, so rows 32
  // (32 * 1024 > 16384) is infeasible before any simulation and rows 16 is not.
  CHECK_NOTHROW(explorer::check_constraints(space, resolved, cfg.resolved));
  auto big = point;
  big["systolic.rows"] = 32;
  const auto big_resolved = explorer::resolve_point(space, big);
  CHECK_THROWS_WITH(
      explorer::check_constraints(space, big_resolved,
                                  explorer::point_config(space, big_resolved).resolved),
      Contains("infeasible: sram.ifmap >= systolic.rows * 1024 violated (16384 < 32768)"));

  // Each point's workload is the file built with its settings: MACs follow the sequence length
  // and equal what the workload settings give when loaded directly.
  const explorer::WorkloadCache workloads(space);
  std::map<std::pair<int, int>, std::string> hashes;
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const auto p = space.grid_point(i);
    const auto e = explorer::evaluate_point(space, workloads, i, p);
    INFO(p.dump() << " " << e.error);
    if (p["systolic.rows"] == 32) {
      CHECK_FALSE(e.ok);
      CHECK_THAT(e.error, Contains("infeasible: sram.ifmap"));
      continue;
    }
    REQUIRE(e.ok);
    std::vector<std::string> logged;
    for (const auto& [metric, value] : e.metrics) logged.push_back(metric);
    auto names = explorer::metric_names();
    std::sort(names.begin(), names.end());
    CHECK(logged == names);  // constraints know every logged metric by name
    const int seq = p["workload.seq_len"], bits = p["workload.default.weight_bits"];
    const auto direct = workloads::load_workload(
        space.workload_file,
        workloads::read_workload_settings(
            {{"batch", 1}, {"seq_len", seq}, {"default", {{"weight_bits", bits}}}}, "test"));
    CHECK(e.metrics.at("macs") == static_cast<double>(direct.totals().macs));
    auto [it, added] = hashes.emplace(std::pair{seq, bits}, e.workload_hash);
    if (!added) CHECK(it->second == e.workload_hash);  // same settings, same workload
  }
  REQUIRE(hashes.size() == 4);
  CHECK(hashes.at({16, 4}) != hashes.at({32, 4}));
  CHECK(hashes.at({16, 4}) != hashes.at({16, 8}));  // precision is part of the workload
}

TEST_CASE("SystemC points run in worker processes with the same results for any --jobs",
          "[explorer][sweep][systemc]") {
  const auto one = temp_log("systemc_jobs1"), three = temp_log("systemc_jobs3");
  REQUIRE(run_cli({"sweep", space_path("small_systemc.json"), "--log", one, "--quiet"}) == 0);
  REQUIRE(run_cli({"sweep", space_path("small_systemc.json"), "--log", three, "--jobs", "3",
                   "--quiet"}) == 0);
  const auto a = by_index(one), b = by_index(three);
  CHECK(a.size() == 18);
  CHECK(a == b);
  // Half the points in workers (shard 0/2), merged as an incomplete log, then completed by a
  // resumed run in workers: the whole sweep, without duplicates.
  const auto half = temp_log("systemc_half"), resumed = temp_log("systemc_resume");
  REQUIRE(run_cli({"sweep", space_path("small_systemc.json"), "--log", half, "--shard", "0/2",
                   "--jobs", "2", "--quiet"}) == 0);
  REQUIRE(run_cli({"merge", half, "--out", resumed, "--allow-incomplete"}) == 0);
  REQUIRE(run_cli({"sweep", space_path("small_systemc.json"), "--log", resumed, "--resume",
                   "--jobs", "2", "--quiet"}) == 0);
  CHECK(by_index(resumed) == a);
}

TEST_CASE("every shipped design space reads and evaluates its first points",
          "[explorer][space]") {
  for (const auto& entry :
       std::filesystem::directory_iterator(test::source_path("configs/spaces"))) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path());
    const auto space = explorer::read_space(entry.path().string());
    const explorer::WorkloadCache workloads(space);
    int ok = 0;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(space.grid_size(), 4); ++i)
      ok += explorer::evaluate_point(space, workloads, i, space.grid_point(i)).ok;
    CHECK(ok > 0);
  }
}

TEST_CASE("derived parameters run after those they name; a cycle is an error",
          "[explorer][space][errors]") {
  const auto dir = std::filesystem::temp_directory_path();
  auto j = nlohmann::json::parse(std::ifstream(space_path("small.json")));
  j["arch"] = test::source_path("configs/arch/systolic_tiny_8x8.json");
  j["workload"] = test::source_path("configs/workloads/lenet5.json");
  // "a..." sorts before "systolic.cols", which it uses.
  j["derived"] = {{"dram.latency_cycles", "systolic.cols * 2"}, {"systolic.cols", "systolic.rows"}};
  const auto path = (dir / "tessera_derived_order.json").string();
  std::ofstream(path) << j.dump();
  const auto space = explorer::read_space(path);
  const auto p = explorer::resolve_point(space, space.grid_point(2));  // rows 16
  CHECK(p.values.at("systolic.cols") == 16);
  CHECK(p.values.at("dram.latency_cycles") == 32);
  j["derived"] = {{"systolic.cols", "dram.latency_cycles"}, {"dram.latency_cycles", "systolic.cols"}};
  std::ofstream(path) << j.dump();
  CHECK_THROWS_WITH(explorer::read_space(path),
                    Contains("/derived: derived parameters depend on each other in a cycle"));
}
