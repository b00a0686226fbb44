#include "workloads/frontend.hpp"

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "workloads/json_format.hpp"
#include "workloads/scalesim_topology.hpp"

namespace tessera::workloads {

namespace {

bool has_extension(const std::string& path, const std::string& ext) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ext;
}

Registry<FrontEnd> make_frontends() {
  Registry<FrontEnd> r("workload front-end");
  r.add("json", "Tessera workload JSON, *.json (docs/workload-format.md)",
        {[](const std::string& p) { return has_extension(p, ".json"); },
         [](const std::string& p, const LoadOptions&) { return read_workload_json(p); }});
  r.add("scalesim", "SCALE-Sim v2 topology CSV, conv or GEMM, *.csv",
        {[](const std::string& p) {
           return has_extension(p, ".csv") || looks_like_scalesim_topology(p);
         },
         [](const std::string& p, const LoadOptions&) { return read_scalesim_topology(p); }});
  return r;
}

}  // namespace

const Registry<FrontEnd>& frontends() {
  static const Registry<FrontEnd> registry = make_frontends();
  return registry;
}

void LoadOptions::warning(const std::string& text) const {
  if (warn)
    warn(text);
  else
    std::fprintf(stderr, "warning: %s\n", text.c_str());
}

Graph load_workload(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a directory, expected a workload file");
  if (!std::ifstream(path)) throw InputError(path + ": cannot open file");

  for (const auto& [name, description] : frontends().list()) {
    const FrontEnd& frontend = frontends().get(name);
    if (!frontend.accepts(path)) continue;
    Graph graph = frontend.load(path, options);
    if (graph.empty()) throw InputError(path + ": workload has no operators");
    try {
      graph.topological_order();
    } catch (const InputError& e) {
      throw InputError(path + ": " + e.what());
    }
    return graph;
  }
  std::string known;
  for (const auto& [name, description] : frontends().list())
    known.append(known.empty() ? "" : "; ").append(name).append(": ").append(description);
  throw InputError(path + ": no workload front-end reads this file (known: " + known + ")");
}

}  // namespace tessera::workloads
