#include "arch/dram/controller.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <list>
#include <mutex>
#include <stdexcept>

namespace tessera::arch::dram {

double Stats::row_hit_rate() const {
  const u64 n = row_hits + row_misses + row_conflicts;
  return n ? static_cast<double>(row_hits) / static_cast<double>(n) : 0.0;
}

double Stats::bytes_per_cycle() const {
  return cycles ? static_cast<double>(bytes) / static_cast<double>(cycles) : 0.0;
}

Stats& Stats::operator+=(const Stats& o) {
  reads += o.reads, writes += o.writes;
  activates += o.activates, precharges += o.precharges, refreshes += o.refreshes;
  per_bank_refreshes += o.per_bank_refreshes;
  row_hits += o.row_hits, row_misses += o.row_misses, row_conflicts += o.row_conflicts;
  cycles = std::max(cycles, o.cycles);
  bytes += o.bytes;
  active_cycles += o.active_cycles;
  return *this;
}

Stats Stats::since(const Stats& b) const {
  Stats d;
  d.reads = reads - b.reads, d.writes = writes - b.writes;
  d.activates = activates - b.activates, d.precharges = precharges - b.precharges;
  d.refreshes = refreshes - b.refreshes;
  d.per_bank_refreshes = per_bank_refreshes - b.per_bank_refreshes;
  d.row_hits = row_hits - b.row_hits, d.row_misses = row_misses - b.row_misses;
  d.row_conflicts = row_conflicts - b.row_conflicts;
  d.cycles = cycles - std::min(cycles, b.cycles);
  d.bytes = bytes - b.bytes;
  d.active_cycles = active_cycles - b.active_cycles;
  return d;
}

CommandEnergy energy(const Spec& spec, const Stats& s) {
  const CommandEnergy per = command_energy(spec);
  const auto n = [](u64 v) { return static_cast<double>(v); };
  return {per.act * n(s.activates), per.pre * n(s.precharges), per.rd * n(s.reads),
          per.wr * n(s.writes), per.ref * n(s.refreshes), per.ref_pb * n(s.per_bank_refreshes)};
}

namespace {

// Earliest cycles at which a command may issue, per level.
struct Bank {
  bool open = false;
  u64 row = 0;
  u64 act = 0, pre = 0, rd = 0, wr = 0;
};
constexpr std::size_t kAct = 0, kRd = 2, kWr = 3;  // as CommandKind (PRE 1)
struct Group {
  std::array<u64, 4> at{};  // by command kind (kAct, kRd, kWr; PRE has no group rule)
};
struct Rank {
  u64 act = 0, rd = 0, wr = 0;
  std::array<u64, 4> last_acts{};  // ring of the last four ACTs (tFAW)
  unsigned acts = 0;
  u64 next_refresh = 0;
  // Per-bank refresh: the bank chosen for the due refresh (in the rank) and whether one is due
  // (that bank then takes no request), where the next choice starts looking, how many banks
  // this round (each bank once a round) has refreshed, and the earliest next REFpb (tpbR2pbR).
  unsigned refresh_bank = 0;
  bool refresh_held = false;
  unsigned refresh_from = 0;
  unsigned refreshed = 0;
  u64 refpb = 0;
  unsigned open = 0;       // banks open
  u64 active_since = 0;    // when the first of them opened
  u64 closed_at = 0;       // the latest close (an auto-precharge may lie ahead of the present)
};

// A queued request. Slots live in a pool of queue_depth; each bank chains its own in age order.
struct Slot {
  std::size_t index = 0;  // in the present run's requests
  u64 seq = 0;            // admission order over the channel's life: smaller is older
  u64 row = 0;
  unsigned bank = 0;      // flat index of its bank
  bool write = false;
  bool classified = false;
  int next = -1;          // the bank's next younger request
};

// A bank's requests, and its FR-FCFS candidates kept between steps: a closed bank offers its
// oldest request's ACT, an open one the oldest read and the oldest write that hit its row, and
// its oldest request's PRE only when no request hits (hits go first).
struct BankQueue {
  int head = -1, tail = -1;
  int rd = -1, wr = -1;  // oldest hits of the open row
};

// A bank's candidate command: its wait on the bank (the bank group's and rank's terms are added
// at each step), and its place at a tie (column commands first, then the older request).
struct Candidate {
  u64 local = 0;
  // Admission order, command kind and slot: (seq << 13 | kind << 10 | slot), plus 2^63 for a
  // row command. 50 bits of seq outlast any run; queue_depth <= 1024 slots.
  u64 order = 0;
  unsigned term = 0;   // in terms_: flat bank group x 4 + CommandKind
  unsigned owner = 0;  // bank x 2 + which of its two
};

// (time << 64 | order): the FR-FCFS choice is the smallest, found without branches.
__extension__ typedef unsigned __int128 Key;

}  // namespace

class Channel {
 public:
  Channel(const Spec& spec, bool scan)
      : s_(spec),
        scan_(scan),
        banks_(static_cast<std::size_t>(spec.org.ranks) * spec.org.banks()),
        groups_(static_cast<std::size_t>(spec.org.ranks) * spec.org.bank_groups),
        ranks_(spec.org.ranks),
        slots_(spec.queue_depth),
        queues_(banks_.size()),
        active_((banks_.size() + 63) / 64),
        where_(2 * banks_.size(), -1),
        terms_(4 * groups_.size()),
        bank_shift_(static_cast<unsigned>(std::countr_zero(spec.org.banks()))),
        group_shift_(static_cast<unsigned>(std::countr_zero(spec.org.banks_per_group))),
        per_bank_(spec.refresh == Refresh::per_bank),
        held_(banks_.size(), 0),
        refreshed_(banks_.size(), 0) {
    for (auto& r : ranks_) r.next_refresh = per_bank_ ? spec.refi_pb() : t_.refi;
    for (int i = static_cast<int>(slots_.size()) - 1; i >= 0; --i) free_.push_back(i);
    candidates_.reserve(where_.size());
  }

  Stats stats() const {
    Stats s = stats_;
    for (const Rank& r : ranks_)
      if (r.open) s.active_cycles += now_ - std::min(now_, r.active_since);
    return s;
  }

  // Runs `requests` (non-decreasing arrivals; an arrival before the channel's present waits for
  // it) until all are done; per request the cycle its data is done in `done`, commands appended
  // to `log` when given.
  void run(const std::vector<Request>& requests, std::vector<u64>& done, std::vector<Command>* log) {
    done_ = &done;
    log_ = log;
    done.assign(requests.size(), 0);
    std::size_t next = 0;
    while (next < requests.size() || queued_) {
      while (next < requests.size() && queued_ < s_.queue_depth && requests[next].arrival <= now_) {
        admit(requests[next], next);
        ++next;
      }
      if (!queued_) {  // idle until the next arrival: refreshes due meanwhile happen then
        idle_until(requests[next].arrival);
        continue;
      }
      if (per_bank_) hold_due_banks();
      else if (refresh_due()) continue;
      const Pick pick = scan_ ? pick_by_scan() : s_.scheduling == Scheduling::fcfs ? pick_oldest() : pick_frfcfs();
      const u64 when = pick.when;
      // A due per-bank refresh's next command competes with the requests' (first at a tie).
      const RefreshStep refresh_step = per_bank_ ? per_bank_step() : RefreshStep{};
      const u64 first = std::min(when, refresh_step.when);
      // Something else happens first: an arrival the queue has room for, or a refresh.
      if (next < requests.size() && queued_ < s_.queue_depth && requests[next].arrival < first) {
        now_ = std::max(now_, requests[next].arrival);
        continue;
      }
      if (const u64 refresh = earliest_refresh(); refresh < first) {
        now_ = std::max(now_, refresh);
        continue;
      }
      if (refresh_step.when <= when) issue_refresh(refresh_step);
      else issue(pick.slot, when, pick.kind);
    }
    for (u64 d : done) stats_.cycles = std::max(stats_.cycles, d);
    stats_.bytes += s_.org.access_bytes() * requests.size();
  }

 private:
  static constexpr u64 never = std::numeric_limits<u64>::max();
  struct Pick {
    int slot;
    u64 when;  // never: nothing can issue (every queued request's bank is held for refresh)
    CommandKind kind;
  };
  struct RefreshStep {
    u64 when = never;  // never: no refresh due
    unsigned rank = 0;
    std::size_t bank = 0;  // flat
    bool pre = false;      // its bank is open: close it first
  };

  // Bank counts are powers of two (Spec::validate).
  unsigned rank_of(unsigned flat) const { return flat >> bank_shift_; }
  unsigned group_of(unsigned flat) const { return flat >> group_shift_; }

  void admit(const Request& r, std::size_t index) {
    const int i = free_.back();
    free_.pop_back();
    const Location at = decode(s_, r.address);
    Slot& e = slots_[static_cast<std::size_t>(i)];
    e = {index, seq_++, at.row, at.flat_bank(s_.org), r.write, false, -1};
    BankQueue& q = queues_[e.bank];
    if (q.tail < 0) {
      q.head = i;
      active_[e.bank / 64] |= u64{1} << (e.bank % 64);
    } else {
      slots_[static_cast<std::size_t>(q.tail)].next = i;
    }
    q.tail = i;
    const Bank& b = banks_[e.bank];
    if (b.open && b.row == e.row) {  // a hit: the bank's candidate if the first of its kind
      int& hit = e.write ? q.wr : q.rd;
      if (hit < 0) hit = i;
    }
    ++queued_;
    update(e.bank);
  }

  // Bank `flat`'s candidates from its queue and state, in the dense list the step scans.
  void update(unsigned flat) {
    for (unsigned w = 2 * flat; w < 2 * flat + 2; ++w) {
      const int p = where_[w];
      if (p < 0) continue;
      where_[w] = -1;
      if (static_cast<std::size_t>(p) + 1 < candidates_.size()) {
        candidates_[static_cast<std::size_t>(p)] = candidates_.back();
        where_[candidates_.back().owner] = p;
      }
      candidates_.pop_back();
    }
    const BankQueue& q = queues_[flat];
    if (q.head < 0 || held_[flat]) return;
    const Bank& b = banks_[flat];
    unsigned n = 0;
    const auto add = [&](u64 local, int slot, bool row_command, CommandKind kind) {
      const auto k = static_cast<unsigned>(kind);
      const u64 order = slots_[static_cast<std::size_t>(slot)].seq << 13 | u64{k} << 10 | static_cast<u64>(slot);
      where_[2 * flat + n] = static_cast<int>(candidates_.size());
      candidates_.push_back({local, order | (row_command ? u64{1} << 63 : 0), 4 * group_of(flat) + k, 2 * flat + n});
      ++n;
    };
    if (!b.open) {
      add(b.act, q.head, true, CommandKind::act);
    } else if (q.rd < 0 && q.wr < 0) {
      add(b.pre, q.head, true, CommandKind::pre);
    } else {
      if (q.rd >= 0) add(b.rd, q.rd, false, CommandKind::rd);
      if (q.wr >= 0) add(b.wr, q.wr, false, CommandKind::wr);
    }
  }

  // The oldest read and write hitting bank `flat`'s open row (none when it is closed).
  void find_hits(unsigned flat) {
    BankQueue& q = queues_[flat];
    q.rd = q.wr = -1;
    const Bank& b = banks_[flat];
    if (!b.open) return;
    for (int i = q.head; i >= 0 && (q.rd < 0 || q.wr < 0); i = slots_[static_cast<std::size_t>(i)].next) {
      const Slot& e = slots_[static_cast<std::size_t>(i)];
      if (e.row != b.row) continue;
      int& hit = e.write ? q.wr : q.rd;
      if (hit < 0) hit = i;
    }
  }

  void remove(int i) {
    Slot& e = slots_[static_cast<std::size_t>(i)];
    BankQueue& q = queues_[e.bank];
    if (q.head == i) {
      q.head = e.next;
    } else {
      int p = q.head;
      while (slots_[static_cast<std::size_t>(p)].next != i) p = slots_[static_cast<std::size_t>(p)].next;
      slots_[static_cast<std::size_t>(p)].next = e.next;
      if (q.tail == i) q.tail = p;
    }
    if (q.head < 0) {
      q.tail = -1;
      active_[e.bank / 64] &= ~(u64{1} << (e.bank % 64));
    }
    free_.push_back(i);
    --queued_;
  }

  CommandKind next_command(const Slot& e) const {
    const Bank& b = banks_[e.bank];
    if (!b.open) return CommandKind::act;
    if (b.row != e.row) return CommandKind::pre;
    return e.write ? CommandKind::wr : CommandKind::rd;
  }

  // The terms of `earliest` beyond the bank's own, per bank group and command kind: the same
  // for every bank of a group, computed once a step.
  void group_terms() {
    const u64 now = std::max(now_, bus_);
    for (unsigned k = 0; k < s_.org.ranks; ++k) {
      const Rank& r = ranks_[k];
      const u64 gap = bursts_ && k != last_rank_ ? kRankSwitchCycles : 0;
      const u64 act = std::max(now, r.acts >= 4 ? std::max(r.act, r.last_acts[r.acts % 4] + t_.faw) : r.act);
      const u64 rd = std::max({now, r.rd, data_rd_ + gap});
      const u64 wr = std::max({now, r.wr, data_wr_ + gap});
      for (unsigned g = k * s_.org.bank_groups; g < (k + 1) * s_.org.bank_groups; ++g) {
        u64* term = &terms_[4 * std::size_t{g}];
        const Group& group = groups_[g];
        term[kAct] = std::max(act, group.at[kAct]);
        term[1] = now;  // PRE: bank timing only
        term[kRd] = std::max(rd, group.at[kRd]);
        term[kWr] = std::max(wr, group.at[kWr]);
      }
    }
  }

  // FR-FCFS over the banks' candidates: the command ready first; at a tie a column command (row
  // hit) before a row command, then the older request. The same choice as a scan of the whole
  // queue in age order (pick_by_scan), without visiting every request each step.
  Pick pick_frfcfs() {
    group_terms();
    Key best = ~Key{0};
    for (const Candidate& c : candidates_)
      best = std::min(best, Key{std::max(c.local, terms_[c.term])} << 64 | c.order);
    const auto order = static_cast<u64>(best);
    return {static_cast<int>(order & 1023), static_cast<u64>(best >> 64), static_cast<CommandKind>(order >> 10 & 7)};
  }

  // FCFS: the oldest request's next command.
  Pick pick_oldest() {
    int oldest = -1;
    for (std::size_t w = 0; w < active_.size(); ++w)
      for (u64 bits = active_[w]; bits; bits &= bits - 1) {
        const int head = queues_[w * 64 + static_cast<unsigned>(std::countr_zero(bits))].head;
        if (oldest < 0 || slots_[static_cast<std::size_t>(head)].seq < slots_[static_cast<std::size_t>(oldest)].seq)
          oldest = head;
      }
    const Slot& e = slots_[static_cast<std::size_t>(oldest)];
    const CommandKind kind = next_command(e);
    return {oldest, held_[e.bank] ? never : earliest(kind, e), kind};
  }

  // The reference choice (simulate_by_scan): every queued request in age order, its next
  // command evaluated; only the oldest of each (bank, command kind) can win, a PRE waits while
  // its bank's open row has queued hits.
  Pick pick_by_scan() {
    std::vector<int> queue;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (std::find(free_.begin(), free_.end(), static_cast<int>(i)) == free_.end()) queue.push_back(static_cast<int>(i));
    std::sort(queue.begin(), queue.end(), [&](int a, int b) {
      return slots_[static_cast<std::size_t>(a)].seq < slots_[static_cast<std::size_t>(b)].seq;
    });
    std::vector<char> pending_hit(banks_.size(), 0);
    for (int i : queue) {
      const Slot& e = slots_[static_cast<std::size_t>(i)];
      if (banks_[e.bank].open && banks_[e.bank].row == e.row) pending_hit[e.bank] = 1;
    }
    std::vector<std::uint8_t> seen(banks_.size(), 0);
    Pick best{-1, never, CommandKind::act};
    bool best_column = false;
    const std::size_t considered = s_.scheduling == Scheduling::fcfs ? 1 : queue.size();
    for (std::size_t n = 0; n < considered; ++n) {
      const Slot& e = slots_[static_cast<std::size_t>(queue[n])];
      if (held_[e.bank]) continue;
      const CommandKind kind = next_command(e);
      const auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(kind));
      if (seen[e.bank] & bit) continue;
      seen[e.bank] |= bit;
      if (kind == CommandKind::pre && pending_hit[e.bank]) continue;
      const u64 t = earliest(kind, e);
      const bool column = kind == CommandKind::rd || kind == CommandKind::wr;
      if (t < best.when || (t == best.when && column && !best_column)) best = {queue[n], t, kind}, best_column = column;
    }
    if (best.slot < 0 && !held_[slots_[static_cast<std::size_t>(queue[0])].bank]) {
      // every candidate waits on an older hit: serve the oldest
      const Slot& e = slots_[static_cast<std::size_t>(queue[0])];
      best = {queue[0], earliest(next_command(e), e), next_command(e)};
    }
    return best;
  }

  u64 earliest(CommandKind kind, const Slot& e) const {
    const Bank& b = banks_[e.bank];
    const Group& g = groups_[group_of(e.bank)];
    const unsigned k = rank_of(e.bank);
    const Rank& r = ranks_[k];
    u64 t = std::max(now_, bus_);
    const u64 gap = bursts_ && k != last_rank_ ? kRankSwitchCycles : 0;
    switch (kind) {
      case CommandKind::act:
        t = std::max({t, b.act, g.at[kAct], r.act});
        if (r.acts >= 4) t = std::max(t, r.last_acts[r.acts % 4] + t_.faw);
        break;
      case CommandKind::pre: t = std::max(t, b.pre); break;
      case CommandKind::rd: t = std::max({t, b.rd, g.at[kRd], r.rd, data_rd_ + gap}); break;
      case CommandKind::wr: t = std::max({t, b.wr, g.at[kWr], r.wr, data_wr_ + gap}); break;
      case CommandKind::ref:
      case CommandKind::ref_pb: break;
    }
    return t;
  }

  // Moves the idle channel to `t`, issuing the refreshes (and their precharges) that come due
  // before it at their due times, not back to back when the next request arrives.
  void idle_until(u64 t) {
    if (per_bank_) {
      for (;;) {
        hold_due_banks();
        if (const RefreshStep step = per_bank_step(); step.when < t) {
          issue_refresh(step);
        } else if (const u64 due = earliest_refresh(); due < t) {
          now_ = std::max(now_, due);
        } else {
          break;
        }
      }
      now_ = std::max(now_, t);
      return;
    }
    while (earliest_refresh() < t) {
      now_ = std::max(now_, earliest_refresh());
      if (!refresh_due()) break;
    }
    now_ = std::max(now_, t);
  }

  // When the next refresh comes due (per bank: of the ranks whose refresh is not due yet).
  u64 earliest_refresh() const {
    u64 t = never;
    if (t_.refi)
      for (const auto& r : ranks_)
        if (!r.refresh_held) t = std::min(t, r.next_refresh);
    return t;
  }

  // Per-bank refresh: a rank whose refresh has come due holds one of the banks this round has
  // not refreshed (no requests from then on): the first, in turn after the last refreshed, that
  // has no queued request and is closed, else one with no queued request, else the next in turn
  // (LPDDR4/5 and HBM2 name the bank in the command, so a controller refreshes idle banks first).
  void hold_due_banks() {
    const unsigned banks = s_.org.banks();
    for (unsigned k = 0; k < s_.org.ranks; ++k) {
      Rank& r = ranks_[k];
      if (r.refresh_held || now_ < r.next_refresh) continue;
      const unsigned first = k << bank_shift_;
      int best = 3;
      for (unsigned j = 0; j < banks && best > 0; ++j) {
        const unsigned i = (r.refresh_from + j) % banks;
        if (refreshed_[first + i]) continue;
        const int cost = queues_[first + i].head >= 0 ? 2 : banks_[first + i].open ? 1 : 0;
        if (cost < best) best = cost, r.refresh_bank = i;
      }
      r.refresh_held = true;
      held_[first + r.refresh_bank] = 1;
      update(first + r.refresh_bank);
    }
  }

  // The earliest command of a due per-bank refresh: the held bank's PRE if it is open, else its
  // REFpb once the bank allows (tRC after its ACT, tRP after its PRE, tRFCpb after its last
  // REFpb), tRRD after the rank's last ACT and tpbR2pbR after its last REFpb.
  RefreshStep per_bank_step() const {
    RefreshStep best;
    for (unsigned k = 0; k < s_.org.ranks; ++k) {
      const Rank& r = ranks_[k];
      if (!r.refresh_held) continue;
      const std::size_t flat = (std::size_t{k} << bank_shift_) + r.refresh_bank;
      const Bank& b = banks_[flat];
      const u64 now = std::max(now_, bus_);
      const RefreshStep step = b.open ? RefreshStep{std::max(now, b.pre), k, flat, true}
                                      : RefreshStep{std::max({now, b.act, r.act, r.refpb}), k, flat, false};
      if (step.when < best.when) best = step;
    }
    return best;
  }

  void issue_refresh(const RefreshStep& step) {
    Bank& b = banks_[step.bank];
    const std::size_t in_rank = step.bank & ((std::size_t{1} << bank_shift_) - 1);
    if (step.pre) {
      close(b, step.bank, step.when);
      record(step.when, CommandKind::pre, step.rank, in_rank, b.row);
      return;
    }
    Rank& r = ranks_[step.rank];
    const u64 t = step.when;
    now_ = t;
    bus_ = t + 1;
    b.act = t + t_.rfc_pb;
    r.act = std::max(r.act, t + t_.pbr2act);
    r.refpb = t + t_.pbr2pbr;
    r.next_refresh += s_.refi_pb();
    r.refresh_held = false;
    r.refresh_from = (r.refresh_bank + 1) % s_.org.banks();
    held_[step.bank] = 0;
    refreshed_[step.bank] = 1;
    if (++r.refreshed == s_.org.banks()) {  // the round is complete: the next begins
      r.refreshed = 0;
      const auto first = refreshed_.begin() + static_cast<std::ptrdiff_t>(step.rank << bank_shift_);
      std::fill(first, first + s_.org.banks(), char{0});
    }
    ++stats_.per_bank_refreshes;
    record(t, CommandKind::ref_pb, step.rank, in_rank, 0);
    update(static_cast<unsigned>(step.bank));
  }

  // A rank due for refresh closes its banks (one PRE per step) and refreshes; true when a
  // command was issued.
  bool refresh_due() {
    if (!t_.refi) return false;
    for (unsigned k = 0; k < s_.org.ranks; ++k) {
      Rank& r = ranks_[k];
      if (now_ < r.next_refresh) continue;
      const std::size_t first = static_cast<std::size_t>(k) * s_.org.banks();
      for (std::size_t i = first; i < first + s_.org.banks(); ++i) {
        Bank& b = banks_[i];
        if (!b.open) continue;
        const u64 t = std::max({now_, bus_, b.pre});
        close(b, i, t);
        record(t, CommandKind::pre, k, i - first, b.row);
        return true;
      }
      u64 t = std::max(now_, bus_);
      for (std::size_t i = first; i < first + s_.org.banks(); ++i) t = std::max(t, banks_[i].act);
      now_ = t;
      bus_ = t + 1;
      for (std::size_t i = first; i < first + s_.org.banks(); ++i) {
        banks_[i].act = t + t_.rfc;
        update(static_cast<unsigned>(i));
      }
      r.next_refresh += t_.refi;
      ++stats_.refreshes;
      record(t, CommandKind::ref, k, 0, 0);
      return true;
    }
    return false;
  }

  void close(Bank& b, std::size_t flat, u64 t) {
    b.open = false;
    b.act = std::max(b.act, t + t_.rp);
    ++stats_.precharges;
    closed(ranks_[rank_of(static_cast<unsigned>(flat))], t);
    queues_[flat].rd = queues_[flat].wr = -1;
    update(static_cast<unsigned>(flat));
    now_ = std::max(now_, t);
    bus_ = std::max(bus_, t + 1);
  }

  // Active standby time: a rank is active from its first bank's ACT to its last bank's PRE.
  void opened(Rank& r, u64 t) {
    if (r.open++ == 0) r.active_since = std::max(t, r.closed_at);
  }
  void closed(Rank& r, u64 t) {
    r.closed_at = std::max(r.closed_at, t);
    if (--r.open == 0) stats_.active_cycles += r.closed_at - std::min(r.closed_at, r.active_since);
  }

  void record(u64 t, CommandKind kind, unsigned rank, std::size_t flat_in_rank, u64 row) {
    if (!log_) return;
    const auto bg = static_cast<unsigned>(flat_in_rank / s_.org.banks_per_group);
    const auto ba = static_cast<unsigned>(flat_in_rank % s_.org.banks_per_group);
    log_->push_back({t, kind, rank, bg, ba, row});
  }

  void issue(int slot, u64 t, CommandKind kind) {  // `kind`: next_command of the slot's request
    Slot& e = slots_[static_cast<std::size_t>(slot)];
    Bank& b = banks_[e.bank];
    Group& g = groups_[group_of(e.bank)];
    const unsigned rank = rank_of(e.bank);
    Rank& r = ranks_[rank];
    Stats& st = stats_;
    now_ = t;
    bus_ = t + 1;
    const std::size_t in_rank = e.bank & ((1u << bank_shift_) - 1);
    switch (kind) {
      case CommandKind::act:
        if (!e.classified) ++st.row_misses, e.classified = true;
        b.open = true;
        b.row = e.row;
        b.rd = t + t_.rcd;
        b.wr = t + t_.rcd_wr;
        b.pre = std::max(b.pre, t + t_.ras);
        b.act = t + t_.rc;
        g.at[kAct] = std::max(g.at[kAct], t + t_.rrd_l);
        r.act = std::max(r.act, t + t_.rrd_s);
        r.last_acts[r.acts % 4] = t;
        ++r.acts;
        opened(r, t);
        ++st.activates;
        record(t, kind, rank, in_rank, e.row);
        find_hits(e.bank);
        update(e.bank);
        return;
      case CommandKind::pre:
        if (!e.classified) ++st.row_conflicts, e.classified = true;
        record(t, kind, rank, in_rank, b.row);
        close(b, e.bank, t);
        return;
      case CommandKind::rd:
      case CommandKind::wr: break;
      case CommandKind::ref:
      case CommandKind::ref_pb: return;
    }
    if (!e.classified) ++st.row_hits;
    const u64 burst = t_.burst_cycles;
    if (kind == CommandKind::rd) {
      ++st.reads;
      (*done_)[e.index] = t + t_.cl + burst;
      r.rd = std::max(r.rd, t + t_.ccd_s);
      g.at[kRd] = std::max(g.at[kRd], t + t_.ccd_l);
      r.wr = std::max(r.wr, t + t_.cl + burst + 2 - std::min(t_.cwl, t_.cl + burst + 2));
      b.pre = std::max(b.pre, t + t_.rtp);
    } else {
      ++st.writes;
      (*done_)[e.index] = t + t_.cwl + burst;
      r.wr = std::max(r.wr, t + t_.ccd_s);
      g.at[kWr] = std::max(g.at[kWr], t + t_.ccd_l);
      r.rd = std::max(r.rd, t + t_.cwl + burst + t_.wtr_s);
      g.at[kRd] = std::max(g.at[kRd], t + t_.cwl + burst + t_.wtr_l);
      b.pre = std::max(b.pre, t + t_.cwl + burst + t_.wr);
    }
    // One burst on the data bus at a time, whatever the rank (reads and writes land at different
    // delays after their command).
    data_rd_ = std::max(data_rd_, t + burst);
    data_wr_ = std::max(data_wr_, t + burst);
    last_rank_ = rank;
    bursts_ = true;
    record(t, kind, rank, in_rank, e.row);
    const unsigned flat = e.bank;
    const int younger = e.next;
    const bool write = e.write;
    remove(slot);
    if (s_.page == PagePolicy::closed) {  // auto-precharge as soon as the bank allows
      b.open = false;
      b.act = std::max(b.act, b.pre + t_.rp);
      ++st.precharges;
      closed(r, b.pre);
      queues_[flat].rd = queues_[flat].wr = -1;
    } else {  // the served request was its kind's oldest hit: the next one is younger
      BankQueue& q = queues_[flat];
      int& hit = write ? q.wr : q.rd;
      hit = -1;
      for (int i = younger; i >= 0; i = slots_[static_cast<std::size_t>(i)].next) {
        const Slot& o = slots_[static_cast<std::size_t>(i)];
        if (o.write == write && o.row == b.row) {
          hit = i;
          break;
        }
      }
    }
    update(flat);
  }

  Spec s_;
  bool scan_;  // choose by pick_by_scan (the reference)
  const Timing& t_ = s_.timing;
  std::vector<u64>* done_ = nullptr;
  std::vector<Command>* log_ = nullptr;
  std::vector<Bank> banks_;
  std::vector<Group> groups_;
  std::vector<Rank> ranks_;
  std::vector<Slot> slots_;       // queue_depth of them
  std::vector<int> free_;         // slots not holding a request
  std::vector<BankQueue> queues_;  // per bank
  std::vector<u64> active_;       // bit per bank: it has queued requests
  std::vector<Candidate> candidates_;  // of the banks with queued requests: update()
  std::vector<int> where_;  // per bank, two: the index of its candidates there, or -1
  std::vector<u64> terms_;  // four per bank group: group_terms()
  unsigned bank_shift_, group_shift_;  // log2 of banks per rank and per group
  bool per_bank_;                      // Refresh::per_bank
  std::vector<char> held_;             // per bank: its per-bank refresh is due (no requests)
  std::vector<char> refreshed_;        // per bank: refreshed in its rank's present round
  unsigned queued_ = 0;
  u64 seq_ = 0;
  u64 now_ = 0, bus_ = 0, data_rd_ = 0, data_wr_ = 0;
  unsigned last_rank_ = 0;  // of the last burst
  bool bursts_ = false;     // whether there was one
  Stats stats_;
};

Controller::Controller(const Spec& spec, bool scan) : channel_(std::make_unique<Channel>(spec, scan)) {}
Controller::~Controller() = default;
Controller::Controller(Controller&&) noexcept = default;
Controller& Controller::operator=(Controller&&) noexcept = default;

Stats Controller::stats() const { return channel_->stats(); }

u64 Controller::run(const std::vector<Request>& requests, std::vector<u64>* done,
                    std::vector<Command>* log) {
  for (std::size_t i = 1; i < requests.size(); ++i)
    if (requests[i].arrival < requests[i - 1].arrival)
      throw std::invalid_argument("dram::Controller: arrivals must not decrease");
  std::vector<u64> local;
  std::vector<u64>& out = done ? *done : local;
  channel_->run(requests, out, log);
  u64 last = 0;
  for (u64 d : out) last = std::max(last, d);
  return last;
}

namespace {

Result run_fresh(Controller c, const std::vector<Request>& requests, bool log) {
  Result r;
  c.run(requests, &r.done, log ? &r.commands : nullptr);
  r.stats = c.stats();
  return r;
}

}  // namespace

Result simulate(const Spec& spec, const std::vector<Request>& requests, bool log) {
  return run_fresh(Controller(spec), requests, log);
}

Result simulate_by_scan(const Spec& spec, const std::vector<Request>& requests) {
  return run_fresh(Controller(spec, true), requests, true);
}

const Stats& sequential_stream_stats(const Spec& spec) {
  static std::mutex mutex;
  // A list: references handed out stay valid as specs are added.
  static std::list<std::pair<Spec, Stats>> known;
  {
    std::lock_guard lock(mutex);
    for (const auto& [s, stats] : known)
      if (s == spec) return stats;
  }
  const Stats stats = simulate(spec, stream(spec, 0, u64{4} << 20, false)).stats;
  std::lock_guard lock(mutex);
  for (const auto& [s, st] : known)
    if (s == spec) return st;
  return known.emplace_back(spec, stats).second;
}

std::vector<Request> stream(const Spec& spec, u64 base, u64 bytes, bool write, u64 arrival) {
  const u64 step = spec.org.access_bytes();
  std::vector<Request> out;
  out.reserve(static_cast<std::size_t>((bytes + step - 1) / step));
  for (u64 a = 0; a < bytes; a += step) out.push_back({base + a, write, arrival});
  return out;
}

}  // namespace tessera::arch::dram
