#include "arch/dram/spec.hpp"

#include <bit>
#include <cmath>

#include "common/error.hpp"

namespace tessera::arch::dram {

namespace {

// Cycles of `ns` at period `tck_ns`, rounded up (as data sheets derive nCK from ns).
u64 ck(double ns, double tck_ns) { return static_cast<u64>(std::ceil(ns / tck_ns - 1e-9)); }

Spec ddr4_3200() {
  Spec s;
  s.name = "ddr4_3200";
  s.source =
      "JEDEC JESD79-4 speed bin DDR4-3200AA (22-22-22), 8 Gb x8 devices, one x64 rank; primary "
      "timings as in Ramulator 2's DDR4_3200AA preset; tRFC1 350 ns, tREFI 7.8 us";
  s.org = {1, 4, 4, 65536, 1024, 8, 64};
  Timing& t = s.timing;
  t.tck_ns = 0.625;
  t.burst_cycles = 4;
  t.cl = 22, t.cwl = 16, t.rcd = 22, t.rcd_wr = 22, t.rp = 22, t.ras = 52, t.rc = 74;
  t.rrd_s = 4, t.rrd_l = 8, t.ccd_s = 4, t.ccd_l = 8, t.faw = 34;
  t.wr = 24, t.wtr_s = 4, t.wtr_l = 12, t.rtp = 12;
  t.rfc = ck(350, t.tck_ns), t.refi = ck(7800, t.tck_ns);
  return s;
}

Spec lpddr4x_4266() {
  Spec s;
  s.name = "lpddr4x_4266";
  s.source =
      "JEDEC JESD209-4 LPDDR4X-4266, one x16 channel of a 16 Gb die (8 banks, 2 KB pages), BL16, "
      "RL 36 / WL 18 (set A, no DBI); tRCD 18 ns, tRPpb 18 ns, tRAS 42 ns, tRRD 7.5 ns, tFAW 30 "
      "ns, tWR 18 ns, tWTR 10 ns, tRTP 7.5 ns, tRFCab 280 ns, tREFI 3.904 us; per-bank refresh: "
      "tRFCpb 140 ns, tpbR2pbR 90 ns, REFpb to ACT of another bank tRRD";
  s.org = {1, 1, 8, 65536, 1024, 16, 16};
  Timing& t = s.timing;
  t.tck_ns = 1.0 / 2.133;
  t.burst_cycles = 8;
  t.cl = 36, t.cwl = 18;
  t.rcd = t.rcd_wr = ck(18, t.tck_ns);
  t.rp = ck(18, t.tck_ns);
  t.ras = ck(42, t.tck_ns);
  t.rc = t.ras + t.rp;
  t.rrd_s = t.rrd_l = ck(7.5, t.tck_ns);
  t.ccd_s = t.ccd_l = 8;
  t.faw = ck(30, t.tck_ns);
  t.wr = ck(18, t.tck_ns);
  t.wtr_s = t.wtr_l = ck(10, t.tck_ns);
  t.rtp = ck(7.5, t.tck_ns);
  t.rfc = ck(280, t.tck_ns), t.refi = ck(3904, t.tck_ns);
  // JESD209-4's refresh table for 12 and 16 Gb dies (tRFCpb is half of tRFCab; the same 140 ns
  // in DRAMSys's MICRON_6Gb_LPDDR4-3200 memspec, RFCpb 224 tCK at 0.625 ns, and in Xilinx PG313's
  // LPDDR4-4267 refresh options).
  t.rfc_pb = ck(140, t.tck_ns), t.pbr2pbr = ck(90, t.tck_ns), t.pbr2act = t.rrd_s;
  return s;
}

Spec lpddr5_6400() {
  Spec s;
  s.name = "lpddr5_6400";
  s.source =
      "JEDEC JESD209-5B LPDDR5-6400, bank-group mode, CK 800 MHz (WCK:CK 4:1), one x16 channel "
      "of a 16 Gb die, BL16; primary timings as in Ramulator 2's LPDDR5_6400 preset; tRRD 5 ns, "
      "tFAW 20 ns, tRFCab 280 ns, tREFI 3.906 us; per-bank refresh (JESD209-5B table as in "
      "Ramulator 2's LPDDR5 model): tRFCpb 140 ns, tpbR2pbR 90 ns, tpbR2act 7.5 ns";
  s.org = {1, 4, 4, 65536, 1024, 16, 16};
  Timing& t = s.timing;
  t.tck_ns = 1.25;
  t.burst_cycles = 2;
  t.cl = 17, t.cwl = 9, t.rcd = t.rcd_wr = 15, t.rp = 15, t.ras = 34, t.rc = 49;
  t.rrd_s = t.rrd_l = 4, t.ccd_s = 2, t.ccd_l = 4, t.faw = 16;
  t.wr = 28, t.wtr_s = 5, t.wtr_l = 10, t.rtp = 8;
  t.rfc = ck(280, t.tck_ns), t.refi = ck(3906, t.tck_ns);
  // LPDDR5's REFpb refreshes a pair of banks every tREFI / 8 (tREFIpb 488 ns); the model
  // refreshes one bank every tREFI / 16 instead: the same tRFCpb per bank and tREFI.
  t.rfc_pb = ck(140, t.tck_ns), t.pbr2pbr = ck(90, t.tck_ns), t.pbr2act = ck(7.5, t.tck_ns);
  return s;
}

Spec hbm2_2000() {
  Spec s;
  s.name = "hbm2_2000";
  s.source =
      "JEDEC JESD235 HBM2 at 2 Gb/s per pin, one pseudo-channel (64 bits, BL4, 16 banks in 4 "
      "groups, 1 KB pages); primary timings as in Ramulator 2's HBM2_2000Mbps preset; tRRD 4 ns, "
      "tFAW 15 ns, tRFC 350 ns, tREFI 3.9 us; per-bank refresh (REFSB, JESD235 as in Ramulator 2's "
      "HBM2 model for 8 Gb): tRFCSB 160 ns, tRREFD 8 ns (REFSB to ACT of another bank); no "
      "REFSB-to-REFSB figure given (none modelled)";
  s.org = {1, 4, 4, 16384, 128, 4, 64};
  Timing& t = s.timing;
  t.tck_ns = 1.0;
  t.burst_cycles = 2;
  t.cl = 14, t.cwl = 5, t.rcd = 14, t.rcd_wr = 12, t.rp = 14, t.ras = 34, t.rc = 48;
  t.rrd_s = t.rrd_l = 4, t.ccd_s = 2, t.ccd_l = 4, t.faw = 15;
  t.wr = 16, t.wtr_s = 6, t.wtr_l = 8, t.rtp = 5;
  t.rfc = 350, t.refi = 3900;
  t.rfc_pb = 160, t.pbr2act = 8, t.pbr2pbr = 0;
  return s;
}

bool power_of_two(u64 v) { return v && std::has_single_bit(v); }

unsigned bits_of(u64 count) { return static_cast<unsigned>(std::bit_width(count) - 1); }

}  // namespace

double Spec::peak_bytes_per_cycle() const {
  return static_cast<double>(org.access_bytes()) / static_cast<double>(timing.burst_cycles);
}

void Spec::validate(const std::string& where) {
  validate([&](const std::string& key, const std::string& what) {
    return InputError(where + ": " + key + ": " + what);
  });
}

void Spec::validate(
    const std::function<InputError(const std::string& key, const std::string& what)>& error) {
  const auto fail = [&](const std::string& key, const std::string& what) { throw error(key, what); };
  const auto pow2 = [&](const std::string& key, u64 v, u64 most) {
    if (!power_of_two(v) || v > most)
      fail(key, "must be a power of two from 1 to " + std::to_string(most) + ", got " +
                    std::to_string(v));
  };
  pow2("ranks", org.ranks, 16);
  pow2("bank_groups", org.bank_groups, 16);
  pow2("banks_per_group", org.banks_per_group, 64);
  pow2("rows", org.rows, u64{1} << 24);
  pow2("columns", org.columns, u64{1} << 16);
  pow2("burst_length", org.burst_length, 64);
  pow2("data_bits", org.data_bits, 1024);
  if (org.burst_length > org.columns) fail("burst_length", "longer than a row's columns");
  if (!(timing.tck_ns >= 0.01 && timing.tck_ns <= 100))
    fail("tck_ns", "must be in [0.01, 100] ns");
  const std::pair<const char*, u64> cycles[] = {
      {"burst_cycles", timing.burst_cycles}, {"cl", timing.cl},   {"cwl", timing.cwl},
      {"rcd", timing.rcd},   {"rcd_wr", timing.rcd_wr}, {"rp", timing.rp},     {"ras", timing.ras},
      {"rc", timing.rc},     {"rrd_s", timing.rrd_s},   {"rrd_l", timing.rrd_l}, {"ccd_s", timing.ccd_s},
      {"ccd_l", timing.ccd_l}, {"faw", timing.faw},     {"wr", timing.wr},     {"wtr_s", timing.wtr_s},
      {"wtr_l", timing.wtr_l}, {"rtp", timing.rtp},     {"rfc", timing.rfc},   {"refi", timing.refi},
      {"rfc_pb", timing.rfc_pb}, {"pbr2act", timing.pbr2act}, {"pbr2pbr", timing.pbr2pbr}};
  for (const auto& [key, v] : cycles)
    if (v > (u64{1} << 20)) fail(key, "must be at most 2^20 cycles, got " + std::to_string(v));
  if (timing.burst_cycles == 0) fail("burst_cycles", "must be at least 1");
  if (timing.ccd_s < timing.burst_cycles || timing.ccd_l < timing.ccd_s)
    fail("ccd_s", "need burst_cycles <= ccd_s <= ccd_l (the data bus carries one burst at a time)");
  if (timing.rrd_l < timing.rrd_s) fail("rrd_l", "must be at least rrd_s");
  if (timing.rc < timing.ras + timing.rp) fail("rc", "must be at least ras + rp");
  if (timing.refi != 0 && timing.refi <= timing.rfc)
    fail("refi", "must be longer than rfc (0: no refresh)");
  if (queue_depth == 0 || queue_depth > 1024) fail("queue_depth", "must be in [1, 1024]");
  if (refresh == Refresh::per_bank) {
    if (timing.rfc_pb == 0)
      fail("refresh", "per_bank: preset " + name + " has no per-bank refresh (no tRFCpb: its standard refreshes all banks at once); use all_bank");
    if (timing.refi == 0) fail("refresh", "per_bank needs refi (0: no refresh)");
    if (refi_pb() <= timing.rfc_pb)
      fail("refresh", "per_bank needs refi / banks longer than rfc_pb (each bank refreshed once per refi)");
  }

  fields.clear();
  if (mapping.size() != 10) fail("mapping", "five fields of two letters (Ro Ra Bg Ba Co), e.g. RoRaBgBaCo");
  for (std::size_t i = 0; i < mapping.size(); i += 2) {
    const std::string f = mapping.substr(i, 2);
    Field field;
    if (f == "Ro") field = Field::row;
    else if (f == "Ra") field = Field::rank;
    else if (f == "Bg") field = Field::bank_group;
    else if (f == "Ba") field = Field::bank;
    else if (f == "Co") field = Field::column;
    else fail("mapping", "unknown field '" + f + "' in '" + mapping + "' (fields: Ro Ra Bg Ba Co)");
    for (Field seen : fields)
      if (seen == field) fail("mapping", "field '" + f + "' twice in '" + mapping + "'");
    fields.push_back(field);
  }
}

const std::vector<Spec>& presets() {
  static const std::vector<Spec> all = [] {
    std::vector<Spec> v{ddr4_3200(), lpddr4x_4266(), lpddr5_6400(), hbm2_2000()};
    for (auto& s : v) s.validate("preset " + s.name);
    return v;
  }();
  return all;
}

const Spec& preset(const std::string& name) {
  std::string names;
  for (const auto& s : presets()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  throw InputError("unknown DRAM preset '" + name + "' (presets: " + names + ")");
}

Location decode(const Spec& spec, u64 address) {
  const Organisation& o = spec.org;
  u64 a = address >> bits_of(o.access_bytes());
  Location l;
  // Least significant field first: the mapping lists them from the most significant.
  for (auto it = spec.fields.rbegin(); it != spec.fields.rend(); ++it) {
    const auto take = [&](u64 count) {
      const u64 v = a & (count - 1);
      a >>= bits_of(count);
      return v;
    };
    switch (*it) {
      case Field::row: l.row = take(o.rows); break;
      case Field::rank: l.rank = static_cast<unsigned>(take(o.ranks)); break;
      case Field::bank_group: l.bank_group = static_cast<unsigned>(take(o.bank_groups)); break;
      case Field::bank: l.bank = static_cast<unsigned>(take(o.banks_per_group)); break;
      case Field::column: l.column = take(o.columns / o.burst_length); break;
    }
  }
  return l;
}

}  // namespace tessera::arch::dram
