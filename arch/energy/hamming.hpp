// Hamming-distance (bit-toggle) datapath energy: counts the bit toggles each datapath port sees
// when a layer's operands stream through an engine (its OperandStreamSource description,
// streams.hpp), and turns them into energy:
//
//   E_datapath = toggles * E_toggle + MACs * E_base
//   E_base     = (1 - f) * E_mac,   E_toggle = f * E_mac / (sum over port kinds of bits / 2)
//
// with E_mac the technology table's MAC energy at the layer's precision and f its
// mac_data_fraction: when every port receives a fresh uniformly random value per MAC (the
// condition under which a MAC's average energy is characterised), each port toggles bits/2 per
// MAC on average and E_datapath = MACs * E_mac exactly.
//
// Counting is exact while a port costs at most HammingOptions::exact_limit value evaluations;
// beyond that, transitions are sampled uniformly over (stream, step) positions and the total is
// reported with a 95% confidence interval (normal approximation). Exact counts are produced by
// rows of laid-out operands (counting.cpp); the position-by-position walk of the loop nest that
// defines them is kept as count_toggles_reference.
#pragma once

#include <functional>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/energy/streams.hpp"
#include "arch/energy/values.hpp"
#include "arch/engine.hpp"
#include "workloads/graph.hpp"

namespace tessera::arch::energy {

// Sum over i of popcount(v[i] ^ v[i-1]): toggles along one stream (vectorised popcount).
std::uint64_t stream_toggles(const std::uint64_t* v, std::size_t n);
// The same over n values of `width` bytes each (1, 2, 4 or 8; little-endian), packed: 8 / width
// pairs per 64-bit popcount.
std::uint64_t stream_toggles_bytes(const std::uint8_t* v, std::size_t n, std::size_t width);

// The `bits`-bit sign-and-magnitude pattern of v (sign in the top bit; magnitudes beyond
// bits - 1 bits are cut like two's-complement patterns are masked).
std::uint64_t encode_sign_magnitude(std::int64_t v, int bits);

struct PortCount {
  std::string port;
  StreamTensor tensor = StreamTensor::activation;
  int bits = 8;
  double toggles = 0;      // bit toggles over all physical ports (shared streams multiplied)
  double transitions = 0;  // consecutive value pairs over all physical ports
  double values = 0;       // values delivered on the distinct streams (shared ones once)
  bool exact = true;
  double ci95 = 0;         // half-width of the 95% confidence interval of `toggles`
  double evaluations = 0;  // value evaluations spent (for the bench)
};

// Counts every port of `streams` with the layer's operand values: the GEMM ports, then the
// indexed ones.
std::vector<PortCount> count_toggles(const LayerStreams& streams, const workloads::Operator& op,
                                     const LayerValues& values, const HammingOptions& options);
// Exact counts of every port by walking each loop nest one position at a time, whatever the
// exact limit: the definition count_toggles' exact counts must equal (tests, bench baseline).
std::vector<PortCount> count_toggles_reference(const LayerStreams& streams,
                                               const workloads::Operator& op,
                                               const LayerValues& values,
                                               const HammingOptions& options);

// Toggles of one indexed stream (streams.hpp's second form) over the flat tensor it reads:
// exact while its positions are at most options.exact_limit, else `options.samples` sampled
// transitions (seeded by `seed`) with a 95% interval. A stream that indexes outside the tensor
// or whose segments differ in their spatial loops is a bug of its engine: std::invalid_argument.
PortCount count_indexed(const IndexedStream& stream, std::span<const std::int32_t> values,
                        const HammingOptions& options, std::uint64_t seed = 1);
// The flat tensor an indexed stream names: the layer's input, its weights or one of its tables.
std::span<const std::int32_t> stream_tensor(const LayerValues& values, const std::string& name);

struct ToggleResult {
  std::vector<PortCount> ports;
  double toggles = 0, ci95 = 0, transitions = 0;
  bool exact = true;
  double toggle_pj = 0, base_pj = 0;
  double energy_pj() const { return toggle_pj + base_pj; }
};

struct LayerHamming {
  std::string name;
  std::uint64_t macs = 0;
  std::string precision;           // technology MAC entry used
  double table_mac_pj = 0;         // MACs * E_mac (the flat table figure)
  double pj_per_toggle = 0, base_pj_per_mac = 0;
  // The share of the MACs that pay the base energy: zero-gated MACs do not
  // (Engine::mac_energy_fraction). Gated and skipped zeros are not latched on their ports
  // (PortStream::hold_zeros): they cost no toggles either.
  double mac_energy_fraction = 1.0;
  std::string weight_source, input_source;
  ToggleResult original;
  std::optional<ToggleResult> optimized;  // with --optimize-order
  bool permuted = false;                  // its output channels were reordered
};

struct HammingReport {
  std::string technology;
  HammingOptions options;
  std::vector<LayerHamming> layers;  // operators with MACs the engine describes, topological order
  double toggles = 0, toggles_optimized = 0, energy_pj = 0, energy_optimized_pj = 0,
         table_mac_pj = 0;
};

// Called as work completes: the stage ("counting", "reordering"), units done and the total (layers
// with MACs). Calls are serialised; they may come from any thread.
using HammingProgress =
    std::function<void(const std::string& stage, std::size_t done, std::size_t total)>;

// Throws UnsupportedError when the engine describes no operand streams (Engine::stream_source).
HammingReport analyse_hamming(const Engine& engine, const workloads::Graph& graph,
                              const HammingOptions& options, const HammingProgress& progress = {});

nlohmann::json to_json(const HammingReport& report);
std::string format_table(const HammingReport& report);

}  // namespace tessera::arch::energy
