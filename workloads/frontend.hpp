// Workload front-ends: each turns a file into a Graph. One registry holds them; load_workload()
// picks the first front-end that accepts the path (by extension or content), so the CLI takes
// any supported file with one `--workload` flag.
#pragma once

#include <functional>
#include <string>

#include "common/registry.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {

struct FrontEnd {
  // True if this front-end reads `path` (decided from the name, and the content where needed).
  std::function<bool(const std::string& path)> accepts;
  // Reads the file. Throws InputError naming the file and the place in it.
  std::function<Graph(const std::string& path)> load;
};

// The built-in front-ends: "json" (Tessera workload JSON), "scalesim" (SCALE-Sim topology CSV).
const Registry<FrontEnd>& frontends();

// Loads a workload with the first front-end that accepts it. Throws InputError for a missing
// file, a file no front-end accepts, or an empty workload; the graph is checked to be acyclic.
Graph load_workload(const std::string& path);

}  // namespace tessera::workloads
