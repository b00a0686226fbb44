// The engine interface: what a piece of hardware is, independent of how it is simulated in time.
// An engine validates its parameters once (constructor), then turns operators into work: a tile
// plan plus the access counts and MACs the energy model needs. No SystemC here; sim/ executes
// the plans. Implementations must be thread-safe for concurrent map()/energy() calls (the
// explorer evaluates layers and design points on many threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "common/registry.hpp"
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

// Energy in pJ by component and action ("mac", "dram.read", "leakage", ...).
using EnergyBreakdown = std::map<std::string, double>;

// What an engine does for one operator, before timing.
struct LayerWork {
  dataflows::TilePlan plan;
  AccessCounts accesses;
  u64 macs = 0;  // useful MACs
  int mac_bits = 0;  // widest operand precision of the MACs (picks the technology table's MAC entry)
  // Engine-specific figures with their names, reported per layer (e.g. "mapping_efficiency").
  std::map<std::string, double> metrics;
};

// What the neighbouring operators leave in the on-chip buffers (decided by sim::simulate from the
// graph and Engine::keeps_on_chip).
struct MapContext {
  bool input_on_chip = false;   // the input is the previous operator's output, still on chip
  bool output_on_chip = false;  // the output stays on chip as the next operator's input
};

// The off-chip memory as the simulators see it: one channel shared by all operands, or one
// channel per operand (ifmap, filter, ofmap), each with this bandwidth, as SCALE-Sim models it.
// A tile's transfers of one direction on one channel form one transfer, which holds the channel
// for latency + ceil(bytes / bandwidth) cycles (sim/timing.hpp).
struct DramParams {
  double bytes_per_cycle = 1.0;  // may be infinite: transfers then cost only their latency
  u64 latency_cycles = 0;
  bool per_operand_channels = false;

  std::size_t channels() const { return per_operand_channels ? dataflows::kOperands : 1; }
  std::size_t channel_of(dataflows::Operand o) const {
    return per_operand_channels ? std::size_t{o} : 0;
  }
};

// An operator without MACs on an engine that models no vector unit: one tile that reads its input
// from DRAM and writes its output back (either skipped when the neighbouring operator keeps it on
// chip), with the matching "dram.ifmap" / "dram.ofmap" accesses. Appended to `work`.
void add_dram_only_tile(LayerWork& work, u64 input_bytes, u64 output_bytes,
                        const MapContext& context);

// Reads the timing keys of a config's "dram" object into `dram`: "bandwidth" (a bandwidth with
// units, or "unlimited"; `default_bandwidth` when absent) and "latency_cycles" (default 0).
// Other keys of the object are the engine's to read.
void read_dram_timing(ParamReader& dram, double clock_hz, const std::string& default_bandwidth,
                      DramParams& out);
// A bandwidth in bytes/cycle as resolved configs write it: the number, or "unlimited".
nlohmann::json bandwidth_json(double bytes_per_cycle);

class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::string engine_name() const = 0;
  virtual double clock_hz() const = 0;
  virtual double peak_macs_per_cycle() const = 0;
  virtual DramParams dram() const = 0;
  virtual double area_mm2() const = 0;

  // Maps an operator. Throws UnsupportedError for operator kinds the engine cannot run.
  virtual LayerWork map(const workloads::Operator& op, const MapContext& context) const = 0;
  LayerWork map(const workloads::Operator& op) const { return map(op, MapContext{}); }

  // Whether `producer`'s output can stay in the buffers as the input of `consumer`, its only
  // consumer, which runs right after it. Engines without inter-layer reuse say no.
  virtual bool keeps_on_chip(const workloads::Operator& /*producer*/,
                             const workloads::Operator& /*consumer*/) const {
    return false;
  }

  // Energy of a mapped operator that took `cycles` cycles.
  virtual EnergyBreakdown energy(const LayerWork& work, u64 cycles) const = 0;

  // Every parameter with defaults applied, as a config with the same keys and each number in
  // its key's default unit (clock in MHz, bandwidth in bytes/cycle, ...), so it reads back as
  // the same design point. Reports carry it, and it is hashed to identify the design point.
  virtual nlohmann::json resolved_config() const = 0;
};

// An engine template: builds a validated engine from the config's keys (other than "engine" and
// "name"). The factory reads its keys through the ParamReader; unknown keys are errors.
using EngineFactory = std::function<std::unique_ptr<Engine>(ParamReader& params)>;

// Every built-in engine template, by the name the config's "engine" key uses.
const Registry<EngineFactory>& engines();

}  // namespace tessera::arch
