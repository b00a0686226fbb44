// Pareto fronts, hypervolumes and merging of results logs (explorer/pareto.hpp), and the
// `tessera pareto` and `tessera merge` commands run in-process.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>
#include <pagmo/utils/multi_objective.hpp>

#include "cli/app.hpp"
#include "cli_support.hpp"
#include "common/error.hpp"
#include "explorer/pareto.hpp"
#include "explorer/results_log.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::explorer;
using Catch::Matchers::Contains;

namespace {

std::string log_path(const std::string& f) { return test::data_path("logs/" + f); }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tessera_test_" + name)).string();
}

// Entries with metrics "a" and "b" (and index = position).
std::vector<LogEntry> entries_ab(const std::vector<std::pair<double, double>>& points) {
  std::vector<LogEntry> out;
  for (const auto& [a, b] : points) {
    LogEntry e;
    e.index = out.size();
    e.point = {{"p", out.size()}};
    e.metrics = {{"a", a}, {"b", b}};
    out.push_back(e);
  }
  return out;
}

std::vector<std::uint64_t> indices(const std::vector<LogEntry>& entries,
                                   const std::vector<std::size_t>& positions) {
  std::vector<std::uint64_t> out;
  for (auto p : positions) out.push_back(entries.at(p).index);
  return out;
}

constexpr auto run = test::run_cli;

}  // namespace

TEST_CASE("objective specs parse, with errors for bad ones", "[explorer]") {
  const auto o = parse_objectives("latency_s:min, utilization:max,energy_pj");
  REQUIRE(o.size() == 3);
  CHECK(o[0].metric == "latency_s");
  CHECK(o[0].minimize);
  CHECK(o[1].metric == "utilization");
  CHECK_FALSE(o[1].minimize);
  CHECK(o[2].minimize);
  CHECK(to_string(o[1]) == "utilization:max");
  // Without a direction, the metric table's; min for a metric it does not have.
  const auto defaults = parse_objectives("utilization,throughput_macs_per_s,edp_pj_s,my_metric");
  CHECK_FALSE(defaults[0].minimize);
  CHECK_FALSE(defaults[1].minimize);
  CHECK(defaults[2].minimize);
  CHECK(defaults[3].minimize);
  CHECK_THROWS_WITH(parse_objectives("latency_s:fast"), Contains("must be min or max"));
  CHECK_THROWS_WITH(parse_objectives("latency_s,,energy_pj"), Contains("empty objective"));
  CHECK_THROWS_WITH(parse_objectives("a:min,a:max"), Contains("metric a is given twice"));
  CHECK_THROWS_WITH(parse_objectives(""), Contains("no objectives"));
}

TEST_CASE("the front of a hand-made log: dominated points out, ties and duplicates in",
          "[explorer]") {
  // (latency_s, energy_pj) per index; 6 failed:
  //   0 (1,5)  1 (2,3)  2 (4,1)  3 (3,4)  4 (5,5)  5 (4,2)  7 (2,3)
  // 3 is dominated by 1, 4 by everything, 5 by 2 (same latency, more energy: a tie in one
  // objective is not enough); 7 repeats 1 exactly, so neither dominates the other.
  const auto entries = read_log(log_path("front2d.jsonl"));
  REQUIRE(entries.size() == 8);
  const auto objectives = parse_objectives(kDefaultObjectives);
  const auto front = pareto_front(entries, objectives);
  // Ordered by latency, then by position.
  CHECK(indices(entries, front) == std::vector<std::uint64_t>{0, 1, 7, 2});

  const auto r = analyse_pareto(entries, objectives);
  CHECK(r.evaluated == 7);
  CHECK(r.failed == 1);
  CHECK(r.reference == ReferenceSource::worst);
  CHECK_FALSE(r.scale);
  // Default reference: worst latency 5 and worst energy 5, times 1.1.
  REQUIRE(r.reference_point.size() == 2);
  CHECK(r.reference_point[0] == Approx(5.5));
  CHECK(r.reference_point[1] == Approx(5.5));
  // Against (5.5, 5.5), strips along latency: [1,2) x (5.5-5) = 0.5, [2,4) x (5.5-3) = 5,
  // [4,5.5) x (5.5-1) = 6.75; total 12.25 (the duplicate adds nothing).
  CHECK(r.hypervolume == Approx(12.25));
  CHECK(r.outside_reference == 0);
}

TEST_CASE("a maximised objective is negated for ranking", "[explorer]") {
  // (latency_s, utilization): 0 (1,0.9) 1 (2,0.8) 2 (4,0.5) 3 (3,0.7) 4 (5,0.6) 5 (4,0.95)
  // 7 (2,0.85). Only 0 (fastest) and 5 (best utilization) are non-dominated.
  const auto entries = read_log(log_path("front2d.jsonl"));
  const auto objectives = parse_objectives("latency_s:min,utilization:max");
  CHECK(indices(entries, pareto_front(entries, objectives)) == std::vector<std::uint64_t>{0, 5});

  // Built in code: (latency, utilization) A (1,0.5), B (2,0.8), C (3,0.9), D (2,0.6) and
  // E (3,0.7); D and E are dominated by B.
  std::vector<LogEntry> es;
  for (const auto& [lat, util] :
       std::vector<std::pair<double, double>>{{1, 0.5}, {2, 0.8}, {3, 0.9}, {2, 0.6}, {3, 0.7}}) {
    LogEntry e;
    e.index = es.size();
    e.metrics = {{"latency_s", lat}, {"utilization", util}};
    es.push_back(e);
  }
  const auto r = analyse_pareto(es, objectives);
  CHECK(indices(es, r.front) == std::vector<std::uint64_t>{0, 1, 2});
  // Default reference: worst latency 3 -> 3.3; worst utilization 0.5 -> 0.45 (10% worse).
  CHECK(r.reference_point[0] == Approx(3.3));
  CHECK(r.reference_point[1] == Approx(0.45));
  // Strips along latency, height = utilization - 0.45: [1,2) x 0.05 + [2,3) x 0.35 +
  // [3,3.3) x 0.45 = 0.05 + 0.35 + 0.135 = 0.535.
  CHECK(r.hypervolume == Approx(0.535));
}

TEST_CASE("hypervolumes equal hand-computed values", "[explorer]") {
  const std::vector<Objective> ab = {{"a", true}, {"b", true}};
  // (1,3), (2,2), (3,1) against (4,4): strips along a of width 1 and heights 4-3, 4-2, 4-1:
  // 1 + 2 + 3 = 6.
  const auto es = entries_ab({{1, 3}, {2, 2}, {3, 1}});
  const auto front = pareto_front(es, ab);
  CHECK(front.size() == 3);
  CHECK(hypervolume(es, front, ab, {4, 4}).value == Approx(6));
  const auto r = analyse_pareto(es, ab, std::vector<double>{4, 4});
  CHECK(r.reference == ReferenceSource::given);
  CHECK(r.hypervolume == Approx(6));

  // A reference that cuts the front: (1,3) is not better than b = 3, so it bounds nothing;
  // (2,2) and (3,1) against (4,3): [2,3) x 1 + [3,4) x 2 = 3.
  const auto cut = hypervolume(es, front, ab, {4, 3});
  CHECK(cut.value == Approx(3));
  CHECK(cut.outside == 1);

  // Three objectives: (1,2,2), (2,1,2), (2,2,1) against (3,3,3). Each box is 2x1x1 = 2, each
  // pair and the triple overlap in the unit cube [2,3]^3: 3*2 - 3*1 + 1 = 4.
  std::vector<LogEntry> es3;
  for (const auto& p : std::vector<std::vector<double>>{{1, 2, 2}, {2, 1, 2}, {2, 2, 1}}) {
    LogEntry e;
    e.index = es3.size();
    e.metrics = {{"x", p[0]}, {"y", p[1]}, {"z", p[2]}};
    es3.push_back(e);
  }
  const std::vector<Objective> xyz = {{"x", true}, {"y", true}, {"z", true}};
  CHECK(analyse_pareto(es3, xyz, std::vector<double>{3, 3, 3}).hypervolume == Approx(4));

  // One objective: the front is the best entry, the hypervolume the distance to the reference.
  const std::vector<Objective> a_only = {{"a", true}};
  const auto r1 = analyse_pareto(es, a_only, std::vector<double>{5});
  CHECK(indices(es, r1.front) == std::vector<std::uint64_t>{0});
  CHECK(r1.hypervolume == Approx(4));
}

TEST_CASE("a space's fixed scale normalises the hypervolume into the unit box", "[explorer]") {
  // front2d's front (latency_s, energy_pj): (1,5), (2,3) twice, (4,1). With lo (0,0) and ref
  // (10,20): f = (0.1,0.25), (0.2,0.15), (0.4,0.05); strips along the first against 1:
  // [0.1,0.2) x 0.75 + [0.2,0.4) x 0.85 + [0.4,1) x 0.95 = 0.075 + 0.17 + 0.57 = 0.815.
  const auto entries = read_log(log_path("front2d.jsonl"));
  const auto objectives = parse_objectives(kDefaultObjectives);
  const auto r =
      analyse_pareto(entries, objectives, std::nullopt, "log", HypervolumeScale{{0, 0}, {10, 20}});
  CHECK(r.reference == ReferenceSource::space);
  REQUIRE(r.scale);
  CHECK(r.reference_point == std::vector<double>{10, 20});
  CHECK(r.hypervolume == Approx(0.815));
  CHECK(r.outside_reference == 0);
  // A ref the first front entry is not below (energy 5 >= 4): it bounds nothing and is counted.
  // ref (5,4): f = (0.4,0.75) twice, (0.8,0.25); [0.4,0.8) x 0.25 + [0.8,1) x 0.75 = 0.25.
  const auto cut =
      analyse_pareto(entries, objectives, std::nullopt, "log", HypervolumeScale{{0, 0}, {5, 4}});
  CHECK(cut.hypervolume == Approx(0.25));
  CHECK(cut.outside_reference == 1);
  // A given reference wins over the scale: the hypervolume in the metrics' units (12.25 against
  // (5.5, 5.5), as in the test above).
  const auto given = analyse_pareto(entries, objectives, std::vector<double>{5.5, 5.5}, "log",
                                    HypervolumeScale{{0, 0}, {10, 20}});
  CHECK(given.reference == ReferenceSource::given);
  CHECK_FALSE(given.scale);
  CHECK(given.hypervolume == Approx(12.25));

  // A maximised objective: lo and ref in minimisation form (utilization negated). Front of
  // (latency_s, utilization): (1,0.9) and (4,0.95) -> (1,-0.9), (4,-0.95); lo (0,-1), ref (10,0):
  // f = (0.1,0.1), (0.4,0.05): [0.1,0.4) x 0.9 + [0.4,1) x 0.95 = 0.27 + 0.57 = 0.84. The
  // reported reference point is in the metric's own sign: utilization 0.
  const auto max = analyse_pareto(entries, parse_objectives("latency_s:min,utilization:max"),
                                  std::nullopt, "log", HypervolumeScale{{0, -1}, {10, 0}});
  CHECK(max.hypervolume == Approx(0.84));
  CHECK(max.reference_point == std::vector<double>{10, 0});
  CHECK_FALSE(std::signbit(max.reference_point[1]));
}

TEST_CASE("a log header's scale follows the objectives asked for", "[explorer]") {
  LogHeader h;
  h.objectives = {"test_error:min", "latency_s:min", "area_mm2:min"};
  h.hv_lo = {1, 2, 3};
  h.hv_ref = {10, 20, 30};
  const auto same = header_scale(h, parse_objectives("test_error,latency_s,area_mm2"));
  REQUIRE(same);
  CHECK(same->lo == std::vector<double>{1, 2, 3});
  CHECK(same->ref == std::vector<double>{10, 20, 30});
  const auto reordered = header_scale(h, parse_objectives("area_mm2,test_error,latency_s"));
  REQUIRE(reordered);
  CHECK(reordered->lo == std::vector<double>{3, 1, 2});
  CHECK(reordered->ref == std::vector<double>{30, 10, 20});
  // Other metrics, fewer of them, or a direction changed: the scale does not apply.
  CHECK_FALSE(header_scale(h, parse_objectives("test_error,latency_s")));
  CHECK_FALSE(header_scale(h, parse_objectives("test_error,latency_s,energy_pj")));
  CHECK_FALSE(header_scale(h, parse_objectives("test_error,latency_s,area_mm2:max")));
  h.hv_lo.clear();
  h.hv_ref.clear();
  CHECK_FALSE(header_scale(h, parse_objectives("test_error,latency_s,area_mm2")));
}

TEST_CASE("ZDT1: the front and hypervolume of a known test problem", "[explorer]") {
  // ZDT1's Pareto front is f2 = 1 - sqrt(f1), f1 in [0,1]; against (1,1) its hypervolume is
  // 1 - integral of (1 - sqrt(f1)) = 2/3. 1001 points on the front plus 1001 shifted up by 0.05
  // (dominated); the staircase of 1000 steps under-counts by about half a step of height 1.
  std::vector<std::pair<double, double>> pts;
  for (int i = 0; i <= 1000; ++i) {
    const double f1 = i / 1000.0;
    pts.emplace_back(f1, 1 - std::sqrt(f1));
    pts.emplace_back(f1, 1 - std::sqrt(f1) + 0.05);
  }
  const auto es = entries_ab(pts);
  const std::vector<Objective> ab = {{"a", true}, {"b", true}};
  const auto r = analyse_pareto(es, ab, std::vector<double>{1, 1});
  REQUIRE(r.front.size() == 1001);
  for (auto p : r.front) CHECK(p % 2 == 0);
  CHECK(r.outside_reference == 2);  // (0,1) and (1,0) lie on the reference's bounds
  CHECK(r.hypervolume == Approx(2.0 / 3.0).margin(1e-3));
  CHECK(r.hypervolume < 2.0 / 3.0);
}

TEST_CASE("large logs: the front is pagmo's first front of all points at once", "[explorer]") {
  // pareto_front() sorts in chunks of 1024; one pagmo call over every point is the reference.
  // Values on a coarse grid give many ties and duplicates.
  for (const std::size_t dims : {2, 3}) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> value(0, 60);
    std::vector<LogEntry> es;
    std::vector<pagmo::vector_double> points;
    std::vector<Objective> objectives;
    for (std::size_t j = 0; j < dims; ++j) objectives.push_back({"m" + std::to_string(j), j != 1});
    for (std::size_t i = 0; i < 3000; ++i) {
      LogEntry e;
      e.index = i;
      pagmo::vector_double p;
      for (std::size_t j = 0; j < dims; ++j) {
        const double x = value(rng);
        e.metrics[objectives[j].metric] = x;
        p.push_back(objectives[j].minimize ? x : -x);
      }
      es.push_back(e);
      points.push_back(p);
    }
    auto expected = std::get<0>(pagmo::fast_non_dominated_sorting(points)).at(0);
    std::sort(expected.begin(), expected.end());
    auto front = pareto_front(es, objectives);
    std::sort(front.begin(), front.end());
    INFO(dims << " objectives");
    CHECK(front.size() > 1);
    CHECK(std::vector<std::size_t>(expected.begin(), expected.end()) == front);
  }
}

TEST_CASE("an objective missing from the log is an error listing the metrics", "[explorer]") {
  const auto entries = read_log(log_path("front2d.jsonl"));
  CHECK_THROWS_WITH(analyse_pareto(entries, parse_objectives("latency_s,area_mm2"), std::nullopt,
                                   "front2d.jsonl"),
                    Contains("front2d.jsonl: entry 0 has no metric 'area_mm2'") &&
                        Contains("metrics in the log: cycles, energy_pj, latency_s, utilization"));
}

TEST_CASE("reference points parse, one number per objective", "[explorer]") {
  const auto o = parse_objectives(kDefaultObjectives);
  CHECK(parse_reference_point("1.5, 2e3", o) == std::vector<double>{1.5, 2000});
  CHECK_THROWS_WITH(parse_reference_point("1.5", o),
                    Contains("expected 2 numbers, one per objective (latency_s,energy_pj), got 1"));
  CHECK_THROWS_WITH(parse_reference_point("1.5,x", o), Contains("'x' is not a finite number"));
  CHECK_THROWS_WITH(parse_reference_point("1.5,2x", o), Contains("'2x' is not a finite number"));
  CHECK_THROWS_WITH(parse_reference_point("1,inf", o), Contains("'inf' is not a finite number"));
}

TEST_CASE("merging two shards gives the union sorted by index", "[explorer]") {
  const auto all = read_log(log_path("front2d.jsonl"));
  const auto s0 = log_path("shard_0_of_2.jsonl"), s1 = log_path("shard_1_of_2.jsonl");
  // Shard 1 lists its entries in reverse and repeats index 4 of shard 0 (another wall_s).
  const auto merged = merge_logs({{s0, read_log(s0), {}}, {s1, read_log(s1), {}}});
  REQUIRE(merged.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(merged[i].index == i);
    CHECK(to_json(merged[i]) == to_json(all[i]));
  }
}

TEST_CASE("an index with different content in two logs is an error naming both", "[explorer]") {
  const auto s0 = log_path("shard_0_of_2.jsonl"), c = log_path("conflict.jsonl");
  CHECK_THROWS_AS(merge_logs({{s0, read_log(s0), {}}, {c, read_log(c), {}}}), InputError);
  CHECK_THROWS_WITH(merge_logs({{s0, read_log(s0), {}}, {c, read_log(c), {}}}),
                    Contains("index 2 differs between " + s0 + " and " + c) &&
                        Contains("metric energy_pj 1.0 vs 1.5"));
}

TEST_CASE("tessera pareto --json reports the front, reference and hypervolume", "[explorer]") {
  const auto r = run({"pareto", log_path("front2d.jsonl"), "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("objectives") == nlohmann::json{"latency_s:min", "energy_pj:min"});
  CHECK(j.at("evaluated") == 7);
  CHECK(j.at("failed") == 1);
  CHECK(j.at("hypervolume").get<double>() == Approx(12.25));
  CHECK(j.at("reference_point").at(0).get<double>() == Approx(5.5));
  REQUIRE(j.at("front").size() == 4);
  std::vector<int> idx;
  for (const auto& e : j.at("front")) idx.push_back(e.at("index"));
  CHECK(idx == std::vector<int>{0, 1, 7, 2});
  // Front entries are log entries: they parse back as such.
  CHECK(log_entry_from_json(j.at("front").at(0), "front").point.at("systolic.rows") == 8);

  const auto given = run({"pareto", log_path("front2d.jsonl"), "--objectives",
                          "latency_s:min,utilization:max", "--reference", "6,0", "--json"});
  REQUIRE(given.code == 0);
  const auto g = nlohmann::json::parse(given.out);
  CHECK(g.at("reference_point") == nlohmann::json{6.0, 0.0});
  // (1,0.9) and (4,0.95) against (6,0): [1,4) x 0.9 + [4,6) x 0.95 = 2.7 + 1.9 = 4.6.
  CHECK(g.at("hypervolume").get<double>() == Approx(4.6));
}

TEST_CASE("tessera pareto prints a table; bad input exits 1", "[explorer]") {
  const auto r = run({"pareto", log_path("front2d.jsonl")});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("systolic.rows") && Contains("latency_s:min") &&
                        Contains("4 non-dominated of 7 ok entries (1 failed, skipped)") &&
                        Contains("hypervolume: 12.25") && Contains("latency_s=5.5"));

  const auto missing = run({"pareto", log_path("front2d.jsonl"), "--objectives", "area_mm2"});
  CHECK(missing.code == cli::kExitInputError);
  CHECK_THAT(missing.err, Contains("no metric 'area_mm2'") && Contains("energy_pj"));
  const auto corrupt = run({"pareto", log_path("corrupt_middle.jsonl")});
  CHECK(corrupt.code == cli::kExitInputError);
  CHECK_THAT(corrupt.err, Contains("corrupt_middle.jsonl:2"));
}

TEST_CASE("tessera pareto scores a log on its space's fixed scale and says so", "[explorer]") {
  // front2d's entries under a header that records the space's normalisation, as `sweep`,
  // `explore` and `codesign` write it for a space with a "hypervolume" object.
  LogHeader h;
  h.command = "sweep";
  h.space_file = "space.json";
  h.space_name = "hv";
  h.space_hash = "s";
  h.base_config_hash = "c";
  h.workload_hash = "w";
  h.size = 8;
  h.objectives = {"latency_s:min", "energy_pj:min"};
  h.hv_lo = {0, 0};
  h.hv_ref = {10, 20};
  const auto path = temp_path("pareto_scaled.jsonl");
  {
    std::ofstream out(path);
    out << to_line(h) << "\n";
    std::ifstream in(log_path("front2d.jsonl"));
    out << in.rdbuf();
  }
  const auto r = run({"pareto", path, "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("reference") == "space");
  CHECK(j.at("reference_given") == false);
  CHECK(j.at("normalisation") == nlohmann::json{{"lo", {0.0, 0.0}}, {"ref", {10.0, 20.0}}});
  CHECK(j.at("reference_point") == nlohmann::json{10.0, 20.0});
  CHECK(j.at("hypervolume").get<double>() == Approx(0.815));  // the unit test above

  const auto table = run({"pareto", path});
  CHECK_THAT(table.out, Contains("hypervolume: 0.815 (normalised with the space's fixed scale") &&
                            Contains("latency_s lo=0 ref=10, energy_pj lo=0 ref=20"));

  // The same objectives in another order keep the scale, reordered.
  const auto swapped = run({"pareto", path, "--objectives", "energy_pj,latency_s", "--json"});
  REQUIRE(swapped.code == 0);
  const auto s = nlohmann::json::parse(swapped.out);
  CHECK(s.at("reference") == "space");
  CHECK(s.at("normalisation").at("ref") == nlohmann::json{20.0, 10.0});
  CHECK(s.at("hypervolume").get<double>() == Approx(0.815));

  // Other objectives: the default reference, with a note; --reference: the given one.
  const auto other =
      run({"pareto", path, "--objectives", "latency_s:min,utilization:max", "--json"});
  REQUIRE(other.code == 0);
  CHECK(nlohmann::json::parse(other.out).at("reference") == "default");
  CHECK(nlohmann::json::parse(other.out).at("normalisation").is_null());
  CHECK_THAT(other.err, Contains("the space's hypervolume normalisation is for its objectives"));
  const auto given = run({"pareto", path, "--reference", "5.5,5.5", "--json"});
  REQUIRE(given.code == 0);
  const auto g = nlohmann::json::parse(given.out);
  CHECK(g.at("reference") == "given");
  CHECK(g.at("hypervolume").get<double>() == Approx(12.25));
  std::filesystem::remove(path);
}

TEST_CASE("tessera merge writes the merged log", "[explorer]") {
  const auto out = temp_path("merged.jsonl");
  std::filesystem::remove(out);
  const auto r =
      run({"merge", log_path("shard_0_of_2.jsonl"), log_path("shard_1_of_2.jsonl"), "--out", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("8 entries (7 ok, 1 failed) from 2 logs (9 entries read, 1 "
                             "duplicates kept once)"));
  const auto merged = read_log(out);
  const auto all = read_log(log_path("front2d.jsonl"));
  REQUIRE(merged.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(to_json(merged[i]) == to_json(all[i]));

  // A conflict writes nothing.
  std::filesystem::remove(out);
  const auto bad =
      run({"merge", log_path("shard_0_of_2.jsonl"), log_path("conflict.jsonl"), "--out", out});
  CHECK(bad.code == cli::kExitInputError);
  CHECK_THAT(bad.err, Contains("index 2 differs"));
  CHECK_FALSE(std::filesystem::exists(out));
}
