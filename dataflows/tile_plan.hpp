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

// Ports per plan: enough for a sparse layer's input, weight and output values with a metadata
// port beside each (compressed formats), partial sums in and out, the epilogue's inputs and
// spares; fixed so that tiles stay flat arrays.
inline constexpr std::size_t kMaxPorts = 12;

// The names engines use for the common streams (any other name is allowed).
namespace port {
inline constexpr std::string_view input = "input";        // activations in
inline constexpr std::string_view weight = "weight";      // parameters in
inline constexpr std::string_view output = "output";      // results out
inline constexpr std::string_view psum_in = "psum_in";    // partial sums brought back
inline constexpr std::string_view psum_out = "psum_out";  // partial sums spilled
}  // namespace port

enum class Direction { read, write };  // read: memory to buffers; write: buffers to memory

// Where a port's tensor lies in off-chip memory, for the detailed DRAM model
// (arch/dram/pattern.hpp): a row-major matrix of `pitch` bytes per row and `extent` bytes in all;
// a tile moves `run` bytes of each of its consecutive rows, tiles follow each other across the
// rows and then down, wrapping at the extent (a tensor fetched again). run = 0 (or run >= pitch):
// contiguous, each transfer right after the previous one. extent = 0: no wrap.
//
// window > 0: the matrix's rows are windows of the tensor (a convolution's input read as each
// output pixel's receptive field, halos read again): row i starts at (i / across) * down +
// (i % across) * step (across = 0: i * step), and its `pitch` bytes lie in runs of `window` bytes,
// `line` bytes apart (R rows of S*C bytes at a pitch of W*C in NHWC); `windows` rows make the
// matrix (0: as many as fit the extent). Such a walk reads the tensor's bytes about reread()
// times.
struct Layout {
  u64 run = 0;
  u64 pitch = 0;
  u64 extent = 0;
  u64 window = 0, line = 0;                          // a row's runs in the tensor
  u64 step = 0, across = 0, down = 0, windows = 0;  // where rows start, how many
  double reread() const;
  bool operator==(const Layout&) const = default;
};

struct Port {
  std::string name;
  Direction direction = Direction::read;
  std::size_t channel = 0;  // index into the memory system's channels (set by sim::simulate)
  Layout layout{};          // set by engines that know their tensors' layouts
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

// A block of runs executed `times` times in a row: runs [begin, end) of a sequence.
struct Repeat {
  std::size_t begin = 0, end = 0;
  u64 times = 1;
  bool operator==(const Repeat&) const = default;
};

// Tiles as runs with repeated blocks of runs, so that a plan's size follows its distinct tiles
// and the shape of its loops, not the layer's size: a GEMM's folds are a first row of folds,
// a block of middle rows repeated, a last row; a batch of GEMMs repeats that block. Blocks
// nest or are disjoint, never share all their runs, and are listed by first run, outer first.
struct TileSeq {
  std::vector<Tile> tiles;      // runs
  std::vector<Repeat> repeats;  // blocks of runs

  // Appends a run, merged into the last run when equal but for count and not closing a block.
  void append(const Tile& t);
  // Appends `body` executed `times` times (a block of it when it has more than one run).
  void append(const TileSeq& body, u64 times = 1);

  // How many times each run is executed per run of the sequence: the product of its blocks'
  // times.
  std::vector<u64> multiplicities() const;
  // Tiles of one iteration of block `repeat`, its inner blocks expanded.
  u64 iteration_tiles(std::size_t repeat) const;

  bool operator==(const TileSeq&) const = default;
};

// Makes the first (last) tile of the expanded sequence its own run of count 1 outside every
// block, unrolling one iteration of the blocks around it; what it executes is unchanged.
void peel_first(TileSeq& seq);
void peel_last(TileSeq& seq);
// Adds `fill` cycles to the first tile and `drain` to the last, split out of their runs and
// blocks (a pipeline's start-up and wind-down, paid once per plan).
void add_fill_drain(TileSeq& seq, u64 fill, u64 drain);
// Appends `total` (count 1) split into `n` tiles: n-1 equal tiles of ceil(total / n) and a last
// one with the rest, so the split costs two runs whatever n is.
void append_split(TileSeq& seq, const Tile& total, u64 n);

// Walks a sequence tile by tile with its blocks expanded, knowing where it stands in each block
// around the current run (its frames, outer first), so that a walker can jump whole
// iterations of a block.
class TileCursor {
 public:
  struct Frame {
    std::size_t repeat;  // index into TileSeq::repeats
    u64 iteration;
    bool operator==(const Frame&) const = default;
  };
  // What a move crossed: the depth of the frame whose next iteration starts at the new position
  // and the depth from which frames were entered there (kNone when neither).
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Step {
    std::size_t restarted = kNone, entered = kNone;
  };

  explicit TileCursor(const TileSeq& seq);
  bool done() const { return run_ >= seq_->tiles.size(); }
  std::size_t run() const { return run_; }
  const Tile& tile() const { return seq_->tiles[run_]; }
  u64 left_in_run() const { return seq_->tiles[run_].count - offset_; }
  const std::vector<Frame>& frames() const { return frames_; }
  // Moves `n` tiles on, at most left_in_run().
  Step advance(u64 n = 1);
  // Moves `k` iterations on in the block of frame `depth`, staying at the same place inside it
  // (the frame must have k more iterations).
  void skip(std::size_t depth, u64 k) { frames_[depth].iteration += k; }

 private:
  void enter(std::size_t from);  // enters the blocks starting at run_ after list position `from`
  const TileSeq* seq_;
  std::vector<std::vector<std::size_t>> starts_;  // per run: the blocks starting there, outer first
  std::vector<Frame> frames_;
  std::size_t run_ = 0;
  u64 offset_ = 0;
};

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

struct TilePlan : TileSeq {
  std::vector<Port> ports;
  Buffering buffering;
  u64 units = 1;  // compute units of the unit running the plan (PEs, lanes)

  // The index of the port with this name and direction, added when missing. Throws
  // std::length_error beyond kMaxPorts.
  std::size_t port(std::string_view name, Direction direction = Direction::read);
  // The index of the named port, or kMaxPorts when the plan has none.
  std::size_t find_port(std::string_view name) const;

  // Totals over the expanded tiles (runs times their blocks' repeats).
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
// units, tiles and blocks), for finding equal plans.
u64 digest(const TilePlan& plan);

}  // namespace tessera::dataflows
