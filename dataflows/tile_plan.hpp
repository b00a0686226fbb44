// A tile plan: how an engine executes one operator, as a sequence of tiles. Each tile has its
// compute cycles and the bytes it moves between DRAM and the on-chip buffers. Both fidelities
// read the same plan: sim/analytical.hpp sums it in closed form, sim/systemc/ executes it as timed
// transactions, so on a single-network run they agree by construction of the plan, not by
// duplicating formulas.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tessera::dataflows {

using u64 = std::uint64_t;

struct Tile {
  u64 compute_cycles = 0;
  u64 dram_read_bytes = 0;
  u64 dram_write_bytes = 0;
  u64 count = 1;  // consecutive identical tiles
  bool operator==(const Tile&) const = default;
};

// How a tile's data movement overlaps its computation.
enum class Overlap {
  // Transfers stream concurrently with compute inside each tile (infinitely fine-grained
  // buffering): a tile takes max(compute, transfer) cycles. The roofline bound.
  streaming,
};

std::string_view to_string(Overlap o);

struct TilePlan {
  Overlap overlap = Overlap::streaming;
  std::vector<Tile> tiles;

  u64 tile_count() const;
  u64 compute_cycles() const;
  u64 dram_read_bytes() const;
  u64 dram_write_bytes() const;
};

}  // namespace tessera::dataflows
