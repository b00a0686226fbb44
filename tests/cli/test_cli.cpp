// The command line, run in-process: normal use, and every kind of bad input with its message
// and exit status. tests/cli/cli_process_tests.cmake checks the same through the real executable.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli_support.hpp"
#include "test_support.hpp"
#include "workloads/settings.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

constexpr auto run = test::run_cli;

std::string data(const std::string& f) { return test::data_path("cli/" + f); }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tessera_test_" + name)).string();
}

}  // namespace

TEST_CASE("simulate prints a summary and writes a JSON report", "[cli]") {
  const auto out = temp_path("report.json");
  std::filesystem::remove(out);
  const auto r = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                      data("ok_workload.json"), "--out", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("conv_relu on test-edge") && Contains("total"));
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  // The ReLU fuses into the convolution (its output path): the convolution's compute-bound cycles.
  CHECK(j.at("summary").at("cycles") == 451584);
  CHECK(j.at("layers")[1].at("fused_into") == "conv");
  CHECK(j.at("run").at("fidelity") == "analytical");
  CHECK(j.at("run").at("workload_file") == data("ok_workload.json"));
}

TEST_CASE("simulate at SystemC fidelity gives the analytical cycles for the ideal engine",
          "[cli][systemc]") {
  const auto a = temp_path("a.json"), s = temp_path("s.json");
  const auto wl = test::source_path("configs/workloads/lenet5.json");
  const auto arch = test::source_path("configs/arch/ideal_edge.json");
  REQUIRE(run({"simulate", "--arch", arch, "--workload", wl, "--out", a, "--quiet"}).code == 0);
  REQUIRE(run({"simulate", "--arch", arch, "--workload", wl, "--out", s, "--quiet", "--fidelity",
               "systemc"})
              .code == 0);
  std::ifstream fa(a), fs(s);
  const auto ja = nlohmann::json::parse(fa), js = nlohmann::json::parse(fs);
  CHECK(ja.at("summary").at("cycles") == js.at("summary").at("cycles"));
  CHECK(js.at("run").at("fidelity") == "systemc");
}

TEST_CASE("set overrides reach the engine and the report config", "[cli]") {
  const auto out = temp_path("set.json");
  const auto r = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                      data("ok_workload.json"), "--set", "peak_macs_per_cycle=512", "--set",
                      "dram.bandwidth=32", "--out", out, "--quiet"});
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  CHECK(j.at("config").at("peak_macs_per_cycle") == 512);
  CHECK(j.at("config").at("dram").at("bandwidth") == 32);
  CHECK(j.at("summary").at("cycles") == 451584 / 2);
}

TEST_CASE("simulate labels a design changed by --set with what changed", "[cli]") {
  const auto out = temp_path("relabel.json");
  REQUIRE(run({"simulate", "--arch", data("ok_arch.json"), "--workload", data("ok_workload.json"),
               "--set", "peak_macs_per_cycle=512", "--out", out, "--quiet"})
              .code == 0);
  const auto j = nlohmann::json::parse(std::ifstream(out));
  CHECK(j.at("summary").at("arch") == "test-edge[peak_macs_per_cycle=512]");
  CHECK(j.at("config").at("name") == "test-edge[peak_macs_per_cycle=512]");
}

TEST_CASE("compare takes overrides of one architecture", "[cli]") {
  const auto arch = test::source_path("configs/arch/systolic_edge_32x32.json");
  const auto wl = test::source_path("configs/workloads/lenet5.json");
  const auto r = run({"compare", "--arch", arch, "--arch", arch, "--workload", wl, "--set",
                      "systolic.rows=16", "--arch-set", "2:systolic.dataflow=ws", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out)["architectures"];
  REQUIRE(j.size() == 2);
  CHECK(j[0]["arch"] == "systolic-edge-32x32-os[systolic.rows=16]");
  CHECK(j[1]["arch"] == "systolic-edge-32x32-os[systolic.rows=16,systolic.dataflow=ws]");
  CHECK(j[0]["config_hash"] != j[1]["config_hash"]);
  CHECK(j[0]["cycles"] != j[1]["cycles"]);
  for (const char* bad : {"3:systolic.rows=8", "0:systolic.rows=8", "systolic.rows=8", "2:", "x:a=1"}) {
    const auto e = run({"compare", "--arch", arch, "--arch", arch, "--workload", wl, "--arch-set", bad});
    CHECK(e.code == 1);
    CHECK_THAT(e.err, Contains("--arch-set") && Contains("N from 1 to 2"));
  }
}

TEST_CASE("inspect --json prints layers and totals", "[cli]") {
  const auto r = run({"inspect", data("ok_workload.json"), "--json"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.at("layers").size() == 2);
  CHECK(j.at("layers")[0].at("name") == "conv");
  CHECK(j.at("layers")[0].at("kind") == "conv");
  CHECK(j.at("layers")[0].at("macs") == 115605504);
  CHECK(j.at("layers")[0].at("params") == 36864);
  CHECK(j.at("totals").at("macs") == 115605504);
  CHECK(j.at("totals").at("params") == 36864);
  CHECK(j.at("totals").at("weight_bytes") == 36864);
  CHECK(j.at("totals").at("activation_bytes") ==
        3 * 200704);  // network input, conv and relu outputs
  const auto table = run({"inspect", data("ok_workload.json")});
  CHECK_THAT(table.out, Contains("conv") && Contains("total: 115605504 MACs"));
}

TEST_CASE("inspect of an ONNX model says what each operator type became", "[cli][onnx]") {
  // A QOperator ResNet-18 from onnxruntime's quantizer (workloads/models/modern/).
  const auto model = test::source_path("workloads/models/modern/resnet18_qoperator.onnx");
  const auto r = run({"inspect", model, "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> types;
  for (const auto& t : j.at("op_types")) types[t.at("op_type")] = t;
  // 20 QLinearConv (17 3x3/7x7 and 3 downsampling 1x1), all convolutions at 8/8 bits.
  CHECK(types.at("QLinearConv").at("nodes") == 20);
  CHECK(types.at("QLinearConv").at("became") ==
        nlohmann::json::array({{{"as", "convolution"}, {"kind", "conv"}, {"nodes", 20}}}));
  CHECK(types.at("com.microsoft::QGemm").at("became")[0].at("as") == "matrix product");
  CHECK(types.at("com.microsoft::QLinearAdd").at("became")[0].at("as") == "vector operation");
  CHECK(types.at("MaxPool").at("became")[0].at("kind") == "pool");
  for (const auto& layer : j.at("layers"))
    if (layer.at("kind") == "conv") CHECK(layer.at("weight_bits") == 8);
  const auto table = run({"inspect", model});
  CHECK_THAT(table.out, Contains("ONNX operator types") &&
                            Contains("20 convolution (conv)") && Contains("QuantizeLinear"));
  // Not an ONNX file: no operator-type section.
  CHECK_FALSE(nlohmann::json::parse(run({"inspect", data("ok_workload.json"), "--json"}).out)
                  .contains("op_types"));
}

TEST_CASE("list names the registered engines and front-ends", "[cli]") {
  const auto r = run({"list"});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("ideal") && Contains("json") && Contains("scalesim") &&
                        Contains("search algorithms"));
  const auto j = nlohmann::json::parse(run({"list", "--json"}).out);
  CHECK(j.at("engines").contains("ideal"));
  CHECK_THAT(j.at("dram_presets").at("ddr4_3200").get<std::string>(), Contains("25.6 GB/s"));
  // Names longer than the usual column still leave one space before their description.
  CHECK_THAT(r.out, Contains("  lpddr4x_4266 ") && Contains("DRAM presets"));
}

TEST_CASE("check validates a config without running it", "[cli]") {
  const auto ok = run({"check", data("ok_arch.json")});
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Contains("valid ideal config"));
  const auto bad = run({"check", data("ok_arch.json"), "--set", "dram.bandwidth=0"});
  CHECK(bad.code == cli::kExitInputError);
  CHECK_THAT(bad.err, Contains("/dram/bandwidth") && Contains("must be > 0"));
}

TEST_CASE("bad input: a clear message naming the place, and a non-zero exit", "[cli][errors]") {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> expected;
  };
  const std::string wl = data("ok_workload.json"), arch = data("ok_arch.json");
  const std::vector<Case> cases = {
      {{"check", data("malformed.json")}, {"malformed.json:4:", "malformed JSON"}},
      {{"check", data("unknown_key.json")},
       {"unknown_key.json", "/dram/latency", "unknown key 'latency'"}},
      {{"check", data("zero_peak.json")},
       {"zero_peak.json", "/peak_macs_per_cycle", "must be > 0"}},
      {{"simulate", "--arch", arch, "--workload", data("negative_size.json")},
       {"negative_size.json", "/operators/0/shape/k", "must be a positive integer, got -16"}},
      {{"simulate", "--arch", arch, "--workload", data("cyclic.json")}, {"cyclic", "cycle"}},
      {{"simulate", "--arch", arch, "--workload", data("empty.json")},
       {"empty.json", "no operators"}},
      {{"simulate", "--arch", arch, "--workload", data("missing.json")},
       {"missing.json", "cannot open"}},
      {{"simulate", "--arch", data("missing_arch.json"), "--workload", wl},
       {"missing_arch.json", "cannot open"}},
      {{"simulate", "--arch", arch, "--workload", data("short_row.csv")},
       {"short_row.csv:3", "expected 8 fields"}},
      {{"inspect", data("short_row.csv")}, {"short_row.csv:3"}},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    INFO(c.args[0] << " " << c.args.back() << " -> " << r.err);
    CHECK(r.code == cli::kExitInputError);
    CHECK_THAT(r.err, Contains("tessera: error:"));
    for (const auto& e : c.expected) CHECK_THAT(r.err, Contains(e));
  }
}

TEST_CASE("bad command lines are usage errors", "[cli][errors]") {
  CHECK(run({}).code != 0);
  CHECK(run({"simulate", "--arch", data("ok_arch.json")}).code != 0);  // no --workload
  const auto r = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                      data("ok_workload.json"), "--fidelity", "quantum"});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Contains("fidelity"));
}

TEST_CASE("a failed run leaves an existing report untouched", "[cli][errors]") {
  const auto out = temp_path("keep.json");
  { std::ofstream(out) << "previous results\n"; }
  const auto r = run({"simulate", "--arch", data("zero_peak.json"), "--workload",
                      data("ok_workload.json"), "--out", out});
  CHECK(r.code == cli::kExitInputError);
  std::ifstream f(out);
  std::string line;
  std::getline(f, line);
  CHECK(line == "previous results");
  // A folder that cannot be created (a file is in the way); missing ones are created
  // (test_output_files.cpp).
  const auto bad_dir =
      run({"simulate", "--arch", data("ok_arch.json"), "--workload", data("ok_workload.json"),
           "--out", out + "/sub/r.json", "--quiet"});
  CHECK(bad_dir.code == cli::kExitInputError);
  CHECK_THAT(bad_dir.err, Contains("cannot create the folder " + out + "/sub: Not a directory"));
}

TEST_CASE("simulate writes a trace of the SystemC run", "[cli][systemc][trace]") {
  const auto trace = temp_path("trace.json");
  std::filesystem::remove(trace);
  const auto r =
      run({"simulate", "--arch", test::source_path("configs/arch/systolic_edge_32x32.json"),
           "--workload", data("ok_workload.json"), "--fidelity", "systemc", "--trace", trace,
           "--quiet"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::ifstream f(trace);
  const auto j = nlohmann::json::parse(f);
  bool conv = false, dram = false;
  for (const auto& e : j.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    conv = conv || (e.at("cat") == "compute" && e.at("args").at("layer") == "conv");
    dram = dram || e.at("cat") == "dram";
  }
  CHECK(conv);
  CHECK(dram);
  const auto bad = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                        data("ok_workload.json"), "--trace", trace});
  CHECK(bad.code == cli::kExitInputError);
  CHECK_THAT(bad.err, Contains("--fidelity systemc"));
}

TEST_CASE("convert writes the annotated IR, which reads back as the same graph", "[cli]") {
  const auto out = temp_path("gpt2.workload.json");
  std::filesystem::remove(out);
  const std::string model = test::source_path("configs/models/gpt2.json");
  const auto r = run({"convert", model, "--seq-len", "16", "--set",
                      "workload.kinds.matmul.weight_bits=4", "--to", "json", "--out", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Contains("written to " + out));
  workloads::WorkloadSettings settings;
  settings.load.seq_len = 16;
  workloads::Annotation four_bits;
  four_bits.weight_bits = 4;
  settings.kinds.emplace_back(workloads::OpKind::matmul, four_bits);
  const auto direct = workloads::load_workload(model, settings);
  const auto converted = workloads::load_workload(out);
  CHECK(converted == direct);
  CHECK(converted.totals().weight_bytes < direct.totals().params * 2);  // matmuls at 4 bits
  // inspect takes the same settings and reports the same totals.
  const auto i = run({"inspect", model, "--seq-len", "16", "--json", "--set",
                      "workload.kinds.matmul.weight_bits=4"});
  REQUIRE(i.code == 0);
  CHECK(nlohmann::json::parse(i.out)["totals"]["weight_bytes"] == direct.totals().weight_bytes);
}
