// Networks as design parameters (docs/explorer.md, "Joint spaces"): a space's "network" object
// names a kind of network, and its parameters whose path starts with "network." choose one:
//
//   nasbench201  a NAS-Bench-201 cell: network.arch (architecture strings), or one parameter per
//                edge, network.op_1_0, op_2_0, op_2_1, op_3_0, op_3_1, op_3_2 (op_J_I: the
//                operation on the edge from node I to node J), values none, skip_connect,
//                nor_conv_1x1, nor_conv_3x3, avg_pool_3x3; edges not swept come from "arch".
//   transformer  a Hugging Face config.json ("config") whose sizes network.layers,
//                network.hidden, network.heads and network.intermediate replace its own.
//
// A point's network is a JSON description ({"kind": "nasbench201", "dataset": "cifar10",
// "arch": "|...|"}) that identifies it: the workload cache builds each description once, and
// accuracy oracles read it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "workloads/graph.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

struct NetworkSpec {
  std::string kind;     // "nasbench201" or "transformer"
  std::string dataset;  // nasbench201: cifar10, cifar100 or ImageNet16-120
  std::string arch;     // nasbench201: the cell edges not swept come from (may be empty)
  std::string config_file;  // transformer
  nlohmann::json config;    // transformer: the config.json as read
};

inline constexpr const char* kNetworkPrefix = "network.";

// Reads a "network" object; errors name the file and JSON path. Relative paths are relative to
// `dir`.
NetworkSpec read_network(ParamReader& r, const std::string& dir);

// Checks a network parameter (its name without "network.") and its values; `where` (file and
// JSON path) prefixes errors.
void check_network_parameter(const NetworkSpec& spec, const std::string& name,
                             const std::vector<nlohmann::json>& values, const std::string& where);

// Checks that the parameters `names` (without "network.") choose a whole network: every
// NAS-Bench-201 edge is swept or in the spec's "arch". `where` prefixes errors.
void check_network_complete(const NetworkSpec& spec, const std::vector<std::string>& names,
                            const std::string& where);

// The description of the network a point chooses; `values` maps parameter names (without
// "network.") to the point's values. InputError for a combination that is no network (a
// hidden size that heads do not divide).
nlohmann::json resolve_network(const NetworkSpec& spec, const nlohmann::json& values);

// Where a described network comes from, as a workload name: "nasbench201:DATASET:ARCH" (what
// --workload takes) or the transformer config's file.
std::string network_source(const nlohmann::json& network);

// Builds a described network with the workload settings (batch, precision annotations).
workloads::Graph build_network(const nlohmann::json& network,
                               const workloads::WorkloadSettings& settings);

}  // namespace tessera::explorer
