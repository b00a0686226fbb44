// The workload IR: a DAG of operators held in a Boost.Graph adjacency list. An edge u -> v means
// v consumes an activation tensor u produces.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "workloads/operator.hpp"

namespace tessera::workloads {

struct GraphTotals {
  i64 macs = 0;
  i64 params = 0;
  i64 weight_bytes = 0;
  // Every activation tensor counted once: the outputs of all operators plus the inputs of
  // operators that have no producer in the graph (the network inputs).
  i64 activation_bytes = 0;
};

class Graph {
 public:
  using Dag = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Operator>;
  using Node = Dag::vertex_descriptor;

  explicit Graph(std::string name = "") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Adds an operator; throws InputError if its name is already taken.
  Node add(Operator op);
  // Adds the edge producer -> consumer (duplicates are ignored).
  void connect(Node producer, Node consumer);

  std::size_t size() const { return boost::num_vertices(dag_); }
  bool empty() const { return size() == 0; }
  std::optional<Node> find(const std::string& name) const;
  const Operator& op(Node n) const { return dag_[n]; }
  Operator& op(Node n) { return dag_[n]; }

  std::vector<Node> producers(Node n) const;  // in insertion order
  std::vector<Node> consumers(Node n) const;

  // All nodes with every producer before its consumers. Insertion order when it already is one
  // (front-ends add in file order, which keeps reports readable); otherwise Boost's topological
  // sort. Throws InputError naming the operators of a cycle.
  std::vector<Node> topological_order() const;

  GraphTotals totals() const;
  const Dag& dag() const { return dag_; }

  bool operator==(const Graph& other) const;

 private:
  std::string name_;
  Dag dag_;
  std::unordered_map<std::string, Node> by_name_;
};

}  // namespace tessera::workloads
