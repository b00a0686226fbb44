// Cost of one layer against its size (`tessera_bench --layer-size`): a convolution with a growing
// batch on the systolic fixed fold plans (each dataflow, native and SCALE-Sim mode, 8x8 array),
// mapped and timed analytically (closed form: the plan's runs and blocks do not grow with the
// batch) and, while the layer has at most 2^20 tiles, at SystemC fidelity (tile by tile) in the
// same run as the baseline.
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "arch/config.hpp"
#include "sim/simulate.hpp"

namespace {

using namespace tessera;

// Seconds per call of f, repeated for at least 0.2 s and 3 times.
template <class F>
double per_call(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  int n = 0;
  double s = 0;
  do {
    f();
    ++n;
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (s < 0.2 || n < 3);
  return s / n;
}

}  // namespace

int layer_size_bench() {
  fmt::print("{:<3} {:<9} {:>9} {:>10} {:>5} {:>14} {:>12} {:>12} {:>9}\n", "df", "mode", "batch",
             "tiles", "runs", "cycles", "analytic us", "systemc ms", "ratio");
  for (const char* dataflow : {"os", "ws", "is"})
    for (const char* mode : {"native", "scalesim"})
      for (const workloads::i64 batch : {workloads::i64{1}, workloads::i64{1} << 8,
                                         workloads::i64{1} << 16, workloads::i64{1} << 24}) {
        workloads::Graph g("conv");
        workloads::Operator conv;
        conv.name = "conv";
        conv.shape = workloads::Conv{.n = batch, .c = 16, .h = 14, .w = 14, .k = 24, .r = 3,
                                     .s = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                                     .pad_right = 1};
        g.add(conv);
        const nlohmann::json cfg = {
            {"engine", "systolic"},
            {"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", dataflow}, {"mode", mode},
                          {"mapping", "fixed"}}},
            {"sram", {{"ifmap", "8 KiB"}, {"filter", "8 KiB"}, {"ofmap", "8 KiB"}}},
            {"dram", {{"bandwidth", "8 B/cycle"}}}};
        const auto arch = arch::build_arch({"bench", cfg});
        const auto plan = arch.engine->map(conv).plan;
        std::uint64_t cycles = 0;
        const double a = per_call([&] {
          cycles = sim::simulate(*arch.engine, g, "analytical")[0].timing.cycles;
        });
        std::string sc = "-", ratio = "-";
        if (plan.tile_count() <= (std::uint64_t{1} << 20)) {
          const double s = per_call([&] { sim::simulate(*arch.engine, g, "systemc"); });
          sc = fmt::format("{:.3f}", s * 1e3);
          ratio = fmt::format("{:.0f}x", s / a);
        }
        fmt::print("{:<3} {:<9} {:>9} {:>10.3g} {:>5} {:>14.4g} {:>12.1f} {:>12} {:>9}\n", dataflow,
                   mode, batch, static_cast<double>(plan.tile_count()), plan.tiles.size(),
                   static_cast<double>(cycles), a * 1e6, sc, ratio);
      }
  return 0;
}
