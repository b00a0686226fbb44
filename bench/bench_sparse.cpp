// The sparse engine on Dysta's reference layers (tests/data/dysta/reference.csv: every
// convolution and linear layer of ResNet-50, VGG-16 and MobileNet-v1 under the artefact's pruning
// recipes, masks drawn by the hash both sides implement), three ways on the same masks:
//   dysta     the artefact's Eyeriss-v2 latency model (sparse.mode=dysta, exact against it);
//   native    lanes over filters and positions, a tile as long as its busiest lane;
//   balanced  the same work spread evenly over the lanes of each tile (the bound native reaches
//             with perfect balance: the effectual work of each tile / lanes).
// Layers as the artefact sees them: stride 1, 'same' padding (the CSV has no strides). Prints a
// table per network and recipe and the wall time of the native mapping per network (the time a
// real-mask run spends planning). Usage: tessera_bench --sparse [reference.csv]
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/sparse/masks.hpp"
#include "common/csv.hpp"

using namespace tessera;
using workloads::i64;

int sparse_bench(const std::string& root, const std::string& csv) {
  const auto rows = read_csv_table(csv);
  const auto native = arch::load_arch(root + "/configs/arch/eyeriss_v2.json");
  const auto dysta = arch::load_arch(root + "/configs/arch/eyeriss_v2.json", {"sparse.mode=dysta"});
  struct Sum {
    double dysta = 0, native = 0, balanced = 0, effectual = 0, map_s = 0;
    std::size_t layers = 0;
  };
  std::map<std::pair<std::string, std::string>, Sum> sums;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& r : rows) {
    const auto num = [&](const char* k) { return std::stoll(r.at(k)); };
    workloads::Operator op;
    op.name = r.at("layer");
    const i64 c = num("c"), k = num("k");
    if (r.at("type") == "FC") {
      op.shape = workloads::MatMul{.batch = 1, .m = 1, .n = k, .k = c};
    } else {
      workloads::Conv cv;
      cv.c = c, cv.h = cv.w = num("h"), cv.k = k, cv.r = cv.s = num("r"), cv.groups = num("groups");
      cv.pad_top = cv.pad_bottom = cv.pad_left = cv.pad_right = (cv.r - 1) / 2;
      op.shape = cv;
    }
    const auto L = *arch::sparse::layer_shape(op);
    arch::sparse::PatternSpec w, a;
    w.pattern = *arch::sparse::pattern_from_string(r.at("weight_pattern"));
    w.density = std::stod(r.at("weight_density"));
    w.seed = static_cast<std::uint64_t>(num("weight_seed"));
    a.density = std::stod(r.at("activation_density"));
    a.seed = static_cast<std::uint64_t>(num("activation_seed"));
    workloads::OperandMasks m;
    m.weight = arch::sparse::weight_mask(L, w);
    m.input = arch::sparse::input_mask(L, a);
    m.digest = arch::sparse::mask_digest(m);
    op.masks = std::make_shared<const workloads::OperandMasks>(std::move(m));
    const auto key = std::make_pair(r.at("network"), r.at("recipe"));
    if (!sums.count(key)) order.push_back(key);
    Sum& s = sums[key];
    const auto t0 = std::chrono::steady_clock::now();
    const auto nw = native.engine->map(op);
    s.map_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double util = nw.metrics.at("lane_utilization");
    s.native += static_cast<double>(nw.plan.compute_cycles());
    s.balanced += static_cast<double>(nw.plan.compute_cycles()) * util;
    s.effectual += nw.metrics.at("effectual_macs");
    s.dysta += static_cast<double>(dysta.engine->map(op).plan.compute_cycles());
    ++s.layers;
  }
  std::printf("%-10s %-36s %6s %14s %14s %14s %8s %8s %8s\n", "network", "recipe", "layers",
              "dysta", "native", "balanced", "nat/dys", "imbal", "map s");
  for (const auto& key : order) {
    const Sum& s = sums[key];
    std::printf("%-10s %-36s %6zu %14.0f %14.0f %14.0f %8.3f %8.3f %8.3f\n", key.first.c_str(),
                key.second.c_str(), s.layers, s.dysta, s.native, s.balanced, s.native / s.dysta,
                s.native / s.balanced, s.map_s);
  }
  return 0;
}
