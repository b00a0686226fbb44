// The config layer: parsing, overrides, validation errors naming file and JSON path, registry.
#include <algorithm>
#include <filesystem>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

arch::ArchDocument doc(const std::string& text) {
  return {"test.json", nlohmann::json::parse(text)};
}

const char* kIdeal = R"({"engine": "ideal", "clock": "800 MHz", "peak_macs_per_cycle": 256,
                         "dram": {"bandwidth": "12.8 GB/s"}})";

}  // namespace

TEST_CASE("ideal config resolves defaults and units", "[arch][config]") {
  const auto cfg = arch::build_arch(doc(kIdeal));
  CHECK(cfg.engine->engine_name() == "ideal");
  CHECK(cfg.name == "test");  // file stem when no "name" key
  CHECK(cfg.engine->clock_hz() == Approx(800e6));
  CHECK(cfg.engine->peak_macs_per_cycle() == 256);
  CHECK(cfg.engine->dram().bytes_per_cycle == Approx(16.0));  // 12.8e9 B/s / 800e6 cycles/s
  CHECK(cfg.engine->dram().latency_cycles == 0);
  CHECK(cfg.resolved["clock"] == Approx(800.0));  // MHz, the key's default unit
  CHECK(cfg.resolved["technology"] == "45nm");
  CHECK(cfg.resolved["energy"]["dram"] == "ddr4");
  CHECK(cfg.hash.size() == 16);
}

TEST_CASE("a resolved config reads back as the same design point", "[arch][config]") {
  const auto cfg = arch::build_arch(doc(kIdeal));
  const auto again = arch::build_arch({"resolved.json", cfg.resolved});
  CHECK(again.hash == cfg.hash);
  CHECK(again.resolved == cfg.resolved);
}

TEST_CASE("the hash ignores key order and the name label but not parameters", "[arch][config]") {
  const auto a = arch::build_arch(doc(kIdeal));
  const auto b = arch::build_arch(doc(R"({"dram": {"bandwidth": 16}, "peak_macs_per_cycle": 256,
                                          "clock": 800, "engine": "ideal", "name": "other"})"));
  CHECK(a.hash == b.hash);
  auto d = doc(kIdeal);
  arch::apply_override(d, "peak_macs_per_cycle=512");
  CHECK(arch::build_arch(d).hash != a.hash);
}

TEST_CASE("overrides set nested values by dotted path or JSON pointer", "[arch][config]") {
  auto d = doc(kIdeal);
  arch::apply_override(d, "dram.bandwidth=32");
  arch::apply_override(d, "/dram/latency_cycles=100");
  arch::apply_override(d, "clock=1 GHz");  // not JSON: taken as a string
  const auto cfg = arch::build_arch(d);
  CHECK(cfg.engine->dram().bytes_per_cycle == 32);
  CHECK(cfg.engine->dram().latency_cycles == 100);
  CHECK(cfg.engine->clock_hz() == Approx(1e9));
}

TEST_CASE("config errors name the file, the JSON path and what was expected",
          "[arch][config][errors]") {
  auto fails_with = [](const std::string& text, const std::string& a, const std::string& b) {
    CHECK_THROWS_WITH(arch::build_arch(doc(text)),
                      Contains("test.json") && Contains(a) && Contains(b));
  };
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 256, "dram": {"bandwidth": 16, "bandwith": 3}})",
      "/dram/bandwith", "unknown key");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 256, "dram": {"bandwidth": 16}, "extra": 1})",
      "/extra", "unknown key");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 0, "dram": {"bandwidth": 16}})",
             "/peak_macs_per_cycle", "must be > 0");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": "many", "dram": {"bandwidth": 16}})",
             "/peak_macs_per_cycle", "expected a number");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": -4}})",
             "/dram/bandwidth", "must be > 0");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": "4 furlongs"}})",
      "/dram/bandwidth", "unknown unit");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": 4, "latency_cycles": -1}})",
      "/dram/latency_cycles", "must be >= 0");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 8})", "missing required key", "dram");
  fails_with(R"({"engine": "warp-drive"})", "/engine",
             "known: bitfusion, eyeriss, ideal, systolic");
  fails_with(R"({"peak_macs_per_cycle": 8})", "missing required key", "engine");
  fails_with(R"([1, 2])", "expected an object", "array");
}

TEST_CASE("a malformed config file is reported with line and column", "[arch][config][errors]") {
  CHECK_THROWS_WITH(arch::load_arch(test::data_path("cli/malformed.json")),
                    Contains("malformed.json:4:") && Contains("malformed JSON"));
  CHECK_THROWS_WITH(arch::load_arch(test::data_path("cli/no_such_file.json")),
                    Contains("no_such_file.json") && Contains("cannot open"));
}

TEST_CASE("bad overrides are errors", "[arch][config][errors]") {
  auto d = doc(kIdeal);
  CHECK_THROWS_WITH(arch::apply_override(d, "no_equals_sign"), Contains("expected path=value"));
  CHECK_THROWS_WITH(arch::apply_override(d, "clock.mhz=3"),
                    Contains("/clock") && Contains("cannot set a key"));
  arch::apply_override(d, "dram.bandwidht=3");  // accepted here, rejected by the engine
  CHECK_THROWS_WITH(arch::build_arch(d), Contains("/dram/bandwidht") && Contains("unknown key"));
}

TEST_CASE("every shipped architecture config is valid", "[arch][config]") {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("configs/arch")))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f);
    CHECK_NOTHROW(arch::load_arch(f));
  }
}
