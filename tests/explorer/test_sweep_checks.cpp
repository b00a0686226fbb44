// Sweeps that cannot fail quietly, and results logs that cannot be damaged: the log header and
// what it guards (--resume, merge completeness, pareto's objectives), exit status and failure
// summary, the lock, and bad design spaces and expressions that must be errors, not crashes.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "cli/app.hpp"
#include "cli/results_file.hpp"
#include "cli/run_log.hpp"
#include "cli_support.hpp"
#include "explorer/expression.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("tessera_checks_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string space_path(const std::string& f) { return test::data_path("spaces/" + f); }

// small.json with its relative paths made absolute, plus `extra` keys, written to `dir`.
std::string write_space(const fs::path& dir, const nlohmann::json& extra,
                        const std::string& name = "space.json") {
  auto j = nlohmann::json::parse(std::ifstream(space_path("small.json")));
  j["arch"] = test::source_path("configs/arch/systolic_tiny_8x8.json");
  j["workload"] = test::source_path("configs/workloads/lenet5.json");
  j.update(extra);
  const auto path = (dir / name).string();
  std::ofstream(path) << j.dump(1);
  return path;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Entries by index without the wall time.
std::map<std::uint64_t, nlohmann::json> by_index(const std::string& log) {
  std::map<std::uint64_t, nlohmann::json> out;
  for (const auto& e : explorer::read_log(log)) {
    auto j = explorer::to_json(e);
    j.erase("wall_s");
    out.emplace(e.index, j);
  }
  return out;
}

}  // namespace

TEST_CASE("a sweep's log starts with a header naming its run", "[explorer][log]") {
  const auto dir = temp_dir("header");
  const auto space = write_space(dir, {{"objectives", {"energy_pj:min", "utilization:max"}}});
  const auto log = (dir / "new" / "folder" / "r.jsonl").string();  // the folder is created
  const auto r = test::run_cli({"sweep", space, "--log", log, "--shard", "1/3", "--quiet"});
  REQUIRE(r.code == 0);
  const auto parsed = explorer::read_results_log(log);
  REQUIRE(parsed.header);
  const auto& h = *parsed.header;
  CHECK(h.command == "sweep");
  CHECK(h.space_hash == explorer::read_space(space).hash);
  CHECK(h.base_config_hash == explorer::read_space(space).base_config_hash);
  CHECK(h.size == 18);
  CHECK(h.shard == 1);
  CHECK(h.shards == 3);
  CHECK(h.objectives == std::vector<std::string>{"energy_pj:min", "utilization:max"});
  CHECK(h.run == nlohmann::json{{"method", "grid"}});
  CHECK_FALSE(h.tool_version.empty());
  CHECK(parsed.entries.size() == 6);
  // The header is the first line, in the documented key order.
  CHECK(read_text(log).rfind(R"({"log":"tessera.results","version":2,"header":{"command":"sweep",)",
                             0) == 0);

  // pareto ranks by the header's objectives unless told otherwise.
  const auto front = test::run_cli({"pareto", log, "--json"});
  REQUIRE(front.code == 0);
  CHECK(nlohmann::json::parse(front.out)["objectives"] ==
        nlohmann::json{"energy_pj:min", "utilization:max"});
  const auto given = test::run_cli({"pareto", log, "--json", "--objectives", "latency_s"});
  CHECK(nlohmann::json::parse(given.out)["objectives"] == nlohmann::json{"latency_s:min"});
}

TEST_CASE("evaluator pools are chosen by name from one registry", "[explorer][sweep]") {
  const auto list = test::run_cli({"list", "--json"});
  REQUIRE(list.code == 0);
  const auto pools = nlohmann::json::parse(list.out).at("evaluator_pools");
  for (const char* name : {"inline", "threads", "processes"}) CHECK(pools.contains(name));
  const auto dir = temp_dir("pools");
  const auto space = write_space(dir, nlohmann::json::object());
  auto r = test::run_cli(
      {"sweep", space, "--log", (dir / "a.jsonl").string(), "--pool", "cluster", "--quiet"});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("unknown evaluator pool 'cluster' (known: inline,"));
  r = test::run_cli({"sweep", test::data_path("spaces/small_systemc.json"), "--log",
                     (dir / "b.jsonl").string(), "--pool", "threads", "--quiet"});
  CHECK_THAT(r.err, Contains("systemc points run one per process"));
  // Every pool gives the same log.
  std::map<std::uint64_t, nlohmann::json> first;
  for (const char* pool : {"inline", "threads", "processes"}) {
    const auto log = (dir / (std::string(pool) + ".jsonl")).string();
    REQUIRE(test::run_cli({"sweep", space, "--log", log, "--pool", pool, "--jobs", "2", "--quiet"})
                .code == 0);
    if (first.empty())
      first = by_index(log);
    else
      CHECK(by_index(log) == first);
  }
  CHECK(first.size() == 18);
}

TEST_CASE("a resumed run continues only the log its header describes", "[explorer][log][errors]") {
  const auto dir = temp_dir("resume");
  const auto space = write_space(dir, nlohmann::json::object());
  const auto log = (dir / "r.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", log, "--shard", "0/4", "--quiet"}).code == 0);
  const std::string before = read_text(log);

  // Another shard, method or seed: refused, the log untouched.
  auto r = test::run_cli({"sweep", space, "--log", log, "--shard", "1/8", "--resume", "--quiet"});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("its header differs in shard (0/4 vs 1/8)"));
  r = test::run_cli({"sweep", space, "--log", log, "--resume", "--quiet"});
  CHECK_THAT(r.err, Contains("its header differs in shard (0/4 vs 0/1)"));
  CHECK(read_text(log) == before);

  // The same space file over another base config: refused by its hash.
  const auto arch = (dir / "arch.json").string();
  fs::copy_file(test::source_path("configs/arch/systolic_tiny_8x8.json"), arch);
  const auto own = write_space(dir, {{"arch", arch}}, "own.json");
  const auto own_log = (dir / "own.jsonl").string();
  REQUIRE(test::run_cli({"sweep", own, "--log", own_log, "--shard", "0/2", "--quiet"}).code == 0);
  {
    auto j = nlohmann::json::parse(std::ifstream(arch));
    j["dram"]["latency_cycles"] = 21;
    std::ofstream(arch) << j.dump();
  }
  r = test::run_cli({"sweep", own, "--log", own_log, "--shard", "0/2", "--resume", "--quiet"});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("base_config_hash"));

  // A line whose hashes are not this space's (edited, or written for other inputs): refused.
  {
    auto lines = read_text(log);
    const auto at = lines.find("\"workload_hash\":\"", lines.find('\n'));  // an entry's
    REQUIRE(at != std::string::npos);
    auto mixed = (dir / "mixed.jsonl").string();
    lines[at + 17] = lines[at + 17] == '0' ? '1' : '0';
    std::ofstream(mixed) << lines;
    r = test::run_cli({"sweep", space, "--log", mixed, "--shard", "0/4", "--resume", "--quiet"});
    CHECK(r.code == cli::kExitInputError);
    CHECK_THAT(r.err, Contains("workload_hash differs"));
  }
}

TEST_CASE("resuming never changes a file that is not this run's results log",
          "[explorer][log][errors]") {
  const auto dir = temp_dir("not_a_log");
  const auto space = write_space(dir, nlohmann::json::object());
  for (const std::string& text :
       {std::string("{\"a\": 1}\n"), std::string("{\"a\": 1}"), std::string("hello\nworld"),
        // A version 1 log (no header): readable, but not continued.
        read_text(test::data_path("logs/front2d.jsonl"))}) {
    const auto file = (dir / "file.jsonl").string();
    std::ofstream(file, std::ios::binary) << text;
    const auto r = test::run_cli({"sweep", space, "--log", file, "--resume", "--quiet"});
    INFO(text.substr(0, 40));
    CHECK(r.code == cli::kExitInputError);
    CHECK(read_text(file) == text);
  }
}

TEST_CASE("a locked log is refused: two runs never write one log", "[explorer][log][errors]") {
  const auto dir = temp_dir("lock");
  const auto space = write_space(dir, nlohmann::json::object());
  const auto log = (dir / "r.jsonl").string();
  {
    const cli::ResultsFile writing(log);  // another run holds it
    const auto r = test::run_cli({"sweep", space, "--log", log, "--quiet"});
    CHECK(r.code == cli::kExitInputError);
    CHECK_THAT(r.err, Contains("another run is writing this results log"));
  }
  CHECK(test::run_cli({"sweep", space, "--log", log, "--quiet"}).code == 0);  // released
}

TEST_CASE("readers reject an index logged twice", "[explorer][log][errors]") {
  const auto dir = temp_dir("duplicates");
  const auto log = (dir / "d.jsonl").string();
  const auto lines = read_text(test::data_path("logs/front2d.jsonl"));
  const auto first = lines.substr(0, lines.find('\n') + 1);
  for (const std::string& second :
       {first, first.substr(0, first.find("\"wall_s\"")) + "\"wall_s\":9}\n"}) {
    std::ofstream(log) << first << second;
    CHECK_THROWS_WITH(explorer::read_log(log),
                      Contains(log + ":2: index 0 again (first on line 1)"));
  }
}

TEST_CASE("merge checks that the shards cover the sweep", "[explorer][log]") {
  const auto dir = temp_dir("merge");
  const auto space = write_space(dir, nlohmann::json::object());
  const auto full = (dir / "full.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", full, "--quiet"}).code == 0);
  std::vector<std::string> shards;
  for (int i = 0; i < 4; ++i) {
    shards.push_back((dir / ("s" + std::to_string(i) + ".jsonl")).string());
    REQUIRE(test::run_cli({"sweep", space, "--log", shards.back(), "--shard",
                           std::to_string(i) + "/4", "--quiet"})
                .code == 0);
  }
  const auto out = (dir / "merged.jsonl").string();
  // Three of four: an error naming the missing indices and shard; nothing written.
  auto r = test::run_cli({"merge", shards[0], shards[1], shards[3], "--out", out});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("4 of the sweep's 18 points are missing (indices 2, 6, 10, 14)") &&
                        Contains("no log of shard 2/4"));
  CHECK_FALSE(fs::exists(out));
  // --allow-incomplete writes it, and sweep --resume completes it.
  r = test::run_cli({"merge", shards[0], shards[1], shards[3], "--out", out, "--allow-incomplete"});
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Contains("warning: 4 of the sweep's 18 points are missing"));
  REQUIRE(test::run_cli({"sweep", space, "--log", out, "--resume", "--quiet"}).code == 0);
  CHECK(by_index(out) == by_index(full));
  // All four: the whole sweep, with the whole run's header.
  const auto all = (dir / "all.jsonl").string();
  REQUIRE(test::run_cli({"merge", shards[0], shards[1], shards[2], shards[3], "--out", all}).code ==
          0);
  CHECK(by_index(all) == by_index(full));
  CHECK(explorer::read_results_log(all).header->shards == 1);
  // Shards of different sweeps: refused.
  const auto other = (dir / "other.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", other, "--method", "random", "--samples", "4",
                         "--shard", "2/4", "--quiet"})
              .code == 0);
  r = test::run_cli({"merge", shards[0], other, "--out", (dir / "x.jsonl").string()});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("are logs of different runs"));
}

TEST_CASE("every point failing is a non-zero exit with the failures by reason",
          "[explorer][sweep][errors]") {
  const auto dir = temp_dir("all_failed");
  const auto space =
      write_space(dir, {{"parameters", {{"systolic.rows", {{"values", {0, -3, -5, 0.5}}}}}}});
  const auto log = (dir / "r.jsonl").string();
  const auto r = test::run_cli({"sweep", space, "--log", log, "--quiet"});
  CHECK(r.code == cli::kExitNoResults);
  CHECK_THAT(r.err,
             Contains("failures by reason (4 of 4 points)") && Contains("every point failed"));
  // Failures are counted by kind: 0, -3 and -5 rows are one reason (their numbers become #).
  CHECK_THAT(r.err, Contains("3 x ") && Contains("#"));
  const auto p = test::run_cli({"pareto", log});
  CHECK(p.code == cli::kExitNoResults);
  CHECK_THAT(p.err, Contains("no ok entry to rank (4 failed)"));
  CHECK(cli::failure_kind("infeasible: area_mm2 <= 10 violated (12.5 > 10)") ==
        "infeasible: area_mm2 <= # violated (# > #)");
}

TEST_CASE("derived values are logged with the point", "[explorer][sweep]") {
  const auto dir = temp_dir("derived");
  const auto log = (dir / "r.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space_path("derived.json"), "--log", log, "--quiet"}).code == 0);
  int checked = 0;
  for (const auto& e : explorer::read_log(log)) {
    if (!e.ok) continue;
    const auto rows = e.point.at("systolic.rows").get<int>();
    CHECK(e.derived.at("systolic.cols") == rows);
    CHECK(e.derived.at("sram.filter") ==
          rows * rows * e.point.at("workload.default.weight_bits").get<int>() / 8 * 64);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("progress lines every few seconds when stderr is not a terminal", "[explorer][sweep]") {
  if (::isatty(::fileno(stderr))) return;  // on a terminal the line is redrawn in place instead
  const auto dir = temp_dir("progress");
  const auto space = write_space(dir, nlohmann::json::object());
  const auto r =
      test::run_cli({"sweep", space, "--log", (dir / "r.jsonl").string(), "--progress-every", "0"});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Contains("] 1/18 points") && Contains("] 18/18 points, "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 18);
}

TEST_CASE("a point whose clock is out of range is logged as failed", "[explorer][sweep]") {
  const auto dir = temp_dir("nonfinite");
  const auto space =
      write_space(dir, {{"parameters", {{"clock", {{"values", {"1e-300 MHz", "400 MHz"}}}}}}});
  // The clock is refused when the point's config is read (frequency bounds), which fails the
  // point the same way a non-finite metric would: logged as failed, the sweep goes on.
  const auto log = (dir / "r.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", log, "--quiet"}).code == 0);
  const auto entries = explorer::read_log(log);
  REQUIRE(entries.size() == 2);
  CHECK_FALSE(entries[0].ok);
  CHECK_THAT(entries[0].error, Contains("/clock: frequency must be in [1000, 1e+12] Hz"));
  CHECK(entries[1].ok);
}

TEST_CASE("a point with a non-finite metric is logged as failed and the sweep goes on",
          "[explorer][sweep][errors]") {
  const auto dir = temp_dir("nonfinite_metric");
  // A technology table whose MAC energy is a valid number (1e307 pJ) but whose product with
  // LeNet-5's 416,520 MACs overflows: the energy of the run is infinite, a metric JSON cannot
  // hold.
  auto tech = nlohmann::json::parse(std::ifstream(test::source_path("configs/tech/45nm.json")));
  for (auto& [precision, mac] : tech.at("mac").items()) mac["energy_pj"] = 1e307;
  const auto tech_file = (dir / "huge_mac_energy.json").string();
  std::ofstream(tech_file) << tech.dump(1);
  const auto space = write_space(
      dir, {{"parameters", {{"technology", {{"values", {tech_file, "45nm"}}}}}}});
  const auto log = (dir / "r.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", log, "--quiet"}).code == 0);
  const auto entries = explorer::read_log(log);
  REQUIRE(entries.size() == 2);
  CHECK_FALSE(entries[0].ok);
  CHECK_THAT(entries[0].error, Contains("energy is not finite (inf pJ)") &&
                                   Contains("technology table"));
  CHECK(entries[0].metrics.empty());
  CHECK(entries[1].ok);
  CHECK(std::isfinite(entries[1].metrics.at("energy_pj")));

  // simulate refuses to report it: one line, exit 1, no report written.
  const auto out = (dir / "report.json").string();
  const auto r = test::run_cli({"simulate", "--arch",
                                test::source_path("configs/arch/systolic_tiny_8x8.json"),
                                "--workload", test::source_path("configs/workloads/lenet5.json"),
                                "--set", "technology=" + tech_file, "--out", out, "--quiet"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("lenet5.json") && Contains("energy is not finite"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(out));
  // Nor does energy (toggles priced by the same table).
  const auto e = test::run_cli({"energy", "--arch",
                                test::source_path("configs/arch/systolic_tiny_8x8.json"),
                                "--workload", test::source_path("configs/workloads/lenet5.json"),
                                "--set", "technology=" + tech_file});
  CHECK(e.code == 1);
  CHECK_THAT(e.err, Contains("huge_mac_energy.json") && Contains("energy of lenet5 is not finite"));
  CHECK(std::count(e.err.begin(), e.err.end(), '\n') == 1);
}

TEST_CASE("bad design spaces are errors, not loops, overflows or crashes",
          "[explorer][space][errors]") {
  const auto dir = temp_dir("bad_spaces");
  const auto fails = [&](const nlohmann::json& extra, const std::string& what) {
    const auto path = write_space(dir, extra);
    CHECK_THROWS_WITH(explorer::read_space(path), Contains("space.json") && Contains(what));
  };
  fails({{"derived", {{"systolic.rows", "2 * 8"}}}},
        "/derived/systolic.rows: is also a swept parameter");
  // Found by fuzz_design_space: the space file and key that name a missing architecture file.
  fails({{"arch", "no_such_arch.json"}}, "space.json: /arch: " +
                                             (dir / "no_such_arch.json").string() +
                                             ": cannot open file");
  nlohmann::json many = nlohmann::json::object();
  for (int i = 0; i < 65; ++i) many["p" + std::to_string(100 + i)] = {{"values", {1, 2}}};
  fails({{"parameters", many}}, "the grid has more than 2^64 points");
  fails({{"parameters", {{"systolic.rows", {{"range", {{"min", 0}, {"max", 1000000000000}}}}}}}},
        "has 1000000000001 values");
  fails({{"parameters",
          {{"systolic.rows",
            {{"range", {{"min", -9223372036854775807LL - 1}, {"max", 9223372036854775807LL}}}}}}}},
        "/range/min: integer -9223372036854775808 is beyond the accepted range +-2^53");
  fails({{"objectives", {"latency:min"}}}, "/objectives/0: unknown metric 'latency'");
  fails({{"objectives", {"latency_s:min", "latency_s:max"}}}, "is an objective twice");
  // Integers in any Tessera file are at most 2^53 in magnitude; bounds at that limit: no
  // overflow, no endless loop.
  fails({{"parameters", {{"a", {{"pow2", {{"min", 1}, {"max", 4611686018427387904LL}}}}}}}},
        "/parameters/a/pow2/max: integer 4611686018427387904 is beyond the accepted range");
  constexpr long long kTop = 1LL << 53;
  const auto top = write_space(
      dir, {{"parameters",
             {{"a", {{"range", {{"min", kTop - 807}, {"max", kTop}}}}},
              {"b", {{"pow2", {{"min", 1}, {"max", kTop}}}}}}}});
  const auto s = explorer::read_space(top);
  CHECK(s.parameters[0].values.size() == 808);
  CHECK(s.parameters[0].values.back() == kTop);
  CHECK(s.parameters[1].values.size() == 54);
}

TEST_CASE("a constraint that is not a number fails the point", "[explorer][space][errors]") {
  const auto dir = temp_dir("nan_constraint");
  const auto space = write_space(dir, {{"constraints", {"sqrt(0 - systolic.rows) <= 1"}}});
  const auto log = (dir / "r.jsonl").string();
  CHECK(test::run_cli({"sweep", space, "--log", log, "--quiet"}).code == cli::kExitNoResults);
  for (const auto& e : explorer::read_log(log)) {
    CHECK_FALSE(e.ok);
    CHECK_THAT(e.error, Contains("constraint sqrt(0 - systolic.rows) <= 1 is not a number"));
  }
}

TEST_CASE("expressions: deep nesting is an error, long sums are fine", "[explorer][space]") {
  const auto none = [](const std::string&) -> std::optional<double> { return std::nullopt; };
  const std::string nested = std::string(10000, '(') + "1" + std::string(10000, ')');
  CHECK_THROWS_WITH(explorer::Expression::parse(nested, "f.json: /derived/x: "),
                    Contains("f.json: /derived/x: nested more than 200 levels deep"));
  CHECK_THROWS_WITH(explorer::Expression::parse(std::string(100000, '-') + "1", ""),
                    Contains("nested more than"));
  std::string power = "2";
  for (int i = 0; i < 100000; ++i) power += "^1";
  CHECK_THROWS_WITH(explorer::Expression::parse(power, ""), Contains("nested more than"));
  // Found by fuzz_expression (fuzz/regressions/expression/): the text is quoted as the JSON
  // string it came from, so a newline or a control character in it leaves the message one line.
  CHECK_THROWS_WITH(explorer::Expression::parse("(1 +\n\x01", "f.json: /derived/x: "),
                    Equals("f.json: /derived/x: expected a number, a name or '(' at character 6 "
                           "of \"(1 +\\n\\u0001\""));
  std::string sum = "1";
  for (int i = 1; i < 300000; ++i) sum += i % 2 ? "+2" : "-1";
  CHECK(explorer::Expression::parse(sum, "").evaluate(none) == 1 + 150000 * 2 - 149999);
  std::string product = "1";
  for (int i = 0; i < 300000; ++i) product += "*1";
  CHECK(explorer::Expression::parse(product + "/4", "").evaluate(none) == 0.25);
  // Nesting within the limit still parses.
  const std::string ok = std::string(150, '(') + "3" + std::string(150, ')');
  CHECK(explorer::Expression::parse(ok, "").evaluate(none) == 3);
}

namespace {

// A two-task space (NB201 cells fixed by "arch", one on nvdla, one on a swept template) with
// the given parameters and extra keys, written to `dir`.
std::string write_two_tasks(const fs::path& dir, const nlohmann::json& parameters,
                            const nlohmann::json& extra = nlohmann::json::object()) {
  const std::string cell =
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
  nlohmann::json j = {
      {"format", "tessera.space"},
      {"version", 1},
      {"tasks",
       {{{"name", "a"},
         {"network", {{"kind", "nasbench201"}, {"arch", cell}}},
         {"template", "nvdla"}},
        {{"name", "b"}, {"network", {{"kind", "nasbench201"}, {"arch", cell}}}}}},
      {"templates",
       {{"nvdla", test::source_path("configs/arch/systolic_tiny_8x8.json")},
        {"eyeriss", test::source_path("configs/arch/eyeriss.json")}}},
      {"parameters", parameters}};
  j.update(extra);
  const auto path = (dir / "two_tasks.json").string();
  std::ofstream(path) << j.dump(1);
  return path;
}

}  // namespace

TEST_CASE("two parameters that set one config key are refused, naming both",
          "[explorer][space][errors]") {
  const auto dir = temp_dir("same_key");
  const auto fails = [&](const nlohmann::json& extra, const std::string& what) {
    const auto path = write_space(dir, extra);
    CHECK_THROWS_WITH(explorer::read_space(path), Contains("space.json: ") && Contains(what));
  };
  const nlohmann::json rows = {{"values", {4, 8}}};
  // The dotted path and the JSON pointer of one key.
  fails({{"parameters", {{"systolic.rows", rows}, {"/systolic/rows", rows}}}},
        "/parameters/systolic.rows: sets the key systolic.rows of the architecture config, as "
        "/parameters/~1systolic~1rows does; give each config key one parameter");
  // An object and a key inside it.
  fails({{"parameters", {{"systolic.rows", rows}, {"systolic", {{"values", {{{"rows", 2}}}}}}}}},
        "sets the key systolic.rows (or the object systolic holding it) of the architecture config");
  // A derived parameter and a parameter.
  fails({{"parameters", {{"systolic.rows", rows}}}, {"derived", {{"/systolic/rows", "4"}}}},
        "/derived/~1systolic~1rows: sets the key systolic.rows of the architecture config, as "
        "/parameters/systolic.rows does");
  fails({{"parameters",
          {{"systolic.rows", rows},
           {"workload.default", {{"values", {{{"weight_bits", 4}}}}}},
           {"workload.default.weight_bits", {{"values", {4, 8}}}}}}},
        "of the workload settings");
  fails({{"parameters", {{"systolic..rows", rows}}}},
        "/parameters/systolic..rows: 'systolic..rows' is not a config path");
  fails({{"parameters", {{"systolic.rows=4", rows}}}}, "is not a config path");

  // Multi-task: a task's shorthand and the full path it stands for.
  const auto task_fails = [&](const nlohmann::json& parameters, const std::string& what) {
    const auto path = write_two_tasks(dir, parameters);
    CHECK_THROWS_WITH(explorer::read_space(path), Contains("two_tasks.json: ") && Contains(what));
  };
  const nlohmann::json templates = {{"values", {"nvdla", "eyeriss"}}};
  task_fails({{"b.template", templates}, {"a.rows", rows}, {"a.arch.systolic.rows", rows}},
             "/parameters/a.rows: sets the key systolic.rows of the config of task a, as "
             "/parameters/a.arch.systolic.rows does");
  task_fails({{"b.template", templates},
              {"a.bandwidth_gbs", {{"values", {6.4}}}},
              {"a.arch.dram", {{"values", {{{"bandwidth", "4 B/cycle"}}}}}}},
             "(or the object dram holding it) of the config of task a");
  // Task b may be either template: its rows are systolic.rows or eyeriss.rows.
  task_fails({{"b.template", templates}, {"b.rows", rows}, {"b.arch.eyeriss.rows", rows}},
             "sets the key eyeriss.rows of the config of task b");
  // The same key of two tasks is two keys.
  CHECK_NOTHROW(explorer::read_space(write_two_tasks(
      dir, {{"b.template", templates}, {"a.rows", rows}, {"b.arch.systolic.rows", rows}})));
}

TEST_CASE("sums and products that overflow, and empty lists, are refused at load",
          "[explorer][space][errors]") {
  const auto dir = temp_dir("overflow_empty");
  const nlohmann::json rows = {{"values", {4, 8}}};
  // The combined accuracy sums weight x accuracy: the weights must leave room for it.
  auto tasks = nlohmann::json::parse(std::ifstream(write_two_tasks(dir, {{"a.rows", rows}})));
  tasks["tasks"][1]["template"] = "nvdla";
  for (const double w : {1e307, 1.7e308}) {
    tasks["tasks"][0]["weight"] = w;
    tasks["tasks"][1]["weight"] = w;
    std::ofstream(dir / "weights.json") << tasks.dump();
    CHECK_THROWS_WITH(explorer::read_space((dir / "weights.json").string()),
                      Contains("weights.json: /tasks: the tasks' weights sum to more than a "
                               "double holds"));
  }
  tasks["tasks"][0]["weight"] = 1e300;
  tasks["tasks"][1]["weight"] = 3e300;
  std::ofstream(dir / "weights.json") << tasks.dump();
  CHECK(explorer::read_space((dir / "weights.json").string()).tasks[1].weight == 3e300);

  const auto fails = [&](const nlohmann::json& extra, const std::string& what) {
    const auto path = write_space(dir, extra);
    CHECK_THROWS_WITH(explorer::read_space(path), Contains("space.json: ") && Contains(what));
  };
  fails({{"objectives", {"latency_s:min"}},
         {"hypervolume", {{"lo", {-1e308}}, {"ref", {1e308}}}}},
        "/hypervolume/ref: ref - lo overflows for objective latency_s");
  fails({{"objectives", nlohmann::json::array()}},
        "/objectives: must list at least one objective");
  fails({{"workload", test::source_path("configs/models/gpt2.json")},
         {"workload_settings", {{"generate", 4}, {"decode_weight_bits", nlohmann::json::array()}}}},
        "/workload_settings/decode_weight_bits: must list at least one phase");
  fails({{"parameters", {{"systolic.rows", {{"values", nlohmann::json::array()}}}}}},
        "/parameters/systolic.rows/values: must list at least one value");
  CHECK_THROWS_WITH(explorer::read_space(write_two_tasks(dir, {{"a.rows", rows}},
                                                         {{"tasks", nlohmann::json::array()}})),
                    Contains("/tasks: must list at least one task"));
}

TEST_CASE("derived parameters over values that are not numbers are refused at load",
          "[explorer][space][errors]") {
  const auto dir = temp_dir("derived_numbers");
  const auto fails = [&](const nlohmann::json& extra, const std::string& what) {
    const auto path = write_space(dir, extra);
    CHECK_THROWS_WITH(explorer::read_space(path), Contains("space.json: ") && Contains(what));
  };
  // small.json sweeps systolic.dataflow over "ws" and "os".
  fails({{"derived", {{"sram.filter", "systolic.dataflow * 2"}}}},
        "/derived/sram.filter: names systolic.dataflow, whose values are not all numbers "
        "(\"ws\"): a derived parameter is computed from numbers");
  // "16 KiB" in the base config is a string: constraints read the resolved config, derived
  // parameters the base one as written.
  fails({{"derived", {{"sram.filter", "sram.ifmap * 2"}}}},
        "names sram.ifmap, which is neither a parameter nor a number in the base config");
  fails({{"derived", {{"sram.filter", "no.such.key"}}}}, "names no.such.key, which is neither");
  fails({{"derived", {{"sram.filter", "workload.batch * 1024"}}}},
        "names workload.batch, which is neither a parameter nor a number in "
        "\"workload_settings\"");
  // Numbers of every kind are fine: parameters, other derived ones, the base config's, the
  // base workload settings'.
  const auto ok = write_space(
      dir, {{"workload_settings", {{"default", {{"weight_bits", 8}}}}},
            {"derived",
             {{"systolic.cols", "systolic.rows * dram.latency_cycles / 20"},
              {"sram.filter", "systolic.cols * workload.default.weight_bits * 128"}}}});
  CHECK(explorer::read_space(ok).derived.size() == 2);

  // What a derived parameter sets must take a number.
  const nlohmann::json rows = {{"values", {4, 8}}};
  CHECK_THROWS_WITH(
      explorer::read_space(write_two_tasks(dir, {{"a.rows", rows}, {"b.template", {{"values", {"nvdla"}}}}},
                                           {{"derived", {{"a.template", "1"}}}})),
      Contains("/derived/a.template: a derived parameter is a number; a template is chosen by name"));
  CHECK_THROWS_WITH(
      explorer::read_space(write_two_tasks(dir, {{"a.rows", rows}, {"b.template", {{"values", {"nvdla"}}}}},
                                           {{"derived", {{"a.network.op_1_0", "1"}}}})),
      Contains("/derived/a.network.op_1_0: a derived parameter is a number; a NAS-Bench-201 cell"));
  CHECK_THROWS_WITH(
      explorer::read_space(write_two_tasks(dir, {{"a.rows", rows}, {"b.template", {{"values", {"nvdla"}}}}},
                                           {{"derived", {{"c.rows", "a.rows"}}}})),
      Contains("/derived/c.rows: a multi-task space's parameters are"));
  CHECK_THROWS_WITH(
      explorer::read_space(write_two_tasks(dir, {{"a.rows", rows}, {"b.template", {{"values", {"nvdla"}}}}},
                                           {{"derived", {{"b.rows", "a.arch.systolic.cols"}}}})),
      Contains("names a.arch.systolic.cols, which is not a parameter"));
}

TEST_CASE("a multi-task space's constraints read each task's config", "[explorer][space]") {
  const auto dir = temp_dir("task_constraints");
  // Task a: nvdla on the tiny 8x8 config (400 MHz, 4 B/cycle: 1.6 GB/s), rows swept; b fixed.
  const auto path = write_two_tasks(
      dir, {{"a.rows", {{"values", {4, 16}}}}, {"b.template", {{"values", {"nvdla"}}}}},
      {{"constraints",
        {"a.rows * a.cols <= 64", "a.arch.systolic.cols <= 8", "a.bandwidth_gbs >= 1.6",
         "b.arch.sram.ifmap >= 16384"}}});
  const auto space = explorer::read_space(path);
  const explorer::WorkloadCache workloads(space);
  const auto small = explorer::evaluate_point(space, workloads, 0, space.grid_point(0));
  INFO(small.error);
  CHECK(small.ok);  // 4 x 8 <= 64, and every key read from the tasks' configs
  const auto large = explorer::evaluate_point(space, workloads, 1, space.grid_point(1));
  CHECK_FALSE(large.ok);
  CHECK_THAT(large.error, Contains("infeasible: a.rows * a.cols <= 64 violated (128 > 64)"));
}

TEST_CASE("a network parameter invalid for one value fails that point, even point 0",
          "[explorer][sweep][errors]") {
  const auto dir = temp_dir("network_value");
  nlohmann::json j = {
      {"format", "tessera.space"},
      {"version", 1},
      {"arch", test::source_path("configs/arch/systolic_tiny_8x8.json")},
      {"network", {{"kind", "transformer"}, {"config", test::source_path("configs/models/bert-base-uncased.json")}}},
      {"workload_settings", {{"seq_len", 8}}},
      // Grid point 0 has hidden 100, which 12 heads do not divide.
      {"parameters",
       {{"network.hidden", {{"values", {100, 768}}}}, {"network.layers", {{"values", {1}}}}}}};
  const auto space = (dir / "space.json").string();
  std::ofstream(space) << j.dump();
  const auto log = (dir / "r.jsonl").string();
  const auto r = test::run_cli({"sweep", space, "--log", log, "--quiet"});
  INFO(r.err);
  CHECK(r.code == 0);
  const auto entries = test::log_by_index(log);
  REQUIRE(entries.size() == 2);
  CHECK(entries.at(0).at("status") == "failed");
  CHECK_THAT(entries.at(0).at("error").get<std::string>(),
             Contains("network.hidden 100 is not a multiple of network.heads 12"));
  CHECK(entries.at(1).at("status") == "ok");
  // The header's workload hash stands for the space's network, the same in every run.
  const auto header = explorer::read_results_log(log).header;
  REQUIRE(header);
  CHECK(header->workload_hash == explorer::WorkloadCache(explorer::read_space(space)).base_hash());

  // A workload parameter's bad value fails its points too, wherever they are.
  const auto lenet = write_space(
      dir, {{"parameters", {{"systolic.rows", {{"values", {8}}}},
                            {"workload.default.weight_bits", {{"values", {8, 0, 4}}}}}}});
  const auto log2 = (dir / "r2.jsonl").string();
  CHECK(test::run_cli({"sweep", lenet, "--log", log2, "--quiet"}).code == 0);
  const auto lenet_entries = test::log_by_index(log2);
  REQUIRE(lenet_entries.size() == 3);
  CHECK(lenet_entries.at(0).at("status") == "ok");
  CHECK(lenet_entries.at(1).at("status") == "failed");
  CHECK_THAT(lenet_entries.at(1).at("error").get<std::string>(),
             Contains("/workload_settings/default/weight_bits"));
  CHECK(lenet_entries.at(2).at("status") == "ok");
}
