// Tessera's own shape rules (docs/onnx.md, "Shapes"): where ONNX 1.12's shape inference stops.
// Operators whose schemas changed after opset 17 (Reduce* with axes inputs, Split with
// num_outputs, Pad with axes, Resize with axes and aspect-ratio policies, QuantizeLinear with
// blocks and output types, pooling with dilations), operators newer than 1.12 (Gelu,
// GroupNormalization, RMSNormalization, Attention, RotaryEmbedding, ...), Einsum (whose dims 1.12
// does not infer) and onnxruntime's com.microsoft quantized operators. Each rule follows the
// operator's definition in the ONNX (or onnxruntime) specification.
#include <algorithm>
#include <cmath>
#include <set>

#include "workloads/onnx/common.hpp"

namespace tessera::workloads::onnx_import {

namespace {

using Rule = std::vector<TensorInfo> (*)(const NodeProto&, i64, const std::vector<TensorInfo>&,
                                         const std::vector<const Value*>&);

const TensorInfo& arg(const std::vector<TensorInfo>& in, std::size_t i) {
  static const TensorInfo none;
  return i < in.size() ? in[i] : none;
}
const Value* value(const std::vector<const Value*>& v, std::size_t i) {
  return i < v.size() ? v[i] : nullptr;
}
bool given(const NodeProto& n, int i) { return i < n.input_size() && !n.input(i).empty(); }

// `axis` of a rank-`rank` tensor, negative ones counted from the end; out of range throws.
i64 checked_axis(i64 axis, i64 rank) {
  const i64 a = normalize_axis(axis, rank);
  if (a < 0 || a >= rank)
    throw ShapeError("axis " + std::to_string(axis) + " is out of range for rank " +
                     std::to_string(rank));
  return a;
}

// The outputs as copies of input `i` (elementwise operators, normalisations), with `dtype`
// instead of the input's type when non-zero.
std::vector<TensorInfo> like(const NodeProto& n, const std::vector<TensorInfo>& in,
                             std::size_t i, int dtype = 0) {
  TensorInfo t = arg(in, i);
  if (dtype) t.dtype = dtype;
  return std::vector<TensorInfo>(std::size_t(std::max(1, n.output_size())), t);
}

std::vector<TensorInfo> same(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                             const std::vector<const Value*>&) {
  return like(n, in, 0);
}

std::vector<TensorInfo> boolean(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                const std::vector<const Value*>&) {
  return like(n, in, 0, TensorProto::BOOL);
}

std::vector<TensorInfo> broadcast_of(const TensorInfo& a, const TensorInfo& b) {
  TensorInfo t{std::nullopt, a.dtype};
  if (a.dims && b.dims) {
    t.dims = broadcast(*a.dims, *b.dims);
    if (!t.dims)
      throw ShapeError("inputs " + dims_text(*a.dims) + " and " + dims_text(*b.dims) +
                       " do not broadcast");
  }
  return {t};
}

std::vector<TensorInfo> binary(const NodeProto&, i64, const std::vector<TensorInfo>& in,
                               const std::vector<const Value*>&) {
  return broadcast_of(arg(in, 0), arg(in, 1));
}

// Axes given as the input `index` (newer opsets) or as the attribute "axes"; nullopt: not
// given; throws nothing, but `known` turns false when the input exists and is not a constant.
std::optional<Dims> axes_of(const NodeProto& n, bool from_input, int index,
                            const std::vector<const Value*>& values, bool& known) {
  known = true;
  if (!from_input) return attr_ints(n, "axes");
  if (!given(n, index)) return std::nullopt;
  const Value* v = value(values, std::size_t(index));
  if (!v) {
    known = false;
    return std::nullopt;
  }
  return v->as_ints();
}

std::vector<TensorInfo> reduce(const NodeProto& n, i64 opset, const std::vector<TensorInfo>& in,
                               const std::vector<const Value*>& values) {
  const std::string& op = n.op_type();
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  bool known = true;
  const bool from_input = opset >= 18 || (op == "ReduceSum" && opset >= 13);
  const auto axes = axes_of(n, from_input, 1, values, known);
  if (!known || !arg(in, 0).dims) return {t};
  const Dims& x = *arg(in, 0).dims;
  const i64 rank = i64(x.size());
  const bool keep = attr_int(n, "keepdims", 1) != 0;
  std::set<i64> reduced;
  if (axes && !axes->empty()) {
    for (i64 a : *axes) reduced.insert(checked_axis(a, rank));
  } else if (attr_int(n, "noop_with_empty_axes", 0) != 0) {
    return {TensorInfo{x, t.dtype}};
  } else {
    for (i64 i = 0; i < rank; ++i) reduced.insert(i);
  }
  Dims out;
  for (i64 i = 0; i < rank; ++i) {
    if (!reduced.count(i))
      out.push_back(x[std::size_t(i)]);
    else if (keep)
      out.push_back(1);
  }
  return {TensorInfo{out, t.dtype}};
}

std::vector<TensorInfo> split(const NodeProto& n, i64 opset, const std::vector<TensorInfo>& in,
                              const std::vector<const Value*>& values) {
  const std::size_t outputs = std::size_t(n.output_size());
  std::vector<TensorInfo> out(outputs, TensorInfo{std::nullopt, arg(in, 0).dtype});
  if (!arg(in, 0).dims) return out;
  const Dims& x = *arg(in, 0).dims;
  const i64 axis = checked_axis(attr_int(n, "axis", 0), i64(x.size()));
  const i64 len = x[std::size_t(axis)];
  Dims sizes;
  if (opset >= 13 && given(n, 1)) {
    const Value* v = value(values, 1);
    if (!v) return out;
    sizes = v->as_ints();
  } else if (auto s = attr_ints(n, "split"); s && opset < 13) {
    sizes = *s;
  } else {
    // num_outputs (opset 18) or the number of outputs: equal parts, the last one smaller.
    const i64 parts = attr_int(n, "num_outputs", i64(outputs));
    if (parts != i64(outputs))
      throw ShapeError("num_outputs " + std::to_string(parts) + " differs from the " +
                       std::to_string(outputs) + " outputs");
    const i64 chunk = (len + parts - 1) / std::max<i64>(1, parts);
    for (i64 i = 0; i < parts; ++i) sizes.push_back(std::clamp<i64>(len - i * chunk, 0, chunk));
  }
  if (sizes.size() != outputs)
    throw ShapeError(std::to_string(sizes.size()) + " split sizes for " +
                     std::to_string(outputs) + " outputs");
  i64 total = 0;
  for (std::size_t i = 0; i < outputs; ++i) {
    Dims d = x;
    d[std::size_t(axis)] = sizes[i];
    out[i].dims = d;
    total += sizes[i];
  }
  if (total != len)
    throw ShapeError("split sizes add up to " + std::to_string(total) + ", axis " +
                     std::to_string(axis) + " of " + dims_text(x) + " has " + std::to_string(len));
  return out;
}

std::vector<TensorInfo> pad(const NodeProto& n, i64 opset, const std::vector<TensorInfo>& in,
                            const std::vector<const Value*>& values) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  const Dims& x = *arg(in, 0).dims;
  const i64 rank = i64(x.size());
  Dims pads;
  if (opset >= 11) {
    const Value* v = value(values, 1);
    if (!v) return {t};
    pads = v->as_ints();
  } else {
    pads = attr_ints(n, "pads").value_or(Dims{});
  }
  Dims axes;
  bool known = true;
  if (auto a = axes_of(n, true, 3, values, known)) axes = *a;
  if (!known) return {t};
  if (axes.empty())
    for (i64 i = 0; i < rank; ++i) axes.push_back(i);
  if (pads.size() != 2 * axes.size())
    throw ShapeError(std::to_string(pads.size()) + " pads for " + std::to_string(axes.size()) +
                     " axes");
  Dims out = x;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    out[std::size_t(checked_axis(axes[i], rank))] += pads[i] + pads[i + axes.size()];
  }
  return {TensorInfo{out, t.dtype}};
}

// A resized dimension: at least 1 and small enough that element counts stay exact.
i64 resized_dim(double size, const std::string& from) {
  if (!(size >= 1 && size <= 0x1p52))
    throw ShapeError(from + " gives an output dimension of " + std::to_string(size) +
                     " (must be in [1, 2^52])");
  return i64(size);
}

std::vector<TensorInfo> resize(const NodeProto& n, i64 opset, const std::vector<TensorInfo>& in,
                               const std::vector<const Value*>& values) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  const Dims& x = *arg(in, 0).dims;
  const i64 rank = i64(x.size());
  Dims axes = attr_ints(n, "axes").value_or(Dims{});
  if (axes.empty())
    for (i64 i = 0; i < rank; ++i) axes.push_back(i);
  for (i64& a : axes) a = checked_axis(a, rank);
  Dims out = x;
  const int scales_at = opset >= 11 ? 2 : 1;
  const Value* sizes = given(n, 3) ? value(values, 3) : nullptr;
  const Value* scales = given(n, scales_at) ? value(values, std::size_t(scales_at)) : nullptr;
  if (given(n, 3) && sizes && sizes->size() > 0) {
    if (sizes->size() != axes.size())
      throw ShapeError(std::to_string(sizes->size()) + " sizes for " +
                       std::to_string(axes.size()) + " axes");
    const std::string policy = attr_string(n, "keep_aspect_ratio_policy", "stretch");
    for (std::size_t i = 0; i < axes.size(); ++i)
      if (sizes->integer(i) < 1)
        throw ShapeError("size " + std::to_string(sizes->integer(i)) + " for axis " +
                         std::to_string(axes[i]) + " (sizes must be at least 1)");
    if (policy == "stretch") {
      for (std::size_t i = 0; i < axes.size(); ++i) out[std::size_t(axes[i])] = sizes->integer(i);
    } else {
      double scale = policy == "not_larger" ? 1e300 : 0;
      for (std::size_t i = 0; i < axes.size(); ++i) {
        if (x[std::size_t(axes[i])] < 0) return {t};  // a dim not known: nor is the scale
        if (x[std::size_t(axes[i])] == 0) throw ShapeError("resizing an empty axis");
        const double s = double(sizes->integer(i)) / double(x[std::size_t(axes[i])]);
        scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
      }
      for (i64 a : axes)
        out[std::size_t(a)] = resized_dim(std::floor(scale * double(x[std::size_t(a)]) + 0.5),
                                          "keep_aspect_ratio_policy " + policy);
    }
  } else if (scales && scales->size() > 0) {
    if (scales->size() != axes.size())
      throw ShapeError(std::to_string(scales->size()) + " scales for " +
                       std::to_string(axes.size()) + " axes");
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::size_t a = std::size_t(axes[i]);
      const double scale = scales->real(i);
      const std::string what = "scale " + std::to_string(scale) + " for axis " + std::to_string(a);
      if (!(scale > 0) || !std::isfinite(scale))
        throw ShapeError(what + " (scales must be finite and positive)");
      out[a] = x[a] < 0 ? -1 : resized_dim(std::floor(double(x[a]) * scale), what);
    }
  } else {
    return {t};
  }
  return {TensorInfo{out, t.dtype}};
}

std::vector<TensorInfo> quantize(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                 const std::vector<const Value*>&) {
  // The output type: the zero point's, else output_dtype (opset 21), else uint8.
  int dtype = TensorProto::UINT8;
  if (given(n, 2) && arg(in, 2).dtype)
    dtype = arg(in, 2).dtype;
  else if (const i64 o = attr_int(n, "output_dtype", 0))
    dtype = int(o);
  return like(n, in, 0, dtype);
}

std::vector<TensorInfo> dequantize(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                   const std::vector<const Value*>&) {
  int dtype = arg(in, 1).dtype ? arg(in, 1).dtype : int(TensorProto::FLOAT);
  if (const i64 o = attr_int(n, "output_dtype", 0)) dtype = int(o);
  return like(n, in, 0, dtype);
}

std::vector<TensorInfo> pool(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                             const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  const auto kernel = attr_ints(n, "kernel_shape");
  if (!kernel) throw ShapeError("no kernel_shape");
  t.dims = pool_output(n, *arg(in, 0).dims, *kernel);
  return std::vector<TensorInfo>(std::size_t(n.output_size()), t);
}

std::vector<TensorInfo> center_crop_pad(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                        const std::vector<const Value*>& values) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  const Value* shape = value(values, 1);
  if (!arg(in, 0).dims || !shape) return {t};
  Dims out = *arg(in, 0).dims;
  const i64 rank = i64(out.size());
  Dims axes = attr_ints(n, "axes").value_or(Dims{});
  if (axes.empty())
    for (i64 i = 0; i < rank; ++i) axes.push_back(i);
  if (axes.size() != shape->size())
    throw ShapeError(std::to_string(shape->size()) + " sizes for " +
                     std::to_string(axes.size()) + " axes");
  for (std::size_t i = 0; i < axes.size(); ++i)
    out[std::size_t(checked_axis(axes[i], rank))] = shape->integer(i);
  return {TensorInfo{out, t.dtype}};
}

std::vector<TensorInfo> grid_sample(const NodeProto&, i64, const std::vector<TensorInfo>& in,
                                    const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims || !arg(in, 1).dims) return {t};
  const Dims &x = *arg(in, 0).dims, &grid = *arg(in, 1).dims;
  if (x.size() < 3 || grid.size() != x.size())
    throw ShapeError("input " + dims_text(x) + " and grid " + dims_text(grid) + " do not match");
  Dims out = {x[0], x[1]};
  out.insert(out.end(), grid.begin() + 1, grid.end() - 1);
  return {TensorInfo{out, t.dtype}};
}

// Attention (opset 23): Q (B, Hq, S, D) or (B, S, Hq*D), K and V with Hkv heads (Hq a multiple
// of Hkv: grouped-query attention), optional past key and value of P positions. Outputs: Y,
// present key and value (B, Hkv, P+L, .), the QK product (B, Hq, S, P+L).
std::vector<TensorInfo> attention(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                  const std::vector<const Value*>&) {
  const int dtype = arg(in, 0).dtype;
  std::vector<TensorInfo> out(std::size_t(n.output_size()), TensorInfo{std::nullopt, dtype});
  const auto &q = arg(in, 0).dims, &k = arg(in, 1).dims, &v = arg(in, 2).dims;
  if (!q || !k || !v) return out;
  const bool three_d = q->size() == 3;
  if ((q->size() != 3 && q->size() != 4) || k->size() != q->size() || v->size() != q->size())
    throw ShapeError("Q, K and V must all be 3-D or 4-D, not " + dims_text(*q) + ", " +
                     dims_text(*k) + ", " + dims_text(*v));
  i64 b = (*q)[0], hq, s, d, hkv, l, dv;
  if (three_d) {
    hq = attr_int(n, "q_num_heads", 0);
    hkv = attr_int(n, "kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0) throw ShapeError("3-D inputs need q_num_heads and kv_num_heads");
    s = (*q)[1];
    l = (*k)[1];
    d = (*q)[2] / hq;
    dv = (*v)[2] / hkv;
  } else {
    hq = (*q)[1], s = (*q)[2], d = (*q)[3];
    hkv = (*k)[1], l = (*k)[2], dv = (*v)[3];
  }
  if (hkv <= 0 || hq % hkv != 0)
    throw ShapeError(std::to_string(hq) + " query heads are not a multiple of " +
                     std::to_string(hkv) + " key/value heads");
  i64 past = 0;
  if (given(n, 4) && arg(in, 4).dims && arg(in, 4).dims->size() == 4) past = (*arg(in, 4).dims)[2];
  const i64 total = past + l;
  if (!out.empty()) out[0].dims = three_d ? Dims{b, s, hq * dv} : Dims{b, hq, s, dv};
  if (out.size() > 1) out[1].dims = Dims{b, hkv, total, d};
  if (out.size() > 2) out[2].dims = Dims{b, hkv, total, dv};
  if (out.size() > 3) out[3].dims = Dims{b, hq, s, total};
  return out;
}

std::vector<TensorInfo> einsum(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                               const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  std::vector<Dims> dims;
  for (int i = 0; i < n.input_size(); ++i) {
    if (!arg(in, std::size_t(i)).dims) return {t};
    dims.push_back(*arg(in, std::size_t(i)).dims);
  }
  const EinsumTerms terms = parse_einsum(attr_string(n, "equation", ""), dims);
  Dims out;
  for (char c : terms.output) out.push_back(terms.sizes.at(c));
  t.dims = out;
  return {t};
}

// GatherND: indices (..., k) select slices of data after `batch_dims` shared leading dims.
// (ONNX 1.12's inference reads out of bounds for a negative batch_dims.)
std::vector<TensorInfo> gather_nd(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                  const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims || !arg(in, 1).dims) return {t};
  const Dims &data = *arg(in, 0).dims, &idx = *arg(in, 1).dims;
  const i64 b = attr_int(n, "batch_dims", 0), r = i64(data.size()), q = i64(idx.size());
  if (q < 1 || b < 0 || b >= std::min(r, q))
    throw ShapeError("batch_dims " + std::to_string(b) + " does not fit data " +
                     dims_text(data) + " and indices " + dims_text(idx));
  const i64 k = idx.back();
  if (k < 1 || k > r - b)
    throw ShapeError("indices of length " + std::to_string(k) + " into data " + dims_text(data) +
                     " after " + std::to_string(b) + " batch dims");
  Dims out(idx.begin(), idx.end() - 1);
  out.insert(out.end(), data.begin() + b + k, data.end());
  t.dims = out;
  return {t};
}

// -- com.microsoft (onnxruntime's quantized operators)

std::vector<TensorInfo> qlinear_binary(const NodeProto&, i64, const std::vector<TensorInfo>& in,
                                       const std::vector<const Value*>&) {
  return broadcast_of(arg(in, 0), arg(in, 3));
}

std::vector<TensorInfo> qlinear_global_pool(const NodeProto& n, i64,
                                            const std::vector<TensorInfo>& in,
                                            const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  Dims out = *arg(in, 0).dims;
  const bool last = attr_int(n, "channels_last", 0) != 0;
  for (std::size_t i = last ? 1 : 2; i < out.size() - (last ? 1 : 0); ++i) out[i] = 1;
  t.dims = out;
  return {t};
}

std::vector<TensorInfo> qlinear_concat(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                       const std::vector<const Value*>&) {
  // Inputs: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) for each tensor.
  TensorInfo t{std::nullopt, arg(in, 2).dtype};
  std::optional<Dims> out;
  for (std::size_t i = 2; i < in.size(); i += 3) {
    if (!in[i].dims) return {t};
    const Dims& d = *in[i].dims;
    const i64 axis = checked_axis(attr_int(n, "axis", 0), i64(d.size()));
    if (!out) {
      out = d;
      continue;
    }
    if (d.size() != out->size()) throw ShapeError("concatenated tensors differ in rank");
    (*out)[std::size_t(axis)] += d[std::size_t(axis)];
  }
  t.dims = out;
  return {t};
}

std::vector<TensorInfo> qgemm(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                              const std::vector<const Value*>&) {
  // A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale, y_zero_point.
  TensorInfo t{std::nullopt, given(n, 8) && arg(in, 8).dtype ? arg(in, 8).dtype
                                                              : int(TensorProto::FLOAT)};
  const auto &a = arg(in, 0).dims, &b = arg(in, 3).dims;
  if (!a || !b) return {t};
  if (a->size() != 2 || b->size() != 2) throw ShapeError("QGemm operands must be 2-D");
  const i64 m = attr_int(n, "transA", 0) ? (*a)[1] : (*a)[0];
  const i64 cols = attr_int(n, "transB", 0) ? (*b)[0] : (*b)[1];
  t.dims = Dims{m, cols};
  return {t};
}

// numpy matmul of inputs `a` and `b` (MatMulIntegerToFloat, DynamicQuantizeMatMul).
std::vector<TensorInfo> matmul_of(const TensorInfo& a, const TensorInfo& b, int dtype) {
  TensorInfo t{std::nullopt, dtype};
  if (!a.dims || !b.dims || a.dims->size() < 2 || b.dims->size() < 2) return {t};
  const Dims &x = *a.dims, &y = *b.dims;
  if (x.back() != y[y.size() - 2])
    throw ShapeError("inner dimensions differ: " + dims_text(x) + " x " + dims_text(y));
  auto batch = broadcast(Dims(x.begin(), x.end() - 2), Dims(y.begin(), y.end() - 2));
  if (!batch) throw ShapeError("batch dimensions do not broadcast: " + dims_text(x) + " x " + dims_text(y));
  batch->push_back(x[x.size() - 2]);
  batch->push_back(y.back());
  t.dims = batch;
  return {t};
}

std::vector<TensorInfo> float_matmul(const NodeProto&, i64, const std::vector<TensorInfo>& in,
                                     const std::vector<const Value*>&) {
  return matmul_of(arg(in, 0), arg(in, 1), TensorProto::FLOAT);
}

// MatMulNBits: A (..., K) times a block-quantized weight of N x K given by attributes.
std::vector<TensorInfo> matmul_nbits(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                                     const std::vector<const Value*>&) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  Dims out = *arg(in, 0).dims;
  const i64 k = attr_int(n, "K", 0), cols = attr_int(n, "N", 0);
  if (out.empty() || out.back() != k)
    throw ShapeError("input " + dims_text(out) + " does not end in K = " + std::to_string(k));
  out.back() = cols;
  t.dims = out;
  return {t};
}

// DFT-20: input [..., 1 or 2] (real or complex); the axis is an input (a scalar, default -2,
// one of the dims before the last), the transform's length along it dft_length (an input) or
// the input's, onesided keeps n/2 + 1 of them; the output's last dim is 2. A non-constant axis
// or length leaves the output unknown.
std::vector<TensorInfo> dft(const NodeProto& n, i64, const std::vector<TensorInfo>& in,
                            const std::vector<const Value*>& values) {
  TensorInfo t{std::nullopt, arg(in, 0).dtype};
  if (!arg(in, 0).dims) return {t};
  Dims y = *arg(in, 0).dims;
  const i64 rank = i64(y.size());
  if (rank < 2 || (y.back() != 1 && y.back() != 2))
    throw ShapeError("input " + dims_text(y) + " is not [..., 1 (real) or 2 (complex)]");
  const auto scalar = [&](int i, const char* what) -> std::optional<i64> {
    const Value* v = value(values, std::size_t(i));
    if (!v) return std::nullopt;
    if (v->size() != 1)
      throw ShapeError(std::string(what) + " must be a scalar, got " +
                       std::to_string(v->size()) + " values");
    return v->integer(0);
  };
  i64 axis = -2;
  if (given(n, 2)) {
    const auto a = scalar(2, "axis");
    if (!a) return {t};
    axis = *a;
  }
  const i64 a = normalize_axis(axis, rank);
  if (a < 0 || a >= rank - 1)
    throw ShapeError("axis " + std::to_string(axis) + " is out of range for " + dims_text(y) +
                     " (the last dim holds the real and imaginary parts)");
  i64 length = y[std::size_t(a)];
  if (given(n, 1)) {
    const auto l = scalar(1, "dft_length");
    if (!l) return {t};
    if (*l <= 0) throw ShapeError("dft_length must be positive, got " + std::to_string(*l));
    length = *l;
  }
  const bool onesided = attr_int(n, "onesided", 0) != 0;
  if (onesided && attr_int(n, "inverse", 0) != 0)
    throw ShapeError("onesided and inverse together are not defined");
  y[std::size_t(a)] = onesided ? length / 2 + 1 : length;
  y.back() = 2;
  t.dims = y;
  return {t};
}

const std::map<std::string, Rule>& onnx_rules() {
  static const std::map<std::string, Rule> rules = {
      {"ReduceMean", reduce}, {"ReduceSum", reduce}, {"ReduceMax", reduce},
      {"ReduceMin", reduce}, {"ReduceProd", reduce}, {"ReduceL1", reduce},
      {"ReduceL2", reduce}, {"ReduceLogSum", reduce}, {"ReduceLogSumExp", reduce},
      {"ReduceSumSquare", reduce}, {"Split", split}, {"Pad", pad}, {"Resize", resize},
      {"QuantizeLinear", quantize}, {"DequantizeLinear", dequantize},
      {"AveragePool", pool}, {"LpPool", pool}, {"CenterCropPad", center_crop_pad},
      {"GroupNormalization", same}, {"RMSNormalization", same}, {"Gelu", same},
      {"Mish", same}, {"RotaryEmbedding", same}, {"ScatterND", same},
      {"ScatterElements", same}, {"IsNaN", boolean}, {"IsInf", boolean},
      {"BitwiseNot", same}, {"BitwiseAnd", binary}, {"BitwiseOr", binary},
      {"BitwiseXor", binary}, {"GridSample", grid_sample}, {"Attention", attention},
      {"Einsum", einsum}, {"GatherND", gather_nd}, {"DFT", dft},
      // onnxruntime's contrib operator, registered in the ai.onnx domain
      {"SimplifiedLayerNormalization", same}};
  return rules;
}

const std::map<std::string, Rule>& microsoft_rules() {
  static const std::map<std::string, Rule> rules = {
      {"QLinearAdd", qlinear_binary}, {"QLinearMul", qlinear_binary},
      {"QLinearSigmoid", same}, {"QLinearLeakyRelu", same}, {"QLinearSoftmax", same},
      {"QLinearGlobalAveragePool", qlinear_global_pool}, {"QLinearAveragePool", pool},
      {"QLinearConcat", qlinear_concat}, {"QGemm", qgemm}, {"QuantizeLinear", quantize},
      {"DequantizeLinear", dequantize}, {"MatMulNBits", matmul_nbits},
      {"MatMulIntegerToFloat", float_matmul}, {"DynamicQuantizeMatMul", float_matmul},
      {"Gelu", same}, {"FastGelu", same}, {"BiasGelu", same}, {"QuickGelu", same},
      {"SkipLayerNormalization", same}, {"SkipSimplifiedLayerNormalization", same},
      {"SimplifiedLayerNormalization", same}};
  return rules;
}

const std::map<std::string, Rule>* rules_for(const std::string& domain) {
  if (domain.empty() || domain == "ai.onnx") return &onnx_rules();
  if (domain == "com.microsoft") return &microsoft_rules();
  return nullptr;
}

}  // namespace

bool has_shape_rule(const std::string& domain, const std::string& op) {
  const auto* rules = rules_for(domain);
  return rules && rules->count(op) > 0;
}

std::vector<TensorInfo> propagate_shapes(const NodeProto& n, i64 opset,
                                         const std::vector<TensorInfo>& in,
                                         const std::vector<const Value*>& values) {
  return rules_for(n.domain())->at(n.op_type())(n, opset, in, values);
}

EinsumTerms parse_einsum(const std::string& equation, const std::vector<Dims>& inputs) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  const auto arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  EinsumTerms t;
  std::size_t start = 0;
  for (;;) {
    const auto comma = lhs.find(',', start);
    t.inputs.push_back(lhs.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (t.inputs.size() != inputs.size())
    throw ShapeError("equation '" + equation + "' has " + std::to_string(t.inputs.size()) +
                     " operands, the node " + std::to_string(inputs.size()));
  // Ellipsis: the leading dims no label names, as capital letters A, B, ... (right-aligned,
  // broadcast like numpy).
  std::size_t ellipsis_rank = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool ellipsis = t.inputs[i].find("...") != std::string::npos;
    const std::size_t labels = t.inputs[i].size() - (ellipsis ? 3 : 0);
    if (labels > inputs[i].size() || (!ellipsis && labels != inputs[i].size()))
      throw ShapeError("operand " + std::to_string(i) + " of '" + equation + "' has rank " +
                       std::to_string(inputs[i].size()));
    if (ellipsis) ellipsis_rank = std::max(ellipsis_rank, inputs[i].size() - labels);
  }
  if (ellipsis_rank > 26) throw ShapeError("an ellipsis over more than 26 dims");
  auto expand = [&](std::string term, std::size_t rank) {
    const auto at = term.find("...");
    if (at == std::string::npos) return term;
    std::string caps;
    for (std::size_t k = ellipsis_rank - rank; k < ellipsis_rank; ++k) caps += char('A' + k);
    return term.replace(at, 3, caps);
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool ellipsis = t.inputs[i].find("...") != std::string::npos;
    t.inputs[i] = expand(t.inputs[i], inputs[i].size() - (t.inputs[i].size() - (ellipsis ? 3 : 0)));
    if (t.inputs[i].size() != inputs[i].size())
      throw ShapeError("operand " + std::to_string(i) + " of '" + equation + "' has rank " +
                       std::to_string(inputs[i].size()));
    for (std::size_t k = 0; k < inputs[i].size(); ++k) {
      const char c = t.inputs[i][k];
      const i64 d = inputs[i][k];
      auto [it, fresh] = t.sizes.emplace(c, d);
      if (!fresh && it->second != d) {
        if (it->second == 1 && std::isupper(static_cast<unsigned char>(c)))
          it->second = d;
        else if (!(d == 1 && std::isupper(static_cast<unsigned char>(c))))
          throw ShapeError("label '" + std::string(1, c) + "' of '" + equation + "' is " +
                           std::to_string(it->second) + " and " + std::to_string(d));
      }
    }
  }
  if (arrow != std::string::npos) {
    t.output = expand(eq.substr(arrow + 2), ellipsis_rank);
  } else {
    // Implicit output: the ellipsis dims, then the labels used once, alphabetically.
    std::map<char, int> uses;
    for (const auto& term : t.inputs)
      for (char c : term) ++uses[c];
    for (std::size_t k = 0; k < ellipsis_rank; ++k) t.output += char('A' + k);
    for (const auto& [c, count] : uses)
      if (count == 1 && std::islower(static_cast<unsigned char>(c))) t.output += c;
  }
  for (char c : t.output)
    if (!t.sizes.count(c))
      throw ShapeError("output label '" + std::string(1, c) + "' of '" + equation +
                       "' is not an input label");
  return t;
}

Dims pool_output(const NodeProto& n, const Dims& x, const Dims& kernel) {
  if (x.size() != kernel.size() + 2)
    throw ShapeError("kernel_shape " + dims_text(kernel) + " does not fit input " + dims_text(x));
  const std::size_t k = kernel.size();
  const Dims strides = attr_ints(n, "strides").value_or(Dims(k, 1));
  const Dims dilations = attr_ints(n, "dilations").value_or(Dims(k, 1));
  const Dims pads = attr_ints(n, "pads").value_or(Dims(2 * k, 0));
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  const bool ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
  if (strides.size() != k || dilations.size() != k || pads.size() != 2 * k)
    throw ShapeError("strides, dilations or pads do not match kernel_shape " + dims_text(kernel));
  Dims out = {x[0], x[1]};
  for (std::size_t i = 0; i < k; ++i) {
    const i64 in = x[i + 2], span = (kernel[i] - 1) * dilations[i] + 1, s = strides[i];
    if (s <= 0) throw ShapeError("stride " + std::to_string(s));
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back((in + s - 1) / s);
    } else if (auto_pad == "VALID") {
      out.push_back((in - span) / s + 1);
    } else {
      const i64 padded = in + pads[i] + pads[i + k] - span;
      i64 o = (ceil_mode ? (padded + s - 1) / s : padded / s) + 1;
      // With ceil_mode the last window must start inside the input or the leading padding.
      if (ceil_mode && (o - 1) * s >= in + pads[i]) --o;
      out.push_back(o);
    }
  }
  return out;
}

}  // namespace tessera::workloads::onnx_import
