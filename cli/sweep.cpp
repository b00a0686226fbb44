// tessera sweep: evaluate the points of a design space (its grid or samples) through an
// evaluator pool, appending each result to the results log (docs/explorer.md).
#include "explorer/sweep.hpp"

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/results_file.hpp"
#include "cli/run_log.hpp"
#include "common/error.hpp"

namespace tessera::cli {

namespace {

int sweep(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  explorer::SweepOptions o;
  o.method = *explorer::sweep_method_from_string(a.method);
  o.samples = a.samples;
  o.seed = a.seed;
  if (o.method != explorer::SweepOptions::Method::grid && o.samples == 0)
    throw InputError("sweep --method " + a.method + " needs --samples N (N > 0)");
  if (!a.shard.empty()) {
    unsigned long long i = 0, n = 0;
    char extra = 0;
    if (std::sscanf(a.shard.c_str(), "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
      throw InputError("--shard " + a.shard + ": expected i/N with 0 <= i < N, e.g. 3/16");
    o.shard = i;
    o.shards = n;
  }
  const explorer::DesignSpace space = explorer::read_space(a.space);
  const explorer::WorkloadCache workloads(space);
  const explorer::Sampler sampler(space, o);
  // Every rank gets here; MPI workers evaluate what rank 0 sends them and write nothing.
  const auto pool = make_pool(a, space, workloads);
  if (!pool->coordinator()) {
    pool->serve();
    return kExitOk;
  }
  nlohmann::json run = {{"method", a.method}};
  if (o.method != explorer::SweepOptions::Method::grid) run["samples"] = o.samples;
  if (o.method == explorer::SweepOptions::Method::random ||
      o.method == explorer::SweepOptions::Method::lhs)
    run["seed"] = o.seed;
  const auto header =
      make_header("sweep", a.space, space, workloads, run, sampler.size(), o.shard, o.shards);
  check_log_path(a, space);
  ResultsFile file(a.log);
  const auto previous = open_run_log(file, a, header, space, workloads, err);
  for (const auto& e : previous) {
    if (e.index >= sampler.size() || e.index % o.shards != o.shard ||
        e.point != sampler.point(e.index))
      throw InputError(a.log + ": point " + std::to_string(e.index) + " was " + e.point.dump() +
                       ", which is not this sweep's point " + std::to_string(e.index) +
                       ": a different space, method, seed, sample count or shard");
    o.done.insert(e.index);
  }
  const auto indices = explorer::sweep_indices(sampler, o);
  ResultSink sink(file, a, space, indices.size(), err);
  pool->run(
      indices, [&](std::uint64_t i) { return sampler.point(i); },
      [&](const explorer::LogEntry& e) { sink(e); });
  return sink.finish(space.name, previous, out);
}

}  // namespace

Command add_sweep(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(
      "sweep", "Evaluate the points of a design space, appending to a results log");
  cmd->add_option("space", a->space, "Design space (JSON, docs/explorer.md)")->required();
  cmd->add_option("--log", a->log,
                  "Results log (JSON lines), appended as points complete; its folder is created")
      ->required()
      ->check(output_path());
  cmd->add_option("--method", a->method,
                  "grid: every point; random, halton (low-discrepancy) or lhs (Latin hypercube): "
                  "--samples points")
      ->check(CLI::IsMember({"grid", "random", "halton", "lhs"}))
      ->capture_default_str();
  cmd->add_option("--samples", a->samples, "Points to draw (random, halton, lhs)");
  cmd->add_option("--seed", a->seed, "Seed (random, lhs)")->capture_default_str();
  add_pool_options(*cmd, *a);
  cmd->add_flag("--resume", a->resume,
                "Continue a log of this same sweep (same header): skip the points it holds");
  cmd->add_option("--shard", a->shard, "i/N: evaluate only the points whose index is i mod N");
  cmd->add_flag("--quiet", a->quiet, "No progress line and no summary");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return sweep(*a, out, err); }};
}

}  // namespace tessera::cli
