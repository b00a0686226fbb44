// tessera energy: datapath bit toggles of a workload on an engine and their energy
// (arch/energy/hamming.hpp, docs/energy.md).
#include <filesystem>
#include <functional>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/energy/hamming.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/progress.hpp"
#include "cli/workload_args.hpp"
#include "common/error.hpp"
#include "workloads/frontend.hpp"

namespace tessera::cli {

namespace {

struct EnergyArgs {
  std::string arch_file, workload_file, json_file;
  std::vector<std::string> overrides;
  arch::energy::HammingOptions options;
  WorkloadArgs workload;
};

int energy(const EnergyArgs& a, std::ostream& out, std::ostream& err) {
  if (a.options.data != "synthetic" && a.options.data != "trained-like" &&
      a.options.data != "onnx" && a.options.data.rfind("npy:", 0) != 0)
    throw InputError("--data " + a.options.data +
                     ": expected synthetic, trained-like, onnx or npy:DIR");
  if (a.options.data.rfind("npy:", 0) == 0 &&
      !std::filesystem::is_directory(a.options.data.substr(4)))
    throw InputError("--data " + a.options.data + ": no such directory");
  check_run_paths({{"--arch", a.arch_file},
                   {"--workload", a.workload_file},
                   {"--workload-settings", a.workload.settings_file}},
                  {{"--json", a.json_file}});
  const auto [workload_overrides, arch_overrides] =
      workloads::split_workload_overrides(a.overrides);
  const arch::ArchConfig arch = arch::load_arch(a.arch_file, arch_overrides);
  const workloads::Graph graph =
      workloads::load_workload(a.workload_file, workload_settings(a.workload, workload_overrides));
  // Long runs (large networks, --optimize-order) show progress.
  ProgressLine progress(err, "energy");
  const auto report = arch::energy::analyse_hamming(*arch.engine, graph, a.options, std::ref(progress));
  progress.finish();
  out << fmt::format("{} on {} ({}, technology {}, data {}{}, seed {})\n", graph.name(), arch.name,
                     arch.engine->engine_name(), report.technology, a.options.data,
                     a.options.sign_magnitude ? ", sign-magnitude" : "", a.options.seed)
      << arch::energy::format_table(report);
  if (!a.json_file.empty()) {
    nlohmann::json j = arch::energy::to_json(report);
    j["arch"] = arch.name;
    j["arch_file"] = a.arch_file;
    j["workload_file"] = a.workload_file;
    j["config_hash"] = arch.hash;
    write_file(a.json_file, j.dump(2) + "\n");
    out << "report written to " << a.json_file << "\n";
  }
  return 0;
}

}  // namespace

Command add_energy(CLI::App& app) {
  auto a = std::make_shared<EnergyArgs>();
  auto* cmd = app.add_subcommand(
      "energy", "Count datapath bit toggles of a workload on an engine and their energy");
  cmd->add_option("--arch", a->arch_file, "Architecture config (JSON)")->required();
  cmd->add_option("--workload", a->workload_file, "Workload file")->required();
  add_workload_options(*cmd, a->workload);
  cmd->add_option("--data", a->options.data,
                  "Operand values: synthetic, trained-like (clustered filters, docs/energy.md), "
                  "onnx (the model's weights) or npy:DIR (activations from DIR/<layer>.npy)")
      ->capture_default_str();
  cmd->add_flag("--sign-magnitude", a->options.sign_magnitude,
                "Operands travel as sign and magnitude instead of two's complement");
  cmd->add_flag("--optimize-order", a->options.optimize_order,
                "Reorder output channels to reduce toggles; report before and after");
  cmd->add_option("--seed", a->options.seed, "Seed of synthetic values and sampling")
      ->capture_default_str();
  cmd->add_option("--exact-limit", a->options.exact_limit,
                  "Count exactly up to this many value evaluations per port, else sample")
      ->capture_default_str();
  cmd->add_option("--samples", a->options.samples, "Sampled transitions per port")
      ->capture_default_str();
  cmd->add_option("--set", a->overrides, "Override a config value: path.to.key=value");
  cmd->add_option("--json", a->json_file, "Write the JSON report here")->check(output_path());
  return {cmd, [a](std::ostream& out, std::ostream& err) { return energy(*a, out, err); }};
}

}  // namespace tessera::cli
