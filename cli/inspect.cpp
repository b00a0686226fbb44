// tessera inspect: a workload's operators, shapes, MACs and precisions, as a table or JSON.
#include <map>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/workload_args.hpp"
#include "workloads/graph.hpp"

namespace tessera::cli {

namespace {

struct InspectArgs {
  std::string workload_file;
  std::vector<std::string> overrides;
  bool as_json = false;
  WorkloadArgs workload;
};

std::string shape_text(const workloads::Operator& op) {
  using namespace workloads;
  return std::visit(
      [](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, Conv>)
          return fmt::format("{}x{}x{}x{} k{} {}x{}/{} g{}", s.n, s.c, s.h, s.w, s.k, s.r, s.s,
                             s.stride_h, s.groups);
        else if constexpr (std::is_same_v<T, MatMul>)
          return fmt::format("{}x[{}x{} . {}x{}]{}", s.batch, s.m, s.k, s.k, s.n,
                             s.b_is_weight ? "" : " act");
        else if constexpr (std::is_same_v<T, Pool>)
          return fmt::format(
              "{} {}x{}x{}x{} {}", to_string(s.type), s.n, s.c, s.h, s.w,
              s.global ? std::string("global") : fmt::format("{}x{}/{}", s.r, s.s, s.stride_h));
        else if constexpr (std::is_same_v<T, Elementwise>)
          return fmt::format("{} {}", s.function, s.elements);
        else if constexpr (std::is_same_v<T, Softmax>)
          return fmt::format("{}x{}", s.rows, s.cols);
        else if constexpr (std::is_same_v<T, Norm>)
          return fmt::format("{} {}", to_string(s.type), s.elements);
        else if constexpr (std::is_same_v<T, Embedding>)
          return fmt::format("{} of {}x{}", s.tokens, s.vocab, s.dim);
        else if constexpr (std::is_same_v<T, Butterfly>)
          return fmt::format("{}x[{}->{}] {} of N={}", s.rows, s.in_features, s.out_features,
                             s.copies(), s.size());
        else if constexpr (std::is_same_v<T, Fft>)
          return fmt::format("{}x{}x{} {}", s.batch, s.rows, s.cols,
                             s.two_d ? "2-D real" : (s.complex_input ? "complex" : "real"));
        else
          return fmt::format("{} {}->{}", to_string(s.type), s.input_elements, s.output_elements);
      },
      op.shape);
}

// ONNX: per operator type, what its nodes became (LoadOptions::on_node) and how many.
using OpTypeUses = std::map<std::string, std::map<std::string, long long>>;

// The words `inspect` uses for what an ONNX node became.
std::string became_category(const std::string& became) {
  if (became == "conv") return "convolution";
  if (became == "matmul") return "matrix product";
  if (became == "embedding" || became == "data_movement") return "data movement";
  if (became == "folded" || became == "bypassed") return "folded";
  if (became == "unsupported") return "unsupported";
  return "vector operation";
}

int inspect(const workloads::Graph& g, const OpTypeUses& op_types, bool as_json,
            std::ostream& out) {
  const auto totals = g.totals();
  if (as_json) {
    nlohmann::json layers = nlohmann::json::array();
    for (auto n : g.topological_order()) {
      const auto& op = g.op(n);
      nlohmann::json inputs = nlohmann::json::array();
      for (auto p : g.producers(n)) inputs.push_back(g.op(p).name);
      layers.push_back({{"name", op.name},
                        {"kind", workloads::to_string(op.kind())},
                        {"source", op.source},
                        {"inputs", std::move(inputs)},
                        {"macs", op.macs()},
                        {"params", op.params()},
                        {"weight_bytes", op.weight_bytes()},
                        {"input_bytes", op.input_bytes()},
                        {"output_bytes", op.output_bytes()},
                        {"weight_bits", op.precision.weight_bits},
                        {"activation_bits", op.precision.activation_bits},
                        {"weight_density", op.density.weight},
                        {"activation_density", op.density.activation}});
    }
    nlohmann::json doc = {{"workload", g.name()},
                                {"layers", std::move(layers)},
                                {"totals",
                                 {{"layers", g.size()},
                                  {"macs", totals.macs},
                                  {"params", totals.params},
                                  {"weight_bytes", totals.weight_bytes},
                                  {"activation_bytes", totals.activation_bytes}}}};
    if (!op_types.empty()) {
      nlohmann::json types = nlohmann::json::array();
      for (const auto& [type, uses] : op_types) {
        nlohmann::json became = nlohmann::json::array();
        long long nodes = 0;
        for (const auto& [what, count] : uses) {
          became.push_back({{"as", became_category(what)}, {"kind", what}, {"nodes", count}});
          nodes += count;
        }
        types.push_back({{"op_type", type}, {"nodes", nodes}, {"became", std::move(became)}});
      }
      doc["op_types"] = std::move(types);
    }
    out << doc.dump(2) << "\n";
    return 0;
  }
  std::size_t w = 5;
  for (auto n : g.topological_order()) w = std::max(w, g.op(n).name.size());
  w = std::min<std::size_t>(w, 40);
  out << fmt::format("{}: {} operators\n", g.name(), g.size());
  out << fmt::format("{:<{}} {:<13} {:<32} {:>14} {:>12} {:>8}\n", "layer", w, "kind", "shape",
                     "MACs", "params", "bits w/a");
  for (auto n : g.topological_order()) {
    const auto& op = g.op(n);
    out << fmt::format(
        "{:<{}} {:<13} {:<32} {:>14} {:>12} {:>8}\n", op.name.substr(0, w), w,
        workloads::to_string(op.kind()), shape_text(op), op.macs(), op.params(),
        fmt::format("{}/{}", op.precision.weight_bits, op.precision.activation_bits));
  }
  out << fmt::format("total: {} MACs, {} params, {} weight bytes, {} activation bytes\n",
                     totals.macs, totals.params, totals.weight_bytes, totals.activation_bytes);
  if (!op_types.empty()) {
    out << fmt::format("\nONNX operator types ({}): nodes, and what they became\n",
                       op_types.size());
    for (const auto& [type, uses] : op_types) {
      std::string became;
      long long nodes = 0;
      for (const auto& [what, count] : uses) {
        became += fmt::format("{}{} {} ({})", became.empty() ? "" : ", ", count,
                              became_category(what), what);
        nodes += count;
      }
      out << fmt::format("{:<40} {:>6}  {}\n", type, nodes, became);
    }
  }
  return 0;
}

}  // namespace

Command add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Summarise a workload per layer and in total");
  cmd->add_option("workload", a->workload_file, "Workload file or nasbench201:ARCH")->required();
  cmd->add_flag("--json", a->as_json, "Print JSON instead of a table");
  cmd->add_option("--set", a->overrides, "Workload setting: workload.KEY=value (repeatable)");
  add_workload_options(*cmd, a->workload);
  return {cmd, [a](std::ostream& out, std::ostream&) {
            OpTypeUses op_types;
            const auto graph = load_workload_only(
                a->workload_file, a->workload, a->overrides,
                [&](const std::string& type, const std::string& became) { ++op_types[type][became]; });
            return inspect(graph, op_types, a->as_json, out);
          }};
}

}  // namespace tessera::cli
