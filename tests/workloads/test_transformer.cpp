// Transformer graphs from Hugging Face configs: MACs and KV-cache bytes of every shipped config
// in prefill and decode against closed forms written out here, parameter totals against the
// models' known counts, grouped-query attention, graph structure, and bad configs.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/params.hpp"
#include "workloads/frontend.hpp"
#include "workloads/json_format.hpp"
#include "workloads/transformer.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;
using nlohmann::json;

namespace {

const std::string kModels = std::string(TESSERA_SOURCE_DIR) + "/configs/models/";

struct KvBytes {
  i64 read = 0, write = 0;
  i64 copies = 0;  // cache_read operators (the cache is an operand, never copied)
};

// Cache bytes the attention products read as their K×N operand, and the cache writes.
KvBytes kv_bytes(const Graph& g) {
  KvBytes kv;
  for (Graph::Node n = 0; n < g.size(); ++n) {
    const Operator& op = g.op(n);
    kv.read += op.cache_bytes();
    if (const auto* m = std::get_if<DataMovement>(&op.shape)) {
      if (m->type == MoveType::cache_read) ++kv.copies;
      if (m->type == MoveType::cache_write) kv.write += op.output_bytes();
    }
  }
  return kv;
}

// The sizes the closed forms need, written out per model (not read from the builder).
struct Model {
  std::string file;
  i64 d, layers, heads, kv_heads, head_dim, ffn, vocab;
  bool gated;
  // MACs outside the layer stack for B sequences: head and (vit) patch embedding.
  i64 extra_macs_per_sequence;
};

// Per-layer MACs for B sequences of s_q query tokens attending to t key tokens:
//   projections  B*s_q*(d*dq + 2*d*dkv + dq*d)   (Q, K, V, O; dq = h*d_head, dkv = h_kv*d_head)
//   attention    2*B*h*s_q*t*d_head               (Q·Kᵀ and P·V)
//   MLP          B*s_q*d*ffn*(3 if gated else 2)
i64 layer_macs(const Model& m, i64 b, i64 s_q, i64 t) {
  const i64 dq = m.heads * m.head_dim, dkv = m.kv_heads * m.head_dim;
  return b * s_q * (m.d * dq + 2 * m.d * dkv + dq * m.d) + 2 * b * m.heads * s_q * t * m.head_dim +
         b * s_q * m.d * m.ffn * (m.gated ? 3 : 2);
}

i64 model_macs(const Model& m, i64 b, i64 s_q, i64 t) {
  return m.layers * layer_macs(m, b, s_q, t) + b * m.extra_macs_per_sequence;
}

// KV-cache bytes of L tokens for B sequences: 2 (K and V) * layers * B * L * dkv * bytes.
i64 cache_bytes(const Model& m, i64 b, i64 tokens, i64 bytes) {
  return 2 * m.layers * b * tokens * m.kv_heads * m.head_dim * bytes;
}

// LM head: last token only, d*vocab per sequence. bert: pooler d*d. vit: 16x16x3 patch conv on
// 196 patches plus the 1000-class classifier.
const Model kBert{"bert-base-uncased.json", 768, 12, 12, 12, 64, 3072, 30522, false, 768 * 768};
const Model kGpt2{"gpt2.json", 768, 12, 12, 12, 64, 3072, 50257, false, 768 * 50257};
const Model kLlama{"llama-1b.json", 2048, 16, 32, 8, 64, 8192, 128256, true, 2048 * 128256};
const Model kVit{"vit-base-patch16-224.json",         768, 12, 12, 12, 64, 3072, 0, false,
                 196 * 768 * 3 * 16 * 16 + 768 * 1000};

LoadOptions opts(i64 batch, std::optional<i64> seq, std::string phase = "prefill",
                 std::optional<i64> kv = std::nullopt) {
  LoadOptions o;
  o.batch = batch;
  o.seq_len = seq;
  o.phase = std::move(phase);
  o.kv_len = kv;
  o.warn = [](const std::string&) {};
  return o;
}

// Writes a config to a temporary file and returns its path.
std::string write_config(const std::string& name, const json& config) {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_test_transformer";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << config.dump(2);
  return path;
}

json gpt2_json() {
  return json::parse(R"({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
                         "n_positions": 32, "vocab_size": 100})");
}

json llama_json() {
  return json::parse(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
                         "num_attention_heads": 8, "num_key_value_heads": 2,
                         "intermediate_size": 128, "vocab_size": 100,
                         "max_position_embeddings": 64})");
}

}  // namespace

TEST_CASE("transformer: config keys of each family", "[transformer]") {
  const auto gpt2 = read_transformer_config(kModels + "gpt2.json");
  CHECK(gpt2.family == TransformerFamily::gpt2);
  CHECK(gpt2.hidden == 768);
  CHECK(gpt2.intermediate == 4 * 768);  // n_inner: null means 4 * n_embd
  CHECK(gpt2.tied_embeddings);
  CHECK(gpt2.bits == 16);  // no torch_dtype: 16-bit
  CHECK(gpt2.format == NumberFormat::fp16);
  CHECK(gpt2.max_positions == 1024);

  const auto llama = read_transformer_config(kModels + "llama-1b.json");
  CHECK(llama.kv_heads == 8);
  CHECK(llama.head_dim == 64);
  CHECK(llama.kv_dim() == 512);
  CHECK(llama.gated_mlp);
  CHECK(llama.rms_norm);
  CHECK(llama.tied_embeddings);
  CHECK_FALSE(llama.qkv_bias);
  CHECK(llama.bits == 16);  // bfloat16
  CHECK(llama.format == NumberFormat::bf16);

  const auto bert = read_transformer_config(kModels + "bert-base-uncased.json");
  CHECK_FALSE(bert.pre_norm);
  CHECK(bert.type_vocab == 2);
  CHECK(bert.num_labels == 0);

  const auto vit = read_transformer_config(kModels + "vit-base-patch16-224.json");
  CHECK(vit.vit_tokens() == 197);
  CHECK(vit.num_labels == 1000);

  json f32 = gpt2_json();
  f32["torch_dtype"] = "float32";
  CHECK(transformer_config_from_json(f32, "x.json").bits == 32);
  CHECK(transformer_config_from_json(f32, "x.json").format == NumberFormat::fp32);
  json labels = llama_json();
  labels["model_type"] = "vit";
  labels["image_size"] = 32;
  labels["patch_size"] = 8;
  labels["id2label"] = {{"0", "cat"}, {"1", "dog"}, {"2", "bird"}};
  CHECK(transformer_config_from_json(labels, "x.json").num_labels == 3);
}

TEST_CASE("transformer: parameter totals match the published models", "[transformer]") {
  // What is counted: every weight and bias of the model as Hugging Face instantiates it, each
  // tied table once.
  //   bert-base-uncased: BertModel incl. pooler (no MLM head): 109,482,240
  //     embeddings (30522 + 512 + 2) * 768 + LayerNorm 1536          = 23,837,184
  //     12 layers * 7,087,872 (QKVO 4*(768^2+768), MLP 2*768*3072 + 3072 + 768, 2 LN)
  //     pooler 768^2 + 768                                            = 590,592
  //   gpt2: GPT2LMHeadModel, lm_head tied to wte: 124,439,808
  //     wte 50257*768 + wpe 1024*768 + 12 * 7,087,872 + ln_f 1536
  //   llama-1b (Llama-3.2-1B): 1,235,814,400
  //     embed 128256*2048 (tied) + 16 * (q,o 2*2048^2 + k,v 2*2048*512 + MLP 3*2048*8192 + 2*2048)
  //     + norm 2048
  //   vit-base-patch16-224: ViTForImageClassification, 1000 classes: 86,567,656
  //     patch conv 768*3*256 + 768, cls 768, positions 197*768, 12 * 7,087,872, LN 1536,
  //     classifier 768*1000 + 1000
  const i64 layer = 4 * (768 * 768 + 768) + 2 * 768 * 3072 + 3072 + 768 + 2 * 1536;
  CHECK(layer == 7'087'872);
  const i64 bert = (30522 + 512 + 2) * 768 + 1536 + 12 * layer + 768 * 768 + 768;
  const i64 gpt2 = 50257 * 768 + 1024 * 768 + 12 * layer + 1536;
  const i64 llama = i64{128256} * 2048 +
                    16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048) + 2048;
  const i64 vit = 768 * 3 * 256 + 768 + 768 + 197 * 768 + 12 * layer + 1536 + 768 * 1000 + 1000;
  CHECK(bert == 109'482'240);
  CHECK(gpt2 == 124'439'808);
  CHECK(llama == 1'235'814'400);
  CHECK(vit == 86'567'656);

  // Parameters do not depend on the phase or the sizes.
  for (const auto& o : {opts(1, std::nullopt), opts(4, 64), opts(2, 32, "decode", 100)}) {
    CHECK(read_transformer(kModels + "gpt2.json", o).totals().params == gpt2);
    CHECK(read_transformer(kModels + "llama-1b.json", o).totals().params == llama);
  }
  CHECK(read_transformer(kModels + "bert-base-uncased.json").totals().params == bert);
  CHECK(read_transformer(kModels + "bert-base-uncased.json", opts(4, 512)).totals().params == bert);
  CHECK(read_transformer(kModels + "vit-base-patch16-224.json").totals().params == vit);
  // 16-bit weights: 2 bytes per parameter, the tied table once.
  CHECK(read_transformer(kModels + "llama-1b.json").totals().weight_bytes == 2 * llama);

  // Untied gpt2: a separate lm_head adds vocab * d.
  json untied = gpt2_json();
  untied["tie_word_embeddings"] = false;
  const i64 tied_params =
      read_transformer(write_config("tied.json", gpt2_json()), opts(1, 16)).totals().params;
  CHECK(read_transformer(write_config("untied.json", untied), opts(1, 16)).totals().params ==
        tied_params + 100 * 64);
}

TEST_CASE("transformer: prefill MACs and KV-cache writes", "[transformer]") {
  for (const Model& m : {kBert, kGpt2, kLlama}) {
    for (auto [b, s] : {std::pair<i64, i64>{1, 128}, {4, 256}}) {
      INFO(m.file << " B=" << b << " S=" << s);
      const Graph g = read_transformer(kModels + m.file, opts(b, s));
      CHECK(g.totals().macs == model_macs(m, b, s, s));
      const KvBytes kv = kv_bytes(g);
      CHECK(kv.read == 0);
      CHECK(kv.write == (m.file == kBert.file ? 0 : cache_bytes(m, b, s, 2)));
    }
  }
  // Defaults: batch 1, seq_len 128.
  const Graph g = read_transformer(kModels + "gpt2.json", opts(1, std::nullopt));
  CHECK(g.totals().macs == model_macs(kGpt2, 1, 128, 128));
  // Worked by hand: 12 * (128*(4*768^2 + 2*768*3072) + 2*12*128*128*64) + 768*50257
  CHECK(g.totals().macs == 11'212'223'232);
  CHECK(kv_bytes(g).write == 2 * 12 * 128 * 768 * 2);  // 4,718,592 bytes

  // vit: 197 tokens (196 patches + class token) whatever seq_len says.
  for (i64 b : {1, 8}) {
    const Graph v = read_transformer(kModels + kVit.file, opts(b, 512));
    CHECK(v.totals().macs == model_macs(kVit, b, 197, 197));
    CHECK(kv_bytes(v).write == 0);
  }
}

TEST_CASE("transformer: decode MACs and KV-cache traffic", "[transformer]") {
  for (const Model& m : {kGpt2, kLlama}) {
    for (auto [b, l] : {std::pair<i64, i64>{1, 128}, {8, 1000}}) {
      INFO(m.file << " B=" << b << " L=" << l);
      const Graph g = read_transformer(kModels + m.file, opts(b, 64, "decode", l));
      // One new token per sequence attends to the L cached tokens and itself: its K and V are
      // appended first, then the attention reads all L + 1 from the cache (as vLLM does).
      CHECK(g.totals().macs == model_macs(m, b, 1, l + 1));
      const KvBytes kv = kv_bytes(g);
      CHECK(kv.read == cache_bytes(m, b, l + 1, 2));
      CHECK(kv.write == cache_bytes(m, b, 1, 2));
      CHECK(kv.copies == 0);
    }
  }
  // kv_len defaults to seq_len, which defaults to 128.
  const Graph g = read_transformer(kModels + "llama-1b.json", opts(1, std::nullopt, "decode"));
  CHECK(kv_bytes(g).read == 2 * 16 * 129 * 512 * 2);  // 4 MiB + one token
  CHECK(kv_bytes(g).write == 2 * 16 * 512 * 2);
  CHECK(read_transformer(kModels + "llama-1b.json", opts(1, 300, "decode")).totals().macs ==
        model_macs(kLlama, 1, 1, 301));
}

TEST_CASE("transformer: grouped-query attention", "[transformer]") {
  const Graph gqa = read_transformer(kModels + "llama-1b.json", opts(2, 64, "decode", 100));
  const Operator& k = gqa.op(*gqa.find("layers.0.attn.k_proj"));
  CHECK(std::get<MatMul>(k.shape).n == 8 * 64);
  CHECK(std::get<MatMul>(gqa.op(*gqa.find("layers.0.attn.q_proj")).shape).n == 2048);
  const Operator& scores_op = gqa.op(*gqa.find("layers.3.attn.scores"));
  const auto& scores = std::get<MatMul>(scores_op.shape);
  CHECK(scores.batch == 2 * 8);  // per sequence and KV head: the group's 4 query heads as rows
  CHECK(scores.m == 4);
  CHECK(scores.n == 101);
  CHECK(scores.k == 64);
  CHECK_FALSE(scores.b_is_weight);
  CHECK(scores.b_is_cache);
  // Each KV head's 101 keys read once per step: B * h_kv * T * d_head * 2 bytes.
  CHECK(scores_op.cache_bytes() == 2 * 8 * 101 * 64 * 2);
  const auto& context = std::get<MatMul>(gqa.op(*gqa.find("layers.3.attn.context")).shape);
  CHECK(context ==
        MatMul{.batch = 16, .m = 4, .n = 64, .k = 101, .b_is_weight = false, .b_is_cache = true});

  // per_query_head: every query head reads its group's K and V, 4x the cache bytes, the same
  // MACs.
  LoadOptions each = opts(2, 64, "decode", 100);
  each.kv_read = "per_query_head";
  const Graph per_head = read_transformer(kModels + "llama-1b.json", each);
  const auto& s4 = std::get<MatMul>(per_head.op(*per_head.find("layers.3.attn.scores")).shape);
  CHECK(s4.batch == 2 * 32);
  CHECK(s4.m == 1);
  CHECK(kv_bytes(per_head).read == 4 * kv_bytes(gqa).read);
  CHECK(kv_bytes(per_head).write == kv_bytes(gqa).write);
  CHECK(per_head.totals().macs == gqa.totals().macs);

  // The same model with full multi-head attention: 4x the K/V projections and cache, the same
  // attention MACs, and the shapes per_query_head gives the grouped model.
  json mha = read_json_file(kModels + "llama-1b.json");
  mha["num_key_value_heads"] = 32;
  const Graph full =
      read_transformer(write_config("llama-mha.json", mha), opts(2, 64, "decode", 100));
  CHECK(kv_bytes(full).read == 4 * kv_bytes(gqa).read);
  CHECK(full.totals().params - gqa.totals().params == 16 * 2 * 2048 * (2048 - 512));
  CHECK(std::get<MatMul>(full.op(*full.find("layers.3.attn.scores")).shape) == s4);

  // Prefill groups the same way (the new K and V are activations there, not the cache).
  const Graph prefill = read_transformer(kModels + "llama-1b.json", opts(2, 64));
  CHECK(std::get<MatMul>(prefill.op(*prefill.find("layers.3.attn.scores")).shape) ==
        MatMul{.batch = 16, .m = 4 * 64, .n = 64, .k = 64, .b_is_weight = false});
}

TEST_CASE("transformer: KV-cache precision", "[transformer]") {
  LoadOptions o = opts(3, 64, "decode", 200);
  const Graph base = read_transformer(kModels + "llama-1b.json", o);
  o.kv_bits = 8;
  const Graph int8 = read_transformer(kModels + "llama-1b.json", o);
  // 2 * layers * B * T * dkv * kv_bits/8, T = L + 1.
  CHECK(kv_bytes(int8).read == 2 * 16 * 3 * 201 * 512 * 1);
  CHECK(kv_bytes(int8).write == 2 * 16 * 3 * 1 * 512 * 1);
  CHECK(2 * kv_bytes(int8).read == kv_bytes(base).read);
  // Only the cache changes: the query operand and the weights keep their precision.
  const Operator& s = int8.op(*int8.find("layers.0.attn.scores"));
  CHECK(s.precision == Precision{16, 16, NumberFormat::bf16, 8});  // llama-1b is bfloat16
  CHECK(s.input_bytes() == 3 * 2048 * 2 + 3 * 8 * 201 * 64 * 1);
  CHECK(s.b_bits() == 8);
  CHECK(int8.totals().weight_bytes == base.totals().weight_bytes);
  // The cache operand and its precision survive the workload JSON format.
  const json written = workload_to_json(int8);
  CHECK(workload_from_json(written, "w.json") == int8);
  CHECK(written["operators"].dump().find("\"b_is_cache\":true") != std::string::npos);
  CHECK(written["operators"].dump().find("\"cache_bits\":8") != std::string::npos);
  o.kv_bits = 0;
  CHECK_THROWS_WITH(read_transformer(kModels + "llama-1b.json", o),
                    Contains("kv_bits must be in [1, 64]"));
  o.kv_bits.reset();
  o.kv_read = "per_token";
  CHECK_THROWS_WITH(read_transformer(kModels + "llama-1b.json", o),
                    Contains("llama-1b.json: kv_read must be \"per_group\" or \"per_query_head\""));
}

TEST_CASE("transformer: graph structure, names and sources", "[transformer]") {
  const std::string file = kModels + "llama-1b.json";
  const Graph g = read_transformer(file, opts(1, 16, "decode", 32));
  CHECK_NOTHROW(g.topological_order());
  CHECK(g.name() == "llama-1b-decode-b1-kv32");
  // No cache copies: the attention products read the cache the writes append to.
  CHECK_FALSE(g.find("layers.2.attn.k_cache_read"));
  CHECK_FALSE(g.find("layers.2.attn.v_cache_read"));
  const auto scores = *g.find("layers.2.attn.scores");
  const auto context = *g.find("layers.2.attn.context");
  const auto rope = *g.find("layers.2.attn.rope");
  const auto kw = *g.find("layers.2.attn.k_cache_write");
  const auto vw = *g.find("layers.2.attn.v_cache_write");
  CHECK(g.producers(scores) == std::vector{rope, kw});
  CHECK(g.producers(kw) == std::vector{rope});  // the cache holds rotated keys
  CHECK(g.consumers(kw) == std::vector{scores});
  CHECK(g.producers(context) == std::vector{vw, *g.find("layers.2.attn.softmax")});
  CHECK(g.op(scores).cache_bytes() == 8 * 33 * 64 * 2);
  CHECK(std::get<DataMovement>(g.op(kw).shape).output_elements == 512);
  CHECK(g.op(*g.find("layers.2.attn.q_proj")).source == file + ": layer 2 attn.q_proj");
  CHECK(g.op(*g.find("layers.15.mlp.down_proj")).precision == Precision{16, 16, NumberFormat::bf16});  // bfloat16
  // Tied embeddings: the lookup is a gather, the table is the head's weight.
  CHECK(g.op(*g.find("embed.tokens")).kind() == OpKind::data_movement);
  CHECK(g.op(*g.find("lm_head")).params() == i64{128256} * 2048);
  CHECK(std::get<MatMul>(g.op(*g.find("lm_head")).shape).m == 1);

  // bert: post-norm, pooler on the first token, no cache.
  const Graph bert = read_transformer(kModels + "bert-base-uncased.json", opts(2, 8));
  const auto residual = *bert.find("layers.0.attn_residual");
  CHECK(bert.consumers(residual) == std::vector{*bert.find("layers.0.attn_norm")});
  CHECK(std::get<MatMul>(bert.op(*bert.find("pooler.dense")).shape).m == 2);
  CHECK_FALSE(bert.find("layers.0.attn.k_cache_write"));
  CHECK(bert.op(*bert.find("embed.tokens")).kind() == OpKind::embedding);

  // vit: patch embedding is a strided conv.
  const Graph vit = read_transformer(kModels + "vit-base-patch16-224.json");
  const auto& patch = std::get<Conv>(vit.op(*vit.find("embed.patch")).shape);
  CHECK(patch.stride_h == 16);
  CHECK(patch.p() == 14);
  CHECK(std::get<MatMul>(vit.op(*vit.find("classifier")).shape).n == 1000);
}

TEST_CASE("transformer: the front-end registry picks model configs", "[transformer]") {
  const Graph g = load_workload(kModels + "gpt2.json", opts(1, 32));
  CHECK(g.find("layers.11.mlp.down_proj"));
  CHECK(looks_like_model_config(kModels + "gpt2.json"));
  CHECK_FALSE(
      looks_like_model_config(std::string(TESSERA_SOURCE_DIR) + "/configs/workloads/lenet5.json"));
  CHECK_FALSE(looks_like_model_config("/nonexistent.json"));
  CHECK(frontends().get("json").accepts(std::string(TESSERA_SOURCE_DIR) +
                                        "/configs/workloads/lenet5.json"));
  CHECK_FALSE(frontends().get("json").accepts(kModels + "gpt2.json"));
  CHECK(frontends().get("transformer").accepts(kModels + "llama-1b.json"));
  // Unsupported model types are this front-end's to report.
  json t5 = json::parse(R"({"model_type": "t5", "d_model": 512})");
  CHECK_THROWS_WITH(load_workload(write_config("t5.json", t5)),
                    Contains("t5.json: /model_type: unsupported model_type 't5'"));
}

TEST_CASE("transformer: bad configs and options", "[transformer]") {
  auto fails = [](const std::string& name, const json& config, const std::string& message,
                  LoadOptions o = opts(1, 16)) {
    const std::string path = write_config(name, config);
    CHECK_THROWS_AS(read_transformer(path, o), InputError);
    CHECK_THROWS_WITH(read_transformer(path, o), Contains(path) && Contains(message));
  };
  json j = llama_json();
  j.erase("hidden_size");
  fails("missing.json", j, "missing required key 'hidden_size'");
  j = gpt2_json();
  j["n_head"] = 5;
  fails("heads.json", j, "/n_head: hidden size 64 is not divisible by 5 heads");
  j = llama_json();
  j["num_key_value_heads"] = 3;
  fails("kvheads.json", j, "/num_key_value_heads: 3 key/value heads must divide the 8");
  j = llama_json();
  j["intermediate_size"] = -4;
  fails("negative.json", j, "/intermediate_size: must be a positive integer, got -4");
  j = llama_json();
  j["vocab_size"] = "big";
  fails("type.json", j, "/vocab_size: expected an integer");
  j = llama_json();
  j["torch_dtype"] = "int4";
  fails("dtype.json", j, "/torch_dtype: 'int4' is not one of");
  j = llama_json();
  j.erase("model_type");
  fails("notype.json", j, "missing required key 'model_type'");
  j = llama_json();
  j["model_type"] = "mamba";
  fails("mamba.json", j, "/model_type: unsupported model_type 'mamba'");

  fails("long.json", llama_json(), "seq_len 65 exceeds the model's 64 positions", opts(1, 65));
  fails("longkv.json", llama_json(), "kv_len + 1 = 65 exceeds", opts(1, 8, "decode", 64));
  fails("phase.json", llama_json(), "phase must be \"prefill\" or \"decode\", got \"train\"",
        opts(1, 8, "train"));
  fails("batch.json", llama_json(), "batch must be >= 1", opts(0, 8));
  json enc = llama_json();
  enc["model_type"] = "bert";
  fails("encoder.json", enc, "phase \"decode\" needs a decoder model", opts(1, 8, "decode"));
}

namespace {

// The Llama-style families (mistral, mixtral, qwen2, phi3, gemma) with their sizes written out
// per model (from the shipped config files, not read through the builder).
struct Decoder {
  std::string file;
  i64 d, layers, heads, kv_heads, head_dim, ffn, vocab;
  bool tied, qkv_bias;
  i64 window = 0;              // sliding window; 0 = none
  i64 experts = 0, top_k = 0;  // mixture of experts
};

const Decoder kMistral{"mistral-7b.json", 4096, 32, 32, 8, 128, 14336, 32000, false, false, 4096};
const Decoder kQwen2{"qwen2-0.5b.json", 896, 24, 14, 2, 64, 4864, 151936, true, true};
const Decoder kPhi3{"phi-3-mini.json", 3072, 32, 32, 32, 96, 8192, 32064, false, false, 2047};
const Decoder kGemma{"gemma-2b.json", 2048, 18, 8, 1, 256, 16384, 256000, true, false};
const Decoder kMixtral{
    "mixtral-8x7b.json", 4096, 32, 32, 8, 128, 14336, 32000, false, false, 0, 8, 2};

// Parameters with `experts_used` experts per layer (all E for the checkpoint): embeddings (once
// if tied), per layer Q, K, V (+ biases), O, router, 3·d·F per expert or the dense gated MLP,
// two RMSNorms; the final norm.
i64 decoder_params(const Decoder& m, i64 experts_used) {
  const i64 dq = m.heads * m.head_dim, dkv = m.kv_heads * m.head_dim;
  const i64 attention = 2 * m.d * dq + 2 * m.d * dkv + (m.qkv_bias ? dq + 2 * dkv : 0);
  const i64 mlp = m.experts ? m.d * m.experts + experts_used * 3 * m.d * m.ffn : 3 * m.d * m.ffn;
  return m.vocab * m.d * (m.tied ? 1 : 2) + m.layers * (attention + mlp + 2 * m.d) + m.d;
}

// MACs of B sequences of s_q tokens attending t keys: projections, attention, the gated MLP of
// each token's k experts (or the dense MLP) and the router, the LM head on the last token.
i64 decoder_macs(const Decoder& m, i64 b, i64 s_q, i64 t) {
  const i64 dq = m.heads * m.head_dim, dkv = m.kv_heads * m.head_dim, rows = b * s_q;
  const i64 mlp =
      m.experts ? rows * (m.top_k * 3 * m.d * m.ffn + m.d * m.experts) : rows * 3 * m.d * m.ffn;
  return m.layers * (rows * (2 * m.d * dq + 2 * m.d * dkv) +
                     2 * b * m.heads * s_q * t * m.head_dim + mlp) +
         b * m.d * m.vocab;
}

}  // namespace

TEST_CASE("transformer: mistral, mixtral, qwen2, phi3 and gemma configs", "[transformer]") {
  // Parameter counts of the published checkpoints, as the Hugging Face model pages list them
  // (safetensors metadata) and the model announcements round them:
  //   Mistral-7B-v0.1 7,241,732,096 ("7.24B"); Qwen2-0.5B 494,032,768 ("0.49B");
  //   Phi-3-mini-4k-instruct 3,821,079,552 ("3.82B"); gemma-2b 2,506,172,416 ("2.51B");
  //   Mixtral-8x7B-v0.1 46,702,792,704 ("46.7B total, 12.9B active per token").
  CHECK(decoder_params(kMistral, 0) == 7'241'732'096);
  CHECK(decoder_params(kQwen2, 0) == 494'032'768);
  CHECK(decoder_params(kPhi3, 0) == 3'821'079'552);
  CHECK(decoder_params(kGemma, 0) == 2'506'172'416);
  CHECK(decoder_params(kMixtral, 8) == 46'702'792'704);
  // Active per token: two experts, the attention, embeddings and head.
  CHECK(std::llround(decoder_params(kMixtral, 2) / 1e8) == 129);

  for (const Decoder& m : {kMistral, kQwen2, kPhi3, kGemma, kMixtral}) {
    INFO(m.file);
    const auto c = read_transformer_config(kModels + m.file);
    CHECK(c.family == TransformerFamily::llama);
    CHECK(c.head_dim == m.head_dim);
    CHECK(c.kv_heads == m.kv_heads);
    CHECK(c.tied_embeddings == m.tied);
    CHECK(c.sliding_window == m.window);
    CHECK(c.experts == m.experts);
    // Prefill of 128 tokens: every expert is used (expected distinct experts rounds to E).
    const Graph pre = read_transformer(kModels + m.file, opts(1, 128));
    CHECK(pre.totals().params == decoder_params(m, m.experts));
    CHECK(pre.totals().weight_bytes == 2 * decoder_params(m, m.experts));
    CHECK(pre.totals().macs == decoder_macs(m, 1, 128, 128));
    // Decode at 5,000 cached tokens (phi3: 4,000, it has 4,096 positions): a sliding window
    // caps the keys attended and the cache read.
    const i64 L = m.file == kPhi3.file ? 4000 : 5000;
    for (i64 b : {1, 4}) {
      const Graph dec = read_transformer(kModels + m.file, opts(b, 16, "decode", L));
      const i64 t = m.window ? std::min<i64>(L + 1, m.window) : L + 1;
      CHECK(dec.totals().macs == decoder_macs(m, b, 1, t));
      CHECK(kv_bytes(dec).read == 2 * m.layers * b * t * m.kv_heads * m.head_dim * 2);
      CHECK(kv_bytes(dec).write == 2 * m.layers * b * m.kv_heads * m.head_dim * 2);
    }
  }

  // Family details: Qwen2's q/k/v biases, Phi-3's fused weights, Gemma's GeGLU, scaled
  // embeddings and multi-query attention.
  const Graph qwen = read_transformer(kModels + kQwen2.file, opts(1, 8));
  CHECK(std::get<MatMul>(qwen.op(*qwen.find("layers.0.attn.k_proj")).shape).bias);
  CHECK_FALSE(std::get<MatMul>(qwen.op(*qwen.find("layers.0.attn.o_proj")).shape).bias);
  const Graph phi = read_transformer(kModels + kPhi3.file, opts(1, 8));
  CHECK(std::get<MatMul>(phi.op(*phi.find("layers.0.attn.qkv_proj")).shape).n == 3 * 3072);
  CHECK(std::get<MatMul>(phi.op(*phi.find("layers.0.mlp.gate_up_proj")).shape).n == 2 * 8192);
  CHECK_FALSE(phi.find("layers.0.attn.q_proj"));
  const Graph gemma = read_transformer(kModels + kGemma.file, opts(1, 8, "decode", 100));
  CHECK(std::get<Elementwise>(gemma.op(*gemma.find("layers.0.mlp.act")).shape).function == "gelu");
  CHECK(gemma.find("embed.scale"));
  const auto& mqa = std::get<MatMul>(gemma.op(*gemma.find("layers.0.attn.scores")).shape);
  CHECK(mqa.batch == 1);  // one KV head read once for all 8 query heads
  CHECK(mqa.m == 8);
  // Qwen2 ignores its sliding_window unless use_sliding_window is set.
  json q = read_json_file(kModels + kQwen2.file);
  q["use_sliding_window"] = true;
  q["sliding_window"] = 64;
  CHECK(transformer_config_from_json(q, "q.json").sliding_window == 64);
}

TEST_CASE("transformer: mixture of experts load", "[transformer]") {
  // E·(1 − (1 − k/E)^tokens), rounded: 1 token uses exactly k experts.
  CHECK(expected_experts_touched(8, 2, 1) == 2);
  CHECK(expected_experts_touched(8, 2, 2) == 4);    // 8·(1 − 0.75²) = 3.5
  CHECK(expected_experts_touched(8, 2, 16) == 8);   // 7.92
  CHECK(expected_experts_touched(64, 8, 4) == 26);  // 64·(1 − 0.875⁴) = 26.48
  const std::string file = kModels + kMixtral.file;
  const i64 expert = 3 * 4096 * 14336;  // one expert's parameters
  const Graph b1 = read_transformer(file, opts(1, 16, "decode", 1000));
  CHECK(b1.totals().params == decoder_params(kMixtral, 2));
  CHECK(b1.find("layers.0.mlp.experts.1.down_proj"));
  CHECK_FALSE(b1.find("layers.0.mlp.experts.2.down_proj"));
  const Graph b16 = read_transformer(file, opts(16, 16, "decode", 1000));
  CHECK(b16.totals().params == decoder_params(kMixtral, 8));
  // The load as a setting: 4 distinct experts share the 32 choices of 16 tokens, 8 rows each.
  LoadOptions o = opts(16, 16, "decode", 1000);
  o.experts_touched = 4;
  const Graph four = read_transformer(file, o);
  CHECK(b16.totals().weight_bytes - four.totals().weight_bytes == 32 * 4 * expert * 2);
  CHECK(four.totals().macs == b16.totals().macs);  // the same tokens, fewer weights read
  CHECK(std::get<MatMul>(four.op(*four.find("layers.5.mlp.experts.3.up_proj")).shape).m == 8);
  o.experts_touched = 1;
  CHECK_THROWS_WITH(read_transformer(file, o), Contains("experts_touched must be in [2, 8]"));
}

TEST_CASE("transformer: sizes that would build more than 2^20 operators are refused first",
          "[transformer]") {
  // 2^40 layers would take terabytes to build; the first layer shows how many each has.
  json j = llama_json();
  j["num_hidden_layers"] = i64{1} << 40;
  const std::string path = write_config("layers_2p40.json", j);
  CHECK_THROWS_WITH(read_transformer(path, opts(1, 16)),
                    Contains(path + ": /num_hidden_layers: 1099511627776 layers of ") &&
                        Contains("operators each would build more than 2^20 operators"));
  j = gpt2_json();
  j["n_layer"] = 1000000;
  CHECK_THROWS_WITH(read_transformer(write_config("n_layer.json", j), opts(1, 16)),
                    Contains("/n_layer: 1000000 layers of"));
  // The largest count below the limit is built.
  j["n_layer"] = 1000;
  CHECK(read_transformer(write_config("n_layer_1000.json", j), opts(1, 16)).size() > 1000);
  // Experts: each one a token uses adds operators to every layer.
  j = llama_json();
  j["model_type"] = "mixtral";
  j["num_local_experts"] = i64{1} << 40;
  j["num_experts_per_tok"] = 2;
  const std::string moe = write_config("experts_2p40.json", j);
  CHECK_THROWS_WITH(read_transformer(moe, opts(1 << 20, 1)),
                    Contains(moe + ": /num_local_experts: 1099511627776 experts would build more "
                                   "than 2^20 operators"));
  CHECK(read_transformer(moe, opts(1, 1)).size() > 0);  // one token uses two experts
}
