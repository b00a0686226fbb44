#include "arch/energy/hamming.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "arch/energy/reorder.hpp"
#include "common/error.hpp"

namespace tessera::arch::energy {

namespace {

ToggleResult price(const std::vector<PortCount>& ports, const LayerHamming& l) {
  ToggleResult r;
  r.ports = ports;
  double var = 0;
  for (const auto& p : ports) {
    r.toggles += p.toggles;
    r.transitions += p.transitions;
    var += p.ci95 * p.ci95;
    r.exact = r.exact && p.exact;
  }
  r.ci95 = std::sqrt(var);  // ports sampled independently
  r.toggle_pj = r.toggles * l.pj_per_toggle;
  r.base_pj = static_cast<double>(l.macs) * l.mac_energy_fraction * l.base_pj_per_mac;
  return r;
}

nlohmann::json result_json(const ToggleResult& r) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : r.ports)
    ports.push_back({{"port", p.port},
                     {"bits", p.bits},
                     {"toggles", p.toggles},
                     {"transitions", p.transitions},
                     {"toggles_per_transition", p.transitions > 0 ? p.toggles / p.transitions : 0.0},
                     {"values", p.values},
                     {"exact", p.exact},
                     {"toggles_ci95", p.ci95}});
  return {{"toggles", r.toggles},      {"toggles_ci95", r.ci95}, {"transitions", r.transitions},
          {"exact", r.exact},          {"toggle_energy_pj", r.toggle_pj},
          {"base_energy_pj", r.base_pj}, {"energy_pj", r.energy_pj()}, {"ports", ports}};
}

}  // namespace

HammingReport analyse_hamming(const Engine& engine, const workloads::Graph& graph,
                              const HammingOptions& options, const HammingProgress& progress) {
  const auto* source = engine.stream_source();
  if (!source)
    throw UnsupportedError("engine '" + engine.engine_name() +
                           "' does not describe its operand streams: no hamming-distance energy");
  const auto tech = source->technology();
  HammingReport report;
  report.technology = tech->name;
  report.options = options;
  const auto order = graph.topological_order();
  // Layers with streams, in topological order.
  struct Item {
    workloads::Graph::Node node;
    LayerStreams streams;
  };
  std::vector<Item> items;
  for (auto n : order)
    if (auto s = source->operand_streams(graph.op(n))) items.push_back({n, std::move(*s)});
  std::vector<LayerValues> values(items.size());
  report.layers.resize(items.size());
  std::vector<std::vector<PortCount>> counts(items.size());
  std::mutex progress_mutex;
  std::size_t counted = 0;
  if (progress) progress("counting", 0, items.size());
  tbb::parallel_for(std::size_t{0}, items.size(), [&](std::size_t i) {
    const auto& op = graph.op(items[i].node);
    values[i] = make_values(op, options);
    LayerHamming& l = report.layers[i];
    l.name = op.name;
    l.macs = static_cast<std::uint64_t>(op.macs());
    l.mac_energy_fraction = engine.mac_energy_fraction(op);
    l.precision = source->mac_precision(op);
    const double e_mac = tech->mac_cost(l.precision).energy_pj;
    double ref = 0;
    for (const auto& p : items[i].streams.ports) ref += p.bits / 2.0;
    for (const auto& p : items[i].streams.indexed) ref += p.bits / 2.0;
    l.table_mac_pj = static_cast<double>(l.macs) * e_mac;
    l.pj_per_toggle = ref > 0 ? tech->mac_data_fraction * e_mac / ref : 0;
    l.base_pj_per_mac = (1 - tech->mac_data_fraction) * e_mac;
    l.weight_source = values[i].weight_source;
    l.input_source = values[i].input_source;
    counts[i] = count_toggles(items[i].streams, op, values[i], options);
    l.original = price(counts[i], l);
    if (progress) {
      const std::lock_guard<std::mutex> lock(progress_mutex);
      progress("counting", ++counted, items.size());
    }
  });
  // A folder that matches no layer is a wrong folder or names exported under other names, not
  // a run on synthetic activations.
  if (options.data.rfind("npy:", 0) == 0 && !items.empty() &&
      std::none_of(values.begin(), values.end(),
                   [](const LayerValues& v) { return v.input_source == "npy"; }))
    throw InputError(options.data.substr(4) + ": no .npy file matches a layer of " + graph.name() +
                     " (the first, '" + graph.op(items.front().node).name + "', would read " +
                     npy_path(options.data, graph.op(items.front().node).name) + ")");
  if (options.optimize_order) {
    if (progress) progress("reordering", 0, items.size());
    std::vector<const workloads::Operator*> ops;
    std::vector<workloads::Graph::Node> nodes;
    std::vector<const LayerStreams*> streams;
    for (const auto& it : items) {
      ops.push_back(&graph.op(it.node));
      nodes.push_back(it.node);
      streams.push_back(&it.streams);
    }
    const auto permuted = optimize_channel_order(graph, nodes, ops, streams, values, counts, options);
    for (std::size_t i = 0; i < items.size(); ++i) {
      report.layers[i].optimized = price(counts[i], report.layers[i]);
      report.layers[i].permuted = permuted[i];
    }
  }
  for (const auto& l : report.layers) {
    report.toggles += l.original.toggles;
    report.energy_pj += l.original.energy_pj();
    report.table_mac_pj += l.table_mac_pj;
    const ToggleResult& after = l.optimized ? *l.optimized : l.original;
    report.toggles_optimized += after.toggles;
    report.energy_optimized_pj += after.energy_pj();
  }
  // Finite figures whose products overflow (a technology table's 1e307 pJ): no result.
  if (!std::isfinite(report.energy_pj) || !std::isfinite(report.table_mac_pj))
    throw InputError(tech->origin + ": the datapath energy of " + graph.name() +
                     " is not finite: the table's MAC energies are too large");
  return report;
}

nlohmann::json to_json(const HammingReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    nlohmann::json j = {{"name", l.name},
                        {"macs", l.macs},
                        {"precision", l.precision},
                        {"table_mac_energy_pj", l.table_mac_pj},
                        {"pj_per_toggle", l.pj_per_toggle},
                        {"base_pj_per_mac", l.base_pj_per_mac},
                        {"weight_source", l.weight_source},
                        {"input_source", l.input_source},
                        {"original", result_json(l.original)}};
    if (l.optimized) {
      j["optimized"] = result_json(*l.optimized);
      j["permuted"] = l.permuted;
    }
    layers.push_back(std::move(j));
  }
  nlohmann::json j = {{"technology", r.technology},
                      {"data", r.options.data},
                      {"encoding", r.options.sign_magnitude ? "sign-magnitude" : "twos-complement"},
                      {"seed", r.options.seed},
                      {"optimize_order", r.options.optimize_order},
                      {"exact_limit", r.options.exact_limit},
                      {"samples", r.options.samples},
                      {"toggles", r.toggles},
                      {"energy_pj", r.energy_pj},
                      {"table_mac_energy_pj", r.table_mac_pj},
                      {"layers", std::move(layers)}};
  if (r.options.optimize_order) {
    j["toggles_optimized"] = r.toggles_optimized;
    j["energy_optimized_pj"] = r.energy_optimized_pj;
  }
  return j;
}

std::string format_table(const HammingReport& r) {
  // The layer name comes last and whole, so rows of long ONNX names stay distinct and the
  // figures line up whatever the names' lengths.
  std::string out = fmt::format("{:>12} {:>10} {:>7} {:>12} {:>12}", "toggles", "+-ci95",
                                "t/pair", "datapath uJ", "table uJ");
  if (r.options.optimize_order) out += fmt::format(" {:>12} {:>8}", "reordered", "change");
  out += "  layer\n";
  for (const auto& l : r.layers) {
    const auto& o = l.original;
    out += fmt::format("{:>12.5g} {:>10.3g} {:>7.3f} {:>12.5g} {:>12.5g}", o.toggles, o.ci95,
                       o.transitions > 0 ? o.toggles / o.transitions : 0.0, o.energy_pj() * 1e-6,
                       l.table_mac_pj * 1e-6);
    if (r.options.optimize_order) {
      if (l.optimized)
        out += fmt::format(" {:>12.5g} {:>7.2f}%", l.optimized->toggles,
                           o.toggles > 0 ? 100.0 * (l.optimized->toggles - o.toggles) / o.toggles
                                         : 0.0);
      else
        out += fmt::format(" {:>12} {:>8}", "-", "-");
    }
    out += "  " + l.name + "\n";
  }
  out += fmt::format("total: {:.6g} toggles, datapath {:.6g} uJ (flat table MAC energy {:.6g} uJ)",
                     r.toggles, r.energy_pj * 1e-6, r.table_mac_pj * 1e-6);
  if (r.options.optimize_order)
    out += fmt::format("; reordered {:.6g} toggles ({:+.2f}%), {:.6g} uJ", r.toggles_optimized,
                       r.toggles > 0 ? 100.0 * (r.toggles_optimized - r.toggles) / r.toggles : 0.0,
                       r.energy_optimized_pj * 1e-6);
  out += "\n"
         "t/pair: bit toggles per consecutive pair of values on a datapath port (toggles / "
         "transitions);\n"
         "        uniformly random b-bit operands give b/2, correlated operands less.\n"
         "datapath uJ: toggles x energy per toggle + MACs x base energy; table uJ: MACs x the "
         "technology table's MAC energy.\n";
  if (std::any_of(r.layers.begin(), r.layers.end(), [](const auto& l) { return !l.original.exact; }))
    out += "+-ci95: half-width of the 95% confidence interval of sampled counts (0 when exact).\n";
  return out;
}

}  // namespace tessera::arch::energy
