// Sparse multi-DNN scheduling (Fan, Venieris, Kouris, Lane, "Sparse-DySta", MICRO 2023): several
// DNNs time-multiplexed on one accelerator, rescheduled at every layer boundary, under the
// policies of the paper's artefact (SamsungLabs/Sparse-Multi-DNN-Scheduling, dysta_scheduler/):
// FCFS, SJF, PREMA, Planaria, SDRM3 and Dysta with its static-only and oracle variants, with the
// artefact's admission rule, token accounting, tie rules, latency predictors and metrics
// (docs/serving.md, "Multi-DNN scheduling").
//
// Scenarios ("format": "tessera.multi_dnn") give each model as a latency table (per sample, per
// layer: latency and output sparsity) or as a workload whose table Tessera's engines compute
// (serving/multi_dnn_workload.hpp), with its network family and SLO, and the requests as a
// trace or drawn by the artefact's generator (Poisson arrivals, models uniformly, priorities
// from a list, samples uniformly).
//
// Owns the multi-DNN scenario, its policy registry, the layer-granular loop and its report;
// includes common/ only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/registry.hpp"

namespace tessera::serving {

// One model (a network under one pruning recipe) as measured latencies.
struct LatencyTableModel {
  std::string name, family;
  std::string table_file;  // the latency table, or the workload the table was computed from
  std::vector<std::int64_t> sample_ids;        // as in the table, in order of first appearance
  std::vector<std::vector<double>> latency_s;  // [sample][layer]
  std::vector<std::vector<double>> sparsity;   // [sample][layer]; 0 where the table has none
  // Per layer, over this model's samples (the artefact's avg_lat_per_pattern and avg_sparsity).
  std::vector<double> avg_latency_s, avg_sparsity;
  double mean_isolated_s = 0;  // mean over samples of the whole network's latency
  // The same averaged over every model of the family, weighted by their sample counts
  // (avg_lat_per_model, target_lat_per_model): what static predictors know.
  std::vector<double> family_avg_latency_s;
  double family_mean_isolated_s = 0;
  double slo_s = 0;  // slo_s, or slo_multiple × family_mean_isolated_s
  std::size_t layers() const { return avg_latency_s.size(); }
};

// Fills the averages and mean isolated latency from latency_s and sparsity (at least one sample
// of at least one layer). InputError naming table_file when an average sparsity reaches 1.
void summarise_latency_table(LatencyTableModel& m);

struct MultiDnnRequest {
  double arrival_s = 0;
  std::uint32_t model = 0;   // index into MultiDnnScenario::models
  std::uint32_t sample = 0;  // index into the model's samples (not its id)
  std::int64_t priority = 1;
};

struct MultiDnnScenario {
  std::string file, name;
  std::vector<LatencyTableModel> models;
  std::vector<MultiDnnRequest> requests;  // by arrival time (ties in trace or draw order)
  std::string arrival = "poisson";        // "poisson" or "trace"
  double rate_per_s = 0;                  // poisson
  std::string policy = "dysta";           // a multi_dnn_policies() name
  double alpha = 1.0;                     // SDRM3's fairness weight
  double beta = 0.01;                     // Dysta's score weight
  std::uint64_t seed = 1;
  nlohmann::json resolved;
};

enum class MultiDnnRule { fcfs, sjf, prema, planaria, sdrm3, dysta, dysta_oracle };

struct MultiDnnPolicy {
  MultiDnnRule rule = MultiDnnRule::fcfs;
  // Predictions scaled by the sparsity ratio measured so far (the artefact's is_sparse).
  bool sparse = false;
  // Static predictions from the model's own per-layer averages rather than its family's.
  bool pattern_aware = false;
  // Output sparsity read back after every layer (the artefact's is_hw_monitor).
  bool monitor = false;
};

// fcfs, sjf, sjf_sparse, prema, prema_sparse, planaria, sdrm3, sdrm3_sparse, dysta,
// dysta_static, dysta_oracle.
Registry<MultiDnnPolicy>& multi_dnn_policies();

// Whether a parsed document is a multi-DNN scenario (its "format").
bool is_multi_dnn_scenario(const nlohmann::json& doc);

// Reads a multi-DNN scenario, applying overrides as load_scenario does. InputError naming the
// file and JSON path, or the CSV file and line.
MultiDnnScenario load_multi_dnn_scenario(const std::string& path,
                                         const std::vector<std::string>& overrides = {});
MultiDnnScenario read_multi_dnn_scenario(const nlohmann::json& doc, const std::string& file,
                                         const std::string& dir);

// Figures of a set of requests (one model's, or all), as the artefact defines them.
struct MultiDnnStats {
  std::string name;
  std::int64_t requests = 0, violations = 0;
  double violation_rate = 0;  // finished after arrival + SLO
  double antt = 0;            // mean of (finish - arrival) / the request's own isolated latency
  double stp = 0;             // requests / (last finish - first arrival)
  double mean_latency_s = 0, p99_latency_s = 0;
};

struct MultiDnnReport {
  std::string scenario, file, policy;
  std::uint64_t seed = 0;
  MultiDnnStats summary;
  std::vector<MultiDnnStats> models;
  struct Request {
    std::uint32_t model = 0, sample = 0;
    std::int64_t priority = 1;
    double arrival_s = 0, finish_s = 0, deadline_s = 0, isolated_s = 0;
  };
  std::vector<Request> requests;  // in arrival order
  std::int64_t decisions = 0;     // layer-boundary scheduling decisions
  std::int64_t switches = 0;      // decisions that changed the running request
  double wall_s = 0;
  nlohmann::json resolved;
};

// The scenario's latency tables as one CSV (model,sample,layer,latency_s,sparsity), numbers in
// their shortest exact form: what a scenario naming them as latency tables reads back equally.
std::string latency_tables_csv(const MultiDnnScenario& scenario);

// Runs the scenario under its policy (or `policy` when given).
MultiDnnReport run_multi_dnn(const MultiDnnScenario& scenario, const std::string& policy = "");

nlohmann::json to_json(const MultiDnnReport& report, bool requests = false);
std::string format_table(const MultiDnnReport& report);

}  // namespace tessera::serving
