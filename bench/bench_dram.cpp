// Speed of the detailed DRAM model (dram.model = "detailed", issue #28): DRAM requests simulated
// per second by the command-level controller alone on sequential, two-stream and random
// patterns, and by the SystemC fidelity on a copy layer (kernel reset and elaboration included)
// beside the same layer on the simple model, against the goal of 5 million requests per second.
// The best of three runs each, in CPU seconds of the process (one thread; the machine is shared,
// so wall time overstates what a run costs).
//
//   tessera_bench --dram [PRESET [REQUESTS]]
// The sweep speed with the detailed model at analytical fidelity is the --sweep section on
// bench/systolic_resnet50_detailed_dram.json (docs/performance.md).
#include <algorithm>
#include <ctime>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/dram/controller.hpp"
#include "sim/simulate.hpp"
#include "workloads/json_format.hpp"

namespace {

namespace dram = tessera::arch::dram;
using u64 = std::uint64_t;

template <class F>
double best_of_three(F&& f) {
  double best = 1e300;
  for (int rep = 0; rep < 3; ++rep) {
    const std::clock_t start = std::clock();
    f();
    best = std::min(best, static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
  }
  return best;
}

void controller_row(const std::string& pattern, const dram::Spec& spec, const std::vector<dram::Request>& reqs) {
  dram::Result r;
  const double s = best_of_three([&] { r = dram::simulate(spec, reqs); });
  const double n = static_cast<double>(reqs.size());
  std::cout << fmt::format("{:<12} {:>10} {:>9.3f} {:>10.2f} {:>9.1f}% {:>9.1f}% {:>8.2f}x\n", pattern,
                           reqs.size(), s, n / s / 1e6, 100 * r.stats.bytes_per_cycle() / spec.peak_bytes_per_cycle(),
                           100 * r.stats.row_hit_rate(), n / s / 5e6);
}

// A copy layer of `bytes` in and out on an ideal engine, at 1 GHz.
double systemc_layer(const nlohmann::json& dram_config, u64 bytes, u64& requests) {
  const auto arch = tessera::arch::build_arch(
      {"bench.json", {{"engine", "ideal"}, {"peak_macs_per_cycle", 4096}, {"clock", "1 GHz"}, {"dram", dram_config}}});
  const auto g = tessera::workloads::workload_from_json(
      {{"format", "tessera.workload"},
       {"version", 1},
       {"name", "copy"},
       {"operators",
        {{{"name", "copy"},
          {"kind", "data_movement"},
          {"shape", {{"type", "copy"}, {"input_elements", bytes}, {"output_elements", bytes}}}}}}},
      "copy.json");
  requests = (g.op(0).input_bytes() + g.op(0).output_bytes()) / 64;
  return best_of_three([&] { tessera::sim::simulate(*arch.engine, g, "systemc"); });
}

}  // namespace

int dram_bench(const std::string& preset, long requests) {
  const dram::Spec& spec = dram::preset(preset);
  const auto n = static_cast<u64>(requests);
  const u64 access = spec.org.access_bytes();
  std::cout << fmt::format("DRAM controller, preset {}, {} requests all queued at cycle 0 (best of 3)\n", preset, n);
  std::cout << fmt::format("{:<12} {:>10} {:>9} {:>10} {:>10} {:>10} {:>9}\n", "pattern", "requests", "cpu s",
                           "M req/s", "of peak", "row hits", "vs 5M/s");
  controller_row("sequential", spec, dram::stream(spec, 0, n * access, false));
  // Two operand streams as the SystemC fidelity lays them out: each its own 1 GiB region, one
  // read and one written, request by request.
  std::vector<dram::Request> two;
  for (u64 i = 0; i < n; ++i) two.push_back({(i % 2 ? u64{1} << 30 : 0) + (i / 2) * access, i % 2 == 1, 0});
  controller_row("two-stream", spec, two);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<u64> addr(0, (u64{1} << 30) / access - 1);
  std::bernoulli_distribution write(0.3);
  std::vector<dram::Request> random;
  for (u64 i = 0; i < n; ++i) random.push_back({addr(rng) * access, write(rng), 0});
  controller_row("random", spec, random);

  // Through the SystemC fidelity: a copy layer, its streams on one channel and on three, beside
  // the simple model's occupancy formula at the same peak (baseline in the same run).
  std::cout << fmt::format("\nSystemC copy layer (DRAM requests per CPU second, elaboration included)\n");
  std::cout << fmt::format("{:<34} {:>10} {:>9} {:>10} {:>9}\n", "memory", "requests", "cpu s", "M req/s",
                           "vs 5M/s");
  const u64 bytes = std::max<u64>(n * access / 2, 4096);
  const double peak = spec.peak_bytes_per_cycle() / spec.timing.tck_ns;  // bytes per ns
  const std::vector<std::pair<std::string, nlohmann::json>> memories = {
      {"detailed, shared (2 streams)", {{"model", "detailed"}, {"preset", preset}}},
      {"detailed, per_operand", {{"model", "detailed"}, {"preset", preset}, {"channels", "per_operand"}}},
      {"simple, shared (baseline)", {{"bandwidth", fmt::format("{} B/cycle", peak)}}}};
  for (const auto& [name, config] : memories) {
    u64 reqs = 0;
    const double s = systemc_layer(config, bytes, reqs);
    std::cout << fmt::format("{:<34} {:>10} {:>9.3f} {:>10.2f} {:>8.2f}x\n", name, reqs, s,
                             static_cast<double>(reqs) / s / 1e6, static_cast<double>(reqs) / s / 5e6);
  }
  return 0;
}
