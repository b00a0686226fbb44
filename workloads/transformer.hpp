// Transformer graphs from a Hugging Face-style config.json (model_type bert, roberta, gpt2,
// llama, mistral, mixtral, qwen2, phi3, gemma, vit): embeddings, every layer's attention (with
// the KV cache as an operand of the attention products) and MLP or mixture of experts, the final
// norm and the head, for a prefill (whole prompt) or decode (one new token against a KV cache)
// step. Formulas, defaults and modelling choices: docs/transformers.md.
#pragma once

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "workloads/frontend.hpp"

namespace tessera::workloads {

// llama covers the Llama-style decoders (RoPE, RMSNorm, gated MLP): llama, mistral, mixtral,
// qwen2, phi3 and gemma, whose differences are the fields below.
enum class TransformerFamily { bert, gpt2, llama, vit };

// The sizes a config describes, with each family's key names and defaults resolved.
struct TransformerConfig {
  std::string model_type;  // as written in the file
  TransformerFamily family = TransformerFamily::llama;
  i64 hidden = 0;  // d
  i64 layers = 0;
  // The index of the first layer built: the layers past an early exit (the model's tail) keep
  // their names (layers.E, ...), so per-layer settings meet the layers they name.
  i64 first_layer = 0;
  i64 heads = 0;          // query heads h
  i64 kv_heads = 0;       // key/value heads (grouped-query attention when < heads)
  i64 head_dim = 0;       // d_head (default hidden / heads)
  i64 intermediate = 0;   // MLP width
  i64 vocab = 0;          // 0 for vit
  i64 max_positions = 0;  // learned position table rows (bert, gpt2) or context limit (llama)
  i64 type_vocab = 0;     // bert token-type table rows
  i64 image_size = 0, patch_size = 0, channels = 0;  // vit
  i64 num_labels = 0;            // classifier outputs; 0 = no classifier (see docs/transformers.md)
  bool tied_embeddings = false;  // LM head shares the token-embedding table (gpt2, llama)
  bool gated_mlp = false;        // gate/up/down (llama-style: SiLU, GeGLU for gemma)
  bool qkv_bias = true, out_bias = true, mlp_bias = true;
  bool rms_norm = false;  // RMSNorm (llama) instead of LayerNorm
  bool pre_norm = true;   // norm before attention/MLP (all but bert)
  std::string activation = "gelu";
  int bits = 16;  // weight and activation precision, from torch_dtype (default 16)
  i64 sliding_window = 0;          // keys a query attends at most (mistral); 0 = all
  bool fused_projections = false;  // one qkv_proj and one gate_up_proj weight (phi3)
  bool scaled_embedding = false;   // embeddings multiplied by sqrt(hidden) (gemma)
  i64 experts = 0;            // mixture of experts (mixtral): E experts per layer; 0 = dense MLP
  i64 experts_per_token = 0;  // top-k experts each token uses
  // Their arithmetic, from torch_dtype: fp16 (default), bf16, fp32; float64 stays integer 64
  // (the technology tables have no fp64 MAC).
  NumberFormat format = NumberFormat::fp16;

  bool decoder() const {
    return family == TransformerFamily::gpt2 || family == TransformerFamily::llama;
  }
  i64 q_dim() const { return size_product({heads, head_dim}); }
  i64 kv_dim() const { return size_product({kv_heads, head_dim}); }
  // Keys a decode step attends with `cached` tokens in the cache: the cache plus the new token,
  // capped by the sliding window.
  i64 attended(i64 cached) const {
    return sliding_window > 0 ? std::min(cached + 1, sliding_window) : cached + 1;
  }
  // Tokens per sequence of a vit image: (image_size / patch_size)^2 + 1 class token.
  i64 vit_tokens() const {
    return size_product({image_size / patch_size, image_size / patch_size}) + 1;
  }
};

// Default prompt length for bert, gpt2 and llama when LoadOptions::seq_len is absent.
inline constexpr i64 kDefaultSeqLen = 128;

// Reads the sizes from a parsed config.json; errors name `file` and the JSON path.
TransformerConfig transformer_config_from_json(const nlohmann::json& config,
                                               const std::string& file);
TransformerConfig read_transformer_config(const std::string& path);

// Expected number of distinct experts `tokens` tokens use when each picks `k` of `experts`
// uniformly at random: E·(1 − (1 − k/E)^tokens), rounded to the nearest integer and at least k.
i64 expected_experts_touched(i64 experts, i64 k, i64 tokens);

// Builds the graph of one forward step; `file` prefixes every operator's source.
Graph build_transformer(const TransformerConfig& config, const std::string& file,
                        const LoadOptions& options = {});

// read_transformer_config + build_transformer.
Graph read_transformer(const std::string& path, const LoadOptions& options = {});

// True if `path` holds a JSON object with a top-level "model_type" (a model config, not a
// Tessera workload). Never throws.
bool looks_like_model_config(const std::string& path);

}  // namespace tessera::workloads
