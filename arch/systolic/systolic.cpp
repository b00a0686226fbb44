#include "arch/systolic/systolic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "arch/energy/config.hpp"
#include "dataflows/layouts.hpp"
#include "common/checked.hpp"

namespace tessera::arch {

namespace {

using dataflows::Dataflow;
using dataflows::FoldMapping;
using dataflows::GemmView;
using dataflows::append_tile;
using dataflows::Tile;

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
u64 bytes(i64 words, int bits) {
  const u64 b = checked_mul(static_cast<u64>(words), static_cast<u64>(bits), "byte count");
  return b / 8 + (b % 8 != 0);
}
i64 mul(i64 a, i64 b) { return checked_mul(a, b, "access count"); }
// The part of `total` that falls on [begin, end) of `whole`, so that consecutive parts add up
// to `total` exactly.
i64 share(i64 total, i64 begin, i64 end, i64 whole) {
  // In 128 bits: total and end may each approach 2^53.
  __extension__ typedef __int128 i128;  // -Wpedantic: a GCC and Clang extension
  return static_cast<i64>(i128{total} * end / whole - i128{total} * begin / whole);
}

// One fold: its index along array rows (i) and columns (j), and the rows/columns it uses.
struct Fold {
  i64 i, j, rows, cols;
  bool first_row, last_row, first_col, last_col;
};

Fold make_fold(const FoldMapping& fm, i64 R, i64 C, i64 i, i64 j) {
  Fold f;
  f.i = i, f.j = j;
  f.rows = i + 1 == fm.row_folds ? fm.last_fold_rows : R;
  f.cols = j + 1 == fm.col_folds ? fm.last_fold_cols : C;
  f.first_row = i == 0, f.last_row = i + 1 == fm.row_folds;
  f.first_col = j == 0, f.last_col = j + 1 == fm.col_folds;
  return f;
}

// The words of `total` (spread over a dimension of `whole` elements) that each of `n` folds of
// `size` elements takes, the last fold the rest: the last fold its exact share, the others equal
// parts of what is left, the first `extra` of them a word more. A fold's words thus depend on its
// index only through which side of `extra` it is on, so plans stay closed-form in the fold count.
struct FoldShare {
  i64 part = 0, extra = 0, last = 0;
  FoldShare(i64 total, i64 whole, i64 size, i64 n) {
    const i64 full = share(total, 0, std::min((n - 1) * size, whole), whole);
    last = total - full;
    if (n > 1) part = full / (n - 1), extra = full % (n - 1);
  }
  i64 at(i64 index, i64 n) const { return index + 1 == n ? last : part + (index < extra ? 1 : 0); }
};

// Ranges [begin, end) of the indices of a loop of `n` iterations cut at 0, 1, n - 1 and `cuts`: a
// tile depending on its index through first/last flags and FoldShares cut there is the same
// over each range.
std::vector<std::pair<i64, i64>> index_classes(i64 n, std::vector<i64> cuts) {
  cuts.insert(cuts.end(), {0, 1, n - 1, n});
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::pair<i64, i64>> out;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
    if (cuts[k] >= 0 && cuts[k + 1] <= n && cuts[k] < cuts[k + 1]) out.emplace_back(cuts[k], cuts[k + 1]);
  return out;
}

// The tiles of one pass over a fold loop nest (outer index a, inner b), closed-form: one tile
// per pair of index classes, each outer class a block of its inner tiles repeated. `tile(a, b)`
// must be constant over each pair of classes (checked at their corners).
template <class F>
dataflows::TileSeq fold_nest(i64 outer_n, const std::vector<i64>& outer_cuts, i64 inner_n,
                             const std::vector<i64>& inner_cuts, F&& tile) {
  dataflows::TileSeq nest;
  for (const auto& [a0, a1] : index_classes(outer_n, outer_cuts)) {
    dataflows::TileSeq row;
    for (const auto& [b0, b1] : index_classes(inner_n, inner_cuts)) {
      Tile t = tile(a0, b0);
      if (!(t == tile(a1 - 1, b1 - 1) && t == tile(a0, b1 - 1) && t == tile(a1 - 1, b0)))
        throw std::logic_error("systolic fold plan: folds of one class differ");
      t.count = static_cast<u64>(b1 - b0);
      row.append(t);
    }
    nest.append(row, static_cast<u64>(a1 - a0));
  }
  return nest;
}

std::string dataflow_name(Dataflow d) { return std::string(dataflows::to_string(d)); }

// SRAM reads of the operands, in words, per GEMM (SCALE-Sim's closed forms; native mode streams
// operands through the array the same way).
struct SramWords {
  i64 ifmap_reads, filter_reads, ofmap_writes, ofmap_reads;
};

SramWords sram_words(const GemmView& g, Dataflow d, i64 R, i64 C) {
  const i64 M = g.m, N = g.n, K = g.k;
  switch (d) {
    case Dataflow::os:
      return {ceil_div(N, C) * M * K, ceil_div(M, R) * K * N, M * N, 0};
    case Dataflow::ws:
      return {ceil_div(N, C) * M * K, K * N, ceil_div(K, R) * M * N, (ceil_div(K, R) - 1) * M * N};
    case Dataflow::is:
      return {M * K, ceil_div(M, C) * K * N, ceil_div(K, R) * M * N, (ceil_div(K, R) - 1) * M * N};
  }
  return {};
}

// Depthwise (one input channel per group): channels side by side across the columns, each
// column fed its own channel, instead of one nearly empty GEMM per channel (native mode).
void depthwise_across_columns(const workloads::Operator& op, GemmView& g) {
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape);
      c && c->groups > 1 && c->c == c->groups) {
    g.n = c->k;
    g.count = 1;
  }
}

}  // namespace

std::unique_ptr<Engine> SystolicEngine::create(ParamReader& r) {
  SystolicParams p;
  ParamReader s = r.child("systolic");
  p.rows = array_dimension(s, "rows");
  p.cols = array_dimension(s, "cols");
  p.dataflow = *dataflows::dataflow_from_string(s.choice("dataflow", {"ws", "os", "is"}, "ws"));
  p.scalesim_mode = s.choice("mode", {"native", "scalesim"}, "native") == "scalesim";
  p.os_paper_fold = s.choice("os_fold_cycles", {"v2", "paper"}, "v2") == "paper";
  p.accumulator_bits = static_cast<int>(s.positive_integer("accumulator_bits", p.accumulator_bits));
  if (p.accumulator_bits > 64) throw s.error("accumulator_bits", "must be at most 64");
  p.use_mapper = s.choice("mapping", {"mapper", "fixed"}, "mapper") == "mapper";
  p.objective = *dataflows::mapper_objective_from_string(
      s.choice("objective", {"latency", "energy", "edp"}, "latency"));
  s.finish();
  // SCALE-Sim's array stalls as a whole on each operand's delay, so its operand fetches add up as
  // if they shared one channel.
  CommonDefaults d;
  d.memory.bandwidth = "16 B/cycle";
  d.memory.allow_per_operand = !p.scalesim_mode;
  d.memory.shared_only_reason =
      "SCALE-Sim mode stalls the whole array on each operand's fetch, modelled as one shared "
      "channel: use \"shared\" or leave it out";
  d.hamming = true;
  d.zero_gating = true;
  p.common = read_common(r, d, [&p](ParamReader& energy, const energy::Technology& tech) {
    p.mac_energy_pj = energy.optional_number("mac_pj");
    p.sram_energy_pj_per_byte = energy.optional_number("sram_pj_per_byte");
    p.dram_energy_pj_per_byte = energy.optional_number("dram_pj_per_byte");
    for (const char* k : {"mac_pj", "sram_pj_per_byte", "dram_pj_per_byte"})
      if (energy.has(k)) energy.non_negative(k, 0);  // range check
    p.dram_type = energy::read_dram_type(energy, tech, p.dram_type);
    p.pe_precision = energy::read_pe_precision(energy, tech);
  });
  if (auto sram = r.optional_child("sram")) {
    p.ifmap_sram_bytes = sram->size_bytes("ifmap", "64 KiB");
    p.filter_sram_bytes = sram->size_bytes("filter", "64 KiB");
    p.ofmap_sram_bytes = sram->size_bytes("ofmap", "64 KiB");
    sram->finish();
  }
  return std::make_unique<SystolicEngine>(p);
}

SystolicEngine::SystolicEngine(const SystolicParams& p) : EngineBase(p.common), p_(p) {
  // Leakage power of each component's area (mW / Hz = 1e9 pJ per cycle).
  const energy::Technology& t = *common_.tech;
  pe_mm2_ = static_cast<double>(p_.rows * p_.cols) *
            t.mac_cost(energy::area_mac_precision(p_.pe_precision)).area_um2 * 1e-6;
  sram_mm2_ = t.sram_area_mm2(on_chip_bytes());
  const double per_cycle = 1e9 / common_.clock_hz;
  leakage_ = {{"leakage.pe_array", pe_mm2_ * t.leakage_logic_mw_per_mm2 * per_cycle},
              {"leakage.vector", vector_area_mm2() * t.leakage_logic_mw_per_mm2 * per_cycle},
              {"leakage.sram", sram_mm2_ * t.leakage_sram_mw_per_mm2 * per_cycle}};
  for (const auto& [component, pj] : leakage_) leakage_sum_ += pj;
}

AreaBreakdown SystolicEngine::area_by_component() const {
  return area_or_given({{"pe_array", pe_mm2_}, {"sram", sram_mm2_}});
}

nlohmann::json SystolicEngine::resolved_config() const {
  nlohmann::json energy_config = {{"dram", p_.dram_type}, {"pe_precision", p_.pe_precision}};
  if (p_.mac_energy_pj) energy_config["mac_pj"] = *p_.mac_energy_pj;
  if (p_.sram_energy_pj_per_byte) energy_config["sram_pj_per_byte"] = *p_.sram_energy_pj_per_byte;
  if (p_.dram_energy_pj_per_byte) energy_config["dram_pj_per_byte"] = *p_.dram_energy_pj_per_byte;
  return with_common(
      {{"systolic",
        {{"rows", p_.rows},
         {"cols", p_.cols},
         {"dataflow", dataflow_name(p_.dataflow)},
         {"mode", p_.scalesim_mode ? "scalesim" : "native"},
         {"os_fold_cycles", p_.os_paper_fold ? "paper" : "v2"},
         {"accumulator_bits", p_.accumulator_bits},
         {"mapping", p_.use_mapper ? "mapper" : "fixed"},
         {"objective", std::string(dataflows::to_string(p_.objective))}}},
       {"sram",
        {{"ifmap", p_.ifmap_sram_bytes},
         {"filter", p_.filter_sram_bytes},
         {"ofmap", p_.ofmap_sram_bytes}}},
       {"energy", energy_config}});
}

std::vector<std::string> SystolicEngine::supports(const workloads::Operator& op) const {
  std::vector<std::string> w = Engine::supports(op);
  if (auto m = energy::mac_warning(p_.pe_precision, op)) w.push_back(*m);
  if (p_.scalesim_mode) {
    if (op.macs() == 0)
      w.push_back("systolic scalesim mode: operators without MACs take no time or traffic "
                  "(SCALE-Sim models none)");
    else
      w.push_back("systolic scalesim mode: DRAM traffic is counted as SCALE-Sim counts it and "
                  "only the fetches that stall its array are timed (first fill and writes are "
                  "free), so cycles may be below the DRAM bandwidth bound");
  }
  return w;
}

namespace {
// Independent slices of an operator's output, in order: a batched product's entries, a
// softmax's rows; 1 for the others.
i64 independent_entries(const workloads::Operator& op) {
  if (const auto* m = std::get_if<workloads::MatMul>(&op.shape)) return m->batch;
  if (const auto* s = std::get_if<workloads::Softmax>(&op.shape)) return s->rows;
  return 1;
}
}  // namespace

bool SystolicEngine::keeps_on_chip(const workloads::Operator& producer,
                                   const workloads::Operator& consumer) const {
  if (p_.scalesim_mode) return false;  // SCALE-Sim runs every layer from DRAM
  // The consumer's activation input, not the cache operand it streams from DRAM.
  const auto out = static_cast<u64>(producer.output_bytes());
  if (out != static_cast<u64>(consumer.input_bytes() - consumer.cache_bytes())) return false;
  // Independent entries both run over (a batched product and the softmax over its rows, or the
  // product over those): the pair can run entry by entry, as a fused attention kernel does, so
  // one entry's share of the tensor is what has to fit.
  const u64 entries =
      static_cast<u64>(std::gcd(independent_entries(producer), independent_entries(consumer)));
  const u64 share = (out + entries - 1) / entries;
  return share <= p_.ofmap_sram_bytes / 2 && share <= p_.ifmap_sram_bytes / 2 &&
         bytes(p_.cols, p_.accumulator_bits) <= p_.ofmap_sram_bytes / 2;
}

LayerWork SystolicEngine::map(const workloads::Operator& op, const MapContext& context) const {
  const auto g = dataflows::as_gemm(op);
  if (g) {
    if (p_.scalesim_mode) return map_scalesim(op, *g);
    return p_.use_mapper ? map_searched(op, *g, context) : map_native(op, *g, context);
  }
  if (p_.scalesim_mode) return {};  // SCALE-Sim models no such operators (supports() says so)
  return map_vector(op, context);
}

namespace {

// Adds per-operand DRAM totals of a plan to the access counts.
void add_dram_accesses(LayerWork& w) {
  using namespace dataflows;
  const TilePlan& p = w.plan;
  w.accesses["dram.ifmap"] = {p.port_bytes(port::input), 0};
  w.accesses["dram.filter"] = {p.port_bytes(port::weight), 0};
  w.accesses["dram.ofmap"] = {p.port_bytes(port::psum_in),
                              p.port_bytes(port::output) + p.port_bytes(port::psum_out)};
}


}  // namespace

LayerWork SystolicEngine::map_scalesim(const workloads::Operator& op, const GemmView& gemm) const {
  GemmView g = gemm;
  // SCALE-Sim's output size is ceil-style: ceil((H - R + S) / S), on the padded input.
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) {
    const i64 h = c->h + c->pad_top + c->pad_bottom, w = c->w + c->pad_left + c->pad_right;
    const i64 r = c->dilation_h * (c->r - 1) + 1, s = c->dilation_w * (c->s - 1) + 1;
    g.m = c->n * ceil_div(h - r + c->stride_h, c->stride_h) *
          ceil_div(w - s + c->stride_w, c->stride_w);
  }
  const i64 R = p_.rows, C = p_.cols;
  const FoldMapping fm = dataflows::map_folds(g.m, g.n, g.k, p_.dataflow, R, C);
  const i64 T = fm.streamed;
  const i64 per_fold =
      p_.dataflow == Dataflow::os && !p_.os_paper_fold ? T + R + C - 2 : 2 * R + C + T - 2;
  const int abits = op.precision.activation_bits, wbits = op.b_bits();
  const bool b_shared = g.count > 1 && g.b_distinct == g.k * g.n;
  const i64 a_per = g.a_distinct / g.count,
            b_per = b_shared ? g.b_distinct : g.b_distinct / g.count;

  // Timing follows SCALE-Sim's buffer model (data/reference/scalesim/README.md): an operand
  // whose matrix fits in half its buffer is prefetched before cycle 0 and costs no time;
  // otherwise every fold fetches the block it streams, except the first (also before cycle 0).
  // Writes never stall the array. Folds run one after another without overlap.
  const SramWords s = sram_words(g, p_.dataflow, R, C);
  const bool a_fits = bytes(g.m * g.k, abits) <= p_.ifmap_sram_bytes / 2;
  const bool b_fits = bytes(g.k * g.n, wbits) <= p_.filter_sram_bytes / 2;
  LayerWork w;
  w.plan.buffering = dataflows::kDoubleBuffered;
  w.plan.units = static_cast<u64>(R * C);
  const std::size_t in = w.plan.port(dataflows::port::input),
                    wt = w.plan.port(dataflows::port::weight);
  // SCALE-Sim's demand stream: im2col rows of the input (each output pixel's receptive field,
  // halos again), os whole fields, ws and is a fold's R of their K words; filters whole (os) or
  // R words of each (ws, is).
  const i64 k_tile = p_.dataflow == Dataflow::os ? g.k : R;
  w.plan.ports[in].layout = dataflows::window_layout(op, g, abits, k_tile);
  w.plan.ports[wt].layout = dataflows::weight_layout(g, wbits, k_tile);
  const i64 folds = fm.folds();
  // Folds in order, row folds outer: the first fetches nothing (its blocks are loaded before
  // cycle 0) and the last ends a cycle early.
  const auto tile = [&](i64 i, i64 j) {
    const Fold f = make_fold(fm, R, C, i, j);
    Tile t;
    t.compute_cycles = static_cast<u64>(f.last_row && f.last_col ? per_fold - 1 : per_fold);
    t.busy_units = static_cast<u64>(f.rows * f.cols);
    if (!(f.first_row && f.first_col)) {
      // The blocks a fold streams: os A[M_i, :], B[:, N_j]; ws A[:, K_i] (whole M), B[K_i, N_j];
      // is A[K_i, M_j], B[K_i, :] (whole N).
      const i64 a = p_.dataflow == Dataflow::os   ? f.rows * g.k
                    : p_.dataflow == Dataflow::ws ? g.m * f.rows
                                                  : f.rows * f.cols;
      const i64 b = p_.dataflow == Dataflow::os   ? g.k * f.cols
                    : p_.dataflow == Dataflow::ws ? f.rows * f.cols
                                                  : f.rows * g.n;
      t.bytes[in] = a_fits ? 0 : bytes(a, abits);
      t.bytes[wt] = b_fits ? 0 : bytes(b, wbits);
    }
    return t;
  };
  w.plan.append(fold_nest(fm.row_folds, {}, fm.col_folds, {}, tile), static_cast<u64>(g.count));

  // DRAM counts: a fitting operand once (distinct words; a strided 1x1 convolution touches only
  // part of its input), else the demand stream: as many words as the array reads from SRAM.
  // Outputs: once (os) or one partial-sum tile per row fold (ws, is).
  const i64 out_words = p_.dataflow == Dataflow::os ? g.m * g.n : fm.row_folds * g.m * g.n;
  w.accesses["dram.ifmap"] = {bytes(mul((a_fits ? a_per : s.ifmap_reads), g.count), abits), 0};
  w.accesses["dram.filter"] = {b_fits ? bytes(mul(b_per, b_shared ? 1 : g.count), wbits)
                                      : bytes(mul(s.filter_reads, g.count), wbits),
                               0};
  w.accesses["dram.ofmap"] = {0, bytes(mul(out_words, g.count), abits)};

  const i64 artefact = p_.dataflow == Dataflow::os ? mul(folds, R + C) : 0;  // SCALE-Sim issue #166
  w.accesses["sram.ifmap"] = {bytes(mul(s.ifmap_reads, g.count), abits),
                              w.accesses["dram.ifmap"].read_bytes};
  w.accesses["sram.filter"] = {bytes(mul(s.filter_reads, g.count), wbits),
                               w.accesses["dram.filter"].read_bytes};
  w.accesses["sram.ofmap"] = {
      0, bytes(mul(checked_add(s.ofmap_writes, artefact, "access count"), g.count), abits)};
  w.macs = static_cast<u64>(g.macs());
  w.mac_bits = std::max(abits, wbits);
  w.mac_format = op.precision.format;
  w.metrics["mapping_efficiency"] = fm.mapping_efficiency(R, C);
  w.metrics["folds"] = static_cast<double>(folds) * static_cast<double>(g.count);
  if (artefact)
    w.metrics["sram_ofmap_write_artefact_words"] =
        static_cast<double>(artefact) * static_cast<double>(g.count);
  return w;
}

LayerWork SystolicEngine::map_native(const workloads::Operator& op, GemmView g,
                                     const MapContext& context) const {
  depthwise_across_columns(op, g);
  const i64 R = p_.rows, C = p_.cols;
  const FoldMapping fm = dataflows::map_folds(g.m, g.n, g.k, p_.dataflow, R, C);
  const int abits = op.precision.activation_bits, wbits = op.b_bits(), pbits = p_.accumulator_bits;
  const bool b_shared = g.count > 1 && g.b_distinct == g.k * g.n;
  const i64 a_per = g.a_distinct / g.count,
            b_per = b_shared ? g.b_distinct : g.b_distinct / g.count;

  // What fits in the half of a buffer that is not being filled.
  const u64 ifmap_half = p_.ifmap_sram_bytes / 2, filter_half = p_.filter_sram_bytes / 2,
            ofmap_half = p_.ofmap_sram_bytes / 2;
  const bool a_fits = bytes(a_per, abits) <= ifmap_half;
  const bool b_fits = bytes(b_per, wbits) <= filter_half;

  // Folds are pipelined: the next fold's stationary operand shifts in (R cycles) while the
  // current one streams, so a fold takes max(T, R). The first stationary load (ws, is) and the
  // last fold's skew and drain (R + C - 2) are paid once per layer.
  const i64 fill = p_.dataflow == Dataflow::os ? 0 : R;
  const i64 drain = R + C - 2;

  // ws and is accumulate a block of (streamed × columns) partial sums over the row folds. The
  // streamed dimension (ws: M, is: N) is split into chunks whose block fits half the ofmap
  // buffer; only when not even one row of C fits do partial sums spill to DRAM.
  const i64 T = fm.streamed;
  i64 chunk = T;
  if (p_.dataflow != Dataflow::os) {
    const u64 per_row = bytes(C, pbits);
    if (per_row <= ofmap_half) chunk = std::min<i64>(T, static_cast<i64>(ofmap_half / per_row));
  }
  const bool spill = p_.dataflow != Dataflow::os && bytes(chunk * C, pbits) > ofmap_half;

  LayerWork w;
  using namespace dataflows;
  TilePlan& plan = w.plan;
  plan.units = static_cast<u64>(R * C);
  const std::size_t in = plan.port(port::input), wt = plan.port(port::weight),
                    pin = plan.port(port::psum_in), out = plan.port(port::output, Direction::write),
                    pout = plan.port(port::psum_out, Direction::write);
  {  // Layouts: os folds take whole input pixels and filters, ws and is R of their K words
     // (a slice of each pixel's channels); results: a fold's C (ws, os) or chunk (is) channels of
     // each of its pixels.
    const i64 k_tile = p_.dataflow == Dataflow::os ? g.k : R;
    const i64 n_tile = p_.dataflow == Dataflow::is ? chunk : C;
    plan.ports[in].layout = input_layout(op, g, abits, k_tile);
    plan.ports[wt].layout = weight_layout(g, wbits, k_tile);
    plan.ports[out].layout = output_layout(g, abits, n_tile);
    plan.ports[pin].layout = plan.ports[pout].layout = output_layout(g, pbits, n_tile);
  }
  // The streamed dimension in chunks (ws, is; os streams K inside the PEs: one chunk), each a
  // pass over the folds. Operand words are spread over chunks and folds by FoldShare.
  const i64 chunks = p_.dataflow == Dataflow::os ? 1 : ceil_div(T, chunk);
  const i64 rf = fm.row_folds, cf = fm.col_folds;
  const bool is = p_.dataflow == Dataflow::is;
  // The words each chunk streams: ws A's rows (M), is B's columns (N).
  const FoldShare chunk_words(is ? b_per : a_per, is ? g.n : g.m, chunk, chunks);
  const FoldShare a_rows(a_per, g.m, R, rf), b_cols(b_per, g.n, C, cf);  // os
  const FoldShare a_k(a_per, g.k, R, rf);                                 // is: A's rows by K
  // `later` marks the GEMMs after the first of a batch sharing B.
  const auto tile = [&](i64 ci, const Fold& f, bool later) {
    const i64 tq = ci + 1 == chunks ? T - (chunks - 1) * chunk : chunk;
    const bool first_chunk = ci == 0;
    Tile t;
    t.compute_cycles = static_cast<u64>(std::max(tq, R));
    t.busy_units = static_cast<u64>(f.rows * f.cols);
    switch (p_.dataflow) {
      case Dataflow::os: {  // rows <- M (outer), cols <- N (inner): outputs final after K
        t.bytes[in] = f.first_col ? bytes(a_rows.at(f.i, rf), abits) : 0;
        t.bytes[wt] = (f.first_row || !b_fits) ? bytes(b_cols.at(f.j, cf), wbits) : 0;
        t.bytes[out] = bytes(f.rows * f.cols, abits);
        break;
      }
      case Dataflow::ws: {  // rows <- K (inner), cols <- N (outer), streamed M in chunks
        // Each chunk streams its own rows of A: fetched once if they fit, else per column fold.
        const i64 a_chunk = chunk_words.at(ci, chunks);
        const i64 a = FoldShare(a_chunk, g.k, R, rf).at(f.i, rf);
        t.bytes[in] = f.first_col || bytes(a_chunk, abits) > ifmap_half ? bytes(a, abits) : 0;
        t.bytes[wt] = (first_chunk || !b_fits) ? bytes(f.rows * f.cols, wbits) : 0;
        break;
      }
      case Dataflow::is: {  // rows <- K (inner), cols <- M (outer), streamed N in chunks
        const i64 row_part = a_k.at(f.i, rf);
        t.bytes[in] = (first_chunk || !a_fits)
                          ? bytes(FoldShare(row_part, g.m, C, cf).at(f.j, cf), abits)
                          : 0;
        // Each chunk streams its own columns of B: fetched once if they fit, else per column
        // fold.
        const i64 b_chunk = chunk_words.at(ci, chunks);
        const i64 b = FoldShare(b_chunk, g.k, R, rf).at(f.i, rf);
        t.bytes[wt] = f.first_col || bytes(b_chunk, wbits) > filter_half ? bytes(b, wbits) : 0;
        break;
      }
    }
    if (p_.dataflow != Dataflow::os) {
      const i64 psum_words = tq * f.cols;
      if (!spill) {
        t.bytes[out] = f.last_row ? bytes(psum_words, abits) : 0;
      } else {  // partial sums go to DRAM at accumulator precision and come back
        t.bytes[pin] = f.first_row ? 0 : bytes(psum_words, pbits);
        t.bytes[f.last_row ? out : pout] = bytes(psum_words, f.last_row ? abits : pbits);
      }
    }
    if (later && b_shared && b_fits) t.bytes[wt] = 0;
    // Inter-layer reuse: the input is already in the buffers, the output stays there.
    if (context.input_on_chip) t.bytes[in] = 0;
    if (context.output_on_chip) t.bytes[out] = 0;
    return t;
  };
  // Where the FoldShares cut the loops: chunks, row folds, column folds.
  std::vector<i64> row_cuts, col_cuts;
  if (p_.dataflow == Dataflow::os) {
    row_cuts = {a_rows.extra};
    col_cuts = {b_cols.extra};
  } else if (is) {
    row_cuts = {a_k.extra};
    for (const i64 part : {a_k.part, a_k.part + 1, a_k.last})  // A's row parts by M
      col_cuts.push_back(FoldShare(part, g.m, C, cf).extra);
  }
  const auto gemm = [&](bool later) {
    TileSeq seq;
    for (const auto& [c0, c1] : index_classes(chunks, {chunk_words.extra})) {
      std::vector<i64> rows = row_cuts;  // ws/is: the chunk's words by K
      if (p_.dataflow != Dataflow::os)
        rows.push_back(FoldShare(chunk_words.at(c0, chunks), g.k, R, rf).extra);
      const auto pass = [&](i64 ci) {
        if (p_.dataflow == Dataflow::os)
          return fold_nest(rf, rows, cf, col_cuts, [&](i64 i, i64 j) {
            return tile(ci, make_fold(fm, R, C, i, j), later);
          });
        return fold_nest(cf, col_cuts, rf, rows, [&](i64 j, i64 i) {  // ws/is: K (rows) inner
          return tile(ci, make_fold(fm, R, C, i, j), later);
        });
      };
      const TileSeq first = pass(c0);
      if (!(first == pass(c1 - 1)))
        throw std::logic_error("systolic fold plan: chunks of one class differ");
      seq.append(first, static_cast<u64>(c1 - c0));
    }
    return seq;
  };
  plan.append(gemm(false));
  if (g.count > 1) plan.append(gemm(true), static_cast<u64>(g.count - 1));
  add_fill_drain(plan, static_cast<u64>(fill), static_cast<u64>(drain));
  plan.buffering = dataflows::prefetch_buffering(plan, ifmap_half, filter_half, ofmap_half);
  add_dram_accesses(w);
  add_sram_accesses(w, op, g);
  w.metrics["mapping_efficiency"] = fm.mapping_efficiency(R, C);
  w.metrics["folds"] = static_cast<double>(w.plan.tile_count());  // chunks x folds x GEMMs
  return w;
}

void SystolicEngine::add_sram_accesses(LayerWork& w, const workloads::Operator& op,
                                       const GemmView& g) const {
  const i64 R = p_.rows, C = p_.cols;
  const int abits = op.precision.activation_bits, wbits = op.b_bits(), pbits = p_.accumulator_bits;
  const SramWords s = sram_words(g, p_.dataflow, R, C);
  w.accesses["sram.ifmap"] = {bytes(mul(s.ifmap_reads, g.count), abits),
                              w.accesses["dram.ifmap"].read_bytes};
  w.accesses["sram.filter"] = {bytes(mul(s.filter_reads, g.count), wbits),
                               w.accesses["dram.filter"].read_bytes};
  w.accesses["sram.ofmap"] = {bytes(mul(s.ofmap_reads, g.count), pbits),
                              bytes(mul(s.ofmap_writes, g.count), pbits)};
  w.macs = static_cast<u64>(g.macs());
  w.mac_bits = std::max(abits, wbits);
  w.mac_format = op.precision.format;
}

LayerWork SystolicEngine::map_searched(const workloads::Operator& op, GemmView g,
                                       const MapContext& context) const {
  // A weight shared by a batch of matrix products is one taller product.
  depthwise_across_columns(op, g);
  if (g.count > 1 && g.b_distinct == g.k * g.n) {
    g.m *= g.count;
    g.count = 1;
  }
  const energy::Technology& tech = *common_.tech;
  dataflows::GemmArray a;
  a.rows = p_.rows, a.cols = p_.cols, a.dataflow = p_.dataflow;
  a.a_capacity = p_.ifmap_sram_bytes / 2, a.b_capacity = p_.filter_sram_bytes / 2,
  a.c_capacity = p_.ofmap_sram_bytes / 2;
  a.a_bits = op.precision.activation_bits, a.b_bits = op.b_bits(),
  a.c_bits = op.precision.activation_bits, a.psum_bits = p_.accumulator_bits;
  double rate = 0;
  for (const auto& ch : common_.memory.channels) rate += ch.rate();
  a.bytes_per_cycle = std::isinf(rate) ? 1e18 : rate;
  for (const auto& ch : common_.memory.channels)
    a.latency_cycles = std::max(a.latency_cycles, ch.latency_cycles);
  a.dram_pj_per_byte = p_.dram_energy_pj_per_byte.value_or(8 * tech.dram(p_.dram_type));
  a.static_pj_per_cycle = leakage_pj_per_cycle();
  a.objective = p_.objective;
  const auto m = dataflows::map_gemm(g, a);
  if (!m) return map_native(op, g, context);  // not one fold fits half the buffers: spill
  LayerWork w;
  w.plan = dataflows::gemm_plan(g, a, *m, context.input_on_chip, context.output_on_chip);
  // A convolution's input NHWC: a K block narrower than a pixel's channels takes its slice of
  // each pixel (the mapper's layout sees A as M rows of K).
  w.plan.ports[w.plan.find_port(dataflows::port::input)].layout =
      dataflows::input_layout(op, g, a.a_bits, m->tile[2]);
  add_dram_accesses(w);
  add_sram_accesses(w, op, g);
  const auto fm = dataflows::map_folds(g.m, g.n, g.k, p_.dataflow, p_.rows, p_.cols);
  w.metrics["mapping_efficiency"] = fm.mapping_efficiency(p_.rows, p_.cols);
  w.metrics["folds"] = static_cast<double>(fm.folds()) * static_cast<double>(g.count);
  w.mapping = m->info();
  return w;
}



EnergyBreakdown SystolicEngine::energy(const LayerWork& work, u64 cycles) const {
  const energy::Technology& t = *common_.tech;
  EnergyBreakdown e;
  const std::string prec = energy::priced_mac_precision(p_.pe_precision, work.mac_bits, work.mac_format);
  e["mac"] = static_cast<double>(work.macs) * work.mac_energy_fraction *
             p_.mac_energy_pj.value_or(t.mac_cost(prec).energy_pj);
  const auto capacity = [&](const std::string& level) {
    return level == "sram.ifmap"    ? p_.ifmap_sram_bytes
           : level == "sram.filter" ? p_.filter_sram_bytes
                                    : p_.ofmap_sram_bytes;
  };
  for (const auto& [level, a] : work.accesses) {
    double read_pj_per_byte, write_pj_per_byte;
    if (level.rfind("dram", 0) == 0) {
      read_pj_per_byte = write_pj_per_byte =
          p_.dram_energy_pj_per_byte.value_or(8 * t.dram(p_.dram_type));
    } else if (p_.sram_energy_pj_per_byte) {
      read_pj_per_byte = write_pj_per_byte = *p_.sram_energy_pj_per_byte;
    } else {
      read_pj_per_byte = 8 * t.sram_read_pj_per_bit(capacity(level));
      write_pj_per_byte = 8 * t.sram_write_pj_per_bit(capacity(level));
    }
    e[level + ".read"] = static_cast<double>(a.read_bytes) * read_pj_per_byte;
    e[level + ".write"] = static_cast<double>(a.write_bytes) * write_pj_per_byte;
  }
  for (const auto& [component, pj] : leakage_) e[component] = pj * static_cast<double>(cycles);
  return e;
}

std::string SystolicEngine::mac_precision(const workloads::Operator& op) const {
  return energy::priced_mac_precision(
      p_.pe_precision, std::max(op.precision.weight_bits, op.precision.activation_bits), op.precision.format);
}

std::optional<energy::LayerStreams> SystolicEngine::operand_streams(
    const workloads::Operator& op) const {
  using energy::GemmDim;
  using energy::StreamTensor;
  const auto g = dataflows::as_gemm(op);
  if (!g) return std::nullopt;
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape); c && c->transposed)
    return std::nullopt;
  const i64 R = p_.rows, C = p_.cols;
  const FoldMapping fm = dataflows::map_folds(g->m, g->n, g->k, p_.dataflow, R, C);
  // Native mode streams ws/is in chunks of the streamed dimension (map_native); scalesim does not.
  const i64 T = fm.streamed;
  i64 chunk = T;
  if (!p_.scalesim_mode && p_.dataflow != Dataflow::os) {
    const u64 per_row = bytes(C, p_.accumulator_bits);
    if (per_row <= p_.ofmap_sram_bytes / 2)
      chunk = std::min<i64>(T, static_cast<i64>(p_.ofmap_sram_bytes / 2 / per_row));
  }
  energy::LayerStreams s;
  s.groups = g->count, s.m = g->m, s.n = g->n, s.k = g->k;
  const int abits = op.precision.activation_bits, wbits = op.b_bits();
  std::vector<energy::StreamLoop> loops;
  std::size_t acc = 0;
  const auto L = [](GemmDim d, i64 extent, bool spatial) { return energy::StreamLoop{d, extent, spatial}; };
  switch (p_.dataflow) {
    case Dataflow::ws:  // rows <- K, cols <- N (column folds outer), M streamed in chunks
      loops = {L(GemmDim::g, g->count, false), L(GemmDim::m, ceil_div(T, chunk), false),
               L(GemmDim::n, fm.col_folds, false), L(GemmDim::k, fm.row_folds, false),
               L(GemmDim::m, chunk, false),         L(GemmDim::k, R, true),
               L(GemmDim::n, C, true)};
      acc = 5;
      break;
    case Dataflow::is:  // rows <- K, cols <- M (column folds outer), N streamed in chunks
      loops = {L(GemmDim::g, g->count, false), L(GemmDim::n, ceil_div(T, chunk), false),
               L(GemmDim::m, fm.col_folds, false), L(GemmDim::k, fm.row_folds, false),
               L(GemmDim::n, chunk, false),         L(GemmDim::k, R, true),
               L(GemmDim::m, C, true)};
      acc = 5;
      break;
    case Dataflow::os:  // rows <- M (row folds outer), cols <- N, K streamed through the PEs
      loops = {L(GemmDim::g, g->count, false), L(GemmDim::m, fm.row_folds, false),
               L(GemmDim::n, fm.col_folds, false), L(GemmDim::k, g->k, false),
               L(GemmDim::m, R, true),             L(GemmDim::n, C, true)};
      acc = 3;
      break;
  }
  // Zero-gated operands: the gated register holds on a zero (energy.zero_gating).
  s.ports.push_back({"pe.activation", StreamTensor::activation, abits, loops, 0, common_.gate_activations});
  s.ports.push_back({"pe.weight", StreamTensor::weight, wbits, loops, 0, common_.gate_weights});
  s.ports.push_back({"pe.psum", StreamTensor::psum, p_.accumulator_bits, loops, acc, false});
  return s;
}

}  // namespace tessera::arch
