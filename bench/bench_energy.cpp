// tessera_bench --energy [ARCH WORKLOAD]: speed and accuracy of the bit-toggle counter.
//   1. popcount kernels: operand pairs counted per second on one core, per value width
//   2. the whole workload through analyse_hamming (all threads): wall time at the default exact
//      limit and with every port exact
//   3. exact counting, one core, port by port: row counting (count_toggles) against the loop-nest
//      walk it replaced (count_toggles_reference, the baseline, same run), counts checked equal;
//      operand pairs per second end to end (values laid out, streams walked, toggles counted)
//   4. the sampling estimator against exact counts, per port (relative error, CI hit)
// Default workload: ResNet-18 (workloads/models/resnet18.onnx) on the 32x32 systolic edge config.
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
    std::string line = "kernel, one core, pairs/s:";
    for (std::size_t width : {1, 2, 4}) {
      const std::size_t n = bytes.size() / width;
      const double t0 = now();
      for (int r = 0; r < 4; ++r) sink += stream_toggles_bytes(bytes.data(), n, width);
      line += fmt::format(" {:.3g} ({}-bit packed),", 4.0 * static_cast<double>(n) / (now() - t0), 8 * width);
    }
    const double t0 = now();
    for (int r = 0; r < 4; ++r) sink += stream_toggles(words.data(), words.size());
    std::cout << line
              << fmt::format(" {:.3g} (one value per 64-bit word) [{}]\n",
                             4.0 * static_cast<double>(words.size()) / (now() - t0), sink % 2);
  }
  const auto arch = tessera::arch::load_arch(arch_file);
  const auto graph = tessera::workloads::load_workload(workload_file);
  const auto* src = arch.engine->stream_source();
  if (!src) {
    std::cout << "engine has no operand streams\n";
    return 1;
  }
  HammingOptions sampled;  // defaults
  HammingOptions exact;
  exact.exact_limit = std::uint64_t{1} << 40;
  for (const auto& [label, o] : {std::pair{"default exact limit", sampled}, std::pair{"all exact", exact}}) {
    const double t0 = now();
    const auto r = analyse_hamming(*arch.engine, graph, o);
    std::cout << fmt::format("{}: {} layers, {:.6g} toggles, wall {:.2f} s (all threads)\n", label,
                             r.layers.size(), r.toggles, now() - t0);
  }

  // The layers with operand streams, their values and each port's count at the defaults
  // (exact or sampled), for sections 3 and 4.
  struct Layer {
    const tessera::workloads::Operator* op;
    LayerStreams streams;
    LayerValues values;
    std::vector<PortCount> counts;
  };
  std::vector<Layer> layers;
  for (auto node : graph.topological_order()) {
    const auto& op = graph.op(node);
    if (auto streams = src->operand_streams(op))
      layers.push_back({&op, std::move(*streams), make_values(op, sampled), {}});
  }

  // 3. Exact counting per core: every port exact at the defaults, both ways.
  double t_rows = 0, t_ref = 0, pairs = 0, physical = 0;
  int ports = 0, equal = 0;
  for (auto& layer : layers) {
    const auto& op = *layer.op;
    const LayerValues& v = layer.values;
    for (const auto& port : layer.streams.ports) {
      LayerStreams one = layer.streams;
      one.ports = {port};
      double t0 = now();
      const auto fast = count_toggles(one, op, v, sampled)[0];
      const double t1 = now();
      layer.counts.push_back(fast);
      if (!fast.exact) continue;
      const auto ref = count_toggles_reference(one, op, v, sampled)[0];
      const double t2 = now();
      t_rows += t1 - t0;
      t_ref += t2 - t1;
      pairs += fast.values;  // values on distinct streams: a shared stream once
      physical += fast.transitions;
      ++ports;
      equal += fast.toggles == ref.toggles && fast.transitions == ref.transitions;
    }
  }
  std::cout << fmt::format(
      "exact ports at the defaults: {} ({} with equal counts both ways), {:.4g} operand values on "
      "distinct streams, {:.4g} pairs over physical ports\n"
      "  row counting:     {:.3f} s, {:.3g} pairs/s per core (distinct streams), {:.3g} (physical ports)\n"
      "  loop-nest walk:   {:.3f} s, {:.3g} pairs/s per core (distinct streams), {:.3g} (physical ports)\n"
      "  speed-up {:.0f}x\n",
      ports, equal, pairs, physical, t_rows, pairs / t_rows, physical / t_rows, t_ref, pairs / t_ref,
      physical / t_ref, t_ref / t_rows);

  // 4. The sampling estimator against exact counts.
  std::cout << fmt::format("{:<14} {:<14} {:>12} {:>12} {:>9} {:>8} {:>6} {:>12}\n", "layer", "port",
                           "exact", "sampled", "rel.err", "ci95 %", "hit", "exact val/s");
  double total_exact = 0, total_sampled = 0, var = 0;
  int hits = 0, n = 0;
  for (const auto& layer : layers) {
    const auto& op = *layer.op;
    const LayerValues& v = layer.values;
    const auto& streams = layer.streams;
    for (std::size_t p = 0; p < streams.ports.size(); ++p) {
      LayerStreams one = streams;
      one.ports = {streams.ports[p]};
      const auto& s = layer.counts[p];
      if (s.exact) continue;  // small ports are exact either way
      if (streams.ports[p].tensor == StreamTensor::psum && streams.ports[p].accumulate_from + 1 < streams.ports[p].loops.size() &&
          s.transitions * 16 > 4e9)
        continue;  // partial sums over several loops: exact counting too slow for a bench run
      const double t1 = now();
      const auto e = count_toggles(one, op, v, exact)[0];
      const double t2 = now();
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
                               e.values / (t2 - t1));
    }
  }
  std::cout << fmt::format(
      "sampled ports: {}, CI hits {} ({:.0f}%); total exact {:.6g}, sampled {:.6g} ({:+.3f}%, ci95 "
      "{:.3f}%)\n",
      n, hits, n ? 100.0 * hits / n : 0.0, total_exact, total_sampled,
      total_exact > 0 ? 100 * (total_sampled - total_exact) / total_exact : 0.0,
      total_exact > 0 ? 100 * std::sqrt(var) / total_exact : 0.0);
  return 0;
}
