// tessera explore: search a design space with a registered algorithm, evaluating its proposals
// through an evaluator pool and appending each to the results log (docs/explorer.md).
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/results_file.hpp"
#include "cli/run_log.hpp"
#include "common/error.hpp"
#include "explorer/search.hpp"
#include "explorer/sweep.hpp"

namespace tessera::cli {

namespace {

int explore(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  const explorer::SearchAlgorithm& algorithm = explorer::search_algorithms().get(a.algo);
  const explorer::DesignSpace space = explorer::read_space(a.space);
  const explorer::WorkloadCache workloads(space);
  // Every rank gets here; MPI workers evaluate what rank 0 sends them and write nothing.
  const auto pool = make_pool(a, space, workloads);
  if (!pool->coordinator()) {
    pool->serve();
    return kExitOk;
  }
  const nlohmann::json run = {
      {"algo", a.algo}, {"seed", a.seed}, {"budget", a.budget}, {"population", a.population}};
  const auto header = make_header("explore", a.space, space, workloads, run, a.budget, 0, 1);
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

}  // namespace

Command add_explore(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd =
      app.add_subcommand("explore", "Search a design space for the Pareto front of its objectives");
  cmd->add_option("space", a->space, "Design space (JSON, docs/explorer.md)")->required();
  cmd->add_option("--log", a->log,
                  "Results log (JSON lines), appended as points complete; its folder is created")
      ->required();
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
  return {cmd, [a](std::ostream& out, std::ostream& err) { return explore(*a, out, err); }};
}

}  // namespace tessera::cli
