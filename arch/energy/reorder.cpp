#include "arch/energy/reorder.hpp"

#include <bit>
#include <cmath>
#include <map>
#include <numeric>

namespace tessera::arch::energy {

namespace {

using workloads::Conv;
using workloads::MatMul;

bool plain_conv(const workloads::Operator& op) {
  const auto* c = std::get_if<Conv>(&op.shape);
  return c && c->groups == 1 && !c->transposed;
}
bool depthwise(const workloads::Operator& op) {
  const auto* c = std::get_if<Conv>(&op.shape);
  return c && c->groups > 1 && c->groups == c->c && c->c == c->k && !c->transposed;
}
bool weight_matmul(const workloads::Operator& op) {
  const auto* m = std::get_if<MatMul>(&op.shape);
  return m && m->b_is_weight;
}
i64 out_channels(const workloads::Operator& op) {
  if (const auto* c = std::get_if<Conv>(&op.shape)) return c->k;
  if (const auto* m = std::get_if<MatMul>(&op.shape)) return m->n;
  return 0;
}
i64 in_channels(const workloads::Operator& op) {
  if (const auto* c = std::get_if<Conv>(&op.shape)) return c->c;
  if (const auto* m = std::get_if<MatMul>(&op.shape)) return m->k;
  return 0;
}
bool channel_preserving(const workloads::Operator& op) {
  using workloads::OpKind;
  if (op.kind() == OpKind::pool || op.kind() == OpKind::norm) return true;
  if (const auto* e = std::get_if<workloads::Elementwise>(&op.shape)) return e->inputs == 1;
  return false;
}

// Rows of the weights, one per output channel, row-major: conv [k][c*r*s] as stored; weight
// matmul [k][n] -> [n][k].
std::vector<std::int32_t> output_rows(const workloads::Operator& op, const LayerValues& v, i64& rows,
                                      i64& len) {
  if (const auto* m = std::get_if<MatMul>(&op.shape)) {
    rows = m->n, len = m->k;
    std::vector<std::int32_t> t(v.weight.size());
    for (i64 k = 0; k < m->k; ++k)
      for (i64 n = 0; n < m->n; ++n) t[n * m->k + k] = v.weight[k * m->n + n];
    return t;
  }
  rows = out_channels(op);
  len = static_cast<i64>(v.weight.size()) / rows;
  return v.weight;
}

// Input-channel slices of a consumer's weights, appended to `rows` (one row per channel).
void append_input_rows(const workloads::Operator& op, const LayerValues& v,
                       std::vector<std::vector<std::int32_t>>& rows) {
  if (const auto* m = std::get_if<MatMul>(&op.shape)) {
    for (i64 k = 0; k < m->k; ++k)
      rows[static_cast<std::size_t>(k)].insert(rows[static_cast<std::size_t>(k)].end(),
                                               v.weight.begin() + k * m->n, v.weight.begin() + (k + 1) * m->n);
    return;
  }
  const auto& c = std::get<Conv>(op.shape);
  const i64 rs = c.r * c.s;
  for (i64 k = 0; k < c.k; ++k)
    for (i64 ch = 0; ch < c.c; ++ch)
      rows[static_cast<std::size_t>(ch)].insert(rows[static_cast<std::size_t>(ch)].end(),
                                                v.weight.begin() + (k * c.c + ch) * rs,
                                                v.weight.begin() + (k * c.c + ch + 1) * rs);
}

}  // namespace

bool port_worse(const PortCount& before, const PortCount& after) {
  if (before.exact && after.exact) return after.toggles > before.toggles;
  // Sampled counts are estimates (of the same seeded positions, so the noise is shared): a
  // port counts as worse unless it improves by more than the two intervals together.
  return after.toggles + std::hypot(before.ci95, after.ci95) >= before.toggles;
}

std::vector<i64> greedy_order(const std::vector<std::int32_t>& data, i64 rows, i64 row_len, int bits,
                              bool sign_magnitude) {
  // Pack each row's bit patterns into 64-bit words.
  const i64 per_word = std::max(1, 64 / bits);
  const i64 words = (row_len + per_word - 1) / per_word;
  const std::uint64_t mask = bits >= 32 ? 0xffffffffull : (std::uint64_t{1} << bits) - 1;
  std::vector<std::uint64_t> packed(static_cast<std::size_t>(rows * words), 0);
  for (i64 r = 0; r < rows; ++r)
    for (i64 i = 0; i < row_len; ++i) {
      const std::int32_t v = data[static_cast<std::size_t>(r * row_len + i)];
      const std::uint64_t pattern =
          sign_magnitude && bits > 1 ? encode_sign_magnitude(v, std::min(bits, 32))
                                     : static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)) & mask;
      packed[static_cast<std::size_t>(r * words + i / per_word)] |= pattern << ((i % per_word) * bits);
    }
  std::vector<i64> order{0};
  std::vector<bool> used(static_cast<std::size_t>(rows), false);
  used[0] = true;
  for (i64 step = 1; step < rows; ++step) {
    const std::uint64_t* last = &packed[static_cast<std::size_t>(order.back() * words)];
    i64 best = -1;
    std::uint64_t best_d = ~std::uint64_t{0};
    for (i64 r = 0; r < rows; ++r) {
      if (used[static_cast<std::size_t>(r)]) continue;
      const std::uint64_t* row = &packed[static_cast<std::size_t>(r * words)];
      std::uint64_t d = 0;
      for (i64 w = 0; w < words; ++w) d += static_cast<std::uint64_t>(std::popcount(row[w] ^ last[w]));
      if (d < best_d) best_d = d, best = r;
    }
    used[static_cast<std::size_t>(best)] = true;
    order.push_back(best);
  }
  return order;
}

void permute_outputs(const workloads::Operator& op, LayerValues& v, const std::vector<i64>& perm) {
  std::vector<std::int32_t> w(v.weight.size());
  if (const auto* m = std::get_if<MatMul>(&op.shape)) {
    for (i64 k = 0; k < m->k; ++k)
      for (i64 n = 0; n < m->n; ++n) w[k * m->n + n] = v.weight[k * m->n + perm[n]];
  } else {
    const i64 K = out_channels(op), len = static_cast<i64>(v.weight.size()) / K;
    for (i64 i = 0; i < K; ++i)
      std::copy_n(v.weight.begin() + perm[i] * len, len, w.begin() + i * len);
  }
  v.weight.swap(w);
}

void permute_inputs(const workloads::Operator& op, LayerValues& v, const std::vector<i64>& perm) {
  if (const auto* m = std::get_if<MatMul>(&op.shape)) {
    std::vector<std::int32_t> w(v.weight.size()), a(v.input.size());
    for (i64 k = 0; k < m->k; ++k)
      for (i64 n = 0; n < m->n; ++n) w[k * m->n + n] = v.weight[perm[k] * m->n + n];
    for (i64 row = 0; row < m->batch * m->m; ++row)
      for (i64 k = 0; k < m->k; ++k) a[row * m->k + k] = v.input[row * m->k + perm[k]];
    v.weight.swap(w);
    v.input.swap(a);
    return;
  }
  const auto& c = std::get<Conv>(op.shape);
  const i64 plane = c.h * c.w;
  std::vector<std::int32_t> a(v.input.size());
  for (i64 n = 0; n < c.n; ++n)
    for (i64 ch = 0; ch < c.c; ++ch)
      std::copy_n(v.input.begin() + (n * c.c + perm[ch]) * plane, plane, a.begin() + (n * c.c + ch) * plane);
  v.input.swap(a);
  if (c.groups == 1) {
    const i64 rs = c.r * c.s;
    std::vector<std::int32_t> w(v.weight.size());
    for (i64 k = 0; k < c.k; ++k)
      for (i64 ch = 0; ch < c.c; ++ch)
        std::copy_n(v.weight.begin() + (k * c.c + perm[ch]) * rs, rs, w.begin() + (k * c.c + ch) * rs);
    v.weight.swap(w);
  } else {  // depthwise: the channel's filter moves with it (its output channel too)
    permute_outputs(op, v, perm);
  }
}

std::vector<bool> optimize_channel_order(const workloads::Graph& graph,
                                         const std::vector<workloads::Graph::Node>& nodes,
                                         const std::vector<const workloads::Operator*>& ops,
                                         const std::vector<const LayerStreams*>& streams,
                                         std::vector<LayerValues>& values,
                                         std::vector<std::vector<PortCount>>& counts,
                                         const HammingOptions& options) {
  std::map<workloads::Graph::Node, std::size_t> item;
  for (std::size_t i = 0; i < nodes.size(); ++i) item[nodes[i]] = i;
  const auto total = [](const std::vector<PortCount>& c) {
    double t = 0;
    for (const auto& p : c) t += p.toggles;
    return t;
  };
  std::vector<bool> permuted(nodes.size(), false);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& op = *ops[i];
    if (!(plain_conv(op) || weight_matmul(op))) continue;
    if (const auto* m = std::get_if<MatMul>(&op.shape); m && m->batch != 1) continue;
    const i64 K = out_channels(op);
    // Walk the consumers: pass-throughs (recorded when they have values), then final readers.
    std::vector<std::size_t> affected;  // items whose inputs get permuted
    bool ok = true;
    std::vector<workloads::Graph::Node> frontier = graph.consumers(nodes[i]);
    if (frontier.empty()) ok = false;
    while (ok && !frontier.empty()) {
      const auto n = frontier.back();
      frontier.pop_back();
      const auto& c = graph.op(n);
      if (graph.producers(n).size() != 1) { ok = false; break; }
      if (channel_preserving(c) || depthwise(c)) {
        if (depthwise(c)) {
          if (!item.count(n) || in_channels(c) != K) { ok = false; break; }
          affected.push_back(item[n]);
        }
        for (auto next : graph.consumers(n)) frontier.push_back(next);
        continue;
      }
      const auto* mm = std::get_if<MatMul>(&c.shape);
      if (!item.count(n) || !(plain_conv(c) || (weight_matmul(c) && mm->batch == 1)) ||
          in_channels(c) != K) {
        ok = false;
        break;
      }
      affected.push_back(item[n]);
    }
    if (!ok) continue;
    // Two candidates: similar filters of the producer next to each other (its weight stream
    // along output channels: is, ws folds), and similar input-channel slices of the consumers
    // next to each other (their streams along k, input channel innermost: os).
    std::vector<std::vector<i64>> candidates;
    {
      i64 rows = 0, len = 0;
      const auto data = output_rows(op, values[i], rows, len);
      candidates.push_back(greedy_order(data, rows, len, op.precision.weight_bits, options.sign_magnitude));
      std::vector<std::vector<std::int32_t>> slices(static_cast<std::size_t>(K));
      int bits = 1;
      for (std::size_t a : affected)
        if (!depthwise(*ops[a])) {
          append_input_rows(*ops[a], values[a], slices);
          bits = std::max(bits, ops[a]->precision.weight_bits);
        }
      if (!slices[0].empty()) {
        std::vector<std::int32_t> flat;
        for (const auto& r : slices) flat.insert(flat.end(), r.begin(), r.end());
        candidates.push_back(
            greedy_order(flat, K, static_cast<i64>(slices[0].size()), bits, options.sign_magnitude));
      }
    }
    for (const auto& perm : candidates) {
      bool identity = true;
      for (i64 r = 0; r < K; ++r) identity = identity && perm[static_cast<std::size_t>(r)] == r;
      if (identity) continue;
      // Trial: permute, recount the producer and the affected layers.
      std::map<std::size_t, LayerValues> trial;
      trial[i] = values[i];
      permute_outputs(op, trial[i], perm);
      for (std::size_t a : affected) {
        if (!trial.count(a)) trial[a] = values[a];
        permute_inputs(*ops[a], trial[a], perm);
      }
      std::map<std::size_t, std::vector<PortCount>> recount;
      double before = 0, after = 0;
      bool no_port_worse = true;
      for (const auto& [j, v] : trial) {
        recount[j] = count_toggles(*streams[j], *ops[j], v, options);
        before += total(counts[j]);
        after += total(recount[j]);
        for (std::size_t p = 0; p < recount[j].size(); ++p)
          no_port_worse = no_port_worse && !port_worse(counts[j][p], recount[j][p]);
      }
      // Kept only when no port of any affected layer gets worse: a gain in the producer's
      // weight stream must not be paid for by a consumer (which the network total would hide).
      if (no_port_worse && after < before) {
        for (auto& [j, v] : trial) {
          values[j] = std::move(v);
          counts[j] = std::move(recount[j]);
        }
        permuted[i] = true;  // the next candidate must beat the one kept (applied on top of it)
      }
    }
  }
  return permuted;
}

}  // namespace tessera::arch::energy
