// Serving scenarios ("format": "tessera.scenario", docs/serving.md): which accelerator serves
// which models to which request streams, under which policy and batching, for how long. Read in
// two layers like architecture configs: the parsed JSON with `--set` overrides applied, then
// this validated Scenario with every default applied and every file it names loaded. Every
// error names the file and the JSON path (common/params.hpp); unknown keys are errors.
//
// Owns the scenario types and their reader; includes arch/ and workloads/ (it loads the
// accelerator and the models), nothing above sim/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "serving/llm.hpp"
#include "workloads/graph.hpp"

namespace tessera::serving {

// One compute unit of the accelerator: a whole accelerator, or one sub-accelerator of several
// that share one memory system.
struct Unit {
  std::string name;
  arch::ArchConfig arch;
};

struct Model {
  std::string name;
  std::string file;           // the workload file, for reports
  workloads::Graph graph;     // one request (batch 1), settings applied, exit heads added
  // Per-sample exit decisions (the stage each request leaves after), used in turn by the
  // model's requests in arrival order; empty: drawn from the exits' probabilities.
  std::vector<std::uint32_t> exit_decisions;
  // A transformer config (configs/models/): its sizes and settings, for LLM streams.
  std::optional<LlmModel> llm;
};

enum class ArrivalProcess { poisson, periodic, bursty, trace };

struct Arrival {
  ArrivalProcess process = ArrivalProcess::poisson;
  double rate_per_s = 0;  // mean rate (poisson, periodic, bursty); trace: 0
  double offset_s = 0;    // periodic: the first arrival
  // bursty: a Markov-modulated Poisson process that is on (arrivals at peak_ratio × rate_per_s)
  // for exponential spells of mean burst_s and off (no arrivals) for spells of mean
  // burst_s × (peak_ratio - 1), so that its mean rate is rate_per_s. It starts on.
  double peak_ratio = 4;
  double burst_s = 0.1;
  std::vector<double> times_s;  // trace: arrival times in seconds, non-decreasing
};

struct Stream {
  std::string name;
  std::size_t model = 0;  // index into Scenario::models
  Arrival arrival;
  // The SLO in seconds, or as a multiple of the model's isolated latency (batch 1 on unit 0),
  // resolved by the serving run; neither: no SLO (slo_satisfaction 1).
  std::optional<double> slo_s, slo_multiple;
  int priority = 0;  // larger = more important (the priority policy)
  // LLM requests: prompt and output lengths (serving/llm.hpp); absent: one pass per request.
  std::optional<TokenLengths> tokens;
};

// continuous: iteration-level batching of LLM requests (serving/llm_serve.hpp).
enum class BatchingMode { none, static_size, dynamic, fluid, continuous };

struct Batching {
  BatchingMode mode = BatchingMode::none;
  std::int64_t size = 1;  // static: the batch size; dynamic and fluid: the largest batch
  double timeout_s = 0;   // static: the oldest request waits at most this, then a smaller batch runs
  // continuous, LLM streams: the token budget of an iteration (chunked prefill: each running
  // request's decode token, then chunks of prompts); 0: whole prompts, prefill apart from decode.
  std::int64_t chunk_tokens = 0;
};

enum class Preemption { none, layer };

struct Scenario {
  std::string file;  // for messages and reports
  std::string name;
  std::vector<Unit> units;
  std::vector<Model> models;
  std::vector<Stream> streams;
  std::string policy = "fcfs";  // a policies() name
  Batching batching;
  Preemption preemption = Preemption::none;
  std::string fidelity = "analytical";  // times the stage costs (a sim::fidelities() name)
  // "isolated": each job's time is its stage cost, timed alone on its unit (fast, memoised).
  // "shared": jobs run on the fidelity's PlanExecutor, the units contending for the first
  // unit's memory system (sub-accelerators sharing one memory system).
  std::string memory = "isolated";
  // How many requests in all (the first `requests` arrivals over all streams), or every arrival
  // before duration_s; the run then serves them all.
  std::optional<std::int64_t> requests;
  std::optional<double> duration_s;
  std::uint64_t seed = 1;
  // Other runs to make beside this one (same arrivals, same seed): name -> overrides of this
  // scenario ("path=value", as --set), e.g. {"static_fcfs": ["batching=static", "policy=fcfs"]}.
  std::vector<std::pair<std::string, std::vector<std::string>>> baselines;
  LlmSettings llm;          // LLM streams: the KV cache and the length grid
  nlohmann::json resolved;  // the scenario document after overrides, for reports

  // Its streams are LLM streams (all or none are).
  bool serves_llm() const { return !streams.empty() && streams.front().tokens.has_value(); }
};

// Reads a scenario file and applies `overrides` ("path=value"; the path in dots or as a JSON
// pointer, with or without its leading '/': `streams/0/arrival/rate_per_s=40`,
// `batching=static`). Paths inside it are relative to its folder. InputError naming the file and
// JSON path.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from a parsed document; `file` names it in messages and `dir` anchors its paths.
Scenario read_scenario(const nlohmann::json& doc, const std::string& file, const std::string& dir);

// What a run of the scenario reads, for resume keys (a results log's workload_hash): the
// document after overrides and the contents of every file it names that is not an accelerator
// config (those have their own hash): each model's graph (settings and exit heads applied), its
// transformer config text for LLM streams and its exit decisions, and the streams' arrival and
// token traces. A changed model or trace file changes it; moving a file does not.
nlohmann::json scenario_inputs(const Scenario& s);

std::string to_string(ArrivalProcess p);
std::string to_string(BatchingMode m);

}  // namespace tessera::serving
