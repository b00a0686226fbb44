// The mapper (dataflows/mapper.hpp): the reuse model against a small loop nest worked by hand in
// two orders, loop orders and objectives, and the GEMM search and its tile plan on several GEMMs,
// arrays (edge tiles included) and all three dataflows: traffic equals the distinct bytes times
// the refetch factors, compute never beats the array's peak, choices fit the half-buffers.
// Its use by the systolic engine (against the fixed plan) is in tests/arch/test_systolic.cpp.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "dataflows/mapper.hpp"

using namespace tessera;
using namespace tessera::dataflows;

namespace {

workloads::Operator matmul(i64 m, i64 n, i64 k) {
  workloads::Operator op;
  op.shape = workloads::MatMul{.batch = 1, .m = m, .n = n, .k = k};
  return op;
}

workloads::Operator conv(i64 c, i64 k, i64 hw, i64 groups) {
  workloads::Operator op;
  op.shape = workloads::Conv{.n = 1, .c = c, .h = hw, .w = hw, .k = k, .r = 3, .s = 3,
                             .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1,
                             .groups = groups};
  return op;
}

GemmArray array(i64 rows, i64 cols, Dataflow d, u64 a_cap, u64 b_cap, u64 c_cap,
                MapperObjective objective = MapperObjective::latency) {
  GemmArray a;
  a.rows = rows, a.cols = cols, a.dataflow = d;
  a.a_capacity = a_cap, a.b_capacity = b_cap, a.c_capacity = c_cap;
  a.bytes_per_cycle = 16;
  a.dram_pj_per_byte = 120;  // DDR4, 15 pJ/bit
  a.static_pj_per_cycle = 5;
  a.objective = objective;
  return a;
}

// Loops M, N, K; tensors A[M,K], B[K,N], C[M,N].
ReuseProblem mnk_problem(std::array<u64, kMaxTensors> capacity) {
  ReuseProblem p;
  p.loops = 3, p.tensors = 3;
  p.depends[0] = {true, false, true, false};  // M: A, C
  p.depends[1] = {false, true, true, false};  // N: B, C
  p.depends[2] = {true, true, false, false};  // K: A, B
  p.capacity = capacity;
  return p;
}

}  // namespace

TEST_CASE("analyse_reuse: a 3-loop nest worked by hand in two orders", "[dataflows][mapper]") {
  // Loops M (4 iterations), N (3), K (2); tensors A[M,K] (tile 2, may keep 4), B[K,N] (tile 5,
  // may keep 15), C[M,N] (tile 1, may keep 2). Inside out, a tensor's block grows over the loops
  // it depends on while it fits; loops it does not depend on keep it; from the first loop where
  // it no longer fits outwards every iteration fetches it again.
  const ReuseProblem p = mnk_problem({4, 15, 2, 0});
  const std::array<u64, kMaxLoops> count = {4, 3, 2, 0, 0, 0};
  const std::array<u64, kMaxTensors> tile = {2, 5, 1, 0};

  SECTION("order M, N, K (K innermost)") {
    const Reuse r = analyse_reuse(p, {0, 1, 2, 3, 4, 5}, count, tile);
    // A: K grows it to 4 (fits), N keeps it (period 2*3), M would make 16 > 4: fetched per M,
    // 2 * 2 * 4 = 16 in all, once each.
    CHECK(r.total[0] == 16);
    CHECK(r.block[0] == 4);
    CHECK(r.period[0] == 6);
    CHECK(r.region[0] == 2);
    // B: K grows it to 10, N would make 30 > 15: refetched for every M, 5 * 2 * 3 * 4 = 120.
    CHECK(r.total[1] == 120);
    CHECK(r.block[1] == 10);
    CHECK(r.period[1] == 2);
    CHECK(r.region[1] == 1);
    // C: K keeps it (the accumulation stays), N would make 3 > 2: 1 * 3 * 4 = 12, once each.
    CHECK(r.total[2] == 12);
    CHECK(r.block[2] == 1);
    CHECK(r.period[2] == 2);
    CHECK(r.region[2] == 1);
  }
  SECTION("order K, M, N (N innermost)") {
    const Reuse r = analyse_reuse(p, {2, 0, 1, 3, 4, 5}, count, tile);
    // A: N keeps it, M would make 8 > 4: 2 * 4 * 2 = 16.
    CHECK(r.total[0] == 16);
    CHECK(r.block[0] == 2);
    CHECK(r.period[0] == 3);
    CHECK(r.region[0] == 1);
    // B: N grows it to 15 (fits), M keeps it (period 3*4), K would make 30 > 15: 30, once each.
    CHECK(r.total[1] == 30);
    CHECK(r.block[1] == 15);
    CHECK(r.period[1] == 12);
    CHECK(r.region[1] == 2);
    // C: N would make 3 > 2 at once, so the partial sums go out and come back for each K:
    // 1 * 3 * 4 * 2 = 24.
    CHECK(r.total[2] == 24);
    CHECK(r.block[2] == 1);
    CHECK(r.period[2] == 1);
    CHECK(r.region[2] == 0);
  }
}

TEST_CASE("loop orders, objectives and their ranking", "[dataflows][mapper]") {
  CHECK(loop_orders(0).size() == 1);
  CHECK(loop_orders(1).size() == 1);
  CHECK(loop_orders(5).size() == 120);
  const auto& three = loop_orders(3);
  REQUIRE(three.size() == 6);
  std::set<std::array<int, 3>> distinct;
  for (const auto& o : three) {
    std::array<int, 3> head = {o[0], o[1], o[2]};
    std::array<int, 3> sorted = head;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::array<int, 3>{0, 1, 2});
    distinct.insert(head);
  }
  CHECK(distinct.size() == 6);

  const Cost fast{.latency = 1, .energy = 100}, frugal{.latency = 2, .energy = 50};
  CHECK(better(fast, frugal, MapperObjective::latency));
  CHECK_FALSE(better(frugal, fast, MapperObjective::latency));
  CHECK(better(frugal, fast, MapperObjective::energy));
  CHECK_FALSE(better(fast, frugal, MapperObjective::energy));
  // Equal products: the faster one.
  CHECK(better(fast, frugal, MapperObjective::edp));
  CHECK_FALSE(better(frugal, fast, MapperObjective::edp));
  CHECK(better({.latency = 3, .energy = 10}, fast, MapperObjective::edp));  // 30 < 100
  // Ties broken by the other figure; a cost is not better than itself.
  CHECK(better({.latency = 1, .energy = 99}, fast, MapperObjective::latency));
  CHECK(better({.latency = 1.5, .energy = 50}, frugal, MapperObjective::energy));
  for (auto o : {MapperObjective::latency, MapperObjective::energy, MapperObjective::edp}) {
    CHECK_FALSE(better(fast, fast, o));
    CHECK(mapper_objective_from_string(to_string(o)) == o);
  }
  CHECK_FALSE(mapper_objective_from_string("area"));
}

TEST_CASE("map_gemm on a small GEMM with large buffers: every operand once, the folds' cycles",
          "[dataflows][mapper]") {
  // M=16, N=8, K=8 on 4x4, weight stationary, 8-bit: 2 x 2 folds of 16 streamed rows whatever
  // the tiles (64 cycles), plus the first weight load (4) and the skew and drain (4 + 4 - 2).
  const GemmView g = *as_gemm(matmul(16, 8, 8));
  const GemmArray a = array(4, 4, Dataflow::ws, 1 << 20, 1 << 20, 1 << 20);
  const auto m = map_gemm(g, a);
  REQUIRE(m);
  CHECK(m->refetch == std::array<double, 3>{1, 1, 1});
  CHECK(m->candidates > 0);
  const TilePlan plan = gemm_plan(g, a, *m, false, false);
  CHECK(plan.compute_cycles() == 4 * 16 + 4 + 6);
  CHECK(plan.port_bytes(port::input) == 128);
  CHECK(plan.port_bytes(port::weight) == 64);
  CHECK(plan.port_bytes(port::output) == 128);
  CHECK(plan.port_bytes(port::psum_in) == 0);
  CHECK(plan.port_bytes(port::psum_out) == 0);
  CHECK(plan.units == 16);
  // Tiles of a few hundred bytes against 1 MiB buffer halves: prefetch as deep as allowed.
  CHECK(plan.buffering.input == kMaxPrefetch);
  CHECK(plan.buffering.output == kMaxPrefetch);
  CHECK_FALSE(plan.buffering.streaming);
  const auto j = m->info().to_json();
  CHECK(j.at("loop_order").size() == 3);
  CHECK(j.at("refetch").at("weight") == 1.0);
  CHECK(j.at("candidates") == m->candidates);
}

TEST_CASE("map_gemm and gemm_plan: traffic is distinct bytes times refetch, compute within the "
          "peak, choices within the half-buffers", "[dataflows][mapper]") {
  struct Case {
    const char* name;
    workloads::Operator op;
    i64 rows, cols;
    u64 a_cap, b_cap, c_cap;
  };
  // Edge tiles everywhere (no dimension a multiple of the array's), a convolution whose im2col
  // matrix repeats input pixels (a_distinct 2304 < 144 x 144), and a grouped one (count 2).
  const Case cases[] = {
      {"matmul 50x37x70 on 8x16", matmul(50, 37, 70), 8, 16, 1024, 512, 2048},
      {"conv 16->24 12x12 on 8x8", conv(16, 24, 12, 1), 8, 8, 2048, 1024, 4096},
      {"grouped conv 16->32 10x10 g2 on 4x8", conv(16, 32, 10, 2), 4, 8, 512, 256, 1024},
  };
  for (const Case& c : cases) {
    const GemmView g = *as_gemm(c.op);
    for (auto d : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
      for (auto objective : {MapperObjective::latency, MapperObjective::energy}) {
        INFO(c.name << ", " << to_string(d) << ", " << to_string(objective));
        const GemmArray a = array(c.rows, c.cols, d, c.a_cap, c.b_cap, c.c_cap, objective);
        const auto m = map_gemm(g, a);
        REQUIRE(m);
        INFO(m->info().to_json().dump());
        const TilePlan plan = gemm_plan(g, a, *m, false, false);

        // Tiles: multiples of the array on the spatial loops (or the whole dimension), counts
        // cover the dimension.
        const std::array<i64, 3> dim = {g.m, g.n, g.k};
        for (int l = 0; l < 3; ++l) {
          CHECK(m->tile[l] >= 1);
          CHECK(m->tile[l] <= dim[l]);
          CHECK(m->count[l] == (dim[l] + m->tile[l] - 1) / m->tile[l]);
        }
        const i64 row_unit = a.rows, col_unit = a.cols;
        const int row_loop = d == Dataflow::os ? 0 : 2;  // os: M on rows; ws, is: K
        const int col_loop = d == Dataflow::is ? 0 : 1;  // is: M on columns; ws, os: N
        CHECK((m->tile[row_loop] % row_unit == 0 || m->tile[row_loop] == dim[row_loop]));
        CHECK((m->tile[col_loop] % col_unit == 0 || m->tile[col_loop] == dim[col_loop]));

        // Within the half-buffers: each operand's resident block, and every tile's fetches.
        const std::array<u64, 3> capacity = {c.a_cap, c.b_cap, c.c_cap};
        for (std::size_t t = 0; t < 3; ++t) CHECK(m->reuse.block[t] <= capacity[t]);
        CHECK(static_cast<u64>(m->tile[0] * m->tile[1] * 4) <= c.c_cap);  // 32-bit partial sums
        const std::size_t in = plan.find_port(port::input), wt = plan.find_port(port::weight),
                          pin = plan.find_port(port::psum_in);
        for (const Tile& t : plan.tiles) {
          CHECK(t.bytes[in] <= c.a_cap);
          CHECK(t.bytes[wt] <= c.b_cap);
          CHECK(t.bytes[pin] <= c.c_cap);
        }

        // Traffic: A and B are their distinct bytes (8-bit) times their refetch factors; the
        // results go out once, partial sums make (refetch - 1) round trips at 32 bits.
        for (double f : m->refetch) CHECK(f >= 1);
        CHECK(static_cast<double>(plan.port_bytes(port::input)) ==
              static_cast<double>(g.a_distinct) * m->refetch[0]);
        CHECK(static_cast<double>(plan.port_bytes(port::weight)) ==
              static_cast<double>(g.b_distinct) * m->refetch[1]);
        const u64 outputs = static_cast<u64>(g.m * g.n * g.count);
        CHECK(plan.port_bytes(port::output) == outputs);
        CHECK(static_cast<double>(plan.port_bytes(port::psum_in)) ==
              (m->refetch[2] - 1) * static_cast<double>(outputs * 4));
        CHECK(plan.port_bytes(port::psum_out) == plan.port_bytes(port::psum_in));

        // Compute: never faster than every PE busy on every cycle.
        const u64 peak_cycles = static_cast<u64>((g.macs() + c.rows * c.cols - 1) / (c.rows * c.cols));
        CHECK(plan.compute_cycles() >= peak_cycles);
        CHECK(plan.busy_unit_cycles() <= plan.units * plan.compute_cycles());
        CHECK(plan.units == static_cast<u64>(c.rows * c.cols));

        // Neighbours on chip: no input reads, no result writes; the rest unchanged.
        const TilePlan chained = gemm_plan(g, a, *m, true, true);
        CHECK(chained.port_bytes(port::input) == 0);
        CHECK(chained.port_bytes(port::output) == 0);
        CHECK(chained.port_bytes(port::weight) == plan.port_bytes(port::weight));
        CHECK(chained.compute_cycles() == plan.compute_cycles());
      }
      // Each objective's choice is at least as good as the other's by its own measure.
      INFO(c.name << ", " << to_string(d));
      const auto lat = map_gemm(g, array(c.rows, c.cols, d, c.a_cap, c.b_cap, c.c_cap,
                                         MapperObjective::latency));
      const auto en = map_gemm(g, array(c.rows, c.cols, d, c.a_cap, c.b_cap, c.c_cap,
                                        MapperObjective::energy));
      const auto edp = map_gemm(g, array(c.rows, c.cols, d, c.a_cap, c.b_cap, c.c_cap,
                                         MapperObjective::edp));
      REQUIRE((lat && en && edp));
      // Each objective's choice is within the mapper's tolerance of the best by its own measure
      // (ties within it go to fewer tiles).
      const double tol = 1 + kMapperTolerance;
      CHECK(lat->cost.latency <= en->cost.latency * tol);
      CHECK(en->cost.energy <= lat->cost.energy * tol);
      CHECK(edp->cost.latency * edp->cost.energy <= lat->cost.latency * lat->cost.energy * tol);
      CHECK(edp->cost.latency * edp->cost.energy <= en->cost.latency * en->cost.energy * tol);
    }
  }
}

TEST_CASE("gemm_plan of a mapping whose partial sums leave the buffer between K blocks",
          "[dataflows][mapper]") {
  // M=50, N=37, K=70 on 8x16, weight stationary, tiles (M 32, N 16, K 8): 2 x 3 x 9 blocks with
  // edge blocks of 18 rows, 5 columns and 6 taps. Order K, M, N (N innermost) with 1 KiB for A,
  // 512 B for B, 2 KiB for partial sums: a 32 x 16 block of 32-bit partial sums (2 KiB) fits
  // but three of them (over N) do not, so they go out and come back for every K block:
  // refetch 9. A (256 B tiles) stays over N and M (512 B), B (128 B tiles) over N (384 B) and
  // M: each fetched once.
  const GemmView g = *as_gemm(matmul(50, 37, 70));
  const GemmArray a = array(8, 16, Dataflow::ws, 1024, 512, 2048);
  GemmMapping m;
  m.order = {2, 0, 1, 3, 4, 5};
  m.tile = {32, 16, 8};
  m.count = {2, 3, 9};
  m.reuse = analyse_reuse(mnk_problem({1024, 512, 2048, 0}), m.order, {2, 3, 9, 0, 0, 0}, {32 * 8, 8 * 16, 32 * 16 * 4, 0});
  CHECK(m.reuse.total[0] == 256 * 2 * 9);
  CHECK(m.reuse.total[1] == 128 * 3 * 9);
  CHECK(m.reuse.total[2] == 2048 * 3 * 2 * 9);
  CHECK(m.reuse.region[2] == 0);
  m.refetch = {1, 1, 9};
  const TilePlan plan = gemm_plan(g, a, m, false, false);
  CHECK(plan.tile_count() == 2 * 3 * 9);
  CHECK(plan.port_bytes(port::input) == 50 * 70);
  CHECK(plan.port_bytes(port::weight) == 70 * 37);
  CHECK(plan.port_bytes(port::output) == 50 * 37);
  CHECK(plan.port_bytes(port::psum_in) == 8 * 50 * 37 * 4);
  CHECK(plan.port_bytes(port::psum_out) == 8 * 50 * 37 * 4);
  CHECK(plan.write_bytes() == 50 * 37 + 8 * 50 * 37 * 4);
  // Every block is one fold (8 taps on 8 rows, at most 16 columns) streaming its M rows for at
  // least 8 cycles: 9 x 3 x (32 + 18) = 1350, plus the first load (8) and the drain (8 + 16 - 2).
  CHECK(plan.compute_cycles() == 9 * 3 * (32 + 18) + 8 + 22);
}

TEST_CASE("map_gemm finds nothing when not even one fold's tiles fit", "[dataflows][mapper]") {
  const GemmView g = *as_gemm(matmul(64, 64, 64));
  // ws on 4x4: the smallest A tile is 4 x 4 = 16 bytes.
  CHECK_FALSE(map_gemm(g, array(4, 4, Dataflow::ws, 15, 1 << 20, 1 << 20)));
  CHECK(map_gemm(g, array(4, 4, Dataflow::ws, 16, 1 << 20, 1 << 20)));
  // ... and the smallest block of partial sums 4 x 4 x 4 bytes = 64.
  CHECK_FALSE(map_gemm(g, array(4, 4, Dataflow::ws, 1 << 20, 1 << 20, 63)));
}
