// A serving run: requests arrive on each stream of a scenario, wait in one queue, are batched and
// scheduled onto the accelerator's units by the scenario's policy, possibly preempted at layer
// boundaries, and leave when they finish (or exit early). A discrete-event loop over arrivals and
// job ends; stage costs come from serving/stage_costs.hpp. The same scenario and seed give the
// same report.
//
// The rules (docs/serving.md):
//  - One queue of waiting work (a request, or the requests of a batch preempted or between
//    stages). A free unit runs the work the policy ranks first; batching then adds waiting work
//    of the same model at the same stage: none (one request), static (exactly `size` requests of
//    a model, or fewer once the oldest has waited `timeout_s`; the unit waits otherwise),
//    dynamic (whatever waits, up to `size`), fluid (dynamic, and at every stage: requests that
//    exit leave the batch, the others queue for the next stage, where waiting requests join).
//    Without fluid batching a batch runs its stages back to back on its unit, shrinking as
//    requests exit.
//  - With preemption "layer": new work that the policy ranks before the worst-ranked running
//    work, while no unit is free, stops that work at its next layer boundary; what it has left
//    queues again and resumes at that layer (on any unit).
//  - A request's exit stage is drawn when it arrives, from its model's exit probabilities.
//
// Owns the event loop and the serving report; includes serving/ and sim/.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serving/scenario.hpp"

namespace tessera::serving {

// Latency and service figures of a set of requests (a stream, or all of them).
struct ServingStats {
  std::string name;
  std::string model;
  std::int64_t requests = 0;
  double mean_latency_s = 0, p50_latency_s = 0, p95_latency_s = 0, p99_latency_s = 0;
  double max_latency_s = 0;
  double mean_wait_s = 0;  // arrival to first start
  double slo_s = 0;        // 0: no SLO
  double slo_satisfaction = 1;  // fraction of requests done within their SLO
  double throughput_rps = 0;    // requests done / span
  double utilization = 0;       // unit time spent on these requests / (units × span)
  double energy_per_request_pj = 0;
  double mean_queue = 0;  // requests waiting, time-averaged over the span
  std::int64_t max_queue = 0;
  double mean_batch = 0;  // the batch size each request's stages ran at, averaged
  // LLM streams (output_tokens > 0): time to first token (arrival to the end of the request's
  // prefill iteration) and time per output token after the first ((end - first token) /
  // (output tokens - 1), over requests of two or more output tokens), as vLLM's serving
  // benchmark and LLMServingSim report them (Vidur's normalised decode time divides by all n).
  std::int64_t output_tokens = 0;
  double mean_ttft_s = 0, p50_ttft_s = 0, p95_ttft_s = 0, p99_ttft_s = 0;
  double mean_tpot_s = 0, p50_tpot_s = 0, p95_tpot_s = 0, p99_tpot_s = 0;
  double output_tokens_per_s = 0;  // output tokens done / span
};

struct UnitStats {
  std::string name, engine;
  double busy_s = 0, utilization = 0;
  std::int64_t jobs = 0, preemptions = 0;
  std::int64_t kv_capacity_bytes = 0, kv_peak_bytes = 0;  // LLM runs: the unit's KV cache
};

// LLM runs: one model's requests, the units serving it and its iterations.
struct LlmModelStats {
  ServingStats stats;
  std::vector<std::string> units;
  std::int64_t iterations = 0, kv_bytes_per_token = 0, kv_peak_tokens = 0;
};

struct ModelStats {
  std::string name, file;
  double isolated_latency_s = 0;  // every stage, batch 1, on the first unit
  std::size_t stages = 1;
};

struct ServingReport {
  std::string scenario, file, policy, batching, preemption, fidelity;
  std::int64_t batch_size = 1;
  double batch_timeout_s = 0;
  std::uint64_t seed = 0;
  ServingStats summary;
  std::vector<ServingStats> streams;
  std::vector<UnitStats> units;
  std::vector<ModelStats> models;
  double span_s = 0;  // from time 0 to the last request's end
  // Requests waiting (all streams, then per stream) at evenly spaced times over the span.
  std::vector<double> queue_t_s;
  std::vector<std::int64_t> queue_total;
  std::vector<std::vector<std::int64_t>> queue_by_stream;
  // Per request, in arrival order: stream index, arrival, first start and end times.
  struct Request {
    std::uint32_t stream = 0;
    std::uint32_t exit_stage = 0;
    double arrival_s = 0, start_s = 0, end_s = 0;
    double first_token_s = 0;  // LLM requests: the prefill's end
    std::int64_t prompt_tokens = 0, output_tokens = 0;  // LLM requests
    std::uint32_t unit = 0;                              // LLM requests: the unit that served it
  };
  std::vector<Request> requests;
  // LLM runs: the KV cache's capacity, the most tokens it held (over all units; tokens: one
  // model only), the iterations run, the prompt tokens prefilled, the chunk budget (0: none),
  // how requests pick a unit, and per model.
  std::int64_t kv_capacity_tokens = 0, kv_peak_tokens = 0, iterations = 0;
  std::int64_t kv_capacity_bytes = 0, kv_peak_bytes = 0, prefill_tokens = 0, chunk_tokens = 0;
  std::string dispatch;
  std::vector<LlmModelStats> llm_models;
  std::vector<std::string> notes;  // what the run does not model
  std::int64_t stage_costs = 0;    // distinct (model, stage, batch, unit) costs computed
  std::int64_t events = 0;
  double wall_s = 0, cost_wall_s = 0;
  nlohmann::json resolved;  // the scenario after overrides
};

struct ServeOptions {
  // Told how many requests are done of how many, every few thousand requests.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  std::size_t queue_samples = 200;  // the queue timeline's points
};

ServingReport serve(const Scenario& scenario, const ServeOptions& options = {});

// The report as JSON ("format": "tessera.serving_report"); with `requests`, every request's times.
nlohmann::json to_json(const ServingReport& report, bool requests = false);
// A table for a terminal, at most 100 columns wide.
std::string format_table(const ServingReport& report);
// This run against its baselines: one line each, with the ratios of mean latency and p99 SLO
// satisfaction.
std::string format_comparison(const ServingReport& report,
                              const std::vector<std::pair<std::string, ServingReport>>& baselines);
// The serving metrics of the metric table (sim/metrics.hpp, Combine::serving) from the summary.
std::map<std::string, double> metric_values(const ServingReport& report);

}  // namespace tessera::serving
