// Building a front-end's graph: every operator gets the model's precision and a source naming the
// file and where in it, is validated, and is connected to its inputs (edges follow the tensors).
// Shared by the model-config front-ends (transformer.cpp, fabnet.cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "workloads/graph.hpp"
#include "workloads/operator.hpp"

namespace tessera::workloads {

class Builder {
 public:
  Builder(Graph& g, std::string file, Precision precision)
      : g_(g), file_(std::move(file)), precision_(precision) {}

  // `where`: the source after the file name (a layer, a key).
  Graph::Node add(const std::string& name, const std::string& where, OpShape shape,
                  const std::vector<Graph::Node>& inputs) {
    Operator op;
    op.name = name;
    op.source = file_ + ": " + where;
    op.shape = std::move(shape);
    op.precision = precision_;
    validate(op, file_ + ": ");
    const Graph::Node n = g_.add(std::move(op));
    for (Graph::Node in : inputs) g_.connect(in, n);
    return n;
  }
  // The source names the operator itself.
  Graph::Node add(const std::string& name, OpShape shape, const std::vector<Graph::Node>& inputs) {
    return add(name, name, std::move(shape), inputs);
  }

 private:
  Graph& g_;
  std::string file_;
  Precision precision_;
};

}  // namespace tessera::workloads
