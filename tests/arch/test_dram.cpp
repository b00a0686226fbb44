// The command-level DRAM controller (arch/dram/): closed-form checks on synthetic patterns, and
// every command log checked against the timing rules by a checker written apart from the model.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "arch/dram/controller.hpp"

namespace dram = tessera::arch::dram;
using dram::CommandKind;
using dram::u64;
using Catch::Matchers::Contains;

namespace {

dram::Spec with(const std::string& preset, const std::string& mapping) {
  dram::Spec s = dram::preset(preset);
  s.mapping = mapping;
  s.validate("test");
  return s;
}

// Replays a command log and returns the first rule it breaks ("" when none). Rules from the
// JEDEC timing tables, each stated on its own here.
std::string check_log(const dram::Spec& s, const std::vector<dram::Command>& log) {
  const auto& t = s.timing;
  const auto& o = s.org;
  constexpr u64 none = ~u64{0};
  struct BankLog {
    bool open = false;
    u64 row = 0, act = none, pre = none, rd = none, wr = none, ref = none, ref_pb = none;
  };
  std::map<std::tuple<unsigned, unsigned, unsigned>, BankLog> banks;
  std::map<unsigned, std::vector<u64>> rank_acts;                       // per rank
  std::map<std::pair<unsigned, unsigned>, u64> group_act, group_rd, group_wr;
  std::map<unsigned, u64> rank_rd, rank_wr, rank_ref, rank_ref_pb;  // rank_ref_pb: its last REFpb
  u64 last_time = none, last_column = none;
  unsigned last_rank = 0;
  const auto after = [&](u64 earlier, u64 later, u64 gap) {
    return earlier == none || later >= earlier + gap;
  };
  for (const auto& c : log) {
    const std::string at = " at " + std::to_string(c.time);
    if (last_time != none && c.time <= last_time) return "two commands in one cycle or out of order" + at;
    last_time = c.time;
    const bool per_bank = s.refresh == dram::Refresh::per_bank;
    if (c.kind == CommandKind::ref && per_bank) return "all-bank REF under per-bank refresh" + at;
    if (c.kind == CommandKind::ref_pb) {
      if (!per_bank) return "REFpb under all-bank refresh" + at;
      auto& bl = banks[{c.rank, c.bank_group, c.bank}];
      if (bl.open) return "REFpb to an open bank" + at;
      if (!after(bl.pre, c.time, t.rp)) return "tRP before REFpb" + at;
      if (!after(bl.act, c.time, t.rc)) return "tRC before REFpb" + at;
      if (!after(bl.ref_pb, c.time, t.rfc_pb)) return "tRFCpb before the bank's next REFpb" + at;
      const auto& acts = rank_acts[c.rank];
      if (!acts.empty() && !after(acts.back(), c.time, t.rrd_s)) return "tRRD from ACT to REFpb" + at;
      if (rank_ref_pb.count(c.rank) && !after(rank_ref_pb[c.rank], c.time, t.pbr2pbr)) return "tpbR2pbR" + at;
      bl.ref_pb = c.time;
      rank_ref_pb[c.rank] = c.time;
      continue;
    }
    if (c.kind == CommandKind::ref) {
      for (unsigned g = 0; g < o.bank_groups; ++g)
        for (unsigned b = 0; b < o.banks_per_group; ++b) {
          auto& bl = banks[{c.rank, g, b}];
          if (bl.open) return "refresh with a bank open" + at;
          if (!after(bl.pre, c.time, t.rp)) return "tRP before REF" + at;
          if (!after(bl.act, c.time, t.rc)) return "tRC before REF" + at;
          bl.ref = c.time;
        }
      rank_ref[c.rank] = c.time;
      continue;
    }
    auto& b = banks[{c.rank, c.bank_group, c.bank}];
    const std::pair<unsigned, unsigned> g{c.rank, c.bank_group};
    switch (c.kind) {
      case CommandKind::act: {
        if (b.open) return "ACT to an open bank" + at;
        if (!after(b.act, c.time, t.rc)) return "tRC" + at;
        if (!after(b.pre, c.time, t.rp)) return "tRP" + at;
        if (!after(b.ref, c.time, t.rfc)) return "tRFC" + at;
        if (!after(b.ref_pb, c.time, t.rfc_pb)) return "ACT to a bank within tRFCpb of its REFpb" + at;
        if (rank_ref_pb.count(c.rank) && !after(rank_ref_pb[c.rank], c.time, t.pbr2act))
          return "ACT within tpbR2act of a REFpb" + at;
        if (group_act.count(g) && !after(group_act[g], c.time, t.rrd_l)) return "tRRD_L" + at;
        auto& acts = rank_acts[c.rank];
        if (!acts.empty() && !after(acts.back(), c.time, t.rrd_s)) return "tRRD_S" + at;
        if (acts.size() >= 4 && c.time < acts[acts.size() - 4] + t.faw) return "tFAW" + at;
        acts.push_back(c.time);
        group_act[g] = c.time;
        b.open = true, b.row = c.row, b.act = c.time;
        break;
      }
      case CommandKind::pre:
        if (!b.open) return "PRE of a closed bank" + at;
        if (!after(b.act, c.time, t.ras)) return "tRAS" + at;
        if (!after(b.rd, c.time, t.rtp)) return "tRTP" + at;
        if (!after(b.wr, c.time, t.cwl + t.burst_cycles + t.wr)) return "tWR" + at;
        b.open = false, b.pre = c.time;
        break;
      case CommandKind::rd:
      case CommandKind::wr: {
        const bool rd = c.kind == CommandKind::rd;
        if (!b.open || b.row != c.row) return "column command without its row open" + at;
        if (!after(b.act, c.time, rd ? t.rcd : t.rcd_wr)) return "tRCD" + at;
        if (!after(last_column, c.time, t.burst_cycles)) return "two bursts on the data bus" + at;
        if (last_column != none && c.rank != last_rank && c.time < last_column + t.burst_cycles + 2)
          return "tRTRS (2 cycles between bursts of two ranks)" + at;
        auto& same_rank = rd ? rank_rd : rank_wr;
        auto& same_group = rd ? group_rd : group_wr;
        if (same_rank.count(c.rank) && !after(same_rank[c.rank], c.time, t.ccd_s)) return "tCCD_S" + at;
        if (same_group.count(g) && !after(same_group[g], c.time, t.ccd_l)) return "tCCD_L" + at;
        if (rd) {
          if (rank_wr.count(c.rank) && !after(rank_wr[c.rank], c.time, t.cwl + t.burst_cycles + t.wtr_s))
            return "tWTR_S" + at;
          if (group_wr.count(g) && !after(group_wr[g], c.time, t.cwl + t.burst_cycles + t.wtr_l))
            return "tWTR_L" + at;
          b.rd = c.time;
        } else {
          if (rank_rd.count(c.rank) && c.time + t.cwl < rank_rd[c.rank] + t.cl + t.burst_cycles + 2)
            return "read to write turnaround" + at;
          b.wr = c.time;
        }
        same_rank[c.rank] = c.time;
        same_group[g] = c.time;
        last_column = c.time;
        last_rank = c.rank;
        if (s.page == dram::PagePolicy::closed) {  // RDA / WRA: the bank precharges itself
          b.open = false;
          b.pre = std::max(b.act + t.ras, rd ? c.time + t.rtp : c.time + t.cwl + t.burst_cycles + t.wr);
        }
        break;
      }
      case CommandKind::ref:
      case CommandKind::ref_pb: break;
    }
  }
  return "";
}

std::vector<dram::Request> random_requests(const dram::Spec& s, std::mt19937_64& rng, std::size_t n,
                                           u64 footprint, double write_share, u64 gap) {
  std::uniform_int_distribution<u64> addr(0, footprint / s.org.access_bytes() - 1);
  std::uniform_int_distribution<u64> wait(0, gap);
  std::bernoulli_distribution write(write_share);
  std::vector<dram::Request> out;
  u64 t = 0;
  for (std::size_t i = 0; i < n; ++i) {
    t += wait(rng);
    out.push_back({addr(rng) * s.org.access_bytes(), write(rng), t});
  }
  return out;
}

}  // namespace

TEST_CASE("a sequential stream over interleaved bank groups runs near peak and below peak less refresh",
          "[dram]") {
  for (const auto& p : dram::presets()) {
    INFO(p.name);
    // Bank groups and banks below the column: consecutive accesses change bank group.
    const auto s = with(p.name, "RoRaCoBaBg");
    const auto r = dram::simulate(s, dram::stream(s, 0, u64{64} << 20, false));
    const double peak = s.peak_bytes_per_cycle();
    const double achieved = r.stats.bytes_per_cycle();
    const double refresh_share = static_cast<double>(s.timing.rfc) / static_cast<double>(s.timing.refi);
    // 90 % of peak, or where all-bank refresh alone costs more than 7 % (HBM2 with 8 Gb dies:
    // tRFC 350 ns of tREFI 3.9 us), at most 3 % of peak lost beyond the refresh itself (closing
    // the banks before it, opening them again after, under tFAW).
    CHECK(achieved >= std::min(0.9, 1 - refresh_share - 0.03) * peak);
    CHECK(achieved <= peak * (1 - refresh_share));
    CHECK(r.stats.row_hit_rate() > 0.9);
    CHECK(r.stats.refreshes >= r.stats.cycles / s.timing.refi);
  }
}

TEST_CASE("DDR4 streaming inside one bank group is held to one burst per tCCD_L", "[dram]") {
  const auto s = with("ddr4_3200", "RoRaBgBaCo");  // consecutive accesses: one row of one bank
  const auto r = dram::simulate(s, dram::stream(s, 0, u64{8} << 20, false));
  const double expected = static_cast<double>(s.org.access_bytes()) / static_cast<double>(s.timing.ccd_l);
  // Where the stream crosses into the next bank group the queue briefly holds both groups.
  CHECK(r.stats.bytes_per_cycle() <= 1.02 * expected);
  CHECK(r.stats.bytes_per_cycle() >= 0.9 * expected);
}

TEST_CASE("reads alternating between two rows of one bank run at one access per tRC", "[dram]") {
  for (const auto& p : dram::presets()) {
    INFO(p.name);
    auto s = with(p.name, "RoRaBgBaCo");
    s.scheduling = dram::Scheduling::fcfs;  // in order: each read closes the other's row
    s.timing.refi = 0;                      // no refresh, so the period is exact
    const u64 row_bytes = s.org.columns * s.org.data_bits / 8 * s.org.banks() * s.org.ranks;
    std::vector<dram::Request> reqs;
    const std::size_t n = 200;
    for (std::size_t i = 0; i < n; ++i) reqs.push_back({(i % 2) * row_bytes, false, 0});
    const auto r = dram::simulate(s, reqs, true);
    CHECK(r.stats.activates == n);
    CHECK(r.stats.row_conflicts == n - 1);
    CHECK((r.done[n - 1] - r.done[1]) == (n - 2) * s.timing.rc);
    CHECK(check_log(s, r.commands).empty());
    // FR-FCFS serves the queued hits of an open row first: far fewer activates.
    s.scheduling = dram::Scheduling::frfcfs;
    const auto fr = dram::simulate(s, reqs);
    CHECK(fr.stats.activates < n / 4);
    CHECK(fr.stats.cycles < r.stats.cycles / 4);
  }
}

TEST_CASE("random traffic obeys every timing rule, never passes peak bandwidth, refreshes every tREFI",
          "[dram]") {
  std::mt19937_64 rng(7);
  for (const auto& p : dram::presets()) {
    for (const std::string mapping : {"RoRaBgBaCo", "RoCoRaBaBg"}) {
      for (const auto policy : {dram::PagePolicy::open, dram::PagePolicy::closed}) {
        auto s = with(p.name, mapping);
        s.page = policy;
        INFO(p.name << " " << mapping << (policy == dram::PagePolicy::open ? " open" : " closed"));
        const auto reqs = random_requests(s, rng, 20000, u64{1} << 28, 0.3, 3);
        const auto r = dram::simulate(s, reqs, true);
        const std::string broken = check_log(s, r.commands);
        CHECK(broken.empty());
        if (!broken.empty()) FAIL(broken);
        CHECK(r.stats.reads + r.stats.writes == reqs.size());
        CHECK(r.stats.row_hits + r.stats.row_misses + r.stats.row_conflicts == reqs.size());
        CHECK(r.stats.bytes_per_cycle() <= s.peak_bytes_per_cycle());
        for (std::size_t i = 0; i < reqs.size(); ++i) CHECK(r.done[i] > reqs[i].arrival);
        // Refresh k (from 1) issues once the k-th interval has passed and its rank's banks
        // could close: at most a row cycle plus a write's recovery later.
        std::vector<u64> refs;
        for (const auto& c : r.commands)
          if (c.kind == CommandKind::ref) refs.push_back(c.time);
        REQUIRE(!refs.empty());
        const u64 slack = s.timing.rc + s.timing.cwl + s.timing.burst_cycles + s.timing.wr + s.timing.rp +
                          s.org.banks() * 2;
        for (std::size_t k = 0; k < refs.size(); ++k) {
          CHECK(refs[k] >= (k + 1) * s.timing.refi);
          CHECK(refs[k] <= (k + 1) * s.timing.refi + slack);
        }
        CHECK(refs.size() + 1 >= r.commands.back().time / s.timing.refi);
      }
    }
  }
}

TEST_CASE("activates never exceed four per tFAW when every access opens a row", "[dram]") {
  auto s = with("ddr4_3200", "RoCoRaBgBa");
  s.page = dram::PagePolicy::closed;
  s.timing.refi = 0;
  // 16 banks, a new row each time: the activate rate is what limits.
  std::vector<dram::Request> reqs;
  const u64 row_bytes = s.org.columns * s.org.data_bits / 8 * s.org.banks();
  for (u64 i = 0; i < 4000; ++i) reqs.push_back({i * s.org.access_bytes() + (i / 16) * row_bytes, false, 0});
  const auto r = dram::simulate(s, reqs, true);
  CHECK(check_log(s, r.commands).empty());
  std::vector<u64> acts;
  for (const auto& c : r.commands)
    if (c.kind == CommandKind::act) acts.push_back(c.time);
  REQUIRE(acts.size() == reqs.size());
  for (std::size_t i = 4; i < acts.size(); ++i) CHECK(acts[i] >= acts[i - 4] + s.timing.faw);
  // tFAW (34) over 4 activates binds before tRRD (4 to 8): close to 4 accesses per tFAW.
  const double per_cycle = static_cast<double>(acts.size()) / static_cast<double>(acts.back() - acts.front());
  CHECK(per_cycle <= 4.0 / static_cast<double>(s.timing.faw) + 1e-9);
  CHECK(per_cycle >= 0.9 * 4.0 / static_cast<double>(s.timing.faw));
}

TEST_CASE("address mapping and spec checks", "[dram][config]") {
  const auto s = with("ddr4_3200", "RoRaBgBaCo");
  const u64 a = s.org.access_bytes();
  CHECK(dram::decode(s, 0).column == 0);
  CHECK(dram::decode(s, a).column == 1);
  const u64 row_span = s.org.columns / s.org.burst_length * a;  // one row of one bank
  CHECK(dram::decode(s, row_span).bank == 1);
  CHECK(dram::decode(s, row_span * s.org.banks_per_group).bank_group == 1);
  CHECK(dram::decode(s, row_span * s.org.banks()).row == 1);
  const auto bg = with("ddr4_3200", "RoRaCoBaBg");
  CHECK(dram::decode(bg, a).bank_group == 1);
  CHECK(dram::decode(bg, a * s.org.bank_groups).bank == 1);

  auto bad = dram::preset("ddr4_3200");
  bad.mapping = "RoRaBgBaXx";
  CHECK_THROWS_WITH(bad.validate("arch.json: /dram"), Contains("arch.json: /dram: mapping: unknown field 'Xx'"));
  bad.mapping = "RoRoBgBaCo";
  CHECK_THROWS_WITH(bad.validate("x"), Contains("twice"));
  bad = dram::preset("ddr4_3200");
  bad.timing.rc = 10;
  CHECK_THROWS_WITH(bad.validate("x"), Contains("rc: must be at least ras + rp"));
  bad = dram::preset("ddr4_3200");
  bad.org.banks_per_group = 3;
  CHECK_THROWS_WITH(bad.validate("x"), Contains("banks_per_group: must be a power of two"));
  CHECK_THROWS_WITH(dram::preset("ddr9"), Contains("ddr4_3200") && Contains("hbm2_2000"));
  // Presets' peaks: DDR4-3200 x64 25.6 GB/s, HBM2 pseudo-channel 16 GB/s, LPDDR5-6400 x16 12.8 GB/s.
  const auto gbs = [](const std::string& n) {
    const auto& p = dram::preset(n);
    return p.peak_bytes_per_cycle() / p.timing.tck_ns;
  };
  CHECK(gbs("ddr4_3200") == Approx(25.6));
  CHECK(gbs("hbm2_2000") == Approx(16.0));
  CHECK(gbs("lpddr5_6400") == Approx(12.8));
  CHECK(gbs("lpddr4x_4266") == Approx(8.532).epsilon(1e-3));
}

TEST_CASE("IDD-based command energies match hand-computed DRAMPower figures", "[dram][energy]") {
  // DDR4-3200, 8 devices, VDD 1.2 V and VPP 2.5 V, tCK 0.625 ns; tRAS 52, tRC 74, burst 4,
  // tRFC 560 cycles (350 ns). mA x ns x V = pJ.
  const auto d = dram::command_energy(dram::preset("ddr4_3200"));
  CHECK(d.act == Approx(8 * (1.2 * (57 - 56) * 52 * 0.625 + 2.5 * (3 - 3) * 52 * 0.625)));  // 312
  CHECK(d.act == Approx(312.0));
  CHECK(d.pre == Approx(8 * 1.2 * (57 - 37) * 22 * 0.625));                                  // 2640
  CHECK(d.rd == Approx(8 * 1.2 * (168 - 56) * 4 * 0.625));                                   // 2688
  CHECK(d.wr == Approx(8 * 1.2 * (155 - 56) * 4 * 0.625));                                   // 2376
  CHECK(d.ref == Approx(8 * (1.2 * (66 - 56) + 2.5 * (5 - 3)) * 350.0));                     // 47600
  // LPDDR4X-4266, one die, VDD1 1.8 V and VDD2 1.1 V, tCK 1/2.133 ns: tRAS 90, tRC 129 (tRAS +
  // tRP 39), burst 8, tRFC 598 cycles.
  const dram::Spec& l = dram::preset("lpddr4x_4266");
  REQUIRE(l.timing.ras == 90);
  REQUIRE(l.timing.rc == 129);
  REQUIRE(l.timing.rfc == 598);
  const double tck = 1 / 2.133;
  const auto e = dram::command_energy(l);
  CHECK(e.act == Approx((1.8 * (3.5 - 2.25) + 1.1 * (45 - 30)) * 90 * tck));
  CHECK(e.pre == Approx((1.8 * (3.5 - 2.0) + 1.1 * (45 - 27)) * 39 * tck));
  CHECK(e.rd == Approx((1.8 * 0 + 1.1 * (275 - 30)) * 8 * tck));
  CHECK(e.wr == Approx((1.8 * 0 + 1.1 * (210 - 30)) * 8 * tck));
  CHECK(e.ref == Approx((1.8 * (10 - 2.25) + 1.1 * (90 - 30)) * 598 * tck));
  // The order of magnitude of published DRAM read energies: 1 to 20 pJ per bit.
  CHECK(d.rd / 512 > 1.0);
  CHECK(d.rd / 512 < 20.0);
  // Presets without published currents give none.
  CHECK_FALSE(dram::power(dram::preset("hbm2_2000")).known());
  CHECK(dram::command_energy(dram::preset("hbm2_2000")).act == 0);
  // A channel's energy is the commands it counted, each at its energy.
  dram::Stats s;
  s.activates = 3, s.precharges = 2, s.reads = 100, s.writes = 7, s.refreshes = 1;
  const auto total = dram::energy(dram::preset("ddr4_3200"), s);
  CHECK(total.act == Approx(3 * d.act));
  CHECK(total.pre == Approx(2 * d.pre));
  CHECK(total.rd == Approx(100 * d.rd));
  CHECK(total.wr == Approx(7 * d.wr));
  CHECK(total.ref == Approx(d.ref));
}

TEST_CASE("controller statistics add up and difference between snapshots", "[dram]") {
  const dram::Spec& s = dram::preset("ddr4_3200");
  dram::Controller c(s);
  c.run(dram::stream(s, 0, 64 << 10, false));
  const dram::Stats first = c.stats();
  c.run(dram::stream(s, 1 << 20, 32 << 10, true, first.cycles));
  const dram::Stats d = c.stats().since(first);
  CHECK(d.reads == 0);
  CHECK(d.writes == (32 << 10) / 64);
  CHECK(d.bytes == 32 << 10);
  dram::Stats sum = first;
  sum += d;
  CHECK(sum.reads == c.stats().reads);
  CHECK(sum.writes == c.stats().writes);
  CHECK(sum.activates == c.stats().activates);
  CHECK(sum.row_hits + sum.row_misses + sum.row_conflicts == sum.reads + sum.writes);
}

TEST_CASE("a sequential stream activates each row it touches once; refresh every tREFI", "[dram]") {
  // DDR4, default mapping RoRaBaCoBg: a row of one bank holds 128 bursts (8 KiB); 16 banks.
  auto s = dram::preset("ddr4_3200");
  s.timing.refi = 0;  // no refresh: no row is closed but by another row
  const u64 bytes = u64{4} << 20;
  const auto r = dram::simulate(s, dram::stream(s, 0, bytes, false)).stats;
  const u64 rows = bytes / 8192, banks = s.org.banks();
  CHECK(r.activates == rows);
  CHECK(r.row_misses == banks);            // each bank's first row finds it closed
  CHECK(r.row_conflicts == rows - banks);  // its next rows find another row open
  CHECK(r.precharges == rows - banks);
  CHECK(r.row_hits == bytes / 64 - rows);
  CHECK(r.refreshes == 0);
  // Open page: the rank stays active from the first ACT (cycle 0) to the last command.
  CHECK(r.active_cycles <= r.cycles);
  CHECK(static_cast<double>(r.active_cycles) >= 0.95 * static_cast<double>(r.cycles));

  // With refresh: one per tREFI of the run, within one; each closes the open banks, whose rows
  // open again.
  const auto& p = dram::preset("ddr4_3200");
  const auto f = dram::simulate(p, dram::stream(p, 0, u64{16} << 20, false)).stats;
  const u64 refis = f.cycles / p.timing.refi;
  CHECK(f.refreshes + 1 >= refis);
  CHECK(f.refreshes <= refis + 1);
  CHECK(f.activates >= (u64{16} << 20) / 8192);
  CHECK(f.activates <= (u64{16} << 20) / 8192 + f.refreshes * banks);

  // Closed page, one read every 1000 cycles: each opens its row at arrival and closes it tRAS
  // later (the read's tRTP ends sooner), so the rank is active tRAS per access.
  auto c = s;
  c.page = dram::PagePolicy::closed;
  std::vector<dram::Request> sparse;
  for (u64 i = 0; i < 100; ++i) sparse.push_back({i * 64, false, i * 1000});
  const auto k = dram::simulate(c, sparse).stats;
  CHECK(k.activates == 100);
  CHECK(k.precharges == 100);
  CHECK(k.row_misses == 100);
  CHECK(k.active_cycles == 100 * c.timing.ras);
  // Open page, the same reads (bank 0 of each bank group, row 0): four activates, and the rank
  // stays active from the first (cycle 0) to the last read (cycle 99000).
  const auto o = dram::simulate(s, sparse).stats;
  CHECK(o.activates == 4);
  CHECK(o.active_cycles == 99 * 1000);
}

TEST_CASE("two ranks: bursts of different ranks are tRTRS apart on the data bus", "[dram]") {
  auto s = dram::preset("ddr4_3200");
  s.org.ranks = 2;
  s.mapping = "RoBaCoBgRa";  // consecutive bursts alternate ranks
  s.timing.refi = 0;
  s.scheduling = dram::Scheduling::fcfs;  // in order: every burst switches rank
  s.validate("test");
  const u64 bytes = u64{1} << 20, gap = s.timing.burst_cycles + dram::kRankSwitchCycles;
  const auto r = dram::simulate(s, dram::stream(s, 0, bytes, false), true);
  CHECK(check_log(s, r.commands).empty());
  std::vector<u64> columns;
  for (const auto& c : r.commands)
    if (c.kind == CommandKind::rd) columns.push_back(c.time);
  REQUIRE(columns.size() == bytes / 64);
  for (std::size_t i = 1; i < columns.size(); ++i) CHECK(columns[i] - columns[i - 1] >= gap);
  // One burst per burst_cycles + tRTRS, give or take the activates of new rows.
  const double per_burst = static_cast<double>(columns.back() - columns[64]) / static_cast<double>(columns.size() - 65);
  CHECK(per_burst >= static_cast<double>(gap));
  CHECK(per_burst <= 1.06 * static_cast<double>(gap));
  // FR-FCFS serves the queued bursts of one rank together: few switches, close to the peak.
  auto f = s;
  f.scheduling = dram::Scheduling::frfcfs;
  const auto q = dram::simulate(f, dram::stream(f, 0, bytes, false), true);
  CHECK(check_log(f, q.commands).empty());
  CHECK(q.stats.bytes_per_cycle() <= f.peak_bytes_per_cycle());
  CHECK(q.stats.bytes_per_cycle() > 1.3 * r.stats.bytes_per_cycle());
  // Random traffic over two ranks keeps every rule; both ranks refresh.
  std::mt19937_64 rng(11);
  for (const std::string mapping : {"RoRaBgBaCo", "RoCoBaBgRa"}) {
    auto t = dram::preset("ddr4_3200");
    t.org.ranks = 2;
    t.mapping = mapping;
    t.validate("test");
    const auto z = dram::simulate(t, random_requests(t, rng, 20000, u64{1} << 28, 0.3, 3), true);
    INFO(mapping);
    CHECK(check_log(t, z.commands).empty());
    CHECK(z.stats.refreshes + 2 >= 2 * (z.commands.back().time / t.timing.refi));
  }
}

TEST_CASE("standby energy from IDD3N while a bank is open and IDD2N otherwise", "[dram][energy]") {
  // DDR4-3200: 8 devices; VDD 1.2 V (IDD3N 56, IDD2N 37 mA), VPP 2.5 V (IPP3N = IPP2N 3 mA).
  // mA x ns x V = pJ.
  const auto& d = dram::preset("ddr4_3200");
  CHECK(dram::background_energy(d, 1000, 400) ==
        Approx(8 * (1.2 * (56 * 400 + 37 * 600) + 2.5 * (3 * 400 + 3 * 600))));
  CHECK(dram::background_energy(d, 1000, 0) == Approx(8 * (1.2 * 37 + 2.5 * 3) * 1000));  // 415 mW
  // Active time beyond the run's is the run's.
  CHECK(dram::background_energy(d, 1000, 5000) == Approx(dram::background_energy(d, 1000, 1000)));
  // Two ranks: twice the devices.
  auto two = d;
  two.org.ranks = 2;
  CHECK(dram::background_energy(two, 1000, 0) == Approx(2 * dram::background_energy(d, 1000, 0)));
  // LPDDR4X: VDD1 1.8 V (IDD3N 2.25, IDD2N 2.0), VDD2 1.1 V (30, 27 mA); one die.
  CHECK(dram::background_energy(dram::preset("lpddr4x_4266"), 100, 100) == Approx((1.8 * 2.25 + 1.1 * 30) * 100));
  CHECK(dram::background_energy(dram::preset("hbm2_2000"), 100, 100) == 0);
}

TEST_CASE("the per-bank FR-FCFS choice issues the same commands as a scan of the whole queue", "[dram]") {
  // The reference (simulate_by_scan) looks at every queued request in age order each step, as
  // the controller did before it kept candidates per bank; the timing rules both obey are
  // check_log's. Same commands at the same cycles and the same completion per request, over
  // presets, mappings, page policies, schedulers, ranks, queue depths and arrival patterns.
  std::mt19937_64 rng(23);
  for (const auto& p : dram::presets()) {
    for (const std::string mapping : {"RoRaBaCoBg", "RoRaBgBaCo", "RoCoBaBgRa"}) {
      for (const unsigned ranks : {1u, 2u}) {
        for (const auto policy : {dram::PagePolicy::open, dram::PagePolicy::closed}) {
          for (const auto scheduling : {dram::Scheduling::frfcfs, dram::Scheduling::fcfs}) {
            auto s = dram::preset(p.name);
            s.mapping = mapping;
            s.org.ranks = ranks;
            s.page = policy;
            s.scheduling = scheduling;
            s.queue_depth = ranks == 1 ? 32 : 7;
            s.validate("test");
            const u64 a = s.org.access_bytes();
            // Random with short gaps; random all at once; a read and a write stream interleaved.
            std::vector<std::vector<dram::Request>> patterns{
                random_requests(s, rng, 3000, u64{1} << 26, 0.3, 3), random_requests(s, rng, 3000, u64{1} << 30, 0.5, 0)};
            std::vector<dram::Request> two;
            for (u64 i = 0; i < 3000; ++i) two.push_back({(i % 2 ? u64{1} << 30 : 0) + (i / 2) * a, i % 2 == 1, i / 8});
            patterns.push_back(two);
            for (std::size_t k = 0; k < patterns.size(); ++k) {
              INFO(p.name << " " << mapping << " ranks " << ranks << " pattern " << k
                          << (policy == dram::PagePolicy::open ? " open" : " closed")
                          << (scheduling == dram::Scheduling::fcfs ? " fcfs" : " frfcfs"));
              const auto fast = dram::simulate(s, patterns[k], true);
              const auto ref = dram::simulate_by_scan(s, patterns[k]);
              REQUIRE(fast.commands.size() == ref.commands.size());
              std::size_t first_difference = fast.commands.size();
              for (std::size_t i = 0; i < fast.commands.size() && first_difference == fast.commands.size(); ++i) {
                const auto& f = fast.commands[i];
                const auto& r = ref.commands[i];
                if (f.time != r.time || f.kind != r.kind || f.rank != r.rank || f.bank_group != r.bank_group ||
                    f.bank != r.bank || f.row != r.row)
                  first_difference = i;
              }
              CHECK(first_difference == fast.commands.size());
              CHECK(fast.done == ref.done);
              CHECK(fast.stats == ref.stats);
              CHECK(check_log(s, fast.commands).empty());
            }
          }
        }
      }
    }
  }
}

TEST_CASE("per-bank refresh: one bank every tREFI / banks in turn, each once per tREFI; the others keep serving",
          "[dram]") {
  std::mt19937_64 rng(31);
  for (const auto& p : dram::presets()) {
    if (p.timing.rfc_pb == 0) continue;  // DDR4: test below
    for (const std::string mapping : {"RoRaBaCoBg", "RoCoRaBaBg"}) {
      auto s = with(p.name, mapping);
      s.refresh = dram::Refresh::per_bank;
      s.validate("test");
      INFO(p.name << " " << mapping);
      const auto reqs = random_requests(s, rng, 30000, u64{1} << 28, 0.3, 2);
      const auto r = dram::simulate(s, reqs, true);
      const std::string broken = check_log(s, r.commands);
      CHECK(broken.empty());
      if (!broken.empty()) FAIL(broken);
      CHECK(r.stats.refreshes == 0);
      CHECK(r.stats.reads + r.stats.writes == reqs.size());
      CHECK(r.stats.bytes_per_cycle() <= s.peak_bytes_per_cycle());
      // REFpb k (from 1) comes due at k tREFI / banks and issues once its bank could close:
      // within a row cycle, a write's recovery and a precharge; each round of `banks` REFpb
      // refreshes every bank once.
      const u64 interval = s.refi_pb(), banks = s.org.banks();
      const u64 slack = s.timing.rc + s.timing.cwl + s.timing.burst_cycles + s.timing.wr + s.timing.rp + s.timing.rrd_s + 4;
      std::vector<dram::Command> refs;
      for (const auto& c : r.commands)
        if (c.kind == CommandKind::ref_pb) refs.push_back(c);
      REQUIRE(refs.size() == r.stats.per_bank_refreshes);
      REQUIRE(refs.size() > 2 * banks);
      for (std::size_t k = 0; k < refs.size(); ++k) {
        CHECK(refs[k].time >= (k + 1) * interval);
        CHECK(refs[k].time <= (k + 1) * interval + slack);
      }
      for (std::size_t round = 0; round + banks <= refs.size(); round += banks) {
        std::set<unsigned> in_round;
        for (std::size_t k = round; k < round + banks; ++k)
          in_round.insert(refs[k].bank_group * s.org.banks_per_group + refs[k].bank);
        CHECK(in_round.size() == banks);
      }
      // Each bank once per tREFI: over the run, tREFIs of it give as many refreshes per bank
      // (within one).
      const double refis = static_cast<double>(r.commands.back().time) / static_cast<double>(s.timing.refi);
      std::map<unsigned, u64> per_bank;
      for (const auto& c : refs) ++per_bank[c.bank_group * s.org.banks_per_group + c.bank];
      CHECK(per_bank.size() == banks);
      for (const auto& [bank, n] : per_bank) {
        CHECK(static_cast<double>(n) >= refis - 1);
        CHECK(static_cast<double>(n) <= refis + 1);
      }
      // Only the refreshed bank waits: other banks take commands during its tRFCpb.
      u64 served_meanwhile = 0;
      for (const auto& ref : refs)
        for (const auto& c : r.commands)
          if (c.time > ref.time && c.time < ref.time + s.timing.rfc_pb &&
              (c.bank_group != ref.bank_group || c.bank != ref.bank))
            ++served_meanwhile;
      CHECK(served_meanwhile > refs.size());
      // The per-bank candidate choice still issues what the whole-queue scan does.
      const auto ref_scan = dram::simulate_by_scan(s, std::vector<dram::Request>(reqs.begin(), reqs.begin() + 5000));
      const auto fast = dram::simulate(s, std::vector<dram::Request>(reqs.begin(), reqs.begin() + 5000), true);
      CHECK(fast.done == ref_scan.done);
      CHECK(fast.stats == ref_scan.stats);
      CHECK(fast.commands.size() == ref_scan.commands.size());
    }
    // A long sequential stream loses less to per-bank refresh than to all-bank refresh (the
    // other banks serve while one refreshes), and stays within peak.
    for (const std::string mapping : {"RoRaBaCoBg", "RoRaCoBaBg"}) {
      auto all = with(p.name, mapping);
      auto pb = all;
      pb.refresh = dram::Refresh::per_bank;
      pb.validate("test");
      INFO(p.name << " " << mapping << " sequential");
      const auto a = dram::simulate(all, dram::stream(all, 0, u64{32} << 20, false));
      const auto b = dram::simulate(pb, dram::stream(pb, 0, u64{32} << 20, false), true);
      CHECK(check_log(pb, b.commands).empty());
      CHECK(b.stats.bytes_per_cycle() >= a.stats.bytes_per_cycle());
      CHECK(b.stats.bytes_per_cycle() <= pb.peak_bytes_per_cycle());
      CHECK(b.stats.per_bank_refreshes >= b.stats.cycles / pb.refi_pb() - 1);
    }
  }
  // DDR4 has no per-bank refresh: refused, naming the setting.
  auto d = dram::preset("ddr4_3200");
  d.refresh = dram::Refresh::per_bank;
  CHECK_THROWS_WITH(d.validate("test"), Contains("refresh: per_bank: preset ddr4_3200 has no per-bank refresh"));
}

TEST_CASE("per-bank refresh energy from IDD5PB as DRAMPower computes it", "[dram][energy]") {
  // LPDDR4X preset: IDD5PB 2.5 mA (VDD1 1.8 V), 30 mA (VDD2 1.1 V); IDD2N 2.0 / 27, IDD3N
  // 2.25 / 30 mA. tCK 1 / 2.133 ns; tREFI 3904 ns = 8328 tCK, tREFIpb = 8328 / 8 = 1041 tCK;
  // tRFCpb 140 ns = 299 tCK. Per REFpb: IDD5PB x tREFIpb - IDD2N x (tREFIpb - tRFCpb) - IDD3N x tRFCpb.
  const auto& s = dram::preset("lpddr4x_4266");
  REQUIRE(s.refi_pb() == 1041);
  REQUIRE(s.timing.rfc_pb == 299);
  const double tck = 1.0 / 2.133, refi_pb = 1041 * tck, rfc_pb = 299 * tck;
  const double expected = 1.8 * (2.5 * refi_pb - 2.0 * (refi_pb - rfc_pb) - 2.25 * rfc_pb) +
                          1.1 * (30 * refi_pb - 27 * (refi_pb - rfc_pb) - 30 * rfc_pb);
  const auto e = dram::command_energy(s);
  CHECK(e.ref_pb == Approx(expected));
  // Eight REFpb (each bank once) cost less than one REFab here: (IDD5 - IDD3N) x tRFCab.
  CHECK(8 * e.ref_pb < e.ref);
  dram::Stats st;
  st.per_bank_refreshes = 40;
  CHECK(dram::energy(s, st).ref_pb == Approx(40 * expected));
  CHECK(dram::energy(s, st).ref == 0);
  CHECK(dram::command_energy(dram::preset("ddr4_3200")).ref_pb == 0);
}
