// Constant values and the folder that evaluates shape computations on them (docs/onnx.md:
// "Constant folding"), with the small helpers the front-end's other files share.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "workloads/onnx/common.hpp"

namespace tessera::workloads::onnx_import {

i64 numel(const Dims& d) {
  // Saturates like size_product(): a huge tensor's count is rejected, never wrapped.
  i64 n = 1;
  for (i64 v : d) n = size_product({n, v});
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

bool is_onnx_data_type(i64 t) { return t >= 1 && t <= 23; }

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

std::optional<i64> axis_index(i64 axis, i64 rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return normalize_axis(axis, rank);
}

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
        for (i64 a : *axes) {
          const auto axis = axis_index(a, rank);
          if (!axis) return std::nullopt;
          drop.insert(*axis);
        }
      for (i64 i = 0; i < rank; ++i)
        if (!(axes ? drop.count(i) > 0 : d[std::size_t(i)] == 1)) out.push_back(d[std::size_t(i)]);
      d = out;
    } else {
      if (!axes) return std::nullopt;
      const i64 out_rank = rank + i64(axes->size());
      std::set<i64> add;
      for (i64 a : *axes) {
        const auto axis = axis_index(a, out_rank);
        if (!axis) return std::nullopt;
        add.insert(*axis);
      }
      if (add.size() != axes->size()) return std::nullopt;  // an axis given twice
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
    // Flatten's axis may also be the rank (everything in the first dimension).
    const i64 a = attr_int(node, "axis", 1);
    if (a < -rank || a > rank) return std::nullopt;
    const i64 axis = a < 0 ? a + rank : a;
    Dims d(x->dims.begin(), x->dims.begin() + axis);
    Value v = *x;
    v.dims = {numel(d), numel(x->dims) / std::max<i64>(1, numel(d))};
    return one(v);
  }
  if (op == "Shape" || op == "Size") return std::nullopt;  // handled by the caller (needs shapes)
  if (op == "Gather") {
    const Value* idx = input(1);
    const auto given = axis_index(attr_int(node, "axis", 0), rank);
    if (!idx || !given) return std::nullopt;
    const i64 axis = *given;
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
    const auto given = axis_index(attr_int(node, "axis", 0), rank);
    if (!given) return std::nullopt;
    const i64 axis = *given;
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
      const auto given = axis_index(axes[j], rank);
      if (!given) return std::nullopt;
      const std::size_t a = std::size_t(*given);
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
    const auto axes = opset >= 18 || (opset >= 13 && op == "ReduceSum")
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

}  // namespace tessera::workloads::onnx_import
