#include "workloads/rebatch.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <map>
#include <type_traits>

#include "common/checked.hpp"

namespace tessera::workloads {

Graph rebatch(const Graph& graph, i64 batch) {
  if (batch < 1) throw InputError("batch " + std::to_string(batch) + " must be >= 1");
  Graph out = graph;
  if (batch == 1) return out;
  for (const Graph::Node n : out.topological_order()) {
    Operator& op = out.op(n);
    try {
      std::visit(
          [&](auto& s) {
            using T = std::decay_t<decltype(s)>;
            const auto times = [&](i64& v) { v = checked_mul(v, batch, "the batched shape"); };
            if constexpr (std::is_same_v<T, Conv> || std::is_same_v<T, Pool>) {
              times(s.n);
            } else if constexpr (std::is_same_v<T, MatMul>) {
              times(s.b_is_weight ? s.m : s.batch);
            } else if constexpr (std::is_same_v<T, Elementwise> || std::is_same_v<T, Norm>) {
              times(s.elements);
            } else if constexpr (std::is_same_v<T, Softmax>) {
              times(s.rows);
            } else if constexpr (std::is_same_v<T, Embedding>) {
              times(s.tokens);
            } else if constexpr (std::is_same_v<T, DataMovement>) {
              times(s.input_elements);
              times(s.output_elements);
            } else if constexpr (std::is_same_v<T, Butterfly>) {
              times(s.rows);
            } else if constexpr (std::is_same_v<T, Fft>) {
              times(s.batch);
            } else {
              static_assert(!sizeof(T), "rebatch: an operator kind without a batch rule");
            }
          },
          op.shape);
    } catch (const CountOverflow& e) {
      throw InputError("operator '" + op.name + "' at batch " + std::to_string(batch) + ": " +
                       e.what());
    }
  }
  return out;
}

}  // namespace tessera::workloads

namespace tessera::workloads {

ExitStages split_stages(const Graph& graph) {
  const std::vector<Graph::Node> order = graph.topological_order();
  std::map<int, std::vector<Graph::Node>> exits;  // index -> its operators
  std::map<int, double> probability;
  for (const Graph::Node n : order)
    if (const auto& e = graph.op(n).early_exit) {
      exits[e->index].push_back(n);
      if (e->probability) probability[e->index] = *e->probability;
    }
  constexpr int kUnassigned = -1;
  std::vector<int> stage(graph.size(), kUnassigned);
  std::vector<std::size_t> position(graph.size());
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  int next = 0;
  for (const auto& [index, ops] : exits) {
    // Ancestors-or-self of this exit's operators not in an earlier stage; the latest of them
    // that is not part of an exit head (no early_exit mark) anchors the exit on the backbone.
    std::vector<Graph::Node> todo(ops.begin(), ops.end());
    std::optional<std::size_t> anchor;
    while (!todo.empty()) {
      const Graph::Node n = todo.back();
      todo.pop_back();
      if (stage[n] != kUnassigned) continue;
      stage[n] = next;
      if (!graph.op(n).early_exit) anchor = std::max(anchor.value_or(0), position[n]);
      for (const Graph::Node p : graph.producers(n)) todo.push_back(p);
    }
    // Operators that run before the anchor belong to this stage too (a graph without edges,
    // such as a SCALE-Sim topology, runs in its listed order).
    if (anchor)
      for (std::size_t i = 0; i < *anchor; ++i)
        if (stage[order[i]] == kUnassigned && !graph.op(order[i]).early_exit) stage[order[i]] = next;
    ++next;
  }
  bool rest = false;
  for (const Graph::Node n : order)
    if (stage[n] == kUnassigned) {
      stage[n] = next;
      rest = true;
    }
  const int count = next + (rest ? 1 : 0);
  ExitStages out;
  out.stages.assign(static_cast<std::size_t>(count), Graph{});
  std::vector<Graph::Node> copy(graph.size());
  for (int s = 0; s < count; ++s)
    out.stages[static_cast<std::size_t>(s)].set_name(
        graph.name() + (count > 1 ? "/stage" + std::to_string(s) : ""));
  for (const Graph::Node n : order) {
    Graph& g = out.stages[static_cast<std::size_t>(stage[n])];
    copy[n] = g.add(graph.op(n));
    for (const Graph::Node p : graph.producers(n))
      if (stage[p] == stage[n]) g.connect(copy[p], copy[n]);
  }
  double left = 1;
  for (const auto& [index, ops] : exits) {
    const auto it = probability.find(index);
    const double p = it == probability.end() ? 0.0 : it->second;
    out.exit_probability.push_back(p);
    left -= p;
  }
  if (rest) out.exit_probability.push_back(std::max(0.0, left));
  else if (!out.exit_probability.empty()) out.exit_probability.back() += std::max(0.0, left);
  return out;
}

}  // namespace tessera::workloads

namespace tessera::workloads {

namespace {

// The channels and plane of the output of `n`: a convolution's or pool's own, or, through
// operators that keep the shape (elementwise, norm, data movement of the same size), their
// producer's.
std::optional<std::array<i64, 3>> output_plane(const Graph& g, Graph::Node n) {
  for (int hops = 0; hops < 64; ++hops) {
    const Operator& op = g.op(n);
    if (const auto* c = std::get_if<Conv>(&op.shape)) return std::array<i64, 3>{c->k, c->p(), c->q()};
    if (const auto* p = std::get_if<Pool>(&op.shape)) return std::array<i64, 3>{p->c, p->p(), p->q()};
    const auto producers = g.producers(n);
    if (producers.empty() || op.output_elements() != g.op(producers.front()).output_elements())
      return std::nullopt;
    n = producers.front();
  }
  return std::nullopt;
}

}  // namespace

Graph add_exit_heads(const Graph& graph, const std::vector<ExitHead>& heads, const std::string& where) {
  Graph g = graph;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    const ExitHead& h = heads[i];
    const std::string at = where + "/" + std::to_string(i) + ": ";
    const auto node = g.find(h.after);
    if (!node) throw InputError(at + "no operator '" + h.after + "' in " + graph.name());
    const auto plane = output_plane(g, *node);
    if (!plane)
      throw InputError(at + "operator '" + h.after +
                       "' has no channels and plane to pool (name a convolution or pool, or an "
                       "elementwise operator after one)");
    const std::string name = "exit" + std::to_string(i);
    if (g.find(name + ".pool") || g.find(name + ".fc"))
      throw InputError(at + "the graph already has an operator named " + name + ".pool or .fc");
    Operator pool;
    pool.name = name + ".pool";
    pool.source = where;
    pool.precision = g.op(*node).precision;
    pool.shape = Pool{.type = PoolType::avg, .global = true, .n = 1, .c = (*plane)[0],
                      .h = (*plane)[1], .w = (*plane)[2], .r = (*plane)[1], .s = (*plane)[2]};
    Operator fc;
    fc.name = name + ".fc";
    fc.source = where;
    fc.precision = g.op(*node).precision;
    fc.shape = MatMul{.batch = 1, .m = 1, .n = h.classes, .k = (*plane)[0], .b_is_weight = true, .bias = true};
    fc.early_exit = EarlyExit{static_cast<int>(i), h.probability};
    pool.early_exit = fc.early_exit;  // part of the exit's head (workloads::split_stages)
    validate(pool, at + pool.name);
    validate(fc, at + fc.name);
    const auto p = g.add(pool), f = g.add(fc);
    g.connect(*node, p);
    g.connect(p, f);
  }
  return g;
}

}  // namespace tessera::workloads
