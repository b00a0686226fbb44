// NASAIC (Yang et al., "Co-Exploration of Neural Architectures and Heterogeneous ASIC
// Accelerator Designs Targeting Multiple Tasks", DAC 2020) as a search algorithm: an RNN
// controller (explorer/controller.hpp) samples every parameter of a point (networks and
// sub-accelerators alike), episodes of points are evaluated as one batch, and REINFORCE learns
// from a reward that is the weighted accuracy of a feasible point and a penalty, graded by how
// far the broken spec is exceeded, for a point that violates one. The evaluator checks specs
// first, so a violating point never consults the accuracy oracle (early pruning).
// docs/explorer.md#nasaic says how the reward is scaled.
#pragma once

#include <optional>
#include <vector>

#include "explorer/search.hpp"

namespace tessera::explorer {

// The objectives NASAIC rewards (indices into space.objectives): those whose metric names
// accuracy or error when there are any, else all of them.
std::vector<std::size_t> nasaic_reward_objectives(const DesignSpace& space);

// How far a failed entry breaks the spec its error names ("infeasible: C violated (L > R)"):
// |L - R| / |R| (|L - R| when R is 0); nullopt when it failed for another reason.
std::optional<double> spec_violation(const LogEntry& e);

// Turns entries into rewards. Feasible: the mean over the reward objectives of each value scaled
// to [0, 1] over the feasible points seen so far (higher better; positive hardware metrics on a
// log scale), so an accuracy objective keeps its order and spacing. Infeasible: -(1 + min(v, 1))
// for a spec broken by v, -2 for a point that failed otherwise. Depends only on the entries seen,
// in order, so a replayed run gets the same rewards.
class NasaicReward {
 public:
  explicit NasaicReward(const DesignSpace& space);
  std::vector<double> operator()(const std::vector<const LogEntry*>& batch);

 private:
  double value(const LogEntry& e, std::size_t k) const;  // oriented, higher better
  const DesignSpace& space_;
  std::vector<std::size_t> objectives_;
  std::vector<bool> log_scale_;
  std::vector<double> lo_, hi_;
  bool seen_ = false;
};

// Registered as "nasaic": episodes of `population` points (default 8) until the budget.
void nasaic_search(Evaluations& evaluations, const SearchOptions& options);

}  // namespace tessera::explorer
