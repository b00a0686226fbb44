// Multi-objective search over a design space: NSGA-II and MOEA/D from pagmo2, and random
// sampling as the baseline, chosen by name from one registry (`tessera list` prints it; the
// co-design algorithms join it later).
//
// A search sees a point as one coordinate per parameter in [0, size): the value is the
// coordinate's integer part. Objectives come from the space ("METRIC:min|max"); a point that
// fails to evaluate scores 1e300 on every objective. Every distinct point is evaluated once, in
// the order the search first proposes it, which is its index in the log; a search run with the
// same seed proposes the same points, so --resume replays the log's evaluations instead of
// repeating them and goes on from where the run stopped.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/registry.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"
#include "explorer/sweep.hpp"

namespace tessera::explorer {

struct SearchOptions {
  std::uint64_t budget = 100;  // proposals; rounded up to whole generations
  unsigned seed = 1;
  unsigned population = 0;  // 0: chosen from the budget
};

// Evaluates the points a search proposes, once each, and reports new results as they come.
class Evaluations {
 public:
  Evaluations(const DesignSpace& space, const WorkloadCache& workloads,
              std::vector<LogEntry> previous,
              std::function<void(const LogEntry&)> on_result);

  // The entry of `point`: from a previous run or this one, or evaluated now. Throws InputError
  // if a previous run's entry for this point has another index (a different search).
  const LogEntry& get(const nlohmann::json& point);
  // Objective values to minimise.
  std::vector<double> objectives(const LogEntry& e) const;

  const DesignSpace& space() const { return space_; }
  std::uint64_t distinct() const { return next_index_; }
  std::uint64_t evaluated_now() const { return evaluated_now_; }

 private:
  const DesignSpace& space_;
  const WorkloadCache& workloads_;
  std::map<std::string, LogEntry> by_point_;  // canonical point text -> entry
  std::function<void(const LogEntry&)> on_result_;
  std::uint64_t next_index_ = 0, evaluated_now_ = 0;
  std::uint64_t replay_end_ = 0;  // one past the highest index of a previous run
};

using SearchAlgorithm = std::function<void(Evaluations&, const SearchOptions&)>;

const Registry<SearchAlgorithm>& search_algorithms();

}  // namespace tessera::explorer
