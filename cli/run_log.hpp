// What `tessera sweep` and `tessera explore` share: their arguments, the evaluator pool, the
// results log (its header, --resume) and the sink that appends each result, shows progress and
// sums up failures.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/results_file.hpp"
#include "explorer/pool.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"
#include "explorer/sweep.hpp"

namespace CLI {
class App;
}

namespace tessera::cli {

struct SweepArgs {
  std::string space, log, method = "grid", shard, algo = "nsga2", pool;
  std::uint64_t samples = 0, seed = 1, budget = 100;
  unsigned jobs = 1, population = 0;
  double progress_every = 5;  // seconds between progress lines when stderr is not a terminal
  bool resume = false, quiet = false, mpi = false;
};

// Adds --jobs, --pool, --mpi and --progress-every.
void add_pool_options(CLI::App& cmd, SweepArgs& a);

// The pool of --pool (or --mpi), else the default for the space's fidelity and --jobs.
std::unique_ptr<explorer::EvaluatorPool> make_pool(const SweepArgs& a,
                                                   const explorer::DesignSpace& space,
                                                   const explorer::WorkloadCache& workloads);

// The header of this run's log; `run` holds the options that decide which points it evaluates.
explorer::LogHeader make_header(const std::string& command, const std::string& space_file,
                                const explorer::DesignSpace& space,
                                const explorer::WorkloadCache& workloads, nlohmann::json run,
                                std::uint64_t size, std::uint64_t shard, std::uint64_t shards);

// Checks that --log is neither the space file nor a file the space names (its base architecture,
// its workload), before the run starts.
void check_log_path(const SweepArgs& a, const explorer::DesignSpace& space);

// Opens the run's log. A new or empty log gets the header. An existing one is continued only
// with --resume and only when it is this run's (its header is `header`, its entries' hashes are
// this space's); its entries are returned. Nothing in an existing file is changed before it
// passes these checks.
std::vector<explorer::LogEntry> open_run_log(ResultsFile& file, const SweepArgs& a,
                                             const explorer::LogHeader& header,
                                             const explorer::DesignSpace& space,
                                             const explorer::WorkloadCache& workloads,
                                             std::ostream& err);

// A failure's reason with its numbers replaced by '#', so failures can be counted by kind.
std::string failure_kind(const std::string& error);

// Appends each result to the log the moment it is known and shows progress: a line updated in
// place on a terminal, a line every few seconds otherwise (a batch job's output file).
class ResultSink {
 public:
  ResultSink(ResultsFile& file, const SweepArgs& a, const explorer::DesignSpace& space,
             std::uint64_t total, std::ostream& err);
  void operator()(const explorer::LogEntry& e);
  // Ends the progress line, prints the summary and the failures by kind, and returns the exit
  // status: kExitNoResults when the log has entries and none is ok.
  int finish(const std::string& name, const std::vector<explorer::LogEntry>& previous,
             std::ostream& out);

 private:
  void progress(bool last);

  ResultsFile& file_;
  std::ostream& err_;
  std::uint64_t total_, done_ = 0, failed_ = 0, printed_ = 0;  // printed_: done_ when last shown
  std::pair<std::string, bool> objective_;
  bool quiet_, tty_;
  double every_s_;
  std::optional<explorer::LogEntry> best_;
  std::map<std::string, std::uint64_t> failures_;  // kind -> count
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace tessera::cli
