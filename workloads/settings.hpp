// Workload settings: how to instantiate a workload file (batch, input sizes, transformer phase)
// and the precision and sparsity annotations applied to its operators afterwards, whatever
// front-end read it. One JSON object holds both (docs/workload-format.md, "Workload settings"):
//
//   {"batch": 4, "seq_len": 512, "phase": "decode", "kv_len": 1024, "kv_read": "per_group",
//    "kv_bits": 8, "experts_touched": 6,
//    "input_shapes": {"input": [1, 3, 299, 299]}, "allow_unsupported": false,
//    "default": {"weight_bits": 8, "activation_bits": 8},
//    "kinds":   {"matmul": {"weight_bits": 4}},
//    "layers":  {"layer4.*": {"weight_bits": 2, "weight_pattern": "2:4",
//                             "activation_density": 0.6},
//                "fc*": {"rank": 64}},
//    "modegpt": {"ratio": 0.25, "layers": {"layers.0": {"ratio": 0}}}}
//
// It comes from a sidecar file (--workload-settings), from CLI flags (--batch, ...), from
// `--set workload.KEY=VALUE`, and from a design space's workload parameters.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/frontend.hpp"

namespace tessera::workloads {

// What one annotation sets; absent fields leave the operator as it is.
struct Annotation {
  std::optional<int> weight_bits, activation_bits;
  std::optional<double> weight_density, activation_density;
  std::optional<StructuredSparsity> weight_pattern;
  // Low-rank factorisation (workloads/passes.hpp, factorise_low_rank): a rank, or a fraction of
  // the operator's full rank (max(1, round(rank_ratio · full rank))). Applies to the operators
  // that can be factorised (full_rank() > 0); others the annotation reaches keep their shape.
  std::optional<i64> rank;
  std::optional<double> rank_ratio;
  std::string where;       // file and JSON path, for messages
  std::string rank_where;  // the same for the rank key
};

// Precision of the weights over a run of decode steps (a phase of a PMPD schedule).
struct WeightPhase {
  int bits = 16;
  std::optional<i64> steps;  // absent: every remaining step (the last phase)
  bool operator==(const WeightPhase&) const = default;
};

// Self-speculative (LayerSkip) decoding: draft `draft` tokens with the first `layers` layers and
// the LM head, verify them with the remaining layers in one pass; each drafted token is
// accepted with probability `acceptance`.
struct EarlyExitDecoding {
  i64 layers = 0;
  i64 draft = 0;
  double acceptance = 0;
};

// A generation run (sim/generation.hpp): prefill of the prompt (seq_len) then `tokens` decode
// steps. Keys: generate, prefill_weight_bits, decode_weight_bits, nested_weights, early_exit
// (docs/transformers.md, "Generation").
struct GenerationSettings {
  i64 tokens = 0;
  std::optional<int> prefill_weight_bits;    // absent: the operators' own
  std::vector<WeightPhase> decode_weights;   // empty: the operators' own
  bool nested_weights = false;               // bit-plane weights: switching precision is free
  std::optional<EarlyExitDecoding> early_exit;
};

// "3:64,2": 3 bits for 64 steps, then 2 bits; "4": 4 bits throughout. Only the last phase may
// omit its steps. Throws InputError prefixed with `where`.
std::vector<WeightPhase> parse_weight_schedule(const std::string& text, const std::string& where);

struct WorkloadSettings {
  LoadOptions load;
  std::optional<GenerationSettings> generation;  // with the key "generate"
  // Applied in this order, later ones winning: `all`, then the entries of `kinds` for the
  // operator's kind, then every `layers` pattern that matches the operator's name (a glob with
  // * and ?), from the least to the most specific (fewest to most literal characters).
  std::optional<Annotation> all;
  std::vector<std::pair<OpKind, Annotation>> kinds;
  std::vector<std::pair<std::string, Annotation>> layers;

  bool has_annotations() const { return all || !kinds.empty() || !layers.empty(); }
};

// Reads settings from a parsed JSON object found at `path` in `file`. Errors name the file and
// the JSON path.
WorkloadSettings read_workload_settings(const nlohmann::json& doc, const std::string& file,
                                        const std::string& path = "");

// Applies the annotations to every operator, then factorises the operators given a rank; the
// result is validated. A `layers` pattern that matches no operator (with a rank: no operator
// that can be factorised), or a `modegpt` layer pattern that matches no layer, is an error (a
// typo would otherwise pass silently), unless the graph is a part of the model the settings
// describe (`whole_model` false: an early exit's head or tail). A rank above an operator's full
// rank is an error naming the setting.
void annotate(Graph& graph, const WorkloadSettings& settings, bool whole_model = true);

// load_workload() with the settings' load options, then annotate(). Settings with `generate`
// are an error: a generation run is many graphs (sim/generation.hpp).
Graph load_workload(const std::string& path, const WorkloadSettings& settings);
// The same with the graph `load` makes for the settings' load options.
Graph load_workload(const std::string& path, const WorkloadSettings& settings,
                    const std::function<Graph(const LoadOptions&)>& load);

// The `--set` assignments addressed to workload settings: path "workload.KEY..." or
// "/workload/KEY...", returned without that prefix (in `first`); the others in `second`.
std::pair<std::vector<std::string>, std::vector<std::string>> split_workload_overrides(
    const std::vector<std::string>& assignments);

// Reads settings from `doc` (an object; `file` names it in messages) after applying the
// assignments (path=value, as split_workload_overrides returns them).
WorkloadSettings read_workload_settings(nlohmann::json doc, const std::string& file,
                                        const std::vector<std::string>& assignments);

// True when `name` matches the glob `pattern` (* any run, ? one character).
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace tessera::workloads
