// Fuzz target: the CSV files of a multi-DNN scenario (serving/multi_dnn.hpp). The input is read
// as a request trace (beside a shipped latency table) and as a latency table (with drawn
// requests); a scenario that reads is run under Dysta and SDRM3.
#include <fstream>

#include "fuzz/fuzz_support.hpp"
#include "serving/multi_dnn.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using tessera::fuzz::scratch_dir;
  tessera::fuzz::copy_beside("tests/data/dysta_sched/tables.csv", "tables.csv");
  std::ofstream(scratch_dir() / "trace_scenario.json")
      << R"({"format": "tessera.multi_dnn", "policy": "dysta",
             "models": {"resnet50_unstructured60": {"latency_table": "tables.csv", "slo_multiple": 5},
                        "resnet50_block20": {"latency_table": "tables.csv", "slo_multiple": 2},
                        "vgg16_unstructured60": {"latency_table": "tables.csv", "slo_s": 0.02},
                        "vgg16_block20": {"latency_table": "tables.csv", "slo_s": 0.05},
                        "mobilenet_unstructured60": {"latency_table": "tables.csv", "slo_s": 1},
                        "mobilenet_block20": {"latency_table": "tables.csv", "slo_multiple": 10}},
             "arrival": {"process": "trace", "file": "trace.csv"}})";
  std::ofstream(scratch_dir() / "table_scenario.json")
      << R"({"format": "tessera.multi_dnn", "policy": "dysta", "requests": 50,
             "models": {"a_x": {"latency_table": "table.csv", "slo_multiple": 3},
                        "a_y": {"latency_table": "table.csv", "slo_s": 1}},
             "arrival": {"process": "poisson", "rate_per_s": 10}})";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::serving;
  const auto dir = tessera::fuzz::scratch_dir();
  for (const char* which : {"trace", "table"}) {
    const std::string path = tessera::fuzz::as_file(data, size, std::string(which) + ".csv");
    MultiDnnScenario s;
    bool read = false;
    tessera::fuzz::expect_clean(path, [&] {
      s = load_multi_dnn_scenario((dir / (std::string(which) + "_scenario.json")).string());
      read = true;
    });
    if (!read) continue;
    tessera::fuzz::expect_clean(path, [&] {
      (void)run_multi_dnn(s, "dysta");
      (void)run_multi_dnn(s, "sdrm3");
    });
  }
  return 0;
}
