#include "sim/analytical.hpp"

#include <algorithm>

#include "arch/dram/pattern.hpp"
#include "common/checked.hpp"

namespace tessera::sim {

namespace {

// Engine cycles per byte of each port on a detailed DRAM channel: what its transfers held the
// channel in the synthetic stream of the plan's pattern (arch/dram/pattern.hpp), never less
// than at the channel's sequential-stream rate; 0 for ports on other channels.
using PortCosts = std::array<double, dataflows::kMaxPorts>;

PortCosts port_costs(const dataflows::TilePlan& plan, const arch::MemorySystem& memory) {
  PortCosts costs{};
  for (std::size_t ch = 0; ch < memory.channels.size(); ++ch) {
    const arch::MemoryChannel& c = memory.channels[ch];
    if (!c.detailed) continue;
    const arch::dram::Pattern pattern = arch::dram::plan_pattern(plan, ch);
    if (pattern.ports.empty()) continue;
    const arch::dram::PatternRun& run = arch::dram::pattern_run(*c.detailed, pattern);
    const double dram_cycles_per_cycle = 1e9 / c.detailed->timing.tck_ns / c.clock_hz;
    std::size_t i = 0;
    for (std::size_t p = 0; p < plan.ports.size() && i < pattern.ports.size(); ++p) {
      if (plan.ports[p].channel != ch || plan.port_bytes(p) == 0) continue;
      const double rate = std::min(c.bytes_per_cycle, run.port_bytes_per_cycle(i++) * dram_cycles_per_cycle);
      if (rate > 0) costs[p] = 1.0 / rate;
    }
  }
  return costs;
}

// port_costs where the memory has detailed channels (none otherwise: nothing to look up).
PortCosts costs_of(const dataflows::TilePlan& plan, const arch::MemorySystem& memory) {
  for (const auto& c : memory.channels)
    if (c.detailed) return port_costs(plan, memory);
  return PortCosts{};
}

TileTransfers transfers_of(const dataflows::TilePlan& plan, const dataflows::Tile& tile,
                           const arch::MemorySystem& memory, const PortCosts& costs) {
  std::array<u64, kMaxChannels> read_bytes{}, write_bytes{};
  std::array<double, kMaxChannels> read_cost{}, write_cost{};
  for (std::size_t p = 0; p < plan.ports.size(); ++p) {
    const auto& port = plan.ports[p];
    const bool read = port.direction == dataflows::Direction::read;
    (read ? read_bytes : write_bytes)[port.channel] += tile.bytes[p];
    (read ? read_cost : write_cost)[port.channel] += static_cast<double>(tile.bytes[p]) * costs[p];
  }
  TileTransfers t;
  for (std::size_t ch = 0; ch < memory.channels.size(); ++ch) {
    const auto& c = memory.channels[ch];
    const auto occupancy = [&](u64 bytes, double cost) {
      return cost > 0 ? checked_ceil<u64>(cost, "cycle count") : c.occupancy(bytes);
    };
    t.reads[ch] = occupancy(read_bytes[ch], read_cost[ch]);
    t.writes[ch] = occupancy(write_bytes[ch], write_cost[ch]);
    t.any_read[ch] = read_bytes[ch] > 0;
    t.any_write[ch] = write_bytes[ch] > 0;
  }
  return t;
}

}  // namespace

TileTransfers tile_transfers(const dataflows::TilePlan& plan, const dataflows::Tile& tile,
                             const arch::MemorySystem& memory) {
  return transfers_of(plan, tile, memory, PortCosts{});
}

namespace {

using i64 = std::int64_t;

// Every time of a schedule is at most its layer's cycles, which must fit in 64 bits: a sum or
// product that does not is a layer too long to count (CountOverflow), never a wrapped time.
constexpr const char* kCycles = "cycle count";

LayerTiming streaming(const dataflows::TilePlan& plan, const arch::MemorySystem& memory,
                      const PortCosts& costs) {
  LayerTiming t;
  const std::vector<u64> times = plan.multiplicities();
  for (std::size_t r = 0; r < plan.tiles.size(); ++r) {
    const auto& tile = plan.tiles[r];
    const TileTransfers tr = transfers_of(plan, tile, memory, costs);
    u64 need = tile.compute_cycles;
    for (std::size_t ch = 0; ch < memory.channels.size(); ++ch)
      if (tr.any_read[ch] || tr.any_write[ch])
        need = std::max(need, checked_add(checked_add(tr.reads[ch], tr.writes[ch], kCycles),
                                          memory.channels[ch].latency_cycles, kCycles));
    t.cycles = checked_add(
        t.cycles, checked_mul(checked_mul(times[r], tile.count, kCycles), need, kCycles), kCycles);
  }
  return t;
}

// The buffered schedule of one layer (analytical.hpp), tile by tile with periodic stretches
// skipped: within a run (a period of up to kHistory tiles) and whole iterations of a repeated
// block (up to kHistory iterations). A stretch is skipped when the schedule's state relative to
// the last compute end repeats while both the computing tile and the tile whose reads are issued
// stay inside it, so the skip is exact. Periods longer than a tile or an iteration come from
// latency: with deep prefetch and a long DRAM latency, tiles compute in bursts of the prefetch
// depth.
class Schedule {
 public:
  Schedule(const dataflows::TilePlan& plan, const arch::MemorySystem& memory, const PortCosts& costs)
      : plan_(plan), memory_(memory), channels_(memory.channels.size()),
        di_(std::max(1u, plan.buffering.input)), do_(std::max(1u, plan.buffering.output)),
        read_landed_(di_, 0), write_landed_(do_, 0) {
    for (const auto& t : plan.tiles) transfers_.push_back(transfers_of(plan, t, memory, costs));
  }

  u64 run() {
    using dataflows::TileCursor;
    const u64 n = plan_.tile_count();
    if (n == 0) return 0;
    // Reads of the first di tiles at the start.
    TileCursor ahead(plan_);
    for (u64 j = 0; j < di_ && j < n; ++j) {
      read_landed_[j % di_] = read(ahead.run(), 0);
      ahead.advance();
    }
    TileCursor at(plan_);
    forget_blocks(0, 0, at);
    History history;  // of the current run
    for (u64 j = 0; j < n;) {
      const std::size_t run = at.run();
      u64 start = std::max(compute_end_, read_landed_[j % di_]);
      if (j >= do_) start = std::max(start, write_landed_[(j - do_) % do_]);
      compute_end_ = checked_add(start, plan_.tiles[run].compute_cycles, kCycles);
      const auto [sent, landed] = write(run, compute_end_);
      write_landed_[j % do_] = sent;  // the result buffer is free once its data has left
      last_landed_ = std::max(last_landed_, landed);
      const bool ahead_valid = j + di_ < n;
      if (ahead_valid) {
        read_landed_[(j + di_) % di_] = read(ahead.run(), compute_end_);
        ahead.advance();
      }
      ++j;
      const TileCursor::Step step = at.advance();
      if (at.done()) continue;
      if (step.restarted != TileCursor::kNone || step.entered != TileCursor::kNone) {
        history.clear();
        if (skip_block(j, at, ahead, step)) continue;
      }
      // Periodic run: the next tiles and the tiles whose reads they issue are all of this run.
      if (!ahead_valid || ahead.done() || ahead.run() != at.run() || ahead.frames() != at.frames()) {
        history.clear();
        continue;
      }
      const std::size_t hash = state(j, current_);
      if (const auto* seen = history.find(current_, hash)) {
        const u64 period = j - seen->at;
        // Both cursors stay inside the run: its end may close a block (skip_block's part).
        const u64 left = std::min(at.left_in_run(), ahead.left_in_run()) - 1;
        const u64 periods = left / period;
        if (periods > 0) {
          shift(j, periods * period, checked_mul(periods, compute_end_ - seen->end, kCycles));
          j += periods * period;
          at.advance(periods * period);
          ahead.advance(periods * period);
          history.clear();
          continue;
        }
      }
      history.push(current_, hash, compute_end_, j);
    }
    return std::max(compute_end_, last_landed_);
  }

 private:
  // Offsets from the last compute end (clamped at 0: earlier times no longer matter) of every
  // time the next tiles depend on.
  using State = std::vector<i64>;
  static constexpr std::size_t kHistory = 64;
  // The last kHistory states seen, with their hash, the compute end and the position (tile or
  // iteration) at each.
  struct History {
    struct Entry {
      State state;
      std::size_t hash = 0;
      u64 end = 0, at = 0;
    };
    std::array<Entry, kHistory> entries;
    std::size_t size = 0, next = 0;
    void clear() { size = next = 0; }
    // Takes `s` by swapping (buffers are reused, so the steady state allocates nothing).
    void push(State& s, std::size_t hash, u64 end, u64 at) {
      Entry& e = entries[next];
      std::swap(e.state, s);
      e.hash = hash, e.end = end, e.at = at;
      next = (next + 1) % kHistory;
      size = std::min(size + 1, kHistory);
    }
    // The newest entry with this state (the shortest period), or null.
    const Entry* find(const State& s, std::size_t hash) const {
      for (std::size_t k = 1; k <= size; ++k) {
        const Entry& e = entries[(next + kHistory - k) % kHistory];
        if (e.hash == hash && e.state == s) return &e;
      }
      return nullptr;
    }
  };

  // Starts the histories of the frames of `at` from `depth` on (blocks entered, or jumped in)
  // with the state before tile `next`.
  void forget_blocks(std::size_t depth, u64 next, const dataflows::TileCursor& at) {
    const auto& frames = at.frames();
    if (blocks_.size() < frames.size()) blocks_.resize(frames.size());
    for (std::size_t d = depth; d < frames.size(); ++d) {
      const std::size_t hash = state(next, current_);
      blocks_[d].clear();
      blocks_[d].push(current_, hash, compute_end_, frames[d].iteration);
    }
  }

  // At the start of a block's iteration (`step`, tile `j`): when the state repeats one seen at
  // an earlier iteration of the restarted block, jumps as many whole periods as keep the tile
  // whose reads are issued next inside that block. Returns whether it jumped.
  bool skip_block(u64& j, dataflows::TileCursor& at, dataflows::TileCursor& ahead,
                  const dataflows::TileCursor::Step& step) {
    const std::size_t d = step.restarted;
    forget_blocks(d != dataflows::TileCursor::kNone ? d + 1 : step.entered, j, at);
    if (d == dataflows::TileCursor::kNone) return false;
    const auto& frames = at.frames();
    const auto& af = ahead.frames();
    const u64 it = frames[d].iteration;
    auto& h = blocks_[d];
    const std::size_t hash = state(j, current_);
    const bool ahead_inside =
        !ahead.done() && af.size() > d && af[d].repeat == frames[d].repeat &&
        std::equal(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(d), af.begin());
    if (const auto* seen = ahead_inside ? h.find(current_, hash) : nullptr) {
      const u64 period = it - seen->at;
      const u64 periods = (plan_.repeats[frames[d].repeat].times - 1 - af[d].iteration) / period;
      if (periods > 0) {
        // Tiles fit: the plan's tile count does (run() counted them).
        const u64 tiles = periods * period * plan_.iteration_tiles(frames[d].repeat);
        shift(j, tiles, checked_mul(periods, compute_end_ - seen->end, kCycles));
        j += tiles;
        at.skip(d, periods * period);
        ahead.skip(d, periods * period);
        forget_blocks(d, j, at);
        return true;
      }
    }
    h.push(current_, hash, compute_end_, it);
    return false;
  }

  i64 offset(u64 t) const {
    return t > compute_end_ ? static_cast<i64>(t - compute_end_) : 0;
  }
  // The state before tile `next` into `s`; returns its hash.
  std::size_t state(u64 next, State& s) const {
    s.clear();
    for (u64 k = 0; k < di_; ++k) s.push_back(offset(read_landed_[(next + k) % di_]));
    for (u64 k = 0; k < do_; ++k) s.push_back(offset(write_landed_[(next + k) % do_]));
    for (std::size_t ch = 0; ch < channels_; ++ch) s.push_back(offset(free_[ch]));
    s.push_back(offset(last_landed_));
    std::size_t h = 0xcbf29ce484222325ull;
    for (const i64 v : s) h = (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ull;
    return h;
  }
  // Moves the schedule `tiles` tiles and `by` cycles on: every time shifts by `by`, ring slots by
  // `tiles` (slot of tile t becomes the slot of tile t + tiles).
  void shift(u64 next, u64 tiles, u64 by) {
    auto rotate = [&](std::vector<u64>& ring) {
      const u64 d = ring.size();
      std::vector<u64> out(d);
      for (u64 k = 0; k < d; ++k)
        out[(next + k + tiles) % d] = checked_add(ring[(next + k) % d], by, kCycles);
      ring = std::move(out);
    };
    rotate(read_landed_);
    rotate(write_landed_);
    for (std::size_t ch = 0; ch < channels_; ++ch)
      free_[ch] = checked_add(std::max(free_[ch], compute_end_), by, kCycles);
    last_landed_ = checked_add(std::max(last_landed_, compute_end_), by, kCycles);
    compute_end_ = checked_add(compute_end_, by, kCycles);
  }

  // Issues a transfer on each channel marked in `any`; returns when the last has left its
  // channel and when the last has landed.
  std::pair<u64, u64> transfer(const std::array<u64, kMaxChannels>& occupancy,
                               const std::array<bool, kMaxChannels>& any, u64 issue) {
    u64 sent = issue, landed = issue;
    for (std::size_t ch = 0; ch < channels_; ++ch) {
      if (!any[ch]) continue;
      free_[ch] = checked_add(std::max(free_[ch], issue), occupancy[ch], kCycles);
      sent = std::max(sent, free_[ch]);
      landed =
          std::max(landed, checked_add(free_[ch], memory_.channels[ch].latency_cycles, kCycles));
    }
    return {sent, landed};
  }
  u64 read(std::size_t run, u64 issue) {
    return transfer(transfers_[run].reads, transfers_[run].any_read, issue).second;
  }
  std::pair<u64, u64> write(std::size_t run, u64 issue) {
    return transfer(transfers_[run].writes, transfers_[run].any_write, issue);
  }

  const dataflows::TilePlan& plan_;
  const arch::MemorySystem& memory_;
  std::size_t channels_;
  u64 di_, do_;
  std::vector<TileTransfers> transfers_;
  std::vector<u64> read_landed_;  // rings by tile index: when each tile's reads landed
  std::vector<u64> write_landed_;  // and when its writes left (its result buffer is free)
  std::array<u64, kMaxChannels> free_{};
  u64 compute_end_ = 0, last_landed_ = 0;
  State current_;  // scratch for state()
  std::vector<History> blocks_;  // per frame depth: states at its iterations' starts
};

}  // namespace

std::vector<TileTransfers> run_transfers(const dataflows::TilePlan& plan,
                                         const arch::MemorySystem& memory) {
  const PortCosts costs = costs_of(plan, memory);
  std::vector<TileTransfers> out;
  out.reserve(plan.tiles.size());
  for (const auto& t : plan.tiles) out.push_back(transfers_of(plan, t, memory, costs));
  return out;
}

LayerTiming time_layer(const dataflows::TilePlan& plan, const arch::MemorySystem& memory) {
  const PortCosts costs = costs_of(plan, memory);
  LayerTiming t = plan.buffering.streaming ? streaming(plan, memory, costs)
                                           : LayerTiming{Schedule(plan, memory, costs).run(), 0, 0, 0};
  t.compute_cycles = plan.compute_cycles();
  t.busy_unit_cycles = plan.busy_unit_cycles();
  t.stall_cycles = t.cycles - std::min(t.cycles, t.compute_cycles);
  return t;
}

std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::MemorySystem& memory) {
  std::vector<LayerTiming> out;
  out.reserve(plans.size());
  for (const auto* p : plans) out.push_back(time_layer(*p, memory));
  return out;
}

}  // namespace tessera::sim
