// NASAIC's policy: an RNN that samples a sequence of categorical decisions (one per design-space
// parameter, each with its own number of choices) and learns from rewards by REINFORCE, as in
// NAS-RL (Zoph & Le) and NASAIC (Yang et al., DAC 2020). The implementation is libtorch's
// (explorer/torch/controller.cpp, in the models module); this interface is plain data so that
// tessera_explorer does not include torch headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera::explorer {

struct ControllerSettings {
  std::vector<std::size_t> choices;  // per decision, in order; each >= 1
  std::uint64_t seed = 1;            // initial weights
  std::size_t hidden = 32;           // LSTM cell state
  std::size_t embedding = 16;        // per-decision embedding of the previous choice
  double learning_rate = 0.02;       // Adam
  double baseline_decay = 0.9;       // moving average of the batch's mean reward
  double entropy_weight = 1e-3;      // bonus on the policy's entropy, against early collapse
};

// Choices of a batch: batch-major, one row per sample, one entry per decision.
using Choices = std::vector<std::vector<std::size_t>>;

struct ControllerSample {
  Choices choices;
  std::vector<double> log_probs;  // of each row under the policy that sampled it
};

class Controller {
 public:
  virtual ~Controller() = default;
  // `batch` sequences drawn from the current policy with a generator seeded by `seed` alone:
  // the same weights and seed give the same choices.
  virtual ControllerSample sample(std::size_t batch, std::uint64_t seed) = 0;
  // One REINFORCE step (Adam) on rows with their rewards: loss = -mean((r - b) log p) -
  // entropy_weight * mean(entropy), b the moving-average baseline (the batch mean on the first
  // step), then b moves towards the batch's mean reward.
  virtual void reinforce(const Choices& choices, const std::vector<double>& rewards) = 0;
  // Log-probability of one sequence under the current policy.
  virtual double log_prob(const std::vector<std::size_t>& choices) = 0;
  virtual double baseline() const = 0;
};

// The module's factory, exported as extern "C" `tessera_make_controller`; returns a new
// controller (the caller owns it) or nullptr with `error` set (bad settings).
using MakeControllerFn = Controller* (*)(const ControllerSettings* settings, const char** error);

// Loads the libtorch models module on first use (explorer/torch_models.hpp) and builds a
// controller. Throws UnsupportedError when the module is absent, InputError for bad settings.
std::unique_ptr<Controller> make_controller(const ControllerSettings& settings);

}  // namespace tessera::explorer
