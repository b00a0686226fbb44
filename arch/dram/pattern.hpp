// Addresses that follow the dataflow, and the rate a channel sustains on them.
//
// Each port of a plan reads or writes its tensor in a region of its own (a channel's capacity in
// kRegions parts, every region starting at column 0 of bank 0 on rows of its own, so streams that
// share a channel meet in the same banks on other rows). Inside it the tensor lies as dataflows::Layout says: a row-major matrix
// of `pitch` bytes per row; a tile moves `run` bytes of each of its consecutive rows, tiles
// follow each other across the matrix's rows and then down by a tile's rows, wrapping at the
// tensor's extent; with windows (a convolution's receptive fields) a row is a window of the
// tensor instead, so consecutive rows overlap by the halo. `Walk` turns a port's tile transfers into such footprints; the SystemC
// fidelity gives their accesses to the channel's controller.
//
// The analytical fidelity times a layer's transfers on a detailed channel at the rate its
// controller sustains on a synthetic stream of the same pattern: the ports the channel carries
// in that layer, each with its direction, mean transfer, layout and how often it transfers,
// interleaved transfer by transfer as the SystemC fidelity issues them. Classes: streaming (one
// port, contiguous), strided (one port, runs shorter than the pitch), interleaved (several
// ports). Each pattern runs once per spec (preset, mapping, page policy, scheduler, queue) and
// is remembered for the process.
#pragma once

#include <string_view>
#include <vector>

#include "arch/dram/controller.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::arch::dram {

// Regions per channel: enough for two units' ports (a stream beyond them shares a region).
inline constexpr u64 kRegions = 32;

struct Region {
  u64 base = 0;
  u64 bytes = 0;
};

// Region `stream` (modulo kRegions) of a channel of `spec`.
Region region(const Spec& spec, u64 stream);

// One transfer's bytes in memory: runs of `run` bytes (the last one may be shorter), each
// `pitch` bytes after the previous one's start, from `address`. With window > 0 the runs are
// `run` bytes from byte `column` of the windows (dataflows::Layout) `row`, `row` + 1, ... of the
// tensor at `address`, each run cut where the window's lines end; a line past the tensor's
// `extent` (a halo that padding supplies) reads the tensor's first lines instead, so addresses
// stay in the tensor.
struct Footprint {
  u64 address = 0;
  u64 bytes = 0;
  u64 run = 0;
  u64 pitch = 0;
  u64 row = 0, column = 0;
  u64 window = 0, line = 0, step = 0, across = 0, down = 0, extent = 0;
  bool operator==(const Footprint&) const = default;
  // Runs [first, first + runs) of this footprint as a footprint of their own.
  Footprint runs(u64 first, u64 runs) const;
};

// Where byte `column` of window `row` of `l` lies, from the tensor's start.
u64 window_offset(const dataflows::Layout& l, u64 row, u64 column);

// A port's transfers in order, from its region's start (`base`).
class Walk {
 public:
  Walk(const dataflows::Layout& layout, const Region& region);
  // The footprint of the port's next transfer of `bytes`.
  Footprint next(u64 bytes);

 private:
  dataflows::Layout layout_;
  u64 base_ = 0, limit_ = 0;  // where the tensor starts, and its extent inside the region
  u64 band_ = 0;  // offset of the present band of tile rows (contiguous: of the next transfer;
                 // windows: its first row)
  u64 column_ = 0;  // offset of the next tile inside its rows
};

// Appends one request per access the footprint touches, run after run.
void append_requests(const Spec& spec, const Footprint& f, bool write, u64 arrival,
                     std::vector<Request>& out);

// One port as a channel sees it over a layer.
struct PortPattern {
  bool write = false;
  u64 transfer = 0;    // mean bytes per transfer
  u64 per_1024 = 1024;  // its transfers per 1024 transfers of the channel's most frequent port
  dataflows::Layout layout;
  bool operator==(const PortPattern&) const = default;
};

struct Pattern {
  std::vector<PortPattern> ports;  // in the plan's port order
  bool operator==(const Pattern&) const = default;
};

// "streaming", "strided" or "interleaved" (see above); "idle" without ports.
std::string_view pattern_class(const Pattern& p);

// The pattern of the ports of `plan` that channel `channel` carries (ports with bytes only).
Pattern plan_pattern(const dataflows::TilePlan& plan, std::size_t channel);

struct PatternRun {
  Stats stats;          // the controller's counts over the synthetic stream
  u64 useful_bytes = 0;  // the transfers' bytes (stats.bytes counts whole accesses)
  // Per port of the pattern: its transfers' bytes, and the DRAM cycles they held the channel
  // (each transfer from the previous one's end to its own: they add up to stats.cycles).
  std::vector<u64> port_bytes, port_cycles;
  // Transfer bytes per DRAM cycle, over all ports and for port `i`.
  double bytes_per_cycle() const;
  double port_bytes_per_cycle(std::size_t i) const;
};

// The synthetic stream of `pattern` (at least 1 MiB and one transfer of every port; transfers
// over 1 MiB are cut to 1 MiB, which behaves as a stream already) run on a fresh channel of
// `spec`, remembered per (spec, pattern). A streaming read pattern is the spec's sequential
// stream (sequential_stream_stats).
const PatternRun& pattern_run(const Spec& spec, const Pattern& pattern);

}  // namespace tessera::arch::dram
