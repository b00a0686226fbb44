// tessera serve: a serving scenario (serving/scenario.hpp) run in time, a table of latency
// percentiles, SLO satisfaction, throughput, utilisation, energy and queues per stream, and
// optionally the JSON serving report.

#include <algorithm>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/progress.hpp"
#include "common/error.hpp"
#include "common/params.hpp"
#include "explorer/xr_space.hpp"
#include "serving/multi_dnn.hpp"
#include "serving/policy.hpp"
#include "serving/serve.hpp"
#include "serving/xr_run.hpp"

namespace tessera::cli {

namespace {

struct ServeArgs {
  std::string scenario, policy, out_file, tables_file;
  std::vector<std::string> overrides;
  bool quiet = false, requests = false;
};

// A multi-DNN scenario (serving/multi_dnn.hpp): one run, its table and report.
int serve_multi_dnn(const ServeArgs& a, const std::vector<std::string>& overrides,
                    std::ostream& out) {
  const serving::MultiDnnScenario scenario =
      serving::load_multi_dnn_scenario(a.scenario, overrides);
  if (!a.tables_file.empty()) {
    write_file(a.tables_file, serving::latency_tables_csv(scenario));
    if (!a.quiet) out << "latency tables written to " << a.tables_file << "\n";
  }
  const serving::MultiDnnReport report = serving::run_multi_dnn(scenario);
  if (!a.quiet) out << serving::format_table(report);
  if (!a.out_file.empty()) {
    write_file(a.out_file, serving::to_json(report, a.requests).dump(2) + "\n");
    if (!a.quiet) out << "report written to " << a.out_file << "\n";
  }
  return 0;
}

// An XR scenario (serving/xr_run.hpp): frames at their rates, scored as XRBench scores them.
int serve_xr(const ServeArgs& a, const std::vector<std::string>& overrides, std::ostream& out) {
  const serving::xr::XrScenario scenario = serving::xr::load_xr_scenario(a.scenario, overrides);
  if (!a.tables_file.empty()) {
    write_file(a.tables_file, serving::xr::layer_costs_csv(scenario));
    if (!a.quiet) out << "per-layer costs written to " << a.tables_file << "\n";
  }
  const serving::xr::XrReport report = serving::xr::run(scenario);
  if (!a.quiet) out << serving::xr::format_table(report);
  if (!a.out_file.empty()) {
    nlohmann::json doc = serving::xr::to_json(report, a.requests);
    doc["resolved"] = scenario.resolved;
    write_file(a.out_file, doc.dump(2) + "\n");
    if (!a.quiet) out << "report written to " << a.out_file << "\n";
  }
  return 0;
}

// An XR design space (explorer/xr_space.hpp): every point under each policy, best first.
int serve_xr_space(const ServeArgs& a, std::ostream& out, std::ostream& err) {
  const explorer::XrSpace space = explorer::read_xr_space(a.scenario);
  ProgressLine progress(err, "serve", "points");
  auto results = explorer::sweep_xr_space(space, [&](std::size_t done, std::size_t total) {
    if (!a.quiet) progress("running", done, total);
  });
  progress.finish();
  nlohmann::json doc = {{"format", "tessera.xr_space_results"}, {"space", space.name}, {"points", nlohmann::json::array()}};
  for (const auto& r : results) doc["points"].push_back(explorer::to_json(r));
  if (!a.quiet) out << explorer::format_xr_results(space, results);
  if (!a.out_file.empty()) {
    write_file(a.out_file, doc.dump(2) + "\n");
    if (!a.quiet) out << "results written to " << a.out_file << "\n";
  }
  return 0;
}

int serve(const ServeArgs& a, std::ostream& out, std::ostream& err) {
  check_run_paths({{"scenario", a.scenario}}, {{"--out", a.out_file}, {"--tables", a.tables_file}});
  std::vector<std::string> overrides = a.overrides;
  if (!a.policy.empty()) overrides.push_back("policy=\"" + a.policy + "\"");
  const nlohmann::json head = read_json_file(a.scenario);
  if (serving::is_multi_dnn_scenario(head)) return serve_multi_dnn(a, overrides, out);
  if (serving::xr::is_xr_scenario(head)) return serve_xr(a, overrides, out);
  if (!a.tables_file.empty())
    throw InputError("--tables " + a.tables_file + ": only multi-DNN and XR scenarios have " +
                     "latency tables");
  if (head.is_object() && head.value("format", "") == "tessera.xr_space") {
    if (!overrides.empty())
      throw InputError(a.scenario + ": an XR design space takes no --set or --policy (give them in the space)");
    return serve_xr_space(a, out, err);
  }
  const serving::Scenario scenario = serving::load_scenario(a.scenario, overrides);
  ProgressLine progress(err, "serve", "requests");
  serving::ServeOptions options;
  if (!a.quiet)
    options.progress = [&](std::int64_t done, std::int64_t total) {
      progress("serving", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
    };
  const serving::ServingReport report = serving::serve(scenario, options);
  progress.finish();
  nlohmann::json doc = serving::to_json(report, a.requests);
  // The scenario's baselines: the same scenario with their overrides, side by side.
  std::vector<std::pair<std::string, serving::ServingReport>> baselines;
  for (const auto& [name, sets] : scenario.baselines) {
    std::vector<std::string> all = overrides;
    all.insert(all.end(), sets.begin(), sets.end());
    all.push_back("baselines={}");
    ProgressLine line(err, "serve: baseline " + name, "requests");
    serving::ServeOptions o;
    if (!a.quiet)
      o.progress = [&](std::int64_t done, std::int64_t total) {
        line("serving", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
      };
    baselines.emplace_back(name, serving::serve(serving::load_scenario(a.scenario, all), o));
    line.finish();
    doc["baselines"][name] = serving::to_json(baselines.back().second);
    doc["baselines"][name].erase("resolved");
  }
  if (!a.quiet) {
    out << serving::format_table(report);
    if (!baselines.empty()) out << "\n" << serving::format_comparison(report, baselines);
  }
  if (!a.out_file.empty()) {
    write_file(a.out_file, doc.dump(2) + "\n");
    if (!a.quiet) out << "report written to " << a.out_file << "\n";
  }
  return 0;
}

}  // namespace

Command add_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve requests in time: a scenario's streams on its accelerator (docs/serving.md)");
  cmd->add_option("scenario", a->scenario,
                  "Scenario file (\"format\": \"tessera.scenario\", \"tessera.multi_dnn\", "
                  "\"tessera.xr_scenario\" or \"tessera.xr_space\")")
      ->required();
  std::vector<std::string> names;
  for (const auto& [name, desc] : serving::policies().list()) names.push_back(name);
  for (const auto& [name, desc] : serving::multi_dnn_policies().list())
    if (!serving::policies().contains(name)) names.push_back(name);
  for (const auto& [name, desc] : serving::xr::policies().list())
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  cmd->add_option("--policy", a->policy, "Scheduling policy, instead of the scenario's (tessera list)")
      ->check(CLI::IsMember(names));
  cmd->add_option("--set", a->overrides,
                  "Override a scenario value: path=value, the path in dots or as a JSON pointer "
                  "(streams/0/arrival/rate_per_s=40, batching=static); repeatable");
  cmd->add_option("--out", a->out_file,
                  "Write the JSON serving report here (a file, replaced whole; or a pipe or device)")
      ->check(output_path());
  cmd->add_option("--tables", a->tables_file,
                  "Multi-DNN scenarios: write every model's per-sample, per-layer latency table "
                  "here (CSV model,sample,layer,latency_s,sparsity), whether read or computed; XR "
                  "scenarios: every model's per-layer cycles and energy on every unit")
      ->check(output_path());
  cmd->add_flag("--requests", a->requests,
                "With --out: list every request's stream, exit stage, arrival, start and end");
  cmd->add_flag("--quiet", a->quiet, "Do not print the table or progress");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return serve(*a, out, err); }};
}

}  // namespace tessera::cli
