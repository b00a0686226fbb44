#include "workloads/transformer.hpp"

#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/params.hpp"

namespace tessera::workloads {

namespace {

using nlohmann::json;

// Reads a config's keys. Hugging Face configs hold many keys this model ignores (dropout rates,
// token ids, ...), so unknown keys are not errors; a key whose value is null counts as absent
// (HF writes e.g. "n_inner": null for "the default").
class ConfigReader {
 public:
  ConfigReader(const json& config, const std::string& file) : j_(config), r_(config, file) {}

  bool present(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  i64 size(const std::string& key) { return r_.positive_integer(key); }
  i64 size(const std::string& key, i64 fallback) {
    return present(key) ? r_.positive_integer(key) : fallback;
  }
  bool flag(const std::string& key, bool fallback) {
    return present(key) ? r_.boolean(key, fallback) : fallback;
  }
  std::string text(const std::string& key, const std::string& fallback) {
    return present(key) ? r_.string(key) : fallback;
  }
  // Classifier outputs: num_labels, else the size of id2label, else 0 (no classifier).
  i64 labels() {
    if (present("num_labels")) return r_.positive_integer("num_labels");
    if (present("id2label")) {
      const json& m = j_["id2label"];
      if (!m.is_object() || m.empty())
        throw r_.error("id2label", "expected a non-empty object mapping class ids to labels");
      return static_cast<i64>(m.size());
    }
    return 0;
  }
  ParamReader& params() { return r_; }
  [[nodiscard]] InputError error(const std::string& key, const std::string& what) const {
    return r_.error(key, what);
  }

 private:
  const json& j_;
  ParamReader r_;
};

Precision dtype_precision(ConfigReader& c) {
  const std::string key = c.present("torch_dtype") ? "torch_dtype" : "dtype";
  if (!c.present(key)) return {16, 16, NumberFormat::fp16};
  const std::string t =
      c.params().choice(key, {"float16", "bfloat16", "float32", "float64"}, "float16");
  if (t == "float32") return {32, 32, NumberFormat::fp32};
  if (t == "float64") return {64, 64, NumberFormat::integer};
  return {16, 16, t == "bfloat16" ? NumberFormat::bf16 : NumberFormat::fp16};
}

// Builds the graph: every operator gets the config's precision and a source naming the file and
// the layer; edges follow the tensors.
class Builder {
 public:
  Builder(Graph& g, std::string file, Precision precision)
      : g_(g), file_(std::move(file)), precision_(precision) {}

  Graph::Node add(const std::string& name, const std::string& where, OpShape shape,
                  const std::vector<Graph::Node>& inputs) {
    Operator op;
    op.name = name;
    op.source = file_ + ": " + where;
    op.shape = std::move(shape);
    op.precision = precision_;
    validate(op, file_ + ": ");
    const Graph::Node n = g_.add(std::move(op));
    for (Graph::Node in : inputs) g_.connect(in, n);
    return n;
  }

 private:
  Graph& g_;
  std::string file_;
  Precision precision_;
};

}  // namespace

TransformerConfig transformer_config_from_json(const json& config, const std::string& file) {
  ConfigReader c(config, file);
  TransformerConfig t;
  t.model_type = c.params().string("model_type");
  if (t.model_type == "bert" || t.model_type == "roberta")
    t.family = TransformerFamily::bert;
  else if (t.model_type == "gpt2")
    t.family = TransformerFamily::gpt2;
  else if (t.model_type == "llama")
    t.family = TransformerFamily::llama;
  else if (t.model_type == "vit")
    t.family = TransformerFamily::vit;
  else
    throw c.error("model_type", "unsupported model_type '" + t.model_type +
                                    "' (supported: bert, roberta, gpt2, llama, vit)");

  switch (t.family) {
    case TransformerFamily::gpt2:
      t.hidden = c.size("n_embd");
      t.layers = c.size("n_layer");
      t.heads = c.size("n_head");
      t.intermediate = c.size("n_inner", size_product({4, t.hidden}));
      t.vocab = c.size("vocab_size");
      t.max_positions = c.size("n_positions");
      t.tied_embeddings = c.flag("tie_word_embeddings", true);
      t.activation = c.text("activation_function", "gelu_new");
      break;
    case TransformerFamily::bert:
    case TransformerFamily::llama:
    case TransformerFamily::vit:
      t.hidden = c.size("hidden_size");
      t.layers = c.size("num_hidden_layers");
      t.heads = c.size("num_attention_heads");
      t.intermediate = c.size("intermediate_size");
      break;
  }
  t.kv_heads = t.heads;
  if (t.family == TransformerFamily::bert) {
    t.vocab = c.size("vocab_size");
    t.max_positions = c.size("max_position_embeddings");
    t.type_vocab = c.size("type_vocab_size", 2);
    t.activation = c.text("hidden_act", "gelu");
    t.pre_norm = false;
    t.num_labels = c.labels();
  } else if (t.family == TransformerFamily::llama) {
    t.vocab = c.size("vocab_size");
    t.max_positions = c.size("max_position_embeddings");
    t.kv_heads = c.size("num_key_value_heads", t.heads);
    t.tied_embeddings = c.flag("tie_word_embeddings", false);
    t.qkv_bias = t.out_bias = c.flag("attention_bias", false);
    t.mlp_bias = c.flag("mlp_bias", false);
    t.activation = c.text("hidden_act", "silu");
    t.gated_mlp = true;
    t.rms_norm = true;
  } else if (t.family == TransformerFamily::vit) {
    t.image_size = c.size("image_size");
    t.patch_size = c.size("patch_size");
    t.channels = c.size("num_channels", 3);
    t.qkv_bias = c.flag("qkv_bias", true);
    t.activation = c.text("hidden_act", "gelu");
    t.num_labels = c.labels();
    if (t.patch_size > t.image_size)
      throw c.error("patch_size", "patch_size " + std::to_string(t.patch_size) +
                                      " is larger than image_size " + std::to_string(t.image_size));
  }

  const std::string heads_key =
      t.family == TransformerFamily::gpt2 ? "n_head" : "num_attention_heads";
  if (c.present("head_dim") && t.family == TransformerFamily::llama) {
    t.head_dim = c.size("head_dim");
  } else {
    if (t.hidden % t.heads != 0)
      throw c.error(heads_key, "hidden size " + std::to_string(t.hidden) + " is not divisible by " +
                                   std::to_string(t.heads) + " heads");
    t.head_dim = t.hidden / t.heads;
  }
  if (t.kv_heads > t.heads || t.heads % t.kv_heads != 0)
    throw c.error("num_key_value_heads", std::to_string(t.kv_heads) +
                                             " key/value heads must divide the " +
                                             std::to_string(t.heads) + " attention heads");
  const Precision p = dtype_precision(c);
  t.bits = p.weight_bits;
  t.format = p.format;
  return t;
}

TransformerConfig read_transformer_config(const std::string& path) {
  return transformer_config_from_json(read_json_file(path), path);
}

Graph build_transformer(const TransformerConfig& t, const std::string& file,
                        const LoadOptions& options) {
  auto fail = [&](const std::string& what) { return InputError(file + ": " + what); };

  const i64 B = options.batch.value_or(1);
  if (B < 1) throw fail("batch must be >= 1, got " + std::to_string(B));
  if (options.phase != "prefill" && options.phase != "decode")
    throw fail("phase must be \"prefill\" or \"decode\", got \"" + options.phase + "\"");
  const bool decode = options.phase == "decode";
  if (decode && !t.decoder())
    throw fail("phase \"decode\" needs a decoder model (gpt2, llama); model_type '" + t.model_type +
               "' is an encoder");
  if (options.kv_len && !decode) options.warning(file + ": kv_len is ignored in the prefill phase");

  // Query tokens per sequence (S_q) and key tokens each query attends to (T).
  i64 S = 0, S_q = 0, T = 0, L = 0;
  if (t.family == TransformerFamily::vit) {
    if (options.seq_len)
      options.warning(file +
                      ": seq_len is ignored for vit (tokens = (image_size/patch_size)^2 + 1)");
    if (options.image_size)
      options.warning(file + ": image_size is ignored for vit (the config's image_size is used)");
    S = S_q = T = t.vit_tokens();
  } else {
    S = options.seq_len.value_or(kDefaultSeqLen);
    if (S < 1) throw fail("seq_len must be >= 1, got " + std::to_string(S));
    if (decode) {
      L = options.kv_len.value_or(S);
      if (L < 1 || L >= kMaxCount)
        throw fail("kv_len must be in [1, 2^53), got " + std::to_string(L));
      S_q = 1;
      T = L + 1;
    } else {
      S_q = T = S;
    }
    if (T > t.max_positions)
      throw fail(std::string(decode ? "kv_len + 1 = " : "seq_len ") + std::to_string(T) +
                 " exceeds the model's " + std::to_string(t.max_positions) + " positions");
  }

  const i64 d = t.hidden, dq = t.q_dim(), dkv = t.kv_dim(), hd = t.head_dim;
  const i64 rows = size_product({B, S_q});  // token rows through the layer stack

  std::string stem = std::filesystem::path(file).stem().string();
  Graph g(stem + "-" + options.phase + "-b" + std::to_string(B) +
          (t.family == TransformerFamily::vit ? ""
           : decode                           ? "-kv" + std::to_string(L)
                                              : "-s" + std::to_string(S)));
  Builder b(g, file, Precision{t.bits, t.bits, t.format});
  const NormType norm_type = t.rms_norm ? NormType::rms : NormType::layer;
  auto norm = [&](const std::string& name, const std::string& where, i64 tokens, Graph::Node in) {
    return b.add(name, where, Norm{norm_type, size_product({tokens, d}), d}, {in});
  };
  auto linear = [&](const std::string& name, const std::string& where, i64 m, i64 k, i64 n,
                    bool bias, std::vector<Graph::Node> in) {
    return b.add(name, where, MatMul{.batch = 1, .m = m, .n = n, .k = k, .bias = bias},
                 std::move(in));
  };

  // Embeddings.
  Graph::Node x;
  if (t.family == TransformerFamily::vit) {
    const i64 grid = t.image_size / t.patch_size;
    const Graph::Node patch = b.add("embed.patch", "embeddings patch_embeddings",
                                    Conv{.n = B,
                                         .c = t.channels,
                                         .h = t.image_size,
                                         .w = t.image_size,
                                         .k = d,
                                         .r = t.patch_size,
                                         .s = t.patch_size,
                                         .stride_h = t.patch_size,
                                         .stride_w = t.patch_size,
                                         .bias = true},
                                    {});
    const Graph::Node cls =
        b.add("embed.cls_token", "embeddings cls_token", Embedding{B, 1, d}, {});
    const Graph::Node cat =
        b.add("embed.concat", "embeddings concat",
              DataMovement{MoveType::concat, size_product({B, size_product({grid, grid}) + 1, d}),
                                   size_product({B, S, d})}, {patch, cls});
    const Graph::Node pos =
        b.add("embed.positions", "embeddings position_embeddings", Embedding{size_product({B, S}), S, d}, {});
    x = b.add("embed.add", "embeddings add", Elementwise{"add", size_product({B, S, d}), 2}, {cat, pos});
  } else {
    std::vector<Graph::Node> parts;
    // A tied table is counted once, as the LM head's weight: the lookup is then a gather of
    // `rows` rows from it (docs/transformers.md, "Tied embeddings").
    if (t.tied_embeddings)
      parts.push_back(b.add("embed.tokens", "embeddings tokens (table tied with lm_head)",
                            DataMovement{MoveType::gather, size_product({rows, d}), size_product({rows, d})}, {}));
    else
      parts.push_back(b.add("embed.tokens", "embeddings tokens", Embedding{rows, t.vocab, d}, {}));
    if (t.family != TransformerFamily::llama)
      parts.push_back(b.add("embed.positions", "embeddings positions",
                            Embedding{rows, t.max_positions, d}, {}));
    if (t.family == TransformerFamily::bert)
      parts.push_back(b.add("embed.token_types", "embeddings token_type_embeddings",
                            Embedding{rows, t.type_vocab, d}, {}));
    x = parts.size() == 1
            ? parts[0]
            : b.add("embed.add", "embeddings add",
                    Elementwise{"add", size_product({rows, d}), static_cast<i64>(parts.size())}, parts);
    if (t.family == TransformerFamily::bert)
      x = norm("embed.norm", "embeddings LayerNorm", rows, x);
  }

  // Layers.
  for (i64 i = 0; i < t.layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const std::string where = "layer " + std::to_string(i) + " ";
    auto add = [&](const std::string& part, OpShape shape, std::vector<Graph::Node> in) {
      return b.add(p + part, where + part, std::move(shape), in);
    };
    auto lin = [&](const std::string& part, i64 k, i64 n, bool bias, Graph::Node in) {
      return linear(p + part, where + part, rows, k, n, bias, {in});
    };

    const Graph::Node h = t.pre_norm ? norm(p + "attn_norm", where + "attn_norm", rows, x) : x;
    Graph::Node q = lin("attn.q_proj", d, dq, t.qkv_bias, h);
    Graph::Node k = lin("attn.k_proj", d, dkv, t.qkv_bias, h);
    const Graph::Node v = lin("attn.v_proj", d, dkv, t.qkv_bias, h);
    if (t.family == TransformerFamily::llama) {
      // Rotary position embedding of the new queries and keys (no parameters).
      q = k = add("attn.rope", Elementwise{"rope", size_product({rows, dq + dkv}), 1}, {q, k});
    }
    std::vector<Graph::Node> k_in{q, k}, v_in{v};
    if (t.decoder()) {
      add("attn.k_cache_write", DataMovement{MoveType::cache_write, size_product({rows, dkv}), size_product({rows, dkv})}, {k});
      add("attn.v_cache_write", DataMovement{MoveType::cache_write, size_product({rows, dkv}), size_product({rows, dkv})}, {v});
      if (decode) {
        k_in.push_back(add("attn.k_cache_read",
                           DataMovement{MoveType::cache_read, size_product({B, L, dkv}), size_product({B, L, dkv})}, {}));
        v_in.push_back(add("attn.v_cache_read",
                           DataMovement{MoveType::cache_read, size_product({B, L, dkv}), size_product({B, L, dkv})}, {}));
      }
    }
    // Each query head reads its group's keys and values: batch = B * heads for GQA too.
    const Graph::Node scores =
        add("attn.scores",
            MatMul{.batch = size_product({B, t.heads}), .m = S_q, .n = T, .k = hd, .b_is_weight = false}, k_in);
    const Graph::Node sm = add("attn.softmax", Softmax{size_product({B, t.heads, S_q}), T}, {scores});
    v_in.insert(v_in.begin(), sm);
    const Graph::Node ctx =
        add("attn.context",
            MatMul{.batch = size_product({B, t.heads}), .m = S_q, .n = hd, .k = T, .b_is_weight = false}, v_in);
    const Graph::Node o = lin("attn.o_proj", dq, d, t.out_bias, ctx);
    Graph::Node r1 = add("attn_residual", Elementwise{"add", size_product({rows, d}), 2}, {o, x});
    if (!t.pre_norm) r1 = norm(p + "attn_norm", where + "attn_norm (post)", rows, r1);

    const Graph::Node h2 = t.pre_norm ? norm(p + "mlp_norm", where + "mlp_norm", rows, r1) : r1;
    Graph::Node act;
    if (t.gated_mlp) {
      const Graph::Node gate = lin("mlp.gate_proj", d, t.intermediate, t.mlp_bias, h2);
      const Graph::Node up = lin("mlp.up_proj", d, t.intermediate, t.mlp_bias, h2);
      const Graph::Node a =
          add("mlp.act", Elementwise{t.activation, size_product({rows, t.intermediate}), 1}, {gate});
      act = add("mlp.mul", Elementwise{"mul", size_product({rows, t.intermediate}), 2}, {a, up});
    } else {
      const Graph::Node up = lin("mlp.up_proj", d, t.intermediate, t.mlp_bias, h2);
      act = add("mlp.act", Elementwise{t.activation, size_product({rows, t.intermediate}), 1}, {up});
    }
    const Graph::Node down = lin("mlp.down_proj", t.intermediate, d, t.mlp_bias, act);
    x = add("mlp_residual", Elementwise{"add", size_product({rows, d}), 2}, {down, r1});
    if (!t.pre_norm) x = norm(p + "mlp_norm", where + "mlp_norm (post)", rows, x);
  }

  // Final norm and head. Heads read one row per sequence: the last token (LM head), the first
  // (bert pooler, vit classifier on the class token).
  if (t.pre_norm) x = norm("final_norm", "final_norm", rows, x);
  if (t.decoder()) {
    linear("lm_head", "lm_head (logits of the last token)", B, d, t.vocab, false, {x});
  } else if (t.family == TransformerFamily::vit && t.num_labels > 0) {
    linear("classifier", "classifier (class token)", B, d, t.num_labels, true, {x});
  } else {
    const Graph::Node dense =
        linear("pooler.dense", "pooler dense (first token)", B, d, d, true, {x});
    const Graph::Node tanh =
        b.add("pooler.act", "pooler tanh", Elementwise{"tanh", size_product({B, d}), 1}, {dense});
    if (t.num_labels > 0) linear("classifier", "classifier", B, d, t.num_labels, true, {tanh});
  }
  return g;
}

Graph read_transformer(const std::string& path, const LoadOptions& options) {
  return build_transformer(read_transformer_config(path), path, options);
}

bool looks_like_model_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && j.is_object() && j.contains("model_type");
}

}  // namespace tessera::workloads
