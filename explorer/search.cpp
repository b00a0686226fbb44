#include "explorer/search.hpp"

#include <algorithm>
#include <cmath>

#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/moead.hpp>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/threading.hpp>

#include "common/error.hpp"

namespace tessera::explorer {

namespace {
constexpr double kFailed = 1e300;  // a point that does not evaluate is dominated by every other
}

Evaluations::Evaluations(const DesignSpace& space, const WorkloadCache& workloads,
                         std::vector<LogEntry> previous,
                         std::function<void(const LogEntry&)> on_result)
    : space_(space), workloads_(workloads), on_result_(std::move(on_result)) {
  for (auto& e : previous) {
    replay_end_ = std::max(replay_end_, e.index + 1);
    by_point_.emplace(e.point.dump(), std::move(e));
  }
}

const LogEntry& Evaluations::get(const nlohmann::json& point) {
  const std::string key = point.dump();
  auto it = by_point_.find(key);
  if (it != by_point_.end()) {
    if (it->second.index >= next_index_) {  // first proposal of a point from a previous run
      if (it->second.index != next_index_)
        throw InputError("the log's point " + std::to_string(it->second.index) + " " + key +
                         " is this search's point " + std::to_string(next_index_) +
                         ": a different space, algorithm, seed or budget");
      ++next_index_;
    }
    return it->second;
  }
  if (next_index_ < replay_end_)
    throw InputError("this search's point " + std::to_string(next_index_) + " " + key +
                     " is not in the log, which has points up to " +
                     std::to_string(replay_end_ - 1) +
                     ": a different space, algorithm, seed or budget");
  LogEntry e = evaluate_point(space_, workloads_, next_index_++, point);
  ++evaluated_now_;
  on_result_(e);
  return by_point_.emplace(key, std::move(e)).first->second;
}

std::vector<double> Evaluations::objectives(const LogEntry& e) const {
  std::vector<double> f;
  for (const auto& [metric, minimize] : space_.objectives) {
    if (!e.ok) {
      f.push_back(kFailed);
      continue;
    }
    const auto m = e.metrics.find(metric);
    if (m == e.metrics.end())
      throw InputError(space_.file + ": objective '" + metric + "' is not a logged metric");
    f.push_back(minimize ? m->second : -m->second);
  }
  return f;
}

namespace {

// The design space as a pagmo problem over unit-width boxes, one per parameter value.
struct SpaceProblem {
  Evaluations* evaluations = nullptr;

  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    const auto& space = evaluations->space();
    std::vector<double> u;
    for (std::size_t i = 0; i < x.size(); ++i)
      u.push_back(std::clamp(x[i] / static_cast<double>(space.parameters[i].values.size()), 0.0,
                             0.999999999));
    return evaluations->objectives(evaluations->get(space.unit_point(u)));
  }
  std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
    pagmo::vector_double lo, hi;
    for (const auto& p : evaluations->space().parameters) {
      lo.push_back(0.0);
      hi.push_back(static_cast<double>(p.values.size()));
    }
    return {lo, hi};
  }
  pagmo::vector_double::size_type get_nobj() const {
    return evaluations->space().objectives.size();
  }
  // Evaluations are logged in proposal order: no parallel fitness calls.
  pagmo::thread_safety get_thread_safety() const { return pagmo::thread_safety::none; }
  std::string get_name() const { return "tessera design space"; }
};

// Population size for a budget: a multiple of 4 (NSGA-II), at least 8, at most 64.
unsigned population_for(const SearchOptions& o) {
  if (o.population) return o.population;
  const auto p = static_cast<unsigned>(std::clamp<std::uint64_t>(o.budget / 5, 8, 64));
  return p - p % 4;
}

void evolve(Evaluations& ev, const SearchOptions& o, const pagmo::algorithm& algo,
            unsigned pop_size) {
  if (ev.space().objectives.size() < 2)
    throw InputError(ev.space().file + ": multi-objective search needs two or more objectives");
  pagmo::population pop(pagmo::problem(SpaceProblem{&ev}), pop_size, o.seed);
  const auto generations =
      (o.budget > pop_size) ? (o.budget - pop_size + pop_size - 1) / pop_size : 0;
  for (std::uint64_t g = 0; g < generations; ++g) pop = algo.evolve(pop);
}

void nsga2(Evaluations& ev, const SearchOptions& o) {
  const unsigned n = population_for(o);
  if (n < 8 || n % 4) throw InputError("nsga2: the population must be a multiple of 4, at least 8");
  evolve(ev, o, pagmo::algorithm(pagmo::nsga2(1u, 0.95, 10., 0.01, 50., o.seed)), n);
}

void moead(Evaluations& ev, const SearchOptions& o) {
  const unsigned n = population_for(o);
  evolve(ev, o,
         pagmo::algorithm(pagmo::moead(1u, "low discrepancy", "tchebycheff", std::min(20u, n - 1),
                                       1.0, 0.5, 20., 0.9, 2u, true, o.seed)),
         n);
}

void random_search(Evaluations& ev, const SearchOptions& o) {
  for (std::uint64_t i = 0; i < o.budget; ++i) ev.get(ev.space().random_point(o.seed, i));
}

}  // namespace

const Registry<SearchAlgorithm>& search_algorithms() {
  static const Registry<SearchAlgorithm> registry = [] {
    Registry<SearchAlgorithm> r("search algorithm");
    r.add("nsga2", "NSGA-II (pagmo2), multi-objective genetic algorithm", nsga2);
    r.add("moead", "MOEA/D-DE (pagmo2), decomposition-based multi-objective evolution", moead);
    r.add("random", "uniform random points (baseline)", random_search);
    return r;
  }();
  return registry;
}

}  // namespace tessera::explorer
