// The Eyeriss engine (Chen et al., ISSCC 2016 / ISCA 2016 / JSSC 2017): a 12×14 array of 16-bit
// PEs running the row-stationary (RS) dataflow, with per-PE scratchpads (ifmap 12 words, filter
// 224 words, psum 24 words), a 108 KB global buffer and DRAM.
//
// Row stationary (docs/bitfusion.md, "Eyeriss"): a convolution's 2-D plane is a logical PE set of
// R filter rows × E output rows; each PE runs a 1-D convolution (one filter row over one ifmap
// row: S·F MACs, one per cycle). Sets wider than the array are cut into strips of at most 14
// output rows; sets that fit are replicated over the array (floor(12/R') × floor(14/e) copies),
// each copy working on another (image, channel, filter) plane. Cycles = ceil(planes × strips /
// copies) × S·F. A matrix product is a 1×1 convolution (168 copies, one MAC per PE per cycle).
// Each PE keeps q channels and p filters (q = ifmap spad / S, p = min(psum spad, filter spad /
// (S·q))): the global buffer sends each ifmap once per group of p filters and takes partial sums
// back once per group of q channels. DRAM: every operand once (the buffer is assumed to hold the
// working set; the published DRAM counts are higher, docs/validation.md).
// All data are word_bits (16) wide whatever the workload's precision: Eyeriss is a 16-bit design.
#pragma once

#include <memory>

#include "arch/energy/streams.hpp"
#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

using workloads::i64;

struct EyerissParams {
  // Clock (default 200 MHz), DRAM (default 8 B/cycle), vector unit, technology (the hamming
  // model's MAC energies), fusion, area (default the 65 nm chip's core, 3.5 mm x 3.5 mm).
  CommonParams common = default_common();
  i64 rows = 12, cols = 14;
  int word_bits = 16;
  i64 ifmap_spad_words = 12, filter_spad_words = 224, psum_spad_words = 24;
  u64 glb_bytes = 108 * 1024;
  // Energy per access of one word, in units of a MAC (Chen et al., ISCA 2016, Table IV, 65 nm:
  // ALU 1, RF 1, inter-PE array 2, global buffer 6, DRAM 200), times unit_pj. The defaults are the
  // Bit Fusion artifact's Eyeriss baseline: 3.2 pJ per unit and DRAM at 0.15 × 200.
  double unit_pj = 3.2;
  double mac_units = 1, rf_units = 1, array_units = 2, glb_units = 6, dram_units = 30;

  static CommonParams default_common();
};

class EyerissEngine final : public EngineBase, public energy::OperandStreamSource {
 public:
  explicit EyerissEngine(const EyerissParams& p);
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "eyeriss"; }
  double peak_macs_per_cycle() const override { return static_cast<double>(p_.rows * p_.cols); }
  // "chip": the config's area_mm2, the chip's core (12 x 14 PEs of 16-bit words with the default
  // scratchpads, a 108 KiB global buffer), scaled for another size by the technology table's
  // estimate of both; "vector": the model's vector unit, which the chip did not have.
  AreaBreakdown area_by_component() const override;
  u64 on_chip_bytes() const override { return p_.glb_bytes; }
  using Engine::map;
  std::vector<KindSupport> kinds() const override {
    return mac_kinds_on_datapath(Unit::vector_unit);
  }
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

  // OperandStreamSource: the PE ports in row-stationary order.
  const energy::OperandStreamSource* stream_source() const override { return this; }
  std::optional<energy::LayerStreams> operand_streams(const workloads::Operator& op) const override;
  std::shared_ptr<const energy::Technology> technology() const override { return common_.tech; }
  std::optional<energy::HammingOptions> hamming_in_simulate() const override { return common_.hamming; }

  const EyerissParams& params() const { return p_; }

 private:
  EyerissParams p_;
  double area_mm2_ = 0;
};

}  // namespace tessera::arch
