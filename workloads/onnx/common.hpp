// Internals of the ONNX front-end shared by its translation units (workloads/onnx/): the parsed
// model's holder, constant values and the folder that evaluates them, initializer payloads,
// attribute readers. Includes ONNX's protobuf headers: include it only from workloads/onnx/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "workloads/operator.hpp"

namespace tessera::workloads::onnx_import {

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;

// Folded constants and the values the folder reads stay below this many elements.
constexpr i64 kMaxFoldElements = 1 << 16;

// The parsed model and the external-data files it refers to. Weight views (TensorValues) alias
// it, so it lives as long as any of them.
struct Holder {
  ModelProto model;
  std::map<std::string, std::string> external_files;  // location -> whole file
};

using Dims = std::vector<i64>;

i64 numel(const Dims& d);
std::string dims_text(const Dims& d);
std::string lower(std::string s);
i64 normalize_axis(i64 axis, i64 rank);
// An axis in [-rank, rank) as an index, or nullopt when out of range.
std::optional<i64> axis_index(i64 axis, i64 rank);
Dims strides_of(const Dims& d);
// numpy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<Dims> broadcast(const Dims& a, const Dims& b);
// The flat index into `in` (broadcast to `out`) of output element i.
i64 broadcast_source(i64 i, const Dims& out, const Dims& in);

// -- attributes
const AttributeProto* find_attr(const NodeProto& n, const std::string& name);
i64 attr_int(const NodeProto& n, const std::string& name, i64 fallback);
std::optional<Dims> attr_ints(const NodeProto& n, const std::string& name);
std::string attr_string(const NodeProto& n, const std::string& name, const std::string& fallback);

// -- constant values
bool is_float_type(int t);
// True for the element types ONNX defines up to opset 23 (FLOAT = 1 to FLOAT4E2M1 = 23).
bool is_onnx_data_type(i64 t);

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

// A value of `dtype` and `dims`, its elements filled by `at(i)` (a double or an i64).
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
Value remap(const Value& src, Dims dims, const std::function<i64(i64)>& index);

// Evaluates `node` on constant inputs (nullptr: an absent optional input). Returns nullopt when
// the operator is not one the folder knows or the values do not fit (fold.cpp).
std::optional<std::vector<Value>> evaluate(const NodeProto& node,
                                           const std::vector<const Value*>& in, i64 opset,
                                           const Holder& holder);

// -- initializer payloads (payloads.cpp)
ElementType element_type_of(int t, bool& ok);
bool is_external(const TensorProto& t);
std::string external_key(const TensorProto& t, const std::string& key);

// Where a tensor's packed little-endian bytes are, without copying: raw_data, its slice of a
// loaded external-data file, or a typed field whose in-memory layout is the packed one.
// `container` is the object the bytes live in (for TensorValues::owner).
struct Bytes {
  const std::byte* data = nullptr;
  std::size_t size = 0;
  const void* container = nullptr;
};
std::optional<Bytes> packed_bytes(const TensorProto& t, const Holder& holder);

// The values of a small tensor, for folding; nullopt when it has no payload or is too large.
std::optional<Value> read_tensor(const TensorProto& t, const Holder& holder);
// Writes a value as a tensor (so that ONNX's shape inference can read it); false for types the
// writer does not handle.
bool write_tensor(const Value& v, const std::string& name, TensorProto& t);

}  // namespace tessera::workloads::onnx_import

namespace tessera::workloads::onnx_import {

// -- shape propagation (shapes.cpp)

// What is known about a tensor: its dims (nullopt: not known) and its ONNX element type (0:
// not known).
struct TensorInfo {
  std::optional<Dims> dims;
  int dtype = 0;
};

// Thrown by a shape rule whose inputs contradict each other; the importer names the node.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Tessera's own shape rule for a node (for the schemas that changed after opset 17, operators
// newer than ONNX 1.12 knows, Einsum, and the com.microsoft quantized operators): the outputs'
// dims and types, a dims of nullopt where an input it needs is not known. Precondition:
// has_shape_rule(domain, op).
std::vector<TensorInfo> propagate_shapes(const NodeProto& n, i64 opset,
                                         const std::vector<TensorInfo>& in,
                                         const std::vector<const Value*>& values);
bool has_shape_rule(const std::string& domain, const std::string& op);

// Einsum's operands, parsed: one label string per input and the output's, ellipses expanded to
// capital letters (which equations cannot contain), and each label's size.
struct EinsumTerms {
  std::vector<std::string> inputs;
  std::string output;
  std::map<char, i64> sizes;
};
EinsumTerms parse_einsum(const std::string& equation, const std::vector<Dims>& inputs);

// The output dims of a pooling window sliding over x (N, C, spatial...) as ONNX defines them
// (auto_pad, pads, dilations, ceil_mode).
Dims pool_output(const NodeProto& n, const Dims& x, const Dims& kernel);

}  // namespace tessera::workloads::onnx_import
