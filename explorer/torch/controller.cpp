// NASAIC's RNN controller in libtorch (explorer/controller.hpp): an LSTM cell run once per
// decision; its input is a learned start vector, then the embedding of the previous choice; each
// decision has its own softmax head. Weights start uniform in [-0.1, 0.1] (as ENAS's controller)
// from a generator of the seed's own, sampling uses a generator seeded per call, and torch runs
// on one thread, so a seed fixes every choice and every update.
#include "explorer/controller.hpp"

#include <string>

#include <torch/torch.h>

namespace {

using tessera::explorer::Choices;
using tessera::explorer::ControllerSample;
using tessera::explorer::ControllerSettings;

struct Policy : torch::nn::Module {
  torch::Tensor start;
  torch::nn::LSTMCell cell{nullptr};
  std::vector<torch::nn::Linear> heads;
  std::vector<torch::nn::Embedding> embeddings;

  explicit Policy(const ControllerSettings& s) {
    const auto hidden = static_cast<std::int64_t>(s.hidden);
    const auto embedding = static_cast<std::int64_t>(s.embedding);
    start = register_parameter("start", torch::zeros({1, embedding}));
    cell = register_module("cell", torch::nn::LSTMCell(embedding, hidden));
    for (std::size_t i = 0; i < s.choices.size(); ++i) {
      const auto n = static_cast<std::int64_t>(s.choices[i]);
      heads.push_back(register_module("head" + std::to_string(i), torch::nn::Linear(hidden, n)));
      embeddings.push_back(
          register_module("embed" + std::to_string(i), torch::nn::Embedding(n, embedding)));
    }
  }

  struct Pass {
    torch::Tensor choices;   // [batch, decisions], int64
    torch::Tensor log_prob;  // [batch]
    torch::Tensor entropy;   // [batch]
  };

  // Samples with `generator` when `given` is undefined, else scores the given choices.
  Pass run(std::int64_t batch, const torch::Tensor& given, at::Generator* generator) {
    torch::Tensor h = torch::zeros({batch, cell->options.hidden_size()});
    torch::Tensor c = torch::zeros_like(h);
    torch::Tensor x = start.expand({batch, start.size(1)});
    std::vector<torch::Tensor> picked;
    torch::Tensor log_prob = torch::zeros({batch}), entropy = torch::zeros({batch});
    for (std::size_t i = 0; i < heads.size(); ++i) {
      std::tie(h, c) = cell(x, std::make_tuple(h, c));
      const torch::Tensor logp = torch::log_softmax(heads[i](h), 1);
      torch::Tensor choice;
      if (given.defined()) {
        choice = given.select(1, static_cast<std::int64_t>(i));
      } else {
        torch::NoGradGuard no_grad;
        choice = torch::multinomial(logp.exp(), 1, true, *generator).squeeze(1);
      }
      log_prob = log_prob + logp.gather(1, choice.unsqueeze(1)).squeeze(1);
      entropy = entropy - (logp.exp() * logp).sum(1);
      picked.push_back(choice);
      x = embeddings[i](choice);
    }
    return {torch::stack(picked, 1), log_prob, entropy};
  }
};

class TorchController final : public tessera::explorer::Controller {
 public:
  explicit TorchController(const ControllerSettings& s)
      : settings_(s),
        policy_(std::make_shared<Policy>(s)),
        adam_(policy_->parameters(), torch::optim::AdamOptions(s.learning_rate)) {
    auto init = at::make_generator<at::CPUGeneratorImpl>(s.seed);
    torch::NoGradGuard no_grad;
    for (auto& p : policy_->parameters()) p.uniform_(-0.1, 0.1, init);
  }

  ControllerSample sample(std::size_t batch, std::uint64_t seed) override {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    torch::NoGradGuard no_grad;
    const Pass pass = policy_->run(static_cast<std::int64_t>(batch), {}, &generator);
    ControllerSample out;
    const auto choices = pass.choices.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < pass.choices.size(0); ++b) {
      auto& row = out.choices.emplace_back();
      for (std::int64_t i = 0; i < pass.choices.size(1); ++i)
        row.push_back(static_cast<std::size_t>(choices[b][i]));
      out.log_probs.push_back(pass.log_prob[b].item<double>());
    }
    return out;
  }

  void reinforce(const Choices& choices, const std::vector<double>& rewards) override {
    if (choices.empty()) return;
    double mean = 0;
    for (double r : rewards) mean += r;
    mean /= static_cast<double>(rewards.size());
    if (!has_baseline_) baseline_ = mean, has_baseline_ = true;
    std::vector<float> advantage;
    for (double r : rewards) advantage.push_back(static_cast<float>(r - baseline_));
    const Pass pass =
        policy_->run(static_cast<std::int64_t>(choices.size()), tensor(choices), nullptr);
    const torch::Tensor loss = -(torch::tensor(advantage) * pass.log_prob).mean() -
                               settings_.entropy_weight * pass.entropy.mean();
    adam_.zero_grad();
    loss.backward();
    adam_.step();
    baseline_ = settings_.baseline_decay * baseline_ + (1 - settings_.baseline_decay) * mean;
  }

  double log_prob(const std::vector<std::size_t>& choices) override {
    torch::NoGradGuard no_grad;
    return policy_->run(1, tensor({choices}), nullptr).log_prob[0].item<double>();
  }

  double baseline() const override { return baseline_; }

 private:
  using Pass = Policy::Pass;

  torch::Tensor tensor(const Choices& choices) const {
    std::vector<std::int64_t> flat;
    for (const auto& row : choices)
      for (std::size_t c : row) flat.push_back(static_cast<std::int64_t>(c));
    return torch::tensor(flat).reshape({static_cast<std::int64_t>(choices.size()),
                                        static_cast<std::int64_t>(settings_.choices.size())});
  }

  ControllerSettings settings_;
  std::shared_ptr<Policy> policy_;
  torch::optim::Adam adam_;
  double baseline_ = 0;
  bool has_baseline_ = false;
};

}  // namespace

extern "C" tessera::explorer::Controller* tessera_make_controller(
    const ControllerSettings* settings, const char** error) {
  static thread_local std::string message;
  try {
    if (settings->choices.empty()) throw std::invalid_argument("the controller has no decisions");
    for (std::size_t n : settings->choices)
      if (n == 0) throw std::invalid_argument("a decision has no choices");
    if (settings->hidden == 0 || settings->embedding == 0)
      throw std::invalid_argument("hidden and embedding sizes must be positive");
    at::set_num_threads(1);  // one thread: reproducible sums, and the evaluator pool owns cores
    return new TorchController(*settings);
  } catch (const std::exception& e) {
    message = e.what();
    *error = message.c_str();
    return nullptr;
  }
}
