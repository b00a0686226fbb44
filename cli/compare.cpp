// tessera compare: one workload on several architectures, cycles, latency, energy and area and
// their ratios to the first architecture (docs/bitfusion.md).
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch/config.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/workload_args.hpp"
#include "common/error.hpp"
#include "explorer/evaluator.hpp"
#include "sim/executor.hpp"
#include "workloads/frontend.hpp"

namespace tessera::cli {

namespace {

struct CompareArgs {
  std::vector<std::string> archs, overrides, arch_sets;
  std::string workload_file, fidelity = "analytical", out_file;
  bool as_json = false;
  WorkloadArgs workload;
};

int compare(const CompareArgs& a, std::ostream& out) {
  std::vector<NamedPath> inputs = {{"--workload", a.workload_file},
                                   {"--workload-settings", a.workload.settings_file}};
  for (const auto& f : a.archs) inputs.push_back({"--arch", f});
  check_run_paths(inputs, {{"--out", a.out_file}});
  const auto [workload_overrides, arch_overrides] =
      workloads::split_workload_overrides(a.overrides);
  const auto workload = explorer::prepare_workload(
      workloads::load_workload(a.workload_file, workload_settings(a.workload, workload_overrides)),
      a.workload_file);
  // --arch-set N:path=value: overrides of the N-th --arch only, after the shared ones.
  std::vector<std::vector<std::string>> per_arch(a.archs.size(), arch_overrides);
  for (const auto& s : a.arch_sets) {
    const std::size_t colon = s.find(':');
    std::size_t index = 0;
    try {
      std::size_t used = 0;
      if (colon != std::string::npos) index = std::stoul(s.substr(0, colon), &used);
      if (used != colon) index = 0;
    } catch (const std::exception&) {
      index = 0;
    }
    if (index < 1 || index > a.archs.size() || colon + 1 >= s.size())
      throw InputError(fmt::format("--arch-set {}: expected N:path.to.key=value with N from 1 to {} "
                                   "(the position of its --arch)",
                                   s, a.archs.size()));
    per_arch[index - 1].push_back(s.substr(colon + 1));
  }
  explorer::EvaluateOptions options;
  options.fidelity = a.fidelity;
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < a.archs.size(); ++i) {
    const std::string& file = a.archs[i];
    const arch::ArchConfig arch = arch::load_arch(file, per_arch[i]);
    options.arch_file = file;
    const sim::Report r = explorer::evaluate(arch, workload, options);
    rows.push_back({{"arch", arch.name},
                    {"arch_file", file},
                    {"engine", r.engine},
                    {"config_hash", arch.hash},
                    {"cycles", r.summary.cycles},
                    {"latency_s", r.summary.latency_s},
                    {"energy_pj", r.summary.energy_pj},
                    {"area_mm2", r.summary.area_mm2},
                    {"utilization", r.summary.utilization}});
  }
  const auto ratio = [](double v, double base) {
    return base > 0 ? nlohmann::json(v / base) : nlohmann::json(nullptr);
  };
  const nlohmann::json base = rows.front();
  for (auto& row : rows)
    row["ratio_to_first"] = {
        {"cycles", ratio(row["cycles"].get<double>(), base["cycles"].get<double>())},
        {"latency", ratio(row["latency_s"].get<double>(), base["latency_s"].get<double>())},
        {"energy", ratio(row["energy_pj"].get<double>(), base["energy_pj"].get<double>())},
        {"area", ratio(row["area_mm2"].get<double>(), base["area_mm2"].get<double>())}};
  const nlohmann::json doc = {{"workload", workload.graph.name()},
                              {"workload_file", a.workload_file},
                              {"workload_hash", workload.hash},
                              {"fidelity", a.fidelity},
                              {"architectures", rows}};
  if (a.as_json) {
    out << doc.dump(2) << "\n";
  } else {
    const auto x = [](const nlohmann::json& v) {
      return v.is_null() ? std::string("-") : fmt::format("{:.3f}x", v.get<double>());
    };
    std::size_t w = 4;
    for (const auto& row : rows) w = std::max(w, row["arch"].get<std::string>().size());
    out << fmt::format("{} ({} fidelity)\n", workload.graph.name(), a.fidelity);
    out << fmt::format("{:<{}} {:<10} {:>15} {:>12} {:>14} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "arch",
                       w, "engine", "cycles", "latency ms", "energy uJ", "area mm2", "cycles",
                       "latency", "energy", "area");
    for (const auto& row : rows) {
      const auto& q = row["ratio_to_first"];
      out << fmt::format(
          "{:<{}} {:<10} {:>15} {:>12.4f} {:>14.3f} {:>9.3f} {:>9} {:>9} {:>9} {:>9}\n",
          row["arch"].get<std::string>(), w, row["engine"].get<std::string>(),
          row["cycles"].get<std::uint64_t>(), row["latency_s"].get<double>() * 1e3,
          row["energy_pj"].get<double>() / 1e6, row["area_mm2"].get<double>(), x(q["cycles"]),
          x(q["latency"]), x(q["energy"]), x(q["area"]));
    }
    out << "ratios are to the first architecture (" << base["arch"].get<std::string>()
        << "); below 1 is smaller\n";
  }
  if (!a.out_file.empty()) {
    write_file(a.out_file, doc.dump(2) + "\n");
    if (!a.as_json) out << "comparison written to " << a.out_file << "\n";
  }
  return 0;
}

}  // namespace

Command add_compare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand(
      "compare", "Run one workload on several architectures and compare them with the first");
  cmd->add_option("--arch", a->archs, "Architecture config (repeat; first = baseline)")->required();
  cmd->add_option("--workload", a->workload_file, "Workload file")->required();
  cmd->add_option("--fidelity", a->fidelity, "A fidelity (tessera list)")
      ->check(CLI::IsMember(sim::fidelity_names()))
      ->capture_default_str();
  cmd->add_option("--set", a->overrides,
                  "Override a value of every config: path.to.key=value (repeatable); "
                  "workload.KEY=value sets a workload setting");
  cmd->add_option("--arch-set", a->arch_sets,
                  "Override a value of one config: N:path.to.key=value, N the position of its "
                  "--arch from 1 (repeatable), e.g. --arch a.json --arch a.json "
                  "--arch-set 2:systolic.dataflow=ws");
  cmd->add_flag("--json", a->as_json, "Print JSON instead of a table");
  cmd->add_option("--out", a->out_file, "Also write the JSON here")->check(output_path());
  add_workload_options(*cmd, a->workload);
  return {cmd, [a](std::ostream& out, std::ostream&) { return compare(*a, out); }};
}

}  // namespace tessera::cli
