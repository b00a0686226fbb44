// SCALE-Sim v2 topology CSV files, read unchanged.
//   conv rows: name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
//   Strides, GEMM rows: name, M, N, K,          (A is M×K, B is K×N)
// The header line decides which; rows may end with a trailing comma. Inputs are pre-padded
// (no padding), batch 1, one stride for both directions. A conv layer whose name contains "DP"
// is depthwise as SCALE-Sim treats it: `Channels` single-channel filters (groups = channels).
// Layers are independent (no edges: SCALE-Sim runs each from DRAM), in file order. Each
// operator's source is "FILE:LINE".
#pragma once

#include <istream>
#include <string>

#include "workloads/graph.hpp"

namespace tessera::workloads {

Graph read_scalesim_topology(std::istream& in, const std::string& file);
Graph read_scalesim_topology(const std::string& path);

// True if the first line of the file looks like a SCALE-Sim conv or GEMM header.
bool looks_like_scalesim_topology(const std::string& path);

}  // namespace tessera::workloads
