#include "dataflows/mapper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/checked.hpp"
#include "dataflows/layouts.hpp"

namespace tessera::dataflows {

std::string_view to_string(MapperObjective o) {
  switch (o) {
    case MapperObjective::latency: return "latency";
    case MapperObjective::energy: return "energy";
    case MapperObjective::edp: return "edp";
  }
  return "latency";
}

std::optional<MapperObjective> mapper_objective_from_string(std::string_view text) {
  for (auto o : {MapperObjective::latency, MapperObjective::energy, MapperObjective::edp})
    if (text == to_string(o)) return o;
  return std::nullopt;
}

nlohmann::json MappingInfo::to_json() const {
  nlohmann::json order_json = nlohmann::json::array(), tiles = nlohmann::json::object(),
                 iterations = nlohmann::json::object(), refetches = nlohmann::json::object();
  for (std::size_t i = 0; i < loops; ++i) {
    order_json.push_back(loop_names[static_cast<std::size_t>(order[i])]);
    tiles[loop_names[i]] = tile[i];
    iterations[loop_names[i]] = count[i];
  }
  for (std::size_t t = 0; t < tensors; ++t) refetches[tensor_names[t]] = refetch[t];
  return {{"loop_order", order_json},
          {"tile", tiles},
          {"tiles", iterations},
          {"refetch", refetches},
          {"estimate", {{"cycles", estimate.latency}, {"energy_pj", estimate.energy}}},
          {"candidates", candidates}};
}

bool better(const Cost& a, const Cost& b, MapperObjective objective) {
  switch (objective) {
    case MapperObjective::latency:
      return a.latency < b.latency || (a.latency == b.latency && a.energy < b.energy);
    case MapperObjective::energy:
      return a.energy < b.energy || (a.energy == b.energy && a.latency < b.latency);
    case MapperObjective::edp: {
      const double x = a.latency * a.energy, y = b.latency * b.energy;
      return x < y || (x == y && a.latency < b.latency);
    }
  }
  return false;
}

const std::vector<LoopOrder>& loop_orders(std::size_t loops) {
  static const std::array<std::vector<LoopOrder>, kMaxLoops + 1> all = [] {
    std::array<std::vector<LoopOrder>, kMaxLoops + 1> out;
    for (std::size_t n = 0; n <= kMaxLoops; ++n) {
      LoopOrder o{};
      for (std::size_t i = 0; i < kMaxLoops; ++i) o[i] = static_cast<int>(i);
      do out[n].push_back(o);
      while (std::next_permutation(o.begin(), o.begin() + static_cast<long>(n)));
    }
    return out;
  }();
  return all.at(loops);
}

namespace {
constexpr const char* kTraffic = "traffic count";
}  // namespace

Reuse analyse_reuse(const ReuseProblem& p, const LoopOrder& order,
                    const std::array<u64, kMaxLoops>& count,
                    const std::array<u64, kMaxTensors>& tile_size) {
  Reuse r;
  for (std::size_t t = 0; t < p.tensors; ++t) {
    u64 total = tile_size[t], block = tile_size[t], period = 1;
    int region = 0;
    bool promote = true;
    for (int i = static_cast<int>(p.loops) - 1; i >= 0; --i) {
      const int l = order[static_cast<std::size_t>(i)];
      const u64 n = count[static_cast<std::size_t>(l)];
      if (!promote) {
        total = checked_mul(total, n, kTraffic);
      } else if (p.depends[static_cast<std::size_t>(l)][t]) {
        total = checked_mul(total, n, kTraffic);
        if (total > p.capacity[t]) {
          promote = false;
        } else {
          block = total, period *= n, ++region;
        }
      } else {
        period *= n, ++region;
      }
    }
    r.total[t] = total, r.block[t] = block, r.period[t] = period, r.region[t] = region;
  }
  return r;
}

namespace {

constexpr int kM = 0, kN = 1, kK = 2;
constexpr int kA = 0, kB = 1, kC = 2;

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
u64 bytes(i64 words, int bits) { return static_cast<u64>((words * bits + 7) / 8); }
// The part of `total` on [begin, end) of `whole` (in 128 bits: total and end may each approach
// 2^53).
i64 share(i64 total, i64 begin, i64 end, i64 whole) {
  return mul_div(total, end, whole) - mul_div(total, begin, whole);
}

// Which GEMM loop each array side holds and which streams (dataflows/gemm.hpp).
struct Sides {
  int row, col, stream;
};
Sides sides(Dataflow d) {
  switch (d) {
    case Dataflow::os: return {kM, kN, kK};
    case Dataflow::ws: return {kK, kN, kM};
    case Dataflow::is: return {kK, kM, kN};
  }
  return {kK, kN, kM};
}

// Cycles of one (Mt, Nt, Kt) block on the array: its folds, each streaming for at least R
// cycles (the next fold's stationary operand shifts in meanwhile).
u64 block_cycles(const std::array<i64, 3>& ext, const Sides& s, i64 R, i64 C) {
  return static_cast<u64>(checked_mul(ceil_div(ext[s.row], R) * ceil_div(ext[s.col], C),
                                      std::max(ext[s.stream], R), "cycle count"));
}

std::vector<i64> candidates(i64 bound, i64 unit) {
  std::vector<i64> out;
  for (i64 v = std::max<i64>(unit, 1); v < bound; v *= 2) out.push_back(v);
  out.push_back(bound);
  return out;
}

ReuseProblem gemm_problem(const GemmArray& a) {
  ReuseProblem p;
  p.loops = 3, p.tensors = 3;
  p.depends[kM] = {true, false, true};
  p.depends[kN] = {false, true, true};
  p.depends[kK] = {true, true, false};
  p.capacity = {a.a_capacity, a.b_capacity, a.c_capacity};
  return p;
}

}  // namespace

MappingInfo GemmMapping::info() const {
  MappingInfo m;
  m.loops = 3, m.tensors = 3;
  m.loop_names = {"m", "n", "k"};
  m.tensor_names = {"input", "weight", "output"};
  m.order = order;
  for (std::size_t l = 0; l < 3; ++l) m.tile[l] = tile[l], m.count[l] = count[l];
  for (std::size_t t = 0; t < 3; ++t) m.refetch[t] = refetch[t];
  m.estimate = cost;
  m.candidates = candidates;
  return m;
}

std::optional<GemmMapping> map_gemm(const GemmView& g, const GemmArray& arr) {
  const Sides s = sides(arr.dataflow);
  const i64 R = arr.rows, C = arr.cols;
  const std::array<i64, 3> dim = {g.m, g.n, g.k};
  std::array<i64, 3> unit{};
  unit[s.row] = R, unit[s.col] = C, unit[s.stream] = std::min(R, dim[s.stream]);
  // Average bytes per element of A and B as stored (a convolution's im2col matrix repeats input
  // pixels; its distinct bytes are what memory holds).
  const double a_ratio = static_cast<double>(g.a_distinct) / static_cast<double>(g.count * g.m * g.k);
  const double b_ratio = static_cast<double>(g.b_distinct) / static_cast<double>(g.count * g.k * g.n);
  const ReuseProblem problem = gemm_problem(arr);
  const double fill = arr.dataflow == Dataflow::os ? 0 : static_cast<double>(R);
  const double drain = static_cast<double>(R + C - 2);
  const double out_bytes = static_cast<double>(bytes(g.m * g.n, arr.c_bits));

  // Two passes: the best cost, then among the mappings within kMapperTolerance of it the one with
  // the fewest tiles.
  constexpr double kTolerance = kMapperTolerance;
  std::optional<GemmMapping> best;
  std::optional<Cost> target;  // pass 2: the best cost of pass 1
  u64 evaluated = 0;
  const auto primary = [&](const Cost& c) {
    switch (arr.objective) {
      case MapperObjective::latency: return c.latency;
      case MapperObjective::energy: return c.energy;
      case MapperObjective::edp: return c.latency * c.energy;
    }
    return c.latency;
  };
  const auto tiles_of = [](const GemmMapping& m) { return m.count[0] * m.count[1] * m.count[2]; };
  for (int pass = 0; pass < 2; ++pass) {
  const auto cm = candidates(dim[kM], unit[kM]), cn = candidates(dim[kN], unit[kN]),
             ck = candidates(dim[kK], unit[kK]);
  // Ascending candidates: once a block does not fit, larger ones along that loop do not either.
  const double min_traffic = static_cast<double>(g.a_distinct) * arr.a_bits / 8.0 +
                             static_cast<double>(g.b_distinct) * arr.b_bits / 8.0 +
                             static_cast<double>(g.count) * out_bytes;
  for (i64 kt : ck) {
    for (i64 nt : cn) {
      const u64 b_tile = static_cast<u64>(std::ceil(static_cast<double>(kt * nt) * b_ratio *
                                                    arr.b_bits / 8.0));
      if (b_tile > arr.b_capacity) break;
      for (i64 mt : cm) {
        const std::array<i64, 3> tile = {mt, nt, kt};
        const u64 a_tile = static_cast<u64>(std::ceil(static_cast<double>(mt * kt) * a_ratio *
                                                      arr.a_bits / 8.0));
        const u64 c_tile = bytes(mt * nt, arr.psum_bits);
        if (a_tile > arr.a_capacity || c_tile > arr.c_capacity) break;
        const std::array<i64, 3> count = {ceil_div(dim[0], mt), ceil_div(dim[1], nt),
                                          ceil_div(dim[2], kt)};
        // Plans stay small (in doubles: the product of counts may pass 64 bits).
        if (static_cast<double>(count[0]) * static_cast<double>(count[1]) *
                static_cast<double>(count[2]) > double(i64{1} << 20))
          continue;
        // Compute: full and remainder blocks along each loop.
        double compute = 0;
        for (int mask = 0; mask < 8; ++mask) {
          std::array<i64, 3> ext{};
          i64 blocks = 1;
          for (int d = 0; d < 3; ++d) {
            const i64 rem = dim[d] - (count[d] - 1) * tile[d];
            const bool last = (mask >> d) & 1;
            ext[d] = last ? rem : tile[d];
            blocks *= last ? 1 : count[d] - 1;
          }
          if (blocks > 0) compute += static_cast<double>(blocks) * static_cast<double>(block_cycles(ext, s, R, C));
        }
        compute *= static_cast<double>(g.count);
        const double first = static_cast<double>(a_tile + b_tile) / arr.bytes_per_cycle;
        const double last = static_cast<double>(bytes(mt * nt, arr.c_bits)) / arr.bytes_per_cycle;
        // No order moves less than the distinct bytes: skip the tiling when even that loses.
        Cost bound;
        bound.latency = std::max(compute, min_traffic / arr.bytes_per_cycle) + first + last +
                        fill + drain + 2.0 * static_cast<double>(arr.latency_cycles);
        bound.energy = min_traffic * arr.dram_pj_per_byte + bound.latency * arr.static_pj_per_cycle;
        if (!target && best && !better(bound, best->cost, arr.objective)) continue;
        if (target && primary(bound) > primary(*target) * (1 + kTolerance)) continue;
        const std::array<u64, kMaxLoops> cnt = {static_cast<u64>(count[0]), static_cast<u64>(count[1]),
                                                static_cast<u64>(count[2])};
        const i64 tiles = count[0] * count[1] * count[2] * g.count;
        // The plan's input depth (prefetch_buffering), less the tile being computed.
        const double depth = static_cast<double>(
            std::min(prefetch_depth(arr.a_capacity, a_tile), prefetch_depth(arr.b_capacity, b_tile)) -
            1);
        for (const LoopOrder& order : loop_orders(3)) {
          ++evaluated;
          Reuse r;
          try {
            r = analyse_reuse(problem, order, cnt, {a_tile, b_tile, c_tile});
          } catch (const CountOverflow&) {
            continue;  // traffic beyond 64 bits: never the best mapping, and not countable
          }
          const double fa = static_cast<double>(r.total[kA]) /
                            static_cast<double>(a_tile * cnt[kM] * cnt[kK]);
          const double fb = static_cast<double>(r.total[kB]) /
                            static_cast<double>(b_tile * cnt[kK] * cnt[kN]);
          const double fc = static_cast<double>(r.total[kC]) /
                            static_cast<double>(c_tile * cnt[kM] * cnt[kN]);
          const double psum_bytes =
              (fc - 1) * 2 * static_cast<double>(bytes(g.m * g.n, arr.psum_bits));
          const double traffic =
              static_cast<double>(g.count) *
              (fa * static_cast<double>(g.a_distinct / g.count) * arr.a_bits / 8.0 +
               fb * static_cast<double>(g.b_distinct) / static_cast<double>(g.count) * arr.b_bits / 8.0 +
               out_bytes + psum_bytes);
          // Each tile's transfers and latency must hide under the compute of the tiles
          // prefetched ahead of it (depth - 1 of them).
          const double per_tile = (static_cast<double>(arr.latency_cycles) +
                                   traffic / arr.bytes_per_cycle / static_cast<double>(tiles)) /
                                  depth;
          Cost c;
          c.latency = std::max({compute, traffic / arr.bytes_per_cycle,
                                per_tile * static_cast<double>(tiles)}) +
                      first + last + fill + drain + 2.0 * static_cast<double>(arr.latency_cycles);
          c.energy = traffic * arr.dram_pj_per_byte + c.latency * arr.static_pj_per_cycle;
          const bool take =
              !target ? !best || better(c, best->cost, arr.objective)
                      : primary(c) <= primary(*target) * (1 + kTolerance) &&
                            (!best || count[0] * count[1] * count[2] < tiles_of(*best) ||
                             (count[0] * count[1] * count[2] == tiles_of(*best) &&
                              better(c, best->cost, arr.objective)));
          if (take) {
            GemmMapping m;
            m.order = order, m.tile = tile, m.count = count, m.reuse = r, m.cost = c;
            m.refetch = {fa, fb, fc};
            best = m;
          }
        }
      }
    }
  }
    if (!best || pass == 1) break;
    target = best->cost;
    best.reset();
  }
  if (best) best->candidates = evaluated;
  return best;
}

TilePlan gemm_plan(const GemmView& g, const GemmArray& arr, const GemmMapping& m,
                   bool input_on_chip, bool output_on_chip) {
  const Sides s = sides(arr.dataflow);
  const i64 R = arr.rows, C = arr.cols;
  const std::array<i64, 3> dim = {g.m, g.n, g.k};
  TilePlan plan;
  plan.buffering = kDoubleBuffered;
  plan.units = static_cast<u64>(R * C);
  const std::size_t in = plan.port(port::input), wt = plan.port(port::weight),
                    pin = plan.port(port::psum_in), out = plan.port(port::output, Direction::write),
                    pout = plan.port(port::psum_out, Direction::write);
  const i64 a_per = g.a_distinct / g.count;
  const i64 b_per = g.b_distinct / g.count;
  // Layouts in DRAM: A as M rows of its distinct bytes (activations pixel- or token-major), B as
  // N rows of K (weights output-channel-major, as ONNX and PyTorch store them), results and
  // partial sums as M rows of N. A tile moves its K (A, B) or N (results) extent of each row.
  const double a_bytes = static_cast<double>(bytes(a_per, arr.a_bits));
  const double b_bytes = static_cast<double>(bytes(b_per, arr.b_bits));
  plan.ports[in].layout = matrix_layout(a_bytes / static_cast<double>(g.m), m.tile[kK], g.k,
                                        bytes(g.a_distinct, arr.a_bits));
  plan.ports[wt].layout = matrix_layout(b_bytes / static_cast<double>(g.n), m.tile[kK], g.k,
                                        bytes(g.b_distinct, arr.b_bits));
  const i64 results = g.m * g.n * g.count;
  plan.ports[out].layout = matrix_layout(static_cast<double>(bytes(g.n, arr.c_bits)), m.tile[kN],
                                         g.n, bytes(results, arr.c_bits));
  plan.ports[pin].layout = plan.ports[pout].layout =
      matrix_layout(static_cast<double>(bytes(g.n, arr.psum_bits)), m.tile[kN], g.n,
                    bytes(results, arr.psum_bits));
  // Tensor t's region: the innermost m.reuse.region[t] loops of the order.
  std::array<bool, 3> in_region_a{}, in_region_b{}, in_region_c{};
  for (int p = 0; p < 3; ++p) {
    const int l = m.order[static_cast<std::size_t>(p)];
    in_region_a[static_cast<std::size_t>(l)] = p >= 3 - m.reuse.region[kA];
    in_region_b[static_cast<std::size_t>(l)] = p >= 3 - m.reuse.region[kB];
    in_region_c[static_cast<std::size_t>(l)] = p >= 3 - m.reuse.region[kC];
  }
  std::vector<Tile> one;
  std::array<i64, 3> idx{};
  const i64 total = m.count[0] * m.count[1] * m.count[2];
  for (i64 it = 0; it < total; ++it) {
    // idx from the iteration number, outermost loop slowest.
    i64 rest = it;
    for (int p = 2; p >= 0; --p) {
      const int l = m.order[static_cast<std::size_t>(p)];
      idx[static_cast<std::size_t>(l)] = rest % m.count[static_cast<std::size_t>(l)];
      rest /= m.count[static_cast<std::size_t>(l)];
    }
    std::array<i64, 3> b0{}, b1{}, ext{};
    for (int d = 0; d < 3; ++d) {
      b0[d] = idx[d] * m.tile[d];
      b1[d] = std::min(dim[d], b0[d] + m.tile[d]);
      ext[d] = b1[d] - b0[d];
    }
    Tile t;
    t.compute_cycles = block_cycles(ext, s, R, C);
    const i64 folds = ceil_div(ext[s.row], R) * ceil_div(ext[s.col], C);
    t.busy_units = static_cast<u64>(ext[s.row] * ext[s.col] / folds);
    // A fetched at the first visit of its block: every in-region loop it does not depend on (N)
    // at index 0; likewise B (M).
    if (!input_on_chip && (!in_region_a[kN] || idx[kN] == 0))
      t.bytes[in] = bytes(share(share(a_per, b0[kM], b1[kM], g.m), b0[kK], b1[kK], g.k), arr.a_bits);
    if (!in_region_b[kM] || idx[kM] == 0)
      t.bytes[wt] = bytes(share(share(b_per, b0[kK], b1[kK], g.k), b0[kN], b1[kN], g.n), arr.b_bits);
    // Results: partial sums stay while K is inside C's region; otherwise they go out between
    // K blocks and come back.
    const i64 words = ext[kM] * ext[kN];
    const bool first_visit = !in_region_c[kK] || idx[kK] == 0;
    const bool last_visit = !in_region_c[kK] || idx[kK] == m.count[kK] - 1;
    if (!in_region_c[kK] && first_visit && idx[kK] > 0) t.bytes[pin] = bytes(words, arr.psum_bits);
    if (last_visit) {
      if (idx[kK] == m.count[kK] - 1)
        t.bytes[out] = output_on_chip ? 0 : bytes(words, arr.c_bits);
      else
        t.bytes[pout] = bytes(words, arr.psum_bits);
    }
    append_tile(one, t);
  }
  plan.append(TileSeq{std::move(one), {}}, static_cast<u64>(g.count));
  add_fill_drain(plan, arr.dataflow == Dataflow::os ? 0 : static_cast<u64>(R),
                 static_cast<u64>(R + C - 2));
  plan.buffering = prefetch_buffering(plan, arr.a_capacity, arr.b_capacity, arr.c_capacity);
  return plan;
}

}  // namespace tessera::dataflows
