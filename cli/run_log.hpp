// What `tessera sweep` and `tessera explore` share: their arguments, the results log they
// continue with --resume, and the sink that appends each result and shows progress.
#pragma once

#include <chrono>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "explorer/results_log.hpp"
#include "explorer/space.hpp"

namespace tessera::cli {

struct SweepArgs {
  std::string space, log, method = "grid", shard, algo = "nsga2";
  std::uint64_t samples = 0, seed = 1, budget = 100;
  unsigned jobs = 1, population = 0;
  bool resume = false, quiet = false;
};

// The entries of an existing results log, which is only ever continued with --resume.
std::vector<explorer::LogEntry> previous_results(const SweepArgs& a);

// Appends each result to the log the moment it is known, and shows progress on a terminal.
class ResultSink {
 public:
  ResultSink(const SweepArgs& a, const explorer::DesignSpace& space, std::uint64_t total,
             std::ostream& err);
  void operator()(const explorer::LogEntry& e);
  // Ends the progress line and prints the summary.
  void finish(const std::string& name, std::uint64_t already, bool quiet, std::ostream& out);

 private:
  std::ofstream log_;
  std::string path_;
  std::ostream& err_;
  std::uint64_t total_, done_ = 0, failed_ = 0;
  std::pair<std::string, bool> objective_;
  bool progress_;
  std::optional<explorer::LogEntry> best_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace tessera::cli
