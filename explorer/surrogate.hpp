// BOSHCODE's surrogate model (docs/explorer.md, "BOSHCODE"): the interface between the search
// loop (explorer/boshcode.cpp) and its libtorch implementation (explorer/torch/surrogate.cpp,
// in the module that explorer/torch_models.hpp loads). Plain data only: inputs are embeddings,
// one row per design, the network branch's columns first, then the accelerator branch's.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace tessera::explorer {

using Rows = std::vector<std::vector<double>>;

struct SurrogateOptions {
  std::size_t network_dim = 0;      // leading columns of an input row (0: no network branch)
  std::size_t accelerator_dim = 0;  // the remaining columns (0: no accelerator branch)
  std::size_t outputs = 1;          // objectives predicted together
  unsigned seed = 1;
  unsigned cold_epochs = 400;  // training from freshly initialised weights
  unsigned warm_epochs = 100;  // training warm-started from the previous fit
  unsigned mc_samples = 10;    // teacher forward passes with dropout, for the student's target
  double dropout = 0.3;
};

// Per input row and output: the teacher's mean, the student's epistemic sigma (the spread of
// the teacher under MC dropout) and the natural-parameter network's aleatoric sigma.
struct Prediction {
  std::vector<double> mean, epistemic, aleatoric;
};

// The acquisition GOBI minimises for each start: an augmented Chebyshev scalarisation of the
// per-output lower confidence bounds l_j = mean_j - k * sigma_j,
//   a(x) = max_j w_j l_j + rho * sum_j w_j l_j,
// where sigma is the epistemic sigma, plus the aleatoric one when `aleatoric` is set. With one
// output and w = 1 it is mean - k * sigma (BOSHNAS's UCB for minimisation).
struct Acquisition {
  double k = 0.5;
  double rho = 0.05;
  bool aleatoric = false;
  Rows weights;  // one weight vector (size outputs) per start
};

// AdaHessian on the inputs (Yao et al., AAAI 2021): the gradient's running mean over the running
// root mean square of a Hutchinson estimate of the Hessian's diagonal (|H v|, v Rademacher, one
// double backward per step), bias-corrected, Hessian power 1.
struct GobiOptions {
  double lr = 0.1;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-4;
  unsigned max_steps = 50;
  double tolerance = 1e-5;  // stop a run after 5 steps whose acquisition changed less than this
  std::vector<double> lower, upper;  // per input column; the inputs are clipped to them each step
};

struct GobiResult {
  Rows inputs;                           // per start, the optimised input
  std::vector<double> start_value, end_value;  // the acquisition at the start and at the end
};

class Surrogate {
 public:
  virtual ~Surrogate() = default;
  // Trains on `x` (rows of network_dim + accelerator_dim) and targets `y` (rows of `outputs`,
  // ideally about unit scale). The student learns the teacher's dropout spread on `x` and on
  // `unlabelled` (inputs without targets, e.g. random designs), so that its sigma is taught away
  // from the data too. warm_start: continue from the current weights (warm_epochs) instead of
  // fresh ones (cold_epochs). Returns the teacher's final training mean squared error.
  virtual double fit(const Rows& x, const Rows& y, const Rows& unlabelled, bool warm_start) = 0;
  virtual std::vector<Prediction> predict(const Rows& x) = 0;
  // The acquisition's value at each row, with acquisition.weights[i] for row i.
  virtual std::vector<double> acquisition(const Rows& x, const Acquisition& a) = 0;
  // GOBI: minimises the acquisition from each start (a.weights[i] for starts[i]).
  virtual GobiResult optimise(const Rows& starts, const Acquisition& a, const GobiOptions& o) = 0;
};

// The module's factory (explorer/torch/surrogate.cpp): extern "C" so that it is found by name.
using MakeSurrogate = Surrogate* (*)(const SurrogateOptions*);
inline constexpr const char* kMakeSurrogateSymbol = "tessera_make_surrogate";

// A surrogate from the libtorch module; UnsupportedError when the module is not available.
std::unique_ptr<Surrogate> make_surrogate(const SurrogateOptions& options);

}  // namespace tessera::explorer
