// Graph passes: those front-ends share, applied by load_workload() after a front-end has built a
// graph (batch-norm folding), and the low-rank factorisation workload settings ask for
// (workloads/settings.hpp).
#pragma once

#include <vector>

#include "workloads/graph.hpp"

namespace tessera::workloads {

// Folds every batch normalisation whose only producer is a convolution or a matrix product with a
// weight, and which is that producer's only consumer, into the producer: the scale multiplies the
// weights and the shift becomes a bias, as inference compilers do. The producer records the
// folded operator's name in Operator::folded. Returns how many were folded.
std::size_t fold_batch_norms(Graph& graph);

// The rank of an operator's weight matrix when it can be factorised into two lower-rank ones,
// else 0. A matrix product with a weight (K x N): min(K, N). An ungrouped, non-transposed
// convolution, whose filters form a K x (C·R·S) matrix: min(K, C·R·S).
i64 full_rank(const Operator& op);

// Low-rank factorisation of the operators with a rank (ranks[node] > 0; 0 leaves the node as it
// is; each rank in [1, full_rank]): operator X becomes
//   X.factor_in   a matrix product d_in -> r (no bias), or a convolution of X's window, stride,
//                 dilation and padding with r filters (no bias);
//   X.factor_out  a matrix product r -> d_out, or a 1x1 convolution r -> K over X's output
//                 plane, with X's bias;
// i.e. W (d_out x d_in) = U (d_out x r) · V (r x d_in), as truncated-SVD compression does.
// X.factor_in reads X's inputs, X's consumers read X.factor_out. Both factors keep X's
// precision and densities; the weight values of X (ONNX initializers) and its data masks are
// not carried over (they are X's, not its factors').
void factorise_low_rank(Graph& graph, const std::vector<i64>& ranks);

}  // namespace tessera::workloads
