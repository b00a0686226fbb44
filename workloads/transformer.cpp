#include "workloads/transformer.hpp"

#include <cmath>
#include <filesystem>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"
#include "workloads/graph_builder.hpp"

namespace tessera::workloads {

namespace {

// The most operators a transformer graph may have (a million; the shipped models have a few
// thousand): layer and expert counts that would build more are refused before the graph is
// built, naming the key, instead of exhausting memory.
constexpr std::size_t kMaxOperators = std::size_t{1} << 20;

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

}  // namespace

TransformerConfig transformer_config_from_json(const json& config, const std::string& file) {
  ConfigReader c(config, file);
  TransformerConfig t;
  t.model_type = c.params().string("model_type");
  if (t.model_type == "bert" || t.model_type == "roberta")
    t.family = TransformerFamily::bert;
  else if (t.model_type == "gpt2")
    t.family = TransformerFamily::gpt2;
  else if (t.model_type == "llama" || t.model_type == "mistral" || t.model_type == "mixtral" ||
           t.model_type == "qwen2" || t.model_type == "phi3" || t.model_type == "gemma")
    t.family = TransformerFamily::llama;
  else if (t.model_type == "vit")
    t.family = TransformerFamily::vit;
  else
    throw c.error("model_type", "unsupported model_type '" + t.model_type +
                                    "' (supported: bert, roberta, gpt2, llama, mistral, "
                                    "mixtral, qwen2, phi3, gemma, vit)");

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
    const std::string& type = t.model_type;
    const bool gemma = type == "gemma";
    t.tied_embeddings = c.flag("tie_word_embeddings", gemma);
    if (type == "llama") {
      t.qkv_bias = t.out_bias = c.flag("attention_bias", false);
      t.mlp_bias = c.flag("mlp_bias", false);
    } else {
      // Qwen2 always has q/k/v biases (and no output bias); the others have none.
      t.qkv_bias = type == "qwen2";
      t.out_bias = t.mlp_bias = false;
    }
    // Gemma names its activation hidden_activation (hidden_act in older files): GeGLU.
    t.activation = gemma ? c.text("hidden_activation", c.text("hidden_act", "gelu_pytorch_tanh"))
                         : c.text("hidden_act", "silu");
    t.gated_mlp = true;
    t.rms_norm = true;
    t.fused_projections = type == "phi3";
    t.scaled_embedding = gemma;
    // Mistral, Mixtral and Phi-3 attend a sliding window when the config gives one; Qwen2 only
    // with use_sliding_window.
    if ((type == "mistral" || type == "mixtral" || type == "phi3" ||
         (type == "qwen2" && c.flag("use_sliding_window", false))))
      t.sliding_window = c.size("sliding_window", 0);
    if (type == "mixtral") {
      t.experts = c.size("num_local_experts");
      t.experts_per_token = c.size("num_experts_per_tok");
      if (t.experts_per_token > t.experts)
        throw c.error("num_experts_per_tok", std::to_string(t.experts_per_token) +
                                                 " experts per token exceed the " +
                                                 std::to_string(t.experts) + " experts");
    }
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
  } else if (t.model_type == "gemma") {
    t.head_dim = 256;  // GemmaConfig's default
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

i64 expected_experts_touched(i64 experts, i64 k, i64 tokens) {
  const double E = static_cast<double>(experts);
  const double expected =
      E * (1 - std::pow(1 - static_cast<double>(k) / E, static_cast<double>(tokens)));
  return std::clamp<i64>(std::llround(expected), k, std::min(experts, size_product({tokens, k})));
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
    throw fail(
        "phase \"decode\" needs a decoder model (gpt2 or a llama-style model); "
        "model_type '" +
        t.model_type + "' is an encoder");
  if (options.kv_len && !decode) options.warning(file + ": kv_len is ignored in the prefill phase");
  if (options.kv_read != "per_group" && options.kv_read != "per_query_head")
    throw fail("kv_read must be \"per_group\" or \"per_query_head\", got \"" + options.kv_read +
               "\"");
  if (options.kv_bits && (*options.kv_bits < 1 || *options.kv_bits > 64))
    throw fail("kv_bits must be in [1, 64], got " + std::to_string(*options.kv_bits));
  const int kv_bits = options.kv_bits.value_or(0);  // 0: the activation precision
  if (options.experts_touched && t.experts == 0)
    options.warning(file + ": experts_touched is ignored (model_type '" + t.model_type +
                    "' has no experts)");

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
      S_q = options.decode_tokens.value_or(1);
      if (S_q < 1) throw fail("decode_tokens must be >= 1, got " + std::to_string(S_q));
      T = t.attended(L + S_q - 1);  // the cache, the step's new tokens, capped by the window
    } else {
      S_q = T = S;
    }
    const i64 position = decode ? L + 1 : S;
    if (position > t.max_positions)
      throw fail(std::string(decode ? "kv_len + 1 = " : "seq_len ") + std::to_string(position) +
                 " exceeds the model's " + std::to_string(t.max_positions) + " positions");
  }

  const i64 d = t.hidden, hd = t.head_dim;
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
    if (t.scaled_embedding)
      x = b.add("embed.scale", "embeddings scale (sqrt(hidden_size))",
                Elementwise{"mul", size_product({rows, d}), 1}, {x});
    if (t.family == TransformerFamily::bert)
      x = norm("embed.norm", "embeddings LayerNorm", rows, x);
  }

  // Attention products run per (sequence, KV head read): each reads its K and V once for the
  // query heads of its group (per_group) or once per query head (per_query_head).
  const i64 kv_reads = options.kv_read == "per_group" ? t.kv_heads : t.heads;
  const i64 attn_batch = size_product({B, kv_reads});
  const i64 attn_rows = size_product({t.heads / kv_reads, S_q});
  // Mixture of experts: the distinct experts this step's tokens use per layer.
  i64 touched = 0;
  if (t.experts > 0) {
    const i64 k = t.experts_per_token, most = std::min(t.experts, size_product({rows, k}));
    touched = options.experts_touched.value_or(expected_experts_touched(t.experts, k, rows));
    if (touched < k || touched > most)
      throw fail("experts_touched must be in [" + std::to_string(k) + ", " + std::to_string(most) +
                 "] (top-" + std::to_string(k) + " of " + std::to_string(t.experts) +
                 " experts for " + std::to_string(rows) + " tokens), got " +
                 std::to_string(touched));
  }

  // Sizes that would build more than kMaxOperators operators are refused before building: each
  // expert a token uses adds at least three operators to every layer, and the whole graph is
  // checked once the first layer shows how many operators a layer has.
  const std::string layers_key =
      t.family == TransformerFamily::gpt2 ? "n_layer" : "num_hidden_layers";
  const auto too_many = [&](const std::string& key, i64 value, const std::string& what) {
    return fail("/" + key + ": " + std::to_string(value) + " " + what +
                " would build more than 2^20 operators (the most a workload may have)");
  };
  if (touched > static_cast<i64>(kMaxOperators / 3))
    throw options.experts_touched
        ? fail("experts_touched " + std::to_string(touched) +
               " would build more than 2^20 operators (the most a workload may have)")
        : too_many("num_local_experts", t.experts, "experts");
  const std::size_t before_layers = g.size();
  if (options.modegpt) check_allocation(*options.modegpt, t.layers, file);

  // Layers.
  for (i64 i = 0; i < t.layers; ++i) {
    if (i == 1) {
      const auto per_layer = static_cast<i64>(g.size() - before_layers);
      if (t.layers > static_cast<i64>(kMaxOperators - before_layers) / per_layer)
        throw too_many(layers_key, t.layers,
                       "layers of " + std::to_string(per_layer) + " operators each");
    }
    const std::string p = "layers." + std::to_string(t.first_layer + i) + ".";
    const std::string where = "layer " + std::to_string(t.first_layer + i) + " ";
    auto add = [&](const std::string& part, OpShape shape, std::vector<Graph::Node> in) {
      return b.add(p + part, where + part, std::move(shape), in);
    };
    auto lin_m = [&](const std::string& part, i64 m, i64 k, i64 n, bool bias,
                     std::vector<Graph::Node> in) {
      return linear(p + part, where + part, m, k, n, bias, std::move(in));
    };
    auto lin = [&](const std::string& part, i64 k, i64 n, bool bias, Graph::Node in) {
      return lin_m(part, rows, k, n, bias, {in});
    };
    // The KV cache is stored at kv_bits (default: the activation precision).
    auto at_kv_bits = [&](Graph::Node n) {
      g.op(n).precision.cache_bits = kv_bits;
      return n;
    };
    // The layer's inner dimensions: the model's, or reduced by the module decomposition (Q/K
    // per-head dim qd, V/O per-head dim vd, MLP width F); RoPE keeps Q/K dimensions in pairs.
    const LayerModules mod =
        options.modegpt
            ? layer_modules(*options.modegpt, p.substr(0, p.size() - 1), hd, t.intermediate,
                            t.family == TransformerFamily::llama)
            : LayerModules{hd, hd, t.intermediate};
    const i64 qd = mod.qk_dim, vd = mod.vo_dim;
    const i64 dq_l = size_product({t.heads, qd}), dk_l = size_product({t.kv_heads, qd}),
              dv_l = size_product({t.kv_heads, vd}), do_l = size_product({t.heads, vd});

    const Graph::Node h = t.pre_norm ? norm(p + "attn_norm", where + "attn_norm", rows, x) : x;
    Graph::Node q, k, v;
    if (t.fused_projections) {
      q = k = v = lin("attn.qkv_proj", d, dq_l + dk_l + dv_l, t.qkv_bias, h);
    } else {
      q = lin("attn.q_proj", d, dq_l, t.qkv_bias, h);
      k = lin("attn.k_proj", d, dk_l, t.qkv_bias, h);
      v = lin("attn.v_proj", d, dv_l, t.qkv_bias, h);
    }
    if (t.family == TransformerFamily::llama) {
      // Rotary position embedding of the new queries and keys (no parameters).
      q = k = add("attn.rope", Elementwise{"rope", size_product({rows, dq_l + dk_l}), 1}, {q, k});
    }
    // Decoders append the new tokens' K and V to the cache. In decode the attention products
    // then read all T keys and values from the cache, in place (their K×N operand is the cache:
    // no copy); in prefill they use the new K and V directly.
    std::vector<Graph::Node> k_in{q}, v_in;
    if (t.decoder()) {
      const i64 nk = size_product({rows, dk_l}), nv = size_product({rows, dv_l});
      const Graph::Node kw =
          at_kv_bits(add("attn.k_cache_write", DataMovement{MoveType::cache_write, nk, nk}, {k}));
      const Graph::Node vw =
          at_kv_bits(add("attn.v_cache_write", DataMovement{MoveType::cache_write, nv, nv}, {v}));
      k_in.push_back(decode ? kw : k);
      v_in.push_back(decode ? vw : v);
    } else {
      k_in.push_back(k);
      v_in.push_back(v);
    }
    const Graph::Node scores = at_kv_bits(add("attn.scores",
                                              MatMul{.batch = attn_batch,
                                                     .m = attn_rows,
                                                     .n = T,
                                                     .k = qd,
                                                     .b_is_weight = false,
                                                     .b_is_cache = decode},
                                              k_in));
    const Graph::Node sm = add("attn.softmax", Softmax{size_product({B, t.heads, S_q}), T}, {scores});
    v_in.insert(v_in.begin(), sm);
    const Graph::Node ctx = at_kv_bits(add("attn.context",
                                           MatMul{.batch = attn_batch,
                                                  .m = attn_rows,
                                                  .n = vd,
                                                  .k = T,
                                                  .b_is_weight = false,
                                                  .b_is_cache = decode},
                                           v_in));
    const Graph::Node o = lin("attn.o_proj", do_l, d, t.out_bias, ctx);
    Graph::Node r1 = add("attn_residual", Elementwise{"add", size_product({rows, d}), 2}, {o, x});
    if (!t.pre_norm) r1 = norm(p + "attn_norm", where + "attn_norm (post)", rows, r1);

    const Graph::Node h2 = t.pre_norm ? norm(p + "mlp_norm", where + "mlp_norm", rows, r1) : r1;
    // One MLP over `m` token rows, its operators named `prefix`*.
    auto mlp = [&](const std::string& prefix, i64 m, std::vector<Graph::Node> in) {
      const i64 F = mod.intermediate, mf = size_product({m, F});
      Graph::Node act;
      if (t.gated_mlp && t.fused_projections) {
        const Graph::Node gu = lin_m(prefix + "gate_up_proj", m, d, 2 * F, t.mlp_bias, in);
        const Graph::Node a = add(prefix + "act", Elementwise{t.activation, mf, 1}, {gu});
        act = add(prefix + "mul", Elementwise{"mul", mf, 2}, {a, gu});
      } else if (t.gated_mlp) {
        const Graph::Node gate = lin_m(prefix + "gate_proj", m, d, F, t.mlp_bias, in);
        const Graph::Node up = lin_m(prefix + "up_proj", m, d, F, t.mlp_bias, in);
        const Graph::Node a = add(prefix + "act", Elementwise{t.activation, mf, 1}, {gate});
        act = add(prefix + "mul", Elementwise{"mul", mf, 2}, {a, up});
      } else {
        const Graph::Node up = lin_m(prefix + "up_proj", m, d, F, t.mlp_bias, in);
        act = add(prefix + "act", Elementwise{t.activation, mf, 1}, {up});
      }
      return lin_m(prefix + "down_proj", m, F, d, t.mlp_bias, {act});
    };
    Graph::Node down;
    if (t.experts > 0) {
      // Router logits and top-k choice, then the experts the tokens use, each over the tokens
      // routed to it (the rows * k choices spread evenly), and the weighted sum of each token's
      // k expert outputs.
      const i64 kk = t.experts_per_token, choices = size_product({rows, kk});
      const Graph::Node logits = lin("mlp.router", d, t.experts, false, h2);
      const Graph::Node route = add("mlp.router_topk", Softmax{rows, t.experts}, {logits});
      std::vector<Graph::Node> outs;
      for (i64 e = 0; e < touched; ++e) {
        const i64 m = choices / touched + (e < choices % touched ? 1 : 0);
        outs.push_back(mlp("mlp.experts." + std::to_string(e) + ".", m, {h2, route}));
      }
      down = add("mlp.combine", Elementwise{"moe_combine", size_product({rows, d}), kk}, outs);
    } else {
      down = mlp("mlp.", rows, {h2});
    }
    x = add("mlp_residual", Elementwise{"add", size_product({rows, d}), 2}, {down, r1});
    if (!t.pre_norm) x = norm(p + "mlp_norm", where + "mlp_norm (post)", rows, x);
  }

  // Final norm and head. Heads read one row per sequence: the last token (LM head), the first
  // (bert pooler, vit classifier on the class token).
  if (t.pre_norm) x = norm("final_norm", "final_norm", rows, x);
  if (t.decoder()) {
    // A decode step of several tokens (self-speculative verification) needs each one's logits.
    const bool each = decode && S_q > 1;
    linear("lm_head", each ? "lm_head (logits of each of the step's tokens)"
                           : "lm_head (logits of the last token)",
           each ? B * S_q : B, d, t.vocab, false, {x});
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
  std::string text;
  try {
    text = read_input_file(path, kTextFileLimit);
  } catch (const InputError&) {
    return false;  // the reader of the file says why
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && j.is_object() && j.contains("model_type");
}

}  // namespace tessera::workloads
