// The systolic-array engine: an R×C array of MAC PEs (TPU-style) running convolutions and
// matrix products as GEMMs (dataflows/gemm.hpp) in weight-, output- or input-stationary
// dataflow, with ifmap, filter and ofmap SRAMs (double-buffered) and DRAM per operand channel.
//
// Two modes (docs/systolic.md):
//   native   the hardware as it should be: folds pipelined (the next fold's stationary operand
//            loads while the current one streams), reuse of operands across folds while they
//            fit in half a buffer, partial sums accumulated on chip while they fit (spilled at
//            accumulator precision otherwise), channel-parallel depthwise convolutions.
//   scalesim SCALE-Sim v2's conventions (data/reference/scalesim/README.md): folds one
//            after another, its per-fold cycle formulas and -1, groups and its "DP" depthwise
//            layers as separate layers, its SRAM access counters (including the os counter
//            artefact), DRAM traffic of a stall-free run with large buffers.
// Native mode maps each layer with the mapper (dataflows/mapper.hpp: loop order and tile sizes
// under the buffers, minimising latency, energy or EDP), or with one fixed loop order per
// dataflow ("mapping": "fixed", the plan described above). Operators without MACs run on the
// vector unit (arch/vector_unit.hpp); in scalesim mode they cost nothing, as SCALE-Sim's
// topologies have none, and the report says so.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "arch/energy/streams.hpp"
#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"
#include "dataflows/gemm.hpp"
#include "dataflows/mapper.hpp"

namespace tessera::arch {

using workloads::i64;

struct SystolicParams {
  CommonParams common;  // clock, dram, vector unit, technology, fusion, area
  i64 rows = 32, cols = 32;
  dataflows::Dataflow dataflow = dataflows::Dataflow::ws;
  bool scalesim_mode = false;
  bool os_paper_fold = false;  // scalesim mode: os fold takes 2R + C + T - 2 as in v1 and the paper
  u64 ifmap_sram_bytes = 64 * 1024, filter_sram_bytes = 64 * 1024, ofmap_sram_bytes = 64 * 1024;
  int accumulator_bits = 32;  // partial sums spilled to DRAM
  // Native mode: "mapper" searches loop order and tile sizes per layer (dataflows/mapper.hpp);
  // "fixed" keeps one loop order per dataflow with reuse while operands fit half a buffer.
  bool use_mapper = true;
  dataflows::MapperObjective objective = dataflows::MapperObjective::latency;
  // Energy and area come from the technology table (arch/energy/technology.hpp, docs/energy.md).
  std::string dram_type = "ddr4";               // the table's dram_pj_per_bit entry
  std::string pe_precision = "auto";            // MAC entry: "auto" = each layer's operand width
  // Flat overrides of the table (the config keys of the placeholder model); unset = table.
  std::optional<double> mac_energy_pj, sram_energy_pj_per_byte, dram_energy_pj_per_byte;
};

class SystolicEngine final : public EngineBase, public energy::OperandStreamSource {
 public:
  explicit SystolicEngine(const SystolicParams& p);
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "systolic"; }
  double peak_macs_per_cycle() const override { return static_cast<double>(p_.rows * p_.cols); }
  AreaBreakdown area_by_component() const override;
  u64 on_chip_bytes() const override {
    return p_.ifmap_sram_bytes + p_.filter_sram_bytes + p_.ofmap_sram_bytes;
  }
  // SCALE-Sim mode says what it does not time (operators without MACs, DRAM traffic that does
  // not stall SCALE-Sim's array).
  // SCALE-Sim mode models no operator without MACs (supports() warns); native mode runs them
  // on the vector unit.
  std::vector<KindSupport> kinds() const override {
    return mac_kinds_on_datapath(p_.scalesim_mode ? Unit::none : Unit::vector_unit);
  }
  std::vector<std::string> supports(const workloads::Operator& op) const override;
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  // Native mode: an output that fits half the ofmap buffer (with no partial-sum spill) and half
  // the ifmap buffer, and is exactly the consumer's input, stays on chip.
  bool keeps_on_chip(const workloads::Operator& producer,
                     const workloads::Operator& consumer) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

  // OperandStreamSource: the PE ports (activation in, weight, partial sum out) in the order the
  // dataflow delivers them (docs/energy.md, "Systolic streams").
  const energy::OperandStreamSource* stream_source() const override { return this; }
  std::optional<energy::LayerStreams> operand_streams(const workloads::Operator& op) const override;
  std::string mac_precision(const workloads::Operator& op) const override;
  std::shared_ptr<const energy::Technology> technology() const override { return common_.tech; }
  std::optional<energy::HammingOptions> hamming_in_simulate() const override { return common_.hamming; }

  const SystolicParams& params() const { return p_; }

 private:
  LayerWork map_scalesim(const workloads::Operator& op, const dataflows::GemmView& g) const;
  LayerWork map_native(const workloads::Operator& op, dataflows::GemmView g,
                       const MapContext& context) const;
  LayerWork map_searched(const workloads::Operator& op, dataflows::GemmView g,
                         const MapContext& context) const;
  // The SRAM and mapping figures both native plans report.
  void add_sram_accesses(LayerWork& w, const workloads::Operator& op,
                         const dataflows::GemmView& g) const;
  double leakage_pj_per_cycle() const { return leakage_sum_; }  // the mapper's static cost
  SystolicParams p_;
  // From p_ and the technology table once (energy() runs for every layer simulated): the PE
  // array's and the SRAMs' area, and leakage per cycle by component ("leakage.pe_array",
  // "leakage.vector", "leakage.sram") and its sum.
  double pe_mm2_ = 0, sram_mm2_ = 0;
  EnergyBreakdown leakage_;
  double leakage_sum_ = 0;
};

}  // namespace tessera::arch
