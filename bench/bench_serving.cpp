// Speed of a serving run (serving/serve.hpp) at analytical fidelity with stage costs memoised:
// simulated requests per minute of wall and CPU time (the best of three: the machine is shared),
// against the goal of one million requests per minute on one core (issue #26).
//
//   tessera_bench --serve [SCENARIO [REQUESTS]]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "serving/scenario.hpp"
#include "serving/serve.hpp"

int serving_bench(const std::string& scenario_file, long requests) {
  const auto scenario = tessera::serving::load_scenario(
      scenario_file, {"requests=" + std::to_string(requests), "fidelity=\"analytical\""});
  double wall = 1e300, cpu = 1e300;
  tessera::serving::ServingReport r;
  for (int rep = 0; rep < 3; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    r = tessera::serving::serve(scenario);
    cpu = std::min(cpu, static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    wall = std::min(wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double n = static_cast<double>(r.summary.requests);
  std::cout << fmt::format(
      "serving: {} ({} requests, policy {}, batching {}, {} stage costs, {} events)\n"
      "wall {:.3f} s, cpu {:.3f} s: {:.3g} requests per minute of CPU time ({:.2f}x the goal of 1e6)\n",
      scenario_file, r.summary.requests, r.policy, r.batching, r.stage_costs, r.events, wall, cpu,
      60 * n / cpu, 60 * n / cpu / 1e6);
  return 0;
}
