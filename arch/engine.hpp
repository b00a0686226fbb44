// The engine interface: what a piece of hardware is, independent of how it is simulated in time.
// An engine validates its parameters once (constructor), then turns operators into work: a tile
// plan plus the access counts and MACs the energy model needs. No SystemC here; sim/ executes
// the plans. Implementations must be thread-safe for concurrent map()/energy() calls (the
// explorer evaluates layers and design points on many threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "common/registry.hpp"
#include "arch/energy/streams.hpp"
#include "arch/energy/technology.hpp"
#include "arch/memory.hpp"
#include "arch/vector_unit.hpp"
#include "dataflows/mapper.hpp"
#include "dataflows/tile_plan.hpp"
#include "workloads/operator.hpp"

namespace tessera::arch {

using u64 = std::uint64_t;

// Bytes read and written at one level of the memory hierarchy ("dram", "sram", "rf", ...).
struct Accesses {
  u64 read_bytes = 0;
  u64 write_bytes = 0;
};
using AccessCounts = std::map<std::string, Accesses>;

// Energy in pJ by component and action ("mac", "dram.read", "vector", "leakage", ...).
using EnergyBreakdown = std::map<std::string, double>;

// Area in mm² by component: "pe_array", "sram", "vector" (the vector unit, on every engine that
// estimates its area), or "given" alone when the config's area_mm2 replaces the estimate.
using AreaBreakdown = std::map<std::string, double>;

// What an engine does for one operator, before timing.
struct LayerWork {
  dataflows::TilePlan plan;
  AccessCounts accesses;
  u64 macs = 0;  // useful MACs
  int mac_bits = 0;  // widest operand precision of the MACs (picks the technology table's MAC entry)
  workloads::NumberFormat mac_format = workloads::NumberFormat::integer;  // their arithmetic
  std::optional<energy::ComplexMac> complex_mac;  // set when they are complex MACs
  VectorWork vector;  // vector-unit operations: the operator's own, or its fused epilogues'
  // Engine-specific figures with their names, reported per layer (e.g. "mapping_efficiency").
  std::map<std::string, double> metrics;
  std::optional<dataflows::MappingInfo> mapping;  // the mapper's choice, when the engine maps
  // The share of the MACs that cost MAC energy: zero-gated operands (energy.zero_gating) spare
  // theirs (sim::plan_graph sets it from Engine::mac_energy_fraction).
  double mac_energy_fraction = 1.0;
};

// What the neighbouring operators leave in the on-chip buffers (decided by sim::simulate from the
// graph and Engine::keeps_on_chip).
struct MapContext {
  bool input_on_chip = false;   // the input is the previous operator's output, still on chip
  bool output_on_chip = false;  // the output stays on chip as the next operator's input
};

// Where an engine runs an operator kind: its MAC datapath (an ideal engine's roofline counts as
// one), its vector unit, or nowhere (reference modes that model no such operators: no time, no
// traffic). Reports state it per layer, so a fallback is a listed choice, never an accident.
enum class Unit { datapath, vector_unit, none };
std::string_view to_string(Unit unit);

struct KindSupport {
  workloads::OpKind kind;
  Unit unit;
};

// The list of array engines that multiply on their datapath (conv, matmul) and run every other
// kind of today on `others` (the vector unit, or none in a reference mode). Kinds added later
// are not in it: each engine adds them to its own list once it models them.
std::vector<KindSupport> mac_kinds_on_datapath(Unit others);

class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::string engine_name() const = 0;
  virtual double clock_hz() const = 0;
  virtual double peak_macs_per_cycle() const = 0;
  // The peak at an operator's precisions (bit-composable engines do more MACs at fewer bits).
  virtual double peak_macs_per_cycle(const workloads::Operator& /*op*/) const {
    return peak_macs_per_cycle();
  }
  virtual const MemorySystem& memory() const = 0;
  virtual const VectorUnit& vector_unit() const = 0;
  // The area by component; area_mm2() is their sum.
  virtual AreaBreakdown area_by_component() const = 0;
  double area_mm2() const;
  // Bytes of on-chip operand buffers (SRAM; register files and the vector unit's buffer aside):
  // what could hold a tensor between steps, such as a KV cache. 0 when the engine models none.
  virtual u64 on_chip_bytes() const { return 0; }
  // Whether epilogues (bias, batch norm, activations, residual adds) run on the output path of
  // the MAC layer that produces their input (config key "fusion", default true).
  virtual bool fuses_epilogues() const { return true; }
  // Whether layer norms are epilogues too: an engine that holds each output row whole before it
  // leaves (the butterfly engine's data banks) takes a row's statistics on the output path. Only
  // asked when fuses_epilogues().
  virtual bool fuses_row_norms() const { return false; }

  // The operator kinds the engine runs and on which unit. Every engine lists its own: a kind it
  // does not list is refused by supports() (an operator shape added to the IR is an error on
  // every engine until one says how it runs it).
  virtual std::vector<KindSupport> kinds() const = 0;
  // The unit that runs `op`; throws UnsupportedError naming the operator and the engine when the
  // engine does not list its kind.
  Unit runs_on(const workloads::Operator& op) const;

  // What the engine does with an operator: throws UnsupportedError for what it cannot run (by
  // default, a kind kinds() does not list); returns one warning per annotation it ignores (safe
  // to ignore, reported). The default runs every listed operator densely and warns about
  // densities and N:M patterns. Overrides call it first.
  virtual std::vector<std::string> supports(const workloads::Operator& op) const;

  // Maps an operator. Throws UnsupportedError for operator kinds the engine cannot run.
  virtual LayerWork map(const workloads::Operator& op, const MapContext& context) const = 0;
  LayerWork map(const workloads::Operator& op) const { return map(op, MapContext{}); }

  // Whether `producer`'s output can stay in the buffers as the input of `consumer`, its only
  // consumer, which runs right after it. Engines without inter-layer reuse say no.
  virtual bool keeps_on_chip(const workloads::Operator& /*producer*/,
                             const workloads::Operator& /*consumer*/) const {
    return false;
  }

  // How the engine builds a complex MAC (4 real multiplies, or Gauss's 3: a stated choice), or
  // nullopt when it has no complex datapath; supports() then refuses complex operators.
  virtual std::optional<energy::ComplexMac> complex_mac() const { return std::nullopt; }
  // The share of `op`'s MACs that cost MAC energy: 1, or with zero gating the product of the
  // gated operands' densities (their masks' when the operator has masks from data).
  virtual double mac_energy_fraction(const workloads::Operator& /*op*/) const { return 1.0; }

  // The description of the engine's datapath streams for the bit-toggle energy model
  // (arch/energy/streams.hpp), or null when it has none.
  virtual const energy::OperandStreamSource* stream_source() const { return nullptr; }

  // Energy of a mapped operator that took `cycles` cycles.
  virtual EnergyBreakdown energy(const LayerWork& work, u64 cycles) const = 0;

  // Every parameter with defaults applied, as a config with the same keys and each number in
  // its key's default unit (clock in MHz, bandwidth in bytes/cycle, ...), so it reads back as
  // the same design point. Reports carry it, and it is hashed to identify the design point.
  virtual nlohmann::json resolved_config() const = 0;
};

// The keys every engine shares, read once and written back from one table (docs/configs.md):
//   clock, dram (arch/memory.hpp), vector (arch/vector_unit.hpp), technology, fusion, area_mm2,
//   and energy.hamming (engines with operand streams).
// An engine template reads its own keys (its energy keys through read_common's callback, so the
// "energy" object is checked once) and leaves these to read_common(); resolved configs merge
// with_common() with the engine's own keys.
struct CommonParams {
  double clock_hz = 1e9;
  MemorySystem memory;
  VectorUnit vector;
  std::string technology = "45nm";              // built-in name or JSON file
  std::shared_ptr<const energy::Technology> tech;  // loaded from `technology`
  bool fusion = true;
  std::optional<double> area_mm2;  // given area instead of the engine's estimate
  // energy.hamming: the bit-toggle datapath energy in `simulate` (engines with operand streams)
  std::optional<energy::HammingOptions> hamming;
  // energy.zero_gating (engines whose PEs can gate): operands whose zeros are gated ("weights",
  // "activations", "both"): the cycles stay dense, gated MACs cost no MAC energy.
  bool gate_weights = false, gate_activations = false;
};

struct CommonDefaults {
  std::string clock = "1 GHz";
  MemoryDefaults memory;
  bool dram_required = false;  // the "dram" object must be present (no default bandwidth)
  bool hamming = false;  // the engine describes operand streams: energy.hamming is a key
  bool zero_gating = false;  // the engine's PEs can gate zero operands: energy.zero_gating is a key
};

// The engine's own keys of the "energy" object, read after the shared ones with the loaded
// technology table; the object is then finished (an unknown key is an error naming its path).
using EnergyKeys = std::function<void(ParamReader& energy, const energy::Technology& tech)>;
CommonParams read_common(ParamReader& config, const CommonDefaults& defaults,
                         const EnergyKeys& own_energy = {});

// PE array rows, columns and vector lanes are at most 2^16 each: far beyond any built array, and
// the engines' products of them with tile sizes and bit widths stay within 64 bits.
inline constexpr std::int64_t kMaxArrayDimension = 65536;
// An array dimension in [1, kMaxArrayDimension]; required when `fallback` is absent.
std::int64_t array_dimension(ParamReader& r, const std::string& key,
                             std::optional<std::int64_t> fallback = std::nullopt);


class EngineBase : public Engine {
 public:
  // Loads the technology table and the vector unit's energies when the params were built in code.
  explicit EngineBase(CommonParams common);
  double clock_hz() const override { return common_.clock_hz; }
  const MemorySystem& memory() const override { return common_.memory; }
  const VectorUnit& vector_unit() const override { return common_.vector; }
  bool fuses_epilogues() const override { return common_.fusion; }
  double mac_energy_fraction(const workloads::Operator& op) const override;
  const CommonParams& common() const { return common_; }

 protected:
  // An operator without MACs on the vector unit: its operations, and its input, parameters
  // (norm scales, gathered embedding rows) and output through the memory system in tiles of
  // half the unit's buffer (input skipped when on chip, output when it stays). Views cost nothing.
  // `split`: false keeps one tile (streaming plans, where every tile pays the latency).
  LayerWork map_vector(const workloads::Operator& op, const MapContext& context,
                       bool split = true) const;
  double vector_area_mm2() const { return common_.vector.area_mm2(*common_.tech); }
  // `estimate` (the engine's components, the vector unit added here), or the config's area_mm2.
  AreaBreakdown area_or_given(AreaBreakdown estimate) const;
  // The shared keys, resolved, merged into an engine's own resolved keys.
  nlohmann::json with_common(nlohmann::json own) const;

  CommonParams common_;
};

// An engine template: builds a validated engine from the config's keys (other than "engine" and
// "name"). The factory reads its keys through the ParamReader; unknown keys are errors.
using EngineFactory = std::function<std::unique_ptr<Engine>(ParamReader& params)>;

// Every built-in engine template, by the name the config's "engine" key uses.
const Registry<EngineFactory>& engines();

}  // namespace tessera::arch
