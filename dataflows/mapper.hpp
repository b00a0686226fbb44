// The mapper every tiling engine uses: loop orders and tile sizes of a loop nest at the buffer
// level, chosen under buffer capacities to minimise latency, energy or their product.
//
//   analyse_reuse()  the reuse model: inside out, a tensor's resident block grows over the loops
//                    it depends on while it fits its capacity (it is reused across the loops it
//                    does not depend on inside that region); from the loop where it no longer
//                    fits outwards it is fetched again on every iteration (Bit Fusion's compiler,
//                    Timeloop's and ZigZag's temporal reuse at one level).
//   loop_orders()    every order of n loops.
//   better()         the objective's ranking of two costs.
//   map_gemm()       the search for a GEMM on an R x C array in a stationary dataflow (the
//                    systolic engine's mapper) and gemm_plan(), the tile plan of its choice.
// Bit Fusion's five-loop convolution search (arch/bitfusion) enumerates its own tile sizes and
// uses the same reuse model, orders and ranking.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataflows/gemm.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::dataflows {

enum class MapperObjective { latency, energy, edp };
std::string_view to_string(MapperObjective o);
std::optional<MapperObjective> mapper_objective_from_string(std::string_view text);

struct Cost {
  double latency = 0;  // cycles
  double energy = 0;   // pJ
};
// latency: by latency, ties by energy; energy: by energy, ties by latency; edp: by the product.
bool better(const Cost& a, const Cost& b, MapperObjective objective);

inline constexpr std::size_t kMaxLoops = 6;
inline constexpr std::size_t kMaxTensors = 4;
using LoopOrder = std::array<int, kMaxLoops>;  // outermost first

// Every order of `loops` loops (cached; loops <= kMaxLoops).
const std::vector<LoopOrder>& loop_orders(std::size_t loops);

// A chosen mapping as reports show it: loop order (outermost first), tile size and iterations
// per loop, how often each operand is fetched, the search's estimate and effort. Plain data
// (names are string literals), so that mapping many layers allocates nothing.
struct MappingInfo {
  std::size_t loops = 0, tensors = 0;
  std::array<const char*, kMaxLoops> loop_names{};
  std::array<const char*, kMaxTensors> tensor_names{};
  LoopOrder order{};
  std::array<i64, kMaxLoops> tile{}, count{};
  std::array<double, kMaxTensors> refetch{};
  Cost estimate;
  u64 candidates = 0;
  nlohmann::json to_json() const;
};

struct ReuseProblem {
  std::size_t loops = 0, tensors = 0;
  std::array<std::array<bool, kMaxTensors>, kMaxLoops> depends{};  // [loop][tensor]
  std::array<u64, kMaxTensors> capacity{};  // what may stay resident (e.g. half a buffer)
};

struct Reuse {
  std::array<u64, kMaxTensors> total{};   // units moved over the whole nest
  std::array<u64, kMaxTensors> block{};   // the resident block
  std::array<u64, kMaxTensors> period{};  // iterations (tiles) a block stays
  std::array<int, kMaxTensors> region{};  // innermost loops the block stays resident over
};

// `tile_size[t]`: tensor t's tile in the same units as the capacities; `count[l]`: iterations
// of loop l.
Reuse analyse_reuse(const ReuseProblem& p, const LoopOrder& order,
                    const std::array<u64, kMaxLoops>& count,
                    const std::array<u64, kMaxTensors>& tile_size);

// A GEMM (dataflows/gemm.hpp) on an R x C array: rows and columns hold two of M, N, K (the
// dataflow's spatial dimensions), the third streams through. Tiles at the buffer level are
// (Mt, Nt, Kt) blocks in a loop order; each runs as folds of the array.
struct GemmArray {
  i64 rows = 1, cols = 1;
  Dataflow dataflow = Dataflow::ws;
  u64 a_capacity = 0, b_capacity = 0, c_capacity = 0;  // bytes each operand may keep resident
  int a_bits = 8, b_bits = 8, c_bits = 8, psum_bits = 32;
  // For the cost estimate: the memory's sustained bytes per cycle and latency, pJ per DRAM byte
  // and the static energy per cycle.
  double bytes_per_cycle = 16, dram_pj_per_byte = 0, static_pj_per_cycle = 0;
  u64 latency_cycles = 0;
  MapperObjective objective = MapperObjective::latency;
};

struct GemmMapping {
  LoopOrder order{};                 // loops 0 = M, 1 = N, 2 = K
  std::array<i64, 3> tile{}, count{};
  Reuse reuse;                       // tensors 0 = A, 1 = B, 2 = C (psums)
  std::array<double, 3> refetch{};   // times each operand is fetched (C: partial-sum round trips + 1)
  Cost cost;                         // the search's estimate
  u64 candidates = 0;                // mappings evaluated
  MappingInfo info() const;          // order, tiles, refetch factor per operand
};

// Mappings whose objective is within this fraction of the best count as equally good; of those
// the search takes the one with the fewest tiles (fewer DMA descriptors, a smaller plan).
inline constexpr double kMapperTolerance = 0.01;

// Searches orders x power-of-two tile sizes (multiples of the array's dimensions on the spatial
// loops), best objective first, then the fewest tiles within kMapperTolerance of it; nullopt
// when not even one fold's tiles fit.
std::optional<GemmMapping> map_gemm(const GemmView& g, const GemmArray& array);

// The plan of a mapping: one tile per (Mt, Nt, Kt) block in loop order, buffered as deep as the
// other halves of the buffers allow (prefetch_buffering), with the bytes it
// fetches (A on port input, B on weight, partial sums on psum_in/psum_out, results on output)
// and its folds' cycles; fill and drain once per GEMM. Operand A's and B's totals are their
// distinct bytes times their refetch factors (a convolution's im2col duplication removed).
// `input_on_chip` / `output_on_chip`: no A reads / no result writes. Each port's Layout is its
// operand's in DRAM: A as M rows, B as N rows of K, results and partial sums as M rows of N.
TilePlan gemm_plan(const GemmView& g, const GemmArray& array, const GemmMapping& m,
                   bool input_on_chip, bool output_on_chip);

}  // namespace tessera::dataflows
