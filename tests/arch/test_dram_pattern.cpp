// Addresses that follow the dataflow (arch/dram/pattern.hpp): tile footprints of a row-major
// tensor, their accesses, closed-form counts on strided patterns, and the rates the analytical
// fidelity takes from synthetic streams of a plan's pattern.
#include <catch2/catch.hpp>

#include "arch/dram/pattern.hpp"

#include <set>

#include "dataflows/layouts.hpp"

namespace dram = tessera::arch::dram;
namespace df = tessera::dataflows;
using dram::u64;

namespace {

dram::Spec with(const std::string& preset, const std::string& mapping) {
  dram::Spec s = dram::preset(preset);
  s.mapping = mapping;
  s.validate("test");
  return s;
}

df::Layout strided(u64 run, u64 pitch, u64 extent = 0) {
  df::Layout l;
  l.run = run, l.pitch = pitch, l.extent = extent;
  return l;
}

// Runs `runs` runs of `run` bytes, `pitch` apart (one tile of as many rows), on a fresh channel.
dram::Result strided_runs(const dram::Spec& s, u64 run, u64 pitch, u64 runs) {
  std::vector<dram::Request> r;
  dram::append_requests(s, {dram::region(s, 1).base, runs * run, run, pitch}, false, 0, r);
  return dram::simulate(s, r);
}

}  // namespace

TEST_CASE("dram walk: tiles of a row-major matrix are strided runs, across then down, wrapping",
          "[dram][pattern]") {
  const dram::Region region{1 << 20, 1 << 20};
  // A 16 x 1024-byte matrix read in tiles of 4 rows x 256 bytes.
  dram::Walk w(strided(256, 1024, 16 * 1024), region);
  const u64 base = region.base;
  // Across the first band of 4 rows...
  for (u64 i = 0; i < 4; ++i) CHECK(w.next(1024) == dram::Footprint{base + 256 * i, 1024, 256, 1024});
  // ...then the next band, 4 rows down.
  CHECK(w.next(1024) == dram::Footprint{base + 4 * 1024, 1024, 256, 1024});
  for (int i = 0; i < 3 + 8; ++i) w.next(1024);
  // 16 tiles cover the matrix: the 17th reads it again from its start.
  CHECK(w.next(1024) == dram::Footprint{base, 1024, 256, 1024});

  // Contiguous: transfer after transfer, wrapping at the extent.
  dram::Walk c(df::Layout{}, region);
  CHECK(c.next(100).address == base);
  CHECK(c.next(100).address == base + 100);
  dram::Walk e(strided(0, 0, 250), region);
  e.next(100), e.next(100);
  CHECK(e.next(100).address == base);  // 300 > 250: the tensor again
}

TEST_CASE("dram walk: one request per access a footprint touches", "[dram][pattern]") {
  const dram::Spec s = dram::preset("ddr4_3200");  // 64-byte accesses
  std::vector<dram::Request> r;
  dram::append_requests(s, {0, 4 * 64, 64, 8192}, true, 7, r);
  REQUIRE(r.size() == 4);
  for (u64 i = 0; i < 4; ++i) {
    CHECK(r[i].address == i * 8192);
    CHECK(r[i].write);
    CHECK(r[i].arrival == 7);
  }
  r.clear();
  // Runs of 16 bytes every 32: four runs share each access.
  dram::append_requests(s, {0, 16 * 16, 16, 32}, false, 0, r);
  CHECK(r.size() == 8);
  r.clear();
  // A run across an access boundary touches both.
  dram::append_requests(s, {32, 64, 64, 1 << 20}, false, 0, r);
  CHECK(r.size() == 2);
}

namespace {

// An 8-bit 3 x 3 convolution of `c` channels on an h x w image, stride `stride`, no padding.
tessera::workloads::Operator conv(long h, long w, long c, long stride) {
  tessera::workloads::Operator op;
  op.name = "conv";
  op.shape = tessera::workloads::Conv{.n = 1, .c = c, .h = h, .w = w, .k = 16, .r = 3, .s = 3,
                                      .stride_h = stride, .stride_w = stride};
  return op;
}

// Every access of `transfers` transfers of `bytes` on a walk of `layout`.
std::vector<dram::Request> walk_all(const dram::Spec& s, const df::Layout& layout, u64 bytes, u64 transfers) {
  dram::Walk w(layout, dram::region(s, 1));
  std::vector<dram::Request> r;
  for (u64 i = 0; i < transfers; ++i) dram::append_requests(s, w.next(bytes), false, 0, r);
  return r;
}

}  // namespace

TEST_CASE("dram walk: a convolution's receptive fields in NHWC, halos read again, inside the tensor",
          "[dram][pattern]") {
  const dram::Spec s = dram::preset("ddr4_3200");  // 64-byte accesses: one per 64-channel pixel
  const u64 base = dram::region(s, 1).base;
  for (const long stride : {1L, 2L}) {
    INFO("stride " << stride);
    const auto op = conv(9, 9, 64, stride);
    const auto g = *df::as_gemm(op);
    const long p = (9 - 3) / stride + 1;  // output rows and columns
    const df::Layout l = df::window_layout(op, g, 8, g.k);
    CHECK(l.pitch == 9 * 64);
    CHECK(l.window == 3 * 64);
    CHECK(l.line == 9 * 64);
    CHECK(l.step == static_cast<u64>(stride) * 64);
    CHECK(l.across == static_cast<u64>(p));
    CHECK(l.down == static_cast<u64>(stride) * 9 * 64);
    CHECK(l.windows == static_cast<u64>(p * p));
    CHECK(l.reread() == Approx(9.0 / static_cast<double>(stride * stride)));
    // Whole fields, three output pixels per transfer, over the layer twice.
    const u64 fields = static_cast<u64>(p * p);
    const auto r = walk_all(s, l, 3 * l.pitch, 2 * ((fields + 2) / 3));
    // The walk moves the port's bytes: 9 accesses per field, one per pixel it covers.
    CHECK(r.size() == 2 * ((fields + 2) / 3) * 3 * 9);
    // The first field: three pixels of each of three image rows.
    const std::vector<u64> first = {0, 64, 128, 576, 640, 704, 1152, 1216, 1280};
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(r[i].address == base + first[i]);
    // Field (1, 1) starts `stride` rows and columns on.
    CHECK(r[9 * static_cast<std::size_t>(p + 1)].address == base + static_cast<u64>(stride) * (9 + 1) * 64);
    // Every address inside the tensor; every pixel read (stride 1 and 2 with a 3 x 3 filter
    // cover a 9 x 9 image), each about reread() times.
    std::set<u64> distinct;
    for (const auto& q : r) {
      CHECK(q.address >= base);
      CHECK(q.address < base + 9 * 9 * 64);
      distinct.insert(q.address);
    }
    CHECK(distinct.size() == 81);
  }
  // A tile of a field's K words narrower than the field: runs of 32 bytes from each field, its
  // columns in turn, then the next fields; a run cut where a field's line ends.
  const auto op = conv(9, 9, 64, 1);
  const df::Layout l = df::window_layout(op, *df::as_gemm(op), 8, 32);
  REQUIRE(l.run == 32);
  dram::Walk w(l, {0, 1 << 20});
  const dram::Footprint f = w.next(2 * 32);  // fields 0 and 1, bytes [0, 32) of each
  CHECK(f.row == 0);
  CHECK(f.column == 0);
  CHECK(w.next(64).column == 32);
  std::vector<dram::Request> r;
  dram::append_requests(s, f, false, 0, r);
  REQUIRE(r.size() == 2);
  CHECK(r[0].address == 0);
  CHECK(r[1].address == 64);  // field 1 starts a pixel on
  for (int i = 0; i < 4; ++i) w.next(64);  // columns 64 ... 191
  dram::Footprint g = w.next(64);          // column 192: the field's second line
  CHECK(g.column == 192);
  r.clear();
  dram::append_requests(s, g, false, 0, r);
  CHECK(r.front().address == 9 * 64);
}

TEST_CASE("dram walk: receptive fields read their halos again from open rows", "[dram][pattern]") {
  // A 56 x 56 x 256 input (ResNet-50's conv2 stage) read as 3 x 3 fields, 16 a transfer, against
  // the same transfers read in order. The fields read each byte about 9 times: the same accesses
  // open the rows of about a ninth of the bytes, and their re-reads hit; their three lines lie
  // 14 KiB apart, which DDR4's default mapping puts in other banks, so they do not conflict.
  const auto op = conv(56, 56, 256, 1);
  const auto g = *df::as_gemm(op);
  const df::Layout l = df::window_layout(op, g, 8, g.k);
  const u64 transfer = 16 * l.pitch, transfers = 64;
  const dram::Spec s = dram::preset("ddr4_3200");
  const auto windows = dram::simulate(s, walk_all(s, l, transfer, transfers));
  const auto in_order = dram::simulate(s, walk_all(s, df::Layout{}, transfer, transfers));
  CHECK(windows.stats.reads == in_order.stats.reads);
  CHECK(windows.stats.activates * 2 < in_order.stats.activates);
  CHECK(windows.stats.row_hit_rate() >= in_order.stats.row_hit_rate());
}

TEST_CASE("dram strided: runs shorter than a row, a row apart, cost one activate per run",
          "[dram][pattern]") {
  // Row-major inside a bank: a DRAM row of a bank is 8 KiB of consecutive addresses. No refresh,
  // so that the counts and times are exact.
  dram::Spec s = with("ddr4_3200", "RoRaBgBaCo");
  s.timing.refi = 0;
  const u64 row = s.org.columns * s.org.data_bits / 8;
  REQUIRE(row == 8192);
  const u64 access = s.org.access_bytes();
  for (const u64 run : {u64{64}, u64{512}, u64{2048}}) {
    INFO("run " << run);
    const u64 runs = 256, per_run = run / access;
    // Pitch of one row: run i in bank i mod 16, each on a row not open yet.
    const auto a = strided_runs(s, run, row, runs);
    CHECK(a.stats.activates == runs);
    CHECK(a.stats.row_hits == runs * (per_run - 1));
    CHECK(a.stats.reads == runs * per_run);
    // Pitch of a row in every bank: every run in the same bank on a new row. From one ACT to the
    // next: tRC, or the run's reads (tRCD, then tCCD_L apart: one bank group), tRTP and tRP.
    const u64 stripe = row * s.org.banks();
    const auto b = strided_runs(s, run, stripe, runs);
    CHECK(b.stats.activates == runs);
    CHECK(b.stats.row_conflicts == runs - 1);
    const auto& t = s.timing;
    const u64 period = std::max(t.rc, t.rcd + (per_run - 1) * t.ccd_l + t.rtp + t.rp);
    CHECK(b.stats.cycles == (runs - 1) * period + t.rcd + (per_run - 1) * t.ccd_l + t.cl + t.burst_cycles);
    // Spreading the runs over the banks is faster.
    CHECK(a.stats.cycles < b.stats.cycles);
  }
}

TEST_CASE("dram pattern of a plan: ports per channel, classes, transfer frequency", "[dram][pattern]") {
  df::TilePlan plan;
  const std::size_t in = plan.port("input"), wt = plan.port("weight"),
                    out = plan.port("output", df::Direction::write);
  plan.ports[wt].channel = 1;
  plan.ports[in].layout = strided(128, 1024);
  df::Tile t;
  t.compute_cycles = 10;
  t.bytes[in] = 4096, t.bytes[wt] = 100, t.bytes[out] = 512;
  t.count = 3;
  plan.append(t);
  t.bytes[out] = 0, t.count = 1;
  plan.append(t);
  const dram::Pattern p0 = dram::plan_pattern(plan, 0);
  REQUIRE(p0.ports.size() == 2);
  CHECK(dram::pattern_class(p0) == "interleaved");
  CHECK(p0.ports[0].transfer == 4096);
  CHECK(p0.ports[0].per_1024 == 1024);
  CHECK(p0.ports[0].layout == plan.ports[in].layout);
  CHECK(p0.ports[1].write);
  CHECK(p0.ports[1].per_1024 == 768);  // 3 transfers of 4
  const dram::Pattern p1 = dram::plan_pattern(plan, 1);
  REQUIRE(p1.ports.size() == 1);
  CHECK(dram::pattern_class(p1) == "streaming");
  CHECK(dram::pattern_class(dram::plan_pattern(plan, 2)) == "idle");
  dram::Pattern s;
  s.ports.push_back({false, 4096, 1024, strided(128, 1024)});
  CHECK(dram::pattern_class(s) == "strided");
}

TEST_CASE("dram pattern rates: streaming is the sequential stream; strided and interleaved cost",
          "[dram][pattern]") {
  for (const std::string preset : {"ddr4_3200", "hbm2_2000", "lpddr4x_4266"}) {
    INFO(preset);
    const dram::Spec& s = dram::preset(preset);
    const double peak = s.peak_bytes_per_cycle();
    dram::Pattern stream;
    stream.ports.push_back({false, 1 << 16, 1024, df::Layout{}});
    const double streaming = dram::pattern_run(s, stream).bytes_per_cycle();
    CHECK(streaming == dram::sequential_stream_stats(s).bytes_per_cycle());
    CHECK(&dram::pattern_run(s, stream) == &dram::pattern_run(s, stream));  // remembered
    // One access per run, runs a whole bank stripe apart: a new row each time.
    const u64 row = s.org.columns * s.org.data_bits / 8;
    dram::Pattern far;
    far.ports.push_back({false, 64 * s.org.access_bytes(), 1024,
                         strided(s.org.access_bytes(), row * s.org.banks() * 4)});
    const auto& f = dram::pattern_run(s, far);
    CHECK(f.bytes_per_cycle() < 0.5 * streaming);
    CHECK(f.stats.row_hit_rate() < 0.05);
    // Two read streams alternating small transfers meet in the same banks on other rows.
    dram::Pattern two;
    two.ports.push_back({false, 2 * s.org.access_bytes(), 1024, df::Layout{}});
    two.ports.push_back({false, 2 * s.org.access_bytes(), 1024, df::Layout{}});
    const auto& t = dram::pattern_run(s, two);
    CHECK(t.bytes_per_cycle() < streaming);
    CHECK(t.stats.row_conflicts > 0);
    for (const auto* r : {&f, &t}) CHECK(r->bytes_per_cycle() <= peak);
  }
}
