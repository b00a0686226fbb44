// `tessera simulate --data synthetic|onnx|npy:DIR`: where the sparse engine's zero masks come
// from (densities, ONNX initializers, a layer's input in DIR/<layer>.npy), as the JSON report
// states per layer, and bad input: one line naming the file, exit 1.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

// A float32 .npy file of `values` (shape (n,)).
void write_npy(const std::filesystem::path& path, const std::vector<float>& values) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(values.size()) + ",), }";
  header.resize(128 - 10 - 1, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size()), 0};
  f.write(len, 2);
  f << header;
  f.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
}

const nlohmann::json& layer(const nlohmann::json& report, const std::string& name) {
  for (const auto& l : report["layers"])
    if (l["name"] == name) return l;
  FAIL("no layer " << name);
  static const nlohmann::json none;
  return none;
}

}  // namespace

TEST_CASE("simulate --data: masks from densities, ONNX initializers and .npy inputs", "[cli][sparse][data]") {
  const auto dir = std::filesystem::temp_directory_path() / ("tessera_sim_data_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto out = (dir / "report.json").string();
  const auto arch = test::source_path("configs/arch/eyeriss_v2.json");
  const auto lenet = test::source_path("configs/workloads/lenet5.json");
  const auto run = [&](const std::string& workload, const std::string& data) {
    return test::run_cli({"simulate", "--arch", arch, "--workload", workload, "--data", data,
                          "--set", "workload.default.activation_density=0.5", "--quiet", "--out", out});
  };

  SECTION("synthetic: masks drawn from the densities") {
    const auto r = run(lenet, "synthetic");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(std::ifstream(out));
    const auto& m = layer(j, "conv1")["metrics"];
    CHECK(m["input_mask_from_data"] == 0.0);
    CHECK(m["weight_mask_from_data"] == 0.0);
    CHECK(m["input_density"].get<double>() == Approx(0.5).margin(0.05));
  }
  SECTION("onnx: a weight's zeros are zeros") {
    // tiny_payload's convolution weight element i is i * 0.5 (scripts/export_models.py): one
    // zero among 108; its fully connected weight element i is -i: one zero among 8.
    const auto r = run(test::source_path("workloads/models/tiny_payload.onnx"), "onnx");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(std::ifstream(out));
    const auto& conv = layer(j, "/conv/Conv")["metrics"];
    CHECK(conv["weight_mask_from_data"] == 1.0);
    CHECK(conv["input_mask_from_data"] == 0.0);
    CHECK(conv["weight_density"].get<double>() == Approx(107.0 / 108.0));
    CHECK(layer(j, "/fc/Gemm")["metrics"]["weight_density"].get<double>() == Approx(7.0 / 8.0));
  }
  SECTION("npy:DIR: a layer's input from DIR/<layer>.npy") {
    // conv1's input is 1 x 1 x 32 x 32; every fourth value is zero.
    std::vector<float> x(1024);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = i % 4 == 0 ? 0.0f : 0.25f * static_cast<float>(i % 9 + 1);
    write_npy(dir / "conv1.npy", x);
    const auto r = run(lenet, "npy:" + dir.string());
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(std::ifstream(out));
    const auto& m = layer(j, "conv1")["metrics"];
    CHECK(m["input_mask_from_data"] == 1.0);
    CHECK(m["input_density"] == 0.75);
    // Layers without a file keep synthetic masks.
    CHECK(layer(j, "conv2")["metrics"]["input_mask_from_data"] == 0.0);
    // Fewer zeros skipped than at the synthetic density 0.5: more work.
    const auto synthetic = run(lenet, "synthetic");
    REQUIRE(synthetic.code == 0);
    const auto s = nlohmann::json::parse(std::ifstream(out));
    CHECK(layer(s, "conv1")["metrics"]["mac_work"].get<double>() < m["mac_work"].get<double>());
  }
  SECTION("bad input: one line naming the file, exit 1") {
    write_npy(dir / "conv1.npy", std::vector<float>(1000, 1.0f));  // conv1's input has 1024
    const auto r = run(lenet, "npy:" + dir.string());
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains((dir / "conv1.npy").string()) && Contains("1000 values"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.back() == '\n');
    // Not a .npy file at all.
    std::ofstream(dir / "conv1.npy", std::ios::trunc) << "not numpy\n";
    const auto garbage = run(lenet, "npy:" + dir.string());
    CHECK(garbage.code == 1);
    CHECK_THAT(garbage.err, Contains((dir / "conv1.npy").string()));
    CHECK(std::count(garbage.err.begin(), garbage.err.end(), '\n') == 1);
    // A folder without any layer's file, and one that does not exist.
    std::filesystem::remove(dir / "conv1.npy");
    const auto none = run(lenet, "npy:" + dir.string());
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Contains("no layer has a file <layer>.npy"));
    const auto missing = run(lenet, "npy:" + (dir / "absent").string());
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Contains("no such directory"));
    const auto unknown = run(lenet, "bitmaps");
    CHECK(unknown.code == 1);
    CHECK_THAT(unknown.err, Contains("expected synthetic, onnx or npy:DIR"));
  }
  std::filesystem::remove_all(dir);
}
