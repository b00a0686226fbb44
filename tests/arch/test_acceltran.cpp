// The AccelTran-like config (configs/arch/acceltran_edge.json) against AccelTran's own simulator
// (jha-lab/acceltran, simulator/): tests/data/acceltran/bert_tiny.csv holds, for BERT-Tiny at
// activation sparsity 0.0-0.9, the tiles of every matrix product in the artefact's
// cycle-accurate model (MatrixMultOp.tile_op) and the cycles one MAC lane takes for a tile
// (MACLane.assign_op), computed by the artefact's own code (make_reference.py beside the CSV).
// Its 64 PEs x 16 lanes take the tiles in rounds, so a product's MAC cycles are
// ceil(tiles / 1024) x lane cycles. Tessera's MAC cycles of the same products
// (configs/workloads/acceltran_bert_tiny.json, activations skipped at density 1 - sparsity,
// attention scores included) must agree within 16 cycles per product (each side rounds its own
// tiles up to whole cycles: Tessera's 2-16 tiles, the artefact's 1-8 rounds) and within 1% over
// the network.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <sstream>

#include "arch/config.hpp"
#include "common/csv.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;

namespace {

// The artefact's op name -> the workload's: sa_sdp_64_<layer>_<head>_<q|k|v|sdp-qk|sdp-v|o> and
// ff_<layer>_<1|2>_f.
std::string tessera_name(const std::string& a) {
  std::vector<std::string> parts;
  std::stringstream ss(a);
  for (std::string p; std::getline(ss, p, '_');) parts.push_back(p);
  if (parts[0] == "ff") return "l" + parts[1] + "_ff" + parts[2];
  static const std::map<std::string, std::string> kinds = {
      {"q", "q"}, {"k", "k"}, {"v", "v"}, {"sdp-qk", "scores"}, {"sdp-v", "context"}, {"o", "o"}};
  return "l" + parts[3] + "_h" + parts[4] + "_" + kinds.at(parts[5]);
}

}  // namespace

TEST_CASE("acceltran: MAC cycles of BERT-Tiny against AccelTran's simulator across activation sparsity",
          "[sparse][transformer][validation]") {
  const auto rows = read_csv_table(test::source_path("tests/data/acceltran/bert_tiny.csv"));
  const auto arch = arch::load_arch(test::source_path("configs/arch/acceltran_edge.json"));
  const auto graph = workloads::load_workload(test::source_path("configs/workloads/acceltran_bert_tiny.json"));
  std::map<std::string, workloads::Operator> ops;
  for (const auto n : graph.topological_order()) ops[graph.op(n).name] = graph.op(n);
  std::map<double, std::pair<double, double>> totals;  // sparsity -> (Tessera, reference)
  std::size_t compared = 0;
  for (const auto& r : rows) {
    if (r.at("kind") != "matmul") continue;
    const double s = std::stod(r.at("activation_sparsity"));
    const std::string name = tessera_name(r.at("name"));
    INFO(r.at("name") << " as " << name << " at sparsity " << s);
    REQUIRE(ops.count(name));
    workloads::Operator op = ops.at(name);
    op.density.activation = 1.0 - s;  // the per-layer target of the dynamic pruning
    const auto w = arch.engine->map(op);
    const double tessera = w.metrics.at("mac_compute_cycles");
    const double tiles = std::stod(r.at("tiles")), lane = std::stod(r.at("lane_cycles"));
    const double reference = std::ceil(tiles / 1024) * lane;
    CHECK(std::abs(tessera - reference) <= 16);
    CHECK(w.metrics.at("pruned_activation_density") == Approx(1.0 - s));
    totals[s].first += tessera;
    totals[s].second += reference;
    ++compared;
  }
  CHECK(compared == 10 * 28);  // 28 products (2 layers x (2 heads x 6 + 2)) at 10 sparsities
  REQUIRE(totals.size() == 10);
  for (const auto& [s, t] : totals) {
    INFO("sparsity " << s << ": Tessera " << t.first << ", AccelTran " << t.second);
    CHECK(std::abs(t.first - t.second) <= 0.01 * t.second);
  }
  // Sparser is faster on both sides: 0.9 takes about a tenth of 0.0's MAC cycles.
  CHECK(totals.at(0.9).first < 0.11 * totals.at(0.0).first);
}
