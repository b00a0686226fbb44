// Per-lane work of a layer on the sparse engine, counted from its masks (arch/sparse/sparse.hpp
// describes the lanes and tiles).
//
// A lane computes one filter at `T` consecutive output positions (a chunk: positions
// [i·T, (i+1)·T) in (image, oh, ow) order), whatever the PE count, so everything the masks say
// about a layer's tiles is per (filter, chunk):
//   effectual  the taps where input and weight are both non-zero, summed over the chunk;
//   active     the non-zero inputs of the chunk's windows (activations skipped), per group;
//   filter_nnz the filter's non-zero weights (weights skipped).
// MaskCounts holds them; lane_work groups them into tiles for a PE count (lanes over filters and
// chunks) and applies what the cycles and the energy skip. Counting works on channel-packed bit
// sets: a chunk's inputs per tap are summed into bit-sliced counters (a 0..T count per channel in
// bit_width(T) words), so a lane is taps × words × bit_width(T) AND-popcounts instead of
// T × taps × words. Counts are cached per (masks, shape, T) for the process (count_cached), so
// planning the same masks again (another PE count, another format) costs only the grouping.
//
// lane_work_reference counts the same figures element by element from the byte masks, the
// definition the packed counts are tested against.
//
// Owns no engine state; may include arch/sparse/masks.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/sparse/masks.hpp"

namespace tessera::arch::sparse {

struct MaskCounts {
  i64 groups = 1, kg = 1;
  u64 positions = 0, T = 1, chunks = 0;
  std::vector<u64> effectual;   // [group][chunk][filter]
  std::vector<u64> active;      // [group][chunk]
  std::vector<u64> filter_nnz;  // [group][filter]
  u64 weight_nnz = 0, input_nnz = 0;
  u64 bytes() const { return 8 * (effectual.size() + active.size() + filter_nnz.size()); }
};

// Counts of `shape`'s masks (layouts of masks.hpp) for chunks of T positions.
MaskCounts count_masks(const LayerShape& shape, std::span<const std::uint8_t> weight,
                       std::span<const std::uint8_t> input, u64 T);

// count_masks through a process-wide cache keyed by `key`, which must identify the masks
// (a digest of masks from data, or the synthetic patterns they are drawn from), the shape and T.
// `make` computes the counts on a miss. The cache keeps at most 256 MiB of counts (least recently
// used go first); thread-safe.
std::shared_ptr<const MaskCounts> count_cached(const std::string& key, const std::function<MaskCounts()>& make);

// What a lane's cycles and its MAC energy count: the zeros of weights or activations skipped
// (cycles) and skipped or gated (energy); an N:M datapath's lanes do `structured_work` per
// position in place of the filter's non-zeros.
struct LaneRules {
  bool cycle_weights = false, cycle_activations = false;
  bool energy_weights = false, energy_activations = false;
  bool structured = false;
  u64 structured_work = 0;
};

// One tile (a step of all lanes): its busiest lane, its total work and its lanes with positions.
struct TileWork {
  u64 busiest = 0, sum = 0, lanes = 0;
  bool operator==(const TileWork&) const = default;
};

struct LaneWork {
  std::vector<TileWork> tiles;  // per group, filter block, position block
  u64 effectual = 0, cycle_work = 0, energy_macs = 0;
  bool operator==(const LaneWork&) const = default;
};

// Tiles of `lanes_k` filters × `lanes_m` chunks (the last blocks partial).
LaneWork lane_work(const MaskCounts& counts, const LayerShape& shape, u64 lanes_k, u64 lanes_m,
                   const LaneRules& rules);

// The same, element by element from the masks.
LaneWork lane_work_reference(const LayerShape& shape, std::span<const std::uint8_t> weight,
                             std::span<const std::uint8_t> input, u64 lanes_k, u64 lanes_m, u64 T,
                             const LaneRules& rules);

}  // namespace tessera::arch::sparse
