// Scheduling policies: which waiting work a free unit runs next, and whether a newly waiting
// piece of work may preempt a running one (at a layer boundary, with preemption on). A policy
// ranks work; the lowest rank runs first, ties going to the earlier arrival and then to the
// earlier submitted. One registry (policies()) names them; `tessera list` prints it.
//
// Owns the policy interface and the built-in policies; includes common/ only.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "common/registry.hpp"

namespace tessera::serving {

// What a policy knows of a piece of waiting or running work (one request, or a batch).
struct WorkView {
  double arrival_s = 0;    // its earliest request's arrival
  double deadline_s = 0;   // its earliest deadline (arrival + SLO); infinity without an SLO
  double remaining_s = 0;  // the time its remaining layers take alone on the first unit
  // Early exits: the time its remaining layers take in expectation given the stage reached (the
  // chance of leaving at each later exit); remaining_s without early exits.
  double expected_remaining_s = 0;
  int priority = 0;        // the stream's (larger = more important)
  double now_s = 0;        // the time of the decision
};

// Lexicographic: the first key, then the second.
using Rank = std::pair<double, double>;

struct Policy {
  std::function<Rank(const WorkView&)> rank;
};

// fcfs, sjf, edf, priority, exit_aware.
Registry<Policy>& policies();

}  // namespace tessera::serving
