#include "arch/sparse/sparse.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "arch/energy/config.hpp"
#include "arch/sparse/dysta.hpp"
#include "dataflows/gemm.hpp"
#include "common/checked.hpp"
#include "common/error.hpp"
#include "common/hash.hpp"

namespace tessera::arch {

namespace {

constexpr SparseFormat kFormats[] = {SparseFormat::uncompressed, SparseFormat::bitmap, SparseFormat::csr,
                                     SparseFormat::csc,          SparseFormat::coo,    SparseFormat::rle,
                                     SparseFormat::nm};

std::vector<std::string> format_names() {
  std::vector<std::string> v;
  for (auto f : kFormats) v.emplace_back(to_string(f));
  return v;
}

SparseFormat read_format(ParamReader& r, const std::string& key, SparseFormat fallback) {
  const std::string s = r.choice(key, format_names(), std::string(to_string(fallback)));
  for (auto f : kFormats)
    if (to_string(f) == s) return f;
  return fallback;
}

sparse::Pattern read_pattern(ParamReader& r, const std::string& key, sparse::Pattern fallback) {
  std::vector<std::string> names;
  for (auto p : {sparse::Pattern::uniform, sparse::Pattern::balanced, sparse::Pattern::clustered,
                 sparse::Pattern::channel, sparse::Pattern::filter, sparse::Pattern::block, sparse::Pattern::nm})
    names.emplace_back(sparse::to_string(p));
  return *sparse::pattern_from_string(r.choice(key, names, std::string(sparse::to_string(fallback))));
}

u64 ceil_div(u64 a, u64 b) { return a / b + (a % b != 0); }

std::string nm_text(const workloads::StructuredSparsity& s) { return fmt::format("{}:{}", s.n, s.m); }

}  // namespace

std::string_view to_string(SparseFormat f) {
  switch (f) {
    case SparseFormat::uncompressed: return "uncompressed";
    case SparseFormat::bitmap: return "bitmap";
    case SparseFormat::csr: return "csr";
    case SparseFormat::csc: return "csc";
    case SparseFormat::coo: return "coo";
    case SparseFormat::rle: return "rle";
    case SparseFormat::nm: return "nm";
  }
  return "uncompressed";
}

namespace sparse {

int index_bits(u64 positions) {
  return positions <= 2 ? 1 : static_cast<int>(std::bit_width(positions - 1));
}

FormatBits format_bits(SparseFormat f, u64 rows, u64 cols, u64 nnz, int bits, int run_bits, u64 fillers,
                       int nm_m) {
  const u64 b = static_cast<u64>(bits), all = rows * cols;
  switch (f) {
    case SparseFormat::uncompressed: return {all * b, 0};
    case SparseFormat::bitmap: return {nnz * b, all};
    case SparseFormat::csr:
      return {nnz * b, nnz * static_cast<u64>(index_bits(cols)) + (rows + 1) * static_cast<u64>(index_bits(nnz + 1))};
    case SparseFormat::csc:
      return {nnz * b, nnz * static_cast<u64>(index_bits(rows)) + (cols + 1) * static_cast<u64>(index_bits(nnz + 1))};
    case SparseFormat::coo:
      return {nnz * b, nnz * static_cast<u64>(index_bits(rows) + index_bits(cols))};
    case SparseFormat::rle: {
      const u64 entries = nnz + fillers;
      return {entries * b, entries * static_cast<u64>(run_bits)};
    }
    case SparseFormat::nm: return {nnz * b, nnz * static_cast<u64>(index_bits(static_cast<u64>(nm_m)))};
  }
  return {all * b, 0};
}

double expected_rle_fillers(double nnz, double density, int run_bits) {
  const double q = 1.0 - std::clamp(density, 0.0, 1.0);
  const double qL = std::pow(q, std::ldexp(1.0, run_bits));
  return qL >= 1.0 ? 0.0 : nnz * qL / (1.0 - qL);
}

}  // namespace sparse

CommonParams SparseParams::default_common() {
  CommonParams c;
  c.clock_hz = 200e6;
  c.memory.channels.front().bytes_per_cycle = 128;  // 25.6 GB/s at 200 MHz
  return c;
}

std::unique_ptr<Engine> SparseEngine::create(ParamReader& r) {
  SparseParams p;
  if (auto s = r.optional_child("sparse")) {
    p.pes = array_dimension(*s, "pes", p.pes);
    p.macs_per_pe = array_dimension(*s, "macs_per_pe", p.macs_per_pe);
    p.sync_positions = array_dimension(*s, "sync_positions", p.sync_positions);
    p.tile_overhead = s->non_negative_integer("tile_overhead", p.tile_overhead);
    p.flexible = s->choice("distribution", {"static", "flexible"}, "static") == "flexible";
    const std::vector<std::string> operands = {"none", "weights", "activations", "both"};
    const std::string skip = s->choice("skip", operands, "both");
    const std::string gate = s->choice("gate", operands, "none");
    p.skip_weights = skip == "weights" || skip == "both";
    p.skip_activations = skip == "activations" || skip == "both";
    p.gate_weights = gate == "weights" || gate == "both";
    p.gate_activations = gate == "activations" || gate == "both";
    for (const std::string& text : s->strings("structured")) {
      const auto colon = text.find(':');
      int n = 0, m = 0;
      try {
        n = std::stoi(text.substr(0, colon));
        m = std::stoi(text.substr(colon + 1));
      } catch (const std::exception&) {
        n = 0;
      }
      if (colon == std::string::npos || n < 1 || m < n || m > 64)
        throw s->error("structured", "expected N:M patterns such as \"2:4\" (1 <= N <= M <= 64), got \"" + text + "\"");
      p.structured.push_back({n, m});
    }
    p.mode = s->choice("mode", {"native", "expected", "dysta"}, p.mode);
    p.weight_pattern = read_pattern(*s, "weight_pattern", p.weight_pattern);
    p.activation_pattern = read_pattern(*s, "activation_pattern", p.activation_pattern);
    p.block = static_cast<int>(std::min<std::int64_t>(s->positive_integer("block", p.block), 1 << 20));
    p.seed = static_cast<std::uint64_t>(s->non_negative_integer("seed", static_cast<std::int64_t>(p.seed)));
    p.word_bits = static_cast<int>(s->positive_integer("word_bits", p.word_bits));
    if (p.word_bits > 64) throw s->error("word_bits", "must be at most 64");
    p.run_bits = static_cast<int>(s->positive_integer("run_bits", p.run_bits));
    if (p.run_bits > 32) throw s->error("run_bits", "must be at most 32");
    p.tile_classes = s->positive_integer("tile_classes", p.tile_classes);
    p.dynamic_pruning = s->choice("pruning", {"none", "dynamic"}, "none") == "dynamic";
    if (s->has("pruning_threshold")) {
      if (!p.dynamic_pruning) throw s->error("pruning_threshold", "applies to \"pruning\": \"dynamic\"");
      p.pruning_threshold = s->non_negative("pruning_threshold", 0);
    }
    if (auto f = s->optional_child("formats")) {
      for (const char* level : {"dram", "sram"}) {
        if (auto l = f->optional_child(level)) {
          const bool dram = std::string(level) == "dram";
          SparseFormat& w = dram ? p.dram_weight : p.sram_weight;
          SparseFormat& in = dram ? p.dram_input : p.sram_input;
          w = read_format(*l, "weight", w);
          in = read_format(*l, "input", in);
          if (in == SparseFormat::nm) throw l->error("input", "N:M describes weights; activations have no N:M pattern");
          l->finish();
        }
      }
      f->finish();
    }
    if (p.mode == "dysta" && p.pes != 192)
      throw s->error("pes", "sparse.mode=dysta is the artefact's Eyeriss v2 of 192 PEs; pes must be 192, got " +
                                std::to_string(p.pes));
    s->finish();
  }
  if (auto sram = r.optional_child("sram")) {
    p.glb_bytes = sram->size_bytes("global_buffer", "246 KiB");
    sram->finish();
  }
  CommonDefaults d;
  d.hamming = true;
  d.clock = "200 MHz";
  d.memory.bandwidth = "128 B/cycle";
  p.common = read_common(r, d, [&p](ParamReader& e, const energy::Technology& tech) {
    p.dram_type = energy::read_dram_type(e, tech, p.dram_type);
  });
  return std::make_unique<SparseEngine>(p);
}

SparseEngine::SparseEngine(const SparseParams& p) : EngineBase(p.common), p_(p) {}

AreaBreakdown SparseEngine::area_by_component() const {
  const auto& t = *common_.tech;
  const double mac = t.mac_cost(energy::Technology::int_precision(p_.word_bits)).area_um2;
  return area_or_given({{"pe_array", static_cast<double>(p_.pes * p_.macs_per_pe) * mac * 1e-6},
                        {"sram", t.sram_area_mm2(p_.glb_bytes)}});
}

std::vector<KindSupport> SparseEngine::kinds() const {
  return mac_kinds_on_datapath(p_.mode == "dysta" ? Unit::none : Unit::vector_unit);
}

std::vector<std::string> SparseEngine::supports(const workloads::Operator& op) const {
  runs_on(op);
  std::vector<std::string> w;
  const bool has_macs = op.kind() == workloads::OpKind::conv || op.kind() == workloads::OpKind::matmul;
  if (!has_macs) return w;
  if (!sparse::layer_shape(op)) {
    if (p_.mode == "dysta")
      throw UnsupportedError("sparse: operator '" + op.name + "': sparse.mode=dysta models convolutions and fully "
                             "connected layers only");
    if (op.kind() == workloads::OpKind::conv || !(p_.skip_activations || p_.gate_activations))
      w.push_back("sparse: an activation x activation product or transposed convolution runs densely");
    else
      w.push_back("sparse: an activation x activation product skips the zeros of its first operand "
                  "at its density (expected value: perfect balance)");
  }
  if (p_.mode == "dysta")
    w.push_back("sparse: reference mode (Dysta's Eyeriss-v2 latency model): memory traffic is not timed");
  if (p_.mode == "expected")
    w.push_back("sparse: expected-value mode: every lane is assumed to get the mean work (perfect balance)");
  if (!p_.structured.empty() && op.density.weight_pattern &&
      std::find(p_.structured.begin(), p_.structured.end(), *op.density.weight_pattern) == p_.structured.end())
    w.push_back("sparse: the N:M datapath does not run " + nm_text(*op.density.weight_pattern) + " weights: dense");
  return w;
}

namespace {

// The synthetic masks' patterns of a layer: they depend on the shape (not the name), so layers of
// one shape and density share masks, and so may share a plan.
std::uint64_t shape_seed(const SparseParams& p, const sparse::LayerShape& L) {
  return p.seed ^ fnv1a64(fmt::format("{} {} {} {} {} {} {} {} {} {}", L.n, L.c, L.h, L.w, L.k, L.r, L.s, L.groups,
                                      L.stride_h, L.matmul));
}

sparse::PatternSpec weight_spec(const SparseParams& p, const workloads::Operator& op, const sparse::LayerShape& L) {
  sparse::PatternSpec s;
  s.pattern = p.weight_pattern;
  s.density = op.density.weight;
  s.seed = shape_seed(p, L);
  s.block = p.block;
  if (op.density.weight_pattern) {
    s.pattern = sparse::Pattern::nm;
    s.n = op.density.weight_pattern->n;
    s.m = op.density.weight_pattern->m;
  }
  return s;
}

sparse::PatternSpec input_spec(const SparseParams& p, const workloads::Operator& op, const sparse::LayerShape& L) {
  sparse::PatternSpec s;
  s.pattern = p.activation_pattern;
  s.density = op.density.activation;
  s.seed = shape_seed(p, L) + 1;
  return s;
}

bool weight_from_data(const workloads::Operator& op, const sparse::LayerShape& L) {
  return op.masks && op.masks->weight.size() == L.weight_count();
}
bool input_from_data(const workloads::Operator& op, const sparse::LayerShape& L) {
  return op.masks && op.masks->input.size() == L.input_count();
}

}  // namespace

SparseEngine::LayerMasks SparseEngine::masks_for(const workloads::Operator& op, const sparse::LayerShape& L) const {
  LayerMasks m;
  m.weight_from_data = weight_from_data(op, L);
  m.input_from_data = input_from_data(op, L);
  m.weight = m.weight_from_data ? op.masks->weight : sparse::weight_mask(L, weight_spec(p_, op, L));
  m.input = m.input_from_data ? op.masks->input : sparse::input_mask(L, input_spec(p_, op, L));
  return m;
}

std::shared_ptr<const sparse::MaskCounts> SparseEngine::mask_counts(const workloads::Operator& op,
                                                                     const sparse::LayerShape& L) const {
  const u64 T = static_cast<u64>(p_.sync_positions);
  const bool wd = weight_from_data(op, L), id = input_from_data(op, L);
  const auto count = [&] {  // masks from data read where they are, synthetic ones drawn
    const sparse::Mask w = wd ? sparse::Mask{} : sparse::weight_mask(L, weight_spec(p_, op, L));
    const sparse::Mask in = id ? sparse::Mask{} : sparse::input_mask(L, input_spec(p_, op, L));
    return sparse::count_masks(L, wd ? op.masks->weight : w, id ? op.masks->input : in, T);
  };
  // The cache key names the masks: the digest of masks from data (0: not given, so not cached)
  // or the pattern synthetic ones are drawn from; then the shape and T.
  if ((wd || id) && op.masks->digest == 0) return std::make_shared<const sparse::MaskCounts>(count());
  const auto spec = [](const sparse::PatternSpec& s) {
    return fmt::format("{} {} {} {} {}:{}", sparse::to_string(s.pattern), s.density, s.seed, s.block, s.n, s.m);
  };
  const std::string key = fmt::format(
      "w[{}] i[{}] {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} T{}",
      wd ? fmt::format("data {}", op.masks->digest) : spec(weight_spec(p_, op, L)),
      id ? fmt::format("data {}", op.masks->digest) : spec(input_spec(p_, op, L)), L.n, L.c, L.h, L.w, L.k, L.r, L.s,
      L.stride_h, L.stride_w, L.dilation_h, L.dilation_w, L.pad_top, L.pad_left, L.p, L.q, L.groups, L.matmul, T);
  return sparse::count_cached(key, count);
}

namespace {

// Per-tile busiest-lane work compressed into classes with the total kept (see sparse.hpp).
void append_classes(dataflows::TilePlan& plan, std::vector<u64> cycles, u64 busy, i64 classes) {
  using dataflows::Tile;
  const auto add = [&](u64 c, u64 count) {
    if (!count) return;
    Tile t;
    t.compute_cycles = c;
    t.busy_units = busy;
    t.count = count;
    plan.append(t);
  };
  if (cycles.size() <= static_cast<std::size_t>(classes) * 4) {
    for (u64 c : cycles) add(c, 1);
    return;
  }
  std::sort(cycles.begin(), cycles.end());
  const u64 lo = cycles.front(), hi = cycles.back();
  const u64 width = std::max<u64>(1, ceil_div(hi - lo + 1, static_cast<u64>(classes)));
  std::size_t i = 0;
  while (i < cycles.size()) {
    const u64 bin = (cycles[i] - lo) / width;
    u64 sum = 0, n = 0;
    while (i < cycles.size() && (cycles[i] - lo) / width == bin) sum += cycles[i++], ++n;
    add(sum / n + 1, sum % n);
    add(sum / n, n - sum % n);
  }
}

}  // namespace

double SparseEngine::pruned_density(const workloads::Operator& op) const {
  if (!p_.dynamic_pruning) return op.density.activation;
  if (p_.pruning_threshold) return std::max(1e-9, std::erfc(*p_.pruning_threshold / std::sqrt(2.0)));
  return op.density.activation;
}

workloads::Operator SparseEngine::as_run(const workloads::Operator& op) const {
  workloads::Operator r = op;
  r.density.activation = pruned_density(op);
  return r;
}

LayerWork SparseEngine::map(const workloads::Operator& given, const MapContext& context) const {
  using namespace dataflows;
  const bool mac_layer = given.kind() == workloads::OpKind::conv || given.kind() == workloads::OpKind::matmul;
  if (p_.dynamic_pruning && mac_layer && p_.mode != "dysta") {
    LayerWork w = map(as_run(given), context, true);
    // Pruning compares each activation input element with the threshold on the vector unit,
    // beside the array: a layer takes at least those cycles.
    const u64 elements = static_cast<u64>(given.input_elements());  // every activation operand
    w.vector[VectorOp::compare] += elements;
    w.metrics["mac_compute_cycles"] = static_cast<double>(w.plan.compute_cycles());
    const u64 prune = common_.vector.compute_cycles(w.vector);
    if (!w.plan.tiles.empty() && prune > w.plan.compute_cycles()) {
      peel_last(w.plan);
      w.plan.tiles.back().compute_cycles += prune - w.plan.compute_cycles();
    }
    w.metrics["pruning_compares"] = static_cast<double>(elements);
    w.metrics["pruned_activation_density"] = as_run(given).density.activation;
    return w;
  }
  return map(given, context, true);
}

LayerWork SparseEngine::map(const workloads::Operator& op, const MapContext& context, bool) const {
  using namespace dataflows;
  if (op.kind() != workloads::OpKind::conv && op.kind() != workloads::OpKind::matmul) {
    if (p_.mode == "dysta") {  // the artefact models convolutions and linear layers only
      LayerWork w;
      w.plan.units = static_cast<u64>(p_.pes);
      return w;
    }
    return map_vector(op, context);
  }
  LayerWork w;
  w.mac_bits = p_.word_bits;
  w.plan.buffering = kDoubleBuffered;
  w.plan.units = static_cast<u64>(p_.pes);
  const auto shape = sparse::layer_shape(op);
  const u64 word = static_cast<u64>(p_.word_bits);
  const auto bytes = [](u64 bits) { return bits / 8 + (bits % 8 != 0); };
  if (!shape) {
    // Activation x activation products (attention scores, their product with the values):
    // with activations skipped, the zeros of the first operand (pruned scores, activations) are
    // skipped at its density, spread evenly; otherwise dense on the array.
    const bool act_mm = op.kind() == workloads::OpKind::matmul;
    const double d = act_mm && p_.skip_activations ? op.density.activation : 1.0;
    const double e = act_mm && (p_.skip_activations || p_.gate_activations) ? op.density.activation : 1.0;
    const u64 dense = static_cast<u64>(op.macs());
    w.macs = static_cast<u64>(std::llround(static_cast<double>(dense) * e));
    const u64 work = static_cast<u64>(std::ceil(static_cast<double>(dense) * d - 1e-9));
    Tile t;
    t.compute_cycles = ceil_div(work, static_cast<u64>(p_.pes * p_.macs_per_pe));
    t.busy_units = static_cast<u64>(p_.pes);
    t.bytes[w.plan.port(port::input)] = context.input_on_chip ? 0 : static_cast<u64>(op.input_bytes());
    t.bytes[w.plan.port(port::output, Direction::write)] = context.output_on_chip ? 0 : static_cast<u64>(op.output_bytes());
    w.plan.tiles.push_back(t);
    w.accesses["dram.ifmap"] = {t.bytes[0], 0};
    w.accesses["dram.ofmap"] = {0, t.bytes[1]};
    w.metrics["mac_work"] = static_cast<double>(work);
    w.metrics["effectual_macs"] = static_cast<double>(w.macs);
    w.metrics["energy_macs"] = static_cast<double>(w.macs);
    w.metrics["input_density"] = d;
    return w;
  }
  const sparse::LayerShape& L = *shape;
  const bool expected = p_.mode == "expected";
  // The masks themselves only where counts of them do not do: Dysta's model and run-length
  // fillers (the lanes' work comes from mask_counts).
  const bool rle = p_.dram_weight == SparseFormat::rle || p_.dram_input == SparseFormat::rle ||
                   p_.sram_weight == SparseFormat::rle || p_.sram_input == SparseFormat::rle;
  LayerMasks masks;
  if (!expected && (rle || p_.mode == "dysta")) masks = masks_for(op, L);

  const i64 kg = L.kg(), red = L.reduction();
  const u64 positions = static_cast<u64>(L.n * L.p * L.q);

  // Effectual MACs (actual stride) and, in dysta mode, the reference model.
  if (p_.mode == "dysta") {
    const sparse::DystaLayer d = sparse::dysta_layer(L, masks.weight, masks.input);
    Tile t;
    t.compute_cycles = std::max<u64>(d.cycles, 1);
    t.busy_units = static_cast<u64>(p_.pes);
    w.plan.tiles.push_back(t);
    w.plan.buffering = kStreaming;
    w.metrics["dysta_valid_macs_stride1"] = static_cast<double>(d.valid_macs);
    w.metrics["dysta_act_checks"] = static_cast<double>(d.act_checks);
    w.metrics["dysta_weight_checks"] = static_cast<double>(d.weight_checks);
  }

  // Which operands the cycles skip and the MAC energy spares (skipped or gated).
  bool structured = false;
  double structured_ratio = 1.0;
  if (!p_.structured.empty()) {
    const auto& pat = op.density.weight_pattern;
    structured = pat && std::find(p_.structured.begin(), p_.structured.end(), *pat) != p_.structured.end();
    if (structured) structured_ratio = static_cast<double>(pat->n) / pat->m;
  }
  const bool cyc_w = p_.structured.empty() ? p_.skip_weights : false;
  const bool cyc_a = p_.skip_activations;
  const bool en_w = cyc_w || p_.gate_weights || structured, en_a = cyc_a || p_.gate_activations;

  // Lanes and tiles.
  const u64 lanes_k = std::min<u64>(static_cast<u64>(p_.pes), static_cast<u64>(kg));
  const u64 lanes_m = std::max<u64>(1, static_cast<u64>(p_.pes) / lanes_k);
  const u64 T = static_cast<u64>(p_.sync_positions);
  const u64 filter_blocks = ceil_div(static_cast<u64>(kg), lanes_k);
  const u64 position_blocks = ceil_div(positions, lanes_m * T);
  const u64 tiles = checked_mul(checked_mul(filter_blocks, position_blocks, "tile count"), static_cast<u64>(L.groups), "tile count");
  const u64 macs_per_pe = static_cast<u64>(p_.macs_per_pe);

  std::vector<u64> tile_cycles;
  tile_cycles.reserve(expected ? 0 : static_cast<std::size_t>(std::min<u64>(tiles, u64{1} << 26)));
  double sum_mean = 0, sum_max = 0;
  u64 effectual = 0, energy_macs = 0, cycle_work = 0;
  u64 nnz_w = 0, nnz_in = 0;

  if (expected) {
    const double dw = op.density.weight, da = op.density.activation;
    const double fw = structured ? structured_ratio : (cyc_w ? dw : 1.0), fa = cyc_a ? da : 1.0;
    const double ew = structured ? structured_ratio : (en_w ? dw : 1.0), ea = en_a ? da : 1.0;
    u64 total = 0;
    for (u64 fb = 0; fb < filter_blocks; ++fb) {
      const u64 lk = std::min(lanes_k, static_cast<u64>(kg) - fb * lanes_k);
      for (u64 pb = 0; pb < position_blocks; ++pb) {
        const u64 first = pb * lanes_m * T;
        const u64 span = std::min(lanes_m * T, positions - first);
        const u64 per_lane = std::min(T, span);  // the busiest lane's positions
        const u64 lanes = lk * ceil_div(span, T);
        const double lane = static_cast<double>(per_lane) * static_cast<double>(red) * fw * fa;
        const u64 c = static_cast<u64>(std::ceil(lane / static_cast<double>(macs_per_pe) - 1e-9)) + static_cast<u64>(p_.tile_overhead);
        total += c * static_cast<u64>(L.groups);
        sum_max += lane * static_cast<double>(L.groups);
        sum_mean += static_cast<double>(span) * static_cast<double>(lk) / static_cast<double>(lanes) *
                    static_cast<double>(red) * fw * fa * static_cast<double>(L.groups);
        (void)c;
      }
    }
    Tile t;
    t.busy_units = std::min<u64>(static_cast<u64>(p_.pes), lanes_k * lanes_m);
    t.compute_cycles = total;
    w.plan.tiles.push_back(t);
    const double dense = static_cast<double>(op.macs());
    effectual = static_cast<u64>(std::llround(dense * op.density.weight * op.density.activation));
    energy_macs = static_cast<u64>(std::llround(dense * ew * ea));
    cycle_work = static_cast<u64>(std::llround(dense * fw * fa));
    nnz_w = static_cast<u64>(std::llround(static_cast<double>(L.weight_count()) * op.density.weight));
    nnz_in = static_cast<u64>(std::llround(static_cast<double>(L.input_count()) * op.density.activation));
  } else {
    const auto counts = mask_counts(op, L);
    nnz_w = counts->weight_nnz;
    nnz_in = counts->input_nnz;
    sparse::LaneRules rules;
    rules.cycle_weights = cyc_w || structured;
    rules.cycle_activations = cyc_a;
    rules.energy_weights = en_w;
    rules.energy_activations = en_a;
    rules.structured = structured;
    rules.structured_work = static_cast<u64>(std::ceil(static_cast<double>(red) * structured_ratio - 1e-9));
    const sparse::LaneWork lw = sparse::lane_work(*counts, L, lanes_k, lanes_m, rules);
    effectual = lw.effectual;
    energy_macs = lw.energy_macs;
    cycle_work = lw.cycle_work;
    for (const sparse::TileWork& t : lw.tiles) {
      const u64 slowest = p_.flexible ? ceil_div(t.sum, lanes_k * lanes_m) : t.busiest;
      sum_max += static_cast<double>(slowest);
      sum_mean += p_.flexible ? static_cast<double>(t.sum) / static_cast<double>(lanes_k * lanes_m)
                              : t.lanes ? static_cast<double>(t.sum) / static_cast<double>(t.lanes) : 0.0;
      tile_cycles.push_back(ceil_div(slowest, macs_per_pe) + static_cast<u64>(p_.tile_overhead));
    }
    if (p_.mode != "dysta")
      append_classes(w.plan, std::move(tile_cycles), std::min<u64>(static_cast<u64>(p_.pes), lanes_k * lanes_m),
                     p_.tile_classes);
  }
  w.macs = effectual;

  // Compressed sizes: weights as filters × reduction, inputs as planes × pixels.
  const auto weight_bits = [&](SparseFormat f) {
    // An N:M store holds N:M weights; a layer without the pattern is stored uncompressed.
    if (f == SparseFormat::nm && !op.density.weight_pattern) f = SparseFormat::uncompressed;
    u64 fillers = 0;
    if (f == SparseFormat::rle) {
      if (expected) {
        fillers = static_cast<u64>(std::llround(sparse::expected_rle_fillers(static_cast<double>(nnz_w), op.density.weight, p_.run_bits)));
      } else {
        const u64 limit = u64{1} << p_.run_bits;
        for (i64 j = 0; j < L.k; ++j) {
          u64 run = 0;
          for (i64 c = 0; c < L.cg(); ++c)
            for (i64 r = 0; r < L.r; ++r)
              for (i64 s = 0; s < L.s; ++s) {
                if (masks.weight[L.weight_index(j, c, r, s)]) fillers += run / limit, run = 0;
                else ++run;
              }
        }
      }
    }
    const int m = op.density.weight_pattern ? op.density.weight_pattern->m : 4;
    return sparse::format_bits(f, static_cast<u64>(L.k), static_cast<u64>(red), nnz_w, p_.word_bits, p_.run_bits, fillers, m);
  };
  const auto input_bits = [&](SparseFormat f) {
    const u64 plane = static_cast<u64>(L.h * L.w), rows = static_cast<u64>(L.n * L.c);
    u64 fillers = 0;
    if (f == SparseFormat::rle) {
      if (expected) {
        fillers = static_cast<u64>(std::llround(sparse::expected_rle_fillers(static_cast<double>(nnz_in), op.density.activation, p_.run_bits)));
      } else {
        const u64 limit = u64{1} << p_.run_bits;
        for (u64 row = 0; row < rows; ++row) {
          u64 run = 0;
          for (u64 i = 0; i < plane; ++i) {
            if (masks.input[row * plane + i]) fillers += run / limit, run = 0;
            else ++run;
          }
        }
      }
    }
    return sparse::format_bits(f, rows, plane, nnz_in, p_.word_bits, p_.run_bits, fillers, 4);
  };
  const sparse::FormatBits dw = weight_bits(p_.dram_weight), di = input_bits(p_.dram_input);
  const sparse::FormatBits sw = weight_bits(p_.sram_weight), si = input_bits(p_.sram_input);
  const u64 out_bytes = bytes(checked_mul(static_cast<u64>(op.output_elements()), word, "byte count"));
  const u64 in_v = context.input_on_chip ? 0 : bytes(di.value_bits), in_m = context.input_on_chip ? 0 : bytes(di.meta_bits);
  const u64 w_v = bytes(dw.value_bits), w_m = bytes(dw.meta_bits);
  const u64 out_v = context.output_on_chip ? 0 : out_bytes;
  w.accesses["dram.ifmap"] = {in_v, 0};
  w.accesses["dram.ifmap_meta"] = {in_m, 0};
  w.accesses["dram.filter"] = {w_v, 0};
  w.accesses["dram.filter_meta"] = {w_m, 0};
  w.accesses["dram.ofmap"] = {0, out_v};
  const u64 reads_in = filter_blocks;  // the global buffer sends the input once per filter block
  w.accesses["sram.ifmap"] = {checked_mul(bytes(si.value_bits), reads_in, "byte count"), bytes(si.value_bits)};
  w.accesses["sram.ifmap_meta"] = {checked_mul(bytes(si.meta_bits), reads_in, "byte count"), bytes(si.meta_bits)};
  w.accesses["sram.filter"] = {bytes(sw.value_bits), bytes(sw.value_bits)};
  w.accesses["sram.filter_meta"] = {bytes(sw.meta_bits), bytes(sw.meta_bits)};
  w.accesses["sram.ofmap"] = {0, out_bytes};

  if (p_.mode != "dysta") {
    // The layer's DRAM traffic spread evenly over its tiles, the rest on the first.
    const std::pair<std::string_view, u64> ports[] = {{"input", in_v}, {"input_meta", in_m}, {"weight", w_v}, {"weight_meta", w_m}};
    const u64 n = w.plan.tile_count();
    std::vector<std::pair<std::size_t, u64>> shares;
    for (const auto& [name, total] : ports)
      if (total) shares.emplace_back(w.plan.port(name), total);
    if (out_v) shares.emplace_back(w.plan.port(port::output, Direction::write), out_v);
    for (auto& t : w.plan.tiles)
      for (const auto& [idx, total] : shares) t.bytes[idx] = total / n;
    bool rest = false;
    for (const auto& [idx, total] : shares) rest |= total % n != 0;
    if (rest) {
      peel_first(w.plan);
      for (const auto& [idx, total] : shares) w.plan.tiles.front().bytes[idx] += total % n;
    }
  }

  w.metrics["effectual_macs"] = static_cast<double>(effectual);
  w.metrics["mac_work"] = static_cast<double>(cycle_work);
  w.metrics["energy_macs"] = static_cast<double>(energy_macs);
  w.metrics["lane_utilization"] = sum_max > 0 ? sum_mean / sum_max : 1.0;
  w.metrics["balance_assumed"] = expected ? 1.0 : 0.0;
  w.metrics["tiles"] = static_cast<double>(tiles);
  w.metrics["tile_runs"] = static_cast<double>(w.plan.tiles.size());
  w.metrics["weight_density"] = L.weight_count() ? static_cast<double>(nnz_w) / static_cast<double>(L.weight_count()) : 1.0;
  w.metrics["input_density"] = L.input_count() ? static_cast<double>(nnz_in) / static_cast<double>(L.input_count()) : 1.0;
  w.metrics["weight_value_bytes"] = static_cast<double>(w_v);
  w.metrics["weight_meta_bytes"] = static_cast<double>(w_m);
  w.metrics["input_value_bytes"] = static_cast<double>(bytes(di.value_bits));
  w.metrics["input_meta_bytes"] = static_cast<double>(bytes(di.meta_bits));
  if (!expected) {
    w.metrics["weight_mask_from_data"] = weight_from_data(op, L);
    w.metrics["input_mask_from_data"] = input_from_data(op, L);
  }
  return w;
}

EnergyBreakdown SparseEngine::energy(const LayerWork& work, u64 cycles) const {
  const auto& t = *common_.tech;
  EnergyBreakdown e;
  const auto it = work.metrics.find("energy_macs");
  const double macs = it != work.metrics.end() ? it->second : static_cast<double>(work.macs);
  e["mac"] = macs * t.mac_cost(energy::Technology::int_precision(p_.word_bits)).energy_pj;
  const double dram = t.dram(p_.dram_type);
  for (const auto& [level, a] : work.accesses) {
    const bool is_dram = level.rfind("dram", 0) == 0;
    const double rd = is_dram ? dram : t.sram_read_pj_per_bit(p_.glb_bytes);
    const double wr = is_dram ? dram : t.sram_write_pj_per_bit(p_.glb_bytes);
    e[level + ".read"] = static_cast<double>(a.read_bytes) * 8 * rd;
    e[level + ".write"] = static_cast<double>(a.write_bytes) * 8 * wr;
  }
  const auto area = area_by_component();
  const double seconds = static_cast<double>(cycles) / common_.clock_hz;
  const auto get = [&](const char* k) { const auto f = area.find(k); return f == area.end() ? 0.0 : f->second; };
  e["leakage.pe_array"] = get("pe_array") * t.leakage_logic_mw_per_mm2 * seconds * 1e9;
  e["leakage.sram"] = get("sram") * t.leakage_sram_mw_per_mm2 * seconds * 1e9;
  return e;
}

nlohmann::json SparseEngine::resolved_config() const {
  const auto operands = [](bool w, bool a) { return w && a ? "both" : w ? "weights" : a ? "activations" : "none"; };
  nlohmann::json structured = nlohmann::json::array();
  for (const auto& s : p_.structured) structured.push_back(nm_text(s));
  nlohmann::json j = with_common(
      {{"sparse",
        {{"pes", p_.pes},
         {"macs_per_pe", p_.macs_per_pe},
         {"sync_positions", p_.sync_positions},
         {"tile_overhead", p_.tile_overhead},
         {"distribution", p_.flexible ? "flexible" : "static"},
         {"skip", operands(p_.skip_weights, p_.skip_activations)},
         {"gate", operands(p_.gate_weights, p_.gate_activations)},
         {"structured", structured},
         {"mode", p_.mode},
         {"weight_pattern", sparse::to_string(p_.weight_pattern)},
         {"activation_pattern", sparse::to_string(p_.activation_pattern)},
         {"block", p_.block},
         {"seed", p_.seed},
         {"word_bits", p_.word_bits},
         {"run_bits", p_.run_bits},
         {"tile_classes", p_.tile_classes},
         {"pruning", p_.dynamic_pruning ? "dynamic" : "none"},
         {"formats",
          {{"dram", {{"weight", to_string(p_.dram_weight)}, {"input", to_string(p_.dram_input)}}},
           {"sram", {{"weight", to_string(p_.sram_weight)}, {"input", to_string(p_.sram_input)}}}}}}},
       {"sram", {{"global_buffer", p_.glb_bytes}}},
       {"energy", {{"dram", p_.dram_type}}}});
  if (p_.pruning_threshold) j["sparse"]["pruning_threshold"] = *p_.pruning_threshold;
  return j;
}

// The operands whose zeros cost no MAC energy: skipped or gated ones (the N:M datapath skips the
// weights of layers that follow one of its patterns). The product of their densities, the masks'
// where the layer has masks from data: zeros of the two operands taken as independent.
double SparseEngine::mac_energy_fraction(const workloads::Operator& given) const {
  if (p_.mode == "dysta") return 1.0;
  const workloads::Operator op = as_run(given);
  if (!sparse::layer_shape(op)) {
    const bool act = op.kind() == workloads::OpKind::matmul && (p_.skip_activations || p_.gate_activations);
    return act ? op.density.activation : 1.0;
  }
  const auto& pat = op.density.weight_pattern;
  const bool structured = pat && std::find(p_.structured.begin(), p_.structured.end(), *pat) != p_.structured.end();
  const bool en_w = (p_.structured.empty() && p_.skip_weights) || p_.gate_weights || structured;
  const bool en_a = p_.skip_activations || p_.gate_activations;
  const auto density = [](const std::vector<std::uint8_t>& mask, double fallback) {
    if (mask.empty()) return fallback;
    u64 nnz = 0;
    for (auto b : mask) nnz += b;
    return static_cast<double>(nnz) / static_cast<double>(mask.size());
  };
  double f = 1.0;
  if (en_w) f *= structured ? static_cast<double>(pat->n) / pat->m
                            : op.masks ? density(op.masks->weight, op.density.weight) : op.density.weight;
  if (en_a) f *= op.masks ? density(op.masks->input, op.density.activation) : op.density.activation;
  return f;
}

std::optional<energy::LayerStreams> SparseEngine::operand_streams(const workloads::Operator& op) const {
  using energy::GemmDim;
  using energy::StreamTensor;
  if (p_.mode == "dysta" || !sparse::layer_shape(op)) return std::nullopt;
  const auto g = dataflows::as_gemm(op);
  if (!g) return std::nullopt;
  // map()'s lanes: filters first, output positions with the rest, `sync_positions` per lane.
  const i64 lanes_n = std::min(p_.pes, g->n), lanes_m = std::max<i64>(1, p_.pes / lanes_n);
  const i64 T = p_.sync_positions;
  const auto L = [](GemmDim d, i64 extent, bool spatial) { return energy::StreamLoop{d, extent, spatial}; };
  const auto up = [](i64 a, i64 b) { return (a + b - 1) / b; };
  const std::vector<energy::StreamLoop> loops = {
      L(GemmDim::g, g->count, false),         L(GemmDim::n, up(g->n, lanes_n), false),
      L(GemmDim::m, up(g->m, lanes_m * T), false), L(GemmDim::n, lanes_n, true),
      L(GemmDim::m, lanes_m, true),            L(GemmDim::m, T, false),
      L(GemmDim::k, g->k, false)};
  energy::LayerStreams s;
  s.groups = g->count, s.m = g->m, s.n = g->n, s.k = g->k;
  const auto& pat = op.density.weight_pattern;
  const bool structured = pat && std::find(p_.structured.begin(), p_.structured.end(), *pat) != p_.structured.end();
  const bool hold_w = (p_.structured.empty() && p_.skip_weights) || p_.gate_weights || structured;
  const bool hold_a = p_.skip_activations || p_.gate_activations;
  s.ports.push_back({"pe.activation", StreamTensor::activation, p_.word_bits, loops, 0, hold_a});
  s.ports.push_back({"pe.weight", StreamTensor::weight, p_.word_bits, loops, 0, hold_w});
  s.ports.push_back({"pe.psum", StreamTensor::psum, 4 * p_.word_bits, loops, 6, false});
  return s;
}

}  // namespace tessera::arch
