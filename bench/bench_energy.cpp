// tessera_bench --energy [ARCH WORKLOAD]: speed and accuracy of the bit-toggle counter.
//   1. popcount kernels: operand pairs counted per second on one core (8-bit packed, 64-bit)
//   2. exact counting of whole layers: transitions counted per second per core
//   3. the sampling estimator against exact counts, per layer and port (relative error, CI hit)
// Default workload: ResNet-18 (configs/workloads/resnet18_scalesim.csv) on the 32x32 systolic
// edge config.
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/energy/hamming.hpp"
#include "workloads/frontend.hpp"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int energy_bench(const std::string& arch_file, const std::string& workload_file) {
  using namespace tessera::arch::energy;
  std::mt19937_64 rng(1);
  {
    std::vector<std::uint8_t> bytes(std::size_t{1} << 26);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint64_t> words(std::size_t{1} << 24);
    for (auto& w : words) w = rng() & 0xffff;
    std::uint64_t sink = 0;
    double t0 = now();
    for (int r = 0; r < 4; ++r) sink += stream_toggles_u8(bytes.data(), bytes.size());
    const double u8 = 4.0 * static_cast<double>(bytes.size()) / (now() - t0);
    t0 = now();
    for (int r = 0; r < 4; ++r) sink += stream_toggles(words.data(), words.size());
    const double u64 = 4.0 * static_cast<double>(words.size()) / (now() - t0);
    std::cout << fmt::format("kernel: {:.3g} pairs/s (8-bit packed), {:.3g} pairs/s (one value per word), one core [{}]\n",
                             u8, u64, sink % 2);
  }
  const auto arch = tessera::arch::load_arch(arch_file);
  const auto graph = tessera::workloads::load_workload(workload_file);
  const auto* src = dynamic_cast<const OperandStreamSource*>(arch.engine.get());
  if (!src) {
    std::cout << "engine has no operand streams\n";
    return 1;
  }
  HammingOptions exact;
  exact.exact_limit = std::uint64_t{1} << 36;
  HammingOptions sampled;  // defaults
  std::cout << fmt::format("{:<14} {:<14} {:>12} {:>12} {:>9} {:>8} {:>6} {:>12}\n", "layer", "port",
                           "exact", "sampled", "rel.err", "ci95 %", "hit", "exact tr/s");
  double total_exact = 0, total_sampled = 0, t_exact = 0, tr_exact = 0, var = 0;
  int hits = 0, n = 0;
  for (auto node : graph.topological_order()) {
    const auto& op = graph.op(node);
    const auto streams = src->operand_streams(op);
    if (!streams) continue;
    const LayerValues v = make_values(op, sampled);
    for (std::size_t p = 0; p < streams->ports.size(); ++p) {
      LayerStreams one = *streams;
      one.ports = {streams->ports[p]};
      const double t0 = now();
      const auto s = count_toggles(one, op, v, sampled)[0];
      const double t1 = now();
      if (s.exact) continue;  // small ports are exact either way
      if (s.evaluations > 0 && streams->ports[p].tensor == StreamTensor::psum &&
          s.transitions * 16 > 4e9)
        continue;  // exact psum counting too slow for a bench run
      const auto e = count_toggles(one, op, v, exact)[0];
      const double t2 = now();
      t_exact += t2 - t1;
      tr_exact += e.transitions;
      const double rel = e.toggles > 0 ? (s.toggles - e.toggles) / e.toggles : 0;
      const bool hit = std::abs(s.toggles - e.toggles) <= s.ci95;
      hits += hit;
      ++n;
      total_exact += e.toggles;
      total_sampled += s.toggles;
      var += s.ci95 * s.ci95;
      std::cout << fmt::format("{:<14} {:<14} {:>12.5g} {:>12.5g} {:>8.3f}% {:>7.3f}% {:>6} {:>12.3g}\n",
                               op.name.substr(0, 14), s.port, e.toggles, s.toggles, 100 * rel,
                               e.toggles > 0 ? 100 * s.ci95 / e.toggles : 0.0, hit ? "yes" : "no",
                               e.transitions / (t2 - t1));
      (void)t0;
    }
  }
  std::cout << fmt::format(
      "sampled ports: {}, CI hits {} ({:.0f}%); total exact {:.6g}, sampled {:.6g} ({:+.3f}%, ci95 "
      "{:.3f}%); exact counting {:.3g} transitions/s on one core\n",
      n, hits, n ? 100.0 * hits / n : 0.0, total_exact, total_sampled,
      total_exact > 0 ? 100 * (total_sampled - total_exact) / total_exact : 0.0,
      total_exact > 0 ? 100 * std::sqrt(var) / total_exact : 0.0, t_exact > 0 ? tr_exact / t_exact : 0.0);
  return 0;
}
