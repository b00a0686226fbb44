// The co-design benchmark (`tessera_bench --codesign`): every registered search algorithm on
// the benchmark space (configs/spaces/codesign_nb201_systolic_edge.json: NAS-Bench-201 cell x
// systolic accelerator, NATS-Bench CIFAR-10 accuracy), several seeds per budget, scored by the
// hypervolume normalised with the space's fixed lo/ref (explorer/pareto.hpp). Prints per
// algorithm and budget the median and interquartile range of the hypervolume and the median wall
// time, and writes every run (and its convergence, the hypervolume after each 5 evaluations) to a
// CSV for the plot (docs/validation.md).
//
//   tessera_bench --codesign [--space FILE] [--seeds N] [--first-seed S] [--budgets 25,50,100] [--algos a,b]
//                            [--jobs N] [--csv FILE]
//   tessera_bench --codesign-front LOG [--space FILE]
//   tessera_bench --codesign-enumerate [--jobs N] [--limit N] [--space FILE]
//
// --codesign-front reads a results log of the whole grid (`tessera sweep SPACE --log LOG
// --jobs N`, resumable with --resume) line by line and prints the size and normalised
// hypervolume of its Pareto front: the true front's, against which searches are judged.
// --codesign-enumerate evaluates the grid in this process straight into the front, without a
// log (not resumable; --limit N: the first N points only, to time it).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "explorer/pareto.hpp"
#include "explorer/pool.hpp"
#include "explorer/search.hpp"
#include "explorer/sweep.hpp"

namespace {

using namespace tessera;

std::vector<explorer::Objective> objectives_of(const explorer::DesignSpace& space) {
  std::vector<explorer::Objective> out;
  for (const auto& [metric, minimize] : space.objectives) out.push_back({metric, minimize});
  return out;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int front_of_log(const explorer::DesignSpace& space, const std::string& log) {
  const auto objectives = objectives_of(space);
  std::ifstream in(log);
  if (!in) {
    std::cerr << log << ": cannot open\n";
    return 1;
  }
  explorer::ParetoArchive archive;
  std::uint64_t ok = 0, failed = 0, line_no = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;  // a last line cut short by a kill
    if (j.contains("header")) continue;
    const auto e = explorer::log_entry_from_json(j, log + ":" + std::to_string(line_no));
    if (!e.ok) {
      ++failed;
      continue;
    }
    ++ok;
    archive.add(explorer::minimised(e, objectives));
  }
  std::cout << fmt::format(
      "{}: {} ok points, {} failed; Pareto front {} points; normalised hypervolume {:.4f} "
      "({:.1f} s)\n",
      log, ok, failed, archive.points().size(),
      explorer::normalised_hypervolume(archive.points(), space.hv_lo, space.hv_ref),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

// Enumerates the grid (or its first `limit` points) with `jobs` threads into a streaming
// archive, without a log: the true front in one run on a many-core machine.
int enumerate_front(const explorer::DesignSpace& space, unsigned jobs, std::uint64_t limit) {
  const auto objectives = objectives_of(space);
  const explorer::WorkloadCache workloads(space, 16384);  // every cell fits
  explorer::SweepOptions o;
  const explorer::Sampler sampler(space, o);
  auto indices = explorer::sweep_indices(sampler, o);
  if (limit && limit < indices.size()) indices.resize(limit);
  explorer::ParetoArchive archive;
  std::uint64_t done = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  explorer::run_sweep(space, workloads, sampler, jobs, indices, [&](const explorer::LogEntry& e) {
    ++done;
    if (!e.ok) {
      ++failed;
    } else {
      archive.add(explorer::minimised(e, objectives));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last > std::chrono::seconds(10)) {
      last = now;
      std::cerr << fmt::format("{}/{} points, {:.0f} s, front {}\n", done, indices.size(),
                               std::chrono::duration<double>(now - start).count(),
                               archive.points().size());
    }
  });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format(
      "{}: enumerated {} of {} points ({} failed) in {:.1f} s with {} threads ({:.0f} points/s); "
      "Pareto front {} points; normalised hypervolume {:.4f}\n",
      space.name, done, sampler.size(), failed, wall, jobs, static_cast<double>(done) / wall,
      archive.points().size(),
      explorer::normalised_hypervolume(archive.points(), space.hv_lo, space.hv_ref));
  return 0;
}

}  // namespace

int codesign_bench(const std::vector<std::string>& args, const std::string& root) {
  std::string space_file = root + "/configs/spaces/codesign_nb201_systolic_edge.json";
  std::string csv = "codesign_bench.csv", front_log, algo_filter;
  std::vector<std::uint64_t> budgets = {25, 50, 100};
  unsigned seeds = 20, first_seed = 1, jobs = 1;  // seeds first_seed ... first_seed + seeds - 1
  std::uint64_t limit = 0;
  bool enumerate = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto next = [&] { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (args[i] == "--space") space_file = next();
    else if (args[i] == "--seeds") seeds = static_cast<unsigned>(std::stoul(next()));
    else if (args[i] == "--first-seed") first_seed = static_cast<unsigned>(std::stoul(next()));
    else if (args[i] == "--jobs") jobs = static_cast<unsigned>(std::stoul(next()));
    else if (args[i] == "--csv") csv = next();
    else if (args[i] == "--algos") algo_filter = next();
    else if (args[i] == "--codesign-front") front_log = next();
    else if (args[i] == "--codesign-enumerate") enumerate = true;
    else if (args[i] == "--limit") limit = std::stoull(next());
    else if (args[i] == "--budgets") {
      budgets.clear();
      for (const auto& b : split(next())) budgets.push_back(std::stoull(b));
    }
  }
  const explorer::DesignSpace space = explorer::read_space(space_file);
  if (space.hv_lo.empty()) {
    std::cerr << space_file << ": has no \"hypervolume\" lo/ref to normalise with\n";
    return 1;
  }
  if (!front_log.empty()) return front_of_log(space, front_log);
  if (enumerate) return enumerate_front(space, jobs, limit);

  const auto objectives = objectives_of(space);
  const explorer::WorkloadCache workloads(space, 4096);
  const auto pool = explorer::make_default_pool(space, workloads, jobs);

  const auto wanted = split(algo_filter);
  std::vector<std::string> algos;
  for (const auto& [name, description] : explorer::search_algorithms().list())
    if (wanted.empty() || std::count(wanted.begin(), wanted.end(), name)) algos.push_back(name);
  std::ofstream out(csv);
  out << "algo,seed,budget,evaluations,hypervolume,wall_s\n";
  std::cout << fmt::format("co-design benchmark: {} ({} points), {} seeds, --jobs {}\n",
                           space.name, space.grid_size(), seeds, jobs);
  std::cout << fmt::format("{:<10} {:>6} {:>8} {:>8} {:>8} {:>10}\n", "algorithm", "budget",
                           "median", "q1", "q3", "wall s");
  for (const auto& algo : algos) {
    for (const auto budget : budgets) {
      std::vector<double> hv, wall;
      std::string skipped;
      for (unsigned seed = first_seed; seed < first_seed + seeds && skipped.empty(); ++seed) {
        std::vector<explorer::LogEntry> entries;
        explorer::Evaluations ev(space, *pool, {}, [&](const explorer::LogEntry& e) {
          entries.push_back(e);
        });
        explorer::SearchOptions o;
        o.budget = budget;
        o.seed = seed;
        const auto start = std::chrono::steady_clock::now();
        try {
          explorer::search_algorithms().get(algo)(ev, o);
        } catch (const std::exception& e) {  // an algorithm this space or build cannot run
          skipped = e.what();
          break;
        }
        wall.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        // The first `budget` distinct points proposed (generations may overshoot the budget).
        std::sort(entries.begin(), entries.end(),
                  [](const auto& a, const auto& b) { return a.index < b.index; });
        if (entries.size() > budget) entries.resize(budget);
        for (std::size_t n = 5; n <= entries.size(); n += 5) {
          const std::vector<explorer::LogEntry> prefix(entries.begin(),
                                                       entries.begin() + static_cast<long>(n));
          const double v =
              explorer::normalised_hypervolume(prefix, objectives, space.hv_lo, space.hv_ref);
          out << fmt::format("{},{},{},{},{:.6f},{}\n", algo, seed, budget, n, v,
                             n == entries.size() ? fmt::format("{:.3f}", wall.back()) : "");
        }
        hv.push_back(
            explorer::normalised_hypervolume(entries, objectives, space.hv_lo, space.hv_ref));
        out.flush();
      }
      if (!skipped.empty()) {
        std::cout << fmt::format("{:<10} skipped: {}\n", algo, skipped);
        break;
      }
      std::cout << fmt::format("{:<10} {:>6} {:>8.4f} {:>8.4f} {:>8.4f} {:>10.2f}\n", algo, budget,
                               quantile(hv, 0.5), quantile(hv, 0.25), quantile(hv, 0.75),
                               quantile(wall, 0.5))
                << std::flush;
    }
  }
  std::cout << "runs and convergence: " << csv << "\n";
  return 0;
}
