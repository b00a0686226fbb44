// Speed of one design-point evaluation at both fidelities: workloads simulated per second,
// microseconds per layer and simulated cycles per second, on shipped workloads and
// architectures. The SystemC figure includes the kernel reset and elaboration each run pays, as
// a sweep would.
//
//   tessera_bench [--seconds S] [--scalesim] [--sweep SPACE] [--jobs N,...] [ARCH WORKLOAD]...
//   tessera_bench --energy [ARCH WORKLOAD]     (bit-toggle counter: bench_energy.cpp)
//   tessera_bench --mapping                     (the systolic mapper: bench_mapping.cpp)
//   tessera_bench --onnx [FILE...]             (ONNX import time: bench_onnx.cpp)
//   tessera_bench --nasaic SPACE [--budget N] [--seeds K] [--jobs J]
//                                              (NASAIC vs NSGA-II and random: bench_nasaic.cpp)
//   tessera_bench --generate [ARCH [MODEL [N]]] (generation runs: bench_generation.cpp)
//   tessera_bench --codesign [--seeds N] ...     (co-design searches: bench_codesign.cpp)
//   tessera_bench --fabnet ARCH [L]             (FABNet-Large at L tokens, default 4096, on a
//                                              butterfly config, analytical, both modes, with
//                                              the board's ideal roofline as the baseline)
//   tessera_bench --serve [SCENARIO [REQUESTS]]  (serving runs: bench_serving.cpp)
//   tessera_bench --multi-dnn [SCENARIO [REQUESTS]]  (multi-DNN scheduling: bench_multi_dnn.cpp)
//   tessera_bench --dram [PRESET [REQUESTS]]    (the detailed DRAM model: bench_dram.cpp)
//
// Without ARCH WORKLOAD pairs: every shipped workload on the ideal edge roofline, and ResNet-50
// on the TPUv1-like systolic array. --scalesim adds, for every row of
// data/reference/scalesim/results.csv, Tessera's time for that layer with that .cfg beside
// SCALE-Sim v2's own (sim_wall_s), the speed-ups and their geometric means. --sweep evaluates
// every grid point of a design space (default configs/spaces/systolic_resnet50.json) with each
// --jobs count (default 1,2), as `tessera sweep` does without writing a log, and prints design
// points per second, per core, and the parallel efficiency against one job in the same run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <systemc>

#include "arch/config.hpp"
#include "common/csv.hpp"
#include "explorer/evaluator.hpp"
#include "explorer/sweep.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "workloads/frontend.hpp"

namespace {


struct Measurement {
  double s_per_run = 0;  // wall seconds per evaluation
  double cycles_per_s = 0;
  unsigned long long cycles = 0;  // simulated cycles of one evaluation
};

// Repeats the evaluation for at least `seconds` (and at least 3 times).
Measurement measure(const tessera::arch::ArchConfig& arch,
                    const tessera::explorer::Workload& workload, const std::string& fidelity,
                    double seconds) {
  tessera::explorer::EvaluateOptions opt;
  opt.fidelity = fidelity;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  long runs = 0;
  unsigned long long cycles = 0, total = 0;
  while (elapsed < seconds || runs < 3) {
    cycles = tessera::explorer::evaluate(arch, workload, opt).summary.cycles;
    total += cycles;
    ++runs;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return {elapsed / runs, static_cast<double>(total) / elapsed, cycles};
}

tessera::explorer::Workload load(const std::string& file) {
  return tessera::explorer::prepare_workload(tessera::workloads::load_workload(file), file);
}

// FABNet-Large at sequence length L on a butterfly config, analytical fidelity, native and
// reference mode: wall time of one evaluation (issue #25's goal: under 10 ms at L = 4096), with
// its ratio to the baseline measured in the same run: the same graph on the ideal roofline of the
// board (the config's peak, clock and memory; the cheapest timing the simulator has).
int fabnet_bench(const std::string& arch_file, long seq_len) {
  const std::string root = TESSERA_SOURCE_DIR;
  tessera::workloads::LoadOptions o;
  o.seq_len = seq_len;
  const std::string model = root + "/configs/models/fabnet-large.json";
  const auto workload =
      tessera::explorer::prepare_workload(tessera::workloads::load_workload(model, o), model);
  const auto board = tessera::arch::load_arch(arch_file);
  nlohmann::json dram = board.resolved.at("dram");
  for (auto& ch : dram.at("channels")) {  // its coefficients port is the ideal's weight port
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& port : ch.at("ports")) {
      const auto p = port == "coefficients" ? nlohmann::json("weight") : port;
      if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
    }
    ch["ports"] = ports;
  }
  const auto ideal = tessera::arch::build_arch(
      {"ideal-baseline", nlohmann::json{{"engine", "ideal"},
                                        {"peak_macs_per_cycle", board.engine->peak_macs_per_cycle()},
                                        {"clock", board.resolved.at("clock")},
                                        {"dram", dram},
                                        {"vector", board.resolved.at("vector")}}});
  const auto base = measure(ideal, workload, "analytical", 1.0);
  std::cout << fmt::format("{:<10} {:>6} {:>7} {:>14} {:>12} {:>10} {:>12}\n", "mode", "L",
                           "layers", "cycles", "analytic ms", "x ideal", "latency ms");
  const auto row = [&](const char* mode, const Measurement& m, double clock_hz) {
    std::cout << fmt::format("{:<10} {:>6} {:>7} {:>14} {:>12.3f} {:>10.2f} {:>12.3f}\n", mode,
                             seq_len, workload.graph.size(), m.cycles, m.s_per_run * 1e3,
                             m.s_per_run / base.s_per_run,
                             static_cast<double>(m.cycles) / clock_hz * 1e3);
  };
  row("ideal", base, ideal.engine->clock_hz());
  for (const char* mode : {"native", "reference"}) {
    const auto arch =
        tessera::arch::load_arch(arch_file, {std::string("butterfly.mode=") + mode});
    row(mode, measure(arch, workload, "analytical", 1.0), arch.engine->clock_hz());
  }
  return 0;
}

void scalesim_section(const std::string& dir, double seconds) {
  if (!std::filesystem::exists(dir + "results.csv")) {
    std::cout << "\nSCALE-Sim comparison skipped: " << dir << "results.csv not found\n";
    return;
  }
  std::cout << fmt::format(
      "\nSCALE-Sim v2 (sim_wall_s, its own run) vs Tessera, per layer\n"
      "{:<26} {:<18} {:>9} {:>9} {:>13} {:>13} {:>11} {:>11} {:>10}\n",
      "config", "layer", "cycles", "SS cycles", "analytic us", "systemc us", "SCALE-Sim s",
      "x analytic", "x systemc");
  double log_a = 0, log_s = 0;
  int n = 0;
  for (const auto& row : tessera::read_csv_table(dir + "results.csv")) {
    const auto arch = tessera::arch::load_arch(dir + "configs/" + row.at("config") + ".cfg");
    const auto workload = load(dir + "topologies/" + row.at("layer") + ".csv");
    const auto a = measure(arch, workload, "analytical", seconds);
    const auto s = measure(arch, workload, "systemc", seconds);
    const double ref = std::stod(row.at("sim_wall_s"));
    std::cout << fmt::format(
        "{:<26} {:<18} {:>9} {:>9} {:>13.1f} {:>13.1f} {:>11.2f} {:>11.3g} {:>10.3g}\n",
        row.at("config"), row.at("layer"), a.cycles, row.at("total_cycles"), a.s_per_run * 1e6,
        s.s_per_run * 1e6, ref, ref / a.s_per_run, ref / s.s_per_run);
    log_a += std::log(ref / a.s_per_run);
    log_s += std::log(ref / s.s_per_run);
    ++n;
  }
  if (n > 0)
    std::cout << fmt::format(
        "geomean speed-up over {} layers: analytical {:.3g}x, SystemC {:.3g}x\n", n,
        std::exp(log_a / n), std::exp(log_s / n));
}

void sweep_section(const std::string& space_file, const std::vector<unsigned>& jobs) {
  const auto space = tessera::explorer::read_space(space_file);
  const tessera::explorer::WorkloadCache workloads(space);
  const auto& workload = workloads.base();
  const tessera::explorer::Sampler sampler(space, {});
  const auto indices = tessera::explorer::sweep_indices(sampler, {});
  std::cout << fmt::format("\nsweep {}: {} points of {} ({} layers), analytical\n", space.name,
                           indices.size(), workload.graph.name(), workload.graph.size());
  std::cout << fmt::format("{:>5} {:>10} {:>12} {:>14} {:>11}\n", "jobs", "seconds", "points/s",
                           "points/s/core", "efficiency");
  double one = 0;
  for (unsigned n : jobs) {
    std::uint64_t failed = 0;
    const auto start = std::chrono::steady_clock::now();
    tessera::explorer::run_sweep(space, workloads, sampler, n, indices,
                                 [&](const tessera::explorer::LogEntry& e) { failed += !e.ok; });
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(indices.size()) / secs;
    if (one == 0) one = rate / n;
    std::cout << fmt::format("{:>5} {:>10.3f} {:>12.0f} {:>14.0f} {:>10.0f}%{}\n", n, secs, rate,
                             rate / n, 100 * rate / (n * one),
                             failed ? fmt::format(" ({} failed)", failed) : "");
  }
}

}  // namespace

int energy_bench(const std::string& arch_file, const std::string& workload_file);  // bench_energy.cpp
int onnx_bench(const std::vector<std::string>& files, double seconds);  // bench_onnx.cpp
int mapping_bench();  // bench_mapping.cpp
int serving_bench(const std::string& scenario_file, long requests);  // bench_serving.cpp
int multi_dnn_bench(const std::string& scenario_file, long requests);  // bench_multi_dnn.cpp
int layer_size_bench();  // bench_layer_size.cpp
int nasaic_bench(int argc, char* argv[]);  // bench_nasaic.cpp
int sparse_bench(const std::string& root, const std::string& csv);  // bench_sparse.cpp
int dram_bench(const std::string& preset, long requests);  // bench_dram.cpp
int generation_bench(const std::string& arch_file, const std::string& model_file,
                     long steps);  // bench_generation.cpp
int codesign_bench(const std::vector<std::string>& args,
                   const std::string& root);  // bench_codesign.cpp

int sc_main(int argc, char* argv[]) {
  tessera::sim::systemc::register_fidelity();
  if (argc >= 2 && std::string(argv[1]) == "--energy") {  // bit-toggle counter (bench_energy.cpp)
    const std::string root = TESSERA_SOURCE_DIR;
    return energy_bench(argc >= 4 ? argv[2] : root + "/configs/arch/systolic_edge_32x32.json",
                        argc >= 4 ? argv[3] : root + "/workloads/models/resnet18.onnx");
  }
  if (argc >= 2 && std::string(argv[1]) == "--mapping") return mapping_bench();
  if (argc >= 2 && std::string(argv[1]) == "--sparse")  // bench_sparse.cpp
    return sparse_bench(TESSERA_SOURCE_DIR, argc >= 3 ? argv[2]
                                                      : std::string(TESSERA_SOURCE_DIR) + "/tests/data/dysta/reference.csv");
  if (argc >= 2 && std::string(argv[1]) == "--layer-size") return layer_size_bench();
  if (argc >= 2 && std::string(argv[1]) == "--dram")  // the detailed DRAM model (bench_dram.cpp)
    return dram_bench(argc >= 3 ? argv[2] : "ddr4_3200", argc >= 4 ? std::stol(argv[3]) : 1 << 20);
  if (argc >= 2 && std::string(argv[1]) == "--nasaic") return nasaic_bench(argc - 2, argv + 2);
  if (argc >= 2 && std::string(argv[1]) == "--serve")  // serving runs (bench_serving.cpp)
    return serving_bench(argc >= 3 ? argv[2]
                                   : std::string(TESSERA_SOURCE_DIR) +
                                         "/configs/scenarios/lenet5_two_streams_edge.json",
                         argc >= 4 ? std::stol(argv[3]) : 1000000);
  if (argc >= 2 && std::string(argv[1]) == "--multi-dnn")  // multi-DNN scheduling (bench_multi_dnn.cpp)
    return multi_dnn_bench(argc >= 3 ? argv[2]
                                     : std::string(TESSERA_SOURCE_DIR) +
                                           "/configs/scenarios/dysta_cnn_eyeriss_v2.json",
                           argc >= 4 ? std::stol(argv[3]) : 1000);
  if (argc >= 2 && std::string(argv[1]) == "--generate") {  // generation runs (bench_generation.cpp)
    const std::string root = TESSERA_SOURCE_DIR;
    return generation_bench(argc >= 3 ? argv[2] : root + "/configs/arch/systolic_edge_32x32.json",
                            argc >= 4 ? argv[3] : root + "/configs/models/llama-1b.json",
                            argc >= 5 ? std::atol(argv[4]) : 256);
  }
  if (argc >= 2 && std::string(argv[1]).rfind("--codesign", 0) == 0)  // bench_codesign.cpp
    return codesign_bench(std::vector<std::string>(argv + 1, argv + argc), TESSERA_SOURCE_DIR);
  if (argc >= 2 && std::string(argv[1]) == "--fabnet") {
    if (argc < 3) {
      std::cerr << "tessera_bench --fabnet ARCH [L]: ARCH is a butterfly engine config\n";
      return 1;
    }
    return fabnet_bench(argv[2], argc >= 4 ? std::atol(argv[3]) : 4096);
  }
  if (argc >= 2 && std::string(argv[1]) == "--onnx") {  // ONNX import speed (bench_onnx.cpp)
    return onnx_bench(std::vector<std::string>(argv + 2, argv + argc), 2.0);
  }
  double seconds = 1.0;
  bool scalesim = false;
  std::string sweep_space;
  std::vector<unsigned> jobs = {1, 2};
  std::vector<std::pair<std::string, std::string>> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--scalesim") {
      scalesim = true;
    } else if (a == "--sweep") {
      sweep_space =
          i + 1 < argc && argv[i + 1][0] != '-'
              ? argv[++i]
              : std::string(TESSERA_SOURCE_DIR) + "/configs/spaces/systolic_resnet50.json";
    } else if (a == "--jobs" && i + 1 < argc) {
      jobs.clear();
      std::stringstream list(argv[++i]);
      for (std::string n; std::getline(list, n, ',');)
        jobs.push_back(static_cast<unsigned>(std::stoul(n)));
    } else if (i + 1 < argc) {
      cases.emplace_back(a, argv[i + 1]);
      ++i;
    }
  }
  const std::string root = TESSERA_SOURCE_DIR;
  if (cases.empty()) {
    for (const char* w : {"configs/workloads/lenet5.json", "configs/workloads/bert_base_layer.json",
                          "configs/workloads/resnet18_scalesim.csv"})
      cases.emplace_back(root + "/configs/arch/ideal_edge.json", root + "/" + w);
    cases.emplace_back(root + "/configs/arch/systolic_tpuv1_128x128_ws.json",
                       root + "/configs/workloads/resnet50_scalesim.csv");
  }
  std::cout << fmt::format(
      "{:<18} {:<26} {:>6} {:>10} {:>11} {:>9} {:>9} {:>10} {:>11} {:>9} {:>7}\n", "workload",
      "arch", "layers", "cycles", "analytic us", "us/layer", "cyc/s", "SC cycles", "systemc ms",
      "cyc/s", "ratio");
  for (const auto& [arch_file, workload_file] : cases) {
    const auto arch = tessera::arch::load_arch(arch_file);
    const auto workload = load(workload_file);
    const auto& graph = workload.graph;
    const auto a = measure(arch, workload, "analytical", seconds);
    const auto s = measure(arch, workload, "systemc", seconds);
    std::cout << fmt::format(
        "{:<18} {:<26} {:>6} {:>10} {:>11.1f} {:>9.2f} {:>9.3g} {:>10} {:>11.3f} {:>9.3g} "
        "{:>6.1f}x\n",
        graph.name(), arch.name, graph.size(), a.cycles, a.s_per_run * 1e6,
        a.s_per_run * 1e6 / static_cast<double>(graph.size()), a.cycles_per_s, s.cycles,
        s.s_per_run * 1e3, s.cycles_per_s, s.s_per_run / a.s_per_run);
  }
  if (scalesim) scalesim_section(root + "/data/reference/scalesim/", seconds);
  if (!sweep_space.empty()) sweep_section(sweep_space, jobs);
  return 0;
}
