// tessera sweep: evaluate the points of a design space (its grid or samples) through an
// evaluator pool, appending each result to the results log (docs/explorer.md).
#include "explorer/sweep.hpp"

#include <cstdio>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/progress.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "cli/results_file.hpp"
#include "cli/run_log.hpp"
#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/params.hpp"
#include "explorer/xr_space.hpp"

namespace tessera::cli {

namespace {

// An XR design space (explorer/xr_space.hpp): its grid, every point under each policy, one log
// line per point and policy after a header naming the space and scenario by their hashes.
int sweep_xr(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  if (a.method != "grid" || !a.shard.empty() || !a.pool.empty() || a.mpi)
    throw InputError(a.space + ": an XR design space sweeps its whole grid in one process: drop "
                               "--method, --shard, --pool and --mpi");
  const explorer::XrSpace space = explorer::read_xr_space(a.space);
  const nlohmann::json header = {{"format", "tessera.xr_sweep_log"},
                                 {"version", 1},
                                 {"space", space.name},
                                 {"space_hash", json_hash(space.doc)},
                                 {"scenario_hash", json_hash(space.scenario_doc)},
                                 {"points", space.grid_size()}};
  check_run_paths({{"space", a.space}, {"the space's scenario", space.scenario}}, {{"--log", a.log}});
  ResultsFile file(a.log);
  explorer::XrSweepOptions o;
  std::vector<explorer::XrPointResult> previous;
  if (file.content().find_first_not_of(" \t\r\n") == std::string::npos) {
    file.drop_partial_line();
    file.append(header.dump());
  } else {
    if (!a.resume)
      throw InputError(a.log + ": results log exists; add --resume to continue it, or choose another --log");
    std::istringstream in(file.content());
    std::string line;
    std::size_t number = 0;
    const bool complete = file.content().back() == '\n';
    while (std::getline(in, line)) {
      ++number;
      if (!complete && in.peek() == std::char_traits<char>::eof()) break;  // cut by a kill
      const std::string where = a.log + ":" + std::to_string(number);
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) throw InputError(where + ": not a JSON line");
      if (number == 1) {
        if (j != header)
          throw InputError(where + ": is the log of another XR sweep (its header differs: the "
                                   "space or its scenario changed); choose another --log");
        continue;
      }
      previous.push_back(explorer::xr_point_from_json(j, where));
      if (previous.back().index >= space.grid_size())
        throw InputError(where + ": point " + std::to_string(previous.back().index) +
                         " is outside the space's grid");
      o.done.insert(previous.back().index);
    }
    file.drop_partial_line();
  }
  ProgressLine progress(err, "sweep", "points");
  o.on_point = [&](const std::vector<explorer::XrPointResult>& rs) {
    for (const auto& r : rs) file.append(explorer::to_json(r).dump());
  };
  if (!a.quiet) o.progress = [&](std::size_t done, std::size_t total) { progress("running", done, total); };
  auto results = explorer::sweep_xr_space(space, o);
  progress.finish();
  results.insert(results.begin(), previous.begin(), previous.end());
  if (!a.quiet) {
    out << explorer::format_xr_results(space, results);
    out << fmt::format("{} points run, {} from the log; results in {}\n",
                       space.grid_size() - o.done.size(), o.done.size(), a.log);
  }
  return kExitOk;
}

int sweep(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  {
    const nlohmann::json head = read_json_file(a.space);
    if (head.is_object() && head.value("format", "") == "tessera.xr_space") return sweep_xr(a, out, err);
  }
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
  cmd->add_option("space", a->space,
                  "Design space (JSON, docs/explorer.md), or an XR design space "
                  "(\"format\": \"tessera.xr_space\", docs/serving.md)")
      ->required();
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
