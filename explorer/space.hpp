// Design spaces: a base architecture config and workload, and parameters over any config path,
// each a list of values, a range or a power-of-two range. Format "tessera.space" version 1
// (docs/explorer.md). A point is a value per parameter; points are numbered by a deterministic
// enumeration so that shards, resumed runs and any number of threads agree on what point i is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "common/registry.hpp"
#include "explorer/expression.hpp"
#include "explorer/network.hpp"
#include "explorer/oracle.hpp"
#include "sim/timing.hpp"

namespace tessera::explorer {

struct Parameter {
  std::string path;                    // dotted config path, e.g. "systolic.rows"
  std::vector<nlohmann::json> values;  // every value it takes, in order
};

// The metrics every evaluated point of a single-accelerator space has (results log,
// objectives, constraints). Spaces add their own: accuracy and test_error with an oracle,
// per-task metrics in multi-task spaces, expression metrics (DesignSpace::metrics).
const std::vector<std::string>& metric_names();

// Multi-task spaces (NASAIC's setting): one network per task, each run on its own
// sub-accelerator, built from a template, of one heterogeneous accelerator.
struct TaskSpec {
  std::string name;
  NetworkSpec network;
  std::string dataset;        // what the oracle scores it on (default: the network's)
  double weight = 1;          // in the combined accuracy (weights are normalised)
  std::string template_name;  // when "<task>.template" is not a parameter
};

// How a template makes a sub-accelerator from a base config of its engine: config values it
// fixes, and the config paths of the task's size parameters "<task>.rows" and "<task>.cols"
// ("<task>.bandwidth_gbs" sets dram.bandwidth for every template).
struct AcceleratorTemplate {
  std::string engine;
  std::vector<std::string> fixed;  // overrides "path=value"
  std::string rows, cols;
};
const Registry<AcceleratorTemplate>& accelerator_templates();

// A bound every point must satisfy, "LEFT <= RIGHT" or "LEFT >= RIGHT", each side an expression
// over parameters, derived parameters, the base config's values and metrics:
// "area_mm2 <= 10", "sram.ifmap_kib * 1024 >= systolic.rows * 64". Constraints without metrics
// are checked before a point is simulated.
struct Constraint {
  Expression left, right;
  bool at_most = true;  // <=, else >=
  bool on_metrics = false;
  bool on_accuracy = false;  // names a metric that needs the accuracy oracle
  std::string text;          // as written
};

// A parameter computed from others: {"systolic.cols": "systolic.rows"}.
struct Derived {
  std::string path;
  Expression value;
};

struct DesignSpace {
  std::string name;
  std::string file;  // where it was read from, for messages
  arch::ArchDocument base;
  std::string workload_file;
  // Base workload settings (workloads/settings.hpp); parameters and derived parameters whose
  // path starts with "workload." set keys in it per point (e.g. workload.batch,
  // workload.default.weight_bits).
  nlohmann::json workload_settings = nlohmann::json::object();
  std::string fidelity = "analytical";  // a sim::fidelities() name
  std::vector<Parameter> parameters;                     // in the file's key order (sorted)
  std::vector<std::pair<std::string, bool>> objectives;  // metric, minimise; in the file's order
  std::vector<Derived> derived;                          // each after those it names
  std::vector<Constraint> constraints;
  std::string hash;              // of the space document
  std::string base_config_hash;  // of the base architecture document (multi-task: templates)

  // Joint spaces: the network as a parameter ("network.*" paths), or several tasks.
  std::optional<NetworkSpec> network;
  std::vector<TaskSpec> tasks;                           // multi-task when not empty
  std::map<std::string, arch::ArchDocument> templates;   // multi-task: template -> base config
  std::shared_ptr<const AccuracyOracle> oracle;          // "accuracy"; null without one
  std::string dataset;                                   // single-task: the oracle's dataset
  // Named metrics computed from others: {"log10_latency_s": "log10(latency_s)"}, each after
  // those it names.
  std::vector<Derived> metric_expressions;
  std::vector<std::string> metrics;        // every metric of this space's points
  std::set<std::string> accuracy_metrics;  // those that need the oracle
  // "hypervolume": fixed normalisation per objective, f = (v - lo) / (ref - lo), for
  // normalised_hypervolume (explorer/pareto.hpp); empty when absent.
  std::vector<double> hv_lo, hv_ref;

  // Serving spaces: a scenario (docs/serving.md) instead of arch and workload. Parameters
  // "scenario.KEY" change its keys (dotted, as `tessera serve --set` does); the others are config
  // paths of its accelerator (added to its "set"). Metrics: the serving rows of the metric table
  // and area_mm2. `base` is the scenario's accelerator config when it names one.
  std::string scenario_file;
  nlohmann::json scenario;

  bool joint() const { return network.has_value() || !tasks.empty(); }
  bool serving() const { return !scenario_file.empty(); }

  // Number of grid points (the product of the parameters' sizes); InputError if it does not fit
  // in 64 bits.
  std::uint64_t grid_size() const;
  // Grid point `index` (mixed radix, first parameter slowest).
  nlohmann::json grid_point(std::uint64_t index) const;
  // The point at unit coordinates u (one per parameter, each in [0, 1)): value floor(u * size).
  nlohmann::json unit_point(const std::vector<double>& u) const;
  // Random point `index` of a run seeded with `seed`: each value drawn uniformly from its
  // parameter, from a generator seeded by (seed, index) alone.
  nlohmann::json random_point(std::uint64_t seed, std::uint64_t index) const;
};

// Reads and validates a space file; errors name the file and JSON path. Relative paths in it
// ("arch", "workload") are relative to the space file's folder.
DesignSpace read_space(const std::string& path);

// A point with its derived parameters computed, split into architecture overrides and workload
// settings.
struct ResolvedPoint {
  std::map<std::string, double> values;  // numeric parameters and derived parameters by path
  nlohmann::json derived = nlohmann::json::object();  // derived parameters' values by path
  std::vector<std::string> arch_overrides;
  nlohmann::json workload_settings;  // the space's base settings with the point's applied
  nlohmann::json network;            // single-task joint spaces: resolve_network()'s description
  std::vector<std::string> scenario_overrides;  // serving spaces: "KEY=value" of the scenario
  struct Task {
    std::string name, template_name;
    nlohmann::json network;
    std::vector<std::string> arch_overrides;  // on the template's base config
  };
  std::vector<Task> tasks;  // multi-task spaces
};
ResolvedPoint resolve_point(const DesignSpace& space, const nlohmann::json& point);

// Checks the constraints without metrics (metrics null: before simulating, against the point's
// resolved architecture config), those with hardware metrics only (after simulating, before the
// accuracy oracle is consulted: a point that breaks them is never scored) or, with `accuracy`,
// those naming accuracy metrics. Throws InputError "infeasible: ..." naming the first one broken.
void check_constraints(const DesignSpace& space, const ResolvedPoint& point,
                       const nlohmann::json& resolved_config,
                       const std::map<std::string, double>* metrics = nullptr,
                       bool accuracy = false);

// Adds the expression metrics of one stage (hardware, or with `accuracy` those needing the
// oracle) to `metrics`. InputError when one is not finite.
void add_expression_metrics(const DesignSpace& space, const ResolvedPoint& point,
                            std::map<std::string, double>& metrics, bool accuracy);

// A sub-accelerator's config in a multi-task space.
arch::ArchConfig task_config(const DesignSpace& space, const ResolvedPoint::Task& task);

// The architecture config of a point: the base document with each parameter set.
arch::ArchConfig point_config(const DesignSpace& space, const ResolvedPoint& point);
arch::ArchConfig point_config(const DesignSpace& space, const nlohmann::json& point);

}  // namespace tessera::explorer
