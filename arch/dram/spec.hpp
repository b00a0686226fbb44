// A DRAM channel as its standard describes it: organisation, timing parameters in command-clock
// cycles, page policy, scheduler and address mapping, with presets whose figures name their
// source. Used by the request-level controller model (arch/dram/controller.hpp).
//
// Timing names follow the JEDEC data sheets (and Ramulator 2 / DRAMSys, which use the same ones):
// all values are in cycles of the command clock (tCK); a burst occupies the data bus for
// `burst_cycles` cycles (BL/2 on a double-data-rate bus).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace tessera::arch::dram {

using u64 = std::uint64_t;

struct Organisation {
  unsigned ranks = 1;
  unsigned bank_groups = 4;      // 1: a standard without bank groups (LPDDR4)
  unsigned banks_per_group = 4;
  u64 rows = 65536;
  u64 columns = 1024;            // column addresses per row, in units of the data width
  unsigned burst_length = 8;     // beats per column command
  unsigned data_bits = 64;       // bus width of the channel
  unsigned banks() const { return bank_groups * banks_per_group; }
  // Bytes one column command moves: burst_length x data_bits / 8.
  u64 access_bytes() const { return u64{burst_length} * data_bits / 8; }
  bool operator==(const Organisation&) const = default;
};

struct Timing {
  double tck_ns = 0.625;  // command clock period
  u64 burst_cycles = 4;   // data-bus cycles per burst
  u64 cl = 22, cwl = 16;  // read and write latency
  u64 rcd = 22;           // ACT to RD
  u64 rcd_wr = 22;        // ACT to WR (HBM2 has a shorter one)
  u64 rp = 22, ras = 52, rc = 74;
  u64 rrd_s = 4, rrd_l = 8;  // ACT to ACT, other / same bank group
  u64 ccd_s = 4, ccd_l = 8;  // column to column, other / same bank group
  u64 faw = 34;              // four-activate window
  u64 wr = 24;               // write recovery
  u64 wtr_s = 4, wtr_l = 12; // write to read, other / same bank group
  u64 rtp = 12;              // read to precharge
  u64 rfc = 560;             // all-bank refresh
  u64 refi = 12480;          // refresh interval
  // Per-bank refresh (REFpb; LPDDR4/5 and HBM2, not DDR4): 0 where the standard has none or
  // the preset's source gives no figure.
  u64 rfc_pb = 0;   // tRFCpb: the refreshed bank takes no ACT for this long
  u64 pbr2act = 0;  // REFpb to ACT of another bank of the rank
  u64 pbr2pbr = 0;  // REFpb to the next REFpb
  bool operator==(const Timing&) const = default;
};

enum class PagePolicy { open, closed };
// all_bank: every tREFI a rank closes all its banks and refreshes them for tRFC. per_bank: every
// tREFI / banks one bank in turn is closed and refreshed for tRFCpb while the others serve.
enum class Refresh { all_bank, per_bank };
enum class Scheduling { fcfs, frfcfs };

// Address fields from the most to the least significant bits, Ramulator's names:
// Ro(w), Ra(nk), Bg (bank group), Ba(nk), Co(lumn). The byte offset inside one access is below
// all of them.
enum class Field { row, rank, bank_group, bank, column };

struct Spec {
  std::string name;    // preset name, or "custom"
  std::string source;  // where the figures come from
  Organisation org;
  Timing timing;
  PagePolicy page = PagePolicy::open;
  Scheduling scheduling = Scheduling::frfcfs;
  Refresh refresh = Refresh::all_bank;
  unsigned queue_depth = 32;
  // Default: consecutive accesses alternate bank groups (tCCD_S apart, not tCCD_L), and inside a
  // group walk the columns of one row.
  std::string mapping = "RoRaBaCoBg";
  std::vector<Field> fields;           // parsed from `mapping`, most significant first

  // Per-bank refresh interval of one rank: tREFI / banks (each bank once per tREFI).
  u64 refi_pb() const { return timing.refi / org.banks(); }
  // Peak bytes per command-clock cycle: one access per burst_cycles.
  double peak_bytes_per_cycle() const;
  // Checks ranges and parses `mapping`; throws what `error(key, what)` makes.
  void validate(const std::function<InputError(const std::string& key, const std::string& what)>& error);
  // The same, with errors "<where>: <key>: <what>".
  void validate(const std::string& where);
  bool operator==(const Spec&) const = default;
};

// The shipped presets, by name (`tessera list` shows them).
const std::vector<Spec>& presets();
// A preset by name; InputError listing the names when unknown.
const Spec& preset(const std::string& name);

// Where an access lands.
struct Location {
  unsigned rank = 0, bank_group = 0, bank = 0;  // bank: inside its group
  u64 row = 0, column = 0;                      // column: in accesses (bursts) inside the row
  unsigned flat_bank(const Organisation& o) const {
    return (rank * o.bank_groups + bank_group) * o.banks_per_group + bank;
  }
};

// Decodes a byte address with the spec's mapping (addresses beyond the capacity wrap).
Location decode(const Spec& spec, u64 address);

}  // namespace tessera::arch::dram
