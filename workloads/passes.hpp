// Graph passes front-ends share, applied by load_workload() after a front-end has built a graph.
#pragma once

#include "workloads/graph.hpp"

namespace tessera::workloads {

// Folds every batch normalisation whose only producer is a convolution or a matrix product with a
// weight, and which is that producer's only consumer, into the producer: the scale multiplies the
// weights and the shift becomes a bias, as inference compilers do. The producer records the
// folded operator's name in Operator::folded. Returns how many were folded.
std::size_t fold_batch_norms(Graph& graph);

}  // namespace tessera::workloads
