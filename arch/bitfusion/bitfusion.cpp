#include "arch/bitfusion/bitfusion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "arch/energy/config.hpp"
#include "common/checked.hpp"
#include "dataflows/layouts.hpp"
#include "dataflows/mapper.hpp"

namespace tessera::arch {

namespace {

using dataflows::append_tile;
using dataflows::Tile;

constexpr int kB = 0, kOW = 1, kOH = 2, kIC = 3, kOC = 4;  // tile loops
constexpr int kAct = 0, kWgt = 1, kOut = 2;                // tensors
// Which tensors each tile loop indexes (activations: B, OW, OH, IC; weights: IC, OC; outputs:
// B, OW, OH, OC).
constexpr bool kDepends[5][3] = {
    {true, false, true}, {true, false, true}, {true, false, true},
    {true, true, false}, {false, true, true}};

u64 ceil_div(u64 a, u64 b) { return (a + b - 1) / b; }
i64 ceil_log2(i64 x) {
  i64 e = 0;
  while ((i64{1} << e) < x) ++e;
  return e;
}
u64 bytes_of(u64 bits) { return bits / 8 + (bits % 8 != 0); }

// Exact products and sums of counts (common/checked.hpp); `what` names the count.
u64 mul(std::initializer_list<u64> factors, const char* what) {
  u64 out = 1;
  for (u64 f : factors) out = checked_mul(out, f, what);
  return out;
}
u64 add(u64 a, u64 b, const char* what) { return checked_add(a, b, what); }
// A tile's size in bits, or nullopt when it passes 64 bits (then it fits no buffer).
std::optional<u64> tile_bits(std::initializer_list<u64> factors) {
  u64 out = 1;
  for (u64 f : factors)
    if (const auto p = try_mul(out, f))
      out = *p;
    else
      return std::nullopt;
  return out;
}
constexpr const char* kBits = "buffer traffic (bits)";
constexpr const char* kCycles = "cycle count";

// Cycles a transfer of `bits` holds an interface of `bits_per_cycle` (0 when unlimited).
u64 interface_cycles(u64 bits, double bits_per_cycle) {
  if (bits == 0 || std::isinf(bits_per_cycle)) return 0;
  return checked_ceil<u64>(static_cast<double>(bits) / bits_per_cycle, "cycle count");
}

}  // namespace

std::unique_ptr<Engine> BitFusionEngine::create(ParamReader& r) {
  BitFusionParams p;
  if (auto b = r.optional_child("bitfusion")) {
    p.rows = array_dimension(*b, "rows", p.rows);
    p.cols = array_dimension(*b, "cols", p.cols);
    // Ranges: operands and sums of at most 64 bits, plans of at most 2^20 tiles (a plan's tiles
    // are built one by one).
    const auto at_most = [&b](const char* key, std::int64_t fallback, std::int64_t max) {
      const std::int64_t v = b->positive_integer(key, fallback);
      if (v > max)
        throw b->error(key,
                       "must be at most " + std::to_string(max) + ", got " + std::to_string(v));
      return v;
    };
    p.brick_bits = static_cast<int>(at_most("brick_bits", p.brick_bits, 64));
    p.fused_bits = static_cast<int>(at_most("fused_bits", p.fused_bits, 64));
    if (p.fused_bits < p.brick_bits || p.fused_bits % p.brick_bits != 0)
      throw b->error("fused_bits", "must be a multiple of brick_bits (" +
                                       std::to_string(p.brick_bits) + ")");
    p.reference_mode = b->choice("mode", {"native", "reference"}, "native") == "reference";
    const std::string im2col = b->choice("im2col", {"auto", "always", "never"}, "auto");
    p.im2col = im2col == "auto"     ? BitFusionParams::Im2col::automatic
               : im2col == "always" ? BitFusionParams::Im2col::always
                                    : BitFusionParams::Im2col::never;
    p.weight_bits = static_cast<int>(b->non_negative_integer("weight_bits", 0));
    p.activation_bits = static_cast<int>(b->non_negative_integer("activation_bits", 0));
    if (p.weight_bits > 64) throw b->error("weight_bits", "must be at most 64 (0 = workload's)");
    if (p.activation_bits > 64)
      throw b->error("activation_bits", "must be at most 64 (0 = workload's)");
    p.psum_bits = static_cast<int>(at_most("psum_bits", p.psum_bits, 64));
    p.max_plan_tiles = at_most("max_plan_tiles", p.max_plan_tiles, std::int64_t{1} << 20);
    b->finish();
  }
  if (auto sram = r.optional_child("sram")) {
    p.wbuf_bytes = sram->size_bytes("wbuf", "64 KiB");
    p.ibuf_bytes = sram->size_bytes("ibuf", "32 KiB");
    p.obuf_bytes = sram->size_bytes("obuf", "16 KiB");
    sram->finish();
  }
  CommonDefaults d;
  d.clock = "500 MHz";
  d.memory.bandwidth = "24 B/cycle";
  d.hamming = true;
  d.zero_gating = true;
  p.common = read_common(r, d, [&p](ParamReader& e, const energy::Technology&) {
    p.core_pj_per_cycle = e.non_negative("core_pj_per_cycle", p.core_pj_per_cycle);
    p.wbuf_read_pj_per_bit = e.non_negative("wbuf_read_pj_per_bit", p.wbuf_read_pj_per_bit);
    p.wbuf_write_pj_per_bit = e.non_negative("wbuf_write_pj_per_bit", p.wbuf_write_pj_per_bit);
    p.ibuf_read_pj_per_bit = e.non_negative("ibuf_read_pj_per_bit", p.ibuf_read_pj_per_bit);
    p.ibuf_write_pj_per_bit = e.non_negative("ibuf_write_pj_per_bit", p.ibuf_write_pj_per_bit);
    p.obuf_read_pj_per_bit = e.non_negative("obuf_read_pj_per_bit", p.obuf_read_pj_per_bit);
    p.obuf_write_pj_per_bit = e.non_negative("obuf_write_pj_per_bit", p.obuf_write_pj_per_bit);
    p.dram_pj_per_bit = e.non_negative("dram_pj_per_bit", p.dram_pj_per_bit);
  });
  return std::make_unique<BitFusionEngine>(p);
}

CommonParams BitFusionParams::default_common() {
  CommonParams c;
  c.clock_hz = 500e6;
  c.memory.channels.front().bytes_per_cycle = 24;
  return c;
}

std::shared_ptr<const energy::Technology> BitFusionEngine::technology() const {
  return common_.tech;
}

double BitFusionEngine::peak_macs_per_cycle(const workloads::Operator& op) const {
  const auto l = layer_of(op);
  if (!l) return peak_macs_per_cycle();
  return static_cast<double>(p_.rows * p_.cols) *
         macs_per_cycle_per_unit(l->activation_bits, l->weight_bits);
}

std::vector<std::string> BitFusionEngine::supports(const workloads::Operator& op) const {
  std::vector<std::string> w = Engine::supports(op);
  if (p_.reference_mode && op.macs() == 0)
    w.push_back("bitfusion reference mode: operators without MACs take no time or traffic "
                "(the authors' simulator models none)");
  return w;
}

AreaBreakdown BitFusionEngine::area_by_component() const {
  // The paper's 45 nm figures (config.json: core 0.88809 mm² for 16×32 units, WBUF 64 KiB
  // 0.76748, IBUF 32 KiB 0.24211, OBUF 16 KiB 0.24331), scaled linearly.
  const double kib = 1024.0;
  return area_or_given(
      {{"pe_array", 0.88809 * static_cast<double>(p_.rows * p_.cols) / 512.0},
       {"sram", 0.76748 * static_cast<double>(p_.wbuf_bytes) / (64 * kib) +
                    0.24211 * static_cast<double>(p_.ibuf_bytes) / (32 * kib) +
                    0.24331 * static_cast<double>(p_.obuf_bytes) / (16 * kib)}});
}

nlohmann::json BitFusionEngine::resolved_config() const {
  const char* im2col = p_.im2col == BitFusionParams::Im2col::automatic ? "auto"
                       : p_.im2col == BitFusionParams::Im2col::always  ? "always"
                                                                        : "never";
  return with_common({{"bitfusion",
           {{"rows", p_.rows},
            {"cols", p_.cols},
            {"brick_bits", p_.brick_bits},
            {"fused_bits", p_.fused_bits},
            {"mode", p_.reference_mode ? "reference" : "native"},
            {"im2col", im2col},
            {"weight_bits", p_.weight_bits},
            {"activation_bits", p_.activation_bits},
            {"psum_bits", p_.psum_bits},
            {"max_plan_tiles", p_.max_plan_tiles}}},
          {"sram", {{"wbuf", p_.wbuf_bytes}, {"ibuf", p_.ibuf_bytes}, {"obuf", p_.obuf_bytes}}},
          {"energy",
           {{"core_pj_per_cycle", p_.core_pj_per_cycle},
            {"wbuf_read_pj_per_bit", p_.wbuf_read_pj_per_bit},
            {"wbuf_write_pj_per_bit", p_.wbuf_write_pj_per_bit},
            {"ibuf_read_pj_per_bit", p_.ibuf_read_pj_per_bit},
            {"ibuf_write_pj_per_bit", p_.ibuf_write_pj_per_bit},
            {"obuf_read_pj_per_bit", p_.obuf_read_pj_per_bit},
            {"obuf_write_pj_per_bit", p_.obuf_write_pj_per_bit},
            {"dram_pj_per_bit", p_.dram_pj_per_bit}}}});
}

namespace {

// MACs lanes one operand of `bits` gets in a Fusion Unit, and its temporal passes.
struct Fusion {
  i64 lanes = 1, passes = 1;
};
Fusion fusion(int bits, int brick, int fused) {
  if (bits > fused) return {1, (bits + fused - 1) / fused};
  return {fused / std::max(bits, brick), 1};
}

}  // namespace

double BitFusionEngine::macs_per_cycle_per_unit(int a, int w) const {
  const Fusion fa = fusion(a, p_.brick_bits, p_.fused_bits);
  const Fusion fw = fusion(w, p_.brick_bits, p_.fused_bits);
  return static_cast<double>(fa.lanes * fw.lanes) / static_cast<double>(fa.passes * fw.passes);
}

std::optional<BitFusionLayer> BitFusionEngine::layer_of(const workloads::Operator& op) const {
  BitFusionLayer l;
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) {
    if (c->transposed)
      throw UnsupportedError("bitfusion: operator '" + op.name +
                             "': transposed convolutions are not supported");
    l.batch = c->n, l.oh = c->p(), l.ow = c->q();
    l.ic = c->c / c->groups, l.oc = c->k / c->groups;
    l.kh = c->r, l.kw = c->s, l.sh = c->stride_h, l.sw = c->stride_w;
    l.dil_h = c->dilation_h, l.dil_w = c->dilation_w;
    l.repeat = c->groups;
    l.im2col = p_.im2col == BitFusionParams::Im2col::always ||
               (p_.im2col == BitFusionParams::Im2col::automatic && l.ic < p_.rows);
  } else if (const auto* m = std::get_if<workloads::MatMul>(&op.shape)) {
    l.batch = m->b_is_weight ? m->batch * m->m : m->m;
    l.repeat = m->b_is_weight ? 1 : m->batch;
    l.ic = m->k, l.oc = m->n;
  } else {
    return std::nullopt;
  }
  l.activation_bits = p_.activation_bits > 0 ? p_.activation_bits : op.precision.activation_bits;
  l.weight_bits = p_.weight_bits > 0 ? p_.weight_bits : op.b_bits();
  return l;
}

BitFusionMapping BitFusionEngine::search(const BitFusionLayer& L) const {
  const Fusion fa = fusion(L.activation_bits, p_.brick_bits, p_.fused_bits);
  const Fusion fw = fusion(L.weight_bits, p_.brick_bits, p_.fused_bits);
  const u64 lanes = static_cast<u64>(p_.rows * fa.lanes * fw.lanes);  // reduction lanes N·pf
  const u64 passes = static_cast<u64>(fa.passes * fw.passes);
  const u64 M = static_cast<u64>(p_.cols);
  const u64 a = static_cast<u64>(L.activation_bits), w = static_cast<u64>(L.weight_bits);
  const u64 P = static_cast<u64>(p_.psum_bits);
  const u64 kk = static_cast<u64>(L.kh * L.kw);
  const std::array<u64, 3> half = {p_.ibuf_bytes * 8 / 2, p_.wbuf_bytes * 8 / 2,
                                   p_.obuf_bytes * 8 / 2};
  // The interface that feeds the input buffer (the only channel unless the config lists more).
  const auto& dram = common_.memory;
  const double if_bits = dram.channels[dram.channel_for(dataflows::port::input)].rate() * 8.0;
  dataflows::ReuseProblem reuse;
  reuse.loops = 5, reuse.tensors = 3;
  for (int l = 0; l < 5; ++l)
    for (int t = 0; t < 3; ++t) reuse.depends[l][t] = kDepends[l][t];
  for (int t = 0; t < 3; ++t) reuse.capacity[t] = half[t];

  BitFusionMapping best;
  bool have = false;

  // Evaluates one tiling in one loop order; fills `m` and returns false when a tile does not fit.
  auto evaluate = [&](const std::array<i64, 5>& tile, const std::array<i64, 5>& count,
                      const std::array<int, 5>& order, BitFusionMapping& m) {
    const u64 b = static_cast<u64>(tile[kB]), ow = static_cast<u64>(tile[kOW]),
              oh = static_cast<u64>(tile[kOH]), ic = static_cast<u64>(tile[kIC]),
              oc = static_cast<u64>(tile[kOC]);
    const u64 oc_cols = ceil_div(oc, M) * M;
    std::array<std::optional<u64>, 3> sized{};
    sized[kWgt] = tile_bits({ceil_div(kk * ic, lanes), lanes, oc, w});
    if (L.im2col) {
      sized[kAct] = tile_bits({ow, oh, kk, ic, b, a});
    } else {
      const u64 iw = static_cast<u64>((L.kw - 1) * L.dil_w + 1) + (ow - 1) * static_cast<u64>(L.sw);
      const u64 ih = static_cast<u64>((L.kh - 1) * L.dil_h + 1) + (oh - 1) * static_cast<u64>(L.sh);
      sized[kAct] = tile_bits({iw, ih, ic, b, a});
    }
    sized[kOut] = tile_bits({ow, oh, oc_cols, b, P});
    std::array<u64, 3> size{};
    for (int t = 0; t < 3; ++t) {
      if (!sized[t] || *sized[t] > half[t]) return false;
      size[t] = *sized[t];
    }

    // Reuse (dataflows/mapper.hpp): a tensor's block grows inside out over the loops it
    // depends on while it fits half its buffer; outside that it is fetched on every iteration.
    u64 tiles = 1;
    std::array<u64, dataflows::kMaxLoops> counts{};
    dataflows::LoopOrder loop_order{};
    for (int l = 0; l < 5; ++l) {
      tiles = checked_mul(tiles, static_cast<u64>(count[l]), "tile count");
      counts[l] = static_cast<u64>(count[l]);
      loop_order[l] = order[l];
    }
    const dataflows::Reuse r =
        dataflows::analyse_reuse(reuse, loop_order, counts, {size[0], size[1], size[2], 0});
    for (int t = 0; t < 3; ++t) {
      m.tile_bits[t] = size[t];
      m.dram_read_bits[t] = r.total[t];
      m.first_load_bits[t] = r.block[t];
      m.block_bits[t] = r.block[t];
      m.period[t] = r.period[t];
    }
    m.dram_write_bits = m.dram_read_bits[kOut];  // outputs go back as often as they come in
    m.last_store_bits = m.first_load_bits[kOut];

    // SRAM: buffers filled from DRAM, then read per MAC in the cheapest stationarity.
    m.ibuf_write = m.dram_read_bits[kAct];
    m.wbuf_write = m.dram_read_bits[kWgt];
    m.obuf_write = m.dram_read_bits[kOut];
    m.obuf_read = m.dram_write_bits;
    m.ibuf_read = m.wbuf_read = 0;
    const u64 is_loop = oc_cols;
    const u64 os_loop = L.im2col ? ceil_div(ic * kk, lanes) * lanes : ceil_div(ic, lanes) * lanes * kk;
    const u64 ws_loop = b * oh * ow;
    // Energies of the three loop orders inside a tile, only compared: in doubles.
    const double la = static_cast<double>(a), lw = static_cast<double>(w),
                 lp = static_cast<double>(P), lo = static_cast<double>(os_loop),
                 li = static_cast<double>(is_loop), lws = static_cast<double>(ws_loop);
    const double is_e = lo * lws * (la + li * (lw + lp));
    const double os_e = li * lws * (lp + lo * (la + lw));
    const double ws_e = lo * li * (lw + lws * (la + lp));
    const double min_e = std::min({is_e, os_e, ws_e});
    const u64 red = kk * ic, pix = oh * ow * b;
    const auto more = [](u64& field, std::initializer_list<u64> factors) {
      field = add(field, mul(factors, kBits), kBits);
    };
    if (is_e == min_e) {
      more(m.ibuf_read, {tiles, red, pix, a});
      more(m.obuf_read, {tiles, red, pix, oc, P});
      more(m.obuf_write, {tiles, red, pix, oc, P});
      more(m.wbuf_read, {tiles, red, pix, oc, w});
    } else if (os_e == min_e) {
      more(m.ibuf_read, {tiles, oc, pix, red, a});
      more(m.obuf_read, {tiles, oc, pix, P});
      more(m.obuf_write, {tiles, oc, pix, P});
      more(m.wbuf_read, {tiles, oc, pix, red, w});
    } else {
      more(m.ibuf_read, {tiles, red, oc, pix, a});
      more(m.obuf_read, {tiles, red, oc, pix, P});
      more(m.obuf_write, {tiles, red, oc, pix, P});
      more(m.wbuf_read, {tiles, red, oc, w});
    }

    const u64 per_tile =
        L.im2col ? mul({pix, ceil_div(oc, M), ceil_div(kk * ic, lanes), passes}, kCycles)
                 : mul({b, ceil_div(oc, M), ow, oh, kk, ceil_div(ic, lanes), passes}, kCycles);
    const u64 initial =
        add(add(m.first_load_bits[0], m.first_load_bits[1], kBits), m.first_load_bits[2], kBits);
    const u64 total_dram =
        add(add(add(m.dram_read_bits[0], m.dram_read_bits[1], kBits), m.dram_read_bits[2], kBits),
            m.dram_write_bits, kBits);
    const u64 middle = total_dram - initial - m.last_store_bits;
    m.compute_cycles = checked_mul(tiles, per_tile, kCycles);
    const u64 memory = interface_cycles(middle, if_bits);
    m.stall_cycles = add(add(memory > m.compute_cycles ? memory - m.compute_cycles : 0,
                             interface_cycles(initial, if_bits), kCycles),
                         interface_cycles(m.last_store_bits, if_bits), kCycles);
    m.cycles = add(m.compute_cycles, m.stall_cycles, kCycles);
    m.tiles = tiles;
    m.tile = tile;
    m.count = count;
    m.order = order;
    m.energy_pj =
        static_cast<double>(m.compute_cycles) * p_.core_pj_per_cycle +
        static_cast<double>(m.wbuf_read) * p_.wbuf_read_pj_per_bit +
        static_cast<double>(m.wbuf_write) * p_.wbuf_write_pj_per_bit +
        static_cast<double>(m.ibuf_read) * p_.ibuf_read_pj_per_bit +
        static_cast<double>(m.ibuf_write) * p_.ibuf_write_pj_per_bit +
        static_cast<double>(m.obuf_read) * p_.obuf_read_pj_per_bit +
        static_cast<double>(m.obuf_write) * p_.obuf_write_pj_per_bit +
        static_cast<double>(total_dram) * p_.dram_pj_per_bit;
    return true;
  };

  const i64 O = std::max(L.oh, L.ow);
  const i64 oc_steps =
      L.im2col ? ceil_log2(L.oc) : ceil_log2((L.oc + p_.cols - 1) / p_.cols);
  BitFusionMapping m;
  u64 evaluated = 0;
  for (i64 eb = 0; eb <= ceil_log2(L.batch); ++eb) {
    for (i64 eo = 0; eo <= ceil_log2(O); ++eo) {
      for (i64 ei = 0; ei <= ceil_log2(L.ic); ++ei) {
        for (i64 ek = 0; ek <= oc_steps; ++ek) {
          std::array<i64, 5> tile{};
          tile[kB] = std::min(i64{1} << eb, L.batch);
          tile[kOW] = std::min(i64{1} << eo, L.ow);
          tile[kOH] = std::min(i64{1} << eo, L.oh);
          tile[kIC] = std::min(i64{1} << ei, L.ic);
          tile[kOC] = L.im2col ? std::min(i64{1} << ek, L.oc)
                               : std::min((i64{1} << ek) * p_.cols, L.oc);
          const std::array<i64, 5> count = {
              (L.batch + tile[kB] - 1) / tile[kB], (L.ow + tile[kOW] - 1) / tile[kOW],
              (L.oh + tile[kOH] - 1) / tile[kOH], (L.ic + tile[kIC] - 1) / tile[kIC],
              (L.oc + tile[kOC] - 1) / tile[kOC]};
          for (const auto& o : dataflows::loop_orders(5)) {
            const std::array<int, 5> order = {o[0], o[1], o[2], o[3], o[4]};
            if (!evaluate(tile, count, order, m)) break;  // fit does not depend on the order
            ++evaluated;
            if (!have || dataflows::better({static_cast<double>(m.cycles), m.energy_pj},
                                           {static_cast<double>(best.cycles), best.energy_pj},
                                           dataflows::MapperObjective::latency)) {
              best = m;
              have = true;
            }
          }
        }
      }
    }
  }
  if (!have)
    throw UnsupportedError(
        "bitfusion: no tile of one output pixel, one input channel and " +
        std::to_string(p_.cols) + " output channels fits half of each buffer");
  best.candidates = evaluated;
  return best;
}

LayerWork BitFusionEngine::map(const workloads::Operator& op, const MapContext& context) const {
  using namespace dataflows;
  const auto layer = layer_of(op);
  if (!layer) {
    // No MACs: the reference simulator skips these (supports() says so); natively they run on
    // the vector unit.
    if (p_.reference_mode) return {};
    LayerWork w = map_vector(op, context);
    w.metrics["dram_read_bits"] = static_cast<double>(w.plan.read_bytes()) * 8;
    w.metrics["dram_write_bits"] = static_cast<double>(w.plan.write_bytes()) * 8;
    return w;
  }
  LayerWork w;
  w.plan.buffering = p_.reference_mode ? kStreaming : kDoubleBuffered;
  w.plan.units = static_cast<u64>(p_.rows * p_.cols);
  const std::array<std::size_t, 3> port_of = {w.plan.port(port::input), w.plan.port(port::weight),
                                              w.plan.port(port::psum_in)};
  const std::size_t out = w.plan.port(port::output, Direction::write);
  const BitFusionMapping m = search(*layer);
  if (const auto g = dataflows::as_gemm(op)) {
    // Where its tiles lie (dataflows/layouts.hpp): input blocks with their halos (receptive
    // fields in im2col mode), filters and outputs a tile's channels at a time.
    const i64 ic = m.tile[kIC], taps = layer->kh * layer->kw;
    const int a = layer->activation_bits;
    w.plan.ports[port_of[kAct]].layout =
        layer->im2col ? dataflows::window_layout(op, *g, a, taps * ic)
                      : dataflows::tile_layout(op, *g, a, m.tile[kOH], m.tile[kOW], ic);
    w.plan.ports[port_of[kWgt]].layout = dataflows::weight_layout(*g, layer->weight_bits, taps * ic);
    w.plan.ports[port_of[kOut]].layout = w.plan.ports[out].layout =
        dataflows::output_layout(*g, p_.psum_bits, m.tile[kOC]);
    // Blocks are padded to the array's lanes and columns, so one may exceed its tensor: the
    // ports' regions bound the walks, not the tensors' extents.
    for (const std::size_t p : {port_of[kAct], port_of[kWgt], port_of[kOut], out}) w.plan.ports[p].layout.extent = 0;
  }
  const u64 rep = static_cast<u64>(layer->repeat);
  w.macs = static_cast<u64>(op.macs());
  {  // the compiler's choice as reports show it (dataflows::MappingInfo)
    dataflows::MappingInfo info;
    info.loops = 5, info.tensors = 3;
    info.loop_names = {"batch", "ow", "oh", "ic", "oc"};
    info.tensor_names = {"input", "weight", "output"};
    for (int l = 0; l < 5; ++l) {
      info.order[l] = m.order[l];
      info.tile[l] = m.tile[l];
      info.count[l] = m.count[l];
    }
    for (int t = 0; t < 3; ++t) {
      // The tensor once: its tile over the loops it depends on (a ratio: in doubles).
      double distinct = static_cast<double>(m.tile_bits[t]);
      for (int l = 0; l < 5; ++l)
        if (kDepends[l][t]) distinct *= static_cast<double>(m.count[l]);
      info.refetch[t] = distinct > 0 ? static_cast<double>(m.dram_read_bits[t]) / distinct : 0;
    }
    info.estimate = {static_cast<double>(m.cycles), m.energy_pj};
    info.candidates = m.candidates;
    w.mapping = info;
  }

  if (p_.reference_mode) {
    // Three tiles per repeat: the first tile's loads, the whole layer's compute with the rest of
    // its traffic streaming beside it, the last tile's store. Streaming timing gives
    // load + max(compute, middle traffic) + store: the reference formula.
    Tile load, body, store;
    for (int t = 0; t < 3; ++t) {
      load.bytes[port_of[t]] = bytes_of(m.first_load_bits[t]);
      body.bytes[port_of[t]] = bytes_of(m.dram_read_bits[t] - m.first_load_bits[t]);
    }
    body.compute_cycles = m.compute_cycles;
    body.busy_units = w.plan.units;
    body.bytes[out] = bytes_of(m.dram_write_bits - m.last_store_bits);
    store.bytes[out] = bytes_of(m.last_store_bits);
    w.plan.append(dataflows::TileSeq{{load, body, store}, {}}, rep);
  } else {
    // A tensor is fetched at the first iteration of each of its reuse periods (its block, at
    // most half its buffer), outputs written at the last. A plan tile is one period of the
    // tensor refetched most often (iterations of the innermost loops in which every tensor's
    // block stays put), so double-buffering prefetches the next blocks during the current ones;
    // grouped further when there would be more than max_plan_tiles tiles.
    const u64 shortest = std::min({m.period[0], m.period[1], m.period[2]});
    u64 group = 1;
    int i = 4;
    for (; i >= 0 && group < shortest; --i) group *= static_cast<u64>(m.count[m.order[i]]);
    for (; i >= 0 && m.tiles / group > static_cast<u64>(p_.max_plan_tiles); --i)
      group *= static_cast<u64>(m.count[m.order[i]]);
    const u64 supers = m.tiles / group;
    const u64 per_tile = m.compute_cycles / m.tiles;
    std::vector<Tile> tiles;
    for (u64 j = 0; j < supers; ++j) {
      Tile t;
      t.compute_cycles = per_tile * group;
      t.busy_units = w.plan.units;
      for (int k = 0; k < 3; ++k) {
        const u64 period = m.period[k];
        const u64 bits = period <= group ? (group / period) * m.block_bits[k]
                         : (j * group) % period == 0 ? m.block_bits[k]
                                                     : 0;
        t.bytes[port_of[k]] = bytes_of(bits);
      }
      const u64 period = m.period[kOut];
      const u64 wbits = period <= group              ? (group / period) * m.block_bits[kOut]
                        : ((j + 1) * group) % period == 0 ? m.block_bits[kOut]
                                                          : 0;
      t.bytes[out] = bytes_of(wbits);
      append_tile(tiles, t);
    }
    w.plan.append(dataflows::TileSeq{std::move(tiles), {}}, rep);
  }

  const auto bits = [rep](u64 b) { return static_cast<double>(b) * static_cast<double>(rep); };
  const auto all = [rep](u64 b) { return bytes_of(checked_mul(b, rep, kBits)); };
  w.accesses["dram.ifmap"] = {all(m.dram_read_bits[kAct]), 0};
  w.accesses["dram.filter"] = {all(m.dram_read_bits[kWgt]), 0};
  w.accesses["dram.ofmap"] = {all(m.dram_read_bits[kOut]), all(m.dram_write_bits)};
  w.accesses["sram.ifmap"] = {all(m.ibuf_read), all(m.ibuf_write)};
  w.accesses["sram.filter"] = {all(m.wbuf_read), all(m.wbuf_write)};
  w.accesses["sram.ofmap"] = {all(m.obuf_read), all(m.obuf_write)};
  // Exact bit counts for the energy model (bytes round).
  w.metrics["ibuf_read_bits"] = bits(m.ibuf_read);
  w.metrics["ibuf_write_bits"] = bits(m.ibuf_write);
  w.metrics["wbuf_read_bits"] = bits(m.wbuf_read);
  w.metrics["wbuf_write_bits"] = bits(m.wbuf_write);
  w.metrics["obuf_read_bits"] = bits(m.obuf_read);
  w.metrics["obuf_write_bits"] = bits(m.obuf_write);
  w.metrics["dram_read_bits"] =
      bits(m.dram_read_bits[kAct]) + bits(m.dram_read_bits[kWgt]) + bits(m.dram_read_bits[kOut]);
  w.metrics["dram_write_bits"] = bits(m.dram_write_bits);
  w.metrics["reference_cycles"] = bits(m.cycles);
  w.metrics["reference_stall_cycles"] = bits(m.stall_cycles);
  w.metrics["activation_bits"] = layer->activation_bits;
  w.metrics["weight_bits"] = layer->weight_bits;
  w.metrics["macs_per_cycle_per_unit"] =
      macs_per_cycle_per_unit(layer->activation_bits, layer->weight_bits);
  w.metrics["im2col"] = layer->im2col ? 1 : 0;
  w.metrics["tile_batch"] = static_cast<double>(m.tile[kB]);
  w.metrics["tile_out_width"] = static_cast<double>(m.tile[kOW]);
  w.metrics["tile_out_height"] = static_cast<double>(m.tile[kOH]);
  w.metrics["tile_in_channels"] = static_cast<double>(m.tile[kIC]);
  w.metrics["tile_out_channels"] = static_cast<double>(m.tile[kOC]);
  // Loop order, outermost first, as digits: 1 batch, 2 out width, 3 out height, 4 in channels,
  // 5 out channels (e.g. 54123 = OC, IC, B, OW, OH).
  double order = 0;
  for (int l : m.order) order = order * 10 + (l + 1);
  w.metrics["loop_order"] = order;
  return w;
}

EnergyBreakdown BitFusionEngine::energy(const LayerWork& work, u64 /*cycles*/) const {
  // (cycles − stalls) × array energy per cycle + SRAM bits × per-bit + DRAM bits × per-bit.
  const auto metric = [&](const char* key) {
    const auto it = work.metrics.find(key);
    return it == work.metrics.end() ? 0.0 : it->second;
  };
  EnergyBreakdown e;
  // Zero gating idles the bricks of gated MACs: the core's energy scales with the MACs that run.
  e["core"] = static_cast<double>(work.plan.compute_cycles()) * p_.core_pj_per_cycle * work.mac_energy_fraction;
  e["sram.filter.read"] = metric("wbuf_read_bits") * p_.wbuf_read_pj_per_bit;
  e["sram.filter.write"] = metric("wbuf_write_bits") * p_.wbuf_write_pj_per_bit;
  e["sram.ifmap.read"] = metric("ibuf_read_bits") * p_.ibuf_read_pj_per_bit;
  e["sram.ifmap.write"] = metric("ibuf_write_bits") * p_.ibuf_write_pj_per_bit;
  e["sram.ofmap.read"] = metric("obuf_read_bits") * p_.obuf_read_pj_per_bit;
  e["sram.ofmap.write"] = metric("obuf_write_bits") * p_.obuf_write_pj_per_bit;
  e["dram.read"] = metric("dram_read_bits") * p_.dram_pj_per_bit;
  e["dram.write"] = metric("dram_write_bits") * p_.dram_pj_per_bit;
  return e;
}

std::optional<energy::LayerStreams> BitFusionEngine::operand_streams(
    const workloads::Operator& op) const {
  const auto layer = layer_of(op);
  if (!layer) return std::nullopt;
  using energy::GemmDim;
  using energy::StreamLoop;
  using energy::StreamTensor;
  const Fusion fa = fusion(layer->activation_bits, p_.brick_bits, p_.fused_bits);
  const Fusion fw = fusion(layer->weight_bits, p_.brick_bits, p_.fused_bits);
  energy::LayerStreams s;
  s.groups = layer->repeat;
  s.m = layer->batch * layer->oh * layer->ow;
  s.n = layer->oc;
  s.k = layer->kh * layer->kw * layer->ic;
  // The reduction spreads over the N rows × fused lanes, output channels over the M columns;
  // output pixels stream through in time. A flat split of the reduction (the channel-wise
  // mapping's kernel-position loop is folded into the outer reduction loop).
  const i64 lanes = p_.rows * fa.lanes * fw.lanes;
  const std::vector<StreamLoop> loops = {
      {GemmDim::g, s.groups, false},
      {GemmDim::n, (s.n + p_.cols - 1) / p_.cols, false},
      {GemmDim::k, (s.k + lanes - 1) / lanes, false},
      {GemmDim::m, s.m, false},
      {GemmDim::k, lanes, true},
      {GemmDim::n, p_.cols, true}};
  // Zero-gated operands: the gated register holds on a zero (energy.zero_gating).
  s.ports.push_back({"fu.activation", StreamTensor::activation, layer->activation_bits, loops, 0,
                     common_.gate_activations});
  s.ports.push_back({"fu.weight", StreamTensor::weight, layer->weight_bits, loops, 0, common_.gate_weights});
  s.ports.push_back({"fu.psum", StreamTensor::psum, p_.psum_bits, loops, 4, false});
  return s;
}

}  // namespace tessera::arch
