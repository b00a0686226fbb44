// The physical bounds as a property, over every shipped architecture config x shipped workload
// and over configs drawn from the shipped design spaces, at both fidelities:
//   - every layer takes at least its roofline: MACs / peak at the layer's precision, and each
//     channel's timed bytes / its sustained rate plus one latency (LayerResult::roofline_cycles);
//   - a whole run moves its reported DRAM bytes no faster than the memory allows (engines in a
//     compatibility mode that times only part of its traffic say so with a warning, and only
//     the per-layer bound on timed bytes applies to them);
//   - no engine beats the ideal roofline engine with the same peak, memory and vector unit on a
//     layer that moves at least the ideal's bytes and does at least its MACs (the sparse engine
//     skips zeros: configs/arch/eyeriss_v2.json, sigma_like.json, nm_tensor_core.json);
//   - the analytical and SystemC fidelities agree exactly on these static runs (they share one
//     per-layer recurrence; docs/architecture.md).
// The butterfly engine's configs run FABNet (FBfly and ABfly layers) instead of the shipped
// workloads, whose convolutions and dense products it does not run.
// Tagged [bounds] (run alone: tessera_sim_tests "[bounds]"); about 40 s.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "arch/config.hpp"
#include "explorer/space.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"
#include "workloads/fabnet.hpp"
#include "workloads/frontend.hpp"
#include "workloads/settings.hpp"

using namespace tessera;

namespace {

struct Case {
  std::string label;
  arch::ArchConfig arch;
  const workloads::Graph* graph;
  // Compare with the ideal twin layer by layer. Its criterion (at least the ideal's bytes in
  // total) holds channel by channel only when the channels are alike: with listed channels of
  // different widths an engine that reads fewer bytes on the narrow channel (Bit Fusion's
  // reference mode reads only the pixels a strided 1x1 convolution uses) and more on the wide
  // one is rightly faster than the twin.
  bool against_ideal;
};

bool compatibility_mode(const std::vector<sim::LayerResult>& layers) {
  for (const auto& l : layers)
    for (const auto& w : l.warnings)
      if (w.find("scalesim mode") != std::string::npos ||
          w.find("reference mode") != std::string::npos)
        return true;
  return false;
}

// The ideal engine with the engine's peak (at its widest precision), memory and vector unit (a
// butterfly engine's coefficients port is the ideal's weight port).
arch::ArchConfig ideal_twin(const arch::ArchConfig& a) {
  nlohmann::json dram = a.resolved.at("dram");
  if (dram.contains("channels") && dram.at("channels").is_array())
    for (auto& ch : dram.at("channels"))
      for (auto& port : ch.at("ports"))
        if (port == "coefficients") port = "weight";
  // (a channel that carried both now lists "weight" twice: once is enough)
  if (dram.contains("channels") && dram.at("channels").is_array())
    for (auto& ch : dram.at("channels")) {
      nlohmann::json ports = nlohmann::json::array();
      for (const auto& port : ch.at("ports"))
        if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
      ch["ports"] = ports;
    }
  nlohmann::json cfg = {{"engine", "ideal"},
                        {"peak_macs_per_cycle", a.engine->peak_macs_per_cycle()},
                        {"clock", a.resolved.at("clock")},
                        {"dram", dram},
                        {"vector", a.resolved.at("vector")},
                        {"fusion", a.resolved.at("fusion")}};
  return arch::build_arch({"ideal-twin", cfg});
}

void check(const Case& c) {
  INFO(c.label);
  const auto& engine = *c.arch.engine;
  const auto a = sim::simulate(engine, *c.graph, "analytical");
  const auto s = sim::simulate(engine, *c.graph, "systemc");
  REQUIRE(a.size() == s.size());
  const bool compat = compatibility_mode(a);
  const auto ideal = sim::simulate(*ideal_twin(c.arch).engine, *c.graph, "analytical");
  arch::u64 total = 0, dram = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].name);
    CHECK(a[i].timing == s[i].timing);
    CHECK(a[i].timing.cycles >= a[i].roofline_cycles);
    const double peak = engine.peak_macs_per_cycle(c.graph->op(*c.graph->find(a[i].name)));
    CHECK(static_cast<double>(a[i].timing.cycles) * peak >= static_cast<double>(a[i].macs) - 1e-6);
    total += a[i].timing.cycles;
    arch::u64 bytes = 0;
    for (const auto& [level, acc] : a[i].accesses)
      if (level.rfind("dram", 0) == 0) bytes += acc.read_bytes + acc.write_bytes;
    dram += bytes;
    // Against the ideal twin, layer by layer, where this engine moves at least the ideal's bytes,
    // does at least its MACs (an engine that skips zeros, padding included, does fewer) and runs
    // at the ideal's peak (a bit-composable engine at low precision may be faster).
    arch::u64 ideal_bytes = 0;
    for (const auto& [level, acc] : ideal[i].accesses) ideal_bytes += acc.read_bytes + acc.write_bytes;
    if (c.against_ideal && !compat && a[i].fused_into.empty() && bytes >= ideal_bytes &&
        a[i].macs >= ideal[i].macs && peak <= engine.peak_macs_per_cycle())
      CHECK(a[i].timing.cycles >= ideal[i].timing.cycles);
  }
  if (!compat) {
    double rate = 0;
    for (const auto& ch : engine.memory().channels) rate += ch.rate();
    CHECK(static_cast<double>(total) >= static_cast<double>(dram) / rate - 1.0);
  }
}

std::vector<std::string> files(const std::string& dir, const std::vector<std::string>& exts) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path(dir)))
    for (const auto& x : exts)
      if (e.path().extension() == x) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("bounds: every shipped config on every shipped workload, both fidelities",
          "[sim][bounds]") {
  std::vector<std::pair<std::string, workloads::Graph>> graphs;
  for (const auto& f : files("configs/workloads", {".json", ".csv"}))
    graphs.emplace_back(f, workloads::load_workload(f));
  for (const char* m : {"workloads/models/resnet18.onnx", "workloads/models/mobilenet_v2.onnx"})
    graphs.emplace_back(m, workloads::load_workload(test::source_path(m)));
  {
    workloads::LoadOptions t;
    t.batch = 2;
    t.seq_len = 64;
    graphs.emplace_back("tiny_transformer", workloads::load_workload(
                                                test::source_path("workloads/models/tiny_transformer.onnx"), t));
    workloads::LoadOptions o;
    o.seq_len = 128;
    graphs.emplace_back("bert-base S=128", workloads::load_workload(
                                               test::source_path("configs/models/bert-base-uncased.json"), o));
    workloads::LoadOptions d;
    d.phase = "decode";
    d.kv_len = 512;
    graphs.emplace_back("gpt2 decode", workloads::load_workload(
                                           test::source_path("configs/models/gpt2.json"), d));
  }
  // FABNet for the butterfly engine: FBfly layers (FFT mixing, butterfly FFN) of both shipped
  // models, and a hybrid with ABfly (attention) layers.
  std::vector<std::pair<std::string, workloads::Graph>> fabnets;
  {
    workloads::LoadOptions o;
    o.seq_len = 128;
    fabnets.emplace_back("fabnet-base L=128", workloads::load_workload(
                                                  test::source_path("configs/models/fabnet-base.json"), o));
    o.seq_len = 200;  // not a power of two: padded FFT columns
    fabnets.emplace_back("fabnet-large L=200", workloads::load_workload(
                                                   test::source_path("configs/models/fabnet-large.json"), o));
    workloads::FabnetConfig c;
    c.layers = 3;
    c.abfly_layers = 1;
    o.seq_len = 256;
    fabnets.emplace_back("fabnet hybrid L=256", workloads::build_fabnet(c, "hybrid.json", o));
  }
  for (const auto& af : files("configs/arch", {".json"})) {
    const auto arch = arch::load_arch(af);
    const bool butterfly = arch.resolved.at("engine") == "butterfly";
    const auto& these = butterfly ? fabnets : graphs;
    for (const auto& [name, g] : these) check({af + " x " + name, arch, &g, true});
    // The same config with DRAM latency, per-operand and listed memories where allowed, and no
    // fusion (the butterfly engine: also its linear bank layout, and its listed ports narrowed).
    if (arch.resolved.at("engine") != "ideal") {
      std::vector<std::string> sets = {"dram.latency_cycles=300", "fusion=false"};
      if (butterfly) {
        sets.push_back("butterfly.bank_layout=linear");
        sets.push_back(R"(dram.channels=[{"name": "in", "bandwidth": 2, "latency_cycles": 80,
                                          "ports": ["input", "epilogue_in"]},
                                         {"name": "rest", "bandwidth": 256,
                                          "ports": ["coefficients", "weight", "output"]}])");
      } else if (arch.resolved.dump().find("scalesim") == std::string::npos) {
        sets.push_back("dram.channels=per_operand");
        // Listed channels of different widths: operands in on a narrow one, results out on one
        // of the config's bandwidth (not compared with the ideal twin: Case::against_ideal).
        sets.push_back(R"(dram.channels=[{"name": "in", "bandwidth": 2, "latency_cycles": 80,
                                          "ports": ["input", "weight", "epilogue_in"]},
                                         {"name": "out", "ports": ["output", "psum_in", "psum_out"]}])");
      }
      for (const auto& set : sets) {
        const auto varied = arch::load_arch(af, {set});
        for (const auto& [name, g] : these)
          if (g.size() < 200)
            check({af + " " + set + " x " + name, varied, &g, set.find('[') == std::string::npos});
      }
    }
  }
}

TEST_CASE("bounds: configs drawn from the shipped design spaces, both fidelities",
          "[sim][bounds]") {
  for (const auto& sf : files("configs/spaces", {".json"})) {
    const auto space = explorer::read_space(sf);
    if (space.serving()) continue;  // its networks are its scenario's models (tests/serving)
    for (std::uint64_t i = 0; i < 6; ++i) {
      const auto point = space.random_point(7, i);
      const auto resolved = explorer::resolve_point(space, point);
      const auto settings =
          workloads::read_workload_settings(resolved.workload_settings, space.file, "/workload");
      // (config, network) per accelerator: one, or one per task of a multi-task space.
      std::vector<std::pair<std::function<arch::ArchConfig()>, nlohmann::json>> runs;
      if (space.tasks.empty())
        runs.emplace_back([&] { return explorer::point_config(space, resolved); },
                          resolved.network);
      for (const auto& task : resolved.tasks)
        runs.emplace_back([&] { return explorer::task_config(space, task); }, task.network);
      for (const auto& [config, network] : runs) {
        arch::ArchConfig arch;
        try {
          arch = config();
        } catch (const InputError&) {
          continue;  // infeasible by the space's own rules
        }
        const auto graph = network.is_null()
                               ? workloads::load_workload(space.workload_file, settings)
                               : explorer::build_network(network, settings);
        check({sf + " point " + point.dump(), arch, &graph, true});
      }
    }
  }
}

TEST_CASE("bounds: layers of a trillion folds on the fixed fold plans, analytical",
          "[sim][bounds]") {
  // A convolution with a batch of 2^24 and a residual add fused into it (its second input
  // spread over the conv's repeated blocks of folds), on fixed fold plans of every dataflow,
  // native and SCALE-Sim mode. A plan walked fold by fold would take hours; the analytical
  // fidelity times it in closed form and holds to the bounds. A batch of 2 checks the same plans
  // (blocks, peeled fill and drain, the spread epilogue) against SystemC.
  for (const workloads::i64 batch : {workloads::i64{2}, workloads::i64{1} << 24}) {
    workloads::Graph g("big_conv_add");
    workloads::Operator conv, add;
    conv.name = "conv";
    conv.shape = workloads::Conv{.n = batch, .c = 16, .h = 14, .w = 14, .k = 24, .r = 3, .s = 3,
                                 .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
    add.name = "add";
    add.shape = workloads::Elementwise{.function = "add", .elements = batch * 24 * 14 * 14, .inputs = 2};
    g.connect(g.add(conv), g.add(add));
    for (const char* dataflow : {"os", "ws", "is"})
      for (const char* mode : {"native", "scalesim"}) {
        const nlohmann::json cfg = {
            {"engine", "systolic"},
            {"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", dataflow}, {"mode", mode},
                          {"mapping", "fixed"}}},
            {"sram", {{"ifmap", "8 KiB"}, {"filter", "8 KiB"}, {"ofmap", "8 KiB"}}},
            {"dram", {{"bandwidth", "8 B/cycle"}}}};
        const auto arch = arch::build_arch({std::string(dataflow) + "-" + mode, cfg});
        const std::string label = std::string(dataflow) + " " + mode + " batch " + std::to_string(batch);
        if (batch == 2) {
          check({label, arch, &g, true});
          continue;
        }
        INFO(label);
        const auto a = sim::simulate(*arch.engine, g, "analytical");
        REQUIRE(a[0].timing.compute_cycles > (arch::u64{1} << 36));
        for (const auto& l : a) CHECK(l.timing.cycles >= l.roofline_cycles);
        // SystemC walks tiles: it refuses layers of more than 2^22 (ws in SCALE-Sim mode streams
        // the whole batch through each of its 54 folds).
        if (arch.engine->map(conv).plan.tile_count() > (arch::u64{1} << 22))
          CHECK_THROWS_AS(sim::simulate(*arch.engine, g, "systemc"), InputError);
        else
          CHECK(sim::simulate(*arch.engine, g, "systemc")[0].timing == a[0].timing);
      }
  }
}
