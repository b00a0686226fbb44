// The sparse engine on Dysta's reference layers (tests/data/dysta/reference.csv: every
// convolution and linear layer of ResNet-50, VGG-16 and MobileNet-v1 under the artefact's pruning
// recipes, masks drawn by the hash both sides implement), three ways on the same masks:
//   dysta     the artefact's Eyeriss-v2 latency model (sparse.mode=dysta, exact against it);
//   native    lanes over filters and positions, a tile as long as its busiest lane;
//   balanced  the same work spread evenly over the lanes of each tile (the bound native reaches
//             with perfect balance: the effectual work of each tile / lanes).
// Layers as the artefact sees them: stride 1, 'same' padding (the CSV has no strides).
// Table 1 per network and recipe: compute cycles of the three; the native plans timed with their
// DRAM traffic (sim::time_layer on the config's memory: compressed weights and inputs, value and
// metadata bytes, outputs uncompressed); DRAM bytes against the same tensors uncompressed.
// Table 2 per network (its first recipe): CPU time of planning from masks (native: counting the
// masks, then tiles), of planning them again at another PE count (96: the counts come from the
// cache), of planning with masks the engine draws itself (synthetic, at the layers' densities),
// and of timing the plans, beside the expected-value mode's planning (densities only).
// Usage: tessera_bench --sparse [reference.csv]
#include <ctime>
#include <cstdio>
#include <map>
#include <string>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/sparse/masks.hpp"
#include "common/csv.hpp"
#include "sim/analytical.hpp"

using namespace tessera;
using workloads::i64;

int sparse_bench(const std::string& root, const std::string& csv) {
  const auto rows = read_csv_table(csv);
  const auto native = arch::load_arch(root + "/configs/arch/eyeriss_v2.json");
  const auto dysta = arch::load_arch(root + "/configs/arch/eyeriss_v2.json", {"sparse.mode=dysta"});
  const auto expected = arch::load_arch(root + "/configs/arch/eyeriss_v2.json", {"sparse.mode=expected"});
  const auto half = arch::load_arch(root + "/configs/arch/eyeriss_v2.json", {"sparse.pes=96"});
  // CPU time of this (single) thread: the machine may be shared, and wall time would count the others.
  struct clock {
    static double now() {
      timespec t{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    }
  };
  const auto since = [](double t0) { return clock::now() - t0; };
  struct Sum {
    double dysta = 0, native = 0, balanced = 0, timed = 0, stalls = 0;
    double dram = 0, meta = 0, dense_dram = 0;
    double map_s = 0, again_s = 0, drawn_s = 0, time_s = 0, expected_s = 0;
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
    op.density.weight = std::stod(r.at("weight_density"));
    op.density.activation = std::stod(r.at("activation_density"));
    const auto L = *arch::sparse::layer_shape(op);
    arch::sparse::PatternSpec w, a;
    w.pattern = *arch::sparse::pattern_from_string(r.at("weight_pattern"));
    w.density = op.density.weight;
    w.seed = static_cast<std::uint64_t>(num("weight_seed"));
    a.density = op.density.activation;
    a.seed = static_cast<std::uint64_t>(num("activation_seed"));
    workloads::OperandMasks m;
    m.weight = arch::sparse::weight_mask(L, w);
    m.input = arch::sparse::input_mask(L, a);
    m.digest = arch::sparse::mask_digest(m);
    const auto key = std::make_pair(r.at("network"), r.at("recipe"));
    if (!sums.count(key)) order.push_back(key);
    Sum& s = sums[key];
    auto t0 = clock::now();
    (void)expected.engine->map(op);  // densities only: the baseline of planning
    s.expected_s += since(t0);
    t0 = clock::now();
    (void)native.engine->map(op);  // masks drawn by the engine
    s.drawn_s += since(t0);
    op.masks = std::make_shared<const workloads::OperandMasks>(std::move(m));
    t0 = clock::now();
    const auto nw = native.engine->map(op);
    s.map_s += since(t0);
    t0 = clock::now();
    (void)half.engine->map(op);
    s.again_s += since(t0);
    t0 = clock::now();
    const auto timing = sim::time_layer(nw.plan, native.engine->memory());
    s.time_s += since(t0);
    const double util = nw.metrics.at("lane_utilization");
    s.native += static_cast<double>(nw.plan.compute_cycles());
    s.balanced += static_cast<double>(nw.plan.compute_cycles()) * util;
    s.timed += static_cast<double>(timing.cycles);
    s.stalls += static_cast<double>(timing.stall_cycles);
    for (const auto& [name, acc] : nw.accesses) {
      if (name.rfind("dram.", 0) != 0) continue;
      const auto bytes = static_cast<double>(acc.read_bytes + acc.write_bytes);
      s.dram += bytes;
      if (name.size() > 5 && name.substr(name.size() - 5) == "_meta") s.meta += bytes;
    }
    // The same tensors uncompressed, one byte a value (8-bit words): weights, input, output.
    s.dense_dram += static_cast<double>(op.params() + op.input_elements() + op.output_elements());
    s.dysta += static_cast<double>(dysta.engine->map(op).plan.compute_cycles());
    ++s.layers;
  }
  std::printf("%-10s %-36s %6s %12s %12s %12s %7s %6s %12s %6s %9s %6s %7s\n", "network", "recipe", "layers",
              "dysta", "native", "balanced", "nat/dys", "imbal", "timed", "stall", "DRAM MB", "meta", "/dense");
  for (const auto& key : order) {
    const Sum& s = sums[key];
    std::printf("%-10s %-36s %6zu %12.0f %12.0f %12.0f %7.3f %6.3f %12.0f %5.1f%% %9.2f %5.1f%% %7.3f\n",
                key.first.c_str(), key.second.c_str(), s.layers, s.dysta, s.native, s.balanced,
                s.native / s.dysta, s.native / s.balanced, s.timed, 100 * s.stalls / s.timed, s.dram / 1e6,
                100 * s.meta / s.dram, s.dram / s.dense_dram);
  }
  std::printf("\n%-10s %-36s %14s %14s %14s %14s %14s\n", "network", "recipe", "plan masks ms", "again 96 PEs",
              "drawn masks ms", "time plans ms", "plan expected ms");
  std::string last;
  for (const auto& key : order) {
    if (key.first == last) continue;
    last = key.first;
    const Sum& s = sums[key];
    std::printf("%-10s %-36s %14.1f %14.1f %14.1f %14.1f %14.1f\n", key.first.c_str(), key.second.c_str(),
                1e3 * s.map_s, 1e3 * s.again_s, 1e3 * s.drawn_s, 1e3 * s.time_s, 1e3 * s.expected_s);
  }
  return 0;
}
