// A tile plan: how an engine executes one operator, as a sequence of tiles on one compute unit.
// Each tile has its compute cycles, the units busy during them, and the bytes it moves on each of
// the plan's named ports (streams between the off-chip memory and the on-chip buffers: input,
// weight, output, partial sums, metadata, coefficients, ...). Each port is carried by a memory
// channel with its own bandwidth (arch/memory.hpp). The pipeline shape is a set of buffering
// depths. Both fidelities read the same plan: sim/analytical.hpp times it in closed form,
// sim/systemc/ executes it as timed transactions, one recurrence each (docs/architecture.md).
//
// Owns only data; may include nothing above workloads/.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::dataflows {

using u64 = std::uint64_t;

// Ports per plan: enough for input, weight, output, partial sums in and out, metadata,
// coefficients and a spare; fixed so that tiles stay flat arrays.
inline constexpr std::size_t kMaxPorts = 8;

// The names engines use for the common streams (any other name is allowed).
namespace port {
inline constexpr std::string_view input = "input";        // activations in
inline constexpr std::string_view weight = "weight";      // parameters in
inline constexpr std::string_view output = "output";      // results out
inline constexpr std::string_view psum_in = "psum_in";    // partial sums brought back
inline constexpr std::string_view psum_out = "psum_out";  // partial sums spilled
}  // namespace port

enum class Direction { read, write };  // read: memory to buffers; write: buffers to memory

struct Port {
  std::string name;
  Direction direction = Direction::read;
  std::size_t channel = 0;  // index into the memory system's channels (set by sim::simulate)
  bool operator==(const Port&) const = default;
};

struct Tile {
  u64 compute_cycles = 0;
  u64 busy_units = 0;                 // compute units busy during compute_cycles
  std::array<u64, kMaxPorts> bytes{};  // per port of the plan, in the plan's port order
  u64 count = 1;                       // consecutive identical tiles, >= 1
  bool operator==(const Tile&) const = default;
};

// Appends `t` to `tiles`, merged into the last tile when they differ only in count (plans stay
// run-length encoded, so their size follows the distinct tiles, not the folds).
void append_tile(std::vector<Tile>& tiles, const Tile& t);
// Adds `fill` cycles to the first tile and `drain` to the last, splitting them out of their runs
// (a pipeline's start-up and wind-down, paid once per plan).
void add_fill_drain(std::vector<Tile>& tiles, u64 fill, u64 drain);
// Appends `total` (count 1) split into `n` tiles: n-1 equal tiles of ceil(total / n) and a last
// one with the rest, so the split costs two runs whatever n is.
void append_split(std::vector<Tile>& tiles, const Tile& total, u64 n);

// How tiles overlap with their transfers.
//   input: tiles whose reads may be issued ahead of compute (the reads of tile j are issued when
//          tile j-input has finished computing; the first `input` tiles read at the start);
//   output: tiles whose results may wait for their writes (tile j computes only once the writes of
//          tile j-output have landed);
//   streaming: transfers stream through the compute inside each tile (infinitely fine-grained
//          buffering): a tile takes max(compute, its transfers). The roofline; depths unused.
// input = output = 2 is classic double buffering.
struct Buffering {
  unsigned input = 2;
  unsigned output = 2;
  bool streaming = false;
  bool operator==(const Buffering&) const = default;
};

inline constexpr Buffering kDoubleBuffered{};
inline constexpr Buffering kStreaming{.input = 1, .output = 1, .streaming = true};

struct TilePlan;

// The deepest prefetch a DMA queue keeps: enough to hide a latency of 15 tiles' compute.
inline constexpr unsigned kMaxPrefetch = 16;

// Buffering depths for a plan whose operands keep what they reuse in half of their buffers: the
// other half queues prefetched tiles (and results waiting for their writes), so a port's depth is
// that half over its largest tile, from 2 (double buffering) to kMaxPrefetch. `input_half`, `weight_half`
// and `output_half` are the halves behind the input, weight and output-side (output, partial
// sums) ports.
Buffering prefetch_buffering(const TilePlan& plan, u64 input_half, u64 weight_half,
                             u64 output_half);
// The depth one port gets: `room` over its largest `tile`, from 2 to kMaxPrefetch.
unsigned prefetch_depth(u64 room, u64 tile);

struct TilePlan {
  std::vector<Port> ports;
  Buffering buffering;
  u64 units = 1;  // compute units of the unit running the plan (PEs, lanes)
  std::vector<Tile> tiles;

  // The index of the port with this name and direction, added when missing. Throws
  // std::length_error beyond kMaxPorts.
  std::size_t port(std::string_view name, Direction direction = Direction::read);
  // The index of the named port, or kMaxPorts when the plan has none.
  std::size_t find_port(std::string_view name) const;

  u64 tile_count() const;
  u64 compute_cycles() const;
  u64 busy_unit_cycles() const;  // sum of busy_units * compute_cycles
  u64 port_bytes(std::size_t port) const;
  u64 port_bytes(std::string_view name) const;  // 0 for a port the plan does not have
  u64 read_bytes() const;   // all read ports
  u64 write_bytes() const;  // all write ports

  bool operator==(const TilePlan&) const = default;
};

// A digest of everything a plan's timing depends on (ports with their channels, buffering,
// units, tiles), for finding equal plans.
u64 digest(const TilePlan& plan);

}  // namespace tessera::dataflows
