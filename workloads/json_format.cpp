#include "workloads/json_format.hpp"

#include <climits>
#include <cmath>
#include <sstream>
#include <map>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/params.hpp"

namespace tessera::workloads {

namespace {

using nlohmann::json;

// The shape fields of each operator kind are described once, in describe() below, against an
// "Io" that either reads them (ShapeReader) or writes them (ShapeWriter). Field names match
// operator.hpp; stride/dilation are [h, w] and padding is [top, left, bottom, right].
class ShapeReader {
 public:
  explicit ShapeReader(ParamReader& r) : r_(r) {}

  void size(const char* key, i64& v, std::optional<i64> fallback = std::nullopt) {
    v = fallback ? r_.positive_integer(key, *fallback) : r_.positive_integer(key);
  }
  // `omit_default` only matters for writing.
  void count(const char* key, i64& v, i64 fallback, bool = false) {
    v = r_.non_negative_integer(key, fallback);
  }
  void flag(const char* key, bool& v, bool fallback, bool = false) {
    v = r_.boolean(key, fallback);
  }
  void text(const char* key, std::string& v) { v = r_.string(key); }
  // A required enumerator written as its name; `last` bounds the enum for the list of choices.
  template <class E>
  void choice(const char* key, E& v, E last) {
    std::vector<std::string> names;
    for (int i = 0; i <= static_cast<int>(last); ++i)
      names.emplace_back(to_string(static_cast<E>(i)));
    // string() makes the key required; choice() then checks it against the names.
    const std::string name = r_.choice(key, names, r_.string(key));
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) v = static_cast<E>(i);
  }
  // One integer for both directions, or [h, w]; each >= 1, default 1.
  void pair(const char* key, i64& h, i64& w) {
    const auto v = r_.integers(key, 2, 1, 1);
    h = v[0];
    w = v[1];
  }
  // One integer for all sides, or [top, left, bottom, right]; each >= 0, default 0.
  void padding(i64& top, i64& left, i64& bottom, i64& right) {
    const auto v = r_.integers("padding", 4, 0, 0);
    top = v[0];
    left = v[1];
    bottom = v[2];
    right = v[3];
  }
  void require(bool ok, const char* key, const char* what) {
    if (!ok) throw r_.error(key, what);
  }

 private:
  ParamReader& r_;
};

class ShapeWriter {
 public:
  void size(const char* key, i64 v, std::optional<i64> = std::nullopt) { out[key] = v; }
  // Fields added after version 1 was first written are left out at their default
  // (`omit_default`), so files and workload hashes of graphs that do not use them stay the same.
  void count(const char* key, i64 v, i64 fallback, bool omit_default = false) {
    if (!omit_default || v != fallback) out[key] = v;
  }
  void flag(const char* key, bool v, bool fallback, bool omit_default = false) {
    if (!omit_default || v != fallback) out[key] = v;
  }
  void text(const char* key, const std::string& v) { out[key] = v; }
  template <class E>
  void choice(const char* key, E v, E) {
    out[key] = std::string(to_string(v));
  }
  void pair(const char* key, i64 h, i64 w) { out[key] = {h, w}; }
  void padding(i64 top, i64 left, i64 bottom, i64 right) {
    out["padding"] = {top, left, bottom, right};
  }
  void require(bool, const char*, const char*) {}

  json out = json::object();
};

// Optional fields give their default as the last argument.
template <class Io>
void describe(Io& io, Conv& c) {
  io.size("n", c.n, 1);
  io.size("c", c.c);
  io.size("h", c.h);
  io.size("w", c.w);
  io.size("k", c.k);
  io.size("r", c.r);
  io.size("s", c.s);
  io.pair("stride", c.stride_h, c.stride_w);
  io.pair("dilation", c.dilation_h, c.dilation_w);
  io.padding(c.pad_top, c.pad_left, c.pad_bottom, c.pad_right);
  io.size("groups", c.groups, 1);
  io.flag("bias", c.bias, false);
  io.flag("transposed", c.transposed, false, true);
  io.count("output_padding_h", c.output_pad_h, 0, true);
  io.count("output_padding_w", c.output_pad_w, 0, true);
}

template <class Io>
void describe(Io& io, MatMul& m) {
  io.size("batch", m.batch, 1);
  io.size("m", m.m);
  io.size("n", m.n);
  io.size("k", m.k);
  io.flag("b_is_weight", m.b_is_weight, true);
  io.flag("bias", m.bias, false);
  io.flag("b_is_cache", m.b_is_cache, false, true);
}

template <class Io>
void describe(Io& io, Elementwise& e) {
  io.text("function", e.function);
  io.size("elements", e.elements);
  io.size("inputs", e.inputs, 1);
}

template <class Io>
void describe(Io& io, Pool& p) {
  io.choice("type", p.type, PoolType::avg);
  io.flag("global", p.global, false);
  io.size("n", p.n, 1);
  io.size("c", p.c);
  io.size("h", p.h);
  io.size("w", p.w);
  // A global pool's window is the whole plane, so it may be left out.
  io.size("r", p.r, p.global ? std::optional(p.h) : std::nullopt);
  io.size("s", p.s, p.global ? std::optional(p.w) : std::nullopt);
  io.require(!p.global || (p.r == p.h && p.s == p.w), "global",
             "a global pool's window r x s must equal the input h x w");
  io.pair("stride", p.stride_h, p.stride_w);
  io.padding(p.pad_top, p.pad_left, p.pad_bottom, p.pad_right);
}

template <class Io>
void describe(Io& io, Softmax& s) {
  io.size("rows", s.rows);
  io.size("cols", s.cols);
}

template <class Io>
void describe(Io& io, Norm& n) {
  io.choice("type", n.type, NormType::group);
  io.size("elements", n.elements);
  io.size("channels", n.channels);
}

template <class Io>
void describe(Io& io, Embedding& e) {
  io.size("tokens", e.tokens);
  io.size("vocab", e.vocab);
  io.size("dim", e.dim);
}

template <class Io>
void describe(Io& io, DataMovement& d) {
  io.choice("type", d.type, MoveType::cache_write);
  io.size("input_elements", d.input_elements);
  io.size("output_elements", d.output_elements);
}

template <class Io>
void describe(Io& io, Butterfly& b) {
  io.size("rows", b.rows, 1);
  io.size("in_features", b.in_features);
  io.size("out_features", b.out_features);
  io.flag("bias", b.bias, false);
}

template <class Io>
void describe(Io& io, Fft& f) {
  io.size("batch", f.batch, 1);
  io.size("rows", f.rows);
  io.size("cols", f.cols);
  io.flag("two_d", f.two_d, false);
  io.flag("complex_input", f.complex_input, false);
}

// The OpShape alternative with variant index `index` (OpKind's order), default-constructed.
template <std::size_t I = 0>
OpShape shape_of_kind(std::size_t index) {
  if constexpr (I + 1 < std::variant_size_v<OpShape>) {
    if (index != I) return shape_of_kind<I + 1>(index);
  }
  return OpShape(std::in_place_index<I>);
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < std::variant_size_v<OpShape>; ++i)
    names.emplace_back(to_string(static_cast<OpKind>(i)));
  return names;
}

int bits(ParamReader& r, const std::string& key, int fallback) {
  const i64 v = r.positive_integer(key, fallback);
  if (v > 64) throw r.error(key, "must be at most 64 bits, got " + std::to_string(v));
  return static_cast<int>(v);
}

// A fraction in (0, 1] (densities) or, with zero_ok, in [0, 1] (probabilities).
double fraction(ParamReader& r, const std::string& key, double fallback, bool zero_ok) {
  const double v = zero_ok ? r.non_negative(key, fallback) : r.positive(key, fallback);
  if (v > 1) throw r.error(key, "must be at most 1, got " + json(v).dump());
  return v;
}

}  // namespace

StructuredSparsity parse_nm_pattern(ParamReader& r, const std::string& key) {
  const std::string text = r.string(key);
  StructuredSparsity nm;
  char colon = 0;
  std::istringstream in(text);
  if (!(in >> nm.n >> colon >> nm.m) || colon != ':' || !in.eof() || nm.n < 1 || nm.m < 1 ||
      nm.n > nm.m)
    throw r.error(key, "expected an N:M pattern with 1 <= N <= M, such as \"2:4\", got \"" +
                           text + "\"");
  return nm;
}

namespace {

// Precision and density of an operator, from its optional objects or else the defaults.
void read_precision_density(ParamReader& r, Precision& precision, Density& density) {
  if (auto p = r.optional_child("precision")) {
    precision.weight_bits = bits(*p, "weight_bits", precision.weight_bits);
    precision.activation_bits = bits(*p, "activation_bits", precision.activation_bits);
    if (p->has("cache_bits")) precision.cache_bits = bits(*p, "cache_bits", 0);
    if (p->has("format"))
      precision.format = *number_format_from_string(
          p->choice("format", {"integer", "fp16", "bf16", "fp32"}, "integer"));
    precision.complex = p->boolean("complex", precision.complex);
    p->finish();
  }
  if (auto d = r.optional_child("density")) {
    density.weight = fraction(*d, "weight", density.weight, false);
    density.activation = fraction(*d, "activation", density.activation, false);
    if (d->has("weight_pattern")) {
      density.weight_pattern = parse_nm_pattern(*d, "weight_pattern");
      const double nm = double(density.weight_pattern->n) / density.weight_pattern->m;
      if (d->has("weight") && std::abs(density.weight - nm) > 1e-9)
        throw d->error("weight", "contradicts weight_pattern (density of N:M is N/M)");
      density.weight = nm;
    }
    d->finish();
  }
}

struct ReadOperator {
  Operator op;
  std::vector<std::pair<std::string, std::string>> inputs;  // (name, JSON path)
};

ReadOperator read_operator(ParamReader& r, const Operator& defaults) {
  ReadOperator out{defaults, {}};
  Operator& op = out.op;
  op.name = r.string("name");
  const std::string kind = r.choice("kind", kind_names(), r.string("kind"));
  op.shape = shape_of_kind(static_cast<std::size_t>(*op_kind_from_string(kind)));
  if (r.has("inputs")) r.array_size("inputs");  // "expected an array", not "a list of strings"
  const std::vector<std::string> inputs = r.strings("inputs");
  for (std::size_t j = 0; j < inputs.size(); ++j)
    out.inputs.emplace_back(inputs[j], r.path_of("inputs") + "/" + std::to_string(j));
  ParamReader shape = r.child("shape");
  ShapeReader io(shape);
  std::visit([&](auto& s) { describe(io, s); }, op.shape);
  shape.finish();
  read_precision_density(r, op.precision, op.density);
  if (auto e = r.optional_child("early_exit")) {
    const i64 index = e->integer("index");
    if (index < 0 || index > INT_MAX)
      throw e->error(
          "index", "must be in [0, " + std::to_string(INT_MAX) + "], got " + std::to_string(index));
    op.early_exit = EarlyExit{static_cast<int>(index), std::nullopt};
    if (e->has("probability")) op.early_exit->probability = fraction(*e, "probability", 0, true);
    e->finish();
  }
  op.source = r.string("source", r.file() + ": " + r.path());
  r.finish();
  return out;
}

}  // namespace

Graph workload_from_json(const json& input, const std::string& file) {
  ParamReader top(input, file);
  const std::string format = top.string("format");
  if (format != kWorkloadFormat)
    throw top.error("format",
                    "expected \"" + std::string(kWorkloadFormat) + "\", got \"" + format + "\"");
  const i64 version = top.integer("version");
  if (version != kWorkloadFormatVersion)
    throw top.error("version", "unsupported version " + std::to_string(version) +
                                   " (supported: " + std::to_string(kWorkloadFormatVersion) + ")");
  Graph graph(top.string("name"));

  Operator defaults;
  if (auto d = top.optional_child("defaults")) {
    read_precision_density(*d, defaults.precision, defaults.density);
    d->finish();
  }

  const std::size_t count = top.array_size("operators");
  top.finish();
  if (count == 0) throw top.error("operators", "workload has no operators");
  std::vector<ReadOperator> ops;
  std::map<std::string, std::string> path_of_name;
  for (std::size_t i = 0; i < count; ++i) {
    ParamReader r = top.item("operators", i);
    ops.push_back(read_operator(r, defaults));
    const Operator& op = ops.back().op;
    if (auto [it, added] = path_of_name.emplace(op.name, r.path()); !added)
      throw r.error("name", "operator name '" + op.name + "' is already used at " + it->second);
    validate(op, json_location(file, r.path()));
  }

  // Inputs may name operators defined later in the list, so edges are added once all exist.
  for (auto& read : ops) graph.add(std::move(read.op));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    for (const auto& [name, path] : ops[i].inputs) {
      const auto producer = graph.find(name);
      if (!producer)
        throw InputError(json_location(file, path) + "unknown operator '" + name +
                         "' (inputs must name operators of this workload)");
      graph.connect(*producer, i);
    }
  }
  try {
    graph.topological_order();
  } catch (const InputError& e) {
    throw InputError(file + ": " + e.what());
  }
  return graph;
}

json workload_to_json(const Graph& graph) {
  json ops = json::array();
  for (Graph::Node n = 0; n < graph.size(); ++n) {
    const Operator& op = graph.op(n);
    ShapeWriter io;
    OpShape shape = op.shape;  // describe() takes the fields by reference, as reading needs
    std::visit([&](auto& s) { describe(io, s); }, shape);
    json inputs = json::array();
    for (Graph::Node p : graph.producers(n)) inputs.push_back(graph.op(p).name);
    json o = {{"name", op.name},
              {"kind", std::string(to_string(op.kind()))},
              {"inputs", std::move(inputs)},
              {"shape", std::move(io.out)},
              {"precision",
               {{"weight_bits", op.precision.weight_bits},
                {"activation_bits", op.precision.activation_bits}}},
              {"density", {{"weight", op.density.weight}, {"activation", op.density.activation}}},
              {"source", op.source}};
    if (op.precision.cache_bits > 0) o["precision"]["cache_bits"] = op.precision.cache_bits;
    if (const auto& nm = op.density.weight_pattern)
      o["density"]["weight_pattern"] = std::to_string(nm->n) + ":" + std::to_string(nm->m);
    if (op.precision.format != NumberFormat::integer)  // integer: absent, as files without it
      o["precision"]["format"] = std::string(to_string(op.precision.format));
    if (op.precision.complex) o["precision"]["complex"] = true;  // real: absent
    if (op.early_exit) {
      o["early_exit"] = {{"index", op.early_exit->index}};
      if (op.early_exit->probability) o["early_exit"]["probability"] = *op.early_exit->probability;
    }
    ops.push_back(std::move(o));
  }
  return {{"format", kWorkloadFormat},
          {"version", kWorkloadFormatVersion},
          {"name", graph.name()},
          {"operators", std::move(ops)}};
}

Graph read_workload_json(const std::string& path) {
  return workload_from_json(read_json_file(path), path);
}

}  // namespace tessera::workloads
