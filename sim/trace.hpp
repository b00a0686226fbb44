// Execution traces of SystemC runs, written as Chrome/Perfetto trace-event JSON: one track for
// the compute unit and one per DRAM channel, one span per tile and per transfer, so a trace
// viewer (ui.perfetto.dev, chrome://tracing) shows overlap and stalls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::sim {

struct TraceSpan {
  std::string track;  // "compute", "dram" or "dram.<operand>"
  std::size_t layer = 0;
  std::uint64_t tile = 0;  // index within the layer
  std::uint64_t start_cycle = 0, end_cycle = 0;
  std::uint64_t bytes = 0;  // transfers only
  bool write = false;
};

struct Trace {
  std::vector<TraceSpan> spans;
};

// Trace-event JSON; times in microseconds of simulated time at `clock_hz`.
nlohmann::json chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                            double clock_hz);

}  // namespace tessera::sim
