// Serving LLM requests (docs/serving.md, "LLM requests"): each request is a prefill of its
// prompt, which produces its first token, then a decode step per further output token, its KV
// cache growing a token a step. Each unit runs iterations, one after another; an iteration serves
// one model: a prefill of newly admitted requests, one decode step of every running request, or
// with chunked prefill both at once, timed as the generation model times them
// (sim/generation.hpp: the same graphs, the same simulator).
//
// Units and models:
//  - A model is placed on the units llm.placement names (default: every unit). An arriving
//    request goes to one of its model's units (llm.dispatch): least_loaded (fewest requests
//    dispatched there and not done; ties: the first unit), round_robin (in turn, per model), or
//    random (uniform, from the scenario's seed: Poisson arrivals split this way stay Poisson).
//  - A unit serving several models runs one model's iteration at a time, the models taking turns
//    (round robin over the models that can run an iteration at that boundary; one with nothing
//    to run is skipped). Each model keeps its own waiting queue and batch.
//  - Each unit has its own KV cache: llm.kv_capacity_bytes, or llm.kv_capacity_tokens (a unit
//    of one model), or its DRAM capacity less the weights of the models placed on it. Models on
//    one unit share it, a request reserving its tokens x its model's KV bytes per token.
//  - Units are timed alone (their own memory system: iterations do not contend for a shared one).
//
// Batching:
//  - continuous (iteration-level, Orca and vLLM): at every iteration boundary waiting requests
//    are admitted, first come first served, while the model's running batch is below `size` and
//    the KV cache has room for the request's prompt + output tokens (reserved whole at admission,
//    so nothing is ever evicted); admitted requests run their prefill first (vLLM's default
//    schedule), then join the decode steps; finished requests leave at once.
//  - continuous with chunk_tokens (Sarathi-Serve's stall-free batching): an iteration carries at
//    most chunk_tokens tokens: one decode token of every running request, then the rest of the
//    budget as chunks of the admitted requests' prompts, in admission order (a prompt longer than
//    what is left is split over iterations). A request's first token comes at the end of the
//    iteration holding its prompt's last chunk; it decodes from the next one.
//  - none, static, dynamic (request-level): a batch is formed only when the previous one is
//    done (none: one request; static: `size` requests, fewer once the oldest waited timeout_s;
//    dynamic: whatever waits, up to `size`), within the same KV limit; it runs its prefill and its
//    decode steps until its longest request is done, finished requests leaving the steps.
//
// Costs:
//  - A prefill of k prompts p_i is the model at batch k and sequence length ceil(sum p_i / k)
//    (exact token count for the projections and MLPs, the mean length for attention); a decode
//    step of b requests with KV lengths l_i is batch b at KV length ceil(sum l_i / b) (the KV
//    bytes read are exact).
//  - A mixed iteration (chunked prefill) of b decode tokens and chunks c_j, chunk j following
//    L_j earlier tokens of its prompt, is the sum of: every operator other than attention of one
//    pass over N = b + sum c_j token rows (the generation model's graph of one sequence of N new
//    tokens: the weights are read once, the projections, MLPs and KV-cache writes are over N
//    rows), with the LM head over the rows that make a token (b, and each chunk that ends its
//    prompt); the attention (scores, softmax, context) of the decode step of the b requests, as
//    above; and per chunk the attention of c_j query tokens over the L_j cached keys of the
//    earlier chunks and the chunk's own (the generation model's decode graph of c_j tokens at KV
//    length L_j, whose products read the cache; L_j = 0: the prefill graph of c_j tokens).
//    Operators run one after another, so the parts' cycles add.
//  - Lengths (prompt, KV, chunk, N) are timed at multiples of llm.length_step and interpolated
//    linearly between them.
//
// Owns the LLM serving loop and its iteration cost table; includes serving/ and sim/.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "sim/simulate.hpp"

namespace tessera::serving {

// What an iteration of a model on one unit costs, memoised per graph shape.
class IterationCosts {
 public:
  struct Cost {
    double seconds = 0, energy_pj = 0;
  };
  // A chunk of a prompt in a mixed iteration: `tokens` of it after `before` earlier tokens;
  // `last`: it ends the prompt (its last token's logits make the first output token).
  struct Chunk {
    std::int64_t tokens = 0, before = 0;
    bool last = false;
  };
  IterationCosts(const Scenario& scenario, std::size_t model, std::size_t unit = 0);
  Cost prefill(std::int64_t batch, std::int64_t tokens_each);
  Cost decode(std::int64_t batch, std::int64_t kv_len);
  // A mixed iteration: one decode step of `batch` requests at mean KV length kv_len (batch 0:
  // none) and the chunks.
  Cost mixed(std::int64_t batch, std::int64_t kv_len, const std::vector<Chunk>& chunks);
  std::int64_t kv_bytes_per_token() const { return kv_bytes_per_token_; }
  std::int64_t weight_bytes() const { return weight_bytes_; }
  std::size_t computed() const { return memo_.size(); }
  double wall_s() const { return wall_s_; }

 private:
  enum class Graph { prefill, decode, chunk, rows };
  // Totals of a graph, and of its attention operators alone.
  struct Parts {
    Cost all, attention;
  };
  Parts exact(Graph kind, std::int64_t batch, std::int64_t a, std::int64_t b);
  const Scenario& s_;
  const Model& model_;
  std::size_t unit_;
  std::map<std::tuple<Graph, std::int64_t, std::int64_t, std::int64_t>, Parts> memo_;
  sim::MapCache cache_;
  std::int64_t kv_bytes_per_token_ = 0, weight_bytes_ = 0;
  double wall_s_ = 0;
};

// The serving run of a scenario whose streams are LLM streams (Scenario::serves_llm()).
ServingReport serve_llm(const Scenario& scenario, const ServeOptions& options);

}  // namespace tessera::serving
