// SCALE-Sim v2 .cfg files: every reference config converts to the systolic config its values
// say, the INI syntax is read as Python's configparser reads it, and each kind of bad file is
// reported with the file and the line or key. Only the JSON is checked (not build_arch).
#include <filesystem>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "arch/scalesim_cfg.hpp"
#include "common/error.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

const std::string kConfigs = std::string(TESSERA_SOURCE_DIR) + "/data/reference/scalesim/configs/";
const std::string kData = std::string(TESSERA_TEST_DATA) + "/scalesim_cfg/";

json convert(const std::string& text, const std::string& file = "dir/arch.cfg") {
  std::istringstream in(text);
  return arch::scalesim_cfg_to_config(in, file);
}

std::string error_of(const std::string& text) {
  try {
    convert(text);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError for:\n" << text);
  return "";
}

std::string file_error_of(const std::string& name) {
  try {
    arch::read_scalesim_cfg(kData + name);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError for " << name);
  return "";
}

// A minimal valid file; tests replace or append lines.
const std::string kMinimal =
    "[architecture_presets]\n"
    "ArrayHeight: 16\n"
    "ArrayWidth: 8\n"
    "IfmapSramSzkB: 32\n"
    "FilterSramSzkB: 16\n"
    "OfmapSramSzkB: 8\n"
    "Dataflow: ws\n";

}  // namespace

TEST_CASE("every reference SCALE-Sim config converts to its systolic config",
          "[arch][scalesim_cfg]") {
  struct Expected {
    int rows, cols;
    std::string dataflow, sram;
    json bandwidth;
  };
  // From the files' values: CALC runs have 8192 KiB buffers and unlimited DRAM; USER runs 64 KiB
  // and Bandwidth 4 (words = bytes per cycle).
  const std::map<std::string, Expected> expected = {
      {"calc_32x32_is", {32, 32, "is", "8192 KiB", "unlimited"}},
      {"calc_32x32_os", {32, 32, "os", "8192 KiB", "unlimited"}},
      {"calc_32x32_ws", {32, 32, "ws", "8192 KiB", "unlimited"}},
      {"calc_8x8_is", {8, 8, "is", "8192 KiB", "unlimited"}},
      {"calc_8x8_os", {8, 8, "os", "8192 KiB", "unlimited"}},
      {"calc_8x8_ws", {8, 8, "ws", "8192 KiB", "unlimited"}},
      {"user_32x32_is_sram64k_bw4", {32, 32, "is", "64 KiB", 4}},
      {"user_32x32_os_sram64k_bw4", {32, 32, "os", "64 KiB", 4}},
      {"user_32x32_ws_sram64k_bw4", {32, 32, "ws", "64 KiB", 4}},
  };
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigs)) {
    if (entry.path().extension() != ".cfg") continue;
    const std::string stem = entry.path().stem().string();
    INFO(stem);
    REQUIRE(expected.count(stem) == 1);  // a new reference config needs its expected values here
    const Expected& e = expected.at(stem);
    const json j = arch::read_scalesim_cfg(entry.path().string());
    const json want = {
        {"engine", "systolic"},
        {"name", stem},  // run_name equals the stem in these files
        {"systolic",
         {{"rows", e.rows}, {"cols", e.cols}, {"dataflow", e.dataflow}, {"mode", "scalesim"}}},
        {"sram", {{"ifmap", e.sram}, {"filter", e.sram}, {"ofmap", e.sram}}},
        {"dram", {{"bandwidth", e.bandwidth}}}};
    CHECK(j == want);
    ++seen;
  }
  CHECK(seen == expected.size());
}

TEST_CASE("read_arch_document reads .cfg as SCALE-Sim and keeps the file name",
          "[arch][scalesim_cfg]") {
  const std::string path = kConfigs + "user_32x32_os_sram64k_bw4.cfg";
  const auto doc = arch::read_arch_document(path);
  CHECK(doc.file == path);
  CHECK(doc.json == arch::read_scalesim_cfg(path));
  CHECK(doc.json["sram"]["ifmap"] == "64 KiB");
  CHECK(doc.json["dram"]["bandwidth"] == 4);
}

TEST_CASE("SCALE-Sim cfg syntax follows configparser", "[arch][scalesim_cfg]") {
  SECTION("defaults: name from the file stem, CALC when run_presets is absent") {
    const json j = convert(kMinimal);
    CHECK(j["name"] == "arch");
    CHECK(j["systolic"]["rows"] == 16);
    CHECK(j["systolic"]["cols"] == 8);
    CHECK(j["systolic"]["dataflow"] == "ws");
    CHECK(j["sram"] == json{{"ifmap", "32 KiB"}, {"filter", "16 KiB"}, {"ofmap", "8 KiB"}});
    CHECK(j["dram"]["bandwidth"] == "unlimited");
  }
  SECTION("either delimiter, any spacing, case-insensitive keys, comments, blank lines, CRLF") {
    const json j = convert(
        "# a comment\r\n"
        "; another\r\n"
        "\r\n"
        "[general]\r\n"
        "RUN_NAME=spaced run\r\n"
        "[architecture_presets]\r\n"
        "arrayheight   =   4\r\n"
        "  # an indented comment\r\n"
        "ARRAYWIDTH\t:\t2\r\n"
        "ifmapsramszkb: 1\r\n"
        "FilterSramSzkB=2\r\n"
        "OfmapSramSzKb : 3\r\n"
        "dataflow: os\r\n"
        "bandwidth = 12, 7,3\r\n"
        "\r\n"
        "[run_presets]\r\n"
        "interfacebandwidth = USER\r\n");
    CHECK(j["name"] == "spaced run");
    CHECK(j["systolic"]["rows"] == 4);
    CHECK(j["systolic"]["cols"] == 2);
    CHECK(j["systolic"]["dataflow"] == "os");
    CHECK(j["sram"] == json{{"ifmap", "1 KiB"}, {"filter", "2 KiB"}, {"ofmap", "3 KiB"}});
    CHECK(j["dram"]["bandwidth"] == 12);  // only the first value of the list, as SCALE-Sim
  }
  SECTION("keys with no effect on timing are accepted and ignored") {
    const json j = convert(kMinimal +
                           "IfmapOffset: 0\nFilterOffset: 10000000\nOfmapOffset: 20000000\n"
                           "MemoryBanks: 1\nReadRequestBuffer: 100\nWriteRequestBuffer: 100\n"
                           "OnChipMemoryBanks: 1\nOnChipMemoryBankPorts: 2\n"
                           "IfmapCustomLayout: False\nFilterCustomLayout: false\n"
                           "IfmapSRAMBankBandwidth: 64\nIfmapSRAMBankNum: 10\n"
                           "IfmapSRAMBankPort: 2\nFilterSRAMBankBandwidth: 640\n"
                           "FilterSRAMBankNum: 1\nFilterSRAMBankPort: 2\n"
                           "[sparsity]\nSparsitySupport : false\nSparseRep : ellpack_block\n"
                           "OptimizedMapping : false\nBlockSize : 8\n"
                           "RandomNumberGeneratorSeed : 40\n"
                           "[network_presets]\nTopologyCsvLoc: \"topologies/x.csv\"\n"
                           "[run_presets]\nInterfaceBandwidth: CALC\nUseRamulatorTrace: False\n");
    CHECK(j == convert(kMinimal));
  }
  SECTION("Bandwidth is not read in CALC mode") {
    CHECK(convert(
              kMinimal +
              "Bandwidth: lots\n[run_presets]\nInterfaceBandwidth: CALC\n")["dram"]["bandwidth"] ==
          "unlimited");
  }
}

TEST_CASE("bad SCALE-Sim cfg files name the file and the line or key",
          "[arch][scalesim_cfg][errors]") {
  SECTION("unknown key: file, line and key") {
    const auto msg = file_error_of("unknown_key.cfg");
    CHECK_THAT(msg, Contains("unknown_key.cfg:14:"));
    CHECK_THAT(msg, Contains("unknown key 'ArrayDepth' in [architecture_presets]"));
    CHECK_THAT(msg, Contains("ArrayHeight"));  // lists the accepted keys
  }
  SECTION("missing ArrayHeight: file and key") {
    const auto msg = file_error_of("missing_array_height.cfg");
    CHECK_THAT(msg, Contains("missing_array_height.cfg"));
    CHECK_THAT(msg, Contains("ArrayHeight"));
  }
  SECTION("bad dataflow: file, line and the choices") {
    const auto msg = file_error_of("bad_dataflow.cfg");
    CHECK_THAT(msg, Contains("bad_dataflow.cfg:14:"));
    CHECK_THAT(msg, Contains("os, ws or is, got 'rs'"));
  }
  SECTION("USER without Bandwidth: file and the InterfaceBandwidth line") {
    const auto msg = file_error_of("user_without_bandwidth.cfg");
    CHECK_THAT(msg, Contains("user_without_bandwidth.cfg:17:"));
    CHECK_THAT(msg, Contains("Bandwidth"));
  }
  SECTION("zero size: file, line and key") {
    const auto msg = file_error_of("zero_size.cfg");
    CHECK_THAT(msg, Contains("zero_size.cfg:8:"));
    CHECK_THAT(msg, Contains("FilterSramSzkB: expected a positive integer, got '0'"));
  }
  SECTION("sparsity on: not modelled") {
    const auto msg = file_error_of("sparsity_on.cfg");
    CHECK_THAT(msg, Contains("sparsity_on.cfg:21:"));
    CHECK_THAT(msg, Contains("SparsitySupport"));
    CHECK_THAT(msg, Contains("not model"));
  }
  SECTION("a file that cannot be opened") {
    CHECK_THAT(file_error_of("no_such_file.cfg"), Contains("no_such_file.cfg: cannot open"));
  }
}

TEST_CASE("SCALE-Sim cfg values and syntax errors", "[arch][scalesim_cfg][errors]") {
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  // kMinimal: line 1 [architecture_presets], 2 ArrayHeight, 3 ArrayWidth, ..., 7 Dataflow.
  CHECK_THAT(error_of(replace(kMinimal, "ArrayWidth: 8", "ArrayWidth: 8.5")),
             Contains("arch.cfg:3: ArrayWidth: expected a positive integer, got '8.5'"));
  CHECK_THAT(error_of(replace(kMinimal, "ArrayHeight: 16", "ArrayHeight: -4")),
             Contains("arch.cfg:2: ArrayHeight: expected a positive integer"));
  CHECK_THAT(error_of(replace(kMinimal, "ArrayHeight: 16", "ArrayHeight: 16 # rows")),
             Contains("comment must be on its own line"));
  CHECK_THAT(error_of(replace(kMinimal, "Dataflow: ws", "Dataflow: WS")),
             Contains("arch.cfg:7: Dataflow: expected os, ws or is, got 'WS'"));
  CHECK_THAT(error_of(kMinimal + "[run_presets]\nInterfaceBandwidth: AUTO\n"),
             Contains("arch.cfg:9: InterfaceBandwidth: expected CALC or USER, got 'AUTO'"));
  CHECK_THAT(error_of(kMinimal + "Bandwidth: 0\n[run_presets]\nInterfaceBandwidth: USER\n"),
             Contains("arch.cfg:8: Bandwidth: expected a positive integer, got '0'"));
  CHECK_THAT(error_of(kMinimal + "Bandwidth: 4,\n[run_presets]\nInterfaceBandwidth: USER\n"),
             Contains("arch.cfg:8: Bandwidth: expected a positive integer, got ''"));
  CHECK_THAT(error_of(replace(kMinimal, "OfmapSramSzkB: 8\n", "")),
             Contains("arch.cfg: [architecture_presets] has no OfmapSramSzkB"));
  CHECK_THAT(error_of("[general]\nrun_name = x\n"),
             Contains("arch.cfg: no [architecture_presets] section, but ArrayHeight is required"));
  CHECK_THAT(error_of("ArrayHeight: 4\n"), Contains("arch.cfg:1: key 'ArrayHeight' comes before"));
  CHECK_THAT(error_of("[Architecture_Presets]\n"),
             Contains("arch.cfg:1: unknown section [Architecture_Presets]"));
  CHECK_THAT(error_of(kMinimal + "[general]\n[general]\n"),
             Contains("arch.cfg:9: duplicate section [general] (first on line 8)"));
  CHECK_THAT(error_of(kMinimal + "arrayheight: 4\n"),
             Contains("arch.cfg:8: duplicate key 'arrayheight' in [architecture_presets]"));
  CHECK_THAT(error_of(kMinimal + "ArrayWidth 4\n"),
             Contains("arch.cfg:8: expected 'key: value' or 'key = value'"));
  CHECK_THAT(error_of(kMinimal + "   continued\n"),
             Contains("arch.cfg:8: indented line continues the value of 'Dataflow' (line 7)"));
  CHECK_THAT(error_of(kMinimal + "[general]\nArrayHeight: 4\n"),
             Contains("ArrayHeight belongs in [architecture_presets]"));
  CHECK_THAT(error_of(kMinimal + "IfmapCustomLayout: True\n"),
             Contains("arch.cfg:8: IfmapCustomLayout = True is not supported"));
  CHECK_THAT(error_of(kMinimal + "[run_presets]\nUseRamulatorTrace: True\n"),
             Contains("arch.cfg:9: UseRamulatorTrace = True is not supported"));
  CHECK_THAT(error_of(kMinimal + "[sparsity]\nSparsitySupport: maybe\n"),
             Contains("arch.cfg:9: SparsitySupport: expected True or False, got 'maybe'"));
}
