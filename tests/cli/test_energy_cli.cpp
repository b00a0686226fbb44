// `tessera energy` and `simulate` with energy.hamming: the JSON report's figures, channel
// reordering never increasing toggles, the .npy reader, and errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "arch/energy/values.hpp"
#include "cli_support.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

}  // namespace

TEST_CASE("tessera energy writes toggles and datapath energy per layer", "[cli][energy]") {
  const auto arch = test::source_path("configs/arch/systolic_tiny_8x8.json");
  const auto workload = test::source_path("configs/workloads/lenet5.json");
  const auto out = temp("tessera_energy.json");
  const auto r = test::run_cli({"energy", "--arch", arch, "--workload", workload, "--optimize-order",
                                "--seed", "3", "--json", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("toggles") && Contains("datapath"));
  const auto j = nlohmann::json::parse(std::ifstream(out));
  CHECK(j["seed"] == 3);
  CHECK(j["layers"].size() > 0);
  CHECK(j["toggles"].get<double>() > 0);
  CHECK(j["toggles_optimized"].get<double>() <= j["toggles"].get<double>());
  for (const auto& l : j["layers"]) CHECK(l["original"]["ports"].size() == 3);
}

TEST_CASE("tessera energy rejects a bad --data and engines without streams", "[cli][energy]") {
  const auto workload = test::source_path("configs/workloads/lenet5.json");
  auto r = test::run_cli({"energy", "--arch", test::source_path("configs/arch/systolic_tiny_8x8.json"),
                          "--workload", workload, "--data", "npy:/no/such/dir"});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Contains("no such directory"));
  r = test::run_cli({"energy", "--arch", test::source_path("configs/arch/ideal_edge.json"),
                     "--workload", workload});
  CHECK(r.code != 0);
  CHECK_THAT(r.err, Contains("operand streams"));
}

TEST_CASE("simulate with energy.hamming reports toggles and splits the MAC energy", "[cli][energy]") {
  const auto out = temp("tessera_energy_sim.json");
  const auto r = test::run_cli({"simulate", "--arch", test::source_path("configs/arch/systolic_tiny_8x8.json"),
                                "--workload", test::source_path("configs/workloads/lenet5.json"),
                                "--set", "energy.hamming=true", "--quiet", "--out", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(std::ifstream(out));
  CHECK(j["summary"]["hamming"]["toggles"].get<double>() > 0);
  CHECK(j["summary"]["energy_by_component"].contains("mac.toggle"));
  CHECK_FALSE(j["summary"]["energy_by_component"].contains("mac"));
}

TEST_CASE("Bit Fusion with energy.hamming reports toggles beside its core energy",
          "[cli][energy][bitfusion]") {
  const auto out = temp("tessera_energy_bitfusion.json");
  const auto args = std::vector<std::string>{
      "simulate", "--arch", test::source_path("configs/arch/bitfusion_isca2018.json"),
      "--workload", test::source_path("configs/workloads/bitfusion/wrpn/lenet5.json"), "--quiet",
      "--out", out};
  REQUIRE(test::run_cli(args).code == 0);
  const auto plain = nlohmann::json::parse(std::ifstream(out));
  auto with = args;
  with.insert(with.end(), {"--set", "energy.hamming=true"});
  const auto r = test::run_cli(with);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(std::ifstream(out));
  CHECK(j["summary"]["hamming"]["toggles"].get<double>() > 0);
  CHECK(j["summary"]["hamming"]["energy_pj"].get<double>() > 0);  // datapath energy from toggles
  // The reference model's energy (per-cycle core energy, SRAM and DRAM bits) is unchanged.
  CHECK(j["summary"]["energy_pj"] == plain["summary"]["energy_pj"]);
  CHECK(j["summary"]["energy_by_component"].contains("core"));
  CHECK_FALSE(j["summary"]["energy_by_component"].contains("mac.toggle"));
}

TEST_CASE("Eyeriss describes its row-stationary streams: toggles replace the flat MAC energy",
          "[cli][energy][eyeriss]") {
  const auto out = temp("tessera_energy_eyeriss.json");
  const auto r = test::run_cli(
      {"simulate", "--arch", test::source_path("configs/arch/eyeriss.json"), "--workload",
       test::source_path("configs/workloads/bitfusion/wrpn/lenet5.json"), "--set",
       "energy.hamming=true", "--quiet", "--out", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(std::ifstream(out));
  const auto& h = j["summary"]["hamming"];
  CHECK(h["layers"] == 4);  // LeNet-5's two convolutions and two fully connected layers
  // 16-bit words: a random stream would toggle 8 bits per value; real streams toggle fewer.
  CHECK(h["toggles"].get<double>() > 0);
  CHECK(j["summary"]["energy_by_component"].contains("mac.toggle"));
  CHECK_FALSE(j["summary"]["energy_by_component"].contains("mac"));
  CHECK(j["config"]["energy"]["hamming"].is_object());
}

TEST_CASE(".npy activations are read and quantised", "[cli][energy]") {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_npy";
  std::filesystem::create_directories(dir);
  {  // float32 [1, 2, 2, 2], header padded to 128 bytes as numpy writes it
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 2), }";
    header.resize(128 - 10 - 1, ' ');
    header += '\n';
    std::ofstream f(dir / "x.npy", std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size()), 0};
    f.write(len, 2);
    f << header;
    for (int i = 0; i < 8; ++i) {
      const float v = static_cast<float>(i);
      f.write(reinterpret_cast<const char*>(&v), 4);
    }
  }
  const auto a = arch::energy::read_npy((dir / "x.npy").string());
  CHECK(a.shape == std::vector<std::int64_t>{1, 2, 2, 2});
  CHECK(a.values[7] == 7.0);
  const auto q = arch::energy::quantize(a.values, 8, true);
  CHECK(q[7] == 255);
  CHECK(q[0] == 0);
  CHECK_THROWS_WITH(arch::energy::read_npy((dir / "missing.npy").string()), Contains("missing.npy"));
}

TEST_CASE("tessera energy on trained-like weights in sign-magnitude", "[cli][energy]") {
  const auto out = temp("tessera_energy_sm.json");
  const auto r = test::run_cli({"energy", "--arch", test::source_path("configs/arch/systolic_tiny_8x8.json"),
                                "--workload", test::source_path("configs/workloads/lenet5.json"),
                                "--data", "trained-like", "--sign-magnitude", "--json", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("data trained-like, sign-magnitude"));
  const auto j = nlohmann::json::parse(std::ifstream(out));
  CHECK(j["data"] == "trained-like");
  CHECK(j["encoding"] == "sign-magnitude");
  CHECK(j["layers"][0]["weight_source"] == "trained-like clusters");
  const auto bad = test::run_cli({"energy", "--arch", test::source_path("configs/arch/systolic_tiny_8x8.json"),
                                  "--workload", test::source_path("configs/workloads/lenet5.json"),
                                  "--data", "trained"});
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Contains("expected synthetic, trained-like, onnx or npy:DIR"));
}

TEST_CASE("an npy: folder is checked against the workload's layers", "[cli][energy][npy][errors]") {
  const auto dir = std::filesystem::temp_directory_path() / ("tessera_npy_layers_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto arch = test::source_path("configs/arch/systolic_tiny_8x8.json");
  const auto lenet = test::source_path("configs/workloads/lenet5.json");
  const std::vector<std::string> args = {"energy", "--arch", arch, "--workload", lenet, "--data",
                                         "npy:" + dir.string()};
  // No file for any layer: a wrong folder, not a run on synthetic activations.
  auto r = test::run_cli(args);
  CHECK(r.code == 1);
  CHECK(r.err == "tessera: error: " + dir.string() + ": no .npy file matches a layer of lenet5 (the "
                 "first, 'conv1', would read " + (dir / "conv1.npy").string() + ")\n");
  // conv1's input is 1 x 1 x 32 x 32.
  const auto conv1 = [&](std::size_t count, float last) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                         std::to_string(count) + ",), }";
    header.resize(128 - 10 - 1, ' ');
    header += '\n';
    std::ofstream f(dir / "conv1.npy", std::ios::binary | std::ios::trunc);
    f.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size()), 0};
    f.write(len, 2);
    f << header;
    for (std::size_t i = 0; i < count; ++i) {
      const float v = i + 1 == count ? last : static_cast<float>(i % 7);
      f.write(reinterpret_cast<const char*>(&v), 4);
    }
  };
  conv1(1024, 1);
  auto with_json = args;
  with_json.insert(with_json.end(), {"--json", (dir / "energy.json").string()});
  r = test::run_cli(with_json);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(std::ifstream(dir / "energy.json"));
  CHECK(j["layers"][0]["name"] == "conv1");
  CHECK(j["layers"][0]["input_source"] == "npy");
  CHECK(j["layers"][1]["input_source"] == "synthetic relu(normal)");
  conv1(1000, 1);
  r = test::run_cli(args);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("conv1.npy: 1000 values (shape (1000,)), but the input of layer "
                             "'conv1' has 1024"));
  conv1(1024, std::numeric_limits<float>::quiet_NaN());
  r = test::run_cli(args);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("conv1.npy: value 1023 is NaN"));
  std::filesystem::remove_all(dir);
}
