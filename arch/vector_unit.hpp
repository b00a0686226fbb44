// The vector unit every engine has beside its MAC array: `lanes` elements per cycle, each
// operation class taking its own cycles per element, energy per operation from the technology
// table. Operators without MACs (softmax, norms, activations, pooling, elementwise, reductions,
// data movement) run on it and on the memory system; epilogues fused into a MAC layer run on
// its output path (sim/simulate.cpp).
//
// Config keys, in an engine's "vector" object (docs/configs.md, "Vector unit"):
//   lanes       elements per cycle (default kDefaultVectorLanes for every engine, never derived
//               from the array's shape, so a sweep over array columns leaves the vector unit alone)
//   precision   the technology table's MAC entry the energies scale from (default fp16)
//   buffer      bytes of the unit's double-buffered tile (default 64 KiB, at least kMinVectorBuffer):
//               transfers are split into tiles of at most half of it
//   cycles      {class: cycles per element per lane} in [2^-16, 2^16], kept to 1/65536 of a
//               cycle so that cycle counts are exact; defaults add 1, mul 1, compare 1,
//               reduce 1, move 1, exp 4, divide 4, rsqrt 4
//   energy_pj   {class: pJ per operation}; default: the table's MAC energy at `precision` times
//               add 0.27, mul 0.73, compare 0.1, reduce 0.27, move 0.05, exp 8, divide 4, rsqrt 4
//               (Horowitz 45 nm: an fp16 add is 0.4 pJ and a multiply 1.1 pJ of a 1.5 pJ MAC;
//               exp as an 8-term polynomial, divide and rsqrt as two Newton-Raphson steps)
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arch/energy/technology.hpp"
#include "common/params.hpp"
#include "workloads/operator.hpp"

namespace tessera::arch {

using u64 = std::uint64_t;

// 64 lanes, a 1024-bit datapath of fp16 elements, for every engine: a stated figure rather than
// one per array column, so that a sweep over the array's shape does not also sweep the vector
// unit (it did: systolic and Bit Fusion defaulted to their column count, Eyeriss to 14). A design
// with a specific vector unit (TPUv1's activation pipeline is as wide as its array) sets
// vector.lanes; the resolved config always lists the lanes used.
inline constexpr u64 kDefaultVectorLanes = 64;
// Each half of the buffer must hold one element of the input and one of the parameters at the
// widest precision (64 bits): 32 bytes. Smaller buffers cannot hold a tile (one of 2 or 3 bytes
// looped forever looking for a tile count).
inline constexpr u64 kMinVectorBuffer = 32;
// Cycles per element are multiples of 2^-16 in [2^-16, 2^16]: sums of operations times them are
// exact in 128-bit integers.
inline constexpr int kVectorCycleFractionBits = 16;
// A layer's vector cycles are at most 2^62, so that sums over a plan's tiles and a run's layers
// stay within 64 bits.
inline constexpr u64 kMaxVectorCycles = u64{1} << 62;

enum class VectorOp : std::size_t { add, mul, compare, reduce, move, exp, divide, rsqrt };
inline constexpr std::size_t kVectorOps = 8;
std::string_view to_string(VectorOp op);

// Operation counts of one operator, by class.
struct VectorWork {
  std::array<u64, kVectorOps> ops{};
  u64& operator[](VectorOp op) { return ops[static_cast<std::size_t>(op)]; }
  u64 operator[](VectorOp op) const { return ops[static_cast<std::size_t>(op)]; }
  VectorWork& operator+=(const VectorWork& o);
  u64 total() const;
  bool operator==(const VectorWork&) const = default;
};

// What an operator without MACs computes, by class (a MAC operator: nothing; its epilogues are
// separate operators). Reshape and flatten are views: nothing. An elementwise function the model
// does not list is an UnsupportedError naming the operator, the function and `engine` (the
// engine whose vector unit was to run it), never zero work; so is a count beyond 64 bits.
VectorWork vector_work(const workloads::Operator& op, std::string_view engine);
// The elementwise functions the work model lists (lower case), for messages and docs.
std::string known_vector_functions();
// Whether the operator only relabels memory (reshape, flatten): no time, no traffic.
bool is_view(const workloads::Operator& op);

struct VectorUnit {
  u64 lanes = kDefaultVectorLanes;
  std::string precision = "fp16";
  u64 buffer_bytes = 64 * 1024;
  std::array<double, kVectorOps> cycles{1, 1, 1, 1, 1, 4, 4, 4};
  std::array<double, kVectorOps> energy_pj{};  // per operation; see resolve_energy()
  bool energy_resolved = false;                // energy_pj filled (from the table or the config)

  // ceil(sum ops * cycles / lanes), exact; more than kMaxVectorCycles is an InputError naming
  // vector.cycles (a count that large is no design point, and sums of layers must not wrap).
  u64 compute_cycles(const VectorWork& w) const;
  double energy(const VectorWork& w) const;       // pJ
  double area_mm2(const energy::Technology& tech) const;  // lanes of `precision` MAC area
};

// Fills energy_pj from the table's MAC energy at the unit's precision (header comment), once.
void resolve_energy(VectorUnit& v, const energy::Technology& tech);

// Reads the optional "vector" object of an engine config (absent: defaults).
VectorUnit read_vector_unit(ParamReader& config, const energy::Technology& tech);
nlohmann::json vector_unit_json(const VectorUnit& v);

}  // namespace tessera::arch
