// The adaptable butterfly accelerator (Fan et al., MICRO 2022; docs/butterfly.md): P_BE butterfly
// engines of P_BU adaptable butterfly units, each unit doing one radix-2 butterfly per cycle in
// either mode (butterfly linear: 4 real multiplies and 2 adds; FFT: a complex twiddle multiply, an
// add and a subtract). An engine holds one row (a token's features, or a column of the FFT's
// second pass) in its ping-pong data banks (2 x P_BU banks each), fed one value per cycle by a
// serial-to-parallel path and drained by a parallel-to-serial one; stage coefficients are
// broadcast to every engine from one buffer. ABfly layers' attention products run on an
// attention processor (head lanes with QK and SV units); LayerNorm, GELU and softmax on the
// vector unit (softmax with its pipeline latency); shortcuts fuse on the output path.
//
// Ports: "input", "coefficients" (stage weights or twiddles), "output", and "epilogue_in" for
// fused shortcuts: the memory's channels name them.
//
// Two modes (butterfly.mode):
//   reference: the artefact's performance model (SamsungLabs/Butterfly_Acc, bfly_accelerator.py):
//     its per-run cycle counts, its load/compute/store pipelines over ceil(rows / P_BE) runs,
//     both FFT passes counted as D-point passes over the rows, DRAM cycles inside its stage costs
//     (the port widths of the channels carrying input, coefficients and output), and the
//     end-to-end efficiency factor (butterfly.efficiency, default 0.85). Other operators cost
//     nothing. tests/arch/test_butterfly.cpp holds it against the artefact's latencies.
//   native (default): the same datapath as double-buffered tiles through the memory channels:
//     the real L-point second FFT pass, ABfly attention, LayerNorm and shortcut time, bank
//     conflicts (butterfly.bank_layout "linear"), DRAM latency.
#pragma once

#include <memory>
#include <string>

#include "arch/energy/streams.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

struct ButterflyParams {
  CommonParams common;
  std::int64_t engines = 120;  // P_BE
  std::int64_t units = 4;      // P_BU, a power of two
  bool reference = false;
  double efficiency = 1.0;  // cycles are divided by it (reference default 0.85)
  // "conflict_free": the artefact's layout, every stage reads 2 P_BU banks once a cycle;
  // "linear": value j in bank j mod 2 P_BU, so stages of stride >= 2 P_BU take two cycles a step.
  bool linear_banks = false;
  std::int64_t max_length = 4096;    // points a row may have (the data banks' depth x 2 P_BU)
  std::int64_t attention_lanes = 8;  // heads computed at once
  std::int64_t attention_macs_per_lane = 32;  // per QK unit and per SV unit
  std::uint64_t softmax_latency = 72;         // cycles before the first softmax row leaves
  std::string dram_type = "hbm2";
};

class ButterflyEngine final : public EngineBase, public energy::OperandStreamSource {
 public:
  explicit ButterflyEngine(const ButterflyParams& p);
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "butterfly"; }
  // Butterfly units: four multiplies a cycle each.
  double peak_macs_per_cycle() const override;
  // The attention processor's peak for products of two activations; a complex butterfly layer's
  // complex MACs on the units' four multipliers: one a cycle per unit.
  double peak_macs_per_cycle(const workloads::Operator& op) const override;
  // The FFT mode's complex multiply: 4 real multiplies, and the adds of the product and of the
  // accumulation (energy::kComplexMac4). Native mode runs complex butterfly layers on it; the
  // artefact's model (reference mode) has none.
  std::optional<energy::ComplexMac> complex_mac() const override;
  // Butterfly units, attention processor, data banks, coefficient buffer and vector unit, from
  // the technology table (or the config's area_mm2).
  AreaBreakdown area_by_component() const override;
  // Butterfly and FFT layers on the butterfly units, products of two activations on the
  // attention processor (the datapath too), elementwise, softmax, norms and data movement on the
  // vector unit; in reference mode only butterfly and FFT layers are timed (the others: none).
  std::vector<KindSupport> kinds() const override;
  // Reference mode times the artefact's layers alone: shortcuts stay separate, untimed layers.
  bool fuses_epilogues() const override { return !p_.reference && common_.fusion; }
  // An engine holds a whole row in its data banks: LayerNorm runs on the output path, as the
  // accelerator's post-processing does, beside shortcuts.
  bool fuses_row_norms() const override { return true; }
  u64 on_chip_bytes() const override;
  std::vector<std::string> supports(const workloads::Operator& op) const override;
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;

  // OperandStreamSource: each butterfly unit's two data inputs ("bu.upper", "bu.lower": pair j,
  // j + 2^s of stage s, unit u taking the pairs u, u + P_BU, ... of its engine's row) and its
  // coefficients ("bu.coef.a" .. "bu.coef.d" of a butterfly layer's 2x2 blocks; "bu.twiddle.re",
  // "bu.twiddle.im" of an FFT), as indexed streams (energy/streams.hpp), one row per engine.
  const energy::OperandStreamSource* stream_source() const override { return this; }
  std::optional<energy::LayerStreams> operand_streams(const workloads::Operator& op) const override;
  std::shared_ptr<const energy::Technology> technology() const override { return common_.tech; }
  std::optional<energy::HammingOptions> hamming_in_simulate() const override {
    return common_.hamming;
  }

  const ButterflyParams& params() const { return p_; }
  // The artefact's cycles for a butterfly or FFT operator (reference mode, before the
  // efficiency factor). Throws UnsupportedError for other operators.
  u64 reference_cycles(const workloads::Operator& op) const;

 private:
  LayerWork map_reference(const workloads::Operator& op) const;
  LayerWork map_native(const workloads::Operator& op, const MapContext& context) const;
  LayerWork map_attention(const workloads::Operator& op, const MapContext& context) const;
  // Cycles of one row's `points`-point butterfly network on one engine (bank conflicts included).
  u64 row_cycles(std::int64_t points) const;
  u64 port_bits(std::string_view port) const;  // a channel's width in bits per cycle
  ButterflyParams p_;
};

}  // namespace tessera::arch
