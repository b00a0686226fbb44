#include "workloads/passes.hpp"

#include <vector>

namespace tessera::workloads {

namespace {

bool is_batch_norm(const Operator& op) {
  const auto* n = std::get_if<Norm>(&op.shape);
  return n && n->type == NormType::batch;
}

bool takes_bias(const Operator& op) {
  if (op.kind() == OpKind::conv) return true;
  const auto* m = std::get_if<MatMul>(&op.shape);
  return m && m->b_is_weight;
}

}  // namespace

std::size_t fold_batch_norms(Graph& graph) {
  const auto order = graph.topological_order();
  std::vector<std::optional<Graph::Node>> into(graph.size());  // folded norm -> its producer
  std::size_t folded = 0;
  for (const auto n : order) {
    if (!is_batch_norm(graph.op(n))) continue;
    const auto producers = graph.producers(n);
    if (producers.size() != 1) continue;
    const auto p = producers[0];
    if (!takes_bias(graph.op(p)) || graph.consumers(p).size() != 1 ||
        graph.op(p).output_elements() != graph.op(n).output_elements())
      continue;
    into[n] = p;
    ++folded;
  }
  if (folded == 0) return 0;

  Graph out(graph.name());
  std::vector<Graph::Node> node(graph.size());
  for (const auto n : order) {
    if (into[n]) {
      node[n] = node[*into[n]];
      Operator& producer = out.op(node[n]);
      std::visit(
          [](auto& s) {
            if constexpr (requires { s.bias; }) s.bias = true;
          },
          producer.shape);
      producer.folded.push_back(graph.op(n).name);
      continue;
    }
    node[n] = out.add(graph.op(n));
  }
  for (const auto n : order)
    for (const auto c : graph.consumers(n))
      if (node[n] != node[c]) out.connect(node[n], node[c]);
  graph = std::move(out);
  return folded;
}

}  // namespace tessera::workloads
