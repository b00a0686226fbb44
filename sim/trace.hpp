// Execution traces of SystemC runs, written as Chrome/Perfetto trace-event JSON: one track for
// the compute unit and one per DRAM channel, one span per tile and per transfer, so a trace
// viewer (ui.perfetto.dev, chrome://tracing) shows overlap and stalls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::sim {

struct TraceSpan {
  std::string track;  // "compute", "dram" or "dram.<operand>"
  std::size_t layer = 0;
  std::uint64_t tile = 0;  // index within the layer
  std::uint64_t start_cycle = 0, end_cycle = 0;
  std::uint64_t bytes = 0;  // transfers only
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
// `clock_hz`. A trace that dropped spans says how many in "otherData".
std::string chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                         double clock_hz);

}  // namespace tessera::sim
