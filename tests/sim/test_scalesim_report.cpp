// SCALE-Sim-style CSV reports (sim/scalesim_report.hpp, docs/scalesim.md): SCALE-Sim v2's
// exact headers, rows that carry the report's numbers (and, for a stall-free SCALE-Sim-mode
// run, SCALE-Sim's own: data/reference/scalesim/results.csv), and `--format scalesim`.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "cli/app.hpp"
#include "cli_support.hpp"
#include "common/csv.hpp"
#include "common/error.hpp"
#include "explorer/evaluator.hpp"
#include "sim/scalesim_report.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

using test::run_cli;

const std::string kDir = std::string(TESSERA_SOURCE_DIR) + "/data/reference/scalesim/";
const std::string kCfg = kDir + "configs/calc_8x8_ws.cfg";
const std::string kTopology = kDir + "topologies/r18_conv2_3x3.csv";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// A SCALE-Sim row: "a, b, c," -> {a, b, c}.
std::vector<std::string> fields(const std::string& line) {
  REQUIRE(line.size() >= 1);
  REQUIRE(line.back() == ',');
  std::vector<std::string> out;
  std::size_t begin = 0;
  const std::string body = line.substr(0, line.size() - 1);
  for (;;) {
    const auto end = body.find(", ", begin);
    out.push_back(body.substr(begin, end - begin));
    if (end == std::string::npos) break;
    begin = end + 2;
  }
  return out;
}

// The results.csv row of one run.
std::map<std::string, std::string> reference_row(const std::string& config,
                                                 const std::string& layer) {
  for (auto& row : read_csv_table(kDir + "results.csv"))
    if (row["study"] == "calc" && row["config"] == config && row["layer"] == layer) return row;
  FAIL("no results.csv row for " << config << " " << layer);
  return {};
}

sim::Report calc_8x8_ws_report() {
  const auto arch = arch::load_arch(kCfg);
  return explorer::evaluate(
      arch, explorer::prepare_workload(workloads::load_workload(kTopology), kTopology), {});
}

const std::string kComputeHeader =
    "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,";
const std::string kBandwidthHeader =
    "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg "
    "FILTER DRAM BW, Avg OFMAP DRAM BW,";
const std::string kDetailedHeader =
    "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start "
    "Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop "
    "Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
    "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, "
    "DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,";

std::string read(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("SCALE-Sim CSV: floats are written as Python's str() writes them",
          "[sim][scalesim_report]") {
  CHECK(sim::python_float(100.0) == "100.0");
  CHECK(sim::python_float(0.0) == "0.0");
  CHECK(sim::python_float(0.5) == "0.5");
  CHECK(sim::python_float(-3.0) == "-3.0");
  CHECK(sim::python_float(0.1 + 0.2) == "0.30000000000000004");
  CHECK(sim::python_float(1e-05) == "1e-05");
  CHECK(sim::python_float(1e16) == "1e+16");
  CHECK(sim::python_float(123456789012345.0) == "123456789012345.0");
}

TEST_CASE("SCALE-Sim compute report: SCALE-Sim's header and its numbers for a CALC run",
          "[sim][scalesim_report]") {
  const auto report = calc_8x8_ws_report();
  const auto ref = reference_row("calc_8x8_ws", "r18_conv2_3x3");
  const auto text = sim::scalesim_compute_report(report);
  const auto l = lines(text);
  REQUIRE(l.size() == 2);
  CHECK(l[0] == kComputeHeader);
  const auto f = fields(l[1]);
  REQUIRE(f.size() == 6);
  CHECK(f[0] == "0");
  CHECK(f[1] == ref.at("total_cycles"));
  CHECK(f[1] == "1819007");
  CHECK(f[2] == ref.at("stall_cycles"));
  CHECK(std::stod(f[3]) == std::stod(ref.at("overall_util_pct")));
  CHECK(f[3] == ref.at("overall_util_pct"));  // same digits, as Python writes them
  CHECK(f[4] == ref.at("mapping_eff_pct"));
  CHECK(f[5] == f[3]);  // stall-free: utilisation over compute cycles = overall
}

TEST_CASE("SCALE-Sim detailed access report: the JSON report's counts, streams span the layer",
          "[sim][scalesim_report]") {
  const auto report = calc_8x8_ws_report();
  const auto j = sim::to_json(report).at("layers").at(0);
  const auto& acc = j.at("accesses");
  const auto l = lines(sim::scalesim_detailed_access_report(report));
  REQUIRE(l.size() == 2);
  CHECK(l[0] == kDetailedHeader);
  const auto f = fields(l[1]);
  REQUIRE(f.size() == 19);
  const std::string cycles = std::to_string(j.at("cycles").get<std::uint64_t>());
  const auto count = [&](const char* level, const char* dir) {
    return std::to_string(acc.at(level).at(dir).get<std::uint64_t>());
  };
  const std::vector<std::string> counts = {
      count("sram.ifmap", "read_bytes"),  count("sram.filter", "read_bytes"),
      count("sram.ofmap", "write_bytes"), count("dram.ifmap", "read_bytes"),
      count("dram.filter", "read_bytes"), count("dram.ofmap", "write_bytes")};
  for (std::size_t s = 0; s < 6; ++s) {
    INFO("stream " << s);
    CHECK(f[1 + 3 * s] == "0");
    CHECK(f[2 + 3 * s] == cycles);
    CHECK(f[3 + 3 * s] == counts[s]);
  }
  // And SCALE-Sim's own SRAM counts for this run.
  const auto ref = reference_row("calc_8x8_ws", "r18_conv2_3x3");
  CHECK(f[3] == ref.at("sram_ifmap_reads"));
  CHECK(f[6] == ref.at("sram_filter_reads"));
  CHECK(f[9] == ref.at("sram_ofmap_writes"));
}

TEST_CASE("SCALE-Sim bandwidth report: accesses per cycle of the layer", "[sim][scalesim_report]") {
  const auto report = calc_8x8_ws_report();
  const auto& layer = report.layers.at(0);
  const auto l = lines(sim::scalesim_bandwidth_report(report));
  REQUIRE(l.size() == 2);
  CHECK(l[0] == kBandwidthHeader);
  const auto f = fields(l[1]);
  REQUIRE(f.size() == 7);
  const double cycles = static_cast<double>(layer.timing.cycles);
  const auto bw = [&](const char* level, bool read) {
    const auto& a = layer.accesses.at(level);
    return static_cast<double>(read ? a.read_bytes : a.write_bytes) / cycles;
  };
  CHECK(std::stod(f[1]) == bw("sram.ifmap", true));
  CHECK(std::stod(f[2]) == bw("sram.filter", true));
  CHECK(std::stod(f[3]) == bw("sram.ofmap", false));
  CHECK(std::stod(f[4]) == bw("dram.ifmap", true));
  CHECK(std::stod(f[5]) == bw("dram.filter", true));
  CHECK(std::stod(f[6]) == bw("dram.ofmap", false));
  CHECK(std::stod(f[1]) == 14450688.0 / 1819007.0);
}

TEST_CASE("SCALE-Sim CSV reports refuse access levels without a SCALE-Sim column",
          "[sim][scalesim_report]") {
  sim::Report r;
  r.engine = "ideal";
  r.peak_macs_per_cycle = 64;
  sim::LayerResult l;
  l.name = "conv";
  l.accesses["dram"] = {100, 50};
  r.layers.push_back(l);
  CHECK_THROWS_AS(sim::to_scalesim_csv(r), UnsupportedError);
  CHECK_THROWS_WITH(sim::scalesim_compute_report(r), Contains("'dram'") && Contains("conv"));
}

TEST_CASE("simulate --format scalesim writes SCALE-Sim's three CSV files beside the report",
          "[sim][scalesim_report][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "tessera_test_scalesim_csv";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto out = (dir / "report.json").string();
  const auto r = run_cli(
      {"simulate", "--arch", kCfg, "--workload", kTopology, "--out", out, "--format", "scalesim"});
  INFO(r.err);
  REQUIRE(r.code == cli::kExitOk);
  CHECK(fs::exists(out));
  CHECK_THAT(r.out, Contains("COMPUTE_REPORT.csv"));
  const auto compute = read(dir / "COMPUTE_REPORT.csv");
  CHECK(lines(compute).at(0) == kComputeHeader);
  CHECK(fields(lines(compute).at(1)).at(1) == "1819007");
  CHECK(lines(read(dir / "BANDWIDTH_REPORT.csv")).at(0) == kBandwidthHeader);
  CHECK(lines(read(dir / "DETAILED_ACCESS_REPORT.csv")).at(0) == kDetailedHeader);
  CHECK(compute == sim::scalesim_compute_report(calc_8x8_ws_report()));
  fs::remove_all(dir);
}

TEST_CASE("simulate --format scalesim without --out is an error", "[sim][scalesim_report][cli]") {
  const auto r =
      run_cli({"simulate", "--arch", kCfg, "--workload", kTopology, "--format", "scalesim"});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("--format scalesim needs --out"));
  CHECK(r.out.empty());
}

TEST_CASE("simulate --format rejects unknown formats, and scalesim needs per-operand accesses",
          "[sim][scalesim_report][cli]") {
  namespace fs = std::filesystem;
  const auto bad =
      run_cli({"simulate", "--arch", kCfg, "--workload", kTopology, "--format", "csv"});
  CHECK(bad.code != 0);  // CLI11's own exit status for a bad option value
  CHECK_THAT(bad.err, Contains("--format"));
  const fs::path dir = fs::temp_directory_path() / "tessera_test_scalesim_ideal";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto r = run_cli({"simulate", "--arch", test::data_path("cli/ok_arch.json"), "--workload",
                          test::data_path("cli/ok_workload.json"), "--out",
                          (dir / "report.json").string(), "--format", "scalesim", "--quiet"});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("no SCALE-Sim column"));
  CHECK(fs::is_empty(dir));  // nothing written, not even the JSON report
  fs::remove_all(dir);
}
