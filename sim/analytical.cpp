#include "sim/analytical.hpp"

#include <algorithm>
#include <stdexcept>

namespace tessera::sim {

ChannelCycles channel_cycles(const dataflows::Tile& tile, const arch::DramParams& dram) {
  // Bytes per channel first: a tile's reads on one channel are one transfer.
  std::array<u64, dataflows::kOperands> read_bytes{};
  for (std::size_t o = 0; o < dataflows::kOperands; ++o)
    read_bytes[dram.channel_of(static_cast<dataflows::Operand>(o))] += tile.read_bytes[o];
  ChannelCycles c;
  for (std::size_t ch = 0; ch < dram.channels(); ++ch) {
    c.reads[ch] = occupancy_cycles(read_bytes[ch], dram);
    c.any_read[ch] = read_bytes[ch] > 0;
  }
  const std::size_t out = dram.channel_of(dataflows::ofmap);
  c.writes[out] = occupancy_cycles(tile.write_bytes, dram);
  c.any_write[out] = tile.write_bytes > 0;
  return c;
}

namespace {

// Cycles from issuing `writes`' writes and then `reads`' reads on each channel until the last
// of them has arrived; the slowest channel counts.
u64 transfers(const ChannelCycles* reads, const ChannelCycles* writes, u64 latency) {
  u64 need = 0;
  for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch) {
    const bool any = (reads && reads->any_read[ch]) || (writes && writes->any_write[ch]);
    if (any)
      need = std::max(need,
                      (reads ? reads->reads[ch] : 0) + (writes ? writes->writes[ch] : 0) + latency);
  }
  return need;
}

// The double-buffered schedule of one layer, tile by tile, in the order the SystemC DMA issues
// transfers: when tile j finishes computing, its writes and then tile j+2's reads go to their
// channels (tiles 0 and 1 read at the start). A channel serves transfers in order, each for its
// occupancy, the data landing a latency later. Tile i computes when its reads have landed,
// tile i-1 has finished and tile i-2's writes have landed (its result half is free).
//
// Layers are timed one at a time: a layer after the first finds its first tile's reads already
// prefetched and free channels, and a layer before the last leaves its final writes to drain in
// the background. The SystemC fidelity simulates those overlaps instead (docs/systolic.md).
//
// A run of identical tiles reaches a periodic schedule after a few tiles; once the state (as
// offsets from the last compute end) repeats with period 1 or 2, the rest is extrapolated, so
// the cost is per run of tiles, not per tile.
class Pipeline {
 public:
  Pipeline(const arch::DramParams& dram, bool prefetched) : dram_(dram), prefetched_(prefetched) {}

  void run(const ChannelCycles& cc, u64 compute, u64 count) {
    std::array<State, 3> history{};  // states after the last three tiles of this run
    for (u64 k = 0; k < count; ++k) {
      tile(cc, compute);
      history = {history[1], history[2], state()};
      const u64 left = count - 1 - k;
      if (k < 4 || left == 0) continue;
      if (history[2] == history[1]) {  // period 1
        shift(left * (ce1_ - ce2_));
        return;
      }
      if (history[2] == history[0] && left >= 2) {  // period 2
        const u64 pairs = left / 2;
        shift(pairs * (ce1_ - start_of_pair()));
        k += 2 * pairs;
      }
    }
  }

  // The layer's end: its last compute, or (drain) when its last writes have landed.
  u64 finish(bool drain) {
    if (!drain || tiles_ == 0) return ce1_;
    u64 end = ce1_;
    if (tiles_ >= 2) end = std::max(end, write(w2_, ce2_));
    return std::max(end, write(w1_, ce1_));
  }

 private:
  using State = std::array<std::int64_t, 2 + dataflows::kOperands>;

  using PerChannel = std::array<u64, dataflows::kOperands>;
  using AnyPerChannel = std::array<bool, dataflows::kOperands>;

  // Issues transfers of `occupancy` on the channels marked in `any` at `issue`; returns when
  // the last has landed (`issue` if none).
  u64 transfer(const PerChannel& occupancy, const AnyPerChannel& any, u64 issue) {
    u64 done = issue;
    for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch) {
      if (!any[ch]) continue;
      free_[ch] = std::max(free_[ch], issue) + occupancy[ch];
      done = std::max(done, free_[ch] + dram_.latency_cycles);
    }
    return done;
  }
  u64 write(const ChannelCycles& cc, u64 issue) { return transfer(cc.writes, cc.any_write, issue); }
  u64 read(const ChannelCycles& cc, u64 issue) { return transfer(cc.reads, cc.any_read, issue); }

  void tile(const ChannelCycles& cc, u64 compute) {
    u64 ready = ce1_;
    if (tiles_ >= 2) {
      ready = std::max(ready, write(w2_, ce2_));  // tile i-2's result half
      ready = std::max(ready, read(cc, ce2_));
    } else if (!(prefetched_ && tiles_ == 0)) {
      ready = std::max(ready, read(cc, 0));
    }
    prev_ce2_ = ce2_;
    ce2_ = ce1_;
    ce1_ = ready + compute;
    w2_ = w1_;
    w1_ = cc;
    ++tiles_;
  }

  // Offsets from the last compute end: everything the next tiles depend on.
  State state() const {
    State s{};
    s[0] = static_cast<std::int64_t>(ce1_ - ce2_);
    s[1] = static_cast<std::int64_t>(ce2_ - prev_ce2_);
    for (std::size_t ch = 0; ch < dataflows::kOperands; ++ch)
      s[2 + ch] =
          static_cast<std::int64_t>(std::max(free_[ch], ce2_)) - static_cast<std::int64_t>(ce1_);
    return s;
  }

  u64 start_of_pair() const { return prev_ce2_; }

  // Moves the whole schedule `by` cycles later (the periodic part skipped).
  void shift(u64 by) {
    for (auto& f : free_) f = std::max(f, ce2_) + by;
    prev_ce2_ += by;
    ce2_ += by;
    ce1_ += by;
  }

  arch::DramParams dram_;
  bool prefetched_;
  u64 tiles_ = 0;
  u64 ce1_ = 0, ce2_ = 0, prev_ce2_ = 0;  // compute ends of tiles i-1, i-2, i-3
  std::array<u64, dataflows::kOperands> free_{};
  ChannelCycles w1_, w2_;  // tiles i-1 and i-2, whose writes are still to issue
};

LayerTiming streaming(const dataflows::TilePlan& plan, const arch::DramParams& dram) {
  LayerTiming t;
  for (const auto& tile : plan.tiles) {
    const auto c = channel_cycles(tile, dram);
    t.cycles += tile.count * std::max(tile.compute_cycles, transfers(&c, &c, dram.latency_cycles));
    t.compute_cycles += tile.count * tile.compute_cycles;
  }
  return t;
}

}  // namespace

std::vector<LayerTiming> time_analytical(const std::vector<const dataflows::TilePlan*>& plans,
                                         const arch::DramParams& dram) {
  std::vector<LayerTiming> out(plans.size());
  if (plans.empty()) return out;
  const auto overlap = plans.front()->overlap;
  for (const auto* p : plans)
    if (p->overlap != overlap)
      throw std::logic_error("analytical fidelity: layers of one run must share one overlap mode");

  if (overlap == dataflows::Overlap::streaming) {
    for (std::size_t l = 0; l < plans.size(); ++l) out[l] = streaming(*plans[l], dram);
  } else {
    // The run's first layer with tiles pays the fill, its last the drain.
    std::size_t first = plans.size(), last = 0;
    for (std::size_t l = 0; l < plans.size(); ++l)
      if (!plans[l]->tiles.empty()) first = std::min(first, l), last = l;
    for (std::size_t l = 0; l < plans.size(); ++l) {
      Pipeline p(dram, /*prefetched=*/l > first);
      for (const auto& t : plans[l]->tiles) {
        p.run(channel_cycles(t, dram), t.compute_cycles, t.count);
        out[l].compute_cycles += t.count * t.compute_cycles;
      }
      out[l].cycles = p.finish(/*drain=*/l == last);
    }
  }
  for (auto& t : out) t.stall_cycles = t.cycles - t.compute_cycles;
  return out;
}

LayerTiming time_analytical(const dataflows::TilePlan& plan, const arch::DramParams& dram) {
  return time_analytical(std::vector<const dataflows::TilePlan*>{&plan}, dram).front();
}

}  // namespace tessera::sim
