// The Bit Fusion engine (Sharma et al., "Bit Fusion: Bit-Level Dynamically Composable
// Architecture for Accelerating Deep Neural Networks", ISCA 2018): a systolic array of N×M Fusion
// Units, each made of BitBricks (brick_bits × brick_bits multipliers, signed or unsigned) and a
// shift-add tree. A Fusion Unit fuses its bricks into as many MACs per cycle as the layer's
// precision allows:
//     lanes(x) = floor(fused_bits / max(x, brick_bits))   for x <= fused_bits, else 1
//     passes(x) = ceil(x / fused_bits)                     (temporal passes of fused_bits slices)
//     MACs per cycle per Fusion Unit = lanes(a) · lanes(w) / (passes(a) · passes(w))
// (paper: 16 bricks of 2 bits, fused up to 8 bits: 16 MACs/cycle at ≤2×≤2 bits, 1 at 8×8; a 1-bit
// operand runs as 2 bits; 16-bit operands take 2 passes per 16-bit side.)
//
// Input channels spread over the N rows × lanes, output channels over the M columns. Weight,
// input and output buffers are double-buffered (a tile uses at most half of each); partial sums
// are psum_bits wide. Per layer the engine runs the compiler's search of the paper's simulator
// (docs/bitfusion.md): every order of the five tile loops (batch, output width, output height,
// input channels, output channels) × power-of-two tile sizes, minimum cycles, ties by minimum
// energy; DRAM traffic with reuse while a tensor's block fits half its buffer.
//
// Two modes (docs/bitfusion.md):
//   reference  the authors' simulator's timing: compute + max(0, middle DRAM bits / interface −
//              compute) + the first tile's load + the last tile's store, as a three-tile
//              streaming plan; only convolutions and matrix products cost anything.
//   native     the same mapping as a double-buffered tile plan (one tile per iteration of the
//              tile loops, grouped into at most max_plan_tiles super-tiles), so DRAM transfers
//              overlap compute tile by tile; operators without MACs cost their DRAM traffic.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "arch/energy/streams.hpp"
#include "arch/energy/technology.hpp"
#include "arch/engine.hpp"

namespace tessera::arch {

using workloads::i64;

struct BitFusionParams {
  // Clock (default 500 MHz), DRAM (default 24 B/cycle), vector unit, technology (the hamming
  // model's MAC energies), fusion, area.
  CommonParams common = default_common();
  i64 rows = 16;  // N: input-channel dimension of the array
  i64 cols = 32;  // M: output-channel dimension
  int brick_bits = 2;
  int fused_bits = 8;
  bool reference_mode = false;
  enum class Im2col { automatic, always, never };
  // automatic: a convolution with fewer input channels (per group) than array rows is run as an
  // im2col matrix product (reduction over R·S·C): the reference simulator does this for a
  // network's first layer, which in its benchmarks is exactly the layers with 1 or 3 channels.
  Im2col im2col = Im2col::automatic;
  int weight_bits = 0;      // > 0: overrides every operator's weight precision
  int activation_bits = 0;  // > 0: overrides every operator's activation precision
  int psum_bits = 32;
  u64 wbuf_bytes = 64 * 1024, ibuf_bytes = 32 * 1024, obuf_bytes = 16 * 1024;
  i64 max_plan_tiles = 4096;  // native mode: tiles of the plan before grouping
  // Energy, 45 nm (data/reference/bitfusion/config.json): the array per busy cycle
  // (independent of precision) and SRAM per bit (CACTI), DRAM per bit.
  double core_pj_per_cycle = 235.104;
  double wbuf_read_pj_per_bit = 0.021366, wbuf_write_pj_per_bit = 0.028916;
  double ibuf_read_pj_per_bit = 0.059474, ibuf_write_pj_per_bit = 0.113704;
  double obuf_read_pj_per_bit = 0.033155, obuf_write_pj_per_bit = 0.073084;
  double dram_pj_per_bit = 15.0;

  static CommonParams default_common();
};

// The layer as the Bit Fusion compiler sees it (a matrix product is a 1×1 convolution).
struct BitFusionLayer {
  i64 batch = 1, oh = 1, ow = 1, ic = 1, oc = 1, kh = 1, kw = 1, sh = 1, sw = 1;
  i64 dil_h = 1, dil_w = 1;
  i64 repeat = 1;  // groups (or unshared matrix-product batches), each mapped alike
  bool im2col = false;
  int activation_bits = 8, weight_bits = 8;
};

// The compiler's choice for one layer and what it costs (one repeat).
struct BitFusionMapping {
  // Tile loops: 0 batch, 1 output width, 2 output height, 3 input channels, 4 output channels.
  std::array<int, 5> order{};          // outermost first
  std::array<i64, 5> tile{};           // tile size per loop
  std::array<i64, 5> count{};          // iterations per loop
  u64 tiles = 0;                       // product of count
  u64 compute_cycles = 0, stall_cycles = 0, cycles = 0;  // reference timing
  // Per tensor (0 activations, 1 weights, 2 outputs): DRAM bits read (outputs: partial sums read
  // back), the block first loaded, and the fetch period in tiles (native plans).
  std::array<u64, 3> dram_read_bits{}, first_load_bits{}, period{};
  std::array<u64, 3> block_bits{};
  std::array<u64, 3> tile_bits{};      // one tile's footprint per tensor
  u64 candidates = 0;                  // tilings x orders the search evaluated
  u64 dram_write_bits = 0, last_store_bits = 0;
  // SRAM bits: reads and writes of the input (IBUF), weight (WBUF) and output (OBUF) buffers.
  u64 ibuf_read = 0, ibuf_write = 0, wbuf_read = 0, wbuf_write = 0, obuf_read = 0, obuf_write = 0;
  double energy_pj = 0;
};

class BitFusionEngine final : public EngineBase, public energy::OperandStreamSource {
 public:
  explicit BitFusionEngine(const BitFusionParams& p) : EngineBase(p.common), p_(p) {}
  static std::unique_ptr<Engine> create(ParamReader& params);

  std::string engine_name() const override { return "bitfusion"; }
  // At the fused precision (8×8): one MAC per Fusion Unit per cycle; lower precisions do more.
  double peak_macs_per_cycle() const override { return static_cast<double>(p_.rows * p_.cols); }
  double peak_macs_per_cycle(const workloads::Operator& op) const override;
  // Reference mode says what it does not time (operators without MACs).
  // The reference mode models no operator without MACs, as the authors' simulator (supports()
  // warns); natively they run on the vector unit.
  std::vector<KindSupport> kinds() const override {
    return mac_kinds_on_datapath(p_.reference_mode ? Unit::none : Unit::vector_unit);
  }
  std::vector<std::string> supports(const workloads::Operator& op) const override;
  AreaBreakdown area_by_component() const override;
  u64 on_chip_bytes() const override { return p_.wbuf_bytes + p_.ibuf_bytes + p_.obuf_bytes; }
  using Engine::map;
  LayerWork map(const workloads::Operator& op, const MapContext& context) const override;
  EnergyBreakdown energy(const LayerWork& work, u64 cycles) const override;
  nlohmann::json resolved_config() const override;
  const energy::OperandStreamSource* stream_source() const override { return this; }
  std::optional<energy::LayerStreams> operand_streams(const workloads::Operator& op) const override;
  std::optional<energy::HammingOptions> hamming_in_simulate() const override { return common_.hamming; }
  bool hamming_replaces_mac_energy() const override { return false; }
  std::shared_ptr<const energy::Technology> technology() const override;

  // MACs per cycle per Fusion Unit and temporal passes at these precisions.
  double macs_per_cycle_per_unit(int activation_bits, int weight_bits) const;
  // The layer view of an operator (nullopt: no MACs); precisions after overrides.
  std::optional<BitFusionLayer> layer_of(const workloads::Operator& op) const;
  // The compiler's search for one layer.
  BitFusionMapping search(const BitFusionLayer& layer) const;

  const BitFusionParams& params() const { return p_; }

 private:
  BitFusionParams p_;
};

}  // namespace tessera::arch
