#include "explorer/nasaic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>

#include "common/error.hpp"
#include "explorer/controller.hpp"
#include "explorer/torch_models.hpp"

namespace tessera::explorer {

std::unique_ptr<Controller> make_controller(const ControllerSettings& settings) {
  auto make = reinterpret_cast<MakeControllerFn>(torch_models_symbol("tessera_make_controller"));
  const char* error = nullptr;
  std::unique_ptr<Controller> c(make(&settings, &error));
  if (!c) throw InputError(std::string("controller: ") + (error ? error : "not built"));
  return c;
}

namespace {

bool accuracy_like(const std::string& metric) {
  return metric.find("accuracy") != std::string::npos || metric.find("error") != std::string::npos;
}

}  // namespace

std::vector<std::size_t> nasaic_reward_objectives(const DesignSpace& space) {
  std::vector<std::size_t> accuracy, all;
  for (std::size_t k = 0; k < space.objectives.size(); ++k) {
    all.push_back(k);
    if (accuracy_like(space.objectives[k].first)) accuracy.push_back(k);
  }
  return accuracy.empty() ? all : accuracy;
}

std::optional<double> spec_violation(const LogEntry& e) {
  // check_constraints writes "infeasible: TEXT violated (LEFT > RIGHT)" or "... (LEFT < RIGHT)".
  if (e.ok || e.error.rfind("infeasible: ", 0) != 0) return std::nullopt;
  const auto open = e.error.rfind('('), close = e.error.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  const std::string inside = e.error.substr(open + 1, close - open - 1);
  auto op = inside.find(" > ");
  if (op == std::string::npos) op = inside.find(" < ");
  if (op == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const std::string left_text = inside.substr(0, op), right_text = inside.substr(op + 3);
  const double left = std::strtod(left_text.c_str(), &end);
  if (end == left_text.c_str()) return std::nullopt;
  const double right = std::strtod(right_text.c_str(), &end);
  if (end == right_text.c_str()) return std::nullopt;
  const double gap = std::abs(left - right);
  if (!std::isfinite(gap)) return std::numeric_limits<double>::infinity();
  return right != 0 ? gap / std::abs(right) : gap;
}

NasaicReward::NasaicReward(const DesignSpace& space)
    : space_(space), objectives_(nasaic_reward_objectives(space)) {
  for (std::size_t k : objectives_) log_scale_.push_back(!accuracy_like(space.objectives[k].first));
  lo_.assign(objectives_.size(), 0);
  hi_.assign(objectives_.size(), 0);
}

double NasaicReward::value(const LogEntry& e, std::size_t j) const {
  const auto& [metric, minimize] = space_.objectives[objectives_[j]];
  const auto m = e.metrics.find(metric);
  if (m == e.metrics.end())
    throw InputError(space_.file + ": objective '" + metric + "' is not a logged metric");
  // Hardware metrics span decades: their ratios, not differences, are what matters.
  const double v = log_scale_[j] ? std::log(std::max(m->second, 1e-300)) : m->second;
  return minimize ? -v : v;
}

std::vector<double> NasaicReward::operator()(const std::vector<const LogEntry*>& batch) {
  for (const LogEntry* e : batch) {
    if (!e->ok) continue;
    for (std::size_t j = 0; j < objectives_.size(); ++j) {
      const double v = value(*e, j);
      lo_[j] = seen_ ? std::min(lo_[j], v) : v;
      hi_[j] = seen_ ? std::max(hi_[j], v) : v;
    }
    seen_ = true;
  }
  std::vector<double> rewards;
  for (const LogEntry* e : batch) {
    if (!e->ok) {
      const auto v = spec_violation(*e);
      rewards.push_back(v ? -(1 + std::min(*v, 1.0)) : -2.0);
      continue;
    }
    double sum = 0;
    for (std::size_t j = 0; j < objectives_.size(); ++j)
      sum += hi_[j] > lo_[j] ? (value(*e, j) - lo_[j]) / (hi_[j] - lo_[j]) : 1.0;
    rewards.push_back(sum / static_cast<double>(objectives_.size()));
  }
  return rewards;
}

void nasaic_search(Evaluations& ev, const SearchOptions& o) {
  const DesignSpace& space = ev.space();
  if (space.objectives.empty()) throw InputError(space.file + ": nasaic needs an objective");
  ControllerSettings settings;
  for (const auto& p : space.parameters) settings.choices.push_back(p.values.size());
  settings.seed = o.seed;
  const auto controller = make_controller(settings);
  const std::uint64_t batch = o.population ? o.population : 8;
  NasaicReward reward(space);
  // Each episode's sampling seed comes from the run's seed and the episode alone.
  std::seed_seq seq{o.seed, 0x6e617361u};
  std::vector<std::uint32_t> base(2);
  seq.generate(base.begin(), base.end());
  for (std::uint64_t first = 0, episode = 0; first < o.budget; first += batch, ++episode) {
    const auto sample =
        controller->sample(batch, (std::uint64_t{base[0]} << 32 | base[1]) + episode);
    std::vector<nlohmann::json> points;
    for (const auto& row : sample.choices) {
      std::vector<double> u;
      for (std::size_t i = 0; i < row.size(); ++i)
        u.push_back((static_cast<double>(row[i]) + 0.5) /
                    static_cast<double>(space.parameters[i].values.size()));
      points.push_back(space.unit_point(u));
    }
    controller->reinforce(sample.choices, reward(ev.get_batch(points)));
  }
}

}  // namespace tessera::explorer
