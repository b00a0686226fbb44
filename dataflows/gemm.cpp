#include "dataflows/gemm.hpp"

#include <variant>

namespace tessera::dataflows {

namespace {
i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
}  // namespace

std::optional<GemmView> as_gemm(const workloads::Operator& op) {
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) {
    GemmView g;
    g.count = c->groups;
    g.m = c->n * c->p() * c->q();
    g.k = c->r * c->s * (c->c / c->groups);
    g.n = c->k / c->groups;
    g.a_distinct = c->n * c->c * c->h * c->w;
    // A strided filter smaller than its stride skips input rows and columns entirely.
    if (c->dilation_h * (c->r - 1) + 1 < c->stride_h ||
        c->dilation_w * (c->s - 1) + 1 < c->stride_w) {
      const i64 rows_touched = std::min(c->h, c->p() * c->r),
                cols_touched = std::min(c->w, c->q() * c->s);
      g.a_distinct = c->n * c->c * rows_touched * cols_touched;
    }
    g.b_distinct = c->k * (c->c / c->groups) * c->r * c->s;
    g.c_distinct = c->n * c->k * c->p() * c->q();
    return g;
  }
  if (const auto* mm = std::get_if<workloads::MatMul>(&op.shape)) {
    GemmView g;
    g.count = mm->batch;
    g.m = mm->m;
    g.n = mm->n;
    g.k = mm->k;
    g.a_distinct = mm->batch * mm->m * mm->k;
    g.b_distinct = (mm->b_is_weight ? 1 : mm->batch) * mm->k * mm->n;
    g.c_distinct = mm->batch * mm->m * mm->n;
    return g;
  }
  return std::nullopt;
}

std::string_view to_string(Dataflow d) {
  switch (d) {
    case Dataflow::ws:
      return "ws";
    case Dataflow::os:
      return "os";
    case Dataflow::is:
      return "is";
  }
  return "?";
}

std::optional<Dataflow> dataflow_from_string(std::string_view t) {
  if (t == "ws") return Dataflow::ws;
  if (t == "os") return Dataflow::os;
  if (t == "is") return Dataflow::is;
  return std::nullopt;
}

FoldMapping map_folds(i64 m, i64 n, i64 k, Dataflow d, i64 rows, i64 cols) {
  FoldMapping f;
  switch (d) {
    case Dataflow::os:
      f.spatial_rows = m, f.spatial_cols = n, f.streamed = k;
      break;
    case Dataflow::ws:
      f.spatial_rows = k, f.spatial_cols = n, f.streamed = m;
      break;
    case Dataflow::is:
      f.spatial_rows = k, f.spatial_cols = m, f.streamed = n;
      break;
  }
  f.row_folds = ceil_div(f.spatial_rows, rows);
  f.col_folds = ceil_div(f.spatial_cols, cols);
  f.last_fold_rows = f.spatial_rows - (f.row_folds - 1) * rows;
  f.last_fold_cols = f.spatial_cols - (f.col_folds - 1) * cols;
  return f;
}

double FoldMapping::mapping_efficiency(i64 rows, i64 cols) const {
  // Rows used summed over row folds, times columns used summed over column folds.
  const double used_rows = static_cast<double>((row_folds - 1) * rows + last_fold_rows);
  const double used_cols = static_cast<double>((col_folds - 1) * cols + last_fold_cols);
  return used_rows * used_cols / (static_cast<double>(folds()) * static_cast<double>(rows * cols));
}

}  // namespace tessera::dataflows
