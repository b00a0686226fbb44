// Addresses that follow the dataflow (arch/dram/pattern.hpp): tile footprints of a row-major
// tensor, their accesses, closed-form counts on strided patterns, and the rates the analytical
// fidelity takes from synthetic streams of a plan's pattern.
#include <catch2/catch.hpp>

#include "arch/dram/pattern.hpp"

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
