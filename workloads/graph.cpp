#include "workloads/graph.hpp"

#include <algorithm>
#include <map>

#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>

#include "common/error.hpp"

namespace tessera::workloads {

Graph::Node Graph::add(Operator op) {
  if (by_name_.count(op.name))
    throw InputError("workload '" + name_ + "': operator name '" + op.name + "' is used twice");
  std::string name = op.name;
  const Node n = boost::add_vertex(std::move(op), dag_);
  by_name_.emplace(std::move(name), n);
  return n;
}

void Graph::connect(Node producer, Node consumer) {
  if (!boost::edge(producer, consumer, dag_).second) boost::add_edge(producer, consumer, dag_);
}

std::optional<Graph::Node> Graph::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::vector<Graph::Node> Graph::producers(Node n) const {
  std::vector<Node> out;
  for (auto [it, end] = boost::in_edges(n, dag_); it != end; ++it)
    out.push_back(boost::source(*it, dag_));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Graph::Node> Graph::consumers(Node n) const {
  std::vector<Node> out;
  for (auto [it, end] = boost::out_edges(n, dag_); it != end; ++it)
    out.push_back(boost::target(*it, dag_));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Graph::Node> Graph::topological_order() const {
  std::vector<Node> reversed;
  try {
    boost::topological_sort(dag_, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    // Name the operators of one cycle: a strongly connected component with more than one node,
    // or a node with an edge to itself.
    std::vector<std::size_t> component(size());
    boost::strong_components(dag_, boost::make_iterator_property_map(
                                       component.begin(), boost::get(boost::vertex_index, dag_)));
    std::map<std::size_t, std::vector<Node>> members;
    for (Node n = 0; n < size(); ++n) members[component[n]].push_back(n);
    std::string names;
    for (const auto& [c, nodes] : members) {
      if (nodes.size() > 1 || boost::edge(nodes[0], nodes[0], dag_).second) {
        for (Node n : nodes) names += (names.empty() ? "" : " -> ") + dag_[n].name;
        break;
      }
    }
    throw InputError("workload '" + name_ + "' is not acyclic: cycle through " + names);
  }
  bool insertion_is_topological = true;
  for (auto [it, end] = boost::edges(dag_); it != end && insertion_is_topological; ++it)
    insertion_is_topological = boost::source(*it, dag_) < boost::target(*it, dag_);
  if (insertion_is_topological) {
    std::vector<Node> order(size());
    for (Node n = 0; n < size(); ++n) order[n] = n;
    return order;
  }
  return {reversed.rbegin(), reversed.rend()};
}

GraphTotals Graph::totals() const {
  GraphTotals t;
  for (Node n = 0; n < size(); ++n) {
    const Operator& o = dag_[n];
    t.macs += o.macs();
    t.params += o.params();
    t.weight_bytes += o.weight_bytes();
    t.activation_bytes += o.output_bytes();
    if (boost::in_degree(n, dag_) == 0) t.activation_bytes += o.input_bytes();
  }
  return t;
}

bool Graph::operator==(const Graph& other) const {
  if (name_ != other.name_ || size() != other.size()) return false;
  for (Node n = 0; n < size(); ++n) {
    if (!(dag_[n] == other.dag_[n])) return false;
    if (producers(n) != other.producers(n)) return false;
  }
  return true;
}

}  // namespace tessera::workloads
