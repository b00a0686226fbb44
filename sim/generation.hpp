// LLM generation as users measure it: the prefill of a prompt, then decode steps with the KV
// cache growing a token per step, timed step by step on one engine. Gives time to first token,
// time per output token (each step and the mean), tokens/s, energy per token and the KV
// footprint against the engine's on-chip buffers and DRAM capacity. Weight precision can follow
// the phase (PMPD: one precision for prefill, a schedule over decode steps) and decoding can be
// self-speculative (LayerSkip early exit). Steps share one map cache: only the attention
// operators, whose shapes follow the KV length, are mapped per step. Formulas and modelling
// choices: docs/transformers.md, "Generation".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulate.hpp"
#include "workloads/settings.hpp"
#include "workloads/transformer.hpp"

namespace tessera::sim {

using workloads::i64;

struct GenerationStep {
  i64 kv_len = 0;        // tokens in the cache before the step
  int weight_bits = 0;   // of the weight operators; 0: the operators' own (no schedule)
  u64 cycles = 0;        // the step, its weight switch included
  u64 switch_cycles = 0; // reloading the weights at a new precision before the step
  double energy_pj = 0;  // the step, its weight switch included
  u64 macs = 0;
};

struct EarlyExitResult {
  workloads::EarlyExitDecoding params;
  double tokens_per_round = 0;  // expected tokens per draft-and-verify round: (1 - a^(d+1)) / (1 - a)
  i64 rounds = 0;               // rounds simulated: ceil(steps / tokens_per_round)
  u64 draft_cycles = 0, verify_cycles = 0;  // over all rounds
  double energy_pj = 0;
  double seconds = 0;      // for the run's decode tokens: rounds' time x steps / (rounds x tokens)
  double tokens_per_s = 0; // batch x steps / seconds
  double speedup = 0;      // plain decoding's time for the same tokens / seconds
};

struct GenerationResult {
  i64 batch = 1, prompt = 0, steps = 0;
  double clock_hz = 0;
  workloads::Graph prefill_graph;
  std::vector<LayerResult> prefill;  // per layer
  int prefill_weight_bits = 0;       // 0: the operators' own
  u64 prefill_cycles = 0;
  double prefill_energy_pj = 0;
  std::vector<GenerationStep> decode;
  u64 kv_bytes_per_token = 0;  // K and V of every layer for one token of one sequence
  u64 kv_bytes = 0;            // at the end: batch x (prompt + steps) tokens
  u64 weight_bytes = 0;        // the largest weight set the run reads
  u64 on_chip_bytes = 0;       // Engine::on_chip_bytes
  u64 dram_capacity_bytes = 0;
  bool nested_weights = false;
  std::optional<EarlyExitResult> early_exit;
  std::size_t plans_mapped = 0;  // distinct operators mapped over the run
  u64 plan_reuses = 0;           // operators whose mapping came from the cache

  u64 decode_cycles() const;
  double decode_energy_pj() const;
  double ttft_s() const { return static_cast<double>(prefill_cycles) / clock_hz; }
  double tpot_s(std::size_t step) const { return static_cast<double>(decode[step].cycles) / clock_hz; }
  double tpot_mean_s() const;
  double total_s() const { return static_cast<double>(prefill_cycles + decode_cycles()) / clock_hz; }
  // Generated tokens: the prefill's and one per decode step, for every sequence.
  i64 tokens() const { return batch * (steps + 1); }
  double tokens_per_s() const { return static_cast<double>(tokens()) / total_s(); }
  double decode_tokens_per_s() const;  // batch x steps / decode time
  double energy_per_token_pj() const {
    return (prefill_energy_pj + decode_energy_pj()) / static_cast<double>(tokens());
  }
};

struct GenerationOptions {
  std::string fidelity = "analytical";  // a sim::fidelities() name
  // false: a fresh map cache for every step (the baseline plan sharing is measured against).
  bool share_plans = true;
  std::function<void(i64 done, i64 total)> progress;  // after each simulated step
};

// Runs settings.generation on `config` (read from `file`, which prefixes messages): the prefill
// of settings.load's seq_len tokens and batch, then the decode steps. Throws InputError for an
// encoder, phase or kv_len settings (a generation sets them itself), a schedule or early exit
// that does not fit the model, and a KV cache that with the weights exceeds dram.capacity.
GenerationResult simulate_generation(const arch::Engine& engine,
                                     const workloads::TransformerConfig& config,
                                     const std::string& file,
                                     const workloads::WorkloadSettings& settings,
                                     const GenerationOptions& options = {});

// The graph of one decode step of `config` as a generation builds it: `decode_tokens` new tokens
// per sequence against `kv_len` cached ones, settings' annotations applied, weight operators at
// `weight_bits` (0: as annotated); with decode_tokens > 1 the LM head computes every new token's
// logits (a verify pass). `whole_model` false: `config` is the part of the model before or after an
// early exit, and per-layer settings for the other part's layers are not errors.
workloads::Graph decode_graph(const workloads::TransformerConfig& config, const std::string& file,
                              const workloads::WorkloadSettings& settings, i64 kv_len,
                              int weight_bits, i64 decode_tokens = 1, bool whole_model = true);

// The report's "generation" section (docs/report-schema.md).
nlohmann::json to_json(const GenerationResult& result);

}  // namespace tessera::sim
