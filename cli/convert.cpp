// tessera convert: a workload, as read and annotated by its front-end, in Tessera's JSON format.
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/workload_args.hpp"
#include "workloads/json_format.hpp"

namespace tessera::cli {

namespace {

struct ConvertArgs {
  std::string workload_file, to = "json", out_file;
  std::vector<std::string> overrides;
  WorkloadArgs workload;
};

int convert(const ConvertArgs& a, std::ostream& out, std::ostream& err) {
  check_run_paths({{"workload", a.workload_file}, {"--workload-settings", a.workload.settings_file}},
                  {{"--out", a.out_file}});
  const workloads::Graph graph = load_workload_only(a.workload_file, a.workload, a.overrides);
  const std::string text = workloads::workload_to_json(graph).dump(2) + "\n";
  if (a.out_file.empty()) {
    out << text;
  } else {
    write_file(a.out_file, text);
    err << "workload '" << graph.name() << "' (" << graph.size() << " operators) written to "
        << a.out_file << "\n";
  }
  return 0;
}

}  // namespace

Command add_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  auto* cmd =
      app.add_subcommand("convert", "Write a workload, as read and annotated, in another format");
  cmd->add_option("workload", a->workload_file, "Workload file or nasbench201:ARCH")->required();
  cmd->add_option("--to", a->to, "Output format: json (Tessera workload JSON)")
      ->check(CLI::IsMember({"json"}))
      ->capture_default_str();
  cmd->add_option("--out", a->out_file, "Output file (default: standard output)")
      ->check(output_path());
  cmd->add_option("--set", a->overrides, "Workload setting: workload.KEY=value (repeatable)");
  add_workload_options(*cmd, a->workload);
  return {cmd, [a](std::ostream& out, std::ostream& err) { return convert(*a, out, err); }};
}

}  // namespace tessera::cli
