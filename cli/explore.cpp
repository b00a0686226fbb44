// tessera explore and tessera codesign: search a design space with a registered algorithm,
// evaluating its proposals through an evaluator pool and appending each to the results log
// (docs/explorer.md). codesign is the same search over a joint space (networks and
// accelerators together, with an accuracy oracle), and refuses any other.
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/results_file.hpp"
#include "cli/run_log.hpp"
#include "common/error.hpp"
#include "explorer/search.hpp"
#include "explorer/sweep.hpp"

namespace tessera::cli {

namespace {

int explore(const std::string& command, const SweepArgs& a, std::ostream& out,
            std::ostream& err) {
  const explorer::SearchAlgorithm& algorithm = explorer::search_algorithms().get(a.algo);
  const explorer::DesignSpace space = explorer::read_space(a.space);
  if (command == "codesign" && (!space.joint() || !space.oracle))
    throw InputError(a.space +
                     ": codesign needs a joint space: network parameters (\"network\" or "
                     "\"tasks\") and an accuracy oracle (\"accuracy\"); docs/explorer.md, "
                     "\"Joint spaces\"");
  const explorer::WorkloadCache workloads(space);
  // Every rank gets here; MPI workers evaluate what rank 0 sends them and write nothing.
  const auto pool = make_pool(a, space, workloads);
  if (!pool->coordinator()) {
    pool->serve();
    return kExitOk;
  }
  const nlohmann::json run = {
      {"algo", a.algo}, {"seed", a.seed}, {"budget", a.budget}, {"population", a.population}};
  const auto header = make_header(command, a.space, space, workloads, run, a.budget, 0, 1);
  check_log_path(a, space);
  ResultsFile file(a.log);
  const auto previous = open_run_log(file, a, header, space, workloads, err);
  ResultSink sink(file, a, space, a.budget, err);
  explorer::Evaluations evaluations(space, *pool, previous,
                                    [&](const explorer::LogEntry& e) { sink(e); });
  explorer::SearchOptions o;
  o.budget = a.budget;
  o.seed = static_cast<unsigned>(a.seed);
  o.population = a.population;
  algorithm(evaluations, o);
  return sink.finish(space.name, previous, out);
}

Command add_search_command(CLI::App& app, const std::string& name, const std::string& help) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("space", a->space, "Design space (JSON, docs/explorer.md)")->required();
  cmd->add_option("--log", a->log,
                  "Results log (JSON lines), appended as points complete; its folder is created")
      ->required()
      ->check(output_path());
  cmd->add_option("--algo", a->algo, "Search algorithm (tessera list)")->capture_default_str();
  cmd->add_option("--budget", a->budget, "Points to propose (whole generations)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
  cmd->add_option("--population", a->population, "Population size (default: from the budget)");
  add_pool_options(*cmd, *a);
  cmd->add_flag("--resume", a->resume,
                "Continue a log of this same search (same header): replay its points, evaluate "
                "the rest");
  cmd->add_flag("--quiet", a->quiet, "No progress line and no summary");
  return {cmd, [a, name](std::ostream& out, std::ostream& err) {
            return explore(name, *a, out, err);
          }};
}

}  // namespace

Command add_explore(CLI::App& app) {
  return add_search_command(app, "explore",
                            "Search a design space for the Pareto front of its objectives");
}

Command add_codesign(CLI::App& app) {
  return add_search_command(
      app, "codesign",
      "Search networks and accelerators together: a joint space with an accuracy oracle");
}

}  // namespace tessera::cli
