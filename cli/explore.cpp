// tessera explore: search a design space with a registered algorithm, appending each evaluated
// point to the results log (docs/explorer.md).
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
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
  auto previous = previous_results(a);
  const std::uint64_t already = previous.size();
  ResultSink sink(a, space, a.budget, err);
  explorer::Evaluations evaluations(space, workloads, std::move(previous),
                                    [&](const explorer::LogEntry& e) { sink(e); });
  explorer::SearchOptions o;
  o.budget = a.budget;
  o.seed = static_cast<unsigned>(a.seed);
  o.population = a.population;
  algorithm(evaluations, o);
  sink.finish(space.name, already, a.quiet, out);
  return 0;
}

}  // namespace

Command add_explore(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd =
      app.add_subcommand("explore", "Search a design space for the Pareto front of its objectives");
  cmd->add_option("space", a->space, "Design space (JSON, docs/explorer.md)")->required();
  cmd->add_option("--log", a->log, "Results log (JSON lines), appended as points complete")
      ->required();
  cmd->add_option("--algo", a->algo, "Search algorithm (tessera list)")->capture_default_str();
  cmd->add_option("--budget", a->budget, "Points to propose (whole generations)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed")->capture_default_str();
  cmd->add_option("--population", a->population, "Population size (default: from the budget)");
  cmd->add_flag("--resume", a->resume, "Continue a log: replay its points, evaluate the rest");
  cmd->add_flag("--quiet", a->quiet, "No progress line and no summary");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return explore(*a, out, err); }};
}

}  // namespace tessera::cli
