#include "serving/policy.hpp"

#include <algorithm>

namespace tessera::serving {

Registry<Policy>& policies() {
  static Registry<Policy> r = [] {
    Registry<Policy> p("scheduling policy");
    p.add("fcfs", "first come, first served: the earliest arrival",
          {[](const WorkView& w) { return Rank{w.arrival_s, 0}; }});
    p.add("sjf", "shortest job first: the least remaining time alone (then the earliest arrival)",
          {[](const WorkView& w) { return Rank{w.remaining_s, w.arrival_s}; }});
    p.add("edf", "earliest deadline first: arrival + SLO (no SLO: last), then the earliest arrival",
          {[](const WorkView& w) { return Rank{w.deadline_s, w.arrival_s}; }});
    p.add("priority", "the stream's priority (larger first), then the earliest arrival",
          {[](const WorkView& w) { return Rank{-static_cast<double>(w.priority), w.arrival_s}; }});
    // Least slack first, where slack is what is left to the deadline after the work expected to
    // remain given the exit stage reached; work that can no longer meet its deadline goes after
    // work that still can (it is served least-expected-work first among itself).
    p.add("exit_aware",
          "early exits: least slack (deadline - now - expected remaining work given the stage "
          "reached) first; work already past saving goes last, shortest expected first",
          {[](const WorkView& w) {
            const double slack = w.deadline_s - w.now_s - w.expected_remaining_s;
            if (slack < 0) return Rank{1e300, w.expected_remaining_s};
            return Rank{slack, w.arrival_s};
          }});
    return p;
  }();
  return r;
}

}  // namespace tessera::serving
