// Operators as matrix products, the view array engines map: C[M×N] = A[M×K] · B[K×N], repeated
// `count` times (convolution groups; batch × heads for attention).
//   conv:   M = batch·P·Q (output pixels), K = R·S·C/groups, N = filters/groups, count = groups
//   matmul: M = m, K = k, N = n, count = batch (B shared across the batch when it is a weight)
// A is the ifmap operand (im2col of the input for a conv), B the filter operand, C the ofmap.
#pragma once

#include <optional>
#include <string_view>

#include "workloads/operator.hpp"

namespace tessera::dataflows {

using workloads::i64;

struct GemmView {
  i64 m = 1, n = 1, k = 1;
  i64 count = 1;
  // Distinct elements of each operand over all `count` GEMMs, as stored in memory (an input
  // pixel read by several filter positions counts once): the least DRAM must deliver.
  i64 a_distinct = 0, b_distinct = 0, c_distinct = 0;

  i64 macs() const { return m * n * k * count; }
};

// nullopt for operators without MACs.
std::optional<GemmView> as_gemm(const workloads::Operator& op);

// Weight, output and input stationary: which GEMM dimension is held in the PEs.
enum class Dataflow { ws, os, is };

std::string_view to_string(Dataflow d);
std::optional<Dataflow> dataflow_from_string(std::string_view text);

// How a GEMM maps onto an R×C array (SCALE-Sim's convention, data/reference/scalesim):
//   os: rows <- M, cols <- N, streamed <- K
//   ws: rows <- K, cols <- N, streamed <- M
//   is: rows <- K, cols <- M, streamed <- N
// Each of the row_folds × col_folds folds runs `streamed` steps on up to R×C PEs.
struct FoldMapping {
  i64 spatial_rows = 1, spatial_cols = 1, streamed = 1;
  i64 row_folds = 1, col_folds = 1;
  i64 last_fold_rows = 1, last_fold_cols = 1;  // rows/cols used by the last fold of each kind

  i64 folds() const { return row_folds * col_folds; }
  // Mean over folds of (rows used · cols used)/(R·C), unweighted.
  double mapping_efficiency(i64 rows, i64 cols) const;
};

FoldMapping map_folds(i64 m, i64 n, i64 k, Dataflow d, i64 rows, i64 cols);

}  // namespace tessera::dataflows
