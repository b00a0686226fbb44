// LLM requests in a serving run against the generation model and hand-worked cases: one request
// alone sees `simulate --generate`'s TTFT and TPOT; continuous (iteration-level) batching beats
// request-level batching on throughput when output lengths differ; the KV cache's capacity bounds
// the running batch; the scenario reader's LLM errors.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "serving/llm_serve.hpp"
#include "serving/scenario.hpp"
#include "serving/serve.hpp"
#include "sim/generation.hpp"
#include "sim/metrics.hpp"
#include "test_support.hpp"

using namespace tessera;
using namespace tessera::serving;
using Catch::Contains;
using json = nlohmann::json;

namespace {

// Llama-3.2-1B on the 32x32 systolic array; every request arrives at the times given.
json llm_doc(json streams, json extra = json::object()) {
  json d = {{"format", "tessera.scenario"},
            {"accelerator", {{"arch", "configs/arch/systolic_edge_32x32.json"}}},
            {"models", {{"llama", {{"workload", "configs/models/llama-1b.json"}}}}},
            {"streams", std::move(streams)},
            {"batching", {{"mode", "continuous"}, {"size", 8}}},
            {"requests", 1000}};
  for (auto& [k, v] : extra.items()) d[k] = v;
  return d;
}

json at_zero(int n) { return {{"process", "trace"}, {"times_s", std::vector<double>(static_cast<std::size_t>(n), 0.0)}}; }

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

Scenario make(const json& doc) { return read_scenario(doc, "llm.json", TESSERA_SOURCE_DIR); }

}  // namespace

TEST_CASE("one LLM request alone: TTFT and TPOT of simulate --generate", "[serving][llm]") {
  // Prompt 32, 6 output tokens: the prefill makes the first, then 5 decode steps
  // (`tessera simulate --workload configs/models/llama-1b.json --generate 5 --prompt 32`).
  const std::string model = test::source_path("configs/models/llama-1b.json");
  const auto arch = arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"));
  const sim::GenerationResult g = sim::simulate_generation(
      *arch.engine, workloads::read_transformer_config(model), model,
      workloads::read_workload_settings(json{{"seq_len", 32}, {"generate", 5}}, "settings.json"));
  REQUIRE(g.decode.size() == 5);
  const json stream = {{"model", "llama"}, {"arrival", at_zero(1)}, {"prompt_tokens", 32},
                       {"output_tokens", 6}};
  // Every length timed exactly: the same graphs and simulator, so the same times.
  const ServingReport exact = serve(make(llm_doc(json::array({stream}), {{"llm", {{"length_step", 1}}}})));
  REQUIRE(exact.summary.requests == 1);
  const auto& q = exact.requests[0];
  CHECK(q.first_token_s - q.arrival_s == Approx(g.ttft_s()).epsilon(1e-12));
  CHECK(exact.summary.mean_ttft_s == Approx(g.ttft_s()).epsilon(1e-12));
  CHECK(exact.summary.p99_tpot_s == Approx(g.tpot_mean_s()).epsilon(1e-12));
  CHECK(q.end_s - q.arrival_s == Approx(g.total_s()).epsilon(1e-12));
  CHECK(exact.summary.output_tokens == 6);
  CHECK(exact.iterations == 6);
  // The default grid (16 tokens) interpolates the KV lengths 33..36 between 32 and 48: the
  // attention of a decode step grows linearly with the cache, so the mean step differs little
  // (measured: 6e-7 relative).
  const ServingReport grid = serve(make(llm_doc(json::array({stream}))));
  CHECK(grid.summary.mean_ttft_s == Approx(g.ttft_s()).epsilon(1e-12));  // 32 is on the grid
  CHECK(grid.summary.mean_tpot_s == Approx(g.tpot_mean_s()).epsilon(1e-5));
}

TEST_CASE("continuous batching beats request-level batching when outputs differ", "[serving][llm]") {
  // Eight requests at time 0, prompt 16, output tokens 64, 4, 4, 4 (a trace of four rows, used
  // twice); at most 4 run at once. Request-level (dynamic) batching keeps three slots idle for
  // 60 decode steps while the first long request finishes, then runs the second batch, whose long
  // request takes as long again: about twice the first batch's time. Continuous batching refills
  // the three slots at once, so the second long request runs beside the first: the run takes a
  // little more than one long request (measured 13.5 s against 24.9 s, 1.85x the throughput).
  const json stream = {{"model", "llama"}, {"arrival", at_zero(8)},
                       {"tokens_trace", write_temp("tessera_llm_lengths.csv",
                                                   "prompt_tokens,output_tokens\n16,64\n16,4\n16,4\n16,4\n")}};
  const auto run = [&](const std::string& mode) {
    return serve(make(llm_doc(json::array({stream}), {{"batching", {{"mode", mode}, {"size", 4}}}})));
  };
  const ServingReport cont = run("continuous"), req = run("dynamic");
  REQUIRE(cont.summary.requests == 8);
  REQUIRE(req.summary.output_tokens == 2 * (64 + 3 * 4));
  INFO("continuous span " << cont.span_s << " request-level span " << req.span_s);
  CHECK(cont.summary.output_tokens_per_s > 1.5 * req.summary.output_tokens_per_s);
  CHECK(cont.summary.throughput_rps > 1.5 * req.summary.throughput_rps);
  CHECK(cont.summary.mean_latency_s < req.summary.mean_latency_s);
  // Request-level: the second batch starts when the first long request ends.
  for (int i : {4, 5, 6, 7}) CHECK(req.requests[i].start_s == req.requests[0].end_s);
  // Continuous: requests 4-6 start when the short requests 1-3 end, long before the long one.
  for (int i : {4, 5, 6}) CHECK(cont.requests[i].start_s == cont.requests[1].end_s);
  CHECK(cont.requests[7].end_s < cont.requests[0].end_s);
  CHECK(cont.requests[4].start_s < 0.1 * cont.requests[0].end_s);
}

TEST_CASE("the KV cache's capacity bounds the running batch", "[serving][llm]") {
  // 10 requests at time 0 of 20 prompt + 10 output tokens: each reserves 30 tokens, so a cache
  // of 100 tokens runs 3 at a time (90; a fourth would need 120) although the batch allows 8.
  const json stream = {{"model", "llama"}, {"arrival", at_zero(10)}, {"prompt_tokens", 20},
                       {"output_tokens", 10}};
  const ServingReport r = serve(make(llm_doc(json::array({stream}), {{"llm", {{"kv_capacity_tokens", 100}}}})));
  REQUIRE(r.summary.requests == 10);
  CHECK(r.kv_capacity_tokens == 100);
  CHECK(r.kv_peak_tokens == 90);
  // Three batches of three (a prefill and 9 decode steps each), then the last request alone.
  for (int i : {0, 1, 2}) CHECK(r.requests[i].start_s == 0);
  for (int i : {3, 4, 5}) CHECK(r.requests[i].start_s == r.requests[0].end_s);
  for (int i : {6, 7, 8}) CHECK(r.requests[i].start_s == r.requests[3].end_s);
  CHECK(r.requests[9].start_s == r.requests[6].end_s);
  CHECK(r.iterations == 4 * 10);
  CHECK(r.summary.mean_batch == Approx((9 * 3.0 + 1) / 10));
  // Without the limit all 8 slots fill at once; the default capacity is what DRAM leaves after
  // the weights, at 2 (K, V) x 16 layers x 8 KV heads x 64 x 2 bytes = 32 KiB per token.
  const ServingReport free = serve(make(llm_doc(json::array({stream}))));
  CHECK(free.kv_peak_tokens == 8 * 30);
  IterationCosts costs(make(llm_doc(json::array({stream}))), 0);
  CHECK(costs.kv_bytes_per_token() == 2 * 16 * 8 * 64 * 2);
  CHECK(free.kv_capacity_tokens == ((std::int64_t{16} << 30) - costs.weight_bytes()) / 32768);
}

TEST_CASE("LLM streams: the scenario reader names the file and JSON path", "[serving][llm]") {
  const json ok = {{"model", "llama"}, {"arrival", at_zero(1)}, {"prompt_tokens", 8}, {"output_tokens", 4}};
  const auto error = [&](json stream, json extra = json::object()) {
    return [=] { (void)make(llm_doc(json::array({stream}), extra)); };
  };
  json s = ok;
  s.erase("output_tokens");
  CHECK_THROWS_WITH(error(s)(), Contains("llm.json: /streams/0: an LLM stream gives prompt_tokens and output_tokens"));
  s = ok;
  s["prompt_tokens"] = {{"distribution", "uniform"}, {"min", 10}, {"max", 5}};
  CHECK_THROWS_WITH(error(s)(), Contains("/streams/0/prompt_tokens/max: must be at least min"));
  s = ok;
  s["prompt_tokens"] = 200000;
  CHECK_THROWS_WITH(error(s)(), Contains("exceed the model's 131072 positions"));
  CHECK_THROWS_WITH(error(ok, {{"policy", "edf"}})(), Contains("/policy: LLM requests are admitted first come"));
  // A request larger than the whole cache: found when its lengths are drawn, at the run's start.
  CHECK_THROWS_WITH(serve(make(llm_doc(json::array({ok}), {{"llm", {{"kv_capacity_tokens", 10}}}}))),
                    Contains("llm.json: /streams/0: a request of 8 prompt + 4 output tokens does not fit the KV cache of 10 tokens"));
  json lenet = llm_doc(json::array({ok}));
  lenet["models"]["llama"]["workload"] = "configs/workloads/lenet5.json";
  CHECK_THROWS_WITH(make(lenet), Contains("/streams/0/model: an LLM stream needs a decoder transformer config"));
  const std::string bad = write_temp("tessera_llm_bad_lengths.csv", "prompt_tokens,output_tokens\n16,4\n16,x\n");
  s = ok;
  s.erase("prompt_tokens");
  s.erase("output_tokens");
  s["tokens_trace"] = bad;
  CHECK_THROWS_WITH(error(s)(), Contains("data row 2: output_tokens must be a whole number"));
}

TEST_CASE("LLM serving metrics are rows of the metric table", "[serving][llm]") {
  const json stream = {{"model", "llama"}, {"arrival", {{"process", "poisson"}, {"rate_per_s", 50}}},
                       {"prompt_tokens", {{"distribution", "uniform"}, {"min", 8}, {"max", 40}}},
                       {"output_tokens", {{"distribution", "zipf"}, {"min", 2}, {"max", 20}, {"theta", 1.2}}}};
  const ServingReport r = serve(make(llm_doc(json::array({stream}), {{"requests", 40}})));
  const auto values = metric_values(r);
  for (const char* m : {"p99_ttft_s", "p99_tpot_s", "output_tokens_per_s"}) CHECK(values.count(m) == 1);
  for (const auto& [name, value] : values) {
    INFO(name);
    CHECK(sim::find_metric(name) != nullptr);
    CHECK(std::isfinite(value));
  }
  CHECK(r.summary.p50_ttft_s <= r.summary.p99_ttft_s);
  CHECK(r.summary.p99_tpot_s > 0);
  const json j = to_json(r, true);
  CHECK(j["summary"]["ttft_s"]["p99"].get<double>() == r.summary.p99_ttft_s);
  CHECK(j["requests"]["output_tokens"].size() == 40);
}

TEST_CASE("chunked prefill: one request alone takes its prompt in chunks", "[serving][llm][chunked]") {
  // Prompt 100, 4 output tokens, chunks of at most 32 tokens: iterations of 32, 32, 32 and 4
  // prompt tokens (after 0, 32, 64 and 96 earlier ones; the last makes the first token), then 3
  // decode steps at KV lengths 100, 101, 102.
  const json stream = {{"model", "llama"}, {"arrival", at_zero(1)}, {"prompt_tokens", 100},
                       {"output_tokens", 4}};
  const json chunked = {{"mode", "continuous"}, {"size", 8}, {"chunk_tokens", 32}};
  const Scenario s = make(llm_doc(json::array({stream}), {{"batching", chunked}}));
  const ServingReport r = serve(s);
  REQUIRE(r.summary.requests == 1);
  CHECK(r.iterations == 4 + 3);
  CHECK(r.prefill_tokens == 100);
  CHECK(r.chunk_tokens == 32);
  IterationCosts costs(s, 0);
  double ttft = 0;
  for (std::int64_t before : {0, 32, 64}) ttft += costs.mixed(0, 0, {{32, before, false}}).seconds;
  ttft += costs.mixed(0, 0, {{4, 96, true}}).seconds;
  const auto& q = r.requests[0];
  CHECK(q.first_token_s - q.arrival_s == Approx(ttft).epsilon(1e-12));
  const double decode = costs.decode(1, 100).seconds + costs.decode(1, 101).seconds + costs.decode(1, 102).seconds;
  CHECK(q.end_s - q.first_token_s == Approx(decode).epsilon(1e-12));
  // Each chunk reads the weights again, so four chunks take longer than the whole prompt at once;
  // and a later chunk's attention reads the earlier chunks' keys: it costs more than the first.
  const ServingReport whole = serve(make(llm_doc(json::array({stream}))));
  CHECK(ttft > whole.summary.mean_ttft_s);
  CHECK(costs.mixed(0, 0, {{32, 64, false}}).seconds > costs.mixed(0, 0, {{32, 0, false}}).seconds);
  // A whole prompt as one chunk is a prefill: the same operators, the attention from the prefill
  // graph and every other operator from one pass over its rows (measured equal to 1e-9).
  for (std::int64_t p : {16, 32, 100})
    CHECK(costs.mixed(0, 0, {{p, 0, true}}).seconds == Approx(costs.prefill(1, p).seconds).epsilon(1e-9));
  // A decode step written as a mixed iteration without chunks is the decode step.
  CHECK(costs.mixed(4, 48, {}).seconds == Approx(costs.decode(4, 48).seconds).epsilon(1e-9));
  // Decode tokens ride along with a chunk: the mixed iteration reads the weights once, so it
  // takes less than the decode step and the chunk apart, and more than either.
  const double both = costs.mixed(4, 48, {{124, 32, false}}).seconds;
  const double step = costs.decode(4, 48).seconds, part = costs.mixed(0, 0, {{124, 32, false}}).seconds;
  INFO("mixed " << both << " s, decode " << step << " s, chunk " << part << " s");
  CHECK(both < step + part);
  CHECK(both > std::max(step, part));
}

TEST_CASE("chunked prefill stretches the running requests' tokens less", "[serving][llm][chunked]") {
  // Four requests of 16 prompt + 40 output tokens decode from time 0; a prompt of 1,500 tokens
  // arrives at 1 s. Without chunks the four stop for its whole prefill (one token gap of a
  // 1,500-token prefill); with chunks of 128 tokens each of their iterations carries at most 124
  // prompt tokens beside their 4 decode tokens, so no gap is longer than such an iteration.
  const json decoders = {{"name", "decoders"}, {"model", "llama"}, {"arrival", at_zero(4)},
                         {"prompt_tokens", 16}, {"output_tokens", 40}};
  const json longer = {{"name", "long"}, {"model", "llama"},
                       {"arrival", {{"process", "trace"}, {"times_s", {1.0}}}},
                       {"prompt_tokens", 1500}, {"output_tokens", 2}};
  const auto run = [&](json streams, std::int64_t chunk) {
    json b = {{"mode", "continuous"}, {"size", 8}};
    if (chunk > 0) b["chunk_tokens"] = chunk;
    return serve(make(llm_doc(std::move(streams), {{"batching", b}})));
  };
  const ServingReport alone = run(json::array({decoders}), 0);
  const ServingReport whole = run(json::array({decoders, longer}), 0);
  const ServingReport chunked = run(json::array({decoders, longer}), 128);
  REQUIRE(chunked.summary.requests == 5);
  const auto& w = whole.streams[0];
  const auto& c = chunked.streams[0];
  INFO("TPOT p99 ms: alone " << 1e3 * alone.streams[0].p99_tpot_s << ", whole prompt " << 1e3 * w.p99_tpot_s
                             << ", chunked " << 1e3 * c.p99_tpot_s);
  CHECK(c.p99_tpot_s < w.p99_tpot_s);
  CHECK(c.mean_tpot_s < w.mean_tpot_s);
  // Never below the bound: no request decodes faster than with nobody else's prompt.
  for (std::size_t i = 0; i < 4; ++i) {
    const auto tpot = [&](const ServingReport& r) {
      return (r.requests[i].end_s - r.requests[i].first_token_s) / 39;
    };
    CHECK(tpot(chunked) >= tpot(alone) * (1 - 1e-12));
    CHECK(tpot(whole) >= tpot(alone) * (1 - 1e-12));
  }
  // The long prompt's first token comes later in chunks (each chunk reads the weights again).
  CHECK(chunked.streams[1].mean_ttft_s > whole.streams[1].mean_ttft_s);
  // Tokens are conserved: every prompt token prefilled once, every output token made.
  for (const ServingReport* r : {&whole, &chunked}) {
    CHECK(r->prefill_tokens == 4 * 16 + 1500);
    CHECK(r->summary.output_tokens == 4 * 40 + 2);
  }
  // 1,500 prompt tokens in chunks of at most 128 - 4 beside the decode steps: at least 13
  // iterations carry some of it; the decoders' 39 steps each are in the others or in those.
  CHECK(chunked.iterations >= 13);
}

TEST_CASE("chunked prefill conserves tokens under random load", "[serving][llm][chunked]") {
  const json stream = {{"model", "llama"}, {"arrival", {{"process", "poisson"}, {"rate_per_s", 4}}},
                       {"prompt_tokens", {{"distribution", "uniform"}, {"min", 1}, {"max", 300}}},
                       {"output_tokens", {{"distribution", "geometric"}, {"mean", 8}, {"max", 40}}}};
  for (std::int64_t chunk : {8, 50, 256}) {
    const ServingReport r = serve(make(llm_doc(
        json::array({stream}), {{"requests", 60}, {"batching", {{"mode", "continuous"}, {"size", 8}, {"chunk_tokens", chunk}}},
                                {"llm", {{"kv_capacity_tokens", 1200}}}})));
    INFO("chunk " << chunk);
    std::int64_t prompts = 0, outputs = 0;
    for (const auto& q : r.requests) {
      prompts += q.prompt_tokens;
      outputs += q.output_tokens;
      CHECK(q.start_s >= q.arrival_s);
      CHECK(q.first_token_s > q.start_s);
      CHECK(q.end_s >= q.first_token_s);
    }
    CHECK(r.prefill_tokens == prompts);
    CHECK(r.summary.output_tokens == outputs);
    CHECK(r.kv_peak_tokens <= 1200);
  }
}

namespace {

// Llama-3.2-1B and Qwen2-0.5B (models are read in name order: llama first).
json two_models() {
  return {{"llama", {{"workload", "configs/models/llama-1b.json"}}},
          {"qwen", {{"workload", "configs/models/qwen2-0.5b.json"}}}};
}

// `n` sub-accelerators u0, u1, ... of the 32x32 systolic array.
json replicas(int n) {
  json units = json::array();
  for (int i = 0; i < n; ++i)
    units.push_back({{"name", "u" + std::to_string(i)}, {"arch", "configs/arch/systolic_edge_32x32.json"}});
  return {{"sub_accelerators", units}};
}

}  // namespace

TEST_CASE("two LLM models on one accelerator take turns by iteration", "[serving][llm][multi_model]") {
  // One request of each model at time 0, prompt 16 and 3 output tokens. Iterations alternate
  // between the models with work, llama first: llama's prefill, qwen's prefill, then their
  // decode steps in turn (KV lengths 16, then 17).
  const json a = {{"name", "a"}, {"model", "llama"}, {"arrival", at_zero(1)}, {"prompt_tokens", 16}, {"output_tokens", 3}};
  const json q = {{"name", "q"}, {"model", "qwen"}, {"arrival", at_zero(1)}, {"prompt_tokens", 16}, {"output_tokens", 3}};
  const Scenario s = make(llm_doc(json::array({a, q}), {{"models", two_models()}}));
  const ServingReport r = serve(s);
  REQUIRE(r.summary.requests == 2);
  IterationCosts ca(s, 0), cq(s, 1);
  CHECK(cq.kv_bytes_per_token() == 2 * 24 * 2 * 64 * 2);  // K and V, 24 layers, 2 KV heads of 64
  const double pa = ca.prefill(1, 16).seconds, pq = cq.prefill(1, 16).seconds;
  const double a16 = ca.decode(1, 16).seconds, q16 = cq.decode(1, 16).seconds;
  const double a17 = ca.decode(1, 17).seconds, q17 = cq.decode(1, 17).seconds;
  CHECK(r.requests[0].first_token_s == Approx(pa).epsilon(1e-12));
  CHECK(r.requests[1].first_token_s == Approx(pa + pq).epsilon(1e-12));
  CHECK(r.requests[0].end_s == Approx(pa + pq + a16 + q16 + a17).epsilon(1e-12));
  CHECK(r.requests[1].end_s == Approx(pa + pq + a16 + q16 + a17 + q17).epsilon(1e-12));
  CHECK(r.iterations == 6);
  // Per-model sections.
  REQUIRE(r.llm_models.size() == 2);
  CHECK(r.llm_models[0].stats.name == "llama");
  CHECK(r.llm_models[1].stats.name == "qwen");
  for (const auto& m : r.llm_models) {
    CHECK(m.stats.requests == 1);
    CHECK(m.iterations == 3);
    CHECK(m.kv_peak_tokens == 19);
  }
  CHECK(r.llm_models[1].stats.mean_ttft_s == Approx(pa + pq).epsilon(1e-12));
  CHECK(r.kv_capacity_tokens == 0);  // tokens of two sizes: bytes only
  CHECK(r.kv_peak_bytes == 19 * (ca.kv_bytes_per_token() + cq.kv_bytes_per_token()));
  const json j = to_json(r);
  CHECK(j["llm"]["models"]["qwen"]["iterations"] == 3);
  CHECK(j["llm"]["models"]["llama"]["ttft_s"]["mean"].get<double>() == r.requests[0].first_token_s);
}

TEST_CASE("two LLM models share one KV cache in bytes", "[serving][llm][multi_model]") {
  // llama's request reserves 19 x 32 KiB = 622,592 bytes, qwen's 19 x 12 KiB = 233,472: a cache of
  // 700,000 bytes holds either but not both, so qwen's waits for llama's to finish (split caches
  // would run both at once); with 900,000 bytes qwen's is admitted at its first turn, after
  // llama's prefill.
  const json a = {{"name", "a"}, {"model", "llama"}, {"arrival", at_zero(1)}, {"prompt_tokens", 16}, {"output_tokens", 3}};
  const json q = {{"name", "q"}, {"model", "qwen"}, {"arrival", at_zero(1)}, {"prompt_tokens", 16}, {"output_tokens", 3}};
  const auto run = [&](std::int64_t bytes) {
    return serve(make(llm_doc(json::array({a, q}), {{"models", two_models()}, {"llm", {{"kv_capacity_bytes", bytes}}}})));
  };
  const ServingReport tight = run(700000), roomy = run(900000);
  CHECK(tight.requests[1].start_s == tight.requests[0].end_s);
  CHECK(tight.kv_peak_bytes == 19 * 32768);
  CHECK(tight.kv_capacity_bytes == 700000);
  CHECK(roomy.requests[1].start_s == roomy.requests[0].first_token_s);
  CHECK(roomy.kv_peak_bytes == 19 * (32768 + 12288));
  // kv_capacity_tokens cannot count tokens of two sizes.
  CHECK_THROWS_WITH(make(llm_doc(json::array({a, q}), {{"models", two_models()}, {"llm", {{"kv_capacity_tokens", 100}}}})),
                    Contains("llm.json: /llm/kv_capacity_tokens: unit 'systolic-edge-32x32-os' serves several models"));
}

TEST_CASE("LLM requests on several units: placement and dispatch", "[serving][llm][multi_unit]") {
  const json a = {{"name", "a"}, {"model", "llama"}, {"arrival", {{"process", "poisson"}, {"rate_per_s", 2}}},
                  {"prompt_tokens", 16}, {"output_tokens", 4}};
  const json q = {{"name", "q"}, {"model", "qwen"}, {"arrival", {{"process", "poisson"}, {"rate_per_s", 2}}},
                  {"prompt_tokens", 16}, {"output_tokens", 4}};
  // Each model placed on its own unit: every request runs there, and each unit runs one model.
  const ServingReport placed = serve(make(llm_doc(
      json::array({a, q}), {{"models", two_models()}, {"accelerator", replicas(2)}, {"requests", 40},
                            {"llm", {{"placement", {{"llama", {"u0"}}, {"qwen", {"u1"}}}}}}})));
  REQUIRE(placed.summary.requests == 40);
  for (const auto& r : placed.requests) CHECK(r.unit == r.stream);
  REQUIRE(placed.units.size() == 2);
  CHECK(placed.units[0].jobs == placed.llm_models[0].iterations);
  CHECK(placed.units[1].jobs == placed.llm_models[1].iterations);
  CHECK(placed.llm_models[1].units == std::vector<std::string>{"u1"});
  // Least loaded: four requests at time 0 on two replicas alternate u0, u1, u0, u1 (ties go to
  // the first unit); each unit then runs two, as one unit runs two at once.
  const json four = {{"model", "llama"}, {"arrival", at_zero(4)}, {"prompt_tokens", 16}, {"output_tokens", 4}};
  const ServingReport two = serve(make(llm_doc(json::array({four}), {{"accelerator", replicas(2)}})));
  const json pair = {{"model", "llama"}, {"arrival", at_zero(2)}, {"prompt_tokens", 16}, {"output_tokens", 4}};
  const ServingReport one = serve(make(llm_doc(json::array({pair}))));
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(two.requests[i].unit == i % 2);
    CHECK(two.requests[i].end_s == Approx(one.requests[i / 2].end_s).epsilon(1e-12));
  }
  // Placement errors name the path.
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"accelerator", replicas(2)}, {"llm", {{"placement", {{"llama", {"u2"}}}}}}})),
                    Contains("llm.json: /llm/placement/llama/0: no unit 'u2' (units: u0, u1)"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"llm", {{"placement", {{"gpt", {"u0"}}}}}}})),
                    Contains("llm.json: /llm/placement/gpt: no model 'gpt'"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"accelerator", replicas(2)}, {"llm", {{"placement", {{"llama", json::array()}}}}}})),
                    Contains("llm.json: /llm/placement/llama: names no unit"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"accelerator", replicas(2)}, {"llm", {{"placement", {{"llama", {"u1", "u1"}}}}}}})),
                    Contains("llm.json: /llm/placement/llama/1: unit 'u1' named twice"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"llm", {{"dispatch", "fastest"}}}})),
                    Contains("llm.json: /llm/dispatch:"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"llm", {{"kv_capacity_tokens", 100}, {"kv_capacity_bytes", 1000}}}})),
                    Contains("llm.json: /llm/kv_capacity_bytes: give kv_capacity_tokens or kv_capacity_bytes, not both"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"memory", "shared"}, {"accelerator", replicas(2)}})),
                    Contains("llm.json: /memory: LLM streams run with isolated memory"));
  // A model placed but not streamed does not count as served: one model per unit.
  json models = two_models();
  CHECK_NOTHROW(make(llm_doc(json::array({four}), {{"models", models}, {"accelerator", replicas(2)},
                                                    {"llm", {{"kv_capacity_tokens", 100}, {"placement", {{"qwen", {"u0"}}}}}}})));
  // Chunked prefill: a continuous-batching option of at least `size` tokens.
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"batching", {{"mode", "dynamic"}, {"chunk_tokens", 64}}}})),
                    Contains("llm.json: /batching/chunk_tokens: chunked prefill is a continuous-batching option"));
  CHECK_THROWS_WITH(make(llm_doc(json::array({four}), {{"batching", {{"mode", "continuous"}, {"size", 16}, {"chunk_tokens", 8}}}})),
                    Contains("llm.json: /batching/chunk_tokens: must be at least batching.size (16)"));
}

TEST_CASE("two LLM replicas at twice the rate serve like one unit at the rate", "[serving][llm][multi_unit]") {
  const auto doc = [&](json arrival, int units, std::int64_t requests, const std::string& dispatch, std::uint64_t seed) {
    const json stream = {{"model", "llama"}, {"arrival", std::move(arrival)},
                         {"prompt_tokens", {{"distribution", "uniform"}, {"min", 16}, {"max", 128}}},
                         {"output_tokens", {{"distribution", "uniform"}, {"min", 4}, {"max", 24}}}};
    json d = llm_doc(json::array({stream}), {{"requests", requests}, {"seed", seed}, {"llm", {{"dispatch", dispatch}}}});
    if (units > 1) d["accelerator"] = replicas(units);
    return make(d);
  };
  // Periodic arrivals split in turn: each replica sees the base rate, shifted, so with fixed
  // lengths its requests' latencies are exactly those of one unit at the base rate.
  {
    const json stream = {{"model", "llama"}, {"prompt_tokens", 64}, {"output_tokens", 12}};
    json s1 = stream, s2 = stream;
    s1["arrival"] = {{"process", "periodic"}, {"rate_per_s", 0.5}};
    s2["arrival"] = {{"process", "periodic"}, {"rate_per_s", 1.0}};
    const ServingReport one = serve(make(llm_doc(json::array({s1}), {{"requests", 20}})));
    const ServingReport two = serve(make(llm_doc(json::array({s2}), {{"requests", 40}, {"accelerator", replicas(2)},
                                                                         {"llm", {{"dispatch", "round_robin"}}}})));
    for (std::size_t i = 0; i < 40; ++i) {
      CHECK(two.requests[i].unit == i % 2);
      CHECK(two.requests[i].end_s - two.requests[i].arrival_s ==
            Approx(one.requests[i / 2].end_s - one.requests[i / 2].arrival_s).epsilon(1e-9));
    }
  }
  // Poisson arrivals split at random stay Poisson at half the rate: two replicas at 2 req/s see
  // the latency distribution of one unit at 1 req/s (each busy 95 % of the time, running batches
  // of a few requests; mean latency 3.76 s). Over seeds 1-8 the statistics of one unit's 4,000
  // requests varied between seeds by a standard deviation of 1.1 % (mean), 1.4 % (p50) and 1.3 %
  // (p95), two replicas' 8,000 by 0.6 %, 0.6 %, 0.8 %: the difference of two runs has a standard
  // deviation of about 1.2-1.6 %. The tolerances (5 %, 6 %, 6 %) are about 4 of those; the
  // runs use different seeds, so they are independent samples.
  const ServingReport one = serve(doc({{"process", "poisson"}, {"rate_per_s", 1.0}}, 1, 4000, "random", 1));
  const ServingReport two = serve(doc({{"process", "poisson"}, {"rate_per_s", 2.0}}, 2, 8000, "random", 2));
  INFO("mean " << one.summary.mean_latency_s << " / " << two.summary.mean_latency_s << ", p50 "
               << one.summary.p50_latency_s << " / " << two.summary.p50_latency_s << ", p95 "
               << one.summary.p95_latency_s << " / " << two.summary.p95_latency_s << ", util "
               << one.units[0].utilization);
  CHECK(two.summary.mean_latency_s == Approx(one.summary.mean_latency_s).epsilon(0.05));
  CHECK(two.summary.p50_latency_s == Approx(one.summary.p50_latency_s).epsilon(0.06));
  CHECK(two.summary.p95_latency_s == Approx(one.summary.p95_latency_s).epsilon(0.06));
  // Least loaded balances better than random: a lower mean latency at the same arrivals.
  const ServingReport balanced = serve(doc({{"process", "poisson"}, {"rate_per_s", 2.0}}, 2, 8000, "least_loaded", 2));
  CHECK(balanced.summary.mean_latency_s < two.summary.mean_latency_s);
}
