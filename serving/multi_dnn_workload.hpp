// Multi-DNN models given as workloads: instead of a measured latency table, a model names a
// workload (any front-end) with its settings, an engine config and how its samples' activation
// sparsity varies; the per-sample, per-layer latency table is computed at load by Tessera's own
// engine (docs/serving.md, "Models as workloads").
//
// A sample scales the activation density of every operator with MACs whose input is sparse
// (density < 1 after the settings; dense inputs such as an image stay dense) by a per-sample
// factor and a per-operator factor, both uniform in their ranges and drawn from the model's
// seed, clamped to [min_density, 1]. Each sample is one simulation; equal (config, annotated
// graph, fidelity) triples are simulated once per process.
//
// Owns nothing but that computation; includes serving/multi_dnn.hpp, arch/, workloads/, sim/.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "serving/multi_dnn.hpp"

namespace tessera::serving {

// Reads the workload keys of the model at `r` (whose JSON object is `spec`): workload,
// workload_settings, arch (else `default_arch`), set, fidelity, samples, variation and
// layer_name_parts; fills m.table_file, sample_ids, latency_s and sparsity and the averages.
// InputError naming the scenario file and the key's JSON path (with the inner file's message).
void compute_workload_table(LatencyTableModel& m, ParamReader& r, const nlohmann::json& spec,
                            const std::string& dir, const std::string& default_arch);

}  // namespace tessera::serving
