// ONNX import (docs/onnx.md). Steps:
//   1. parse the ModelProto (kept alive in a shared Holder that weight views alias), check the
//      opset, name every node, sort the nodes topologically (a cycle is an error);
//   2. load external data, apply the input-size overrides;
//   3. repeat: ONNX shape inference with data propagation, then fold the constant subgraphs that
//      compute shapes into initializers, until nothing more folds;
//   4. map each remaining node to an IR operator and connect producers to consumers.
#include "workloads/onnx_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "common/error.hpp"

namespace tessera::workloads {

namespace {

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;

constexpr i64 kMinOpset = 7;
constexpr i64 kMaxOpset = 17;  // the newest opset ONNX 1.12 knows
constexpr i64 kMaxFoldElements = 1 << 16;

// The parsed model and the external-data files it refers to. Weight views (TensorValues) alias
// it, so it lives as long as any of them.
struct Holder {
  ModelProto model;
  std::map<std::string, std::string> external_files;  // location -> whole file
};

using Dims = std::vector<i64>;

i64 numel(const Dims& d) {
  i64 n = 1;
  for (i64 v : d) n *= v;
  return n;
}

std::string dims_text(const Dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ---------------------------------------------------------------------------------------------
// Attributes

const AttributeProto* find_attr(const NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
i64 attr_int(const NodeProto& n, const std::string& name, i64 fallback) {
  const AttributeProto* a = find_attr(n, name);
  return a ? a->i() : fallback;
}
std::optional<Dims> attr_ints(const NodeProto& n, const std::string& name) {
  const AttributeProto* a = find_attr(n, name);
  if (!a) return std::nullopt;
  return Dims(a->ints().begin(), a->ints().end());
}
std::string attr_string(const NodeProto& n, const std::string& name, const std::string& fallback) {
  const AttributeProto* a = find_attr(n, name);
  return a ? a->s() : fallback;
}

// ---------------------------------------------------------------------------------------------
// Constant values (the shape computations the folder evaluates)

bool is_float_type(int t) {
  return t == TensorProto::FLOAT || t == TensorProto::DOUBLE || t == TensorProto::FLOAT16 ||
         t == TensorProto::BFLOAT16;
}

struct Value {
  int dtype = TensorProto::INT64;
  Dims dims;
  std::vector<i64> ints;      // integer and bool types
  std::vector<double> reals;  // float types

  bool is_float() const { return is_float_type(dtype); }
  std::size_t size() const { return is_float() ? reals.size() : ints.size(); }
  double real(std::size_t i) const { return is_float() ? reals[i] : double(ints[i]); }
  i64 integer(std::size_t i) const { return is_float() ? i64(reals[i]) : ints[i]; }
  std::vector<i64> as_ints() const {
    std::vector<i64> v(size());
    for (std::size_t i = 0; i < size(); ++i) v[i] = integer(i);
    return v;
  }
};

// An empty value of `dtype` and `dims`, its elements filled by `at(i)` (a double or an i64).
template <class F>
Value make_value(int dtype, Dims dims, F at) {
  Value v;
  v.dtype = dtype;
  v.dims = std::move(dims);
  const i64 n = numel(v.dims);
  if (v.is_float())
    for (i64 i = 0; i < n; ++i) v.reals.push_back(double(at(i)));
  else
    for (i64 i = 0; i < n; ++i) v.ints.push_back(i64(at(i)));
  return v;
}

// Elements of src rearranged: output i takes source element index(i).
Value remap(const Value& src, Dims dims, const std::function<i64(i64)>& index) {
  Value v;
  v.dtype = src.dtype;
  v.dims = std::move(dims);
  const i64 n = numel(v.dims);
  for (i64 i = 0; i < n; ++i) {
    const i64 j = index(i);
    if (src.is_float())
      v.reals.push_back(src.reals.at(std::size_t(j)));
    else
      v.ints.push_back(src.ints.at(std::size_t(j)));
  }
  return v;
}

Dims strides_of(const Dims& d) {
  Dims s(d.size(), 1);
  for (std::size_t i = d.size(); i-- > 1;) s[i - 1] = s[i] * d[i];
  return s;
}

std::optional<Dims> broadcast(const Dims& a, const Dims& b) {
  const std::size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const i64 x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const i64 y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// The flat index into `in` (broadcast to `out`) of output element i.
i64 broadcast_source(i64 i, const Dims& out, const Dims& in) {
  const Dims os = strides_of(out), is = strides_of(in);
  i64 j = 0;
  const std::size_t off = out.size() - in.size();
  for (std::size_t d = 0; d < out.size(); ++d) {
    const i64 coord = (i / os[d]) % out[d];
    if (d >= off && in[d - off] != 1) j += coord * is[d - off];
  }
  return j;
}

i64 normalize_axis(i64 axis, i64 rank) { return axis < 0 ? axis + rank : axis; }

std::optional<Value> read_tensor(const TensorProto& t, const Holder& holder);

// Evaluates `node` on constant inputs (nullptr: an absent optional input). Returns nullopt when
// the operator is not one the folder knows or the values do not fit.
std::optional<std::vector<Value>> evaluate(const NodeProto& node,
                                           const std::vector<const Value*>& in, i64 opset,
                                           const Holder& holder) {
  const std::string& op = node.op_type();
  auto input = [&](std::size_t i) -> const Value* { return i < in.size() ? in[i] : nullptr; };
  auto one = [](Value v) { return std::optional<std::vector<Value>>(std::vector<Value>{std::move(v)}); };
  const Value* x = input(0);

  if (op == "Constant") {
    if (const AttributeProto* a = find_attr(node, "value")) {
      auto v = read_tensor(a->t(), holder);
      if (v) return one(*v);
      return std::nullopt;
    }
    if (const AttributeProto* a = find_attr(node, "value_int"))
      return one(make_value(TensorProto::INT64, {}, [&](i64) { return a->i(); }));
    if (const AttributeProto* a = find_attr(node, "value_ints"))
      return one(make_value(TensorProto::INT64, {a->ints_size()},
                            [&](i64 i) { return a->ints(int(i)); }));
    if (const AttributeProto* a = find_attr(node, "value_float"))
      return one(make_value(TensorProto::FLOAT, {}, [&](i64) { return double(a->f()); }));
    if (const AttributeProto* a = find_attr(node, "value_floats"))
      return one(make_value(TensorProto::FLOAT, {a->floats_size()},
                            [&](i64 i) { return double(a->floats(int(i))); }));
    return std::nullopt;
  }
  if (!x) return std::nullopt;
  const i64 rank = i64(x->dims.size());

  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout" && node.output_size() > 1) return std::nullopt;
    return one(*x);
  }
  if (op == "Cast") {
    const int to = int(attr_int(node, "to", TensorProto::FLOAT));
    if (to == TensorProto::BOOL)
      return one(make_value(to, x->dims, [&](i64 i) { return x->real(std::size_t(i)) != 0 ? 1 : 0; }));
    if (is_float_type(to))
      return one(make_value(to, x->dims, [&](i64 i) { return x->real(std::size_t(i)); }));
    return one(make_value(to, x->dims, [&](i64 i) { return x->integer(std::size_t(i)); }));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    std::optional<Dims> axes = opset >= 13 ? (input(1) ? std::optional(input(1)->as_ints())
                                                       : std::nullopt)
                                           : attr_ints(node, "axes");
    Dims d = x->dims;
    if (op == "Squeeze") {
      Dims out;
      std::set<i64> drop;
      if (axes)
        for (i64 a : *axes) drop.insert(normalize_axis(a, rank));
      for (i64 i = 0; i < rank; ++i)
        if (!(axes ? drop.count(i) > 0 : d[std::size_t(i)] == 1)) out.push_back(d[std::size_t(i)]);
      d = out;
    } else {
      if (!axes) return std::nullopt;
      const i64 out_rank = rank + i64(axes->size());
      std::set<i64> add;
      for (i64 a : *axes) add.insert(normalize_axis(a, out_rank));
      Dims out;
      std::size_t k = 0;
      for (i64 i = 0; i < out_rank; ++i) out.push_back(add.count(i) ? 1 : d.at(k++));
      d = out;
    }
    Value v = *x;
    v.dims = d;
    return one(v);
  }
  if (op == "Reshape") {
    if (!input(1)) return std::nullopt;
    Dims shape = input(1)->as_ints();
    const bool allowzero = attr_int(node, "allowzero", 0) != 0;
    i64 known = 1, infer = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && !allowzero) shape[i] = x->dims.at(i);
      if (shape[i] == -1)
        infer = i64(i);
      else
        known *= shape[i];
    }
    if (infer >= 0) shape[std::size_t(infer)] = known ? numel(x->dims) / known : 0;
    if (numel(shape) != numel(x->dims)) return std::nullopt;
    Value v = *x;
    v.dims = shape;
    return one(v);
  }
  if (op == "Flatten") {
    const i64 axis = normalize_axis(attr_int(node, "axis", 1), rank);
    Dims d(x->dims.begin(), x->dims.begin() + axis);
    Value v = *x;
    v.dims = {numel(d), numel(x->dims) / std::max<i64>(1, numel(d))};
    return one(v);
  }
  if (op == "Shape" || op == "Size") return std::nullopt;  // handled by the caller (needs shapes)
  if (op == "Gather") {
    const Value* idx = input(1);
    if (!idx) return std::nullopt;
    const i64 axis = normalize_axis(attr_int(node, "axis", 0), rank);
    Dims out(x->dims.begin(), x->dims.begin() + axis);
    out.insert(out.end(), idx->dims.begin(), idx->dims.end());
    out.insert(out.end(), x->dims.begin() + axis + 1, x->dims.end());
    const i64 inner = numel(Dims(x->dims.begin() + axis + 1, x->dims.end()));
    const i64 len = x->dims.at(std::size_t(axis)), count = numel(idx->dims);
    for (std::size_t j = 0; j < idx->size(); ++j)
      if (idx->integer(j) < -len || idx->integer(j) >= len) return std::nullopt;
    return one(remap(*x, out, [&](i64 i) {
      const i64 o = i / (count * inner), r = i % (count * inner);
      i64 k = idx->integer(std::size_t(r / inner));
      if (k < 0) k += len;
      return (o * len + k) * inner + r % inner;
    }));
  }
  if (op == "Concat") {
    const i64 axis = normalize_axis(attr_int(node, "axis", 0), rank);
    Dims out = x->dims;
    out[std::size_t(axis)] = 0;
    for (const Value* v : in) {
      if (!v || v->dims.size() != x->dims.size()) return std::nullopt;
      out[std::size_t(axis)] += v->dims[std::size_t(axis)];
    }
    const i64 inner = numel(Dims(x->dims.begin() + axis + 1, x->dims.end()));
    Value v;
    v.dtype = x->dtype;
    v.dims = out;
    const i64 outer = numel(Dims(x->dims.begin(), x->dims.begin() + axis));
    for (i64 o = 0; o < outer; ++o)
      for (const Value* p : in) {
        const i64 block = p->dims[std::size_t(axis)] * inner;
        for (i64 j = 0; j < block; ++j) {
          if (v.is_float())
            v.reals.push_back(p->real(std::size_t(o * block + j)));
          else
            v.ints.push_back(p->integer(std::size_t(o * block + j)));
        }
      }
    return one(v);
  }
  if (op == "Slice") {
    Dims starts, ends, axes, steps;
    if (opset >= 10) {
      if (!input(1) || !input(2)) return std::nullopt;
      starts = input(1)->as_ints();
      ends = input(2)->as_ints();
      if (input(3)) axes = input(3)->as_ints();
      if (input(4)) steps = input(4)->as_ints();
    } else {
      starts = attr_ints(node, "starts").value_or(Dims{});
      ends = attr_ints(node, "ends").value_or(Dims{});
      axes = attr_ints(node, "axes").value_or(Dims{});
    }
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(i64(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size()) return std::nullopt;
    Dims begin(x->dims.size(), 0), step(x->dims.size(), 1), out = x->dims;
    for (std::size_t j = 0; j < starts.size(); ++j) {
      const std::size_t a = std::size_t(normalize_axis(axes[j], rank));
      const i64 len = x->dims.at(a), st = steps[j];
      if (st == 0) return std::nullopt;
      auto clamp = [&](i64 v) {
        if (v < 0) v += len;
        return st > 0 ? std::clamp<i64>(v, 0, len) : std::clamp<i64>(v, -1, len - 1);
      };
      const i64 b = clamp(starts[j]), e = clamp(ends[j]);
      begin[a] = b;
      step[a] = st;
      out[a] = st > 0 ? std::max<i64>(0, (e - b + st - 1) / st) : std::max<i64>(0, (b - e - st - 1) / -st);
    }
    const Dims os = strides_of(out), is = strides_of(x->dims);
    return one(remap(*x, out, [&](i64 i) {
      i64 j = 0;
      for (std::size_t d = 0; d < out.size(); ++d) j += (begin[d] + ((i / os[d]) % out[d]) * step[d]) * is[d];
      return j;
    }));
  }
  if (op == "Transpose") {
    Dims perm = attr_ints(node, "perm").value_or(Dims{});
    if (perm.empty())
      for (i64 i = rank - 1; i >= 0; --i) perm.push_back(i);
    Dims out;
    for (i64 p : perm) out.push_back(x->dims.at(std::size_t(p)));
    const Dims os = strides_of(out), is = strides_of(x->dims);
    return one(remap(*x, out, [&](i64 i) {
      i64 j = 0;
      for (std::size_t d = 0; d < out.size(); ++d) j += ((i / os[d]) % out[d]) * is[std::size_t(perm[d])];
      return j;
    }));
  }
  if (op == "ConstantOfShape") {
    Dims out = x->as_ints();
    Value fill = make_value(TensorProto::FLOAT, {1}, [](i64) { return 0.0; });
    if (const AttributeProto* a = find_attr(node, "value")) {
      auto v = read_tensor(a->t(), holder);
      if (!v || v->size() != 1) return std::nullopt;
      fill = *v;
    }
    if (numel(out) > kMaxFoldElements) return std::nullopt;
    return one(remap(fill, out, [](i64) { return i64{0}; }));
  }
  if (op == "Expand") {
    if (!input(1)) return std::nullopt;
    auto out = broadcast(x->dims, input(1)->as_ints());
    if (!out || numel(*out) > kMaxFoldElements) return std::nullopt;
    return one(remap(*x, *out, [&](i64 i) { return broadcast_source(i, *out, x->dims); }));
  }
  if (op == "Range") {
    if (!input(1) || !input(2)) return std::nullopt;
    const double start = x->real(0), limit = input(1)->real(0), delta = input(2)->real(0);
    if (delta == 0) return std::nullopt;
    const i64 n = std::max<i64>(0, i64(std::ceil((limit - start) / delta)));
    if (n > kMaxFoldElements) return std::nullopt;
    return one(make_value(x->dtype, {n}, [&](i64 i) { return start + double(i) * delta; }));
  }
  if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin") {
    // Only whole-tensor reductions (of the 1-D shape vectors the exporters produce).
    const auto axes = opset >= 13 && op == "ReduceSum"
                          ? (input(1) ? std::optional(input(1)->as_ints()) : std::nullopt)
                          : attr_ints(node, "axes");
    if (axes && !(rank == 1 && axes->size() == 1)) return std::nullopt;
    if (x->size() == 0) return std::nullopt;
    double acc = x->real(0);
    for (std::size_t i = 1; i < x->size(); ++i) {
      const double v = x->real(i);
      acc = op == "ReduceProd" ? acc * v
            : op == "ReduceSum" ? acc + v
            : op == "ReduceMax" ? std::max(acc, v)
                                : std::min(acc, v);
    }
    Dims out = attr_int(node, "keepdims", 1) ? Dims(std::size_t(rank), 1) : Dims{};
    return one(make_value(x->dtype, out, [&](i64) { return acc; }));
  }

  // Pointwise operators with numpy broadcasting.
  using Unary = std::function<double(double)>;
  static const std::map<std::string, Unary> unary = {
      {"Neg", [](double a) { return -a; }},
      {"Abs", [](double a) { return std::abs(a); }},
      {"Sqrt", [](double a) { return std::sqrt(a); }},
      {"Floor", [](double a) { return std::floor(a); }},
      {"Ceil", [](double a) { return std::ceil(a); }},
      {"Reciprocal", [](double a) { return 1 / a; }},
      {"Not", [](double a) { return a == 0 ? 1.0 : 0.0; }},
      {"Relu", [](double a) { return std::max(a, 0.0); }},
      {"Sign", [](double a) { return double((a > 0) - (a < 0)); }},
  };
  if (auto it = unary.find(op); it != unary.end()) {
    if (!x->is_float() && op == "Sqrt") return std::nullopt;
    return one(make_value(x->dtype, x->dims, [&](i64 i) { return it->second(x->real(std::size_t(i))); }));
  }
  static const std::set<std::string> compare = {"Equal", "Less", "Greater", "LessOrEqual",
                                                "GreaterOrEqual", "And", "Or"};
  static const std::set<std::string> arithmetic = {"Add", "Sub", "Mul", "Div", "Mod",
                                                   "Pow", "Max", "Min"};
  if ((compare.count(op) || arithmetic.count(op)) && in.size() == 2 && input(1)) {
    const Value* y = input(1);
    auto out = broadcast(x->dims, y->dims);
    if (!out) return std::nullopt;
    const bool cmp = compare.count(op) > 0;
    const int dtype = cmp ? int(TensorProto::BOOL) : x->dtype;
    const bool real = x->is_float() || y->is_float();
    for (std::size_t i = 0; i < y->size(); ++i)
      if (!real && (op == "Div" || op == "Mod") && y->integer(i) == 0) return std::nullopt;
    return one(make_value(dtype, *out, [&](i64 i) -> double {
      const std::size_t ia = std::size_t(broadcast_source(i, *out, x->dims));
      const std::size_t ib = std::size_t(broadcast_source(i, *out, y->dims));
      if (real) {
        const double a = x->real(ia), b = y->real(ib);
        if (op == "Equal") return a == b;
        if (op == "Less") return a < b;
        if (op == "Greater") return a > b;
        if (op == "LessOrEqual") return a <= b;
        if (op == "GreaterOrEqual") return a >= b;
        if (op == "And") return a != 0 && b != 0;
        if (op == "Or") return a != 0 || b != 0;
        if (op == "Add") return a + b;
        if (op == "Sub") return a - b;
        if (op == "Mul") return a * b;
        if (op == "Div") return a / b;
        if (op == "Mod") return std::fmod(a, b);
        if (op == "Pow") return std::pow(a, b);
        if (op == "Max") return std::max(a, b);
        return std::min(a, b);
      }
      // Integers stay exact (shape arithmetic can involve INT64_MAX as "to the end").
      const i64 a = x->integer(ia), b = y->integer(ib);
      i64 r = 0;
      if (op == "Equal") r = a == b;
      else if (op == "Less") r = a < b;
      else if (op == "Greater") r = a > b;
      else if (op == "LessOrEqual") r = a <= b;
      else if (op == "GreaterOrEqual") r = a >= b;
      else if (op == "And") r = a != 0 && b != 0;
      else if (op == "Or") r = a != 0 || b != 0;
      else if (op == "Add") r = a + b;
      else if (op == "Sub") r = a - b;
      else if (op == "Mul") r = a * b;
      else if (op == "Div") r = a / b;
      else if (op == "Mod") r = a % b;
      else if (op == "Pow") r = i64(std::pow(double(a), double(b)));
      else if (op == "Max") r = std::max(a, b);
      else r = std::min(a, b);
      return double(r);
    }));
  }
  if (op == "Where" && input(1) && input(2)) {
    const Value *c = x, *a = input(1), *b = input(2);
    auto ab = broadcast(a->dims, b->dims);
    if (!ab) return std::nullopt;
    auto out = broadcast(c->dims, *ab);
    if (!out) return std::nullopt;
    Value v;
    v.dtype = a->dtype;
    v.dims = *out;
    for (i64 i = 0; i < numel(*out); ++i) {
      const bool pick = c->integer(std::size_t(broadcast_source(i, *out, c->dims))) != 0;
      const Value* s = pick ? a : b;
      const std::size_t j = std::size_t(broadcast_source(i, *out, s->dims));
      if (v.is_float())
        v.reals.push_back(s->real(j));
      else
        v.ints.push_back(s->integer(j));
    }
    return one(v);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Initializer payloads

ElementType element_type_of(int t, bool& ok) {
  ok = true;
  switch (t) {
    case TensorProto::FLOAT: return ElementType::f32;
    case TensorProto::DOUBLE: return ElementType::f64;
    case TensorProto::FLOAT16: return ElementType::f16;
    case TensorProto::BFLOAT16: return ElementType::bf16;
    case TensorProto::INT8: return ElementType::i8;
    case TensorProto::UINT8: return ElementType::u8;
    case TensorProto::INT16: return ElementType::i16;
    case TensorProto::UINT16: return ElementType::u16;
    case TensorProto::INT32: return ElementType::i32;
    case TensorProto::INT64: return ElementType::i64;
    default: ok = false; return ElementType::f32;
  }
}

bool is_external(const TensorProto& t) {
  return t.has_data_location() && t.data_location() == TensorProto::EXTERNAL;
}

std::string external_key(const TensorProto& t, const std::string& key) {
  for (const auto& e : t.external_data())
    if (e.key() == key) return e.value();
  return "";
}

// Where the tensor's packed little-endian bytes are, without copying: raw_data, its slice of a
// loaded external-data file, or a typed field whose in-memory layout is the packed one. The
// second member is the object the bytes live in (for TensorValues::owner).
struct Bytes {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  const void* container = nullptr;
};

std::optional<Bytes> packed_bytes(const TensorProto& t, const Holder& holder) {
  auto view = [](const std::string& s, std::size_t offset, std::size_t size) {
    return Bytes{reinterpret_cast<const std::byte*>(s.data()) + offset, size, &s};
  };
  if (is_external(t)) {
    auto it = holder.external_files.find(external_key(t, "location"));
    if (it == holder.external_files.end()) return std::nullopt;
    const std::string off = external_key(t, "offset"), len = external_key(t, "length");
    const std::size_t offset = off.empty() ? 0 : std::stoull(off);
    const std::size_t length = len.empty() ? it->second.size() - offset : std::stoull(len);
    return view(it->second, offset, length);
  }
  if (!t.raw_data().empty()) return view(t.raw_data(), 0, t.raw_data().size());
  auto field = [&](const auto& f, std::size_t elem) -> std::optional<Bytes> {
    if (f.empty()) return std::nullopt;
    return Bytes{reinterpret_cast<const std::byte*>(f.data()), std::size_t(f.size()) * elem, &f};
  };
  switch (t.data_type()) {
    case TensorProto::FLOAT: return field(t.float_data(), 4);
    case TensorProto::DOUBLE: return field(t.double_data(), 8);
    case TensorProto::INT64: return field(t.int64_data(), 8);
    case TensorProto::INT32: return field(t.int32_data(), 4);
    default: return std::nullopt;
  }
}

// The values of a small tensor, for folding; nullopt when it has no payload or is too large.
std::optional<Value> read_tensor(const TensorProto& t, const Holder& holder) {
  Dims dims(t.dims().begin(), t.dims().end());
  const i64 n = numel(dims);
  if (n > kMaxFoldElements) return std::nullopt;
  Value v;
  v.dtype = t.data_type();
  v.dims = dims;
  auto from_bytes = [&](const Bytes& b) -> bool {
    std::size_t elem = 0;
    switch (v.dtype) {
      case TensorProto::INT64: case TensorProto::UINT64: case TensorProto::DOUBLE: elem = 8; break;
      case TensorProto::INT32: case TensorProto::UINT32: case TensorProto::FLOAT: elem = 4; break;
      case TensorProto::INT16: case TensorProto::UINT16: elem = 2; break;
      case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL: elem = 1; break;
      default: return false;
    }
    if (b.size != std::size_t(n) * elem) return false;
    for (i64 i = 0; i < n; ++i) {
      const std::byte* p = b.data + i * i64(elem);
      auto load = [&](auto tag) {
        decltype(tag) x;
        std::memcpy(&x, p, sizeof x);
        return x;
      };
      switch (v.dtype) {
        case TensorProto::INT64: v.ints.push_back(load(std::int64_t{})); break;
        case TensorProto::UINT64: v.ints.push_back(i64(load(std::uint64_t{}))); break;
        case TensorProto::DOUBLE: v.reals.push_back(load(double{})); break;
        case TensorProto::INT32: v.ints.push_back(load(std::int32_t{})); break;
        case TensorProto::UINT32: v.ints.push_back(load(std::uint32_t{})); break;
        case TensorProto::FLOAT: v.reals.push_back(load(float{})); break;
        case TensorProto::INT16: v.ints.push_back(load(std::int16_t{})); break;
        case TensorProto::UINT16: v.ints.push_back(load(std::uint16_t{})); break;
        case TensorProto::INT8: v.ints.push_back(load(std::int8_t{})); break;
        default: v.ints.push_back(load(std::uint8_t{})); break;
      }
    }
    return true;
  };
  if (is_external(t) || !t.raw_data().empty()) {
    auto b = packed_bytes(t, holder);
    if (!b || !from_bytes(*b)) return std::nullopt;
    return v;
  }
  auto take = [&](const auto& field) -> bool {
    if (i64(field.size()) != n) return false;
    for (auto x : field) {
      if (v.is_float())
        v.reals.push_back(double(x));
      else
        v.ints.push_back(i64(x));
    }
    return true;
  };
  bool ok = false;
  switch (v.dtype) {
    case TensorProto::FLOAT: ok = take(t.float_data()); break;
    case TensorProto::DOUBLE: ok = take(t.double_data()); break;
    case TensorProto::INT64: ok = take(t.int64_data()); break;
    case TensorProto::UINT32: case TensorProto::UINT64: ok = take(t.uint64_data()); break;
    case TensorProto::INT32: case TensorProto::INT16: case TensorProto::UINT16:
    case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL:
      ok = take(t.int32_data());
      break;
    default: break;
  }
  if (!ok) return std::nullopt;
  return v;
}

// Writes a folded value as an initializer (so that shape inference sees it); false for types
// the writer does not handle.
bool write_tensor(const Value& v, const std::string& name, TensorProto& t) {
  t.set_name(name);
  t.set_data_type(v.dtype);
  for (i64 d : v.dims) t.add_dims(d);
  switch (v.dtype) {
    case TensorProto::INT64:
      for (i64 x : v.ints) t.add_int64_data(x);
      return true;
    case TensorProto::INT32: case TensorProto::INT16: case TensorProto::UINT16:
    case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL:
      for (i64 x : v.ints) t.add_int32_data(std::int32_t(x));
      return true;
    case TensorProto::FLOAT:
      for (double x : v.reals) t.add_float_data(float(x));
      return true;
    case TensorProto::DOUBLE:
      for (double x : v.reals) t.add_double_data(x);
      return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The importer

class Importer {
 public:
  Importer(std::string path, const LoadOptions& options)
      : path_(std::move(path)), options_(options), holder_(std::make_shared<Holder>()) {}

  Graph run() {
    parse();
    check_opset();
    name_nodes();
    sort_nodes();
    load_external_data();
    apply_overrides();
    infer_and_fold();
    return build();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(path_ + ": " + what); }
  std::string where(const NodeProto& n) const {
    return path_ + ": node '" + n.name() + "' (" + n.op_type() + ")";
  }
  [[noreturn]] void fail(const NodeProto& n, const std::string& what) const {
    throw InputError(where(n) + ": " + what);
  }

  GraphProto& graph() { return *holder_->model.mutable_graph(); }

  // -- 1. parse, opset, names, order ------------------------------------------------------------

  void parse() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("cannot open file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    if (bytes.empty()) fail("not an ONNX model: the file is empty");
    if (!holder_->model.ParseFromString(bytes))
      fail("not a valid ONNX model: the protobuf does not parse (truncated or corrupt file)");
    if (holder_->model.ir_version() <= 0 || !holder_->model.has_graph() ||
        holder_->model.graph().node_size() == 0)
      fail("not a valid ONNX model: no IR version or no graph nodes (truncated or corrupt file?)");
  }

  void check_opset() {
    std::optional<i64> version;
    for (const auto& o : holder_->model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") version = o.version();
    if (!version) fail("the model imports no ai.onnx opset (opset_import)");
    if (*version < kMinOpset || *version > kMaxOpset)
      fail("ai.onnx opset " + std::to_string(*version) + " is not supported (supported: " +
           std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
    opset_ = *version;
  }

  void name_nodes() {
    std::set<std::string> used;
    for (int i = 0; i < graph().node_size(); ++i) {
      NodeProto& n = *graph().mutable_node(i);
      std::string base = n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
      std::string name = base;
      for (int k = 2; used.count(name); ++k) name = base + "_" + std::to_string(k);
      used.insert(name);
      n.set_name(name);
    }
  }

  // Topological order (stable: file order where it already is one); a cycle is an error.
  void sort_nodes() {
    const int count = graph().node_size();
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < count; ++i)
      for (const auto& o : graph().node(i).output())
        if (!o.empty()) producer[o] = i;
    std::vector<std::vector<int>> consumers(static_cast<std::size_t>(count));
    std::vector<int> pending(static_cast<std::size_t>(count), 0);
    for (int i = 0; i < count; ++i) {
      std::set<int> from;
      for (const auto& name : graph().node(i).input())
        if (auto it = producer.find(name); it != producer.end()) from.insert(it->second);
      for (int p : from) {
        consumers[std::size_t(p)].push_back(i);
        ++pending[std::size_t(i)];
      }
    }
    std::set<int> ready;
    for (int i = 0; i < count; ++i)
      if (pending[std::size_t(i)] == 0) ready.insert(i);
    std::vector<int> order;
    while (!ready.empty()) {
      const int n = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(n);
      for (int c : consumers[std::size_t(n)])
        if (--pending[std::size_t(c)] == 0) ready.insert(c);
    }
    if (int(order.size()) < count) {
      // Walk back along producers that are still pending until a node repeats.
      int n = 0;
      while (pending[std::size_t(n)] == 0) ++n;
      std::vector<int> path;
      std::map<int, std::size_t> seen;
      while (!seen.count(n)) {
        seen[n] = path.size();
        path.push_back(n);
        for (const auto& name : graph().node(n).input())
          if (auto it = producer.find(name);
              it != producer.end() && pending[std::size_t(it->second)] > 0) {
            n = it->second;
            break;
          }
      }
      std::string names;
      for (std::size_t i = path.size(); i-- > seen[n];)
        names += "'" + graph().node(path[i]).name() + "' -> ";
      names += "'" + graph().node(n).name() + "'";
      fail("the graph has a cycle through nodes " + names);
    }
    google::protobuf::RepeatedPtrField<NodeProto> sorted;
    for (int i : order) sorted.Add()->Swap(graph().mutable_node(i));
    graph().mutable_node()->Swap(&sorted);
  }

  // -- 2. external data, overrides -------------------------------------------------------------

  void load_external_data() {
    const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    for (int i = 0; i < graph().initializer_size(); ++i) {
      TensorProto& t = *graph().mutable_initializer(i);
      if (!is_external(t)) continue;
      const std::string location = external_key(t, "location");
      const std::filesystem::path rel(location);
      if (location.empty() || rel.is_absolute() ||
          std::any_of(rel.begin(), rel.end(), [](const auto& p) { return p == ".."; }))
        fail("initializer '" + t.name() + "': external data location '" + location +
             "' must be a relative path inside the model's directory");
      if (!holder_->external_files.count(location)) {
        std::ifstream in(dir / rel, std::ios::binary);
        if (!in)
          fail("initializer '" + t.name() + "': cannot read its external data file '" +
               (dir / rel).string() + "'");
        std::ostringstream buffer;
        buffer << in.rdbuf();
        holder_->external_files[location] = buffer.str();
      }
      const std::string& file = holder_->external_files[location];
      const std::string off = external_key(t, "offset"), len = external_key(t, "length");
      std::size_t offset = 0, length = 0;
      try {
        offset = off.empty() ? 0 : std::stoull(off);
        length = len.empty() ? file.size() - std::min(offset, file.size()) : std::stoull(len);
      } catch (const std::exception&) {
        fail("initializer '" + t.name() + "': bad external data offset/length");
      }
      bool known = false;
      const ElementType et = element_type_of(t.data_type(), known);
      const Dims dims(t.dims().begin(), t.dims().end());
      if (offset + length > file.size() ||
          (known && length != std::size_t(numel(dims)) * element_size(et)))
        fail("initializer '" + t.name() + "': external data in '" + location + "' at offset " +
             std::to_string(offset) + " with length " + std::to_string(length) +
             " does not match its dims " + dims_text(dims) + " or the file size " +
             std::to_string(file.size()));
      // ONNX shape inference cannot read external tensors; small integer ones (shape constants)
      // get their bytes inline. Weights stay in the external buffer.
      if (!is_float_type(t.data_type()) && numel(dims) <= kMaxFoldElements) {
        t.set_raw_data(file.substr(offset, length));
        t.clear_external_data();
        t.clear_data_location();
      }
    }
  }

  void apply_overrides() {
    std::set<std::string> initializers;
    for (const auto& t : graph().initializer()) initializers.insert(t.name());
    std::set<std::string> inputs;
    for (auto& input : *graph().mutable_input()) {
      if (initializers.count(input.name())) continue;
      inputs.insert(input.name());
      if (!input.type().has_tensor_type())
        fail("input '" + input.name() + "' is not a tensor (only tensor inputs are supported)");
      auto* shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
      std::vector<std::optional<i64>> dims;
      std::vector<std::string> names;
      for (const auto& d : shape->dim()) {
        dims.push_back(d.has_dim_value() && d.dim_value() > 0 ? std::optional(d.dim_value())
                                                              : std::nullopt);
        names.push_back(d.has_dim_param() ? d.dim_param() : "");
      }
      if (auto it = options_.input_shapes.find(input.name()); it != options_.input_shapes.end()) {
        dims.assign(it->second.begin(), it->second.end());
        names.assign(dims.size(), "");
        for (i64 d : it->second)
          if (d <= 0)
            fail("input shape override for '" + input.name() + "' has a dimension " +
                 std::to_string(d) + " (must be > 0)");
      } else {
        if (options_.batch && !dims.empty()) dims[0] = *options_.batch;
        if (options_.image_size && dims.size() == 4) dims[2] = dims[3] = *options_.image_size;
        if (options_.seq_len)
          for (std::size_t i = 1; i < dims.size(); ++i)
            if (!dims[i]) dims[i] = *options_.seq_len;
      }
      shape->clear_dim();
      for (std::size_t i = 0; i < dims.size(); ++i) {
        if (!dims[i])
          fail("input '" + input.name() + "' has a dynamic dimension " + std::to_string(i) +
               (names[i].empty() ? "" : " ('" + names[i] + "')") +
               "; give its size with an override (batch, image size, sequence length, or an "
               "input shape for '" + input.name() + "')");
        shape->add_dim()->set_dim_value(*dims[i]);
      }
    }
    for (const auto& [name, dims] : options_.input_shapes)
      if (!inputs.count(name)) {
        std::string known;
        for (const auto& n : inputs) known += (known.empty() ? "" : ", ") + n;
        fail("an input shape is given for '" + name + "', which is not an input of the model " +
             "(inputs: " + known + ")");
      }
  }

  // -- 3. inference and folding ----------------------------------------------------------------

  void infer(std::unordered_map<std::string, onnx::TensorShapeProto>& propagated) {
    graph().clear_value_info();
    for (auto& o : *graph().mutable_output())
      if (o.type().has_tensor_type()) o.mutable_type()->mutable_tensor_type()->clear_shape();
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/1,
                                     /*enable_data_propagation=*/true);
    propagated.clear();
    try {
      onnx::shape_inference::InferShapes(holder_->model, onnx::OpSchemaRegistry::Instance(), opts,
                                         &propagated);
    } catch (const std::exception& e) {
      fail(std::string("ONNX shape inference failed: ") + e.what());
    }
    shapes_.clear();
    auto take = [&](const onnx::ValueInfoProto& vi) {
      if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
      Dims d;
      for (const auto& dim : vi.type().tensor_type().shape().dim())
        d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
      shapes_[vi.name()] = d;
      types_[vi.name()] = vi.type().tensor_type().elem_type();
    };
    for (const auto& vi : graph().input()) take(vi);
    for (const auto& vi : graph().value_info()) take(vi);
    for (const auto& vi : graph().output()) take(vi);
    for (const auto& t : graph().initializer()) {
      shapes_[t.name()] = Dims(t.dims().begin(), t.dims().end());
      types_[t.name()] = t.data_type();
    }
  }

  std::optional<Dims> static_shape(const std::string& name) const {
    auto it = shapes_.find(name);
    if (it == shapes_.end()) return std::nullopt;
    for (i64 d : it->second)
      if (d < 0) return std::nullopt;
    return it->second;
  }

  void infer_and_fold() {
    for (const auto& t : graph().initializer())
      if (auto v = read_tensor(t, *holder_)) values_[t.name()] = std::move(*v);
    std::unordered_map<std::string, onnx::TensorShapeProto> propagated;
    for (;;) {
      infer(propagated);
      // Each round folds at least one node, so this ends; usually in two or three rounds, one
      // per shape computation that ONNX's data propagation leaves open (e.g. integer Div).
      std::vector<bool> folded(std::size_t(graph().node_size()), false);
      bool any = false;
      for (int i = 0; i < graph().node_size(); ++i) {
        const NodeProto& n = graph().node(i);
        auto outs = fold(n, propagated);
        if (!outs) continue;
        for (int j = 0; j < n.output_size(); ++j) {
          if (n.output(j).empty()) continue;
          values_[n.output(j)] = std::move((*outs)[std::size_t(j)]);
        }
        folded[std::size_t(i)] = any = true;
      }
      if (!any) break;
      google::protobuf::RepeatedPtrField<NodeProto> kept;
      for (int i = 0; i < graph().node_size(); ++i) {
        NodeProto& n = *graph().mutable_node(i);
        if (!folded[std::size_t(i)]) {
          kept.Add()->Swap(&n);
          continue;
        }
        for (const auto& o : n.output())
          if (!o.empty()) write_tensor(values_.at(o), o, *graph().add_initializer());
      }
      graph().mutable_node()->Swap(&kept);
    }
  }

  // Folds a node whose inputs are all known constants (or a Shape/Size of a static tensor).
  std::optional<std::vector<Value>> fold(
      const NodeProto& n,
      const std::unordered_map<std::string, onnx::TensorShapeProto>& propagated) const {
    if (n.domain() != "" && n.domain() != "ai.onnx") return std::nullopt;
    const std::string& op = n.op_type();
    if (op == "Shape" || op == "Size") {
      auto d = n.input_size() > 0 ? static_shape(n.input(0)) : std::nullopt;
      if (!d) return std::nullopt;
      if (op == "Size")
        return std::vector<Value>{make_value(TensorProto::INT64, {}, [&](i64) { return numel(*d); })};
      const i64 rank = i64(d->size());
      i64 start = normalize_axis(attr_int(n, "start", 0), rank);
      i64 end = find_attr(n, "end") ? normalize_axis(attr_int(n, "end", rank), rank) : rank;
      start = std::clamp<i64>(start, 0, rank);
      end = std::clamp<i64>(end, start, rank);
      return std::vector<Value>{make_value(TensorProto::INT64, {end - start},
                                           [&](i64 i) { return (*d)[std::size_t(start + i)]; })};
    }
    std::vector<const Value*> in;
    for (const auto& name : n.input()) {
      if (name.empty()) {
        in.push_back(nullptr);
        continue;
      }
      auto it = values_.find(name);
      if (it == values_.end()) return std::nullopt;
      in.push_back(&it->second);
    }
    if (n.output_size() != 1) return std::nullopt;
    auto out = evaluate(n, in, opset_, *holder_);
    if (!out) {
      // ONNX's data propagation may know the values (a 1-D integer shape computation).
      auto it = propagated.find(n.output(0));
      const auto d = static_shape(n.output(0));
      if (in.empty() || it == propagated.end() || !d || d->size() > 1) return std::nullopt;
      Value v;
      v.dims = *d;
      for (const auto& dim : it->second.dim()) {
        if (!dim.has_dim_value()) return std::nullopt;
        v.ints.push_back(dim.dim_value());
      }
      if (i64(v.ints.size()) != numel(*d)) return std::nullopt;
      out = std::vector<Value>{v};
    }
    for (const auto& v : *out) {
      if (i64(v.size()) != numel(v.dims) || i64(v.size()) > kMaxFoldElements) return std::nullopt;
      TensorProto probe;
      if (!write_tensor(v, "probe", probe)) return std::nullopt;
    }
    return out;
  }

  // -- 4. mapping ------------------------------------------------------------------------------

  struct Built {
    std::vector<Graph::Node> nodes;                   // IR nodes this ONNX node became
    std::vector<std::pair<std::string, Graph::Node>> first;  // (input tensor, consumer node)
  };

  Dims shape_of(const NodeProto& n, const std::string& tensor) const {
    auto d = static_shape(tensor);
    if (!d)
      fail(n, "tensor '" + tensor +
                  "' has no static shape after shape inference (a dynamic dimension no "
                  "override fixes, or an operator ONNX cannot infer)");
    return *d;
  }
  bool is_const(const std::string& tensor) const { return constants_.count(tensor) > 0; }
  std::string input(const NodeProto& n, int i) const {
    return i < n.input_size() ? n.input(i) : std::string();
  }

  std::shared_ptr<const TensorValues> weight_values(const std::string& tensor) const {
    auto it = initializers_.find(tensor);
    if (it == initializers_.end()) return nullptr;
    const TensorProto& t = *it->second;
    bool known = false;
    const ElementType type = element_type_of(t.data_type(), known);
    if (!known) return nullptr;
    auto bytes = packed_bytes(t, *holder_);
    if (!bytes) return nullptr;  // stripped payload, or values only in an unpacked typed field
    auto v = std::make_shared<TensorValues>();
    v->type = type;
    v->dims.assign(t.dims().begin(), t.dims().end());
    v->count = std::size_t(numel(v->dims));
    if (bytes->size != v->count * element_size(type))
      fail("initializer '" + t.name() + "' holds " + std::to_string(bytes->size) +
           " bytes of data, but its dims " + dims_text(v->dims) + " need " +
           std::to_string(v->count * element_size(type)));
    v->data = bytes->data;
    v->owner = std::shared_ptr<const void>(holder_, bytes->container);
    return v;
  }

  // Quantised weights set the weight precision; everything else keeps the IR default (8/8).
  Precision precision_for(const std::string& weight) const {
    Precision p;
    auto it = types_.find(weight);
    if (it != types_.end()) {
      if (it->second == TensorProto::INT8 || it->second == TensorProto::UINT8) p.weight_bits = 8;
      if (it->second == TensorProto::INT16 || it->second == TensorProto::UINT16) p.weight_bits = 16;
    }
    return p;
  }

  Operator base_op(const NodeProto& n, const std::string& suffix = "") const {
    Operator op;
    op.name = n.name() + suffix;
    op.source = where(n);
    return op;
  }

  void map_conv(const NodeProto& n, Operator& op, int xi, int wi, int bi) {
    const bool transposed = n.op_type() == "ConvTranspose";
    const Dims x = shape_of(n, input(n, xi)), w = shape_of(n, input(n, wi));
    const Dims y = shape_of(n, n.output(0));
    if (x.size() != 4 && x.size() != 3)
      fail(n, "only 1-D and 2-D convolutions are supported (input shape " + dims_text(x) + ")");
    const bool one_d = x.size() == 3;
    auto pair = [&](const std::string& name, i64 fallback) {
      Dims v = attr_ints(n, name).value_or(Dims(one_d ? 1 : 2, fallback));
      return one_d ? std::pair{i64{1}, v.at(0)} : std::pair{v.at(0), v.at(1)};
    };
    Conv c;
    c.n = x[0];
    c.c = x[1];
    c.h = one_d ? 1 : x[2];
    c.w = one_d ? x[2] : x[3];
    c.groups = attr_int(n, "group", 1);
    c.k = transposed ? w[1] * c.groups : w[0];
    c.r = one_d ? 1 : w[2];
    c.s = one_d ? w[2] : w[3];
    std::tie(c.stride_h, c.stride_w) = pair("strides", 1);
    std::tie(c.dilation_h, c.dilation_w) = pair("dilations", 1);
    c.transposed = transposed;
    if (transposed) std::tie(c.output_pad_h, c.output_pad_w) = pair("output_padding", 0);
    c.bias = !input(n, bi).empty();
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    const Dims out_spatial = one_d ? Dims{1, y.at(2)} : Dims{y.at(2), y.at(3)};
    const Dims in_spatial = {c.h, c.w}, kernel = {c.r, c.s}, stride = {c.stride_h, c.stride_w},
               dil = {c.dilation_h, c.dilation_w}, opad = {c.output_pad_h, c.output_pad_w};
    Dims begin(2, 0), end(2, 0);
    const auto output_shape = attr_ints(n, "output_shape");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || (transposed && output_shape)) {
      for (std::size_t i = 0; i < 2; ++i) {
        const i64 span = (kernel[i] - 1) * dil[i] + 1;
        i64 total;
        if (transposed)
          total = std::max<i64>(0, stride[i] * (in_spatial[i] - 1) + opad[i] + span - out_spatial[i]);
        else
          total = std::max<i64>(0, (out_spatial[i] - 1) * stride[i] + span - in_spatial[i]);
        const bool upper = auto_pad != "SAME_LOWER";
        begin[i] = upper ? total / 2 : total - total / 2;
        end[i] = total - begin[i];
      }
    } else if (auto_pad == "NOTSET") {
      if (auto pads = attr_ints(n, "pads")) {
        if (one_d) {
          begin[1] = pads->at(0);
          end[1] = pads->at(1);
        } else {
          begin = {pads->at(0), pads->at(1)};
          end = {pads->at(2), pads->at(3)};
        }
      }
    } else if (auto_pad != "VALID") {
      fail(n, "unknown auto_pad '" + auto_pad + "'");
    }
    c.pad_top = begin[0];
    c.pad_left = begin[1];
    c.pad_bottom = end[0];
    c.pad_right = end[1];
    if (c.p() != out_spatial[0] || c.q() != out_spatial[1])
      fail(n, "computed output " + std::to_string(c.p()) + "x" + std::to_string(c.q()) +
                  " differs from ONNX's inferred output shape " + dims_text(y));
    op.shape = c;
    op.precision = precision_for(input(n, wi));
    op.weight_values = weight_values(input(n, wi));
  }

  // a (M x K) times b (K x N), batched with numpy broadcasting; 1-D operands as numpy does.
  void map_matmul(const NodeProto& n, Operator& op, const std::string& a_name,
                  const std::string& b_name, bool trans_a, bool trans_b, bool bias) {
    Dims a = shape_of(n, a_name), b = shape_of(n, b_name);
    if (a.empty() || b.empty()) fail(n, "matrix product of a scalar");
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    if (trans_a) std::swap(a[a.size() - 1], a[a.size() - 2]);
    if (trans_b) std::swap(b[b.size() - 1], b[b.size() - 2]);
    const i64 m = a[a.size() - 2], k = a.back(), n_ = b.back();
    if (b[b.size() - 2] != k)
      fail(n, "inner dimensions differ: " + dims_text(a) + " x " + dims_text(b));
    const Dims batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
    auto batch = broadcast(batch_a, batch_b);
    if (!batch) fail(n, "batch dimensions do not broadcast: " + dims_text(a) + " x " + dims_text(b));
    const bool a_const = is_const(a_name), b_const = is_const(b_name);
    MatMul mm;
    mm.bias = bias;
    if (b_const && !a_const) {
      // A weight shared by the batch: fold the batch into M when the weight has no batch dims.
      mm.b_is_weight = true;
      mm.batch = numel(batch_b) == 1 ? 1 : numel(*batch);
      mm.m = numel(batch_b) == 1 ? numel(batch_a) * m : m;
      mm.k = k;
      mm.n = n_;
      op.weight_values = weight_values(b_name);
      op.precision = precision_for(b_name);
    } else if (a_const && !b_const) {
      // W x: computed as (x^T W^T), the weight is the right operand.
      mm.b_is_weight = true;
      mm.batch = numel(batch_a) == 1 ? 1 : numel(*batch);
      mm.m = numel(batch_a) == 1 ? numel(batch_b) * n_ : n_;
      mm.k = k;
      mm.n = m;
      op.precision = precision_for(a_name);
    } else {
      mm.b_is_weight = false;
      mm.batch = numel(*batch);
      mm.m = m;
      mm.k = k;
      mm.n = n_;
    }
    op.shape = mm;
  }

  void map_pool(const NodeProto& n, Operator& op, PoolType type, bool global) {
    const Dims x = shape_of(n, input(n, 0)), y = shape_of(n, n.output(0));
    if (x.size() != 4 && x.size() != 3)
      fail(n, "only 1-D and 2-D pooling is supported (input shape " + dims_text(x) + ")");
    const bool one_d = x.size() == 3;
    Pool p;
    p.type = type;
    p.global = global;
    p.n = x[0];
    p.c = x[1];
    p.h = one_d ? 1 : x[2];
    p.w = one_d ? x[2] : x[3];
    if (global) {
      p.r = p.h;
      p.s = p.w;
      op.shape = p;
      return;
    }
    auto pair = [&](const std::string& name, i64 fallback) {
      Dims v = attr_ints(n, name).value_or(Dims(one_d ? 1 : 2, fallback));
      return one_d ? std::pair{i64{1}, v.at(0)} : std::pair{v.at(0), v.at(1)};
    };
    std::tie(p.r, p.s) = pair("kernel_shape", 1);
    std::tie(p.stride_h, p.stride_w) = pair("strides", 1);
    const auto [dh, dw] = pair("dilations", 1);
    if (dh != 1 || dw != 1) options_.warning(where(n) + ": pooling dilation is ignored");
    const Dims out = one_d ? Dims{1, y.at(2)} : Dims{y.at(2), y.at(3)};
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const Dims in = {p.h, p.w}, k = {p.r, p.s}, s = {p.stride_h, p.stride_w};
      i64 b[2], e[2];
      for (std::size_t i = 0; i < 2; ++i) {
        const i64 total = std::max<i64>(0, (out[i] - 1) * s[i] + k[i] - in[i]);
        b[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        e[i] = total - b[i];
      }
      p.pad_top = b[0], p.pad_left = b[1], p.pad_bottom = e[0], p.pad_right = e[1];
    } else if (auto pads = attr_ints(n, "pads"); pads && auto_pad == "NOTSET") {
      if (one_d) {
        p.pad_left = pads->at(0);
        p.pad_right = pads->at(1);
      } else {
        p.pad_top = pads->at(0), p.pad_left = pads->at(1);
        p.pad_bottom = pads->at(2), p.pad_right = pads->at(3);
      }
    }
    // ceil_mode: the last, partial window is padded at the end.
    for (int i = 0; i < p.stride_h && p.p() < out[0]; ++i) ++p.pad_bottom;
    for (int i = 0; i < p.stride_w && p.q() < out[1]; ++i) ++p.pad_right;
    if (p.p() != out[0] || p.q() != out[1])
      fail(n, "computed output " + std::to_string(p.p()) + "x" + std::to_string(p.q()) +
                  " differs from ONNX's inferred output shape " + dims_text(y));
    op.shape = p;
  }

  i64 activation_elements(const NodeProto& n) const {
    i64 total = 0;
    for (const auto& name : n.input())
      if (!name.empty() && !is_const(name)) total += numel(shape_of(n, name));
    return total;
  }
  i64 output_elements(const NodeProto& n) const {
    i64 total = 0;
    for (const auto& name : n.output())
      if (!name.empty()) total += numel(shape_of(n, name));
    return total;
  }

  void add_edges(Graph& g, Graph::Node consumer, const std::string& tensor) {
    if (tensor.empty() || is_const(tensor)) return;
    auto it = producers_.find(tensor);
    if (it == producers_.end()) return;  // a graph input
    for (Graph::Node p : it->second) g.connect(p, consumer);
  }

  Graph::Node add(Graph& g, Operator op) {
    try {
      validate(op, "");
      return g.add(std::move(op));
    } catch (const InputError& e) {
      throw InputError(op.source + ": " + e.what());
    }
  }

  // LSTM / GRU / RNN: per direction and time step, one MatMul of [x_t, h_{t-1}] with the gate
  // weights [W; R] (MACs batch * (I + H) * G * H, G = 4, 3, 1 gates), then one elementwise cell
  // update. The first step's MatMul carries the weights as parameters; later steps read the
  // same weights again (b_is_weight = false), so the graph's parameter total counts them once.
  void map_recurrent(Graph& g, const NodeProto& n) {
    const std::string& type = n.op_type();
    const i64 gates = type == "LSTM" ? 4 : type == "GRU" ? 3 : 1;
    const Dims x = shape_of(n, input(n, 0)), w = shape_of(n, input(n, 1));
    const bool batch_first = attr_int(n, "layout", 0) == 1;
    const i64 seq = batch_first ? x.at(1) : x.at(0), batch = batch_first ? x.at(0) : x.at(1);
    const i64 in = x.at(2), hidden = attr_int(n, "hidden_size", w.at(1) / gates);
    const std::string direction = attr_string(n, "direction", "forward");
    const i64 dirs = direction == "bidirectional" ? 2 : 1;
    const bool bias = !input(n, 3).empty();
    std::vector<Graph::Node> last;
    for (i64 d = 0; d < dirs; ++d) {
      const bool reverse = direction == "reverse" || d == 1;
      std::optional<Graph::Node> prev;
      for (i64 t = 0; t < seq; ++t) {
        const std::string step = std::string(reverse ? "/bw" : "/fw") + "/t" + std::to_string(t);
        Operator mm = base_op(n, step + "/gates");
        mm.shape = MatMul{.batch = 1, .m = batch, .n = gates * hidden, .k = in + hidden,
                          .b_is_weight = t == 0, .bias = bias};
        const Graph::Node a = add(g, std::move(mm));
        add_edges(g, a, input(n, 0));
        if (prev) g.connect(*prev, a);
        Operator cell = base_op(n, step + "/cell");
        cell.shape = Elementwise{.function = lower(type) + "_cell", .elements = batch * hidden,
                                 .inputs = gates};
        const Graph::Node b = add(g, std::move(cell));
        g.connect(a, b);
        prev = b;
      }
      last.push_back(*prev);
    }
    for (const auto& o : n.output())
      if (!o.empty()) producers_[o] = last;
  }

  void map_unsupported(Graph& g, const NodeProto& n, const std::string& why) {
    if (!options_.allow_unsupported)
      fail(n, why + " (--allow-unsupported keeps it as a zero-cost node)");
    options_.warning(where(n) + ": " + why + "; kept as a zero-cost data-movement node");
    Operator op = base_op(n);
    i64 in = 0, out = 0;
    for (const auto& name : n.input())
      if (!name.empty() && !is_const(name))
        if (auto d = static_shape(name)) in += numel(*d);
    for (const auto& name : n.output())
      if (auto d = static_shape(name)) out += numel(*d);
    op.shape = DataMovement{MoveType::copy, std::max<i64>(1, in), std::max<i64>(1, out)};
    const Graph::Node node = add(g, std::move(op));
    for (const auto& name : n.input()) add_edges(g, node, name);
    for (const auto& name : n.output())
      if (!name.empty()) producers_[name] = {node};
  }

  Graph build() {
    for (const auto& t : graph().initializer()) {
      initializers_[t.name()] = &t;
      constants_.insert(t.name());
    }
    std::filesystem::path stem = std::filesystem::path(path_).stem();
    Graph g(stem.string());

    static const std::set<std::string> unary = {
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid",
        "HardSwish", "Tanh", "Softplus", "Softsign", "Gelu", "Erf", "Sqrt", "Exp", "Log",
        "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Clip",
        "Not", "Sign", "Mish", "ThresholdedRelu", "Cast", "CastLike", "QuantizeLinear",
        "DequantizeLinear", "IsNaN", "IsInf", "Shrink", "LpNormalization", "LRN",
        "MeanVarianceNormalization", "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min",
        "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
        "Or", "Xor", "BitShift", "Where", "Trilu"};
    static const std::set<std::string> reductions = {
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin"};
    static const std::map<std::string, MoveType> moves = {
        {"Concat", MoveType::concat},      {"Reshape", MoveType::reshape},
        {"Squeeze", MoveType::reshape},    {"Unsqueeze", MoveType::reshape},
        {"Flatten", MoveType::flatten},    {"Transpose", MoveType::transpose},
        {"DepthToSpace", MoveType::transpose}, {"SpaceToDepth", MoveType::transpose},
        {"Slice", MoveType::slice},        {"Split", MoveType::split},
        {"Gather", MoveType::gather},      {"GatherElements", MoveType::gather},
        {"GatherND", MoveType::gather},    {"Pad", MoveType::copy},
        {"Resize", MoveType::copy},        {"Upsample", MoveType::copy},
        {"Expand", MoveType::copy},        {"Tile", MoveType::copy}};

    for (const NodeProto& n : graph().node()) {
      // A node computing only from constants is weight preprocessing (the folder could not
      // evaluate it, e.g. a stripped payload): not part of the run-time graph.
      bool all_const = true;
      for (const auto& name : n.input())
        if (!name.empty() && !is_const(name)) all_const = false;
      if (all_const) {
        for (const auto& o : n.output()) constants_.insert(o);
        continue;
      }
      const std::string& t = n.op_type();
      if (!n.domain().empty() && n.domain() != "ai.onnx") {
        map_unsupported(g, n, "operator of domain '" + n.domain() + "' is not supported");
        continue;
      }
      if (t == "Identity" || t == "Dropout") {  // bypassed: the output is the input
        const std::string& from = n.input(0);
        if (auto it = producers_.find(from); it != producers_.end())
          for (const auto& o : n.output()) producers_[o] = it->second;
        continue;
      }
      if (t == "LSTM" || t == "GRU" || t == "RNN") {
        map_recurrent(g, n);
        continue;
      }
      Operator op = base_op(n);
      if (t == "Conv" || t == "ConvTranspose") {
        map_conv(n, op, 0, 1, 2);
      } else if (t == "ConvInteger") {
        map_conv(n, op, 0, 1, -1);
      } else if (t == "QLinearConv") {
        map_conv(n, op, 0, 3, 8);
      } else if (t == "Gemm") {
        map_matmul(n, op, input(n, 0), input(n, 1), attr_int(n, "transA", 0) != 0,
                   attr_int(n, "transB", 0) != 0, !input(n, 2).empty());
      } else if (t == "MatMul" || t == "MatMulInteger") {
        map_matmul(n, op, input(n, 0), input(n, 1), false, false, false);
      } else if (t == "QLinearMatMul") {
        map_matmul(n, op, input(n, 0), input(n, 3), false, false, false);
      } else if (t == "MaxPool" || t == "AveragePool" || t == "LpPool") {
        map_pool(n, op, t == "MaxPool" ? PoolType::max : PoolType::avg, false);
      } else if (t == "GlobalAveragePool" || t == "GlobalMaxPool" || t == "GlobalLpPool") {
        map_pool(n, op, t == "GlobalMaxPool" ? PoolType::max : PoolType::avg, true);
      } else if (t == "Softmax" || t == "LogSoftmax" || t == "Hardmax") {
        const Dims x = shape_of(n, input(n, 0));
        const i64 rank = i64(x.size());
        const i64 axis = normalize_axis(attr_int(n, "axis", opset_ >= 13 ? -1 : 1), rank);
        const i64 cols = opset_ >= 13 ? x.at(std::size_t(axis))
                                      : numel(Dims(x.begin() + axis, x.end()));
        op.shape = Softmax{.rows = numel(x) / std::max<i64>(1, cols), .cols = cols};
      } else if (t == "BatchNormalization" || t == "InstanceNormalization") {
        const Dims x = shape_of(n, input(n, 0));
        op.shape = Norm{t == "BatchNormalization" ? NormType::batch : NormType::group, numel(x),
                        x.size() > 1 ? x[1] : 1};
      } else if (t == "LayerNormalization") {
        const Dims x = shape_of(n, input(n, 0));
        const i64 axis = normalize_axis(attr_int(n, "axis", -1), i64(x.size()));
        op.shape = Norm{NormType::layer, numel(x), numel(Dims(x.begin() + axis, x.end()))};
      } else if (t == "Gather" && is_const(input(n, 0)) && attr_int(n, "axis", 0) == 0 &&
                 shape_of(n, input(n, 0)).size() == 2) {
        const Dims table = shape_of(n, input(n, 0));
        op.shape = Embedding{numel(shape_of(n, input(n, 1))), table[0], table[1]};
        op.weight_values = weight_values(input(n, 0));
      } else if (unary.count(t)) {
        // Operands: the activation inputs and constant tensors other than scalars (a bias
        // vector is read, a scalar such as Clip's bounds is an attribute in all but name).
        i64 operands = 0;
        for (const auto& name : n.input())
          if (!name.empty() && (!is_const(name) || numel(shape_of(n, name)) > 1)) ++operands;
        op.shape = Elementwise{lower(t), std::max<i64>(1, numel(shape_of(n, n.output(0)))),
                               std::max<i64>(1, operands)};
      } else if (reductions.count(t)) {
        // The work is one pass over the input: elements = input size.
        op.shape = Elementwise{lower(t), std::max<i64>(1, numel(shape_of(n, input(n, 0)))), 1};
      } else if (auto it = moves.find(t); it != moves.end()) {
        const i64 out = output_elements(n);
        const bool reads_output_only = t == "Slice" || t.rfind("Gather", 0) == 0;
        op.shape = DataMovement{it->second,
                                std::max<i64>(1, reads_output_only ? out : activation_elements(n)),
                                std::max<i64>(1, out)};
      } else if (t == "Shape" || t == "Size") {
        fail(n, "the shape of '" + input(n, 0) + "' is not static after shape inference");
      } else {
        map_unsupported(g, n, "unsupported operator " + t);
        continue;
      }
      const Graph::Node node = add(g, std::move(op));
      for (const auto& name : n.input()) add_edges(g, node, name);
      for (const auto& o : n.output())
        if (!o.empty()) producers_[o] = {node};
    }
    return g;
  }

  std::string path_;
  const LoadOptions& options_;
  std::shared_ptr<Holder> holder_;
  i64 opset_ = 0;
  std::unordered_map<std::string, Dims> shapes_;  // -1: unknown dimension
  std::unordered_map<std::string, int> types_;
  std::unordered_map<std::string, Value> values_;  // constants with known values
  std::unordered_map<std::string, const TensorProto*> initializers_;
  std::unordered_set<std::string> constants_;  // tensors not computed from graph inputs
  std::unordered_map<std::string, std::vector<Graph::Node>> producers_;
};

}  // namespace

Graph read_onnx(const std::string& path, const LoadOptions& options) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  return Importer(path, options).run();
}

bool looks_like_onnx(const std::string& path) {
  return lower(std::filesystem::path(path).extension().string()) == ".onnx";
}

}  // namespace tessera::workloads
