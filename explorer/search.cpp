#include "explorer/search.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/moead.hpp>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/batch_evaluators/member_bfe.hpp>
#include <pagmo/bfe.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/threading.hpp>

#include "common/error.hpp"
#include "explorer/nasaic.hpp"
#include "explorer/boshcode.hpp"

namespace tessera::explorer {

namespace {
constexpr double kFailed = 1e300;  // a point that does not evaluate is dominated by every other
}

Evaluations::Evaluations(const DesignSpace& space, EvaluatorPool& pool,
                         std::vector<LogEntry> previous, ResultHandler on_result)
    : space_(space), pool_(pool), on_result_(std::move(on_result)) {
  for (auto& e : previous) {
    std::string key = e.point.dump();
    previous_points_.emplace(e.index, key);
    by_point_.emplace(std::move(key), std::move(e));
  }
}

std::vector<const LogEntry*> Evaluations::get_batch(const std::vector<nlohmann::json>& points) {
  const auto different = [](const std::string& what) {
    return InputError(what + ": a different space, algorithm, seed or budget");
  };
  std::vector<std::string> keys;
  std::map<std::uint64_t, const nlohmann::json*> fresh;  // index -> point, evaluated now
  std::map<std::string, std::uint64_t> assigned;         // in this batch
  for (const auto& point : points) {
    const std::string& key = keys.emplace_back(point.dump());
    if (const auto it = by_point_.find(key); it != by_point_.end()) {
      if (it->second.index >= next_index_) {  // first proposal of a point from a previous run
        if (it->second.index != next_index_)
          throw different("the log's point " + std::to_string(it->second.index) + " " + key +
                          " is this search's point " + std::to_string(next_index_));
        ++next_index_;
      }
      continue;
    }
    if (assigned.count(key)) continue;
    // A previous run may have lost points it was evaluating when killed, but the index must not
    // belong to another point.
    if (const auto it = previous_points_.find(next_index_); it != previous_points_.end())
      throw different("the log's point " + std::to_string(next_index_) + " is " + it->second +
                      ", this search's is " + key);
    assigned.emplace(key, next_index_);
    fresh.emplace(next_index_++, &point);
  }
  if (!fresh.empty()) {
    std::vector<std::uint64_t> indices;
    for (const auto& [index, point] : fresh) indices.push_back(index);
    pool_.run(
        indices, [&](std::uint64_t index) { return *fresh.at(index); },
        [&](const LogEntry& e) {
          ++evaluated_now_;
          on_result_(e);
          by_point_.emplace(e.point.dump(), e);
        });
  }
  std::vector<const LogEntry*> out;
  for (const auto& key : keys) {
    const auto it = by_point_.find(key);
    if (it == by_point_.end())
      throw std::logic_error("evaluator pool returned no result for point " + key);
    out.push_back(&it->second);
  }
  return out;
}

const nlohmann::json* Evaluations::previous_point(std::uint64_t index) const {
  const auto it = previous_points_.find(index);
  return it == previous_points_.end() ? nullptr : &by_point_.at(it->second).point;
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

  nlohmann::json point(const double* x) const {
    const auto& space = evaluations->space();
    std::vector<double> u;
    for (std::size_t i = 0; i < space.parameters.size(); ++i)
      u.push_back(std::clamp(x[i] / static_cast<double>(space.parameters[i].values.size()), 0.0,
                             0.999999999));
    return space.unit_point(u);
  }
  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    return evaluations->objectives(evaluations->get(point(x.data())));
  }
  // A generation at once, so the evaluator pool can spread it (pagmo's member_bfe calls this).
  pagmo::vector_double batch_fitness(const pagmo::vector_double& xs) const {
    const std::size_t n = evaluations->space().parameters.size();
    std::vector<nlohmann::json> points;
    for (std::size_t k = 0; k + n <= xs.size(); k += n) points.push_back(point(xs.data() + k));
    pagmo::vector_double out;
    for (const LogEntry* e : evaluations->get_batch(points)) {
      const auto f = evaluations->objectives(*e);
      out.insert(out.end(), f.begin(), f.end());
    }
    return out;
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
  // The first population is drawn, then evaluated as one batch.
  pagmo::population pop(pagmo::problem(SpaceProblem{&ev}), pagmo::member_bfe{}, pop_size, o.seed);
  const auto generations =
      (o.budget > pop_size) ? (o.budget - pop_size + pop_size - 1) / pop_size : 0;
  for (std::uint64_t g = 0; g < generations; ++g) pop = algo.evolve(pop);
}

void nsga2(Evaluations& ev, const SearchOptions& o) {
  const unsigned n = population_for(o);
  if (n < 8 || n % 4) throw InputError("nsga2: the population must be a multiple of 4, at least 8");
  pagmo::nsga2 algo(1u, 0.95, 10., 0.01, 50., o.seed);
  algo.set_bfe(pagmo::bfe(pagmo::member_bfe{}));  // each generation's offspring as one batch
  evolve(ev, o, pagmo::algorithm(algo), n);
}

void moead(Evaluations& ev, const SearchOptions& o) {
  const unsigned n = population_for(o);
  evolve(ev, o,
         pagmo::algorithm(pagmo::moead(1u, "low discrepancy", "tchebycheff", std::min(20u, n - 1),
                                       1.0, 0.5, 20., 0.9, 2u, true, o.seed)),
         n);
}

void random_search(Evaluations& ev, const SearchOptions& o) {
  constexpr std::uint64_t kBatch = 256;
  for (std::uint64_t first = 0; first < o.budget; first += kBatch) {
    std::vector<nlohmann::json> points;
    for (std::uint64_t i = first; i < std::min(o.budget, first + kBatch); ++i)
      points.push_back(ev.space().random_point(o.seed, i));
    ev.get_batch(points);
  }
}

}  // namespace

Registry<SearchAlgorithm>& search_algorithms() {
  static Registry<SearchAlgorithm> registry = [] {
    Registry<SearchAlgorithm> r("search algorithm");
    r.add("nsga2", "NSGA-II (pagmo2), multi-objective genetic algorithm", nsga2);
    r.add("moead", "MOEA/D-DE (pagmo2), decomposition-based multi-objective evolution", moead);
    r.add("random", "uniform random points (baseline)", random_search);
    r.add("nasaic",
          "NASAIC: RNN controller trained by REINFORCE, penalty for broken specs (libtorch module)",
          nasaic_search);
    r.add("boshcode",
          "BOSHCODE: neural surrogate with epistemic and aleatoric uncertainty, second-order "
          "gradient optimisation of the acquisition (GOBI), random scalarisations (libtorch)",
          boshcode);
    return r;
  }();
  return registry;
}

}  // namespace tessera::explorer
