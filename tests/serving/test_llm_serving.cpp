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
