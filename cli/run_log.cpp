#include "cli/run_log.hpp"

#include <cctype>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "cli/app.hpp"
#include "cli/files.hpp"
#include "cli/pools.hpp"
#include "common/error.hpp"
#include "common/version.hpp"
#include "sim/metrics.hpp"

namespace tessera::cli {

void add_pool_options(CLI::App& cmd, SweepArgs& a) {
  cmd.add_option("--jobs", a.jobs,
                 "Parallel evaluations: threads (analytical), worker processes (systemc); with "
                 "--mpi, threads per rank")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  cmd.add_option("--pool", a.pool,
                 "Evaluator pool (tessera list): inline, threads, processes, mpi (default: from "
                 "the fidelity and --jobs)");
  cmd.add_flag("--mpi", a.mpi,
               "Evaluate on MPI ranks (run under mpirun or srun; rank 0 writes the log); same as "
               "--pool mpi");
  cmd.add_option("--progress-every", a.progress_every,
                 "Seconds between progress lines when stderr is not a terminal (a batch job's "
                 "output); 0: a line per point")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

std::unique_ptr<explorer::EvaluatorPool> make_pool(const SweepArgs& a,
                                                   const explorer::DesignSpace& space,
                                                   const explorer::WorkloadCache& workloads) {
  if (a.mpi && !a.pool.empty() && a.pool != "mpi")
    throw InputError("--mpi and --pool " + a.pool + ": choose one");
  const std::string name = a.mpi             ? std::string("mpi")
                           : !a.pool.empty() ? a.pool
                                             : explorer::default_pool(space.fidelity, a.jobs);
  explorer::PoolSettings settings;
  settings.fidelity = space.fidelity;
  settings.jobs = a.jobs;
  settings.evaluate = [&space, &workloads](std::uint64_t index, const nlohmann::json& point) {
    return explorer::evaluate_point(space, workloads, index, point);
  };
  return evaluator_pools().get(name)(settings);
}

explorer::LogHeader make_header(const std::string& command, const std::string& space_file,
                                const explorer::DesignSpace& space,
                                const explorer::WorkloadCache& workloads, nlohmann::json run,
                                std::uint64_t size, std::uint64_t shard, std::uint64_t shards) {
  explorer::LogHeader h;
  h.command = command;
  h.space_file = space_file;
  h.space_name = space.name;
  h.space_hash = space.hash;
  h.base_config_hash = space.base_config_hash;
  h.workload_hash = workloads.base_hash();
  h.run = std::move(run);
  h.size = size;
  h.shard = shard;
  h.shards = shards;
  for (const auto& [metric, minimize] : space.objectives)
    h.objectives.push_back(metric + (minimize ? ":min" : ":max"));
  h.hv_lo = space.hv_lo;
  h.hv_ref = space.hv_ref;
  h.tool_version = kVersion;
  h.tool_revision = kGitRevision;
  for (const sim::Metric& m : sim::metric_table())
    h.metrics[std::string(m.name)] = {std::string(m.unit), std::string(sim::to_string(m.direction)),
                                      std::string(m.description)};
  return h;
}

void check_log_path(const SweepArgs& a, const explorer::DesignSpace& space) {
  check_run_paths({{"space", a.space},
                   {"the space's architecture", space.base.file},
                   {"the space's workload", space.workload_file}},
                  {{"--log", a.log}});
}

std::vector<explorer::LogEntry> open_run_log(ResultsFile& file, const SweepArgs& a,
                                             const explorer::LogHeader& header,
                                             const explorer::DesignSpace& space,
                                             const explorer::WorkloadCache& workloads,
                                             std::ostream& err) {
  if (file.content().find_first_not_of(" \t\r\n") == std::string::npos) {
    file.drop_partial_line();
    file.append(explorer::to_line(header));
    return {};
  }
  if (!a.resume)
    throw InputError(a.log +
                     ": results log exists; add --resume to continue it, or choose another --log");
  auto log = explorer::parse_results_log(file.content(), a.log);
  if (!log.header)
    throw InputError(a.log +
                     ": has no header line, so it is not a results log this version can continue "
                     "(a log of Tessera before 0.2, or another file); start a new --log");
  if (const auto diff = explorer::header_difference(*log.header, header); !diff.empty())
    throw InputError(a.log + ": is the log of another run (its header differs in " + diff +
                     "); resume with the same space, options and shard, or choose another --log");
  if (log.header->tool_revision != header.tool_revision)
    err << fmt::format(
        "tessera: note: {} was started by tessera {} ({}); continuing with {} ({})\n", a.log,
        log.header->tool_version, log.header->tool_revision, header.tool_version,
        header.tool_revision);
  for (const auto& e : log.entries) explorer::check_logged_entry(space, workloads, e, a.log);
  file.drop_partial_line();
  return std::move(log.entries);
}

std::string failure_kind(const std::string& error) {
  std::string out;
  for (std::size_t i = 0; i < error.size();) {
    const char c = error[i];
    const bool starts_number =
        (std::isdigit(static_cast<unsigned char>(c)) ||
         (c == '-' && i + 1 < error.size() &&
          std::isdigit(static_cast<unsigned char>(error[i + 1])))) &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(error[i - 1])) ||
                     error[i - 1] == '_' || error[i - 1] == '.'));
    if (!starts_number) {
      out += c;
      ++i;
      continue;
    }
    ++i;
    while (i < error.size() && (std::isalnum(static_cast<unsigned char>(error[i])) ||
                                error[i] == '.' || error[i] == '+' || error[i] == '-'))
      ++i;
    out += '#';
  }
  return out;
}

ResultSink::ResultSink(ResultsFile& file, const SweepArgs& a, const explorer::DesignSpace& space,
                       std::uint64_t total, std::ostream& err)
    : file_(file),
      err_(err),
      total_(total),
      objective_(space.objectives.front()),
      quiet_(a.quiet),
      tty_(::isatty(::fileno(stderr))),
      every_s_(tty_ ? 0.2 : a.progress_every) {}

void ResultSink::operator()(const explorer::LogEntry& e) {
  file_.append(explorer::to_line(e));  // on disk before the next point
  ++done_;
  if (!e.ok) {
    ++failed_;
    ++failures_[failure_kind(e.error)];
  }
  const auto& [metric, minimize] = objective_;
  if (e.ok && e.metrics.count(metric)) {
    const double v = e.metrics.at(metric);
    if (!best_ || (minimize ? v < best_->metrics.at(metric) : v > best_->metrics.at(metric)))
      best_ = e;
  }
  progress(false);
}

void ResultSink::progress(bool last) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (last ? done_ == printed_ : std::chrono::duration<double>(now - last_).count() < every_s_)
    return;
  printed_ = done_;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
  const double eta = rate > 0 && total_ > done_ ? static_cast<double>(total_ - done_) / rate : 0.0;
  const auto& metric = objective_.first;
  const std::string line =
      fmt::format("[{}] {}/{} points, {:.0f}/s, ETA {:.0f} s, {} failed, best {} {}", file_.path(),
                  done_, total_, rate, eta, failed_, metric,
                  best_ ? fmt::format("{:.4g}", best_->metrics.at(metric)) : std::string("-"));
  if (tty_)
    err_ << "\r" << line << "   " << std::flush;
  else
    err_ << line << "\n" << std::flush;
}

int ResultSink::finish(const std::string& name, const std::vector<explorer::LogEntry>& previous,
                       std::ostream& out) {
  progress(true);
  if (tty_ && !quiet_) err_ << "\n";
  std::uint64_t previous_ok = 0;
  for (const auto& e : previous) previous_ok += e.ok;
  const bool none_ok = done_ + previous.size() > 0 && previous_ok + done_ - failed_ == 0;
  if (!quiet_) {
    out << fmt::format("{}: {} points evaluated ({} failed), {} already in {}\n", name, done_,
                       failed_, previous.size(), file_.path());
    if (best_)
      out << fmt::format("best {}: {:.6g} at point {} {}\n", objective_.first,
                         best_->metrics.at(objective_.first), best_->index, best_->point.dump());
  }
  if (failed_ > 0 && (!quiet_ || none_ok)) {
    std::vector<std::pair<std::uint64_t, std::string>> kinds;
    for (const auto& [kind, n] : failures_) kinds.emplace_back(n, kind);
    std::sort(kinds.rbegin(), kinds.rend());
    err_ << fmt::format("failures by reason ({} of {} points):\n", failed_, done_);
    for (std::size_t k = 0; k < kinds.size() && k < 10; ++k)
      err_ << fmt::format("  {:>6} x {}\n", kinds[k].first, kinds[k].second);
    if (kinds.size() > 10) err_ << fmt::format("  ... and {} other reasons\n", kinds.size() - 10);
  }
  if (none_ok) {
    err_ << "tessera: error: every point failed (" << file_.path() << " has no ok entry)\n";
    return kExitNoResults;
  }
  return kExitOk;
}

}  // namespace tessera::cli
