// Speed of multi-DNN scheduling runs (serving/multi_dnn.hpp): a 1,000-request Dysta scenario
// under the six policies of the paper's comparison (FCFS, SJF, PREMA, Planaria, SDRM3, Dysta)
// and five seeds, 30 runs in all, against the goal of 2 s for all of them (issue #27). Wall time,
// the best of three (the machine is shared); each policy's share beside FCFS's in the same run.
//
//   tessera_bench --multi-dnn [SCENARIO [REQUESTS]]
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "serving/multi_dnn.hpp"

int multi_dnn_bench(const std::string& scenario_file, long requests) {
  using clock = std::chrono::steady_clock;
  const std::vector<std::string> policies = {"fcfs", "sjf", "prema", "planaria", "sdrm3", "dysta"};
  std::vector<tessera::serving::MultiDnnScenario> scenarios;
  const auto load0 = clock::now();
  for (int seed = 1; seed <= 5; ++seed)
    scenarios.push_back(tessera::serving::load_multi_dnn_scenario(
        scenario_file, {"requests=" + std::to_string(requests), "seed=" + std::to_string(seed)}));
  const double load_s = std::chrono::duration<double>(clock::now() - load0).count();
  std::map<std::string, double> best;
  std::map<std::string, std::int64_t> decisions;
  double total = 1e300;
  for (int rep = 0; rep < 3; ++rep) {
    double sum = 0;
    for (const auto& p : policies) {
      const auto t0 = clock::now();
      std::int64_t d = 0;
      for (const auto& s : scenarios) d += tessera::serving::run_multi_dnn(s, p).decisions;
      const double t = std::chrono::duration<double>(clock::now() - t0).count();
      best[p] = rep == 0 ? t : std::min(best[p], t);
      decisions[p] = d;
      sum += t;
    }
    total = std::min(total, sum);
  }
  std::cout << fmt::format(
      "multi-DNN: {} ({} requests x {} policies x 5 seeds; loading {:.3f} s)\n", scenario_file,
      requests, policies.size(), load_s);
  for (const auto& p : policies)
    std::cout << fmt::format("  {:<9} {:>9.4f} s  {:>9} decisions  {:>6.2f}x fcfs\n", p, best[p],
                             decisions[p], best[p] / best["fcfs"]);
  std::cout << fmt::format("all 30 runs: {:.3f} s ({:.2f}x under the goal of 2 s)\n", total,
                           2 / total);
  return 0;
}
