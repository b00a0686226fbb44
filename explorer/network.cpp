#include "explorer/network.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "common/error.hpp"
#include "explorer/oracle.hpp"
#include "workloads/nasbench201.hpp"
#include "workloads/passes.hpp"
#include "workloads/transformer.hpp"

namespace tessera::explorer {

namespace {

// NAS-Bench-201 edges in architecture-string order (workloads/nasbench201.hpp).
constexpr std::array<const char*, 6> kEdges = {"op_1_0", "op_2_0", "op_2_1",
                                               "op_3_0", "op_3_1", "op_3_2"};
constexpr std::array<const char*, 5> kOps = {"none", "skip_connect", "nor_conv_1x1",
                                             "nor_conv_3x3", "avg_pool_3x3"};
constexpr std::array<const char*, 4> kTransformerSizes = {"layers", "hidden", "heads",
                                                          "intermediate"};

template <std::size_t N>
bool one_of(const std::array<const char*, N>& names, const std::string& name) {
  return std::find_if(names.begin(), names.end(), [&](const char* n) { return name == n; }) !=
         names.end();
}

template <std::size_t N>
std::string listed(const std::array<const char*, N>& names) {
  std::string s;
  for (const char* n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::string cell_string(const std::array<std::string, 6>& ops) {
  return "|" + ops[0] + "~0|+|" + ops[1] + "~0|" + ops[2] + "~1|+|" + ops[3] + "~0|" + ops[4] +
         "~1|" + ops[5] + "~2|";
}

}  // namespace

NetworkSpec read_network(ParamReader& r, const std::string& dir) {
  NetworkSpec s;
  s.kind = r.string("kind");
  if (s.kind != "nasbench201" && s.kind != "transformer")
    throw r.error("kind", "expected nasbench201 or transformer, got \"" + s.kind + "\"");
  if (s.kind == "nasbench201") {
    s.dataset = r.choice("dataset", nats_datasets(), "cifar10");
    s.arch = r.string("arch", "");
    if (!s.arch.empty()) try {
        (void)workloads::parse_nasbench201_arch(s.arch);
      } catch (const InputError& e) {
        throw r.error("arch", e.what());
      }
  } else {
    const std::string file = r.string("config");
    s.config_file = std::filesystem::path(file).is_absolute()
                        ? file
                        : (std::filesystem::path(dir) / file).lexically_normal().string();
    try {
      (void)workloads::read_transformer_config(s.config_file);
      s.config = read_json_file(s.config_file);
    } catch (const InputError& e) {
      throw r.error("config", e.what());
    }
  }
  r.finish();
  return s;
}

void check_network_parameter(const NetworkSpec& spec, const std::string& name,
                             const std::vector<nlohmann::json>& values, const std::string& where) {
  const auto fail = [&](const std::string& what) {
    return InputError(where + "network parameter '" + name + "': " + what);
  };
  if (spec.kind == "nasbench201") {
    if (name == "arch") {
      for (const auto& v : values) {
        if (!v.is_string()) throw fail("values must be architecture strings, got " + v.dump());
        try {
          (void)workloads::parse_nasbench201_arch(v.get<std::string>());
        } catch (const InputError& e) {
          throw fail(e.what());
        }
      }
      return;
    }
    if (!one_of(kEdges, name))
      throw fail("a nasbench201 network has the parameters arch and " + listed(kEdges));
    for (const auto& v : values)
      if (!v.is_string() || !one_of(kOps, v.get<std::string>()))
        throw fail("values must be operations (" + listed(kOps) + "), got " + v.dump());
    return;
  }
  if (!one_of(kTransformerSizes, name))
    throw fail("a transformer network has the parameters " + listed(kTransformerSizes));
  for (const auto& v : values)
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
      throw fail("values must be positive integers, got " + v.dump());
}

void check_network_complete(const NetworkSpec& spec, const std::vector<std::string>& names,
                            const std::string& where) {
  if (spec.kind != "nasbench201") return;
  const auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  if (has("arch")) {
    for (const char* e : kEdges)
      if (has(e))
        throw InputError(where + "network.arch and network." + e +
                         " both choose the cell; use one or the other");
    return;
  }
  if (!spec.arch.empty()) return;
  for (const char* e : kEdges)
    if (!has(e))
      throw InputError(where + "network." + e +
                       " is not a parameter and the network has no \"arch\" to take it from "
                       "(sweep network.arch, or every edge " +
                       listed(kEdges) + ")");
}

nlohmann::json resolve_network(const NetworkSpec& spec, const nlohmann::json& values) {
  if (spec.kind == "nasbench201") {
    std::string arch;
    if (values.contains("arch")) {
      arch = values.at("arch").get<std::string>();
    } else {
      std::array<std::string, 6> ops;
      if (!spec.arch.empty()) ops = workloads::parse_nasbench201_arch(spec.arch).ops;
      for (std::size_t k = 0; k < kEdges.size(); ++k)
        if (values.contains(kEdges[k])) ops[k] = values.at(kEdges[k]).get<std::string>();
      arch = cell_string(ops);
    }
    return {{"kind", spec.kind}, {"dataset", spec.dataset}, {"arch", arch}};
  }
  nlohmann::json d = {{"kind", spec.kind}, {"file", spec.config_file}, {"config", spec.config}};
  auto c = workloads::transformer_config_from_json(spec.config, spec.config_file);
  for (const char* key : kTransformerSizes)
    if (values.contains(key)) d[key] = values.at(key);
  const std::int64_t hidden = d.value("hidden", c.hidden), heads = d.value("heads", c.heads);
  if (hidden % heads != 0)
    throw InputError("network.hidden " + std::to_string(hidden) + " is not a multiple of " +
                     "network.heads " + std::to_string(heads));
  if (c.kv_heads != c.heads && heads % c.kv_heads != 0)
    throw InputError("network.heads " + std::to_string(heads) + " is not a multiple of the " +
                     std::to_string(c.kv_heads) + " key/value heads of " + spec.config_file);
  return d;
}

std::string network_source(const nlohmann::json& network) {
  if (network.at("kind") == "nasbench201")
    return std::string(workloads::kNasBench201Prefix) + network.at("dataset").get<std::string>() +
           ":" + network.at("arch").get<std::string>();
  return network.at("file").get<std::string>();
}

workloads::Graph build_network(const nlohmann::json& network,
                               const workloads::WorkloadSettings& settings) {
  if (network.at("kind") == "nasbench201")  // as --workload nasbench201:DATASET:ARCH builds it
    return workloads::load_workload(network_source(network), settings);
  const std::string file = network.at("file").get<std::string>();
  auto c = workloads::transformer_config_from_json(network.at("config"), file);
  const bool head_dim_follows = c.head_dim * c.heads == c.hidden;
  const bool kv_follows = c.kv_heads == c.heads;
  c.layers = network.value("layers", c.layers);
  c.hidden = network.value("hidden", c.hidden);
  c.heads = network.value("heads", c.heads);
  c.intermediate = network.value("intermediate", c.intermediate);
  if (head_dim_follows) c.head_dim = c.hidden / c.heads;
  if (kv_follows) c.kv_heads = c.heads;
  return workloads::load_workload(file, settings, [&](const workloads::LoadOptions& o) {
    return workloads::load_workload(file, "transformer", o,
                                    [&] { return workloads::build_transformer(c, file, o); });
  });
}

}  // namespace tessera::explorer
