#include "sim/simulate.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "arch/energy/hamming.hpp"
#include "common/checked.hpp"
#include "common/error.hpp"
#include "sim/dram_counts.hpp"
#include "sim/executor.hpp"

namespace tessera::sim {

u64 roofline_cycles(const arch::Engine& engine, const workloads::Operator& op,
                    const arch::LayerWork& work) {
  const double peak = engine.peak_macs_per_cycle(op);
  u64 floor =
      work.macs ? checked_ceil<u64>(static_cast<double>(work.macs) / peak, "cycle count") : 0;
  const auto& channels = engine.memory().channels;
  std::array<u64, kMaxChannels> bytes{};
  for (std::size_t p = 0; p < work.plan.ports.size(); ++p)
    bytes[work.plan.ports[p].channel] =
        checked_add(bytes[work.plan.ports[p].channel], work.plan.port_bytes(p), "byte count");
  for (std::size_t ch = 0; ch < channels.size(); ++ch)
    if (bytes[ch])
      floor = std::max(floor, checked_add(channels[ch].occupancy(bytes[ch]),
                                          channels[ch].latency_cycles, "cycle count"));
  return floor;
}

namespace {

bool is_mac(const workloads::Operator& op) {
  using workloads::OpKind;
  const OpKind k = op.kind();
  return k == OpKind::conv || k == OpKind::matmul || k == OpKind::butterfly || k == OpKind::fft;
}

// True when `producer` writes a cache that `consumer` reads as its cache operand.
bool feeds_cache_operand(const workloads::Graph& graph, workloads::Graph::Node producer,
                         workloads::Graph::Node consumer) {
  const auto* move = std::get_if<workloads::DataMovement>(&graph.op(producer).shape);
  return move && move->type == workloads::MoveType::cache_write &&
         graph.op(consumer).cache_bytes() > 0;
}

// Operators that can run on a MAC layer's output path as its outputs come out: elementwise
// functions, batch norms, and softmax (online, over the running row maximum and sum, as fused
// attention kernels compute it while the scores stream out); layer and RMS norms on engines that
// hold whole output rows.
bool is_epilogue(const workloads::Operator& op, const arch::Engine& engine) {
  if (op.kind() == workloads::OpKind::elementwise || op.kind() == workloads::OpKind::softmax)
    return true;
  const auto* n = std::get_if<workloads::Norm>(&op.shape);
  return n && (n->type == workloads::NormType::batch ||
               ((n->type == workloads::NormType::layer || n->type == workloads::NormType::rms) &&
                engine.fuses_row_norms()));
}

// Calls f(block index or kNone, first run, end run) for each element of runs [begin, end): a
// run, or the outermost block inside the range other than `parent`.
template <class F>
void for_each_element(const dataflows::TileSeq& seq, std::size_t begin, std::size_t end,
                      std::size_t parent, F&& f) {
  constexpr std::size_t kNone = dataflows::TileCursor::kNone;
  for (std::size_t i = begin; i < end;) {
    std::size_t block = kNone;
    for (std::size_t k = 0; k < seq.repeats.size() && block == kNone; ++k)
      if (k != parent && seq.repeats[k].begin == i && seq.repeats[k].end <= end) block = k;
    const std::size_t next = block == kNone ? i + 1 : seq.repeats[block].end;
    f(block, i, next);
    i = next;
  }
}

// Cycles of runs [begin, end) of `seq` executed once, the blocks inside them other than
// `parent` (the block they are the body of) expanded.
u64 range_cycles(const dataflows::TileSeq& seq, std::size_t begin, std::size_t end,
                 std::size_t parent) {
  u64 c = 0;
  for_each_element(seq, begin, end, parent, [&](std::size_t block, std::size_t b, std::size_t e) {
    c = checked_add(
        c,
        block == dataflows::TileCursor::kNone
            ? checked_mul(seq.tiles[b].count, seq.tiles[b].compute_cycles, "cycle count")
            : checked_mul(seq.repeats[block].times, range_cycles(seq, b, e, block), "cycle count"),
        "cycle count");
  });
  return c;
}

// Appends runs [begin, end) of `in` (the body of block `parent`) to `out` with `bytes` more on
// `port`, in proportion to each element's compute cycles (an epilogue's extra input streams in
// as the outputs it meets are produced). A run's share is split over its tiles; a block's over
// its iterations, the first ones taking a byte more where it does not divide.
void spread(const dataflows::TileSeq& in, std::size_t begin, std::size_t end, std::size_t parent,
            std::size_t port, u64 bytes, dataflows::TileSeq& out) {
  const u64 total = range_cycles(in, begin, end, parent);
  u64 given = 0, cycles_before = 0;
  for_each_element(in, begin, end, parent, [&](std::size_t block, std::size_t b, std::size_t e) {
    const bool run = block == dataflows::TileCursor::kNone;
    // Within the range's total, which range_cycles counted exactly.
    const u64 cycles = run ? in.tiles[b].count * in.tiles[b].compute_cycles
                           : in.repeats[block].times * range_cycles(in, b, e, block);
    const u64 upto = e == end ? bytes
                     : total  ? static_cast<u64>(static_cast<long double>(bytes) *
                                                (cycles_before + cycles) / total)
                              : 0;
    const u64 share = upto - given;
    given = upto;
    cycles_before += cycles;
    if (run) {
      const dataflows::Tile& t = in.tiles[b];
      dataflows::Tile run_total = t;
      run_total.count = 1;
      run_total.compute_cycles *= t.count;  // within the range's total
      for (auto& v : run_total.bytes) v = checked_mul(v, t.count, "byte count");
      run_total.bytes[port] = checked_add(run_total.bytes[port], share, "byte count");
      dataflows::append_split(out, run_total, t.count);
      return;
    }
    const u64 times = in.repeats[block].times;
    for (const u64 part : {share / times + 1, share / times}) {
      const u64 iterations = part > share / times ? share % times : times - share % times;
      if (iterations == 0) continue;
      dataflows::TileSeq body;
      spread(in, b, e, block, port, part, body);
      out.append(body, iterations);
    }
  });
}

// Spreads `bytes` over the plan's tiles on `port` (spread above).
void spread(dataflows::TilePlan& plan, std::size_t port, u64 bytes) {
  dataflows::TileSeq out;
  spread(plan, 0, plan.tiles.size(), dataflows::TileCursor::kNone, port, bytes, out);
  static_cast<dataflows::TileSeq&>(plan) = std::move(out);
}

}  // namespace

namespace {

// Runs `f` for operator `op`: a count that does not fit in 64 bits (common/checked.hpp) becomes
// one line naming the operator.
template <class F>
decltype(auto) for_operator(const workloads::Operator& op, F&& f) {
  try {
    return f();
  } catch (const CountOverflow& e) {
    throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                     "': " + e.what());
  }
}

// The masks a plan may depend on (0 without any): two layers of one shape and density with
// different masks do not share a plan.
std::uint64_t mask_digest(const workloads::Operator& op) { return op.masks ? op.masks->digest : 0; }

std::uint64_t map_digest(const workloads::Operator& op, const arch::MapContext& context) {
  return (static_cast<std::uint64_t>(op.macs()) * 1000003u) ^
         (static_cast<std::uint64_t>(op.input_elements()) * 10007u) ^
         (static_cast<std::uint64_t>(op.output_elements()) << 7) ^
         (static_cast<std::uint64_t>(op.precision.weight_bits) << 48) ^
         (static_cast<std::uint64_t>(op.precision.activation_bits) << 56) ^
         (static_cast<std::uint64_t>(op.kind()) << 40) ^ (context.input_on_chip ? 1u : 0u) ^
         (context.output_on_chip ? 2u : 0u) ^ mask_digest(op);
}

}  // namespace

std::size_t MapCache::size() const {
  const std::shared_lock lock(mutex_);
  return entries_.size();
}

// Callers hold mutex_.
const arch::LayerWork* MapCache::find(const workloads::Operator& op,
                                      const arch::MapContext& context) const {
  for (auto [it, end] = entries_.equal_range(map_digest(op, context)); it != end; ++it) {
    const Entry& e = it->second;
    if (e.shape == op.shape && e.precision == op.precision && e.density == op.density &&
        e.masks == mask_digest(op) && e.context.input_on_chip == context.input_on_chip &&
        e.context.output_on_chip == context.output_on_chip)
      return &e.work;
  }
  return nullptr;
}

const arch::LayerWork& MapCache::map(const arch::Engine& engine, const workloads::Operator& op,
                                     const arch::MapContext& context) {
  {
    const std::shared_lock lock(mutex_);
    if (const arch::LayerWork* w = find(op, context)) {
      ++hits_;
      return *w;
    }
  }
  // Outside the lock: mapping is the slow part.
  arch::LayerWork work = for_operator(op, [&] { return engine.map(op, context); });
  const std::unique_lock lock(mutex_);
  if (const arch::LayerWork* w = find(op, context)) return *w;  // another thread was first
  return entries_
      .emplace(map_digest(op, context),
               Entry{op.shape, op.precision, op.density, mask_digest(op), context, std::move(work)})
      ->second.work;
}

const LayerTiming* MapCache::find_timing(const dataflows::TilePlan& plan,
                                         std::uint64_t digest) const {
  const std::shared_lock lock(mutex_);
  for (auto [it, end] = timings_.equal_range(digest); it != end; ++it)
    if (it->second.first == plan) return &it->second.second;
  return nullptr;
}

const LayerTiming& MapCache::add_timing(const dataflows::TilePlan& plan, std::uint64_t digest,
                                        const LayerTiming& t) {
  const std::unique_lock lock(mutex_);
  for (auto [it, end] = timings_.equal_range(digest); it != end; ++it)
    if (it->second.first == plan) return it->second.second;
  return timings_.emplace(digest, std::pair{plan, t})->second.second;
}

GraphPlan plan_graph(const arch::Engine& engine, const workloads::Graph& graph, MapCache* cache) {
  GraphPlan p;
  p.order = graph.topological_order();
  const auto& order = p.order;
  const std::size_t n = order.size();

  // Fusion groups: head[i] is the index (in `order`) of the layer that runs operator i.
  std::vector<std::size_t>& head = p.head;
  head.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    head[i] = i;
    if (!engine.fuses_epilogues() || i == 0 || !is_epilogue(graph.op(order[i]), engine)) continue;
    const auto prev = order[i - 1];
    const auto producers = graph.producers(order[i]);
    const auto prev_consumers = graph.consumers(prev);
    if (is_mac(graph.op(order[head[i - 1]])) &&
        std::find(producers.begin(), producers.end(), prev) != producers.end() &&
        prev_consumers.size() == 1)
      head[i] = head[i - 1];
  }
  // The last operator of each group: its output is the group's.
  std::vector<std::size_t> tail(n);
  for (std::size_t i = 0; i < n; ++i) tail[head[i]] = i;
  std::vector<std::size_t>& heads = p.heads;
  for (std::size_t i = 0; i < n; ++i)
    if (head[i] == i) heads.push_back(i);

  // A group's output stays on chip for the next group when it is that group's only input, the
  // next group is its only consumer, and the engine has room for it. A cache write feeding an
  // operator that reads the cache as an operand is not an input in this sense: the operator
  // streams the cache from DRAM.
  std::vector<bool> kept(n, false);
  for (std::size_t h = 0; h + 1 < heads.size(); ++h) {
    const auto last = order[tail[heads[h]]], next = order[heads[h + 1]];
    const auto consumers = graph.consumers(last);
    std::size_t inputs = 0;
    for (const auto q : graph.producers(next)) inputs += !feeds_cache_operand(graph, q, next);
    kept[heads[h]] = consumers.size() == 1 && consumers[0] == next && inputs == 1 &&
                     engine.keeps_on_chip(graph.op(last), graph.op(next));
  }

  // Operators of the same shape, precision and context map alike (a network's repeated blocks):
  // each distinct one is mapped once.
  MapCache local;
  MapCache& maps = cache ? *cache : local;
  std::vector<arch::LayerWork>& work = p.work;
  work.resize(n);
  std::vector<std::vector<std::string>>& warnings = p.warnings;
  warnings.resize(n);
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const std::size_t i = heads[h];
    const auto& op = graph.op(order[i]);
    warnings[i] = engine.supports(op);
    const arch::MapContext context{.input_on_chip = h > 0 && kept[heads[h - 1]],
                                   .output_on_chip = kept[i]};
    work[i] = maps.map(engine, op, context);
    work[i].mac_energy_fraction = engine.mac_energy_fraction(op);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (head[i] == i) continue;
    const auto& op = graph.op(order[i]);
    warnings[i] = engine.supports(op);
    arch::LayerWork& w = work[head[i]];
    const arch::VectorWork v = arch::vector_work(op, engine.engine_name());
    w.vector += v;
    // Inputs other than the fused chain's tensor (a residual) and parameters stream in.
    const auto chain = static_cast<u64>(graph.op(order[i - 1]).output_bytes());
    const auto in = static_cast<u64>(op.input_bytes()), params = static_cast<u64>(op.weight_bytes());
    const u64 extra = (in > chain ? in - chain : 0) + params;
    if (extra)
      for_operator(op, [&] {
        spread(w.plan, w.plan.port("epilogue_in"), extra);
        auto& read = w.accesses["dram.ifmap"].read_bytes;
        read = checked_add(read, extra, "byte count");
      });
  }
  // The MAC array's share of each layer's compute, before epilogues extend it (LayerResult).
  p.mac_cycles.assign(n, 0);
  for (std::size_t i : heads)
    if (work[i].macs > 0)
      p.mac_cycles[i] =
          for_operator(graph.op(order[i]), [&] { return work[i].plan.compute_cycles(); });
  // The output path runs `lanes` elements per cycle beside the array; an epilogue slower than
  // its layer's compute adds the difference to the layer's last tile.
  for (std::size_t i : heads) {
    arch::LayerWork& w = work[i];
    if (tail[i] == i || w.plan.tiles.empty()) continue;
    u64 epilogue = 0;
    try {
      epilogue = engine.vector_unit().compute_cycles(w.vector);
    } catch (const InputError& e) {
      const auto& op = graph.op(order[i]);
      throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                       "' with its fused epilogues: " + e.what());
    }
    const u64 compute = for_operator(graph.op(order[i]), [&] { return w.plan.compute_cycles(); });
    if (epilogue > compute) {
      dataflows::peel_last(w.plan);
      w.plan.tiles.back().compute_cycles += epilogue - compute;
    }
  }

  for (std::size_t i : heads) engine.memory().assign(work[i].plan);
  return p;
}

std::vector<const dataflows::TilePlan*> GraphPlan::plans() const {
  std::vector<const dataflows::TilePlan*> out;
  out.reserve(heads.size());
  for (std::size_t i : heads) out.push_back(&work[i].plan);
  return out;
}

std::vector<LayerTiming> time_layers(const arch::Engine& engine, const workloads::Graph& graph,
                                     const GraphPlan& plan, const std::string& fidelity,
                                     Trace* trace, MapCache* cache) {
  const Fidelity& timing = fidelities().get(fidelity);
  const Timer& timer = timing.timer;
  std::vector<LayerTiming> timings;
  if (timing.memoizes_layers) {
    // Layers time independently: a plan timed before (a network's repeated blocks, the steps of
    // a generation run) is looked up, not timed again.
    MapCache local;
    MapCache& maps = cache ? *cache : local;
    for (std::size_t i : plan.heads) {
      const auto& p = plan.work[i].plan;
      const std::uint64_t d = dataflows::digest(p);
      const LayerTiming* t = maps.find_timing(p, d);
      if (!t)
        t = &maps.add_timing(p, d, for_operator(graph.op(plan.order[i]), [&] {
          return timer({&p}, engine.memory(), trace).front();
        }));
      timings.push_back(*t);
    }
  } else {  // one simulation of the run's layers (SystemC: tile by tile)
    u64 run_bound = 0;
    for (std::size_t i : plan.heads) {
      const auto& op = graph.op(plan.order[i]);
      if (timing.max_run_cycles) {
        const u64 b = for_operator(op, [&] {
          return checked_add(run_bound, serial_cycles_bound(plan.work[i].plan, engine.memory()),
                             "the run's cycle bound");
        });
        if (b > timing.max_run_cycles)
          throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                           "': the run could last " + std::to_string(b) + " cycles up to it, " +
                           "more than the " + fidelity + " fidelity's clock holds (" +
                           std::to_string(timing.max_run_cycles) +
                           " cycles); the analytical fidelity has no such limit");
        run_bound = b;
      }
      const std::uint64_t tiles = for_operator(op, [&] { return plan.work[i].plan.tile_count(); });
      if (timing.max_layer_dram_accesses) {
        const auto& w = plan.work[i].plan;
        u64 accesses = 0;
        for (std::size_t p = 0; p < w.ports.size(); ++p)
          if (const auto& ch = engine.memory().channels.at(w.ports[p].channel); ch.detailed)
            accesses += for_operator(op, [&] { return w.port_bytes(p); }) / ch.burst_bytes + 1;
        if (accesses > timing.max_layer_dram_accesses)
          throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                           "': the " + fidelity + " fidelity runs its " + std::to_string(accesses) +
                           " DRAM accesses one by one, more than 2^" +
                           std::to_string(std::bit_width(timing.max_layer_dram_accesses) - 1) +
                           " (the analytical fidelity uses the channel's sustained rate)");
      }
      if (timing.max_layer_tiles && tiles > timing.max_layer_tiles)
        throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                         "': the " + fidelity + " fidelity executes its " + std::to_string(tiles) +
                         " tiles one by one, more than 2^" +
                         std::to_string(std::bit_width(timing.max_layer_tiles) - 1) +
                         " (the analytical fidelity times repeated tiles in closed form)");
    }
    timings = timer(plan.plans(), engine.memory(), trace);
  }
  return timings;
}

namespace {

// A layer's counts on detailed channel `index` where the fidelity ran no controller (the
// analytical one): reads and writes from the bytes of the ports the channel carries; row
// outcomes, activates, precharges and active-standby time in the proportions of the preset's
// sequential calibration stream; one refresh per tREFI of the layer's time and rank.
arch::dram::Stats estimate_dram(const arch::dram::Spec& spec, const arch::dram::Stats& cal,
                                std::size_t index, const dataflows::TilePlan& plan, double seconds) {
  const u64 access = spec.org.access_bytes();
  u64 read = 0, write = 0;
  for (std::size_t p = 0; p < plan.ports.size(); ++p)
    if (plan.ports[p].channel == index)
      (plan.ports[p].direction == dataflows::Direction::read ? read : write) += plan.port_bytes(p);
  arch::dram::Stats s;
  s.reads = (read + access - 1) / access;
  s.writes = (write + access - 1) / access;
  s.bytes = (s.reads + s.writes) * access;
  const double per_access =
      static_cast<double>(s.reads + s.writes) / static_cast<double>(std::max<u64>(1, cal.reads + cal.writes));
  const auto scale = [&](u64 v) { return static_cast<u64>(std::llround(static_cast<double>(v) * per_access)); };
  s.activates = scale(cal.activates);
  s.precharges = scale(cal.precharges);
  s.row_misses = std::min(s.reads + s.writes, scale(cal.row_misses));
  s.row_conflicts = std::min(s.reads + s.writes - s.row_misses, scale(cal.row_conflicts));
  s.row_hits = s.reads + s.writes - s.row_misses - s.row_conflicts;
  const double dram_cycles = seconds * 1e9 / spec.timing.tck_ns;
  s.cycles = static_cast<u64>(dram_cycles);
  if (spec.timing.refi && spec.refresh == arch::dram::Refresh::all_bank)
    s.refreshes = static_cast<u64>(dram_cycles / static_cast<double>(spec.timing.refi)) * spec.org.ranks;
  if (spec.timing.refi && spec.refresh == arch::dram::Refresh::per_bank)
    s.per_bank_refreshes = static_cast<u64>(dram_cycles / static_cast<double>(spec.refi_pb())) * spec.org.ranks;
  if (cal.cycles && s.reads + s.writes > 0)  // a channel without traffic opens no row
    s.active_cycles = static_cast<u64>(dram_cycles * spec.org.ranks *
                                       std::min(1.0, static_cast<double>(cal.active_cycles) / static_cast<double>(cal.cycles)));
  return s;
}

// The layer's DRAM figures per detailed channel as metrics "dram_stats.<channel>.<figure>"
// (counted when the fidelity ran the controllers, else estimated). When every channel is
// detailed with published currents, the commands' and standby energy replace the per-byte DRAM
// energy (components "dram" and "dram.*").
// `calibration`: per channel, its preset's sequential stream (sequential_stream_stats), null for
// channels of the simple model; empty when no channel is detailed.
void account_dram(const arch::Engine& engine, const std::vector<const arch::dram::Stats*>& calibration,
                  const arch::LayerWork& w, LayerResult& r) {
  if (calibration.empty()) return;
  const auto& channels = engine.memory().channels;
  bool all_known = true;
  for (const auto& ch : channels)
    all_known = all_known && ch.detailed && arch::dram::power(*ch.detailed).known();
  const auto recorded = take_dram_counts(&w.plan, r.timing);
  const bool counted = recorded && recorded->size() == channels.size();
  const double seconds = static_cast<double>(r.timing.cycles) / engine.clock_hz();
  arch::dram::CommandEnergy energy;
  double background = 0;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const auto& ch = channels[c];
    if (!ch.detailed) continue;
    const auto& spec = *ch.detailed;
    const arch::dram::Stats s = counted ? (*recorded)[c] : estimate_dram(spec, *calibration[c], c, w.plan, seconds);
    const double peak = spec.peak_bytes_per_cycle() / spec.timing.tck_ns;  // GB/s
    const double achieved = seconds > 0 ? static_cast<double>(s.bytes) / seconds / 1e9 : 0.0;
    const std::string k = "dram_stats." + ch.name + ".";
    const auto n = [](u64 v) { return static_cast<double>(v); };
    r.metrics[k + "estimated"] = counted ? 0 : 1;
    r.metrics[k + "reads"] = n(s.reads);
    r.metrics[k + "writes"] = n(s.writes);
    r.metrics[k + "activates"] = n(s.activates);
    r.metrics[k + "precharges"] = n(s.precharges);
    r.metrics[k + "refreshes"] = n(s.refreshes);
    r.metrics[k + "per_bank_refreshes"] = n(s.per_bank_refreshes);
    r.metrics[k + "row_hits"] = n(s.row_hits);
    r.metrics[k + "row_misses"] = n(s.row_misses);
    r.metrics[k + "row_conflicts"] = n(s.row_conflicts);
    r.metrics[k + "row_hit_rate"] = s.row_hit_rate();
    r.metrics[k + "bytes"] = n(s.bytes);
    r.metrics[k + "achieved_gb_per_s"] = achieved;
    r.metrics[k + "peak_gb_per_s"] = peak;
    r.metrics[k + "bandwidth_fraction"] = achieved / peak;
    const auto e = arch::dram::energy(spec, s);
    energy.act += e.act, energy.pre += e.pre, energy.rd += e.rd, energy.wr += e.wr, energy.ref += e.ref + e.ref_pb;
    background += arch::dram::background_energy(spec, seconds * 1e9,
                                                n(s.active_cycles) * spec.timing.tck_ns);
  }
  if (!all_known) return;
  for (auto it = r.energy.begin(); it != r.energy.end();)
    it = it->first == "dram" || it->first.rfind("dram.", 0) == 0 ? r.energy.erase(it) : std::next(it);
  r.energy["dram.act"] = energy.act;
  r.energy["dram.pre"] = energy.pre;
  r.energy["dram.rd"] = energy.rd;
  r.energy["dram.wr"] = energy.wr;
  r.energy["dram.ref"] = energy.ref;
  r.energy["dram.background"] = background;
}

// Per thread: a run is timed and accounted on the thread that asked for it.
struct RecordedCounts {
  LayerTiming timing;
  std::vector<arch::dram::Stats> channels;
};
thread_local std::unordered_map<const dataflows::TilePlan*, RecordedCounts> recorded_counts;

}  // namespace

void clear_dram_counts() { recorded_counts.clear(); }

void record_dram_counts(const dataflows::TilePlan* plan, const LayerTiming& timing,
                        std::vector<arch::dram::Stats> channels) {
  recorded_counts[plan] = {timing, std::move(channels)};
}

std::optional<std::vector<arch::dram::Stats>> take_dram_counts(const dataflows::TilePlan* plan,
                                                               const LayerTiming& timing) {
  const auto it = recorded_counts.find(plan);
  if (it == recorded_counts.end() || !(it->second.timing == timing)) return std::nullopt;
  auto out = std::move(it->second.channels);
  recorded_counts.erase(it);
  return out;
}

std::vector<LayerResult> account(const arch::Engine& engine, const workloads::Graph& graph,
                                 const GraphPlan& plan, const std::vector<LayerTiming>& timings,
                                 const Progress& progress) {
  const auto& order = plan.order;
  const auto& head = plan.head;
  const std::size_t n = order.size();
  if (timings.size() != plan.heads.size())
    throw std::invalid_argument("sim::account: one timing per planned layer");
  std::vector<LayerResult> out(n);
  for (std::size_t h = 0; h < plan.heads.size(); ++h) out[plan.heads[h]].timing = timings[h];
  std::vector<const arch::dram::Stats*> calibration;  // looked up once, not per layer
  const auto& channels = engine.memory().channels;
  if (std::any_of(channels.begin(), channels.end(), [](const auto& ch) { return ch.detailed.has_value(); }))
    for (const auto& ch : channels)
      calibration.push_back(ch.detailed ? &arch::dram::sequential_stream_stats(*ch.detailed) : nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& op = graph.op(order[i]);
    LayerResult& r = out[i];
    r.name = op.name;
    r.kind = std::string(workloads::to_string(op.kind()));
    r.runs_on = std::string(arch::to_string(engine.runs_on(op)));
    r.source = op.source;
    r.warnings = plan.warnings[i];
    r.folded = op.folded;
    if (head[i] != i) {
      r.fused_into = graph.op(order[head[i]]).name;
      out[head[i]].fused.push_back(op.name);
      continue;
    }
    const arch::LayerWork& w = plan.work[i];
    r.macs = w.macs;
    r.mac_cycles = plan.mac_cycles[i];
    r.vector_cycles = w.vector.total() > 0 ? engine.vector_unit().compute_cycles(w.vector) : 0;
    const double peak = r.peak_macs_per_cycle = engine.peak_macs_per_cycle(op);
    r.utilization = utilization(r.macs, r.timing.cycles, peak);
    r.compute_utilization = utilization(r.macs, r.timing.compute_cycles, peak);
    if (r.timing.cycles > 0 && w.plan.units > 0)
      r.unit_utilization = static_cast<double>(r.timing.busy_unit_cycles) /
                           (static_cast<double>(w.plan.units) * static_cast<double>(r.timing.cycles));
    r.roofline_cycles = for_operator(op, [&] { return roofline_cycles(engine, op, w); });
    r.energy = engine.energy(w, r.timing.cycles);
    if (w.vector.total() > 0) r.energy["vector"] += engine.vector_unit().energy(w.vector);
    r.accesses = w.accesses;
    r.metrics = w.metrics;
    r.mapping = w.mapping;
    account_dram(engine, calibration, w, r);
  }
  // Hamming-distance datapath energy in place of the flat MAC energy, when the config asks.
  const auto* streams = engine.stream_source();
  if (const auto options = streams ? streams->hamming_in_simulate() : std::nullopt) {
    const auto report = arch::energy::analyse_hamming(engine, graph, *options, progress);
    const bool replace = streams->hamming_replaces_mac_energy();
    const nlohmann::json j = arch::energy::to_json(report);
    std::map<std::string, std::size_t> by_name;
    for (std::size_t i = 0; i < out.size(); ++i) by_name[out[i].name] = i;
    for (std::size_t i = 0; i < report.layers.size(); ++i) {
      const auto& l = report.layers[i];
      auto& r = out.at(by_name.at(l.name));
      const auto& used = l.optimized ? *l.optimized : l.original;
      if (replace) {
        r.energy.erase("mac");
        r.energy["mac.toggle"] = used.toggle_pj;
        r.energy["mac.base"] = used.base_pj;
      }
      r.hamming = j["layers"][i];
    }
    for (auto& r : out)  // layers off the datapath: no MAC energy to split
      if (replace && r.hamming.is_null() && r.energy.count("mac") && r.energy.at("mac") == 0)
        r.energy.erase("mac");
  }
  // The workload's total cycles must fit too (reports add the layers up).
  u64 total_cycles = 0;
  for (std::size_t i : plan.heads)
    total_cycles = for_operator(graph.op(order[i]), [&] {
      return checked_add(total_cycles, out[i].timing.cycles, "the workload's total cycle count");
    });
  for (auto& r : out) {
    for (const auto& [component, pj] : r.energy) r.energy_pj += pj;
    // Finite figures whose product overflows (a technology table's 1e307 pJ): no result.
    if (!std::isfinite(r.energy_pj))
      throw InputError((r.source.empty() ? "" : r.source + ": ") + "operator '" + r.name +
                       "': its energy is not finite (" + std::to_string(r.energy_pj) +
                       " pJ): the architecture's energy figures (technology table, energy "
                       "keys) are too large");
  }
  return out;
}


std::vector<LayerResult> simulate(const arch::Engine& engine, const workloads::Graph& graph,
                                  const std::string& fidelity, Trace* trace, MapCache* cache,
                                  const Progress& progress) {
  fidelities().get(fidelity);  // an unknown name fails before any mapping
  MapCache local;
  MapCache& maps = cache ? *cache : local;
  const GraphPlan plan = plan_graph(engine, graph, &maps);
  return account(engine, graph, plan, time_layers(engine, graph, plan, fidelity, trace, &maps),
                 progress);
}

}  // namespace tessera::sim
