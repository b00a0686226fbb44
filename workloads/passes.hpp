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
// else 0. A matrix product with a weight (K x N): min(K, N). A non-transposed convolution of G
// groups, whose filters form G matrices of K/G x (C/G·R·S): min(K/G, C/G·R·S) (G = 1: the
// whole K x (C·R·S) matrix). A depthwise one (G > 1 groups of one input channel), whose
// filters' only matrices are their R x S kernels: min(R, S). Transposed convolutions: 0.
i64 full_rank(const Operator& op);

// Low-rank factorisation of the operators with a rank (ranks[node] > 0; 0 leaves the node as it
// is; each rank in [1, full_rank]): operator X becomes
//   X.factor_in   a matrix product d_in -> r (no bias), or a convolution of X's window, stride,
//                 dilation, padding and G groups with G·r filters (no bias);
//   X.factor_out  a matrix product r -> d_out, or a 1x1 convolution of G groups G·r -> K over
//                 X's output plane, with X's bias;
// i.e. W (d_out x d_in) = U (d_out x r) · V (r x d_in) per group, as truncated-SVD compression
// does. A depthwise X (K filters of R x S, each kernel = sum of r column x row products, the
// spatial scheme of Jaderberg, Vedaldi and Zisserman, BMVC 2014) becomes
//   X.factor_in   an R x 1 convolution (X's vertical stride, dilation and padding) over every
//                 column, X's groups, K·r filters (r per filter of X), no bias;
//   X.factor_out  a 1 x S convolution (X's horizontal stride, dilation and padding) of K groups
//                 K·r -> K, with X's bias.
// X.factor_in reads X's inputs, X's consumers read X.factor_out. Both factors keep X's
// precision and densities; the weight values of X (ONNX initializers) and its data masks are
// not carried over (they are X's, not its factors').
void factorise_low_rank(Graph& graph, const std::vector<i64>& ranks);

}  // namespace tessera::workloads
