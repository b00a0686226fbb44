// NASAIC against NSGA-II and random search (`tessera_bench --nasaic SPACE [--budget N]
// [--seeds K] [--jobs J]`): each algorithm runs with the same budget (proposals) and seeds 1..K
// on the space, in process, without a log. Per algorithm it prints the spec satisfaction rate
// (feasible share of the distinct points evaluated), the distinct points evaluated, and the best
// feasible figure of merit after 1/8, 1/4, 1/2 and all of the budget in evaluations (a run that
// evaluated fewer keeps its final best: evaluations are the cost), as mean [min, max] over
// seeds. The figure is the weighted accuracy (mean of the accuracy-like objectives NASAIC
// rewards) when the space has one, else its first objective. Meant for
// configs/spaces/nasaic_nb201_two_tasks.json; works on any space with constraints.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "explorer/nasaic.hpp"
#include "explorer/search.hpp"
#include "explorer/sweep.hpp"

namespace {

using namespace tessera::explorer;

struct Run {
  std::vector<LogEntry> entries;  // by index
  double seconds = 0;
};

Run run(const DesignSpace& space, const WorkloadCache& workloads, const std::string& algo,
        std::uint64_t budget, unsigned seed, unsigned jobs) {
  const auto pool = make_default_pool(space, workloads, jobs);
  Run r;
  Evaluations ev(space, *pool, {}, [&](const LogEntry& e) { r.entries.push_back(e); });
  SearchOptions o;
  o.budget = budget;
  o.seed = seed;
  const auto start = std::chrono::steady_clock::now();
  search_algorithms().get(algo)(ev, o);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(r.entries.begin(), r.entries.end(),
            [](const LogEntry& a, const LogEntry& b) { return a.index < b.index; });
  return r;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? NAN : sum / static_cast<double>(v.size());
}

// "mean (min-max)" over the seeds.
std::string spread(const std::vector<double>& v, const char* format) {
  if (v.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format(fmt::runtime(std::string(format) + " (" + format + "-" + format + ")"),
                     mean(v), *lo, *hi);
}

}  // namespace

int nasaic_bench(int argc, char* argv[]) {
  std::string space_file;
  std::uint64_t budget = 200;
  unsigned seeds = 5, jobs = 1;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--budget" && i + 1 < argc) {
      budget = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seeds" && i + 1 < argc) {
      seeds = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--jobs" && i + 1 < argc) {
      jobs = static_cast<unsigned>(std::atoi(argv[++i]));
    } else {
      space_file = a;
    }
  }
  if (space_file.empty() || budget == 0 || seeds == 0 || jobs == 0) {
    std::cerr << "usage: tessera_bench --nasaic SPACE [--budget N] [--seeds K] [--jobs J]\n";
    return 1;
  }
  const DesignSpace space = read_space(space_file);
  const WorkloadCache workloads(space);
  // The figure of merit: NASAIC's accuracy-like objectives, or the first objective.
  std::vector<std::size_t> figure = nasaic_reward_objectives(space);
  const bool accuracy = !space.objectives.empty() && figure.size() < space.objectives.size();
  if (!accuracy) figure = {0};
  const bool minimize = space.objectives.at(figure.front()).second;
  std::string label;
  for (std::size_t k : figure) label += (label.empty() ? "" : "+") + space.objectives[k].first;
  const auto merit = [&](const LogEntry& e) {
    double sum = 0;
    for (std::size_t k : figure) sum += e.metrics.at(space.objectives[k].first);
    return sum / static_cast<double>(figure.size());
  };
  const std::vector<std::uint64_t> checkpoints = {budget / 8, budget / 4, budget / 2, budget};
  std::cout << fmt::format(
      "{}: {} parameters, {} constraints; budget {} proposals, seeds 1..{}\n"
      "best feasible {} ({}), mean (min-max) over seeds\n",
      space.name, space.parameters.size(), space.constraints.size(), budget, seeds, label,
      minimize ? "lower is better" : "higher is better");
  // Means only at the early checkpoints, so that the table fits a terminal.
  std::cout << fmt::format("{:<7} {:>19} {:>9}", "algo", "spec satisfaction", "evaluated");
  for (std::size_t c = 0; c < checkpoints.size(); ++c)
    std::cout << fmt::format(fmt::runtime(c + 1 < checkpoints.size() ? " {:>9}" : " {:>21}"),
                             fmt::format("best@{}", checkpoints[c]));
  std::cout << fmt::format(" {:>8}\n", "seconds");
  for (const std::string algo : {"nasaic", "nsga2", "random"}) {
    std::vector<double> rate, evaluated, seconds;
    std::vector<std::vector<double>> best(checkpoints.size());
    try {
      for (unsigned seed = 1; seed <= seeds; ++seed) {
        const Run r = run(space, workloads, algo, budget, seed, jobs);
        std::uint64_t feasible = 0;
        double so_far = NAN;
        std::size_t c = 0;
        for (const LogEntry& e : r.entries) {
          for (; c < checkpoints.size() && e.index >= checkpoints[c]; ++c)
            if (!std::isnan(so_far)) best[c].push_back(so_far);
          if (!e.ok) continue;
          ++feasible;
          const double m = merit(e);
          so_far = std::isnan(so_far) ? m : minimize ? std::min(so_far, m) : std::max(so_far, m);
        }
        for (; c < checkpoints.size(); ++c)
          if (!std::isnan(so_far)) best[c].push_back(so_far);
        rate.push_back(r.entries.empty()
                           ? 0.0
                           : static_cast<double>(feasible) / static_cast<double>(r.entries.size()));
        evaluated.push_back(static_cast<double>(r.entries.size()));
        seconds.push_back(r.seconds);
      }
    } catch (const std::exception& e) {
      std::cout << fmt::format("{:<8} not run: {}\n", algo, e.what());
      continue;
    }
    std::cout << fmt::format("{:<7} {:>19} {:>9.0f}", algo, spread(rate, "{:.2f}"), mean(evaluated));
    for (std::size_t c = 0; c < best.size(); ++c) {
      const auto& b = best[c];
      const bool last = c + 1 == best.size();
      const std::string cell = b.size() != seeds ? fmt::format("{}/{} feas.", b.size(), seeds)
                               : last            ? spread(b, "{:.4g}")
                                                 : fmt::format("{:.4g}", mean(b));
      std::cout << fmt::format(fmt::runtime(last ? " {:>21}" : " {:>9}"), cell);
    }
    std::cout << fmt::format(" {:>8.2f}\n", mean(seconds));
  }
  return 0;
}
