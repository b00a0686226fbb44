// sparse.mode=dysta against Dysta's own Eyeriss-v2 latency model: tests/data/dysta/reference.csv
// holds the cycles that the artefact's hw_eyerissv2.py (SamsungLabs/Sparse-Multi-DNN-Scheduling,
// commit b9f1913, run unchanged by tests/data/dysta/make_reference.py under PyTorch) computed for
// every convolution and linear layer of ResNet-50, VGG-16 and MobileNet-v1 under the artefact's
// SparseML recipes, with masks drawn by the hash both sides implement. Tolerance: none (exact
// cycles, exact effectual-MAC counts).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "arch/config.hpp"
#include "arch/sparse/dysta.hpp"
#include "arch/sparse/masks.hpp"
#include "test_support.hpp"

using namespace tessera;

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("dysta: the artefact's Eyeriss-v2 cycles on ResNet-50, VGG-16 and MobileNet, exactly", "[sparse][dysta]") {
  std::ifstream in(test::source_path("tests/data/dysta/reference.csv"));
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line.rfind("network,recipe,layer,type,c,h,k,r,groups,weight_pattern,weight_density,weight_seed,"
                     "activation_density,activation_seed,cycles,valid_mac_exact", 0) == 0);
  std::size_t rows = 0, exact = 0;
  std::map<std::string, std::size_t> per_network;
  while (std::getline(in, line)) {
    const auto f = split(line);
    REQUIRE(f.size() == 16);
    INFO(f[0] << " " << f[1] << " " << f[2]);
    arch::sparse::LayerShape L;
    const auto num = [&](int i) { return std::stoll(f[static_cast<std::size_t>(i)]); };
    L.c = num(4);
    L.k = num(6);
    if (f[3] == "FC") {
      L.matmul = true;
    } else {
      L.h = L.w = num(5);
      L.r = L.s = num(7);
      L.groups = num(8);
    }
    arch::sparse::PatternSpec w;
    w.pattern = *arch::sparse::pattern_from_string(f[9]);
    w.density = std::stod(f[10]);
    w.seed = static_cast<std::uint64_t>(num(11));
    w.block = 4;
    arch::sparse::PatternSpec a;
    a.density = std::stod(f[12]);
    a.seed = static_cast<std::uint64_t>(num(13));
    const auto d = arch::sparse::dysta_layer(L, arch::sparse::weight_mask(L, w), arch::sparse::input_mask(L, a));
    CHECK(d.valid_macs == static_cast<std::uint64_t>(num(15)));
    CHECK(d.cycles == static_cast<std::uint64_t>(num(14)));
    exact += d.cycles == static_cast<std::uint64_t>(num(14));
    ++rows;
    ++per_network[f[0]];
  }
  CHECK(per_network["resnet50"] == 5 * 54);
  CHECK(per_network["vgg16"] == 5 * 16);
  CHECK(per_network["mobilenet"] == 5 * 28);
  CHECK(exact == rows);
}

TEST_CASE("dysta: the mode runs a whole network through the engine", "[sparse][dysta]") {
  const auto a = arch::load_arch(test::source_path("configs/arch/eyeriss_v2.json"), {"sparse.mode=dysta"});
  workloads::Operator op;
  op.name = "conv";
  workloads::Conv c;
  c.c = 64; c.h = c.w = 56; c.k = 64; c.r = c.s = 3;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  op.shape = c;
  op.density.weight = 0.4;
  op.density.activation = 0.5;
  const auto w = a.engine->map(op);
  REQUIRE(w.plan.tiles.size() == 1);
  CHECK(w.plan.read_bytes() == 0);  // the model times no memory traffic
  // Stride 1: the model's valid MACs are the layer's effectual MACs.
  CHECK(w.metrics.at("dysta_valid_macs_stride1") == static_cast<double>(w.macs));
  const double expected = (4 * w.metrics.at("dysta_valid_macs_stride1") + w.metrics.at("dysta_act_checks") +
                           w.metrics.at("dysta_weight_checks")) / 192;
  CHECK(std::abs(static_cast<double>(w.plan.compute_cycles()) - expected) <= 1 + expected * 1e-6);
}
