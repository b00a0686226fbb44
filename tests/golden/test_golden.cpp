// Golden regression: every shipped example in configs/examples/ is simulated and its report is
// compared with the stored one in tests/golden/<example>.report.json. Integers (cycles, MACs,
// bytes) must match exactly; floating-point figures (energy, latency, utilisation) to a relative
// 1e-9, which allows for summation order and printing but not for a model change. Run metadata
// (wall time, version, paths) is not compared. scripts/update_golden.sh rewrites the references
// after an intended model change; review the diff before committing it.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "common/params.hpp"
#include "explorer/evaluator.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;
namespace fs = std::filesystem;

namespace {

// Compares `actual` with `expected`, appending one line per difference to `diffs`.
void compare(const nlohmann::json& expected, const nlohmann::json& actual, const std::string& path,
             std::vector<std::string>& diffs) {
  if (expected.is_number_float() || actual.is_number_float()) {
    if (!actual.is_number() || !expected.is_number() ||
        actual.get<double>() != Approx(expected.get<double>()).epsilon(1e-9).margin(1e-300))
      diffs.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
  } else if (expected.is_object() && actual.is_object()) {
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (!actual.contains(it.key()))
        diffs.push_back(path + "/" + it.key() + ": missing");
      else
        compare(it.value(), actual.at(it.key()), path + "/" + it.key(), diffs);
    }
    for (auto it = actual.begin(); it != actual.end(); ++it)
      if (!expected.contains(it.key()))
        diffs.push_back(path + "/" + it.key() + ": not in the reference");
  } else if (expected.is_array() && actual.is_array() && expected.size() == actual.size()) {
    for (std::size_t i = 0; i < expected.size(); ++i)
      compare(expected[i], actual[i], path + "/" + std::to_string(i), diffs);
  } else if (expected != actual) {
    diffs.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
  }
}

// The part of a report that a model change would alter (not provenance, which holds paths).
nlohmann::json comparable(nlohmann::json report) {
  for (auto& layer : report.at("layers")) layer.erase("source");
  auto& run = report.at("run");
  for (const char* volatile_key : {"wall_s", "simulated_cycles_per_s", "version", "git_revision",
                                   "arch_file", "workload_file"})
    run.erase(volatile_key);
  return report;
}

}  // namespace

TEST_CASE("golden runs of every shipped example", "[golden]") {
  std::vector<fs::path> examples;
  for (const auto& e : fs::directory_iterator(test::source_path("configs/examples")))
    if (e.path().extension() == ".json") examples.push_back(e.path());
  std::sort(examples.begin(), examples.end());
  REQUIRE(!examples.empty());

  for (const auto& example : examples) {
    const std::string name = example.stem().string();
    DYNAMIC_SECTION(name) {
      const auto spec = read_json_file(example.string());
      ParamReader r(spec, example.string());
      const std::string arch_file = test::source_path(r.string("arch"));
      const std::string workload_file = test::source_path(r.string("workload"));
      const std::vector<std::string> overrides = r.strings("set");
      r.string("description", "");
      explorer::EvaluateOptions options;
      options.fidelity = r.string("fidelity", "analytical");
      r.finish();

      const auto report = explorer::evaluate(
          arch::load_arch(arch_file, overrides),
          explorer::prepare_workload(workloads::load_workload(workload_file)), options);
      const fs::path golden = test::source_path("tests/golden/" + name + ".report.json");
      INFO("reference: " << golden.string());
      REQUIRE(fs::exists(golden));
      std::vector<std::string> diffs;
      compare(comparable(read_json_file(golden.string())), comparable(sim::to_json(report)), "",
              diffs);
      std::string text;
      for (std::size_t i = 0; i < diffs.size() && i < 20; ++i) text += diffs[i] + "\n";
      INFO(text);
      CHECK(diffs.empty());
    }
  }
}
