#include "workloads/compression.hpp"

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

LayerModules layer_modules(const ModuleDecomposition& d, const std::string& layer,
                           std::int64_t head_dim, std::int64_t intermediate, bool paired_qk) {
  std::vector<const ModuleRanks*> levels{&d.all};
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
