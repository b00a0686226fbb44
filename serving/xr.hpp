// Real-time multi-model XR scenarios in the manner of XRBench (Kwon et al., MLSys 2023;
// docs/serving.md, "XR scenarios"): models run at their frame rates, cascaded models wait for
// their parent's frame and run with a probability, frames past their deadline are dropped, and a
// run is scored with XRBench's real-time, energy and QoE scores.
//
// This file holds the readers of XRBench's MAESTRO-style files (usage scenarios: networks with
// FPS, probability, dependency and CONV layers; hardware configs: one block per
// sub-accelerator), the mapping of a sub-accelerator and its dataflow onto a Tessera engine, and
// the score. The run itself is in xr_run.hpp. Every reader error is one line
// "FILE:LINE: what".
//
// Owns the XR file readers and the score; includes arch/, workloads/ and common/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/graph.hpp"

namespace tessera::serving::xr {

// One MAESTRO CONV layer: Y and X are the input's rows and columns, stride 1, no padding (the
// output is (Y-R+1) x (X-S+1)), as MAESTRO reads them; a filter larger than the input gets the
// input padded to its size (one output row or column).
struct Layer {
  std::string name;
  std::int64_t n = 1, k = 1, c = 1, y = 1, x = 1, r = 1, s = 1;
  int line = 0;
};

struct Model {
  std::string name;
  double fps = 0;
  double probability = 1;  // a cascaded model runs on this fraction of its parent's frames
  std::string dependency;  // the parent's name; empty for a model fed by the sensors
  std::vector<Layer> layers;
  int line = 0;  // of its `Network` line
};

struct UsageScenario {
  std::string file;
  std::string name;  // the file stem
  std::vector<Model> models;
};

// A usage-scenario file: `Network NAME { FPS: f [Probability: p] [Dependency: { PARENT }]
// Layer NAME { Type: CONV Dimensions: { N: .., K: .., C: .., Y: .., X: .., R: .., S: .. } } ... }`.
// A dependency must name an earlier-or-later model of the file with the same FPS, and cascades
// must not form a cycle.
UsageScenario parse_usage_scenario(const std::string& text, const std::string& file);
UsageScenario load_usage_scenario(const std::string& path);

// The model's layers as a Tessera graph (8-bit operands; each source names the file and line).
workloads::Graph to_graph(const Model& model, const std::string& file);

// One sub-accelerator of an XRBench hardware config (`Accelerator NAME { num_pes: .. ... }`).
struct SubAccelerator {
  std::string name;
  std::int64_t num_pes = 0;
  double offchip_bw = 0;  // words (bytes: 8-bit operands) per cycle
  double noc_bw = 0;      // top_noc_bw
  std::int64_t global_shared_memory = 0;  // bytes
  std::int64_t pe_local_memory = 0;       // bytes
  int line = 0;
};

struct HardwareConfig {
  std::string file;
  std::string name;  // the file stem
  std::vector<SubAccelerator> units;
};

HardwareConfig parse_hardware_config(const std::string& text, const std::string& file);
HardwareConfig load_hardware_config(const std::string& path);

// XRBench's dataflows and the Tessera engine that runs each: WS (NVDLA-like, weight stationary)
// and OS (output stationary) on the systolic engine with that dataflow, RS (row stationary) on
// the eyeriss engine.
enum class Dataflow { ws, os, rs };
Dataflow parse_dataflow(const std::string& name, const std::string& where);  // "WS", "ws", ...
std::string to_string(Dataflow d);
// The names of a dataflow file: its stem split at '_' ("WS_OS.m" -> WS, OS), one per
// `Dataflow {` block in it (checked).
std::vector<Dataflow> load_dataflow_file(const std::string& path);

// The inline arch config of one sub-accelerator: 1 GHz (the clock XRBench's runtime assumes),
// the PEs as a rows x cols array (rows the largest divisor of num_pes not above its square root),
// DRAM bandwidth offchip_bw bytes per cycle, the global buffer split over the engine's buffers.
nlohmann::json arch_json(const SubAccelerator& unit, Dataflow dataflow);

// ---- Score (XRBench's scoring module) ----

// One inference of a run, or a dropped frame. Times in ms as XRBench logs them.
struct Inference {
  std::string model;
  std::int64_t frame = 0;
  int unit = -1;  // -1 when dropped
  double inject_ms = 0, dispatch_ms = 0, deadline_ms = 0, done_ms = 0;
  double energy_mj = 0;
  bool dropped = false;
};

struct ScoreParams {
  double k_per_ms = 15;         // the real-time score's steepness
  double max_energy_mj = 1500;  // the energy score's budget per inference
  // Compute in single precision, as XRBench's C++ scoring module does (its float sums give the
  // last digits of its printed scores); double otherwise.
  bool single_precision = false;
};

struct ModelScore {
  std::string model;
  std::int64_t frames = 0;   // logged: completed and dropped
  std::int64_t dropped = 0;
  double realtime = 0;       // mean RT over completed frames
  double energy = 0;         // mean E over completed frames
  double qoe = 0;            // 1 - dropped / frames
  double score = 0;          // sum over completed (RT x E) / frames x QoE
};

struct Score {
  std::vector<ModelScore> models;  // in the order of `order`, those with frames
  double overall = 0;              // 100 x mean over models of their score
};

// Per inference RT = 1 / (1 + exp(k (done - deadline))), E = (max - energy) / max; per model
// (frames = completed + dropped, as XRBench's log counts them) score = sum(RT E) / frames x
// (1 - dropped / frames); overall = 100 x the mean over models. Models are taken in `order`
// (models without a logged frame are left out, as XRBench's log does not list them); names in
// `log` that are not in `order` are added after it in first-seen order.
Score score(const std::vector<Inference>& log, const std::vector<std::string>& order = {},
            const ScoreParams& params = {});

// XRBench's schedule CSV (`AcceleratorID,Model Name,Frame ID,Injection Time (ms),Dispatch Time
// (ms),Deadline Time (ms),Completion Time (ms),Violated Deadline Amount (ms),Energy (mJ)`):
// the log of completed inferences it contains. Errors name the file and line.
std::vector<Inference> read_schedule_csv(const std::string& path);

}  // namespace tessera::serving::xr
