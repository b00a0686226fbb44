#include "workloads/fabnet.hpp"

#include <filesystem>
#include <optional>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"
#include "workloads/graph_builder.hpp"

namespace tessera::workloads {

FabnetConfig read_fabnet_config(const std::string& path) {
  const nlohmann::json doc = read_json_file(path);
  ParamReader r(doc, path);
  const std::string type = r.string("model_type");
  if (type != "fabnet") throw r.error("model_type", "must be \"fabnet\", got \"" + type + "\"");
  FabnetConfig c;
  // Sizes stay far inside the operator limits (validate() checks the products).
  const auto sized = [&](const std::string& key, std::optional<i64> fallback) {
    const i64 v = fallback ? r.positive_integer(key, *fallback) : r.positive_integer(key);
    if (v > (i64{1} << 24)) throw r.error(key, "must be at most 2^24, got " + std::to_string(v));
    return v;
  };
  c.hidden = sized("hidden_size", std::nullopt);
  c.ffn_ratio = sized("ffn_ratio", 4);
  c.layers = sized("num_layers", std::nullopt);
  c.abfly_layers = r.non_negative_integer("abfly_layers", 0);
  if (c.abfly_layers > c.layers)
    throw r.error("abfly_layers", "must be at most num_layers (" + std::to_string(c.layers) +
                                      "), got " + std::to_string(c.abfly_layers));
  if (r.has("fbfly_layers") && r.non_negative_integer("fbfly_layers", 0) != c.fbfly_layers())
    throw r.error("fbfly_layers", "must equal num_layers - abfly_layers (" +
                                      std::to_string(c.fbfly_layers()) + ")");
  c.heads = r.positive_integer("num_attention_heads", 12);
  if (c.hidden % c.heads != 0)
    throw r.error("num_attention_heads", "must divide hidden_size " + std::to_string(c.hidden));
  c.seq_len = sized("seq_len", 128);
  const i64 bits = r.positive_integer("bits", 16);
  if (bits > 64) throw r.error("bits", "must be at most 64, got " + std::to_string(bits));
  c.bits = static_cast<int>(bits);
  r.finish();
  return c;
}

Graph build_fabnet(const FabnetConfig& c, const std::string& file, const LoadOptions& options) {
  const i64 B = options.batch.value_or(1);
  const i64 L = options.seq_len.value_or(c.seq_len);
  if (B < 1) throw InputError(file + ": batch must be >= 1, got " + std::to_string(B));
  if (L < 1 || L > (i64{1} << 24))
    throw InputError(file + ": seq_len must be in [1, 2^24], got " + std::to_string(L));
  const i64 D = c.hidden, F = size_product({c.ffn_ratio, D}), rows = size_product({B, L});
  const i64 H = c.heads, dh = D / H;
  const NumberFormat format = c.bits == 16   ? NumberFormat::fp16
                              : c.bits == 32 ? NumberFormat::fp32
                                             : NumberFormat::integer;
  Graph g(std::filesystem::path(file).stem().string() + "-b" + std::to_string(B) + "-s" +
          std::to_string(L));
  Builder b(g, file, Precision{c.bits, c.bits, format});
  const auto elements = size_product({rows, D});
  // The residual of the first layer is the (unmodelled) embeddings' output, read from memory.
  auto add_norm = [&](const std::string& p, Graph::Node y, std::optional<Graph::Node> residual) {
    std::vector<Graph::Node> in{y};
    if (residual) in.push_back(*residual);
    const auto sum = b.add(p + "_add", Elementwise{"add", elements, 2}, in);
    return b.add(p + "_norm", Norm{NormType::layer, elements, D}, {sum});
  };
  auto butterfly = [&](const std::string& name, i64 in, i64 out, Graph::Node x) {
    return b.add(
        name, Butterfly{.rows = rows, .in_features = in, .out_features = out, .bias = true}, {x});
  };
  std::optional<Graph::Node> x;
  auto inputs = [&] { return x ? std::vector<Graph::Node>{*x} : std::vector<Graph::Node>{}; };
  for (i64 l = 0; l < c.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    Graph::Node mixed;
    if (l < c.abfly_layers) {
      // The first projection reads the layer input; so do its siblings (edges from the same node).
      const auto in = inputs();
      auto proj = [&](const char* n) {
        return b.add(
            p + n, Butterfly{.rows = rows, .in_features = D, .out_features = D, .bias = true}, in);
      };
      const auto q = proj("attention.query"), k = proj("attention.key"),
                 v = proj("attention.value");
      const auto scores = b.add(
          p + "attention.scores",
          MatMul{.batch = size_product({B, H}), .m = L, .n = L, .k = dh, .b_is_weight = false},
          {q, k});
      const auto probs =
          b.add(p + "attention.softmax", Softmax{size_product({B, H, L}), L}, {scores});
      const auto context = b.add(
          p + "attention.context",
          MatMul{.batch = size_product({B, H}), .m = L, .n = dh, .k = L, .b_is_weight = false},
          {probs, v});
      const auto out = butterfly(p + "attention.output", D, D, context);
      mixed = add_norm(p + "attention", out, x);
    } else {
      const auto f =
          b.add(p + "fourier", Fft{.batch = B, .rows = L, .cols = D, .two_d = true}, inputs());
      mixed = add_norm(p + "fourier", f, x);
    }
    const auto up = butterfly(p + "ffn.in", D, F, mixed);
    const auto act = b.add(p + "ffn.gelu", Elementwise{"gelu", size_product({rows, F}), 1}, {up});
    const auto down = butterfly(p + "ffn.out", F, D, act);
    x = add_norm(p + "ffn", down, mixed);
  }
  return g;
}

Graph read_fabnet(const std::string& path, const LoadOptions& options) {
  return build_fabnet(read_fabnet_config(path), path, options);
}

bool looks_like_fabnet_config(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path, kTextFileLimit);
  } catch (const InputError&) {
    return false;  // the reader of the file says why
  }
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && j.is_object() && j.contains("model_type") &&
         j["model_type"] == "fabnet";
}

}  // namespace tessera::workloads
