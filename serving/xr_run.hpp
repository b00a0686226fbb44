// Running an XR scenario in time (docs/serving.md, "XR scenarios"): frames of each model are
// injected at 1/FPS with their deadline at the next injection; a cascaded model's frame waits
// for its parent's frame and is requested with the model's probability (seeded); an idle
// sub-accelerator takes a whole inference, non-preemptively, chosen by an XR policy; a frame
// still waiting after its deadline is dropped, and with it its cascaded frames. The run is
// scored with XRBench's score (xr.hpp).
//
// Owns XR scenarios ("format": "tessera.xr_scenario"), the XR policy registry, the run and its
// report; includes serving/xr.hpp, arch/ and sim/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "common/registry.hpp"
#include "serving/xr.hpp"

namespace tessera::serving::xr {

struct Unit {
  std::string name;
  Dataflow dataflow = Dataflow::ws;
  SubAccelerator hardware;
  arch::ArchConfig arch;
};

// A sub-accelerator on its Tessera engine (arch_json); `where` names it in messages.
Unit make_unit(const SubAccelerator& hardware, Dataflow dataflow, const std::string& where);

struct XrScenario {
  std::string file;
  std::string name;
  UsageScenario usage;
  std::vector<Unit> units;
  std::string policy = "dream";
  double duration_s = 0.7;  // frames injected before this time; the run then finishes them
  // XRBench's runtime injects every 1000/FPS ms rounded down to whole ms (60 FPS: every 16 ms);
  // false: every 1/FPS s exactly.
  bool integer_ms_interval = false;
  // "tessera": the rules above; "xrbench": XRBench's own runtime, quirks included (its frames
  // enter at the fastest model's ticks; xrbench_runtime in xr_run.cpp), to compare with it.
  std::string runtime = "tessera";
  std::uint64_t seed = 1;
  std::string fidelity = "analytical";
  ScoreParams score;
  // "layer_costs": per-layer costs given as a CSV (the format `--tables` writes) instead of
  // timing the models on their engines: (model, unit name) -> (seconds, mJ) of an inference.
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> given_costs;
  nlohmann::json resolved;
};

// True when the document's "format" is "tessera.xr_scenario".
bool is_xr_scenario(const nlohmann::json& doc);

// Reads an XR scenario file, `overrides` applied first ("path=value", as `tessera serve --set`).
// InputError naming the file and the JSON path (or the named file and its line).
XrScenario load_xr_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
XrScenario read_xr_scenario(const nlohmann::json& doc, const std::string& file, const std::string& dir);

// What a policy sees of a frame ready to run, at a decision.
struct FrameView {
  double now_s = 0;
  double inject_s = 0;
  double ready_s = 0;       // when it could first run (injection, or its parent's completion)
  double deadline_s = 0;
  double latency_s = 0;     // on the idle unit that would run it (the fastest idle one)
  double cascade_s = 0;     // expected work of the frames it feeds: sum of p x latency, recursively
  double drop_rate = 0;     // its model's dropped frames / frames decided so far
  std::size_t model = 0;    // index in the usage scenario
};

struct Policy {
  // Larger runs first; ties go to the earlier deadline, then injection, then model order.
  std::function<double(const FrameView&)> priority;
  // Drop a frame that cannot end before its deadline plus `hopeless_ms` (real-time score below
  // 1 %) while another ready frame can still meet its own, instead of running it.
  bool drop_hopeless = false;
};

// fcfs, edf, dream.
Registry<Policy>& policies();

// Inference costs per (model, unit configuration): seconds and mJ timed alone on the unit.
// Shared by the runs of a design space (keyed by the unit's arch hash and the model's layers).
class CostCache {
 public:
  std::pair<double, double> get(const Model& model, const std::string& file, const Unit& unit,
                                const std::string& fidelity);
  std::size_t computed() const { return computed_; }

 private:
  std::map<std::string, std::pair<double, double>> costs_;
  std::size_t computed_ = 0;
};

struct RunOptions {
  std::string policy;          // replaces the scenario's when not empty
  CostCache* costs = nullptr;  // a shared cache; the run's own otherwise
};

struct UnitUse {
  std::string name;
  std::string dataflow;
  std::int64_t num_pes = 0;
  double busy_s = 0;
  std::int64_t inferences = 0;
};

struct XrReport {
  std::string scenario;
  std::string policy;
  Score score;
  std::vector<Inference> log;  // every frame requested: completed or dropped, in decision order
  std::vector<UnitUse> units;
  // [model][unit]: an inference's time (s) and energy (mJ) alone on the unit.
  std::vector<std::vector<std::pair<double, double>>> costs;
  std::vector<std::string> models;
  std::int64_t skipped = 0;  // cascaded frames not requested (probability draw)
  double span_s = 0;         // the last completion
  double wall_s = 0;
};

XrReport run(const XrScenario& scenario, const RunOptions& options = {});

// Every layer of every model timed alone on every unit of the scenario, as the run's costs
// sum them: CSV `model,unit,dataflow,layer,name,cycles,energy_pj`, a header line first (`tessera
// serve --tables`; per-layer comparison with XRBench's MAESTRO costs in docs/validation.md).
std::string layer_costs_csv(const XrScenario& scenario);

nlohmann::json to_json(const XrReport& report, bool with_log = false);
std::string format_table(const XrReport& report);

}  // namespace tessera::serving::xr
