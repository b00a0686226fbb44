// Post-training channel reordering to reduce datapath toggles.
//
// Permuting the output channels of a layer (its filters) and, to match, the input channels of
// every layer that consumes them leaves the network's function unchanged (each consumer sums over
// its input channels, so the order of the terms does not matter) but changes the order in which
// operands stream through the datapath. The candidate order is a greedy nearest-neighbour tour
// over the filters by hamming distance of their bit patterns (each next filter is the unvisited
// one closest to the last), which puts similar filters next to each other. The permutation is
// kept only when the counted toggles of the affected layers (the producer and its consumers)
// drop and no port of any of them toggles more (port_worse), so toggles never increase, per
// layer and per port; otherwise the identity order stays.
//
// A producer qualifies when it is a convolution with groups == 1 or a matmul with weights, and
// every path from its output reaches, through channel-preserving operators (single-input
// elementwise, pooling, normalisation, depthwise convolutions, which are permuted along), only
// convolutions with groups == 1 reading exactly those channels or weight matmuls whose k is them.
// Joins (residual adds, concatenations) disqualify it.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/energy/hamming.hpp"

namespace tessera::arch::energy {

// Whether a port's count after a trial permutation is worse than before: exact counts when
// higher; sampled counts unless lower by more than the combined 95% intervals (a sampled port
// keeps its order unless the gain is clear).
bool port_worse(const PortCount& before, const PortCount& after);

// Greedy nearest-neighbour order of `rows` rows of `row_len` values each (row-major), by hamming
// distance of their `bits`-bit two's-complement patterns, starting from row 0. order[i] is the
// old row placed at position i.
// With `sign_magnitude`, the patterns are sign and magnitude (HammingOptions::sign_magnitude).
std::vector<i64> greedy_order(const std::vector<std::int32_t>& data, i64 rows, i64 row_len, int bits,
                              bool sign_magnitude = false);

// New output channel i = old channel perm[i]: the operator's weights (and nothing else).
void permute_outputs(const workloads::Operator& op, LayerValues& v, const std::vector<i64>& perm);
// New input channel i = old channel perm[i]: the weights' input channels and the input tensor's.
void permute_inputs(const workloads::Operator& op, LayerValues& v, const std::vector<i64>& perm);

// Reorders every qualifying layer in order; updates `values` and `counts` (the current toggle
// counts per item) and returns which items had their outputs permuted.
std::vector<bool> optimize_channel_order(const workloads::Graph& graph,
                                         const std::vector<workloads::Graph::Node>& nodes,
                                         const std::vector<const workloads::Operator*>& ops,
                                         const std::vector<const LayerStreams*>& streams,
                                         std::vector<LayerValues>& values,
                                         std::vector<std::vector<PortCount>>& counts,
                                         const HammingOptions& options);

}  // namespace tessera::arch::energy
