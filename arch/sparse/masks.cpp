#include "arch/sparse/masks.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "arch/energy/npy.hpp"
#include "arch/energy/values.hpp"
#include "common/error.hpp"
#include "common/hash.hpp"

namespace tessera::arch::sparse {

namespace {

constexpr Pattern kPatterns[] = {Pattern::uniform, Pattern::balanced, Pattern::clustered,
                                 Pattern::channel, Pattern::filter,   Pattern::block,
                                 Pattern::nm};

bool keep(std::uint64_t seed, std::uint64_t index, double density) {
  if (density >= 1.0) return true;
  const auto threshold = static_cast<std::uint64_t>(density * 9007199254740992.0);  // 2^53
  return (mask_hash(seed, index) >> 11) < threshold;
}

// Stratified shares for `rows` rows: row i gets (rank_i + 0.5) / rows, ranks a permutation drawn
// from the hash, so that the shares average exactly one half.
std::vector<double> stratified(std::uint64_t seed, u64 rows) {
  std::vector<std::pair<u64, u64>> order(rows);
  for (u64 i = 0; i < rows; ++i) order[i] = {mask_hash(seed ^ 0x5851F42D4C957F2Dull, i), i};
  std::sort(order.begin(), order.end());
  std::vector<double> u(rows);
  for (u64 r = 0; r < rows; ++r) u[order[r].second] = (static_cast<double>(r) + 0.5) / static_cast<double>(rows);
  return u;
}

// Keeps the `count` elements of `indices` (positions in `mask`, hashed by `keys`) with the
// smallest hashes.
void keep_smallest(Mask& mask, const std::vector<u64>& indices, const std::vector<u64>& keys,
                   std::uint64_t seed, u64 count) {
  std::vector<std::pair<u64, std::size_t>> order(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) order[i] = {mask_hash(seed, keys[i]), i};
  count = std::min<u64>(count, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end());
  for (u64 i = 0; i < count; ++i) mask[indices[order[i].second]] = 1;
}

}  // namespace

std::string_view to_string(Pattern p) {
  switch (p) {
    case Pattern::uniform: return "uniform";
    case Pattern::balanced: return "balanced";
    case Pattern::clustered: return "clustered";
    case Pattern::channel: return "channel";
    case Pattern::filter: return "filter";
    case Pattern::block: return "block";
    case Pattern::nm: return "nm";
  }
  return "uniform";
}

std::optional<Pattern> pattern_from_string(std::string_view text) {
  for (Pattern p : kPatterns)
    if (to_string(p) == text) return p;
  return std::nullopt;
}

std::string pattern_names() {
  std::string s;
  for (Pattern p : kPatterns) s += (s.empty() ? "" : ", ") + std::string(to_string(p));
  return s;
}

std::uint64_t mask_hash(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::optional<LayerShape> layer_shape(const workloads::Operator& op) {
  LayerShape L;
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) {
    if (c->transposed) return std::nullopt;
    L.n = c->n; L.c = c->c; L.h = c->h; L.w = c->w; L.k = c->k; L.r = c->r; L.s = c->s;
    L.stride_h = c->stride_h; L.stride_w = c->stride_w;
    L.dilation_h = c->dilation_h; L.dilation_w = c->dilation_w;
    L.pad_top = c->pad_top; L.pad_left = c->pad_left;
    L.p = c->p(); L.q = c->q(); L.groups = c->groups;
    return L;
  }
  if (const auto* m = std::get_if<workloads::MatMul>(&op.shape); m && m->b_is_weight) {
    L.n = m->batch * m->m; L.c = m->k; L.k = m->n; L.matmul = true;
    return L;
  }
  return std::nullopt;
}

Mask weight_mask(const LayerShape& L, const PatternSpec& spec) {
  Mask mask(L.weight_count(), 0);
  const i64 cg = L.cg(), red = L.reduction();
  const double d = std::clamp(spec.density, 0.0, 1.0);
  const auto each = [&](auto&& f) {  // f(j, c, r, s, flat [j][c][r][s] index), in storage order
    if (L.matmul) {  // stored [c][j]: visiting filters innermost writes the mask in order
      for (i64 c = 0; c < cg; ++c)
        for (i64 j = 0; j < L.k; ++j) f(j, c, i64{0}, i64{0}, static_cast<u64>(j * cg + c));
      return;
    }
    for (i64 j = 0; j < L.k; ++j)
      for (i64 c = 0; c < cg; ++c)
        for (i64 r = 0; r < L.r; ++r)
          for (i64 s = 0; s < L.s; ++s) f(j, c, r, s, static_cast<u64>(((j * cg + c) * L.r + r) * L.s + s));
  };
  switch (spec.pattern) {
    case Pattern::uniform:
      each([&](i64 j, i64 c, i64 r, i64 s, u64 flat) { mask[L.weight_index(j, c, r, s)] = keep(spec.seed, flat, d); });
      break;
    case Pattern::channel:
      each([&](i64 j, i64 c, i64 r, i64 s, u64) { mask[L.weight_index(j, c, r, s)] = keep(spec.seed, static_cast<u64>(c), d); });
      break;
    case Pattern::filter:
      each([&](i64 j, i64 c, i64 r, i64 s, u64) { mask[L.weight_index(j, c, r, s)] = keep(spec.seed, static_cast<u64>(j), d); });
      break;
    case Pattern::block: {
      const i64 b = std::max(1, spec.block), blocks = (cg + b - 1) / b;
      each([&](i64 j, i64 c, i64 r, i64 s, u64) {
        mask[L.weight_index(j, c, r, s)] = keep(spec.seed, static_cast<u64>(((j * blocks + c / b) * L.r + r) * L.s + s), d);
      });
      break;
    }
    case Pattern::balanced:
    case Pattern::clustered:
    case Pattern::nm: {
      // Per filter (or per group of m along its reduction): the elements with the smallest hashes.
      std::vector<u64> idx, keys;
      const std::vector<double> u = spec.pattern == Pattern::clustered ? stratified(spec.seed, static_cast<u64>(L.k)) : std::vector<double>{};
      for (i64 j = 0; j < L.k; ++j) {
        idx.clear(); keys.clear();
        const auto flush = [&](u64 count) { keep_smallest(mask, idx, keys, spec.seed, count); idx.clear(); keys.clear(); };
        i64 t = 0;
        for (i64 c = 0; c < cg; ++c)
          for (i64 r = 0; r < L.r; ++r)
            for (i64 s = 0; s < L.s; ++s, ++t) {
              idx.push_back(L.weight_index(j, c, r, s));
              keys.push_back(static_cast<u64>(j * red + t));
              if (spec.pattern == Pattern::nm && (t + 1) % spec.m == 0) flush(static_cast<u64>(spec.n));
            }
        if (spec.pattern == Pattern::nm) {
          flush(static_cast<u64>(std::min<i64>(spec.n, static_cast<i64>(idx.size()))));
        } else {
          double dj = d;
          if (spec.pattern == Pattern::clustered)
            dj = std::min(1.0, d * (0.5 + u[static_cast<std::size_t>(j)]));
          flush(static_cast<u64>(std::llround(dj * static_cast<double>(red))));
        }
      }
      break;
    }
  }
  return mask;
}

Mask input_mask(const LayerShape& L, const PatternSpec& spec) {
  const u64 count = L.input_count(), plane = static_cast<u64>(L.h * L.w);
  const double d = std::clamp(spec.density, 0.0, 1.0);
  Mask mask(count, 0);
  switch (spec.pattern) {
    case Pattern::channel:
    case Pattern::filter:
      for (u64 i = 0; i < count; ++i) mask[i] = keep(spec.seed, i / plane, d);
      break;
    case Pattern::balanced:
    case Pattern::clustered: {
      std::vector<u64> idx, keys;
      const std::vector<double> u = spec.pattern == Pattern::clustered ? stratified(spec.seed, count / plane) : std::vector<double>{};
      for (u64 row = 0; row < count / plane; ++row) {
        idx.resize(plane);
        std::iota(idx.begin(), idx.end(), row * plane);
        keys = idx;
        double dr = d;
        if (spec.pattern == Pattern::clustered)
          dr = std::min(1.0, d * (0.5 + u[row]));
        keep_smallest(mask, idx, keys, spec.seed, static_cast<u64>(std::llround(dr * static_cast<double>(plane))));
      }
      break;
    }
    default:
      for (u64 i = 0; i < count; ++i) mask[i] = keep(spec.seed, i, d);
  }
  return mask;
}

std::uint64_t mask_digest(const workloads::OperandMasks& m) {
  const auto bytes = [](const Mask& v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
  };
  return fnv1a64(bytes(m.weight)) * 31 ^ (fnv1a64(bytes(m.input)) + m.weight.size() * 7 + m.input.size());
}

AttachedMasks attach_masks(workloads::Graph& graph, const std::string& data) {
  const bool npy = data.rfind("npy:", 0) == 0;
  if (data != "synthetic" && data != "onnx" && !npy)
    throw InputError("--data " + data + ": expected synthetic, onnx or npy:DIR");
  if (npy && !std::filesystem::is_directory(data.substr(4)))
    throw InputError("--data " + data + ": no such directory");
  AttachedMasks n;
  if (data == "synthetic") return n;
  for (const auto node : graph.topological_order()) {
    workloads::Operator& op = graph.op(node);
    const auto L = layer_shape(op);
    if (!L) continue;
    workloads::OperandMasks m;
    if (op.weight_values && op.weight_values->count == L->weight_count()) {
      const auto& t = *op.weight_values;
      m.weight.resize(t.count);
      // A matrix product's [n][k] payload (ONNX Gemm with transB) is stored [k][n].
      const bool transposed = L->matmul && t.dims.size() == 2 && t.dims[0] == L->k && t.dims[1] == L->c && L->k != L->c;
      for (std::size_t i = 0; i < t.count; ++i) {
        const std::size_t at = transposed ? (i % static_cast<std::size_t>(L->c)) * static_cast<std::size_t>(L->k) + i / static_cast<std::size_t>(L->c) : i;
        m.weight[at] = t.at(i) != 0.0;
      }
      ++n.weights;
    }
    if (npy) {
      const std::string path = energy::npy_path(data, op.name);
      std::error_code ec;
      if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
        const energy::NpyArray a = energy::read_npy(path, L->input_count(), "the input of layer '" + op.name + "'");
        m.input.resize(a.values.size());
        for (std::size_t i = 0; i < a.values.size(); ++i) m.input[i] = a.values[i] != 0.0;
        ++n.inputs;
      }
    }
    if (m.weight.empty() && m.input.empty()) continue;
    m.digest = mask_digest(m);
    op.masks = std::make_shared<const workloads::OperandMasks>(std::move(m));
  }
  if (npy && n.inputs == 0)
    throw InputError("--data " + data + ": no layer has a file <layer>.npy there");
  return n;
}

}  // namespace tessera::arch::sparse
