#include "arch/butterfly/butterfly.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "arch/energy/config.hpp"
#include "common/error.hpp"
#include "workloads/butterfly_ops.hpp"

namespace tessera::arch {

namespace {

using workloads::i64;
using workloads::log2_pow2;

u64 up(u64 a, u64 b) { return (a + b - 1) / b; }
u64 bytes(u64 elements, u64 bits) { return (elements * bits + 7) / 8; }

std::string where(const workloads::Operator& op) {
  return (op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name + "': ";
}

bool activation_product(const workloads::Operator& op) {
  const auto* m = std::get_if<workloads::MatMul>(&op.shape);
  return m && !m->b_is_weight && !m->b_is_cache;
}

// Data banks: 2 x P_BU banks per half of an engine's ping-pong pair, each max_length / (2 P_BU)
// complex values deep. The coefficient buffer as the artefact sizes it: log2(max_length) stages
// of 2 max_length values of 2 x 16 bits.
u64 bank_bytes(const ButterflyParams& p) {
  return static_cast<u64>(p.max_length / (2 * p.units)) * 2 * 2;  // complex fp16
}
u64 data_bytes(const ButterflyParams& p) {
  return static_cast<u64>(p.engines) * 2 * static_cast<u64>(2 * p.units) * bank_bytes(p);
}
u64 coefficient_bytes(const ButterflyParams& p) {
  return static_cast<u64>(2 * p.max_length) * static_cast<u64>(log2_pow2(p.max_length)) * 4;
}

}  // namespace

ButterflyEngine::ButterflyEngine(const ButterflyParams& p) : EngineBase(p.common), p_(p) {}

std::unique_ptr<Engine> ButterflyEngine::create(ParamReader& r) {
  ButterflyParams p;
  CommonDefaults d;
  d.clock = "200 MHz";
  d.dram_required = true;
  d.hamming = true;  // operand streams: energy.hamming is a key
  d.memory.bandwidth = "";  // the config names its ports' channels and widths
  p.common = read_common(r, d, [&p](ParamReader& energy, const energy::Technology& tech) {
    p.dram_type = energy::read_dram_type(energy, tech, p.dram_type);
  });
  auto b = r.child("butterfly");
  p.engines = array_dimension(b, "engines");
  p.units = array_dimension(b, "units");
  if (!std::has_single_bit(static_cast<u64>(p.units)))
    throw b.error("units", "must be a power of two (the conflict-free bank layout), got " +
                               std::to_string(p.units));
  p.reference = b.choice("mode", {"native", "reference"}, "native") == "reference";
  p.efficiency = b.positive("efficiency", p.reference ? 0.85 : 1.0);
  if (p.efficiency > 1) throw b.error("efficiency", "must be in (0, 1]");
  p.linear_banks =
      b.choice("bank_layout", {"conflict_free", "linear"}, "conflict_free") == "linear";
  p.max_length = b.positive_integer("max_length", 4096);
  if (!std::has_single_bit(static_cast<u64>(p.max_length)) || p.max_length < 4 * p.units ||
      p.max_length > (i64{1} << 24))
    throw b.error("max_length",
                  "must be a power of two in [4 units, 2^24], got " + std::to_string(p.max_length));
  b.finish();
  if (auto a = r.optional_child("attention")) {
    p.attention_lanes = array_dimension(*a, "lanes", p.attention_lanes);
    p.attention_macs_per_lane = array_dimension(*a, "macs_per_lane", p.attention_macs_per_lane);
    p.softmax_latency = static_cast<u64>(a->non_negative_integer("softmax_latency", 72));
    a->finish();
  }
  return std::make_unique<ButterflyEngine>(p);
}

double ButterflyEngine::peak_macs_per_cycle() const {
  return 4.0 * static_cast<double>(p_.engines) * static_cast<double>(p_.units);
}

double ButterflyEngine::peak_macs_per_cycle(const workloads::Operator& op) const {
  if (activation_product(op))
    return static_cast<double>(p_.attention_lanes) *
           static_cast<double>(p_.attention_macs_per_lane);
  if (op.precision.complex) return peak_macs_per_cycle() / energy::kComplexMac4.multiplies;
  return peak_macs_per_cycle();
}

std::optional<energy::ComplexMac> ButterflyEngine::complex_mac() const {
  if (p_.reference) return std::nullopt;
  return energy::kComplexMac4;
}

u64 ButterflyEngine::on_chip_bytes() const { return data_bytes(p_) + coefficient_bytes(p_); }

AreaBreakdown ButterflyEngine::area_by_component() const {
  const energy::Technology& t = *common_.tech;
  // Half-precision floating point, as the accelerator's datapath.
  const double mac = t.mac_cost("fp16").area_um2 * 1e-6;
  const double attention = 2.0 * static_cast<double>(p_.attention_lanes) *
                           static_cast<double>(p_.attention_macs_per_lane);
  const double banks = static_cast<double>(p_.engines * 2 * 2 * p_.units);
  return area_or_given({{"butterfly_units", peak_macs_per_cycle() * mac},
                        {"attention", attention * mac},
                        {"data_banks", banks * t.sram_area_mm2(bank_bytes(p_))},
                        {"coefficient_buffer", t.sram_area_mm2(coefficient_bytes(p_))}});
}

std::vector<KindSupport> ButterflyEngine::kinds() const {
  using workloads::OpKind;
  const Unit others = p_.reference ? Unit::none : Unit::vector_unit;
  return {{OpKind::butterfly, Unit::datapath},  {OpKind::fft, Unit::datapath},
          {OpKind::matmul, p_.reference ? Unit::none : Unit::datapath},
          {OpKind::elementwise, others},        {OpKind::softmax, others},
          {OpKind::norm, others},               {OpKind::data_movement, others}};
}

std::vector<std::string> ButterflyEngine::supports(const workloads::Operator& op) const {
  using workloads::OpKind;
  std::vector<std::string> w = Engine::supports(op);  // refuses the kinds kinds() does not list
  const OpKind k = op.kind();
  if (k == OpKind::matmul && !activation_product(op))
    throw UnsupportedError(where(op) +
                           "the butterfly engine runs butterfly and FFT layers, products of two "
                           "activations (attention) and vector operators, not dense or cached "
                           "matrix products");
  const bool datapath = k == OpKind::butterfly || k == OpKind::fft;
  if (op.precision.complex && k != OpKind::butterfly)
    throw UnsupportedError(where(op) +
                           (k == OpKind::fft
                                ? "an FFT is complex by its shape (complex_input, complex output); "
                                  "precision.complex applies to butterfly layers"
                                : "the butterfly engine's complex datapath runs butterfly layers "
                                  "only"));
  if (p_.reference) {
    w.push_back(datapath ? fmt::format("reference mode: the artefact's pipeline model (DRAM "
                                       "cycles inside its stage costs, efficiency {:g})",
                                       p_.efficiency)
                         : "reference mode: not timed (the artefact's model times butterfly and "
                           "FFT layers only)");
    return w;
  }
  i64 points = 0;
  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape)) points = b->size();
  if (const auto* f = std::get_if<workloads::Fft>(&op.shape))
    points = std::max(f->row_points(), f->two_d ? f->col_points() : 0);
  if (points > p_.max_length)
    throw UnsupportedError(where(op) + fmt::format("a {}-point butterfly network exceeds the data "
                                                   "banks (butterfly.max_length {})",
                                                   points, p_.max_length));
  return w;
}

u64 ButterflyEngine::port_bits(std::string_view port) const {
  const MemoryChannel& c = memory().channels[memory().channel_for(port)];
  if (!std::isfinite(c.bytes_per_cycle))
    throw UnsupportedError("butterfly reference mode: the channel '" + c.name + "' carrying " +
                           std::string(port) + " needs a finite width");
  return static_cast<u64>(std::llround(c.bytes_per_cycle * 8));
}

// The artefact's model (bfly_accelerator.py), term by term:
//   DRAM: height x width values of `bits` at `bw` bits a cycle take ceil(values / (bw / bits));
//   S2P / P2S: a row of N values enters and leaves an engine one value a cycle (N cycles);
//   coefficient buffer: 4 P_BU words of 2 x bits, so log2 N x N complex twiddles take
//     log2 N x N / (4 P_BU) cycles to write, and log2 N x 2N butterfly weights the same;
//   compute: N / (2 P_BU) x log2 N cycles a row (the data banks' reads match it);
//   FFT: per run, load (input or coefficients, whichever is slower) then compute, in series;
//     store in a second stage: cycles = first + max(0, runs - 2) x max(first, store);
//   butterfly: load, compute, store as three stages: cycles = load + compute +
//     max(0, runs - 3) x max(load, compute, store) + (runs >= 3 ? max(compute, store) : 0);
//   runs = ceil(rows / P_BE), times N_out / N_in for an expansion.
// The counts of runs are the artefact's own (it drops the last store and, for two runs, the
// second run: "the output can overlap with the next layer").
u64 ButterflyEngine::reference_cycles(const workloads::Operator& op) const {
  const u64 pbe = static_cast<u64>(p_.engines), pbu = static_cast<u64>(p_.units);
  const u64 in_bw = port_bits("input"), coef_bw = port_bits("coefficients"),
            out_bw = port_bits("output");
  const auto dram = [&](u64 values, u64 bits, u64 bw, const char* port) {
    if (bits == 0 || bw % bits != 0 || bw < bits)
      throw UnsupportedError(where(op) + fmt::format("reference mode: the {} port's {} bits a "
                                                     "cycle are not a multiple of {}-bit values",
                                                     port, bw, bits));
    return up(values, bw / bits);
  };
  const u64 bits = static_cast<u64>(op.precision.activation_bits);
  if (const auto* f = std::get_if<workloads::Fft>(&op.shape)) {
    const u64 n = static_cast<u64>(f->row_points()),
              stages = static_cast<u64>(log2_pow2(f->row_points()));
    const u64 runs = up(static_cast<u64>(f->batch * f->rows), pbe);
    const auto pass = [&](bool complex_in, bool complex_out) {
      const u64 load = std::max(dram(n * pbe, bits * (complex_in ? 2 : 1), in_bw, "input"), n);
      const u64 coef =
          std::max(dram(stages * n, 2 * bits, coef_bw, "coefficients"), up(stages * n, 4 * pbu));
      const u64 first = up(n, 2 * pbu) * stages + std::max(load, coef);
      const u64 store = std::max(dram(n * pbe, bits * (complex_out ? 2 : 1), out_bw, "output"), n);
      return first + (runs > 2 ? runs - 2 : 0) * std::max(first, store);
    };
    // The 2-D mixer as the artefact counts it: both passes D-point over the rows.
    return f->two_d ? pass(false, true) + pass(true, false) : pass(f->complex_input, true);
  }
  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape)) {
    const u64 w = static_cast<u64>(b->size()), stages = static_cast<u64>(b->stages());
    const u64 wbits = static_cast<u64>(op.precision.weight_bits);
    const u64 runs = up(static_cast<u64>(b->rows), pbe) * static_cast<u64>(b->copies());
    const u64 load = std::max(
        std::max(dram(w * pbe, bits, in_bw, "input"), w),
        std::max(dram(stages * 2 * w, wbits, coef_bw, "coefficients"), up(stages * w, 4 * pbu)));
    const u64 compute = up(w, 2 * pbu) * stages;
    const u64 store = std::max(dram(w * pbe, bits, out_bw, "output"), w);
    u64 c = load + compute;
    if (runs >= 3) c += (runs - 3) * std::max({load, compute, store}) + std::max(compute, store);
    return c;
  }
  throw UnsupportedError(where(op) + "the artefact's model times butterfly and FFT layers only");
}

u64 ButterflyEngine::row_cycles(std::int64_t points) const {
  if (points < 2) return 0;
  const u64 stages = static_cast<u64>(log2_pow2(points));
  const u64 steps = up(static_cast<u64>(points / 2), static_cast<u64>(p_.units));
  // Linear layout: a stage of stride >= 2 P_BU reads both values of every pair from one bank.
  const u64 clash_free = static_cast<u64>(log2_pow2(2 * p_.units));
  const u64 clashing = p_.linear_banks && stages > clash_free ? stages - clash_free : 0;
  return steps * (stages + clashing);
}

LayerWork ButterflyEngine::map(const workloads::Operator& op, const MapContext& context) const {
  return p_.reference ? map_reference(op) : map_native(op, context);
}

namespace {

// DRAM traffic and bank accesses of a butterfly or FFT operator (both modes count the same).
struct Traffic {
  u64 input = 0, coefficients = 0, output = 0;
  u64 bank_bits = 0, coefficient_read_bits = 0;
};

}  // namespace

LayerWork ButterflyEngine::map_reference(const workloads::Operator& op) const {
  LayerWork w;
  w.plan.buffering = dataflows::kDoubleBuffered;
  w.plan.units = static_cast<u64>(p_.engines * p_.units);
  const auto k = op.kind();
  if (k != workloads::OpKind::butterfly && k != workloads::OpKind::fft) return w;  // not timed
  const u64 cycles = reference_cycles(op);
  // The efficiency factor stretches the layer: the artefact divides its latency by it.
  const u64 stretched =
      static_cast<u64>(std::ceil(static_cast<double>(cycles) / p_.efficiency - 1e-9));
  dataflows::Tile t;
  t.compute_cycles = std::max(stretched, cycles);
  t.busy_units = w.plan.units;
  w.plan.append(t);
  w.macs = static_cast<u64>(op.macs());
  w.mac_bits = std::max(op.precision.weight_bits, op.precision.activation_bits);
  w.mac_format = op.precision.format;
  w.metrics["reference_cycles"] = static_cast<double>(cycles);
  // Traffic for energy: what the layer moves (the artefact's model keeps no counts).
  w.accesses["dram.input"] = {static_cast<u64>(op.input_bytes()), 0};
  w.accesses["dram.output"] = {0, static_cast<u64>(op.output_bytes())};
  return w;
}

LayerWork ButterflyEngine::map_attention(const workloads::Operator& op,
                                         const MapContext& context) const {
  const auto& m = std::get<workloads::MatMul>(op.shape);
  LayerWork w;
  w.plan.buffering = dataflows::kDoubleBuffered;
  const u64 lanes = static_cast<u64>(p_.attention_lanes);
  w.plan.units = lanes * static_cast<u64>(p_.attention_macs_per_lane);
  const u64 bits = static_cast<u64>(op.precision.activation_bits);
  const u64 heads = static_cast<u64>(m.batch), groups = up(heads, lanes);
  const u64 per_head = static_cast<u64>(m.m * m.n * m.k);
  const std::size_t in = w.plan.port(dataflows::port::input);
  const std::size_t out = w.plan.port(dataflows::port::output, dataflows::Direction::write);
  // One head per lane; the last group may leave lanes idle.
  const u64 g = heads - (groups - 1) * lanes;
  {
    dataflows::Tile full;
    full.compute_cycles = up(per_head, static_cast<u64>(p_.attention_macs_per_lane));
    full.busy_units = w.plan.units;
    full.bytes[in] =
        context.input_on_chip ? 0 : bytes(lanes * static_cast<u64>(m.m * m.k + m.k * m.n), bits);
    full.bytes[out] = context.output_on_chip ? 0 : bytes(lanes * static_cast<u64>(m.m * m.n), bits);
    full.count = groups - 1;
    if (full.count) w.plan.append(full);
    dataflows::Tile last = full;
    last.count = 1;
    last.busy_units = g * static_cast<u64>(p_.attention_macs_per_lane);
    last.bytes[in] =
        context.input_on_chip ? 0 : bytes(g * static_cast<u64>(m.m * m.k + m.k * m.n), bits);
    last.bytes[out] = context.output_on_chip ? 0 : bytes(g * static_cast<u64>(m.m * m.n), bits);
    w.plan.append(last);
  }
  w.macs = static_cast<u64>(op.macs());
  w.mac_bits = op.precision.activation_bits;
  w.mac_format = op.precision.format;
  w.accesses["dram.input"] = {w.plan.port_bytes(in), 0};
  w.accesses["dram.output"] = {0, w.plan.port_bytes(out)};
  return w;
}

LayerWork ButterflyEngine::map_native(const workloads::Operator& op,
                                      const MapContext& context) const {
  using namespace dataflows;
  if (activation_product(op)) return map_attention(op, context);
  if (op.kind() != workloads::OpKind::butterfly && op.kind() != workloads::OpKind::fft) {
    LayerWork w = map_vector(op, context);
    // Softmax leaves its first row after the exponent/divide pipeline has filled.
    if (op.kind() == workloads::OpKind::softmax && !w.plan.tiles.empty())
      add_fill_drain(w.plan, p_.softmax_latency, 0);
    return w;
  }
  LayerWork w;
  w.plan.buffering = kDoubleBuffered;
  const u64 pbe = static_cast<u64>(p_.engines);
  w.plan.units = pbe * static_cast<u64>(p_.units);
  const std::size_t in = w.plan.port(port::input);
  const std::size_t coef = w.plan.port("coefficients");
  const std::size_t out = w.plan.port(port::output, Direction::write);
  // Complex butterfly layers carry two parts a value; a unit's four multipliers do one complex
  // multiply a cycle, so a 2x2 block (four of them) takes four cycles.
  const u64 parts = static_cast<u64>(op.precision.parts());
  const u64 abits = static_cast<u64>(op.precision.activation_bits) * parts;
  const u64 steps_per_butterfly =
      op.precision.complex ? static_cast<u64>(energy::kComplexMac4.multiplies) : 1;
  Traffic traffic;

  // One pass: `rows` rows of a `points`-point network, P_BE rows a tile; each row brings
  // `in_values` values of in_bits and leaves `out_values` of out_bits; the pass's coefficients
  // come with its first tile. A row takes max(network, S2P fill, P2S drain) cycles, as the
  // ping-pong banks overlap the three.
  const auto pass = [&](u64 rows, i64 points, u64 in_values, u64 in_bits, u64 out_values,
                        u64 out_bits, u64 coef_bytes, u64 bank_bits, u64 coef_read_bits) {
    TileSeq seq;
    const u64 groups = up(rows, pbe), last_rows = rows - (groups - 1) * pbe;
    const u64 pts = static_cast<u64>(points);
    const u64 cycles = std::max({row_cycles(points) * steps_per_butterfly, pts, out_values});
    const auto tile = [&](u64 r, u64 n, bool first) {
      Tile t;
      t.compute_cycles = cycles;
      t.busy_units = r * static_cast<u64>(p_.units);
      t.bytes[in] = context.input_on_chip ? 0 : bytes(r * in_values, in_bits);
      t.bytes[out] = context.output_on_chip ? 0 : bytes(r * out_values, out_bits);
      t.bytes[coef] = first ? coef_bytes : 0;
      t.count = n;
      return t;
    };
    const u64 full = last_rows == pbe ? groups : groups - 1;
    if (full >= 1) seq.append(tile(pbe, 1, true));
    if (full >= 2) seq.append(tile(pbe, full - 1, false));
    if (full < groups) seq.append(tile(last_rows, 1, full == 0));
    const u64 butterflies = rows * (pts / 2) * static_cast<u64>(log2_pow2(points));
    traffic.bank_bits += butterflies * 4 * bank_bits;  // two reads and two writes each
    // Coefficients are broadcast: one read serves the P_BE engines.
    traffic.coefficient_read_bits += up(butterflies, pbe) * coef_read_bits;
    return seq;
  };

  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape)) {
    const i64 n = b->size();
    const u64 copies = static_cast<u64>(b->copies());
    const u64 wbits = static_cast<u64>(op.precision.weight_bits) * parts;
    const u64 coef_bytes = bytes(static_cast<u64>(2 * n * b->stages()), wbits);
    const u64 out_values = std::min(static_cast<u64>(n), static_cast<u64>(b->out_features));
    // Copy by copy (an expansion): coefficients once per copy, the rows again for each.
    TileSeq body = pass(static_cast<u64>(b->rows), n, static_cast<u64>(b->in_features), abits,
                        out_values, abits, coef_bytes, abits, 4 * wbits);
    w.plan.append(body, copies);
    // The rows read again for each copy: the input tensor wraps (its layout's extent).
    w.plan.ports[in].layout.extent = bytes(static_cast<u64>(b->rows) * static_cast<u64>(b->in_features), abits);
    traffic.bank_bits *= copies;
    traffic.coefficient_read_bits *= copies;
    w.metrics["butterflies_per_row"] = static_cast<double>(b->copies() * (n / 2) * b->stages());
  } else {
    const auto& f = std::get<workloads::Fft>(op.shape);
    const u64 twiddles = [&](i64 p) {
      return bytes(static_cast<u64>(p / 2 * log2_pow2(p)) * 2, abits);
    }(f.row_points());
    const u64 cols = static_cast<u64>(f.cols), rows = static_cast<u64>(f.rows);
    const u64 batch = static_cast<u64>(f.batch);
    if (f.two_d) {
      // D-point FFTs over the rows (real in, complex out), then L-point FFTs over the columns
      // (complex in, real part out): the intermediate goes through DRAM, transposed.
      w.plan.append(pass(batch * rows, f.row_points(), cols, abits, cols, 2 * abits, twiddles,
                         2 * abits, 2 * abits));
      const u64 col_twiddles =
          bytes(static_cast<u64>(f.col_points() / 2 * log2_pow2(f.col_points())) * 2, abits);
      w.plan.append(pass(batch * cols, f.col_points(), rows, 2 * abits, rows, abits, col_twiddles,
                         2 * abits, 2 * abits));
    } else {
      w.plan.append(pass(batch * rows, f.row_points(), cols, (f.complex_input ? 2 : 1) * abits,
                         cols, 2 * abits, twiddles, 2 * abits, 2 * abits));
    }
  }
  w.macs = static_cast<u64>(op.macs());
  w.mac_bits = std::max(op.precision.weight_bits, op.precision.activation_bits);
  w.mac_format = op.precision.format;
  if (op.precision.complex) {
    w.complex_mac = complex_mac();
    w.metrics["complex_mac_real_multiplies"] = w.complex_mac->multiplies;
    w.metrics["complex_mac_real_adds"] = w.complex_mac->adds;
  }
  w.accesses["dram.input"] = {w.plan.port_bytes(in), 0};
  w.accesses["dram.coefficients"] = {w.plan.port_bytes(coef), 0};
  w.accesses["dram.output"] = {0, w.plan.port_bytes(out)};
  w.accesses["sram.data"] = {traffic.bank_bits / 16, traffic.bank_bits / 16};
  w.accesses["sram.coefficients"] = {(traffic.coefficient_read_bits + 7) / 8,
                                     w.plan.port_bytes(coef)};
  return w;
}

namespace {

using energy::IndexLoop;
using energy::IndexSegment;
using energy::IndexedStream;

// What a stream of one radix-2 network reads at stage s, for a unit's pair p = u + P_BU t (the
// low log2 P_BU bits of p pick the unit): the data ports the pair's upper (j) or lower (j + 2^s)
// value, where j is p with a zero bit inserted at position s; the coefficient ports a block's
// weight (one per pair and stage) or the pair's twiddle W_N^(p mod 2^s x N / 2^(s+1)).
enum class Reads { upper, lower, block_weight, twiddle };

// The loops of stage s of an N-point network on `units` units (both powers of two,
// 2 units <= N): the spatial unit bits innermost, one loop each (a bit's stride depends on the
// stage), the temporal pairs of each unit outside them. `scale` multiplies every stride (a
// tensor's element step), `spatial` (outermost) are the caller's: rows, columns, batches.
IndexSegment stage_segment(i64 n, i64 units, i64 s, Reads reads, i64 scale, i64 offset,
                           const std::vector<IndexLoop>& spatial) {
  const i64 m = log2_pow2(n / 2), b = log2_pow2(units), half = i64{1} << s;
  // The element step of pair bit i.
  const auto stride = [&](i64 i) -> i64 {
    switch (reads) {
      case Reads::upper:
      case Reads::lower:
        return (i < s ? i64{1} << i : i64{1} << (i + 1)) * scale;
      case Reads::block_weight:
        return (i64{1} << i) * scale;
      case Reads::twiddle:  // j's bits only: W index j x N / 2^(s+1), two values a factor
        return i < s ? (i64{1} << i) * (n / (2 * half)) * 2 * scale : 0;
    }
    return 0;
  };
  IndexSegment g;
  g.offset = offset + (reads == Reads::lower ? half * scale : 0);
  g.loops = spatial;
  // Temporal: pair bits [b, m), split at s where the stride changes.
  if (s > b && s < m) {
    g.loops.push_back({"block", i64{1} << (m - s), stride(s), false});
    g.loops.push_back({"pair", i64{1} << (s - b), stride(b), false});
  } else {
    g.loops.push_back({"pair", i64{1} << (m - b), stride(b), false});
  }
  for (i64 i = b; i-- > 0;)
    g.loops.push_back({"unit.bit" + std::to_string(i), 2, stride(i), true});
  return g;
}

}  // namespace

std::optional<energy::LayerStreams> ButterflyEngine::operand_streams(
    const workloads::Operator& op) const {
  // Complex butterfly layers: no streams described (each value's two parts interleave through
  // the multipliers); their MACs keep the table's complex-MAC energy.
  if (op.precision.complex) return std::nullopt;
  const int abits = op.precision.activation_bits;
  energy::LayerStreams out;
  // Units an N-point network keeps busy.
  const auto units = [&](i64 n) { return std::min<i64>(p_.units, n / 2); };
  if (const auto* b = std::get_if<workloads::Butterfly>(&op.shape)) {
    const i64 n = b->size(), stages = b->stages(), u = units(n);
    // Rows on the engines (rows of the padded input); coefficients broadcast: the same on every
    // engine (stride 0: one stream, counted once per row).
    const std::vector<IndexLoop> rows{{"row", b->rows, n, true}};
    const std::vector<IndexLoop> broadcast{{"row", b->rows, 0, true}};
    IndexedStream upper{"bu.upper", "input", abits, {}}, lower{"bu.lower", "input", abits, {}};
    std::vector<IndexedStream> coef;
    for (const char* c : {"bu.coef.a", "bu.coef.b", "bu.coef.c", "bu.coef.d"})
      coef.push_back({c, "weight", op.precision.weight_bits, {}});
    for (i64 copy = 0; copy < b->copies(); ++copy)
      for (i64 s = 0; s < stages; ++s) {
        upper.segments.push_back(stage_segment(n, u, s, Reads::upper, 1, 0, rows));
        lower.segments.push_back(stage_segment(n, u, s, Reads::lower, 1, 0, rows));
        const i64 base = ((copy * stages + s) * (n / 2)) * 4;
        for (i64 w = 0; w < 4; ++w)
          coef[static_cast<std::size_t>(w)].segments.push_back(
              stage_segment(n, u, s, Reads::block_weight, 4, base + w, broadcast));
      }
    out.indexed = {std::move(upper), std::move(lower)};
    for (auto& c : coef) out.indexed.push_back(std::move(c));
    return out;
  }
  if (const auto* f = std::get_if<workloads::Fft>(&op.shape)) {
    const i64 parts = f->complex_input ? 2 : 1;  // data ports carry the real parts
    const i64 np = f->row_points(), padded_rows = f->two_d ? f->col_points() : f->rows;
    // One pass: `pass` names its ports; `points` per network, `step` between its points,
    // `spatial` the networks (rows or columns) and `table` its twiddles.
    const auto pass = [&](const std::string& name, i64 points, i64 step,
                          const std::vector<IndexLoop>& spatial, const std::string& table) {
      std::vector<IndexLoop> shared = spatial;
      for (auto& l : shared) l.stride = 0;
      const i64 u = units(points);
      IndexedStream up{name + "upper", "input", abits, {}}, lo{name + "lower", "input", abits, {}};
      IndexedStream re{name + "twiddle.re", table, abits, {}},
          im{name + "twiddle.im", table, abits, {}};
      for (i64 s = 0; s < log2_pow2(points); ++s) {
        up.segments.push_back(stage_segment(points, u, s, Reads::upper, step, 0, spatial));
        lo.segments.push_back(stage_segment(points, u, s, Reads::lower, step, 0, spatial));
        re.segments.push_back(stage_segment(points, u, s, Reads::twiddle, 1, 0, shared));
        im.segments.push_back(stage_segment(points, u, s, Reads::twiddle, 1, 1, shared));
      }
      for (auto* st : {&up, &lo, &re, &im}) out.indexed.push_back(std::move(*st));
    };
    const std::vector<IndexLoop> rows{{"batch", f->batch, padded_rows * np * parts, true},
                                      {"row", f->rows, np * parts, true}};
    pass(f->two_d ? "bu.rows." : "bu.", np, parts, rows, "twiddle");
    if (f->two_d)
      pass("bu.cols.", f->col_points(), np,
           {{"batch", f->batch, padded_rows * np, true}, {"col", f->cols, 1, true}},
           "twiddle.col");
    return out;
  }
  return std::nullopt;  // attention products and vector operators: no butterfly-unit streams
}

EnergyBreakdown ButterflyEngine::energy(const LayerWork& work, u64 cycles) const {
  const energy::Technology& t = *common_.tech;
  EnergyBreakdown e;
  if (work.macs > 0) {
    const std::string prec = energy::layer_mac_precision(work.mac_bits, work.mac_format);
    e["mac"] = static_cast<double>(work.macs) *
               (work.complex_mac ? t.complex_mac_pj(prec, *work.complex_mac, std::nullopt)
                                 : t.mac_cost(prec).energy_pj);
  }
  const double dram_pj_per_byte = 8 * t.dram(p_.dram_type);
  double read = 0, write = 0;
  for (const auto& [level, a] : work.accesses)
    if (level.rfind("dram", 0) == 0) {
      read += static_cast<double>(a.read_bytes);
      write += static_cast<double>(a.write_bytes);
    }
  e["dram.read"] = read * dram_pj_per_byte;
  e["dram.write"] = write * dram_pj_per_byte;
  if (const auto it = work.accesses.find("sram.data"); it != work.accesses.end()) {
    e["sram.data.read"] =
        static_cast<double>(it->second.read_bytes) * 8 * t.sram_read_pj_per_bit(bank_bytes(p_));
    e["sram.data.write"] =
        static_cast<double>(it->second.write_bytes) * 8 * t.sram_write_pj_per_bit(bank_bytes(p_));
  }
  if (const auto it = work.accesses.find("sram.coefficients"); it != work.accesses.end()) {
    e["sram.coefficients.read"] = static_cast<double>(it->second.read_bytes) * 8 *
                                  t.sram_read_pj_per_bit(coefficient_bytes(p_));
    e["sram.coefficients.write"] = static_cast<double>(it->second.write_bytes) * 8 *
                                   t.sram_write_pj_per_bit(coefficient_bytes(p_));
  }
  const double seconds = static_cast<double>(cycles) / common_.clock_hz;
  const double sram_mm2 =
      static_cast<double>(p_.engines * 4 * p_.units) * t.sram_area_mm2(bank_bytes(p_)) +
      t.sram_area_mm2(coefficient_bytes(p_));
  const double logic_mm2 = std::max(0.0, area_mm2() - sram_mm2);
  e["leakage"] = (logic_mm2 * t.leakage_logic_mw_per_mm2 + sram_mm2 * t.leakage_sram_mw_per_mm2) *
                 seconds * 1e9;
  return e;
}

nlohmann::json ButterflyEngine::resolved_config() const {
  return with_common({{"butterfly",
                       {{"engines", p_.engines},
                        {"units", p_.units},
                        {"mode", p_.reference ? "reference" : "native"},
                        {"efficiency", p_.efficiency},
                        {"bank_layout", p_.linear_banks ? "linear" : "conflict_free"},
                        {"max_length", p_.max_length}}},
                      {"attention",
                       {{"lanes", p_.attention_lanes},
                        {"macs_per_lane", p_.attention_macs_per_lane},
                        {"softmax_latency", p_.softmax_latency}}},
                      {"energy", {{"dram", p_.dram_type}}}});
}

}  // namespace tessera::arch
