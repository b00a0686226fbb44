// A DRAM channel controller at command level: requests of one access (a burst) each, queued up
// to the spec's depth, scheduled FCFS or FR-FCFS (ready row hits first, then the oldest), turned
// into ACT / PRE / RD / WR commands that obey the bank, bank-group and rank timing of
// arch/dram/spec.hpp on one command bus, with all-bank refresh every tREFI or, where the spec
// asks (Refresh::per_bank), one bank's refresh every tREFI / banks, in turn: that bank takes no
// request from the refresh's due time until its REFpb, and no ACT for tRFCpb after it, while the
// other banks keep serving. Time advances from
// command to command (no per-cycle loop). Each bank keeps its queued requests in age order and
// its FR-FCFS candidates (the oldest request's ACT or PRE, the oldest row hits) between steps,
// so a step looks at each bank with queued requests once rather than at every request.
//
// Bursts of two ranks are kRankSwitchCycles apart on the data bus (tRTRS). Not modelled
// (docs/configs.md): power-down, and write queues drained separately from reads
// (reads and writes share one queue).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "arch/dram/power.hpp"
#include "arch/dram/spec.hpp"

namespace tessera::arch::dram {

// tRTRS: idle data-bus cycles between bursts of two ranks, 2 tCK for every preset (Ramulator 2's
// DDR4 figure; the presets have one rank unless a config sets dram.ranks).
inline constexpr u64 kRankSwitchCycles = 2;

struct Request {
  u64 address = 0;  // byte address; one access of spec.org.access_bytes()
  bool write = false;
  u64 arrival = 0;  // command-clock cycle; requests are given in non-decreasing arrival
};

enum class CommandKind { act, pre, rd, wr, ref, ref_pb };  // ref: all-bank; ref_pb: one bank

struct Command {
  u64 time = 0;
  CommandKind kind = CommandKind::act;
  unsigned rank = 0, bank_group = 0, bank = 0;  // ref: the rank's banks, bank_group/bank 0; ref_pb: its bank
  u64 row = 0;
};

struct Stats {
  u64 reads = 0, writes = 0;
  u64 activates = 0, precharges = 0, refreshes = 0;  // refreshes: all-bank (REFab)
  u64 per_bank_refreshes = 0;                          // REFpb
  u64 row_hits = 0;       // requests whose first command was RD or WR
  u64 row_misses = 0;     // ... an ACT to a closed bank
  u64 row_conflicts = 0;  // ... a PRE of another row
  u64 cycles = 0;         // the last request's data done
  u64 bytes = 0;
  // Cycles some bank of a rank was open, summed over the ranks (active standby, IDD3N; the rest
  // of each rank's time is precharged standby, IDD2N).
  u64 active_cycles = 0;
  double row_hit_rate() const;
  double bytes_per_cycle() const;
  // Counts added (cycles: the larger), and what a channel did between two snapshots.
  Stats& operator+=(const Stats& o);
  Stats since(const Stats& before) const;
  bool operator==(const Stats&) const = default;
};

// Energy of the commands counted in `stats` (pJ) with command_energy(spec).
CommandEnergy energy(const Spec& spec, const Stats& stats);

struct Result {
  std::vector<u64> done;          // per request: the cycle its data has been transferred
  std::vector<Command> commands;  // when asked for (simulate's `log`)
  Stats stats;
};

class Channel;

// One channel whose state (open rows, timing, refresh, the present cycle) carries from one run
// to the next: a memory target gives it each transfer as it arrives.
class Controller {
 public:
  // `spec` validated; `scan`: choose each command by a scan of the whole queue in age order
  // (the reference the per-bank choice is tested against; same commands, slower).
  explicit Controller(const Spec& spec, bool scan = false);
  ~Controller();
  Controller(Controller&&) noexcept;
  Controller& operator=(Controller&&) noexcept;

  // Runs `requests` until all are done and returns the cycle the last one's data is done;
  // per request in `done`, commands appended to `log`, when given. Arrivals must not decrease
  // inside one call (std::invalid_argument); one before the channel's present waits for it.
  u64 run(const std::vector<Request>& requests, std::vector<u64>* done = nullptr,
          std::vector<Command>* log = nullptr);
  // Over every run so far; a rank with a bank open counts as active up to the channel's present
  // (its last command).
  Stats stats() const;

 private:
  std::unique_ptr<Channel> channel_;
};

// Runs `requests` on a fresh channel of `spec` (validated), from an idle, precharged state.
Result simulate(const Spec& spec, const std::vector<Request>& requests, bool log = false);
// The same with the reference scan of the whole queue, commands logged.
Result simulate_by_scan(const Spec& spec, const std::vector<Request>& requests);

// A long sequential read stream's run on a fresh channel of `spec` (4 MiB from address 0,
// several tREFI long), run once per spec and remembered: its rate is what the analytical
// fidelity sustains, its counts per access what it estimates a layer's statistics from.
const Stats& sequential_stream_stats(const Spec& spec);

// `bytes` from `base` as consecutive accesses, all arriving at `arrival`.
std::vector<Request> stream(const Spec& spec, u64 base, u64 bytes, bool write, u64 arrival = 0);

}  // namespace tessera::arch::dram
