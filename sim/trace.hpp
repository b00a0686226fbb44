// Execution traces of SystemC runs, written as Chrome/Perfetto trace-event JSON. Each layer is
// a process (a track group named after it, in run order); inside it one track per compute unit,
// one per DRAM channel showing the transfers that hold it, and "<channel> in flight N" tracks
// for the latency from a transfer leaving its channel to its data landing: transfers pipeline,
// so those intervals overlap, and each goes on the first in-flight track that is free then. On
// every track slices are disjoint (tests/sim/test_trace.cpp), which trace viewers require.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::sim {

struct TraceSpan {
  std::string track;  // "compute" ("compute.N" for unit N > 0) or a DRAM channel's name
  std::size_t layer = 0;
  std::uint64_t tile = 0;  // index within the layer
  // Compute: the tile's computation. Transfer: the cycles its channel is busy with it.
  std::uint64_t start_cycle = 0, end_cycle = 0;
  std::uint64_t latency = 0;  // transfers: cycles from leaving the channel to landing
  std::uint64_t bytes = 0;    // transfers only
  bool write = false;
};

// The spans a trace keeps: about 200 MB of JSON, more than trace viewers open comfortably.
inline constexpr std::size_t kMaxTraceSpans = std::size_t{1} << 20;

struct Trace {
  std::vector<TraceSpan> spans;  // the first `limit` spans of the run
  std::size_t limit = kMaxTraceSpans;
  std::uint64_t dropped = 0;  // spans after the first `limit`, counted only
  void add(TraceSpan s) {
    if (spans.size() < limit) spans.push_back(std::move(s));
    else ++dropped;
  }
};

// Trace-event JSON, written event by event; times in microseconds of simulated time at
// `clock_hz`, rounded to whole nanoseconds once per instant so that touching slices touch
// exactly. `layer_names[i]` names the i-th layer run (a layer without a name: its index). A
// trace that dropped spans says how many in "otherData".
std::string chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                         double clock_hz);

}  // namespace tessera::sim
