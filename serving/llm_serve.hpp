// Serving LLM requests (docs/serving.md, "LLM requests"): each request is a prefill of its
// prompt, which produces its first token, then a decode step per further output token, its KV
// cache growing a token a step. One accelerator runs iterations; each is a prefill of newly
// admitted requests or one decode step of every running request, timed as the generation model
// times them (sim/generation.hpp: the same graphs, the same simulator).
//
// Batching:
//  - continuous (iteration-level, Orca and vLLM): at every iteration boundary waiting requests
//    are admitted, first come first served, while the running batch is below `size` and the KV
//    cache has room for the request's prompt + output tokens (reserved whole at admission, so
//    nothing is ever evicted); admitted requests run their prefill first (vLLM's default
//    schedule), then join the decode steps; finished requests leave at once.
//  - none, static, dynamic (request-level): a batch is formed only when the previous one is
//    done (none: one request; static: `size` requests, fewer once the oldest waited timeout_s;
//    dynamic: whatever waits, up to `size`), within the same KV limit; it runs its prefill and its
//    decode steps until its longest request is done, finished requests leaving the steps.
//  - A prefill of k prompts p_i is the model at batch k and sequence length ceil(sum p_i / k)
//    (exact token count for the projections and MLPs, the mean length for attention); a decode
//    step of b requests with KV lengths l_i is batch b at KV length ceil(sum l_i / b) (the KV
//    bytes read are exact). Lengths are timed at multiples of the scenario's llm.length_step and
//    interpolated linearly between them.
//
// Owns the LLM serving loop and its iteration cost table; includes serving/ and sim/.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>

#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "sim/simulate.hpp"

namespace tessera::serving {

// What an iteration of the model on the scenario's unit costs, memoised per (phase, batch,
// length).
class IterationCosts {
 public:
  struct Cost {
    double seconds = 0, energy_pj = 0;
  };
  IterationCosts(const Scenario& scenario, std::size_t model);
  Cost prefill(std::int64_t batch, std::int64_t tokens_each);
  Cost decode(std::int64_t batch, std::int64_t kv_len);
  std::int64_t kv_bytes_per_token() const { return kv_bytes_per_token_; }
  std::int64_t weight_bytes() const { return weight_bytes_; }
  std::size_t computed() const { return memo_.size(); }
  double wall_s() const { return wall_s_; }

 private:
  Cost grid(bool prefill, std::int64_t batch, std::int64_t len);
  Cost exact(bool prefill, std::int64_t batch, std::int64_t len);
  const Scenario& s_;
  const Model& model_;
  std::map<std::tuple<bool, std::int64_t, std::int64_t>, Cost> memo_;
  sim::MapCache cache_;
  std::int64_t kv_bytes_per_token_ = 0, weight_bytes_ = 0;
  double wall_s_ = 0;
};

// The serving run of a scenario whose streams are LLM streams (Scenario::serves_llm()).
ServingReport serve_llm(const Scenario& scenario, const ServeOptions& options);

}  // namespace tessera::serving
