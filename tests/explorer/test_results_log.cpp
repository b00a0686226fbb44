// The results log: writing and reading entries, a run killed mid-line, and bad lines named by
// FILE:LINE (explorer/results_log.hpp).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "explorer/results_log.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::explorer;
using Catch::Matchers::Contains;

namespace {

std::string log_path(const std::string& f) { return test::data_path("logs/" + f); }

LogEntry ok_entry() {
  LogEntry e;
  e.index = 12;
  e.point = {{"systolic.rows", 32}, {"systolic.dataflow", "ws"}, {"sram.ifmap", "64 KiB"}};
  e.config_hash = "3f2a";
  e.workload_hash = "9b1c";
  // Values that need all 17 significant digits survive the round trip exactly.
  e.metrics = {{"cycles", 476672.0},
               {"latency_s", 0.1 + 0.2},
               {"energy_pj", 1.0 / 3.0},
               {"utilization", 1e-300}};
  e.wall_s = 0.0004;
  return e;
}

void check_same(const LogEntry& a, const LogEntry& b) {
  CHECK(a.index == b.index);
  CHECK(a.point == b.point);
  CHECK(a.ok == b.ok);
  CHECK(a.error == b.error);
  CHECK(a.config_hash == b.config_hash);
  CHECK(a.workload_hash == b.workload_hash);
  CHECK(a.metrics == b.metrics);  // exact: doubles are written with round-trip precision
  CHECK(a.wall_s == b.wall_s);
}

std::string where(const std::string& what) {
  try {
    log_entry_from_json(nlohmann::json::parse(what), "f.jsonl:7");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("results log entries round-trip through a file", "[explorer]") {
  LogEntry failed;
  failed.index = 3;
  failed.point = {{"systolic.rows", 0}};
  failed.ok = false;
  failed.error = "systolic.rows: must be >= 1, got 0";
  failed.wall_s = 0;
  const auto path =
      (std::filesystem::temp_directory_path() / "tessera_test_roundtrip.jsonl").string();
  {
    std::ofstream f(path, std::ios::trunc);
    f << to_line(ok_entry()) << "\n" << to_line(failed) << "\n";
  }
  const auto entries = read_log(path);
  REQUIRE(entries.size() == 2);
  check_same(entries[0], ok_entry());
  check_same(entries[1], failed);

  // The line has the documented key order; to_json() has the same content.
  const std::string line = to_line(ok_entry());
  CHECK(line.rfind(R"({"log":"tessera.results","version":2,"index":12,"point":)", 0) == 0);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(nlohmann::json::parse(line) == to_json(ok_entry()));
  const auto j = to_json(failed);
  CHECK(j.at("status") == "failed");
  CHECK(j.at("metrics").is_null());
  CHECK(to_json(ok_entry()).at("error").is_null());
}

TEST_CASE("a metric that is not finite is never written", "[explorer]") {
  auto e = ok_entry();
  e.metrics["utilization"] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(to_json(e), std::logic_error);
  e.metrics["utilization"] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(to_line(e), Contains("utilization") && Contains("not finite"));
}

TEST_CASE("a last line cut short by a kill is ignored", "[explorer]") {
  const auto entries = read_log(log_path("truncated_tail.jsonl"));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].index == 0);
  CHECK(entries[1].index == 1);
  CHECK(entries[1].metrics.at("energy_pj") == 3.0);
}

TEST_CASE("a corrupt line before the last is an error naming FILE:LINE", "[explorer]") {
  const auto path = log_path("corrupt_middle.jsonl");
  CHECK_THROWS_AS(read_log(path), InputError);
  CHECK_THROWS_WITH(read_log(path), Contains(path + ":2: not valid JSON"));
}

TEST_CASE("a number too large for a double is an error naming FILE:LINE", "[explorer]") {
  const auto path =
      (std::filesystem::temp_directory_path() / "tessera_test_overflow.jsonl").string();
  {
    std::ofstream f(path, std::ios::trunc);
    f << R"({"log":"tessera.results","version":1,"index":0,"point":{},"status":"ok",)"
      << R"("error":null,"config_hash":"c","workload_hash":"w","metrics":{"cycles":1e400},)"
      << R"("wall_s":0})"
      << "\n";
  }
  CHECK_THROWS_WITH(read_log(path), Contains(path + ":1: not valid JSON: number overflow"));
}

TEST_CASE("a missing results log is an error naming it", "[explorer]") {
  const auto path = log_path("no_such_log.jsonl");
  CHECK_THROWS_WITH(read_log(path), Contains(path) && Contains("cannot open"));
}

TEST_CASE("bad entries are errors naming FILE:LINE and the key", "[explorer]") {
  const std::string good =
      R"({"log":"tessera.results","version":1,"index":4,"point":{"a":1},"status":"ok",)"
      R"("error":null,"config_hash":"c","workload_hash":"w","metrics":{"latency_s":2},"wall_s":0.1})";
  CHECK(where(good) == "(no error)");
  const auto with = [&](const std::string& key, const std::string& value) {
    auto j = nlohmann::json::parse(good);
    if (value.empty())
      j.erase(key);
    else
      j[key] = nlohmann::json::parse(value);
    return where(j.dump());
  };
  CHECK_THAT(with("log", R"("tessera.report")"),
             Contains("f.jsonl:7: /log: expected \"tessera.results\""));
  CHECK_THAT(with("version", "3"), Contains("f.jsonl:7: /version: unsupported version 3"));
  CHECK_THAT(with("version", "1"), Contains("(no error)"));  // version 1 entries are still read
  CHECK_THAT(with("index", "-1"), Contains("f.jsonl:7: /index: expected an integer >= 0"));
  CHECK_THAT(with("point", "[1]"), Contains("f.jsonl:7: /point: expected an object"));
  CHECK_THAT(with("status", R"("done")"), Contains("f.jsonl:7: /status: expected \"ok\""));
  CHECK_THAT(with("metrics", R"({"latency_s":"fast"})"),
             Contains("f.jsonl:7: /metrics/latency_s: expected a number"));
  CHECK_THAT(with("metrics", ""), Contains("f.jsonl:7: /metrics: missing"));
  CHECK_THAT(with("wall_s", "-1"), Contains("f.jsonl:7: /wall_s: expected a number of seconds"));
  CHECK_THAT(with("config_hash", ""), Contains("f.jsonl:7: /config_hash: missing"));
  CHECK_THAT(with("latency", "1"), Contains("f.jsonl:7: /latency: unknown key"));
  CHECK_THAT(where("[1,2]"), Contains("f.jsonl:7: expected a results log entry"));

  // A failed entry needs its reason and has no metrics.
  auto failed = nlohmann::json::parse(good);
  failed["status"] = "failed";
  failed["metrics"] = nullptr;
  CHECK_THAT(where(failed.dump()), Contains("f.jsonl:7: /error: expected a string, got null"));
  failed["error"] = "bad config";
  CHECK(where(failed.dump()) == "(no error)");
  failed["metrics"] = {{"latency_s", 1}};
  CHECK_THAT(where(failed.dump()), Contains("f.jsonl:7: /metrics: must be null"));
}

TEST_CASE("an unknown key with a line break is named on one line", "[explorer]") {
  // A fuzz finding (fuzz/regressions/results_log): the key was quoted raw.
  const nlohmann::json entry = {{"lat\ncy", 1}};
  try {
    explorer::log_entry_from_json(entry, "r.jsonl:1");
    FAIL("accepted an unknown key");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("r.jsonl:1: /lat\\u000acy: unknown key") == 0);
  }
}
