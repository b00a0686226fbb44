// The vector unit every engine has beside its MAC array: `lanes` elements per cycle, each
// operation class taking its own cycles per element, energy per operation from the technology
// table. Operators without MACs (softmax, norms, activations, pooling, elementwise, reductions,
// data movement) run on it and on the memory system; epilogues fused into a MAC layer run on
// its output path (sim/simulate.cpp).
//
// Config keys, in an engine's "vector" object (docs/configs.md, "Vector unit"):
//   lanes       elements per cycle (engine default: systolic and Bit Fusion one per array column)
//   precision   the technology table's MAC entry the energies scale from (default fp16)
//   buffer      bytes of the unit's double-buffered tile (default 64 KiB): transfers are split
//               into tiles of at most half of it
//   cycles      {class: cycles per element per lane}; defaults add 1, mul 1, compare 1, reduce 1,
//               move 1, exp 4, divide 4, rsqrt 4
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
// separate operators). Reshape and flatten are views: nothing.
VectorWork vector_work(const workloads::Operator& op);
// Whether the operator only relabels memory (reshape, flatten): no time, no traffic.
bool is_view(const workloads::Operator& op);

struct VectorUnit {
  u64 lanes = 64;
  std::string precision = "fp16";
  u64 buffer_bytes = 64 * 1024;
  std::array<double, kVectorOps> cycles{1, 1, 1, 1, 1, 4, 4, 4};
  std::array<double, kVectorOps> energy_pj{};  // per operation; see resolve_energy()
  bool energy_resolved = false;                // energy_pj filled (from the table or the config)

  u64 compute_cycles(const VectorWork& w) const;  // ceil(sum ops * cycles / lanes)
  double energy(const VectorWork& w) const;       // pJ
  double area_mm2(const energy::Technology& tech) const;  // lanes of `precision` MAC area
};

// Fills energy_pj from the table's MAC energy at the unit's precision (header comment), once.
void resolve_energy(VectorUnit& v, const energy::Technology& tech);

// Reads the optional "vector" object of an engine config (absent: defaults).
VectorUnit read_vector_unit(ParamReader& config, const energy::Technology& tech, u64 default_lanes);
nlohmann::json vector_unit_json(const VectorUnit& v);

}  // namespace tessera::arch
