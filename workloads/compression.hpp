// Structured compression of transformer layers after MoDeGPT (Lin et al., "MoDeGPT: Modular
// Decomposition for Large Language Model Compression", ICLR 2025): each layer's three modules
// keep a smaller inner dimension, so the graph gets smaller shapes and no extra operators:
//   key-query  (W_Q, W_K jointly, CR decomposition): the per-head dimension of Q and K;
//   value-output (W_V, W_O jointly, SVD): the per-head dimension of V and of O's input;
//   MLP (Nyström selection of intermediate channels): the intermediate size.
// The setting is the workload key "modegpt" (workloads/settings.hpp); the transformer front-end
// builds the reduced shapes (workloads/transformer.cpp). docs/transformers.md, "Compressed models".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::workloads {

// What one level of the setting gives; absent fields leave the level below in force.
struct ModuleRanks {
  // Fraction of each module's inner dimension (and so of its parameters) removed, in [0, 1).
  std::optional<double> ratio;
  // Kept dimensions: per head for qk and vo, channels for the MLP. A rank wins over a ratio of
  // the same level.
  std::optional<std::int64_t> qk_rank, vo_rank, mlp_rank;
  std::string file, path;  // where the object is, for messages
  bool operator==(const ModuleRanks&) const = default;
};

// MoDeGPT's global allocation of the compression ratio across layers (the paper's "global
// sparsity allocation"): from per-layer importance scores s_l (Block Influence, 1 - the cosine
// similarity of a layer's input and output hidden states, from calibration data), layer l removes
//   ratio_l = L · average · softmax(-s / epsilon)_l
// (less important layers, of lower scores, lose more), capped at `cap`: the budget a capped layer
// cannot take goes to the others in proportion to their softmax weights until none exceeds the
// cap, so the mean stays `average`. The cap and its redistribution follow the reimplementation
// github.com/cbacary/MoDeGPT (src/compression_utils.py, allocate_global_sparsity; its default cap
// 0.8). Throws InputError prefixed with `where` for an average above the cap or no scores.
std::vector<double> allocate_ratios(const std::vector<double>& scores, double average, double epsilon,
                                    double cap, const std::string& where);

struct RatioAllocation {
  std::vector<double> scores;  // per layer, layers.0 first
  double epsilon = 0, cap = 0.8;
  std::vector<double> ratios;  // allocate_ratios of the top-level ratio
  std::string file, path;      // where the setting is, for messages
  bool operator==(const RatioAllocation&) const = default;
};

struct ModuleDecomposition {
  ModuleRanks all;  // the top-level keys: every layer
  // With an allocation, layer i's top-level ratio is allocation->ratios[i] (its ranks still win).
  std::optional<RatioAllocation> allocation;
  // Glob over layer names ("layers.<i>") -> ranks, from the least to the most specific (fewest
  // to most literal characters), as the annotations' `layers` patterns.
  std::vector<std::pair<std::string, ModuleRanks>> layers;
  bool operator==(const ModuleDecomposition&) const = default;
};

// One layer's inner dimensions after decomposition.
struct LayerModules {
  std::int64_t qk_dim = 0;        // per-head dimension of Q and K
  std::int64_t vo_dim = 0;        // per-head dimension of V (and O's input)
  std::int64_t intermediate = 0;  // MLP width
};

// The dimensions of layer `layer` ("layers.<i>") of a model with per-head dimension `head_dim`
// and MLP width `intermediate`. With `paired_qk` (rotary embeddings rotate pairs of dimensions)
// the qk dimension is even: a ratio rounds to an even number, an odd rank is an error. A ratio
// keeps max(1, round((1 - ratio) · full)) (2 for paired qk). Throws InputError naming the
// setting for a rank above the full dimension.
LayerModules layer_modules(const ModuleDecomposition& d, const std::string& layer,
                           std::int64_t head_dim, std::int64_t intermediate, bool paired_qk);

// Throws InputError naming the setting when an allocation's scores are not one per layer of a
// model of `layers` layers.
void check_allocation(const ModuleDecomposition& d, std::int64_t layers, const std::string& model);

}  // namespace tessera::workloads
