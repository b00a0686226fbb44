// Tessera workload JSON, format "tessera.workload" version 1 (docs/workload-format.md).
// Reading validates every field with the JSON path of any error; writing is canonical (every
// field explicit, keys sorted) so read(write(g)) == g and write(read(write(g))) == write(g).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {

inline constexpr const char* kWorkloadFormat = "tessera.workload";
inline constexpr int kWorkloadFormatVersion = 1;

// `file` names the document in error messages and in each operator's default source.
Graph workload_from_json(const nlohmann::json& doc, const std::string& file);
nlohmann::json workload_to_json(const Graph& graph);

Graph read_workload_json(const std::string& path);

// Reads an N:M structured-sparsity pattern written as "N:M" (e.g. "2:4") at `key`.
StructuredSparsity parse_nm_pattern(ParamReader& r, const std::string& key);

}  // namespace tessera::workloads
