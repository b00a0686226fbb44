#include "workloads/passes.hpp"

#include <algorithm>
#include <vector>

namespace tessera::workloads {

namespace {

bool is_batch_norm(const Operator& op) {
  const auto* n = std::get_if<Norm>(&op.shape);
  return n && n->type == NormType::batch;
}

// One input channel per group, and more than one group: a filter's only matrix is its R x S
// kernel (an ungrouped convolution of one input channel is an ordinary K x (R·S) matrix).
bool is_depthwise(const Conv& c) { return c.groups > 1 && c.c == c.groups; }

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

i64 full_rank(const Operator& op) {
  if (const auto* m = std::get_if<MatMul>(&op.shape))
    return m->b_is_weight ? std::min(m->k, m->n) : 0;
  if (const auto* c = std::get_if<Conv>(&op.shape)) {
    if (c->transposed) return 0;
    if (is_depthwise(*c)) return std::min(c->r, c->s);
    return std::min(c->k / c->groups, size_product({c->c / c->groups, c->r, c->s}));
  }
  return 0;
}

void factorise_low_rank(Graph& graph, const std::vector<i64>& ranks) {
  if (std::none_of(ranks.begin(), ranks.end(), [](i64 r) { return r > 0; })) return;
  const auto order = graph.topological_order();
  Graph out(graph.name());
  // Each node's entry (what its producers feed) and exit (what its consumers read).
  std::vector<Graph::Node> entry(graph.size()), exit(graph.size());
  for (const auto n : order) {
    const Operator& op = graph.op(n);
    const i64 r = ranks[n];
    if (r == 0) {
      entry[n] = exit[n] = out.add(op);
      continue;
    }
    Operator in = op, last = op;
    in.name = op.name + ".factor_in";
    last.name = op.name + ".factor_out";
    in.source = op.source + " (low-rank factor 1 of 2, rank " + std::to_string(r) + ")";
    last.source = op.source + " (low-rank factor 2 of 2, rank " + std::to_string(r) + ")";
    for (Operator* f : {&in, &last}) {
      f->weight_values.reset();
      f->masks.reset();
    }
    in.early_exit.reset();  // the exit is the factorised operator's output
    in.folded.clear();      // a folded norm lives on in the bias, which the second factor has
    if (const auto* m = std::get_if<MatMul>(&op.shape)) {
      MatMul a = *m, b = *m;
      a.n = r;
      a.bias = false;
      b.k = r;
      in.shape = a;
      last.shape = b;
    } else if (const auto& c = std::get<Conv>(op.shape); is_depthwise(c)) {
      // Each filter's kernel as r outer products (column x row): R x 1 down the rows over
      // every column (r channels per filter), then 1 x S along the columns summing them.
      Conv a = c;
      a.k = c.k * r;
      a.s = 1;
      a.stride_w = a.dilation_w = 1;
      a.pad_left = a.pad_right = 0;
      a.bias = false;
      Conv b = c;
      b.c = a.k;
      b.h = a.p();
      b.r = 1;
      b.stride_h = b.dilation_h = 1;
      b.pad_top = b.pad_bottom = 0;
      b.groups = c.k;
      in.shape = a;
      last.shape = b;
    } else {
      // Group by group: each group's filters to r channels, then a 1x1 conv of the same groups.
      Conv a = c;
      a.k = c.groups * r;
      a.bias = false;
      Conv b{.n = c.n, .c = a.k, .h = c.p(), .w = c.q(), .k = c.k, .r = 1, .s = 1,
             .groups = c.groups, .bias = c.bias};
      in.shape = a;
      last.shape = b;
    }
    validate(in, "");
    validate(last, "");
    entry[n] = out.add(std::move(in));
    exit[n] = out.add(std::move(last));
    out.connect(entry[n], exit[n]);
  }
  for (const auto n : order)
    for (const auto c : graph.consumers(n)) out.connect(exit[n], entry[c]);
  graph = std::move(out);
}

}  // namespace tessera::workloads
