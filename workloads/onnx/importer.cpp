// ONNX import (docs/onnx.md). Steps:
//   1. parse the ModelProto (kept alive in a shared Holder that weight views alias), check the
//      opset, name every node, sort the nodes topologically (a cycle is an error);
//   2. load external data, apply the input-size overrides;
//   3. one pass in topological order: fold each node whose inputs are constants (the shape
//      computations), else propagate its output shapes, with ONNX's own inference where its
//      schema (ONNX 1.12: opsets up to 17) is the model's, with Tessera's rules (shapes.cpp)
//      where it is not;
//   4. map each remaining node to IR operators and connect producers to consumers.
#include "workloads/onnx_import.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "workloads/onnx/common.hpp"
#include "workloads/onnx/op_table.hpp"

namespace tessera::workloads {

namespace {

using namespace onnx_import;

constexpr i64 kMinOpset = 7;
constexpr i64 kMaxOpset = 23;
constexpr i64 kOnnxLibraryOpset = 17;  // the newest ai.onnx opset ONNX 1.12's schemas know


class Importer {
 public:
  Importer(std::string path, const LoadOptions& options)
      : path_(std::move(path)), options_(options), holder_(std::make_shared<Holder>()) {}

  Graph run() {
    prepare();
    return build();
  }

  std::map<std::string, std::vector<i64>> output_shapes() {
    prepare();
    std::map<std::string, std::vector<i64>> out;
    for (const auto& o : graph().output())
      if (auto d = static_shape(o.name())) out[o.name()] = *d;
    return out;
  }

 private:
  void prepare() {
    parse();
    check_opset();
    name_nodes();
    sort_nodes();
    load_external_data();
    apply_overrides();
    propagate();
  }

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
    const std::string bytes = read_input_file(path_, kOnnxModelLimit);
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

  // Names end up in JSON reports, which must be valid UTF-8, and in one-line messages and
  // tables: a name that is not UTF-8 or holds a control character (a line break) is an input
  // error here, not a failure when the report is written or a message split over lines.
  void check_utf8(const std::string& text, const std::string& what) const {
    try {
      (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::type_error&) {
      fail(what + " is not valid UTF-8");
    }
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      fail(what + " contains a control character");
  }

  void name_nodes() {
    for (const auto& v : graph().input()) check_utf8(v.name(), "a graph input's name");
    for (const auto& v : graph().output()) check_utf8(v.name(), "a graph output's name");
    for (const auto& t : graph().initializer()) check_utf8(t.name(), "an initializer's name");
    std::set<std::string> used;
    for (int i = 0; i < graph().node_size(); ++i) {
      NodeProto& n = *graph().mutable_node(i);
      const std::string node = "node " + std::to_string(i) + ": ";
      check_utf8(n.name(), node + "the name");
      check_utf8(n.op_type(), node + "the operator type");
      for (const auto& t : n.input()) check_utf8(t, node + "an input's name");
      for (const auto& t : n.output()) check_utf8(t, node + "an output's name");
      // Every operator has an output; the mapping reads the first (found by fuzz_onnx).
      if (n.output_size() == 0)
        fail(node + "'" + n.name() + "' (" + n.op_type() + ") has no outputs");
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
    std::set<std::string> given;  // graph inputs and initializers: no node may write them
    for (const auto& t : graph().initializer()) given.insert(t.name());
    for (const auto& v : graph().input()) given.insert(v.name());
    for (int i = 0; i < count; ++i)
      for (const auto& o : graph().node(i).output()) {
        if (o.empty()) continue;
        // ONNX graphs are single-assignment: a second writer would silently replace the first.
        if (given.count(o))
          fail(graph().node(i), "output '" + o + "' is also a graph input or initializer");
        if (const auto [it, added] = producer.emplace(o, i); !added)
          fail(graph().node(i), "output '" + o + "' is also produced by node '" +
                                    graph().node(it->second).name() + "'");
      }
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
        try {
          holder_->external_files[location] =
              read_input_file((dir / rel).string(), kOnnxExternalDataLimit);
        } catch (const InputError& e) {  // names the data file; this adds the initializer
          fail("initializer '" + t.name() + "': external data: " + e.what());
        }
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
      if (!input.type().tensor_type().has_shape() && !options_.input_shapes.count(input.name())) {
        // Not even a rank: nothing to assume a size from. A node using it fails naming itself
        // and this reason.
        unknown_why_[input.name()] = "input '" + input.name() +
                                     "' has no shape in the model; give one with an input "
                                     "shape override for '" +
                                     input.name() + "'";
        continue;
      }
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

  // Element types and dims of the graph inputs (after the overrides) and initializers.
  void seed_tensors() {
    for (const auto& vi : graph().input()) {
      if (!vi.type().has_tensor_type()) continue;
      TensorInfo t;
      t.dtype = vi.type().tensor_type().elem_type();
      check_data_type(t.dtype, "input '" + vi.name() + "'");
      if (vi.type().tensor_type().has_shape()) {
        Dims d;
        for (const auto& dim : vi.type().tensor_type().shape().dim())
          d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
        t.dims = d;
      }
      info_[vi.name()] = t;
    }
    for (const auto& t : graph().initializer()) {
      check_data_type(t.data_type(), "initializer '" + t.name() + "'");
      info_[t.name()] = TensorInfo{Dims(t.dims().begin(), t.dims().end()), t.data_type()};
      if (auto v = read_tensor(t, *holder_)) values_[t.name()] = std::move(*v);
    }
  }

  // An element type ONNX does not define would otherwise pass as some default precision.
  void check_data_type(int type, const std::string& what) const {
    if (!is_onnx_data_type(type))
      fail(what + " has element type " + std::to_string(type) +
           ", which ONNX does not define (1 to 23)");
  }

  // One pass in topological order: fold the nodes computing from constants, propagate the
  // shapes of the others. Folded outputs become initializers, their nodes leave the graph.
  void propagate() {
    seed_tensors();
    std::vector<bool> folded(std::size_t(graph().node_size()), false);
    for (int i = 0; i < graph().node_size(); ++i) {
      NodeProto& n = *graph().mutable_node(i);
      if (auto outs = fold(n)) {
        for (int j = 0; j < n.output_size(); ++j) {
          if (n.output(j).empty()) continue;
          Value& v = (*outs)[std::size_t(j)];
          info_[n.output(j)] = TensorInfo{v.dims, v.dtype};
          values_[n.output(j)] = std::move(v);
        }
        folded[std::size_t(i)] = true;
        continue;
      }
      infer(n);
      check_reshape(n);
    }
    google::protobuf::RepeatedPtrField<NodeProto> kept;
    for (int i = 0; i < graph().node_size(); ++i) {
      NodeProto& n = *graph().mutable_node(i);
      if (!folded[std::size_t(i)]) {
        kept.Add()->Swap(&n);
        continue;
      }
      note(n, "folded");
      for (const auto& o : n.output())
        if (!o.empty()) write_tensor(values_.at(o), o, *graph().add_initializer());
    }
    graph().mutable_node()->Swap(&kept);
  }

  // ONNX's inference takes a Reshape's target shape as given; one with another element count
  // than the input is a broken model.
  void check_reshape(const NodeProto& n) const {
    if (n.op_type() != "Reshape" || !(n.domain().empty() || n.domain() == "ai.onnx") ||
        n.input_size() < 1 || n.output_size() < 1)
      return;
    const auto x = static_shape(n.input(0)), y = static_shape(n.output(0));
    if (x && y && numel(*x) != numel(*y))
      fail(n, "reshapes " + dims_text(*x) + " (" + std::to_string(numel(*x)) + " elements) to " +
                  dims_text(*y) + " (" + std::to_string(numel(*y)) + " elements)");
  }

  std::vector<TensorInfo> input_infos(const NodeProto& n) const {
    std::vector<TensorInfo> in;
    for (const auto& name : n.input()) {
      auto it = info_.find(name);
      in.push_back(name.empty() || it == info_.end() ? TensorInfo{} : it->second);
    }
    return in;
  }

  // The output shapes of one node: Tessera's rule where the model's schema is newer than ONNX
  // 1.12's or 1.12 has none (and for Einsum, whose dims 1.12 leaves open), else ONNX's own
  // inference function for the schema. A node no rule covers keeps unknown outputs, and why:
  // mapping it (or a consumer) then fails naming it.
  void infer(NodeProto& n) {
    // Window attributes must be positive: ONNX 1.12's convolution and pooling inference divides
    // by them unchecked.
    // A ConvTranspose's output_shape gives sizes (ONNX 1.12 takes negative ones as given).
    for (const char* name : {"strides", "dilations", "kernel_shape", "output_shape"})
      if (auto v = std::string(name) != "output_shape" || n.op_type() == "ConvTranspose"
                       ? attr_ints(n, name)
                       : std::nullopt)
        for (i64 x : *v)
          if (x <= 0)
            fail(n, std::string("attribute '") + name + "' has a value " + std::to_string(x) +
                        " (must be positive)");
    // Attributes that name an element type (Cast, EyeLike, the generators; QuantizeLinear's
    // output_dtype, where 0 means "from the zero point").
    for (const char* name : {"to", "dtype", "output_dtype"}) {
      const i64 type = attr_int(n, name, 0);
      if (find_attr(n, name) && !is_onnx_data_type(type) &&
          !(type == 0 && std::string(name) == "output_dtype"))
        fail(n, std::string("attribute '") + name + "' is element type " + std::to_string(type) +
                    ", which ONNX does not define (1 to 23)");
    }
    const std::string& op = n.op_type();
    const bool standard = n.domain().empty() || n.domain() == "ai.onnx";
    const auto changed = standard ? schema_change_after_17(op, opset_) : std::nullopt;
    const i64 version = standard ? std::min(opset_, kOnnxLibraryOpset) : domain_version(n.domain());
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Instance()->GetSchema(op, int(version), n.domain());
    const bool tessera_rule = has_shape_rule(n.domain(), op) &&
                              (!standard || changed || !schema || tessera_rule_at_every_opset(op));
    if (tessera_rule) {
      std::vector<const Value*> values;
      for (const auto& name : n.input()) {
        auto it = values_.find(name);
        values.push_back(it == values_.end() ? nullptr : &it->second);
      }
      std::vector<TensorInfo> outs;
      try {
        outs = propagate_shapes(n, opset_, input_infos(n), values);
      } catch (const ShapeError& e) {
        fail(n, e.what());
      }
      for (int j = 0; j < n.output_size() && j < int(outs.size()); ++j)
        if (!n.output(j).empty()) info_[n.output(j)] = outs[std::size_t(j)];
      return;
    }
    if (changed) {
      unknown(n, "its ai.onnx schema changed in opset " + std::to_string(*changed) +
                     " and Tessera has no shape rule for it");
      return;
    }
    if (!schema || !schema->has_type_and_shape_inference_function()) {
      unknown(n, "no shape inference for operator " + (standard ? "" : n.domain() + "::") + op +
                     " at opset " + std::to_string(version));
      return;
    }
    // ONNX's context reads TypeProtos and, for constant inputs, TensorProtos.
    std::unordered_map<std::string, onnx::TypeProto> types;
    std::unordered_map<std::string, onnx::TypeProto*> type_ptrs;
    std::unordered_map<std::string, const TensorProto*> data;
    std::deque<TensorProto> scratch;
    for (const auto& name : n.input()) {
      if (name.empty() || types.count(name)) continue;
      auto it = info_.find(name);
      if (it == info_.end() || !it->second.dims || !it->second.dtype) {
        auto why = unknown_why_.find(name);
        unknown(n, "input '" + name + "' has no known shape" +
                       (why == unknown_why_.end() ? "" : "; " + why->second));
        return;
      }
      onnx::TypeProto& tp = types[name];
      auto* tensor = tp.mutable_tensor_type();
      tensor->set_elem_type(it->second.dtype);
      auto* shape = tensor->mutable_shape();
      for (i64 d : *it->second.dims) {
        if (d >= 0)
          shape->add_dim()->set_dim_value(d);
        else
          shape->add_dim();
      }
      type_ptrs[name] = &tp;
      if (auto v = values_.find(name); v != values_.end()) {
        scratch.emplace_back();
        if (write_tensor(v->second, name, scratch.back())) data[name] = &scratch.back();
      }
    }
    onnx::shape_inference::InferenceContextImpl ctx(n, type_ptrs, data, {}, nullptr, nullptr);
    try {
      schema->GetTypeAndShapeInferenceFunction()(ctx);
    } catch (const std::exception& e) {
      unknown(n, std::string("ONNX shape inference failed: ") + e.what());
      return;
    }
    for (int j = 0; j < n.output_size(); ++j) {
      if (n.output(j).empty()) continue;
      const onnx::TypeProto* tp = ctx.getOutputType(std::size_t(j));
      if (!tp || !tp->has_tensor_type()) continue;
      TensorInfo t;
      t.dtype = tp->tensor_type().elem_type();
      if (tp->tensor_type().has_shape()) {
        Dims d;
        for (const auto& dim : tp->tensor_type().shape().dim())
          d.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
        t.dims = d;
      }
      info_[n.output(j)] = t;
    }
  }

  void unknown(const NodeProto& n, const std::string& why) {
    for (const auto& o : n.output())
      if (!o.empty()) unknown_why_[o] = "node '" + n.name() + "' (" + n.op_type() + "): " + why;
  }

  i64 domain_version(const std::string& domain) const {
    for (const auto& o : holder_->model.opset_import())
      if (o.domain() == domain) return o.version();
    return 1;
  }

  std::optional<Dims> static_shape(const std::string& name) const {
    auto it = info_.find(name);
    if (it == info_.end() || !it->second.dims) return std::nullopt;
    for (i64 d : *it->second.dims)
      if (d < 0) return std::nullopt;
    return it->second.dims;
  }

  // Folds a node whose inputs are all known constants (or a Shape/Size of a static tensor).
  std::optional<std::vector<Value>> fold(const NodeProto& n) const {
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
    if (!out) return std::nullopt;
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
    {
      auto why = unknown_why_.find(tensor);
      fail(n, "tensor '" + tensor + "' has no static shape after shape inference (" +
                  (why != unknown_why_.end()
                       ? why->second
                       : "a dynamic dimension no override fixes, or a data-dependent size") +
                  ")");
    }
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

  // The bits of a tensor's element type where it is quantized or half precision; nullopt for
  // float32/64 (the IR default stands) and types the IR has no precision for.
  static std::optional<int> type_bits(int dtype) {
    switch (dtype) {
      case TensorProto::INT8: case TensorProto::UINT8: return 8;
      case TensorProto::INT16: case TensorProto::UINT16: return 16;
      case TensorProto::FLOAT16: case TensorProto::BFLOAT16: return 16;
      case 17: case 18: case 19: case 20: return 8;  // the float8 types (ONNX 1.14+)
      case 21: case 22: return 4;                    // UINT4, INT4 (ONNX 1.16+)
      default: return std::nullopt;
    }
  }
  std::optional<int> stored_bits(const std::string& tensor) const {
    if (auto it = quant_bits_.find(tensor); it != quant_bits_.end()) return it->second;
    auto it = info_.find(tensor);
    return it == info_.end() ? std::nullopt : type_bits(it->second.dtype);
  }
  // Precision from the operands' element types: quantized (QDQ, QOperator, integer ops) and
  // half-precision operands set the bits; float32 ones keep the IR default (8/8).
  // fp16 and bf16 operands make the MACs floating point (float32 ones keep the integer default).
  Precision precision_for(const std::string& weight, const std::string& activation) const {
    Precision p;
    if (auto b = stored_bits(weight)) p.weight_bits = *b;
    if (auto b = stored_bits(activation)) p.activation_bits = *b;
    for (const auto& t : {activation, weight}) {
      if (quant_bits_.count(t)) continue;
      const auto it = info_.find(t);
      if (it == info_.end()) continue;
      if (it->second.dtype == TensorProto::FLOAT16) p.format = NumberFormat::fp16;
      if (it->second.dtype == TensorProto::BFLOAT16) p.format = NumberFormat::bf16;
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
    if (w.size() != x.size())
      fail(n, "weight shape " + dims_text(w) + " must have the rank of the input shape " +
                  dims_text(x));
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
    c.k = transposed ? size_product({w[1], c.groups}) : w[0];
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
        const i64 span = size_product({kernel[i] - 1, dil[i]}) + 1;
        i64 total;
        if (transposed) {
          // The largest output the input reaches, with no padding.
          const i64 reach = size_product({stride[i], in_spatial[i] - 1}) + opad[i] + span;
          if (output_shape && reach < out_spatial[i])
            fail(n, "output_shape " + dims_text(*output_shape) + " is larger than the input " +
                        dims_text(x) + " reaches (at most " + std::to_string(reach) +
                        " = stride x (input - 1) + output_padding + dilation x (kernel - 1) + "
                        "1 along dimension " +
                        std::to_string(i - (one_d ? 1 : 0)) + ")");
          total = std::max<i64>(0, reach - out_spatial[i]);
        } else
          total = std::max<i64>(0, size_product({out_spatial[i] - 1, stride[i]}) + span - in_spatial[i]);
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
    op.precision = precision_for(input(n, wi), input(n, xi));
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
      mm.m = numel(batch_b) == 1 ? size_product({numel(batch_a), m}) : m;
      mm.k = k;
      mm.n = n_;
      op.weight_values = weight_values(b_name);
      op.precision = precision_for(b_name, a_name);
    } else if (a_const && !b_const) {
      // W x: computed as (x^T W^T), the weight is the right operand.
      mm.b_is_weight = true;
      mm.batch = numel(batch_a) == 1 ? 1 : numel(*batch);
      mm.m = numel(batch_a) == 1 ? size_product({numel(batch_b), n_}) : n_;
      mm.k = k;
      mm.n = m;
      op.precision = precision_for(a_name, b_name);
    } else {
      mm.b_is_weight = false;
      mm.batch = numel(*batch);
      mm.m = m;
      mm.k = k;
      mm.n = n_;
      op.precision = precision_for(b_name, a_name);
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
        const i64 total = std::max<i64>(0, size_product({out[i] - 1, s[i]}) + k[i] - in[i]);
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
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
      fail(n, "direction must be forward, reverse or bidirectional, got '" + direction + "'");
    const i64 dirs = direction == "bidirectional" ? 2 : 1;
    // Unrolled: two operators per direction and step, so the graph grows with the sequence.
    constexpr i64 kMaxSteps = i64{1} << 16;
    if (seq < 1 || seq > kMaxSteps / dirs)
      fail(n, "sequence length " + std::to_string(seq) + " must be in [1, " +
                  std::to_string(kMaxSteps / dirs) + "] (" + std::to_string(dirs) +
                  " direction(s) unrolled step by step)");
    const bool bias = !input(n, 3).empty();
    std::vector<Graph::Node> last;
    for (i64 d = 0; d < dirs; ++d) {
      const bool reverse = direction == "reverse" || d == 1;
      std::optional<Graph::Node> prev;
      for (i64 t = 0; t < seq; ++t) {
        const std::string step = std::string(reverse ? "/bw" : "/fw") + "/t" + std::to_string(t);
        Operator mm = base_op(n, step + "/gates");
        mm.shape = MatMul{.batch = 1, .m = batch, .n = size_product({gates, hidden}), .k = in + hidden,
                          .b_is_weight = t == 0, .bias = bias};
        const Graph::Node a = add(g, std::move(mm));
        add_edges(g, a, input(n, 0));
        if (prev) g.connect(*prev, a);
        Operator cell = base_op(n, step + "/cell");
        cell.shape = Elementwise{.function = lower(type) + "_cell", .elements = size_product({batch, hidden}),
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
    // Its tensors are counted as a copy; a tensor whose shape is unknown cannot be, and the
    // warning says that the node's cost is unknown rather than count it as one element.
    i64 in = 0, out = 0;
    std::string unknown;
    const auto count = [&](const std::string& name, i64& total) {
      if (auto d = static_shape(name))
        total = std::min(total + numel(*d), kMaxCount + 1);  // saturated as numel is
      else
        unknown += (unknown.empty() ? "'" : ", '") + name + "'";
    };
    for (const auto& name : n.input())
      if (!name.empty() && !is_const(name)) count(name, in);
    for (const auto& name : n.output())
      if (!name.empty()) count(name, out);
    options_.warning(where(n) + ": " + why + "; kept as a zero-cost data-movement node" +
                     (unknown.empty() ? ""
                                      : "; its cost is unknown: the shape of " + unknown +
                                            " is not known, so the copy it models counts "
                                            "only its other tensors"));
    note(n, "unsupported");
    Operator op = base_op(n);
    op.shape = DataMovement{MoveType::copy, std::max<i64>(1, in), std::max<i64>(1, out)};
    const Graph::Node node = add(g, std::move(op));
    for (const auto& name : n.input()) add_edges(g, node, name);
    for (const auto& name : n.output())
      if (!name.empty()) producers_[name] = {node};
  }

  // The IR kind an operator became, as `tessera inspect` reports it.
  void note(const NodeProto& n, const std::string& became) const {
    if (!options_.on_node) return;
    const bool standard = n.domain().empty() || n.domain() == "ai.onnx";
    options_.on_node((standard ? "" : n.domain() + "::") + n.op_type(), became);
  }

  // QDQ: a DequantizeLinear output is stored at its quantized input's bits; reshapes and
  // transposes of it too.
  void find_quantized_tensors() {
    static const std::set<std::string> pass = {"Reshape", "Transpose", "Flatten", "Squeeze",
                                               "Unsqueeze", "Identity"};
    for (const NodeProto& n : graph().node()) {
      if (n.output_size() == 0 || n.input_size() == 0 || n.output(0).empty()) continue;
      if (n.op_type() == "DequantizeLinear") {
        auto it = info_.find(n.input(0));
        if (it != info_.end())
          if (auto bits = type_bits(it->second.dtype)) quant_bits_[n.output(0)] = *bits;
      } else if (pass.count(n.op_type())) {
        if (auto it = quant_bits_.find(n.input(0)); it != quant_bits_.end())
          quant_bits_[n.output(0)] = it->second;
      }
    }
  }

  Graph build() {
    for (const auto& t : graph().initializer()) {
      initializers_[t.name()] = &t;
      constants_.insert(t.name());
    }
    find_quantized_tensors();
    std::filesystem::path stem = std::filesystem::path(path_).stem();
    Graph g(stem.string());

    for (const NodeProto& n : graph().node()) {
      // A node computing only from constants is weight preprocessing (the folder could not
      // evaluate it, e.g. a stripped payload): not part of the run-time graph.
      bool all_const = true;
      for (const auto& name : n.input())
        if (!name.empty() && !is_const(name)) all_const = false;
      if (all_const) {
        for (const auto& o : n.output()) constants_.insert(o);
        note(n, "folded");
        continue;
      }
      const std::string& t = n.op_type();
      const bool standard = n.domain().empty() || n.domain() == "ai.onnx";
      if (!standard && n.domain() != "com.microsoft") {
        map_unsupported(g, n, "operator of domain '" + n.domain() + "' is not supported");
        continue;
      }
      if (standard && (t == "Identity" || t == "Dropout")) {  // the output is the input
        const std::string& from = n.input(0);
        if (auto it = producers_.find(from); it != producers_.end())
          for (const auto& o : n.output()) producers_[o] = it->second;
        note(n, "bypassed");
        continue;
      }
      if (standard && (t == "LSTM" || t == "GRU" || t == "RNN")) {
        map_recurrent(g, n);
        note(n, "matmul");
        continue;
      }
      if (standard && t == "Attention") {
        map_attention(g, n);
        note(n, "matmul");
        continue;
      }
      Operator op = base_op(n);
      if (!map_node(n, op, standard)) {
        map_unsupported(g, n, "unsupported operator " + (standard ? "" : n.domain() + "::") + t);
        continue;
      }
      note(n, std::string(to_string(op.kind())));
      const Graph::Node node = add(g, std::move(op));
      for (const auto& name : n.input()) add_edges(g, node, name);
      for (const auto& o : n.output())
        if (!o.empty()) producers_[o] = {node};
    }
    return g;
  }

  // Maps one node onto one IR operator; false for an operator no rule covers.
  bool map_node(const NodeProto& n, Operator& op, bool standard) {
    const std::string& t = n.op_type();
    if (!standard) {  // com.microsoft: onnxruntime's quantized operators
      if (t == "QGemm") {
        map_matmul(n, op, input(n, 0), input(n, 3), attr_int(n, "transA", 0) != 0,
                   attr_int(n, "transB", 0) != 0, !input(n, 6).empty());
      } else if (t == "QLinearGlobalAveragePool" && attr_int(n, "channels_last", 0) == 0) {
        map_pool(n, op, PoolType::avg, true);
      } else if (t == "QLinearAveragePool" && attr_int(n, "channels_last", 0) == 0) {
        map_pool(n, op, PoolType::avg, false);
      } else if (t == "QLinearSoftmax") {
        map_softmax(n, op);
      } else if (t == "MatMulIntegerToFloat" || t == "DynamicQuantizeMatMul") {
        map_matmul(n, op, input(n, 0), input(n, 1), false, false, false);
        // DynamicQuantizeMatMul quantizes its float activations to 8 bits on the fly.
        if (t == "DynamicQuantizeMatMul") op.precision.activation_bits = 8;
      } else if (t == "MatMulNBits") {
        map_matmul_nbits(n, op);
      } else if (t == "SkipLayerNormalization" || t == "SkipSimplifiedLayerNormalization" ||
                 t == "SimplifiedLayerNormalization") {
        map_last_axis_norm(n, op, t == "SkipLayerNormalization" ? NormType::layer : NormType::rms);
      } else if (auto m = generic_mapping(n.domain(), t)) {
        map_generic(n, op, *m);
      } else {
        return false;
      }
      return true;
    }
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
    } else if (t == "Einsum" && n.input_size() == 1) {
      // One operand: a transpose (every label kept) or a reduction over the dropped labels.
      const Dims x = shape_of(n, input(n, 0)), y = shape_of(n, n.output(0));
      if (x.size() == y.size())
        op.shape = DataMovement{MoveType::transpose, numel(x), numel(y)};
      else
        op.shape = Elementwise{"einsum", std::max<i64>(1, numel(x)), 1};
    } else if (t == "Einsum" && n.input_size() == 2) {
      map_einsum(n, op);
    } else if (t == "MaxPool" || t == "AveragePool" || t == "LpPool") {
      map_pool(n, op, t == "MaxPool" ? PoolType::max : PoolType::avg, false);
    } else if (t == "GlobalAveragePool" || t == "GlobalMaxPool" || t == "GlobalLpPool") {
      map_pool(n, op, t == "GlobalMaxPool" ? PoolType::max : PoolType::avg, true);
    } else if (t == "Softmax" || t == "LogSoftmax" || t == "Hardmax") {
      map_softmax(n, op);
    } else if (t == "DFT") {
      map_dft(n, op);
    } else if (t == "BatchNormalization" || t == "InstanceNormalization" ||
               t == "GroupNormalization") {
      const Dims x = shape_of(n, input(n, 0));
      const i64 channels = x.size() > 1 ? x[1] : 1;
      // Scale, bias (and a batch norm's mean and variance): one value per channel. Group norms
      // of opset 18 have one per group; their channel count is checked by the shape rules.
      if (t != "GroupNormalization")
        for (int i = 1; i < n.input_size() && i <= 4; ++i)
          if (const auto p = input(n, i); !p.empty())
            if (const auto d = static_shape(p); d && numel(*d) != channels)
              fail(n, "input '" + p + "' has " + std::to_string(numel(*d)) + " values for " +
                          std::to_string(channels) + " channels (input shape " + dims_text(x) +
                          ")");
      op.shape =
          Norm{t == "BatchNormalization" ? NormType::batch : NormType::group, numel(x), channels};
    } else if (t == "LayerNormalization" || t == "RMSNormalization" ||
               t == "SimplifiedLayerNormalization") {
      map_last_axis_norm(n, op, t == "LayerNormalization" ? NormType::layer : NormType::rms);
    } else if (t == "Gather" && is_const(input(n, 0)) && attr_int(n, "axis", 0) == 0 &&
               shape_of(n, input(n, 0)).size() == 2) {
      const Dims table = shape_of(n, input(n, 0));
      op.shape = Embedding{numel(shape_of(n, input(n, 1))), table[0], table[1]};
      op.weight_values = weight_values(input(n, 0));
    } else if (auto m = generic_mapping(n.domain(), t)) {
      map_generic(n, op, *m);
    } else if (t == "Shape" || t == "Size") {
      fail(n, "the shape of '" + input(n, 0) + "' is not static after shape inference");
    } else {
      return false;
    }
    return true;
  }

  // Normalisation over the dims from `axis` (default the last) on.
  void map_last_axis_norm(const NodeProto& n, Operator& op, NormType type) {
    const Dims x = shape_of(n, input(n, 0));
    const i64 axis = normalize_axis(attr_int(n, "axis", -1), i64(x.size()));
    if (axis < 0 || axis >= i64(x.size()))
      fail(n, "axis " + std::to_string(attr_int(n, "axis", -1)) + " is out of range for " +
                  dims_text(x));
    op.shape = Norm{type, numel(x), numel(Dims(x.begin() + axis, x.end()))};
  }

  // MatMulNBits (onnxruntime): A (..., K) times a constant N x K weight packed in `bits`-bit
  // blocks; the weight precision is `bits`.
  void map_matmul_nbits(const NodeProto& n, Operator& op) {
    const Dims a = shape_of(n, input(n, 0));
    const i64 k = attr_int(n, "K", 0), cols = attr_int(n, "N", 0);
    op.shape = MatMul{.batch = 1, .m = numel(a) / std::max<i64>(1, k), .n = cols, .k = k,
                      .b_is_weight = true, .bias = !input(n, 5).empty()};
    op.precision = precision_for("", input(n, 0));
    op.precision.weight_bits = int(attr_int(n, "bits", 4));
  }

  // DFT: 1-D FFTs along one axis of [..., 1 (real) or 2 (complex)]; the transformed axis is the
  // one whose length the node changes (dft_length, onesided), else the axis attribute (opset
  // < 20) or input (opset 20, a constant scalar; default -2).
  void map_dft(const NodeProto& n, Operator& op) {
    const Dims x = shape_of(n, input(n, 0)), y = shape_of(n, n.output(0));
    const i64 rank = i64(x.size());
    if (rank < 2 || y.size() != x.size() || (x.back() != 1 && x.back() != 2))
      fail(n, "DFT needs an input of shape [..., 1 or 2] and an output of the same rank, got " +
                  dims_text(x) + " -> " + dims_text(y));
    std::optional<i64> axis;
    for (i64 i = 0; i + 1 < rank; ++i)
      if (x[std::size_t(i)] != y[std::size_t(i)]) axis = i;
    if (!axis) {
      i64 given = opset_ < 20 ? attr_int(n, "axis", 1) : -2;
      if (opset_ >= 20 && !input(n, 2).empty()) {
        const auto v = values_.find(input(n, 2));
        if (v == values_.end() || v->second.size() != 1)
          fail(n, "the DFT axis input '" + input(n, 2) + "' must be a constant scalar");
        given = v->second.integer(0);
      }
      axis = axis_index(given, rank);
      if (!axis || *axis + 1 == rank)
        fail(n, "DFT axis " + std::to_string(given) + " is out of range for " + dims_text(x));
    }
    const i64 along = x[std::size_t(*axis)], out = y[std::size_t(*axis)];
    const bool onesided = attr_int(n, "onesided", 0) != 0;
    const i64 points = onesided ? std::max(along, 2 * (out - 1)) : out;
    op.shape = Fft{.batch = 1,
                   .rows = numel(x) / std::max<i64>(1, x.back() * along),
                   .cols = points,
                   .complex_input = x.back() == 2};
  }

  void map_softmax(const NodeProto& n, Operator& op) {
    const Dims x = shape_of(n, input(n, 0));
    const i64 rank = i64(x.size());
    const bool last_axis = opset_ >= 13 || n.domain() == "com.microsoft";
    const i64 given = attr_int(n, "axis", last_axis ? -1 : 1);
    const auto axis = axis_index(given, rank);
    if (!axis)
      fail(n, "axis " + std::to_string(given) + " is out of range for " + dims_text(x));
    const i64 cols = last_axis ? x[std::size_t(*axis)] : numel(Dims(x.begin() + *axis, x.end()));
    op.shape = Softmax{.rows = numel(x) / std::max<i64>(1, cols), .cols = cols};
  }

  void map_generic(const NodeProto& n, Operator& op, const OpMapping& m) {
    const std::string& t = n.op_type();
    if (m.mapping == Mapping::elementwise) {
      // Operands: the activation inputs and constant tensors other than scalars (a bias
      // vector is read, a scalar such as Clip's bounds is an attribute in all but name).
      i64 operands = 0;
      for (const auto& name : n.input())
        if (!name.empty() && (!is_const(name) || numel(shape_of(n, name)) > 1)) ++operands;
      op.shape = Elementwise{lower(t), std::max<i64>(1, numel(shape_of(n, n.output(0)))),
                             std::max<i64>(1, operands)};
    } else if (m.mapping == Mapping::reduction) {
      // The work is one pass over the input: elements = input size.
      op.shape = Elementwise{lower(t), std::max<i64>(1, numel(shape_of(n, input(n, 0)))), 1};
    } else {
      const i64 out = output_elements(n);
      const bool reads_output_only = t == "Slice" || t.rfind("Gather", 0) == 0;
      op.shape = DataMovement{m.move_type,
                              std::max<i64>(1, reads_output_only ? out : activation_elements(n)),
                              std::max<i64>(1, out)};
    }
  }

  // Einsum of two operands as one matrix product: labels in both operands and the output are
  // the batch, labels of one operand and the output are M (first operand) or N (second),
  // labels summed over are K; MACs are the product of all label sizes.
  void map_einsum(const NodeProto& n, Operator& op) {
    const Dims a = shape_of(n, input(n, 0)), b = shape_of(n, input(n, 1));
    EinsumTerms e;
    try {
      e = parse_einsum(attr_string(n, "equation", ""), {a, b});
    } catch (const ShapeError& err) {
      fail(n, err.what());
    }
    MatMul mm;
    const std::string &ta = e.inputs[0], &tb = e.inputs[1];
    for (const auto& [label, size] : e.sizes) {
      const bool in_a = ta.find(label) != std::string::npos;
      const bool in_b = tb.find(label) != std::string::npos;
      const bool out = e.output.find(label) != std::string::npos;
      if (out && in_a && in_b)
        mm.batch *= size;
      else if (out && in_a)
        mm.m *= size;
      else if (out)
        mm.n *= size;
      else
        mm.k *= size;
    }
    const bool a_const = is_const(input(n, 0)), b_const = is_const(input(n, 1));
    mm.b_is_weight = a_const != b_const;
    if (a_const && !b_const) std::swap(mm.m, mm.n);
    op.shape = mm;
    op.precision = a_const && !b_const ? precision_for(input(n, 0), input(n, 1))
                                       : precision_for(input(n, 1), input(n, 0));
  }

  // Attention (opset 23): Q·Kᵀ and the weights times V as two matrix products over the
  // batch and query heads (grouped key/value heads are shared, each query head still
  // multiplies), with a softmax between.
  void map_attention(Graph& g, const NodeProto& n) {
    const Dims q = shape_of(n, input(n, 0)), k = shape_of(n, input(n, 1)),
               v = shape_of(n, input(n, 2));
    const bool three_d = q.size() == 3;
    const i64 hq = three_d ? attr_int(n, "q_num_heads", 1) : q[1];
    const i64 hkv = three_d ? attr_int(n, "kv_num_heads", 1) : k[1];
    const i64 s = three_d ? q[1] : q[2], d = three_d ? q[2] / hq : q[3];
    const i64 dv = three_d ? v[2] / hkv : v[3];
    i64 total = three_d ? k[1] : k[2];
    if (!input(n, 4).empty()) {
      const Dims past = shape_of(n, input(n, 4));
      if (past.size() != 4) fail(n, "past_key must be 4-D, not " + dims_text(past));
      total += past[2];
    }
    const i64 batch = size_product({q[0], hq});
    Operator qk = base_op(n, "/qk");
    qk.shape = MatMul{.batch = batch, .m = s, .n = total, .k = d, .b_is_weight = false};
    qk.precision = precision_for(input(n, 1), input(n, 0));
    Operator sm = base_op(n, "/softmax");
    sm.shape = Softmax{.rows = size_product({batch, s}), .cols = total};
    Operator av = base_op(n, "/av");
    av.shape = MatMul{.batch = batch, .m = s, .n = dv, .k = total, .b_is_weight = false};
    av.precision = precision_for(input(n, 2), input(n, 0));
    const Graph::Node a = add(g, std::move(qk));
    add_edges(g, a, input(n, 0));
    add_edges(g, a, input(n, 1));
    add_edges(g, a, input(n, 3));
    add_edges(g, a, input(n, 4));
    const Graph::Node b = add(g, std::move(sm));
    g.connect(a, b);
    const Graph::Node c = add(g, std::move(av));
    g.connect(b, c);
    add_edges(g, c, input(n, 2));
    add_edges(g, c, input(n, 5));
    for (const auto& o : n.output())
      if (!o.empty()) producers_[o] = {c};
  }

  std::string path_;
  const LoadOptions& options_;
  std::shared_ptr<Holder> holder_;
  i64 opset_ = 0;
  std::unordered_map<std::string, TensorInfo> info_;         // shapes and element types
  std::unordered_map<std::string, std::string> unknown_why_;  // tensors without a shape: why
  std::unordered_map<std::string, Value> values_;  // constants with known values
  std::unordered_map<std::string, int> quant_bits_;  // QDQ: tensors stored quantized
  std::unordered_map<std::string, const TensorProto*> initializers_;
  std::unordered_set<std::string> constants_;  // tensors not computed from graph inputs
  std::unordered_map<std::string, std::vector<Graph::Node>> producers_;
};

}  // namespace

Graph read_onnx(const std::string& path, const LoadOptions& options) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  return Importer(path, options).run();
}

std::map<std::string, std::vector<i64>> onnx_output_shapes(const std::string& path,
                                                          const LoadOptions& options) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  return Importer(path, options).output_shapes();
}

bool looks_like_onnx(const std::string& path) {
  return lower(std::filesystem::path(path).extension().string()) == ".onnx";
}

}  // namespace tessera::workloads
