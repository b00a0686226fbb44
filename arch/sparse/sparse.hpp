// The sparse engine: an array of PEs that skip or gate zero operands, with compressed formats in
// its memories, in Sparseloop's taxonomy (per operand: a representation format per level, and
// gating or skipping at the PEs). docs/sparse.md describes the model.
//
// A layer is a GEMM view of a convolution (arch/sparse/masks.hpp, LayerShape): lanes (PEs) are
// spread over filters first (min(pes, filters per group)) and output positions with the rest;
// each lane computes `sync_positions` output positions of its filter between synchronisations,
// so a tile (a step of all lanes) takes as long as its busiest lane:
//   work(filter, position) = the MACs the lane performs: all taps (dense), the filter's non-zero
//   weights (weights skipped), the non-zero inputs of the window (activations skipped), or the
//   taps where both are non-zero (both skipped); divided by macs_per_pe and rounded up.
// Gated operands cost their cycles but no MAC energy. Modes:
//   native    masks from data (Operator::masks) or drawn from the layer's densities with the
//             configured patterns; imbalance between lanes comes from the masks;
//   expected  densities only: every lane gets the mean work (perfect balance, stated per layer);
//   dysta     Dysta's Eyeriss-v2 latency model (arch/sparse/dysta.hpp) on the same masks: no
//             memory traffic, operators without MACs take no time (as in the artefact).
// An N:M datapath (`structured`: ["2:4", "1:4"]) skips weights only in layers whose weights
// follow one of its patterns: n/m of the dense work, balanced by construction.
// Plans from masks compress tiles into classes of equal busiest-lane work (sparse.tile_classes)
// so that their size follows the classes, not the layer: totals are kept exactly. The lanes'
// work comes from bit-packed counts of the masks per (filter, chunk of positions), cached per
// masks, shape and sync_positions (arch/sparse/lanes.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/energy/streams.hpp"
#include "arch/engine.hpp"
#include "arch/sparse/lanes.hpp"
#include "arch/sparse/masks.hpp"

namespace tessera::arch {

using workloads::i64;

// Representation formats of a compressed tensor (sparse::format_bits gives their sizes).
enum class SparseFormat { uncompressed, bitmap, csr, csc, coo, rle, nm };
std::string_view to_string(SparseFormat f);

namespace sparse {
// Bits of a rows × cols tensor with `nnz` non-zeros stored in format `f` with `bits`-bit values:
//   uncompressed  values rows·cols·bits, no metadata;
//   bitmap        values nnz·bits, metadata rows·cols (one bit per element);
//   csr           values nnz·bits, metadata nnz·ib(cols) + (rows+1)·ib(nnz+1);
//   csc           values nnz·bits, metadata nnz·ib(rows) + (cols+1)·ib(nnz+1);
//   coo           values nnz·bits, metadata nnz·(ib(rows) + ib(cols));
//   rle           entries·bits values and entries·run_bits metadata, entries = nnz + the zero
//                 entries that break runs longer than 2^run_bits - 1 (`fillers`);
//   nm            values nnz·bits, metadata nnz·ib(m)
// where ib(x) = max(1, ceil(log2 x)) is the bits of an index into x positions.
struct FormatBits {
  u64 value_bits = 0, meta_bits = 0;
};
int index_bits(u64 positions);
FormatBits format_bits(SparseFormat f, u64 rows, u64 cols, u64 nnz, int bits, int run_bits,
                       u64 fillers, int nm_m);
// Filler entries of run-length coding over rows of `cols` elements of `mask`, read through
// `at(row, col)`: for each run of z zeros before a non-zero, floor(z / 2^run_bits).
// The expected count for independent zeros of density d: nnz · q^L / (1 - q^L), q = 1 - d, L = 2^run_bits.
double expected_rle_fillers(double nnz, double density, int run_bits);
}  // namespace sparse

struct SparseParams {
  CommonParams common = default_common();
  i64 pes = 192;
  i64 macs_per_pe = 1;
  i64 sync_positions = 16;
  i64 tile_overhead = 0;  // cycles every tile adds (synchronisation)
  // How a tile's work reaches the multipliers: "static" (each lane its own filter and
  // positions: the busiest lane sets the time) or "flexible" (a flexible distribution and
  // reduction network, as SIGMA's, spreads the tile's effectual work evenly: ceil(work / pes)).
  bool flexible = false;
  bool skip_weights = true, skip_activations = true;
  bool gate_weights = false, gate_activations = false;
  std::vector<workloads::StructuredSparsity> structured;  // N:M datapath, empty: unstructured
  std::string mode = "native";  // native, expected, dysta
  sparse::Pattern weight_pattern = sparse::Pattern::uniform;
  sparse::Pattern activation_pattern = sparse::Pattern::uniform;
  int block = 4;
  std::uint64_t seed = 1;
  int word_bits = 8;
  int run_bits = 4;
  // Formats per level ("dram", "sram") of the weights and the input activations; outputs are
  // written uncompressed (their zeros are not known before they are computed).
  SparseFormat dram_weight = SparseFormat::csc, dram_input = SparseFormat::csc;
  SparseFormat sram_weight = SparseFormat::csc, sram_input = SparseFormat::csc;
  u64 glb_bytes = 246 * 1024;
  std::string dram_type = "lpddr4";
  i64 tile_classes = 64;  // classes of tiles a plan from masks keeps at most
  // Dynamic activation pruning (AccelTran's DynaTran): activations below a threshold are zeroed
  // at run time, on the vector unit (a comparison per element of a MAC layer's activation
  // inputs). The pruned density is each layer's activation_density (its target sparsity), or
  // with a threshold tau, P(|x| >= tau) = erfc(tau / sqrt 2) for activations ~ N(0, 1) scaled
  // to unit deviation (a stated assumption: no activation values are at hand).
  bool dynamic_pruning = false;
  std::optional<double> pruning_threshold;

  static CommonParams default_common();
};

class SparseEngine final : public EngineBase, public energy::OperandStreamSource {
 public:
  explicit SparseEngine(const SparseParams& p);
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "sparse"; }
  double peak_macs_per_cycle() const override { return static_cast<double>(p_.pes * p_.macs_per_pe); }
  AreaBreakdown area_by_component() const override;
  u64 on_chip_bytes() const override { return p_.glb_bytes; }
  std::vector<KindSupport> kinds() const override;
  std::vector<std::string> supports(const workloads::Operator& op) const override;
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;
  const SparseParams& params() const { return p_; }
  double mac_energy_fraction(const workloads::Operator& op) const override;

  // The lanes' operand streams for the bit-toggle model: lanes over filters and positions as in
  // map(), each lane's taps one after another; skipped and gated operands do not latch zeros.
  const energy::OperandStreamSource* stream_source() const override { return this; }
  std::optional<energy::LayerStreams> operand_streams(const workloads::Operator& op) const override;
  std::shared_ptr<const energy::Technology> technology() const override { return common_.tech; }
  std::optional<energy::HammingOptions> hamming_in_simulate() const override { return common_.hamming; }

  // `op` as the engine runs it: with dynamic pruning, its activations at the pruned density.
  workloads::Operator as_run(const workloads::Operator& op) const;
  // The density dynamic pruning leaves (the layer's own activation density without a threshold).
  double pruned_density(const workloads::Operator& op) const;

  // The masks the engine uses for `op` (its own, or drawn from its densities and patterns).
  struct LayerMasks {
    sparse::Mask weight, input;
    bool weight_from_data = false, input_from_data = false;
  };
  LayerMasks masks_for(const workloads::Operator& op, const sparse::LayerShape& shape) const;
  // Their per-lane counts (arch/sparse/lanes.hpp), from the process-wide cache.
  std::shared_ptr<const sparse::MaskCounts> mask_counts(const workloads::Operator& op,
                                                        const sparse::LayerShape& shape) const;

 private:
  LayerWork map(const workloads::Operator& op, const MapContext& context, bool as_given) const;
  SparseParams p_;
};

}  // namespace tessera::arch
