// BOSHCODE's surrogate in libtorch (explorer/surrogate.hpp): teacher, student and natural-
// parameter network over two input branches, and GOBI with AdaHessian on the inputs. The only
// translation unit of the search loop that sees torch headers.
#include <torch/torch.h>

#include <cmath>

#include "explorer/surrogate.hpp"

namespace tessera::explorer {

namespace {

constexpr std::int64_t kBranchWidth = 32;
// Full-batch steps for the data a search has (a few hundred points at most): per-step overhead,
// not arithmetic, is what costs with networks this small.
constexpr std::int64_t kBatch = 256;
constexpr double kLearningRate = 1e-2, kNpnLearningRate = 5e-3;
constexpr double kMinVariance = 1e-4;  // the NPN's output variance floor: keeps its loss finite

torch::Tensor to_tensor(const Rows& rows, std::size_t columns) {
  auto t = torch::zeros({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(columns)},
                        torch::kDouble);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != columns)
      throw std::invalid_argument("surrogate: a row has " + std::to_string(rows[i].size()) +
                                  " columns, expected " + std::to_string(columns));
    for (std::size_t j = 0; j < columns; ++j)
      a[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)] = rows[i][j];
  }
  return t;
}

Rows to_rows(const torch::Tensor& t) {
  const auto c = t.contiguous();
  auto a = c.accessor<double, 2>();
  Rows rows(static_cast<std::size_t>(c.size(0)));
  for (std::int64_t i = 0; i < c.size(0); ++i)
    for (std::int64_t j = 0; j < c.size(1); ++j) rows[static_cast<std::size_t>(i)].push_back(a[i][j]);
  return rows;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous().to(torch::kDouble);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

torch::nn::Sequential branch(std::int64_t inputs) {
  return torch::nn::Sequential(torch::nn::Linear(inputs, kBranchWidth), torch::nn::Softplus(),
                               torch::nn::Linear(kBranchWidth, kBranchWidth),
                               torch::nn::Softplus());
}

// The network branch and the accelerator branch (either may be absent), concatenated into a head.
struct TwoBranchImpl : torch::nn::Module {
  TwoBranchImpl(std::int64_t network_dim, std::int64_t accelerator_dim,
                const std::function<torch::nn::Sequential(std::int64_t)>& make_head)
      : dn(network_dim), da(accelerator_dim) {
    if (dn) network = register_module("network", branch(dn));
    if (da) accelerator = register_module("accelerator", branch(da));
    head = register_module("head", make_head(kBranchWidth * ((dn ? 1 : 0) + (da ? 1 : 0))));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    std::vector<torch::Tensor> parts;
    if (dn) parts.push_back(network->forward(x.narrow(1, 0, dn)));
    if (da) parts.push_back(accelerator->forward(x.narrow(1, dn, da)));
    return head->forward(torch::cat(parts, 1));
  }
  std::int64_t dn, da;
  torch::nn::Sequential network{nullptr}, accelerator{nullptr}, head{nullptr};
};
TORCH_MODULE(TwoBranch);

// Natural-parameter network layers (Wang, Shi and Yeung, NIPS 2016): each carries a Gaussian's
// mean and variance forward. A linear layer with weight mean M, weight variance S = softplus(S_)
// maps (m, s) to (m M + b, s (S + M^2) + m^2 S + softplus(c_)).
struct NpnLinearImpl : torch::nn::Module {
  NpnLinearImpl(std::int64_t in, std::int64_t out) {
    const double bound = std::sqrt(6.0 / static_cast<double>(in + out));
    w_mean = register_parameter("w_mean", (torch::rand({in, out}) * 2 - 1) * bound);
    const auto w_var = 0.01 * bound * torch::rand({in, out}) + 1e-8;
    w_var_ = register_parameter("w_var_", torch::log(torch::expm1(w_var)));  // softplus inverse
    b_mean = register_parameter("b_mean", torch::zeros({out}));
    b_var_ = register_parameter("b_var_", torch::full({out}, -10.0));
  }
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& m, const torch::Tensor& s) {
    const auto w_var = torch::softplus(w_var_);
    return {torch::mm(m, w_mean) + b_mean,
            torch::mm(s, w_var + w_mean * w_mean) + torch::mm(m * m, w_var) +
                torch::softplus(b_var_)};
  }
  torch::Tensor w_mean, w_var_, b_mean, b_var_;
};
TORCH_MODULE(NpnLinear);

// ReLU of a Gaussian, moment-matched: E[max(0, X)] and Var[max(0, X)] for X ~ N(m, s).
std::pair<torch::Tensor, torch::Tensor> npn_relu(const torch::Tensor& m, const torch::Tensor& s) {
  const auto sd = torch::sqrt(torch::clamp_min(s, 1e-12));
  const auto z = m / sd;
  const auto cdf = 0.5 * torch::erfc(-z / std::sqrt(2.0));
  const auto pdf = torch::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
  const auto mean = cdf * m + sd * pdf;
  const auto var = cdf * (m * m + s) + m * sd * pdf - mean * mean;
  return {mean, torch::clamp_min(var, 1e-12)};
}

struct NpnImpl : torch::nn::Module {
  NpnImpl(std::int64_t network_dim, std::int64_t accelerator_dim, std::int64_t outputs)
      : dn(network_dim), da(accelerator_dim) {
    if (dn) {
      n1 = register_module("n1", NpnLinear(dn, kBranchWidth));
      n2 = register_module("n2", NpnLinear(kBranchWidth, kBranchWidth));
    }
    if (da) {
      a1 = register_module("a1", NpnLinear(da, kBranchWidth));
      a2 = register_module("a2", NpnLinear(kBranchWidth, kBranchWidth));
    }
    h1 = register_module("h1", NpnLinear(kBranchWidth * ((dn ? 1 : 0) + (da ? 1 : 0)),
                                         kBranchWidth));
    h2 = register_module("h2", NpnLinear(kBranchWidth, outputs));
  }
  // Mean and variance per output; inputs are exact (variance 0).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) {
    std::vector<torch::Tensor> ms, ss;
    const auto run = [&](NpnLinear& l1, NpnLinear& l2, const torch::Tensor& in) {
      auto [m, s] = l1->forward(in, torch::zeros_like(in));
      std::tie(m, s) = npn_relu(m, s);
      std::tie(m, s) = l2->forward(m, s);
      std::tie(m, s) = npn_relu(m, s);
      ms.push_back(m);
      ss.push_back(s);
    };
    if (dn) run(n1, n2, x.narrow(1, 0, dn));
    if (da) run(a1, a2, x.narrow(1, dn, da));
    auto [m, s] = h1->forward(torch::cat(ms, 1), torch::cat(ss, 1));
    std::tie(m, s) = npn_relu(m, s);
    std::tie(m, s) = h2->forward(m, s);
    return {m, s + kMinVariance};
  }
  std::int64_t dn, da;
  NpnLinear n1{nullptr}, n2{nullptr}, a1{nullptr}, a2{nullptr}, h1{nullptr}, h2{nullptr};
};
TORCH_MODULE(Npn);

// Minibatch training of `loss(rows)` over `n` rows for `epochs` epochs.
template <typename Loss>
double train(torch::optim::Optimizer& opt, std::int64_t n, unsigned epochs, const Loss& loss) {
  double last = 0;
  for (unsigned e = 0; e < epochs; ++e) {
    const auto order = torch::randperm(n, torch::kLong);
    double total = 0;
    for (std::int64_t first = 0; first < n; first += kBatch) {
      const auto rows = order.narrow(0, first, std::min(kBatch, n - first));
      opt.zero_grad();
      torch::Tensor l = loss(rows);
      l.backward();
      opt.step();
      total += l.item<double>() * static_cast<double>(rows.size(0));
    }
    last = total / static_cast<double>(n);
  }
  return last;
}

class TorchSurrogate final : public Surrogate {
 public:
  explicit TorchSurrogate(const SurrogateOptions& o) : o_(o) {
    if (o.network_dim + o.accelerator_dim == 0 || o.outputs == 0)
      throw std::invalid_argument("surrogate: no inputs or no outputs");
    // Bit-reproducible runs for a seed (the search's proposals depend on them).
    at::set_num_threads(1);
    init();
  }

  double fit(const Rows& x, const Rows& y, const Rows& unlabelled, bool warm_start) override {
    if (x.empty() || x.size() != y.size())
      throw std::invalid_argument("surrogate: fit needs as many targets as inputs, at least one");
    torch::manual_seed(o_.seed * 1000003ULL + fits_++);
    if (!warm_start) init();
    const unsigned epochs = warm_start ? o_.warm_epochs : o_.cold_epochs;
    const auto X = to_tensor(x, dim()), Y = to_tensor(y, o_.outputs);
    const auto n = X.size(0);

    teacher_->train();
    const double mse = train(*teacher_opt_, n, epochs, [&](const torch::Tensor& r) {
      return torch::mse_loss(teacher_->forward(X.index_select(0, r)), Y.index_select(0, r));
    });

    // The student learns the teacher's spread under MC dropout, on the data and beyond it.
    const auto U = unlabelled.empty() ? X : torch::cat({X, to_tensor(unlabelled, dim())});
    torch::Tensor spread;
    {
      torch::NoGradGuard no_grad;
      std::vector<torch::Tensor> samples;
      for (unsigned i = 0; i < std::max(2u, o_.mc_samples); ++i)
        samples.push_back(teacher_->forward(U));
      spread = torch::stack(samples).std(0);
      // The student learns the spread relative to its mean per output: at its own scale the
      // loss's gradients vanish and the student collapses to zero.
      sigma_scale_ = spread.mean(0, true).clamp_min(1e-12);
    }
    student_->train();
    train(*student_opt_, U.size(0), epochs, [&](const torch::Tensor& r) {
      return torch::mse_loss(student_->forward(U.index_select(0, r)),
                             spread.index_select(0, r) / sigma_scale_);
    });

    npn_->train();
    train(*npn_opt_, n, epochs, [&](const torch::Tensor& r) {
      auto [m, s] = npn_->forward(X.index_select(0, r));
      const auto d = m - Y.index_select(0, r);
      return 0.5 * (d * d / s + torch::log(s)).mean();
    });
    return mse;
  }

  std::vector<Prediction> predict(const Rows& x) override {
    torch::NoGradGuard no_grad;
    eval();
    const auto X = to_tensor(x, dim());
    const auto mean = teacher_->forward(X), ep = epistemic(X);
    const auto al = torch::sqrt(npn_->forward(X).second);
    std::vector<Prediction> out;
    for (std::int64_t i = 0; i < X.size(0); ++i)
      out.push_back({to_vector(mean[i]), to_vector(ep[i]), to_vector(al[i])});
    return out;
  }

  std::vector<double> acquisition(const Rows& x, const Acquisition& a) override {
    torch::NoGradGuard no_grad;
    eval();
    return to_vector(acquire(to_tensor(x, dim()), a));
  }

  GobiResult optimise(const Rows& starts, const Acquisition& a, const GobiOptions& o) override {
    eval();
    torch::manual_seed(o_.seed * 1000003ULL + 500000ULL + gobi_runs_++);
    auto x = to_tensor(starts, dim());
    const auto lower = to_tensor({o.lower}, dim()), upper = to_tensor({o.upper}, dim());
    x = torch::max(torch::min(x, upper), lower).requires_grad_(true);
    auto m = torch::zeros_like(x), v = torch::zeros_like(x);
    GobiResult out;
    torch::Tensor z_old;
    unsigned calm = 0;
    for (unsigned step = 1; step <= o.max_steps; ++step) {
      const auto z = acquire(x, a);
      if (step == 1) out.start_value = to_vector(z.detach());
      const auto g = torch::autograd::grad({z.sum()}, {x}, {}, true, true)[0];
      // Hutchinson: E[v * (H v)] is diag(H); |H v| is AdaHessian's estimate of |diag(H)|.
      const auto r = torch::randint(0, 2, x.sizes(), torch::kDouble) * 2 - 1;
      const auto hv = torch::autograd::grad({g}, {x}, {r}, false, false)[0];
      {
        torch::NoGradGuard no_grad;
        m = o.beta1 * m + (1 - o.beta1) * g.detach();
        v = o.beta2 * v + (1 - o.beta2) * hv * hv;
        const double c1 = 1 - std::pow(o.beta1, step), c2 = 1 - std::pow(o.beta2, step);
        x -= o.lr * (m / c1) / (torch::sqrt(v / c2) + o.eps);
        x.copy_(torch::max(torch::min(x, upper), lower));
      }
      const auto zd = z.detach();
      calm = (z_old.defined() && (zd - z_old).abs().max().item<double>() < o.tolerance) ? calm + 1
                                                                                         : 0;
      z_old = zd;
      if (calm >= 5) break;
    }
    const auto xd = x.detach();
    {
      torch::NoGradGuard no_grad;
      out.end_value = to_vector(acquire(xd, a));
    }
    out.inputs = to_rows(xd);
    return out;
  }

 private:
  std::size_t dim() const { return o_.network_dim + o_.accelerator_dim; }

  void init() {
    const auto dn = static_cast<std::int64_t>(o_.network_dim);
    const auto da = static_cast<std::int64_t>(o_.accelerator_dim);
    const auto outputs = static_cast<std::int64_t>(o_.outputs);
    const double p = o_.dropout;
    torch::manual_seed(o_.seed * 1000003ULL + 999999ULL + inits_++);
    teacher_ = TwoBranch(dn, da, [&](std::int64_t in) {
      return torch::nn::Sequential(
          torch::nn::Linear(in, 64), torch::nn::Softplus(), torch::nn::Dropout(p),
          torch::nn::Linear(64, 32), torch::nn::Softplus(), torch::nn::Dropout(p),
          torch::nn::Linear(32, outputs));
    });
    student_ = TwoBranch(dn, da, [&](std::int64_t in) {
      return torch::nn::Sequential(torch::nn::Linear(in, 32), torch::nn::Softplus(),
                                   torch::nn::Linear(32, outputs), torch::nn::Softplus());
    });
    npn_ = Npn(dn, da, outputs);
    teacher_->to(torch::kDouble);
    student_->to(torch::kDouble);
    npn_->to(torch::kDouble);
    const auto adamw = [](torch::nn::Module& mod, double lr) {
      return std::make_unique<torch::optim::AdamW>(
          mod.parameters(), torch::optim::AdamWOptions(lr).weight_decay(1e-4));
    };
    teacher_opt_ = adamw(*teacher_, kLearningRate);
    student_opt_ = adamw(*student_, kLearningRate);
    npn_opt_ = adamw(*npn_, kNpnLearningRate);
  }

  torch::Tensor epistemic(const torch::Tensor& x) { return student_->forward(x) * sigma_scale_; }

  void eval() {
    teacher_->eval();
    student_->eval();
    npn_->eval();
  }

  torch::Tensor acquire(const torch::Tensor& x, const Acquisition& a) {
    auto sigma = epistemic(x);
    if (a.aleatoric) sigma = sigma + torch::sqrt(npn_->forward(x).second);
    const auto lcb = teacher_->forward(x) - a.k * sigma;
    const auto w = to_tensor(a.weights, o_.outputs);
    if (w.size(0) != x.size(0))
      throw std::invalid_argument("surrogate: one acquisition weight vector per input needed");
    const auto wl = w * lcb;
    return std::get<0>(wl.max(1)) + a.rho * wl.sum(1);
  }

  SurrogateOptions o_;
  std::uint64_t fits_ = 0, gobi_runs_ = 0, inits_ = 0;
  TwoBranch teacher_{nullptr}, student_{nullptr};
  Npn npn_{nullptr};
  torch::Tensor sigma_scale_ = torch::ones({1}, torch::kDouble);  // the student's unit
  std::unique_ptr<torch::optim::AdamW> teacher_opt_, student_opt_, npn_opt_;
};

}  // namespace

}  // namespace tessera::explorer

extern "C" tessera::explorer::Surrogate* tessera_make_surrogate(
    const tessera::explorer::SurrogateOptions* options) {
  return new tessera::explorer::TorchSurrogate(*options);
}
