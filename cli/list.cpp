// tessera list: what is built in (engines, workload front-ends, fidelities, search algorithms,
// accuracy oracles, accelerator templates, evaluator pools, scheduling policies, DRAM presets).
#include <algorithm>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch/config.hpp"
#include "arch/dram/spec.hpp"
#include "cli/command.hpp"
#include "cli/pools.hpp"
#include "explorer/search.hpp"
#include "serving/multi_dnn.hpp"
#include "serving/policy.hpp"
#include "serving/xr_run.hpp"
#include "sim/executor.hpp"
#include "sim/metrics.hpp"
#include "workloads/frontend.hpp"

namespace tessera::cli {

namespace {

int list(bool as_json, std::ostream& out) {
  nlohmann::json doc;
  doc["engines"] = nlohmann::json::object();
  for (const auto& [name, desc] : arch::engines().list()) doc["engines"][name] = desc;
  doc["frontends"] = nlohmann::json::object();
  for (const auto& [name, desc] : workloads::frontends().list()) doc["frontends"][name] = desc;
  doc["fidelities"] = nlohmann::json::object();
  for (const auto& [name, desc] : sim::fidelities().list()) doc["fidelities"][name] = desc;
  doc["metrics"] = nlohmann::json::object();
  for (const sim::Metric& m : sim::metric_table())
    doc["metrics"][std::string(m.name)] =
        fmt::format("{} [{}], {}", m.description, m.unit, sim::to_string(m.direction));
  doc["evaluator_pools"] = nlohmann::json::object();
  for (const auto& [name, desc] : evaluator_pools().list()) doc["evaluator_pools"][name] = desc;
  doc["search_algorithms"] = nlohmann::json::object();
  for (const auto& [name, desc] : explorer::search_algorithms().list())
    doc["search_algorithms"][name] = desc;
  doc["accuracy_oracles"] = nlohmann::json::object();
  for (const auto& [name, desc] : explorer::accuracy_oracles().list())
    doc["accuracy_oracles"][name] = desc;
  doc["scheduling_policies"] = nlohmann::json::object();
  for (const auto& [name, desc] : serving::policies().list()) doc["scheduling_policies"][name] = desc;
  doc["multi_dnn_policies"] = nlohmann::json::object();
  for (const auto& [name, desc] : serving::multi_dnn_policies().list())
    doc["multi_dnn_policies"][name] = desc;
  doc["xr_policies"] = nlohmann::json::object();
  for (const auto& [name, desc] : serving::xr::policies().list()) doc["xr_policies"][name] = desc;
  doc["dram_presets"] = nlohmann::json::object();
  for (const auto& p : arch::dram::presets())
    doc["dram_presets"][p.name] =  // the source's first clause (all of it: arch/dram/spec.cpp)
        fmt::format("{:.1f} GB/s per channel, {}; dram.refresh: {}", p.peak_bytes_per_cycle() / p.timing.tck_ns,
                    p.source.substr(0, p.source.find(',')), p.timing.rfc_pb ? "all_bank or per_bank" : "all_bank");
  doc["accelerator_templates"] = nlohmann::json::object();
  for (const auto& [name, desc] : explorer::accelerator_templates().list())
    doc["accelerator_templates"][name] = desc;
  if (as_json) {
    out << doc.dump(2) << "\n";
    return 0;
  }
  for (const auto& [section, title] : {std::pair{"engines", "engines"},
                                       {"frontends", "workload front-ends"},
                                       {"fidelities", "fidelities"},
                                       {"search_algorithms", "search algorithms"},
                                       {"accuracy_oracles", "accuracy oracles"},
                                       {"accelerator_templates", "accelerator templates"},
                                       {"evaluator_pools", "evaluator pools"},
                                       {"scheduling_policies", "scheduling policies (tessera serve)"},
                                       {"multi_dnn_policies", "multi-DNN policies (tessera serve)"},
                                       {"xr_policies", "XR scenario policies (tessera serve, tessera.xr_scenario)"},
                                       {"dram_presets", "DRAM presets (dram.preset)"},
                                       {"metrics", "metrics of a design point"}}) {
    out << title << ":\n";
    if (doc[section].empty()) out << "  (none registered)\n";
    std::size_t width = 12;  // names line up within a section, however long
    for (const auto& [name, desc] : doc[section].items()) width = std::max(width, name.size());
    for (const auto& [name, desc] : doc[section].items())
      out << fmt::format("  {:<{}} {}\n", name, width, desc.get<std::string>());
  }
  return 0;
}

}  // namespace

Command add_list(CLI::App& app) {
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "list", "List engines, workload front-ends, search algorithms and evaluator pools");
  cmd->add_flag("--json", *as_json, "Print JSON instead of text");
  return {cmd, [as_json](std::ostream& out, std::ostream&) { return list(*as_json, out); }};
}

}  // namespace tessera::cli
