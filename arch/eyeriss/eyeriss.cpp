#include "arch/eyeriss/eyeriss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "arch/energy/config.hpp"
#include "common/checked.hpp"
#include "dataflows/layouts.hpp"

namespace tessera::arch {

namespace {

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
// In 128 bits: a layer's cycles or bytes times the tile index may pass 64 bits.
u64 share(u64 total, u64 i, u64 n) {
  __extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC and Clang extension
  return static_cast<u64>(u128{total} * (i + 1) / n - u128{total} * i / n);
}

// One group of a layer as row-stationary planes.
struct RsLayer {
  i64 n = 1, c = 1, k = 1;  // images, input channels, filters (per group)
  i64 r = 1, s = 1;         // filter rows, columns
  i64 e = 1, f = 1;         // output rows, columns
  i64 groups = 1;
};

// The operator as row-stationary planes; nullopt for operators without MACs.
std::optional<RsLayer> rs_layer(const workloads::Operator& op) {
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) {
    if (c->transposed)
      throw UnsupportedError("eyeriss: operator '" + op.name +
                             "': transposed convolutions are not supported");
    return RsLayer{c->n, c->c / c->groups, c->k / c->groups, c->r, c->s, c->p(), c->q(), c->groups};
  }
  if (const auto* m = std::get_if<workloads::MatMul>(&op.shape))
    return RsLayer{m->b_is_weight ? m->batch * m->m : m->m, m->k, m->n, 1, 1, 1, 1,
                   m->b_is_weight ? 1 : m->batch};
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Engine> EyerissEngine::create(ParamReader& r) {
  EyerissParams p;
  if (auto e = r.optional_child("eyeriss")) {
    p.rows = array_dimension(*e, "rows", p.rows);
    p.cols = array_dimension(*e, "cols", p.cols);
    // Ranges: words of at most 64 bits, scratch pads of at most 2^20 words (the chip's hold 12 to
    // 224), so that byte and area counts stay exact.
    const auto at_most = [&e](const char* key, std::int64_t fallback, std::int64_t max) {
      const std::int64_t v = e->positive_integer(key, fallback);
      if (v > max)
        throw e->error(key,
                       "must be at most " + std::to_string(max) + ", got " + std::to_string(v));
      return v;
    };
    p.word_bits = static_cast<int>(at_most("word_bits", p.word_bits, 64));
    p.ifmap_spad_words = at_most("ifmap_spad_words", p.ifmap_spad_words, std::int64_t{1} << 20);
    p.filter_spad_words = at_most("filter_spad_words", p.filter_spad_words, std::int64_t{1} << 20);
    p.psum_spad_words = at_most("psum_spad_words", p.psum_spad_words, std::int64_t{1} << 20);
    e->finish();
  }
  if (auto sram = r.optional_child("sram")) {
    p.glb_bytes = sram->size_bytes("global_buffer", "108 KiB");
    sram->finish();
  }
  CommonDefaults d;
  d.clock = "200 MHz";
  d.memory.bandwidth = "8 B/cycle";
  d.hamming = true;
  p.common = read_common(r, d, [&p](ParamReader& e, const energy::Technology&) {
    p.unit_pj = e.non_negative("unit_pj", p.unit_pj);
    p.mac_units = e.non_negative("mac_units", p.mac_units);
    p.rf_units = e.non_negative("rf_units", p.rf_units);
    p.array_units = e.non_negative("array_units", p.array_units);
    p.glb_units = e.non_negative("glb_units", p.glb_units);
    p.dram_units = e.non_negative("dram_units", p.dram_units);
  });
  if (!p.common.area_mm2) p.common.area_mm2 = EyerissParams::default_common().area_mm2;
  return std::make_unique<EyerissEngine>(p);
}

CommonParams EyerissParams::default_common() {
  CommonParams c;
  c.clock_hz = 200e6;
  c.memory.channels.front().bytes_per_cycle = 8;
  c.area_mm2 = 12.25;
  return c;
}

namespace {

// The technology table's area of an Eyeriss array (a MAC unit of the word width and its
// scratchpads as registers per PE) and global buffer, mm^2: what the chip's area is scaled by.
double estimated_area_mm2(const EyerissParams& p, const energy::Technology& t) {
  const double spad_bits =
      static_cast<double>((p.ifmap_spad_words + p.filter_spad_words + p.psum_spad_words) * p.word_bits);
  const double pe_um2 = t.mac_cost(energy::Technology::int_precision(p.word_bits)).area_um2 +
                        spad_bits * t.register_area_um2_per_bit;
  return static_cast<double>(p.rows * p.cols) * pe_um2 * 1e-6 + t.sram_area_mm2(p.glb_bytes);
}

}  // namespace

EyerissEngine::EyerissEngine(const EyerissParams& p) : EngineBase(p.common), p_(p) {
  const double chip = common_.area_mm2.value_or(0.0);
  EyerissParams reference;  // the chip's array and buffers
  const double scale = estimated_area_mm2(p_, *common_.tech) / estimated_area_mm2(reference, *common_.tech);
  area_mm2_ = chip * scale;
}

AreaBreakdown EyerissEngine::area_by_component() const {
  // The chip's core (its PEs and global buffer, scaled) had no vector unit; the model's is added.
  return {{"chip", area_mm2_}, {"vector", vector_area_mm2()}};
}

nlohmann::json EyerissEngine::resolved_config() const {
  return with_common({{"eyeriss",
           {{"rows", p_.rows},
            {"cols", p_.cols},
            {"word_bits", p_.word_bits},
            {"ifmap_spad_words", p_.ifmap_spad_words},
            {"filter_spad_words", p_.filter_spad_words},
            {"psum_spad_words", p_.psum_spad_words}}},
          {"sram", {{"global_buffer", p_.glb_bytes}}},
          {"energy",
           {{"unit_pj", p_.unit_pj},
            {"mac_units", p_.mac_units},
            {"rf_units", p_.rf_units},
            {"array_units", p_.array_units},
            {"glb_units", p_.glb_units},
            {"dram_units", p_.dram_units}}}});
}

LayerWork EyerissEngine::map(const workloads::Operator& op, const MapContext& context) const {
  const u64 word = static_cast<u64>(p_.word_bits);
  const auto bytes = [word](i64 words) {
    const u64 bits = checked_mul(static_cast<u64>(words), word, "byte count");
    return bits / 8 + (bits % 8 != 0);
  };
  const auto mul = [](i64 a, i64 b) { return checked_mul(a, b, "access count"); };
  const auto add = [](i64 a, i64 b) { return checked_add(a, b, "access count"); };

  const auto layer = rs_layer(op);
  if (!layer) return map_vector(op, context);
  using namespace dataflows;
  LayerWork w;
  w.plan.buffering = kDoubleBuffered;
  w.plan.units = static_cast<u64>(p_.rows * p_.cols);
  const std::size_t in = w.plan.port(port::input), wt = w.plan.port(port::weight),
                    out = w.plan.port(port::output, Direction::write);
  const RsLayer& L = *layer;

  // Logical PE sets: R filter rows × E output rows, cut into strips and folds to fit the array.
  const i64 strips = L.e > p_.cols ? ceil_div(L.e, p_.cols) : 1;
  const i64 strip_rows = ceil_div(L.e, strips);
  const i64 folds = L.r > p_.rows ? ceil_div(L.r, p_.rows) : 1;
  const i64 fold_rows = ceil_div(L.r, folds);
  const i64 copies = (p_.rows / fold_rows) * (p_.cols / strip_rows);
  const i64 planes = L.n * L.c * L.k * strips * folds;  // per group
  const i64 passes = ceil_div(planes, copies);
  const u64 compute = static_cast<u64>(passes * L.s * L.f * L.groups);
  w.macs = static_cast<u64>(op.macs());

  // What a PE holds: q channels and p filters.
  const i64 q = std::clamp<i64>(p_.ifmap_spad_words / L.s, 1, L.c);
  const i64 pf = std::clamp<i64>(std::min(p_.psum_spad_words, p_.filter_spad_words / (L.s * q)),
                                 1, L.k);
  const i64 ifmap_words = op.input_elements();
  const i64 weight_words = op.params();
  const i64 output_words = op.output_elements();
  const i64 macs = static_cast<i64>(w.macs);

  const i64 glb_ifmap_reads = mul(ifmap_words, ceil_div(L.k, pf));
  const i64 psum_rounds = ceil_div(L.c, q);
  const i64 glb_psum_writes = mul(output_words, psum_rounds);
  const i64 glb_psum_reads = mul(output_words, psum_rounds - 1);

  w.accesses["rf"] = {bytes(mul(3, macs)), bytes(macs)};
  w.accesses["array"] = {bytes(macs / L.s), 0};
  w.accesses["sram.global_buffer"] = {
      bytes(add(add(glb_ifmap_reads, weight_words), glb_psum_reads)),
      bytes(add(ifmap_words, glb_psum_writes))};
  const u64 dram_in = context.input_on_chip ? 0 : bytes(ifmap_words);
  const u64 dram_out = context.output_on_chip ? 0 : bytes(output_words);
  w.accesses["dram.ifmap"] = {dram_in, 0};
  w.accesses["dram.filter"] = {bytes(weight_words), 0};
  w.accesses["dram.ofmap"] = {0, dram_out};

  // Double-buffered over the filter groups: each group's share of the traffic with its compute.
  const u64 tiles = static_cast<u64>(std::clamp<i64>(ceil_div(L.k, pf) * L.groups, 1, 64));
  for (u64 i = 0; i < tiles; ++i) {
    Tile t;
    t.compute_cycles = share(compute, i, tiles);
    t.busy_units = static_cast<u64>(copies * fold_rows * strip_rows);
    t.bytes[in] = share(dram_in, i, tiles);
    t.bytes[wt] = share(bytes(weight_words), i, tiles);
    t.bytes[out] = share(dram_out, i, tiles);
    w.plan.tiles.push_back(t);
  }
  // The input and the filters are read once in order; the outputs (NHWC) a filter group's
  // channels of every pixel per tile.
  const i64 channels = L.k * L.groups;
  w.plan.ports[out].layout = dataflows::matrix_layout(
      static_cast<double>(bytes(channels)), std::max<i64>(1, channels / static_cast<i64>(tiles)), channels, dram_out);
  w.metrics["active_pes"] = static_cast<double>(copies * fold_rows * strip_rows);
  w.metrics["strips"] = static_cast<double>(strips);
  w.metrics["copies"] = static_cast<double>(copies);
  w.metrics["pe_channels_q"] = static_cast<double>(q);
  w.metrics["pe_filters_p"] = static_cast<double>(pf);
  return w;
}

EnergyBreakdown EyerissEngine::energy(const LayerWork& work, u64 /*cycles*/) const {
  const double word_bytes = p_.word_bits / 8.0;
  const auto words = [&](u64 b) { return static_cast<double>(b) / word_bytes; };
  EnergyBreakdown e;
  e["mac"] = static_cast<double>(work.macs) * p_.mac_units * p_.unit_pj;
  for (const auto& [level, a] : work.accesses) {
    const double units = level == "rf"                  ? p_.rf_units
                         : level == "array"             ? p_.array_units
                         : level.rfind("dram", 0) == 0 ? p_.dram_units
                                                        : p_.glb_units;
    e[level + ".read"] = words(a.read_bytes) * units * p_.unit_pj;
    e[level + ".write"] = words(a.write_bytes) * units * p_.unit_pj;
  }
  return e;
}

// Row stationary in the GEMM view of arch/energy/streams.hpp (k = (r*S + s)*C + c, m = (image *
// E + output row) * F + output column): filter rows spread over the PE rows and output rows over
// the PE columns; in a PE, a filter row stays in the scratch pad while the output columns of its
// output row stream through, each taking the S taps of every channel, the partial sum
// accumulating over taps, channels and (vertically) the filter rows. Output channels and the
// output-row folds that do not fit the array come in time. An approximation of the chip's
// mapping (it also interleaves several filters and channels per PE), documented in
// docs/bitfusion.md.
std::optional<energy::LayerStreams> EyerissEngine::operand_streams(
    const workloads::Operator& op) const {
  const auto layer = rs_layer(op);
  if (!layer) return std::nullopt;
  const RsLayer& L = *layer;
  using energy::GemmDim;
  using energy::StreamTensor;
  energy::LayerStreams s;
  s.groups = L.groups;
  s.m = L.n * L.e * L.f;
  s.n = L.k;
  s.k = L.r * L.s * L.c;
  const i64 row_cols = std::min(p_.cols, L.n * L.e);  // output rows side by side
  const std::vector<energy::StreamLoop> loops = {
      {GemmDim::g, L.groups, false},
      {GemmDim::n, L.k, false},
      {GemmDim::m, ceil_div(L.n * L.e, row_cols), false},
      {GemmDim::k, L.r, true},  // one PE row per filter row
      {GemmDim::m, row_cols, true},
      {GemmDim::m, L.f, false},
      {GemmDim::k, L.s, false},
      {GemmDim::k, L.c, false}};
  const int bits = p_.word_bits;
  s.ports.push_back({"pe.ifmap", StreamTensor::activation, bits, loops, 0});
  s.ports.push_back({"pe.filter", StreamTensor::weight, bits, loops, 0});
  s.ports.push_back({"pe.psum", StreamTensor::psum, bits, loops, 3});
  return s;
}

}  // namespace tessera::arch
