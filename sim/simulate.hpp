// Runs a workload graph on an engine at a fidelity and returns per-layer results in topological
// order. Engines map operators; this file plans a graph (plan_graph), times its layers
// (time_layers) and accounts for them (account): energy, bounds, bit toggles.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/engine.hpp"
#include "sim/timing.hpp"
#include "sim/trace.hpp"
#include "workloads/graph.hpp"

namespace tessera::sim {

struct LayerResult {
  std::string name;
  std::string kind;
  // The unit that runs it (arch::Engine::runs_on): "datapath", "vector_unit" (a fused epilogue: on
  // its layer's output path) or "none" (reference modes that model no such operators).
  std::string runs_on;
  std::string source;
  LayerTiming timing;
  // timing.compute_cycles by unit: the MAC array's (0 for a layer without MACs) and the vector
  // unit's (the layer's own operations, or its fused epilogues' on the array's output path,
  // softmax and GELU included). They overlap: compute_cycles = max(mac_cycles, vector_cycles).
  u64 mac_cycles = 0;
  u64 vector_cycles = 0;
  u64 macs = 0;
  // The engine's peak at this layer's precisions (Engine::peak_macs_per_cycle(op)); 0 when
  // fused into another layer.
  double peak_macs_per_cycle = 0;
  double utilization = 0;          // macs / (cycles * peak MACs per cycle)
  double compute_utilization = 0;  // macs / (compute_cycles * peak MACs per cycle)
  arch::AccessCounts accesses;
  arch::EnergyBreakdown energy;
  double energy_pj = 0;
  std::map<std::string, double> metrics;  // engine-specific (arch::LayerWork::metrics)
  std::optional<dataflows::MappingInfo> mapping;  // the mapper's choice (arch::LayerWork)
  // The least cycles physics allows for the layer's work: max(MACs / peak at its precision,
  // each channel's timed bytes / its sustained rate). Every fidelity's cycles are at least this.
  u64 roofline_cycles = 0;
  double unit_utilization = 0;  // busy unit-cycles / (units x cycles): load balance included
  std::vector<std::string> fused;   // epilogues fused into this layer
  std::vector<std::string> folded;  // batch norms folded into it at load time (Operator::folded)
  std::string fused_into;          // for a fused epilogue: the layer that runs it (no cycles here)
  std::vector<std::string> warnings;  // annotations the engine ignored (Engine::supports)
  // With energy.hamming in the engine's config: the layer's toggle counts and datapath energy
  // (arch::energy::to_json's layer object); the "mac" energy is then split into "mac.toggle"
  // and "mac.base". Null otherwise.
  nlohmann::json hamming;
};

// Mapped operators by what decides their mapping (shape, precisions, densities, the digest of
// their masks, the on-chip context), so that an operator met again is not mapped again: a network's repeated blocks in
// one run, and the steps of a generation run (sim/generation.hpp), which differ only in their
// attention layers. Also the analytical timings of the plans met (a layer's analytical timing
// depends on its plan and the engine's memory alone), so that an equal plan is not timed
// again. Valid for one engine. Thread-safe: threads may share one cache (a serving layer
// planning requests in parallel); an operator two threads meet at once may be mapped by both,
// the first result kept. References it returns stay valid while it lives.
class MapCache {
 public:
  // Maps `op` unless mapped before in this context, and returns its work.
  const arch::LayerWork& map(const arch::Engine& engine, const workloads::Operator& op,
                             const arch::MapContext& context);
  std::size_t size() const;
  std::uint64_t hits() const { return hits_.load(); }

  // The analytical timing of a plan equal to `plan` timed before, or null; and recording one
  // (`digest`: dataflows::digest(plan)).
  const LayerTiming* find_timing(const dataflows::TilePlan& plan, std::uint64_t digest) const;
  const LayerTiming& add_timing(const dataflows::TilePlan& plan, std::uint64_t digest,
                                const LayerTiming& t);

 private:
  // The work of an operator mapped before in this context, or null.
  const arch::LayerWork* find(const workloads::Operator& op, const arch::MapContext& context) const;

  struct Entry {
    workloads::OpShape shape;
    workloads::Precision precision;
    workloads::Density density;
    std::uint64_t masks = 0;  // Operator::masks' digest, 0 without
    arch::MapContext context;
    arch::LayerWork work;
  };
  // Node-based maps: elements keep their addresses when others are added.
  std::unordered_multimap<std::uint64_t, Entry> entries_;
  std::unordered_multimap<std::uint64_t, std::pair<dataflows::TilePlan, LayerTiming>> timings_;
  std::atomic<std::uint64_t> hits_{0};
  mutable std::shared_mutex mutex_;  // guards both maps
};

// A graph planned for one engine, before any timing: the fusion groups, which outputs stay on
// chip, each layer's mapped work (tile plan with its ports on memory channels, accesses, MACs,
// vector work with its fused epilogues) and the warnings of each operator. Indices are
// positions in `order`; a layer is a group of operators run as one, named by its first
// (`heads`). Serving plans a graph once and times and accounts it per job.
struct GraphPlan {
  std::vector<workloads::Graph::Node> order;    // topological
  std::vector<std::size_t> head;                // head[i]: the layer that runs operator i
  std::vector<std::size_t> heads;               // the layers, in order
  std::vector<arch::LayerWork> work;            // at the heads: the layer's work
  std::vector<u64> mac_cycles;  // at the heads: the MAC array's compute, before epilogues extend it
  std::vector<std::vector<std::string>> warnings;  // per operator (Engine::supports)
  // The layers' tile plans in order (pointers into `work`): what a timer or executor runs.
  std::vector<const dataflows::TilePlan*> plans() const;
};

// Plans `graph` on `engine`: fusion, on-chip residency, mapping (through `cache` when given),
// epilogues and channel assignment. Thread-safe where `cache` is not shared.
GraphPlan plan_graph(const arch::Engine& engine, const workloads::Graph& graph,
                     MapCache* cache = nullptr);

// Times the planned layers at `fidelity` (a sim::fidelities() name), one LayerTiming per head.
// A memoising fidelity looks plans timed before up in `cache`; SystemC refuses layers beyond
// its tile limit, and runs that could pass its time limit, with one line naming the operator.
std::vector<LayerTiming> time_layers(const arch::Engine& engine, const workloads::Graph& graph,
                                     const GraphPlan& plan, const std::string& fidelity,
                                     Trace* trace = nullptr, MapCache* cache = nullptr);

// The per-operator results of a planned graph given its layers' timings (one per head, as
// time_layers returns): utilisation, physical bounds, energy, bit-toggle energy
// (energy.hamming; `progress` is told how that count progresses). The plan is not changed.
using Progress = std::function<void(const std::string& stage, std::size_t done, std::size_t total)>;
std::vector<LayerResult> account(const arch::Engine& engine, const workloads::Graph& graph,
                                 const GraphPlan& plan, const std::vector<LayerTiming>& timings,
                                 const Progress& progress = {});

// plan_graph, time_layers and account in one call.
//
// Epilogues (elementwise operators and batch norms right after a convolution or matrix product
// that is their input's only consumer) fuse into that layer when the engine fuses
// (Engine::fuses_epilogues): their vector operations run on its output path, other inputs (the
// residual of an add) stream in beside its tiles, and their own rows report no cycles.
//
// `fidelity` names an entry of sim::fidelities() (an unknown name is an InputError listing
// them); calls may run on several threads at once where the entry is thread_safe (analytical),
// otherwise one at a time per process (systemc, see systemc/tile_sim.hpp). With `trace`, the
// SystemC run's compute spans and transfers are recorded into it. With `cache` (for `engine`),
// operators mapped by earlier calls are not mapped again; results are the same.
// `progress` is told how the bit-toggle count progresses (energy.hamming): stage, layers done,
// layers in all.

std::vector<LayerResult> simulate(const arch::Engine& engine, const workloads::Graph& graph,
                                  const std::string& fidelity, Trace* trace = nullptr,
                                  MapCache* cache = nullptr, const Progress& progress = {});

// The least cycles for `work` on `engine` (LayerResult::roofline_cycles); the plan's ports must
// have their channels.
u64 roofline_cycles(const arch::Engine& engine, const workloads::Operator& op,
                    const arch::LayerWork& work);

}  // namespace tessera::sim
