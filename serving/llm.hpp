// LLM requests in a serving scenario (docs/serving.md, "LLM requests"): a stream whose requests
// carry a prompt and an output length (fixed, drawn from a distribution, or read in turn from a
// trace CSV), served by a decoder transformer config (configs/models/) whose prefill and decode
// steps are the generation model's (sim/generation.hpp), batched per iteration.
//
// Owns the LLM parts of a scenario and their reader; includes workloads/ and common/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "workloads/settings.hpp"
#include "workloads/transformer.hpp"

namespace tessera::serving {

// A per-request token count: a fixed number, or drawn uniformly from [min, max], from a Zipf
// law over [min, max] (P(min + k) proportional to 1 / (k + 1)^theta), or geometric: min + G,
// G on 0, 1, ... with mean `mean` - min (the discrete exponential), at most max.
struct TokenCount {
  enum class Kind { fixed, uniform, zipf, geometric };
  Kind kind = Kind::fixed;
  std::int64_t value = 0, min = 0, max = 0;
  double theta = 1, mean = 0;
  std::int64_t largest() const { return kind == Kind::fixed ? value : max; }
};

// The token lengths of a stream's requests. Output tokens count the first one, which the prefill
// produces (as Vidur's num_decode_tokens does): a request of n output tokens takes its prefill
// and n - 1 decode iterations.
struct TokenLengths {
  TokenCount prompt, output;
  // A trace (prompt, output) per request, used in turn and from the start again when the
  // stream has more requests; empty: the counts above.
  std::vector<std::pair<std::int64_t, std::int64_t>> trace;
  std::string trace_file;
};

// The decoder a model entry names, with its workload settings (annotations, kv_bits, ...); the
// serving run sets batch, seq_len, phase and kv_len per iteration.
struct LlmModel {
  workloads::TransformerConfig config;
  workloads::WorkloadSettings settings;
};

// How an arriving request picks one of the units its model is placed on.
enum class Dispatch { least_loaded, round_robin, random };

// The scenario's "llm" object.
struct LlmSettings {
  // Per unit, the KV cache over all its running requests: in tokens (a unit serving one model),
  // or in bytes; neither: the unit's DRAM capacity less the weights of the models placed on it.
  std::optional<std::int64_t> kv_capacity_tokens, kv_capacity_bytes;
  // Prompt and KV lengths are timed exactly at multiples of this and linearly interpolated
  // between them (1: every length timed exactly).
  std::int64_t length_step = 16;
  // Model name -> the names of the units that serve it; a model not named: every unit.
  std::vector<std::pair<std::string, std::vector<std::string>>> placement;
  Dispatch dispatch = Dispatch::least_loaded;
};

std::string to_string(Dispatch d);

// True when a stream object has any token-length key (prompt_tokens, output_tokens,
// tokens_trace): it is an LLM stream.
bool is_llm_stream(ParamReader& stream);
// Reads prompt_tokens, output_tokens or tokens_trace (a CSV with columns prompt_tokens and
// output_tokens, or Vidur's num_prefill_tokens and num_decode_tokens); `dir` anchors the file.
TokenLengths read_token_lengths(ParamReader& stream, const nlohmann::json& node,
                                const std::string& dir);
LlmSettings read_llm_settings(ParamReader r);

}  // namespace tessera::serving
