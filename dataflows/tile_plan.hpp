// A tile plan: how an engine executes one operator, as a sequence of tiles. Each tile has its
// compute cycles and the bytes it moves between DRAM and the on-chip buffers, per operand. Both
// fidelities read the same plan: sim/analytical.hpp times it in closed form, sim/systemc/
// executes it as timed transactions, so they agree by construction of the plan, not by
// duplicating formulas.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tessera::dataflows {

using u64 = std::uint64_t;

// The operands of an array engine; each may have its own DRAM channel (arch::DramParams).
enum Operand : std::size_t { ifmap = 0, filter = 1, ofmap = 2 };
inline constexpr std::size_t kOperands = 3;

struct Tile {
  u64 compute_cycles = 0;
  std::array<u64, kOperands> read_bytes{};  // ofmap reads are partial sums brought back
  u64 write_bytes = 0;                      // ofmap
  u64 count = 1;                            // consecutive identical tiles, >= 1
  bool operator==(const Tile&) const = default;
};

// Appends `t` to `tiles`, merged into the last tile when they differ only in count (plans stay
// run-length encoded, so their size follows the distinct tiles, not the folds).
void append_tile(std::vector<Tile>& tiles, const Tile& t);

// How data movement overlaps computation.
enum class Overlap {
  // Transfers stream concurrently with compute inside each tile (infinitely fine-grained
  // buffering): a tile takes max(compute, transfers). The roofline.
  streaming,
  // Double-buffered operand and result buffers: tile i+1's reads run during tile i's compute
  // (once tile i-1 has left its buffer half) and tile i-1's writes drain during it.
  double_buffered,
};

std::string_view to_string(Overlap o);

struct TilePlan {
  Overlap overlap = Overlap::streaming;
  std::vector<Tile> tiles;

  u64 tile_count() const;
  u64 compute_cycles() const;
  u64 dram_read_bytes() const;  // all operands
  u64 dram_write_bytes() const;
};

}  // namespace tessera::dataflows
