// tessera simulate: one workload on one architecture, a report table and optionally the JSON
// report, a SystemC trace and SCALE-Sim's CSV reports.

#include <filesystem>
#include <functional>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/sparse/masks.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/progress.hpp"
#include "cli/workload_args.hpp"
#include "common/error.hpp"
#include "explorer/evaluator.hpp"
#include "sim/executor.hpp"
#include "sim/generation.hpp"
#include "sim/report.hpp"
#include "sim/scalesim_report.hpp"
#include "sim/trace.hpp"
#include "workloads/frontend.hpp"
#include "workloads/transformer.hpp"

namespace tessera::cli {

namespace {

struct SimulateArgs {
  std::string arch_file, workload_file, out_file, trace_file, fidelity = "analytical",
                                                              format = "json", data = "synthetic";
  std::vector<std::string> overrides;
  bool quiet = false;
  workloads::i64 generate = 0, prompt = 0;
  WorkloadArgs workload;
};

int simulate(const SimulateArgs& a, std::ostream& out, std::ostream& err) {
  const bool scalesim_csv = a.format == "scalesim";
  if (scalesim_csv && a.out_file.empty())
    throw InputError(
        "--format scalesim needs --out: the SCALE-Sim CSV reports are written to the "
        "directory of the --out file");
  if (!a.trace_file.empty() && a.fidelity != "systemc")
    throw InputError("--trace " + a.trace_file +
                     ": traces come from the SystemC run; add --fidelity systemc");
  std::vector<NamedPath> outputs = {{"--out", a.out_file}, {"--trace", a.trace_file}};
  if (scalesim_csv) {  // SCALE-Sim's own file names, beside the JSON report
    if (!is_replaced_file(a.out_file))
      throw InputError("--format scalesim writes its CSV reports in the folder of the --out file; " +
                       a.out_file + " is written in place (a pipe or a device), not a file in a folder");
    const std::filesystem::path dir = std::filesystem::path(a.out_file).parent_path();
    for (const std::string_view name : {sim::kScaleSimComputeReport, sim::kScaleSimBandwidthReport,
                             sim::kScaleSimDetailedAccessReport})
      outputs.push_back({"--format scalesim", (dir / name).string()});
  }
  check_run_paths({{"--arch", a.arch_file},
                   {"--workload", a.workload_file},
                   {"--workload-settings", a.workload.settings_file}},
                  outputs);
  auto [workload_overrides, arch_overrides] = workloads::split_workload_overrides(a.overrides);
  const arch::ArchConfig arch = arch::load_arch(a.arch_file, arch_overrides);
  // The flags as the settings they stand for, winning over the file and --set.
  if (a.generate) workload_overrides.push_back("generate=" + std::to_string(a.generate));
  if (a.prompt) workload_overrides.push_back("seq_len=" + std::to_string(a.prompt));
  const workloads::WorkloadSettings settings = workload_settings(a.workload, workload_overrides);
  if (a.data != "synthetic" && settings.generation)
    throw InputError("--data " + a.data + ": masks from data apply to one-shot runs, not generation runs");
  if (a.prompt && !settings.generation)
    throw InputError("--prompt sets a generation run's prompt: add --generate N");
  explorer::EvaluateOptions options;
  options.fidelity = a.fidelity;
  options.arch_file = a.arch_file;
  sim::Trace trace;
  if (!a.trace_file.empty()) options.trace = &trace;
  sim::Report report;
  if (settings.generation) {
    if (!workloads::looks_like_model_config(a.workload_file))
      throw InputError(a.workload_file +
                       ": a generation run needs a transformer config (a config.json with "
                       "model_type, such as configs/models/llama-1b.json)");
    if (!a.trace_file.empty())
      throw InputError("--trace " + a.trace_file + ": traces record one simulation, not a generation run");
    ProgressLine progress(err, "simulate: generation", "steps");
    sim::GenerationOptions generation;
    if (!a.quiet)
      generation.progress = [&](workloads::i64 done, workloads::i64 total) {
        progress("decode", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
      };
    report = explorer::evaluate_generation(arch, a.workload_file, settings, options, generation);
    progress.finish();
  } else {
    workloads::Graph graph = workloads::load_workload(a.workload_file, settings);
    // Zero masks from data for engines that skip zeros (arch/sparse/masks.hpp).
    arch::sparse::attach_masks(graph, a.data);
    const auto workload = explorer::prepare_workload(std::move(graph), a.workload_file);
    ProgressLine progress(err, "simulate: bit toggles");  // only energy.hamming reports any
    options.progress = std::ref(progress);
    report = explorer::evaluate(arch, workload, options);
    progress.finish();
  }
  // Made before anything is written: an engine without per-operand accesses fails here.
  const sim::ScaleSimCsv csv = scalesim_csv ? sim::to_scalesim_csv(report) : sim::ScaleSimCsv{};
  if (!a.quiet) out << sim::format_table(report);
  if (!a.out_file.empty()) {
    write_file(a.out_file, sim::to_json(report).dump(2) + "\n");
    if (!a.quiet) out << "report written to " << a.out_file << "\n";
  }
  if (!a.trace_file.empty()) {
    std::vector<std::string> names;
    for (const auto& l : report.layers)  // the layers run: fused epilogues ran inside another
      if (l.fused_into.empty()) names.push_back(l.name);
    write_file(a.trace_file, sim::chrome_trace(trace, names, report.clock_hz));
    if (!a.quiet) out << "trace written to " << a.trace_file << " (open in ui.perfetto.dev)\n";
    if (trace.dropped)
      err << "tessera: warning: " << a.trace_file << ": the first " << trace.spans.size()
          << " spans kept, " << trace.dropped << " later ones left out\n";
  }
  if (scalesim_csv) {
    const std::string* texts[] = {&csv.compute, &csv.bandwidth, &csv.detailed_access};
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string& path = outputs[2 + i].path;  // in the order of the names above
      write_file(path, *texts[i]);
      if (!a.quiet) out << "SCALE-Sim report written to " << path << "\n";
    }
  }
  return 0;
}

}  // namespace

Command add_simulate(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand("simulate", "Simulate a workload on an architecture");
  cmd->add_option("--arch", a->arch_file, "Architecture config (JSON)")->required();
  cmd->add_option("--workload", a->workload_file,
                  "Workload: a file any front-end reads (tessera list), or nasbench201:ARCH")
      ->required();
  add_workload_options(*cmd, a->workload);
  cmd->add_option("--fidelity", a->fidelity, "A fidelity (tessera list)")
      ->check(CLI::IsMember(sim::fidelity_names()))
      ->capture_default_str();
  cmd->add_option("--set", a->overrides,
                  "Override a config value: path.to.key=value (repeatable); "
                  "workload.KEY=value sets a workload setting");
  cmd->add_option("--out", a->out_file,
                  "Write the full JSON report here (a file, replaced whole; or a pipe or "
                  "device, such as /dev/stdout, written in place)")
      ->check(output_path());
  cmd->add_option("--format", a->format,
                  "json, or scalesim: also write SCALE-Sim's COMPUTE_REPORT.csv, "
                  "BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv in the --out directory")
      ->check(CLI::IsMember({"json", "scalesim"}))
      ->capture_default_str();
  cmd->add_option("--trace", a->trace_file,
                  "With --fidelity systemc: write a Chrome/Perfetto trace (trace-event JSON) of "
                  "compute and DRAM transfers per tile")
      ->check(output_path());
  cmd->add_option("--generate", a->generate,
                  "Transformer configs: prefill the prompt, then N decode steps (TTFT, TPOT, "
                  "tokens/s; workload setting \"generate\")")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--prompt", a->prompt, "With --generate: prompt tokens (default: --seq-len or 128)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data", a->data,
                  "Zero masks for engines that skip zeros: synthetic (from densities and the "
                  "engine's patterns), onnx (weights' zeros from the ONNX initializers), or "
                  "npy:DIR (a layer's input from DIR/<layer>.npy; weights as onnx)")
      ->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "Do not print the summary table");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return simulate(*a, out, err); }};
}

}  // namespace tessera::cli
