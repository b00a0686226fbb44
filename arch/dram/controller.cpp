#include "arch/dram/controller.hpp"

#include <algorithm>
#include <array>
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
          per.wr * n(s.writes), per.ref * n(s.refreshes)};
}

namespace {

// Earliest cycles at which a command may issue, per level.
struct Bank {
  bool open = false;
  u64 row = 0;
  u64 act = 0, pre = 0, rd = 0, wr = 0;
};
struct Group {
  u64 act = 0, rd = 0, wr = 0;
};
struct Rank {
  u64 act = 0, rd = 0, wr = 0;
  std::array<u64, 4> last_acts{};  // ring of the last four ACTs (tFAW)
  unsigned acts = 0;
  u64 next_refresh = 0;
  unsigned open = 0;       // banks open
  u64 active_since = 0;    // when the first of them opened
  u64 closed_at = 0;       // the latest close (an auto-precharge may lie ahead of the present)
};

struct Entry {
  std::size_t index;
  Location at;
  bool write;
  bool classified = false;
  unsigned bank = 0, group = 0;  // flat indices of its bank and bank group
};

}  // namespace

class Channel {
 public:
  explicit Channel(const Spec& spec)
      : s_(spec),
        banks_(static_cast<std::size_t>(spec.org.ranks) * spec.org.banks()),
        groups_(static_cast<std::size_t>(spec.org.ranks) * spec.org.bank_groups),
        ranks_(spec.org.ranks),
        pending_hit_(banks_.size()),
        seen_(banks_.size()) {
    for (auto& r : ranks_) r.next_refresh = t_.refi;
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
    constexpr u64 never = std::numeric_limits<u64>::max();
    while (next < requests.size() || !queue_.empty()) {
      while (next < requests.size() && queue_.size() < s_.queue_depth &&
             requests[next].arrival <= now_) {
        const Request& r = requests[next];
        Entry e{next, decode(s_, r.address), r.write};
        e.bank = e.at.flat_bank(s_.org);
        e.group = e.at.rank * s_.org.bank_groups + e.at.bank_group;
        queue_.push_back(e);
        ++next;
      }
      if (queue_.empty()) {  // idle until the next arrival: refreshes due meanwhile happen then
        idle_until(requests[next].arrival);
        continue;
      }
      if (refresh_due()) continue;
      // The candidate command of each queued request and when it could issue.
      std::size_t pick = queue_.size();
      u64 when = never;
      bool pick_column = false;
      const std::size_t considered = s_.scheduling == Scheduling::fcfs ? 1 : queue_.size();
      bool marked = false;
      // A bank's commands of one kind all may issue at the same cycle: only the oldest request
      // of each (bank, kind) can be picked, the others are not evaluated.
      std::fill(seen_.begin(), seen_.end(), std::uint8_t{0});
      for (std::size_t q = 0; q < considered; ++q) {
        const Entry& e = queue_[q];
        const CommandKind kind = next_command(e);
        const auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(kind));
        if (seen_[e.bank] & bit) continue;
        seen_[e.bank] |= bit;
        if (kind == CommandKind::pre) {  // its bank's open row still has queued hits: they go first
          if (!marked) mark_pending_hits(), marked = true;
          if (pending_hit_[e.bank]) continue;
        }
        const u64 t = earliest(kind, e);
        const bool column = kind == CommandKind::rd || kind == CommandKind::wr;
        // FR-FCFS: among commands ready first, row hits (column commands), then the oldest.
        if (t < when || (t == when && column && !pick_column)) {
          pick = q, when = t, pick_column = column;
        }
      }
      if (pick == queue_.size()) {  // every candidate waits on an older hit: serve the oldest
        pick = 0;
        when = earliest(next_command(queue_[0]), queue_[0]);
      }
      // Something else happens first: an arrival the queue has room for, or a refresh.
      if (next < requests.size() && queue_.size() < s_.queue_depth &&
          requests[next].arrival < when) {
        now_ = std::max(now_, requests[next].arrival);
        continue;
      }
      if (const u64 refresh = earliest_refresh(); refresh < when) {
        now_ = std::max(now_, refresh);
        continue;
      }
      issue(pick, when);
    }
    for (u64 d : done) stats_.cycles = std::max(stats_.cycles, d);
    stats_.bytes += s_.org.access_bytes() * requests.size();
  }

 private:
  Bank& bank(const Location& l) { return banks_[l.flat_bank(s_.org)]; }
  Group& group(const Location& l) { return groups_[l.rank * s_.org.bank_groups + l.bank_group]; }

  CommandKind next_command(const Entry& e) {
    const Bank& b = banks_[e.bank];
    if (!b.open) return CommandKind::act;
    if (b.row != e.at.row) return CommandKind::pre;
    return e.write ? CommandKind::wr : CommandKind::rd;
  }

  // Per bank: whether a queued request hits its open row, in one pass over the queue (a scan
  // per precharge candidate made a step quadratic in the queue depth).
  void mark_pending_hits() {
    std::fill(pending_hit_.begin(), pending_hit_.end(), char{0});
    for (const Entry& o : queue_) {
      const Bank& b = banks_[o.bank];
      if (b.open && b.row == o.at.row) pending_hit_[o.bank] = 1;
    }
  }

  u64 earliest(CommandKind kind, const Entry& e) {
    const Bank& b = banks_[e.bank];
    const Group& g = groups_[e.group];
    const Rank& r = ranks_[e.at.rank];
    u64 t = std::max(now_, bus_);
    switch (kind) {
      case CommandKind::act:
        t = std::max({t, b.act, g.act, r.act});
        if (r.acts >= 4) t = std::max(t, r.last_acts[r.acts % 4] + t_.faw);
        break;
      case CommandKind::pre: t = std::max(t, b.pre); break;
      case CommandKind::rd: t = std::max({t, b.rd, g.rd, r.rd, data_rd_ + switch_gap(e)}); break;
      case CommandKind::wr: t = std::max({t, b.wr, g.wr, r.wr, data_wr_ + switch_gap(e)}); break;
      case CommandKind::ref: break;
    }
    return t;
  }

  // A burst of another rank than the last burst's waits tRTRS more on the data bus.
  u64 switch_gap(const Entry& e) const {
    return bursts_ && e.at.rank != last_rank_ ? kRankSwitchCycles : 0;
  }

  // Moves the idle channel to `t`, issuing the refreshes (and their precharges) that come due
  // before it at their due times, not back to back when the next request arrives.
  void idle_until(u64 t) {
    while (earliest_refresh() < t) {
      now_ = std::max(now_, earliest_refresh());
      if (!refresh_due()) break;
    }
    now_ = std::max(now_, t);
  }

  u64 earliest_refresh() const {
    u64 t = std::numeric_limits<u64>::max();
    if (t_.refi)
      for (const auto& r : ranks_) t = std::min(t, r.next_refresh);
    return t;
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
      for (std::size_t i = first; i < first + s_.org.banks(); ++i) banks_[i].act = t + t_.rfc;
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
    closed(ranks_[flat / s_.org.banks()], t);
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

  void issue(std::size_t q, u64 t) {
    Entry& e = queue_[q];
    const CommandKind kind = next_command(e);
    Bank& b = bank(e.at);
    Group& g = group(e.at);
    Rank& r = ranks_[e.at.rank];
    Stats& st = stats_;
    now_ = t;
    bus_ = t + 1;
    const std::size_t in_rank = e.at.flat_bank(s_.org) % s_.org.banks();
    switch (kind) {
      case CommandKind::act:
        if (!e.classified) ++st.row_misses, e.classified = true;
        b.open = true;
        b.row = e.at.row;
        b.rd = t + t_.rcd;
        b.wr = t + t_.rcd_wr;
        b.pre = std::max(b.pre, t + t_.ras);
        b.act = t + t_.rc;
        g.act = std::max(g.act, t + t_.rrd_l);
        r.act = std::max(r.act, t + t_.rrd_s);
        r.last_acts[r.acts % 4] = t;
        ++r.acts;
        opened(r, t);
        ++st.activates;
        record(t, kind, e.at.rank, in_rank, e.at.row);
        return;
      case CommandKind::pre:
        if (!e.classified) ++st.row_conflicts, e.classified = true;
        record(t, kind, e.at.rank, in_rank, b.row);
        close(b, e.bank, t);
        return;
      case CommandKind::rd:
      case CommandKind::wr: break;
      case CommandKind::ref: return;
    }
    if (!e.classified) ++st.row_hits;
    const u64 burst = t_.burst_cycles;
    if (kind == CommandKind::rd) {
      ++st.reads;
      (*done_)[e.index] = t + t_.cl + burst;
      r.rd = std::max(r.rd, t + t_.ccd_s);
      g.rd = std::max(g.rd, t + t_.ccd_l);
      r.wr = std::max(r.wr, t + t_.cl + burst + 2 - std::min(t_.cwl, t_.cl + burst + 2));
      b.pre = std::max(b.pre, t + t_.rtp);
    } else {
      ++st.writes;
      (*done_)[e.index] = t + t_.cwl + burst;
      r.wr = std::max(r.wr, t + t_.ccd_s);
      g.wr = std::max(g.wr, t + t_.ccd_l);
      r.rd = std::max(r.rd, t + t_.cwl + burst + t_.wtr_s);
      g.rd = std::max(g.rd, t + t_.cwl + burst + t_.wtr_l);
      b.pre = std::max(b.pre, t + t_.cwl + burst + t_.wr);
    }
    // One burst on the data bus at a time, whatever the rank (reads and writes land at different
    // delays after their command).
    data_rd_ = std::max(data_rd_, t + burst);
    data_wr_ = std::max(data_wr_, t + burst);
    last_rank_ = e.at.rank;
    bursts_ = true;
    record(t, kind, e.at.rank, in_rank, e.at.row);
    if (s_.page == PagePolicy::closed) {  // auto-precharge as soon as the bank allows
      b.open = false;
      b.act = std::max(b.act, b.pre + t_.rp);
      ++st.precharges;
      closed(r, b.pre);
    }
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(q));
  }

  Spec s_;
  const Timing& t_ = s_.timing;
  std::vector<u64>* done_ = nullptr;
  std::vector<Command>* log_ = nullptr;
  std::vector<Bank> banks_;
  std::vector<Group> groups_;
  std::vector<Rank> ranks_;
  std::vector<char> pending_hit_;  // per bank, mark_pending_hits()
  std::vector<std::uint8_t> seen_;  // per bank: command kinds evaluated in this step
  std::vector<Entry> queue_;  // oldest first; at most queue_depth, so erasing is cheap
  u64 now_ = 0, bus_ = 0, data_rd_ = 0, data_wr_ = 0;
  unsigned last_rank_ = 0;  // of the last burst
  bool bursts_ = false;     // whether there was one
  Stats stats_;
};

Controller::Controller(const Spec& spec) : channel_(std::make_unique<Channel>(spec)) {}
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

Result simulate(const Spec& spec, const std::vector<Request>& requests, bool log) {
  Controller c(spec);
  Result r;
  c.run(requests, &r.done, log ? &r.commands : nullptr);
  r.stats = c.stats();
  return r;
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
