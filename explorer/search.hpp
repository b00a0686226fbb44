// Search over a design space: NSGA-II and MOEA/D from pagmo2, NASAIC (explorer/nasaic.hpp), and
// random sampling as the baseline, chosen by name from one registry (`tessera list` prints it).
//
// A search sees a point as one coordinate per parameter in [0, size): the value is the
// coordinate's integer part. Objectives come from the space ("METRIC:min|max"); a point that
// fails to evaluate scores 1e300 on every objective. Every distinct point is evaluated once, in
// the order the search first proposes it, which is its index in the log; a search run with the
// same seed proposes the same points, so --resume replays the log's evaluations instead of
// repeating them and goes on from where the run stopped. NSGA-II and random search hand whole
// generations to the evaluator pool; MOEA/D (no batch evaluation in pagmo) one point at a time.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/registry.hpp"
#include "explorer/pool.hpp"
#include "explorer/results_log.hpp"
#include "explorer/space.hpp"
#include "explorer/sweep.hpp"

namespace tessera::explorer {

struct SearchOptions {
  std::uint64_t budget = 100;  // proposals; rounded up to whole generations
  unsigned seed = 1;
  unsigned population = 0;  // 0: chosen from the budget
};

// Evaluates the points a search proposes, once each, through an evaluator pool, and reports new
// results as they come. Points proposed together (a generation) are evaluated together.
class Evaluations {
 public:
  Evaluations(const DesignSpace& space, EvaluatorPool& pool, std::vector<LogEntry> previous,
              ResultHandler on_result);

  // The entries of `points`, in order: from a previous run or this one, or evaluated now. A
  // point's index is its position in the order of first proposals. Throws InputError when a
  // previous run's log disagrees with that order (a different search).
  std::vector<const LogEntry*> get_batch(const std::vector<nlohmann::json>& points);
  const LogEntry& get(const nlohmann::json& point) { return *get_batch({point}).front(); }
  // Objective values to minimise.
  std::vector<double> objectives(const LogEntry& e) const;
  // The point a previous run logged at `index`, or null. A search whose proposals come out of
  // floating-point training (boshcode) proposes the logged point there instead of its own, so a
  // log resumes even where the training would not repeat bit for bit.
  const nlohmann::json* previous_point(std::uint64_t index) const;
  // Whether `point` is evaluated or in a previous run's log.
  bool known(const nlohmann::json& point) const { return by_point_.count(point.dump()) > 0; }

  const DesignSpace& space() const { return space_; }
  std::uint64_t distinct() const { return next_index_; }
  std::uint64_t evaluated_now() const { return evaluated_now_; }

 private:
  const DesignSpace& space_;
  EvaluatorPool& pool_;
  std::map<std::string, LogEntry> by_point_;              // canonical point text -> entry
  std::map<std::uint64_t, std::string> previous_points_;  // a previous run's index -> point
  ResultHandler on_result_;
  std::uint64_t next_index_ = 0, evaluated_now_ = 0;
};

using SearchAlgorithm = std::function<void(Evaluations&, const SearchOptions&)>;

// Built-in algorithms. NASAIC's controller lives in the libtorch models module, loaded when the
// search starts (an UnsupportedError when it is not built); other optional libraries add theirs
// when the CLI registers them.
Registry<SearchAlgorithm>& search_algorithms();

}  // namespace tessera::explorer
