#include "workloads/compression.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/error.hpp"
#include "common/params.hpp"
#include "workloads/settings.hpp"

namespace tessera::workloads {

namespace {

// A module's kept dimension: the most specific level that gives its rank or a ratio.
struct Choice {
  std::int64_t value;
  const ModuleRanks* from = nullptr;  // null: the full dimension
  bool from_rank = false;
};

}  // namespace

std::vector<double> allocate_ratios(const std::vector<double>& scores, double average, double epsilon,
                                    double cap, const std::string& where) {
  if (scores.empty()) throw InputError(where + "no scores: one per layer is needed");
  if (average > cap)
    throw InputError(where + "the average ratio " + std::to_string(average) + " exceeds the cap " +
                     std::to_string(cap) + ": no allocation keeps it");
  const std::size_t n = scores.size();
  // softmax(-s / epsilon), shifted by the smallest score so that no weight overflows.
  const double lowest = *std::min_element(scores.begin(), scores.end());
  std::vector<double> w(n), ratio(n);
  for (std::size_t l = 0; l < n; ++l) w[l] = std::exp(-(scores[l] - lowest) / epsilon);
  std::vector<bool> capped(n, false);
  for (;;) {
    double budget = static_cast<double>(n) * average, free_weight = 0;
    for (std::size_t l = 0; l < n; ++l) capped[l] ? budget -= cap : free_weight += w[l];
    bool more = false;
    for (std::size_t l = 0; l < n; ++l) {
      if (capped[l]) continue;
      ratio[l] = free_weight > 0 ? budget * w[l] / free_weight : 0.0;
      if (ratio[l] > cap) capped[l] = more = true;
    }
    if (!more) break;
  }
  for (std::size_t l = 0; l < n; ++l)
    if (capped[l]) ratio[l] = cap;
  return ratio;
}

void check_allocation(const ModuleDecomposition& d, std::int64_t layers, const std::string& model) {
  if (!d.allocation || static_cast<std::int64_t>(d.allocation->scores.size()) == layers) return;
  throw InputError(json_location(d.allocation->file, d.allocation->path) +
                   std::to_string(d.allocation->scores.size()) + " scores for " + model + ", which has " +
                   std::to_string(layers) + " layers: give one score per layer, layers.0 first");
}

LayerModules layer_modules(const ModuleDecomposition& d, const std::string& layer,
                           std::int64_t head_dim, std::int64_t intermediate, bool paired_qk) {
  // With an allocation, the top level's ratio is this layer's share ("layers.<i>").
  ModuleRanks top = d.all;
  std::size_t i = 0;
  if (d.allocation && layer.rfind("layers.", 0) == 0 &&
      std::from_chars(layer.data() + 7, layer.data() + layer.size(), i).ec == std::errc{} &&
      i < d.allocation->ratios.size())
    top.ratio = d.allocation->ratios[i];
  std::vector<const ModuleRanks*> levels{&top};
  for (const auto& [pattern, ranks] : d.layers)
    if (glob_match(pattern, layer)) levels.push_back(&ranks);

  const auto choose = [&](std::optional<std::int64_t> ModuleRanks::*rank, std::int64_t full,
                          const char* key, const std::string& what, bool paired) {
    Choice c{full};
    for (const ModuleRanks* l : levels) {
      if (l->*rank) {
        c = {*(l->*rank), l, true};
      } else if (l->ratio) {
        const double kept = (1 - *l->ratio) * static_cast<double>(full);
        std::int64_t v = paired ? 2 * std::llround(kept / 2) : std::llround(kept);
        c = {std::max<std::int64_t>(v, paired ? 2 : 1), l, false};
      }
    }
    if (!c.from_rank) return c.value;
    const std::string at = json_location(c.from->file, c.from->path + "/" + key);
    if (c.value > full)
      throw InputError(at + std::to_string(c.value) + " exceeds the " + what + " " +
                       std::to_string(full) + " of " + layer);
    if (paired && c.value % 2 != 0)
      throw InputError(at + std::to_string(c.value) +
                       " must be even: rotary embeddings rotate pairs of dimensions (" + layer +
                       ")");
    return c.value;
  };
  LayerModules m;
  m.qk_dim = choose(&ModuleRanks::qk_rank, head_dim, "qk_rank", "head dimension",
                    paired_qk && head_dim % 2 == 0);
  m.vo_dim = choose(&ModuleRanks::vo_rank, head_dim, "vo_rank", "head dimension", false);
  m.intermediate = choose(&ModuleRanks::mlp_rank, intermediate, "mlp_rank", "MLP width", false);
  return m;
}

}  // namespace tessera::workloads
