// Initializer payloads: inline, in typed fields or in external-data files; read as small
// constant values for the folder, viewed in place as weight values (docs/onnx.md).
#include <cstring>

#include "workloads/onnx/common.hpp"

namespace tessera::workloads::onnx_import {


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
  if (v.dtype == TensorProto::FLOAT16 || v.dtype == TensorProto::BFLOAT16) {
    // Half-precision values (e.g. Resize scales of a float16 export), decoded as weight views are.
    std::vector<std::uint16_t> unpacked;  // the typed field holds one value per int32
    TensorValues view;
    view.type = v.dtype == TensorProto::FLOAT16 ? ElementType::f16 : ElementType::bf16;
    view.count = std::size_t(n);
    if (is_external(t) || !t.raw_data().empty()) {
      auto b = packed_bytes(t, holder);
      if (!b || b->size != std::size_t(n) * 2) return std::nullopt;
      view.data = b->data;
    } else {
      if (i64(t.int32_data_size()) != n) return std::nullopt;
      for (auto x : t.int32_data()) unpacked.push_back(std::uint16_t(x));
      view.data = reinterpret_cast<const std::byte*>(unpacked.data());
    }
    for (std::size_t i = 0; i < view.count; ++i) v.reals.push_back(view.at(i));
    return v;
  }
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

}  // namespace tessera::workloads::onnx_import
