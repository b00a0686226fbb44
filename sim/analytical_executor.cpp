// The analytical PlanExecutor: several units sharing the memory channels, as a fluid model.
//
// Each layer is timed alone first (time_layer: T cycles) and its demand on each channel is the
// sum of its transfers' occupancies (D_c cycles), so running alone it needs the fraction
// u_c = D_c / T of channel c. Running layers share each channel by processor sharing of its
// sustained rate: a channel's capacity is split equally among the layers using it, a layer
// needing less than its share keeps what it needs and the rest is split among the others
// (max-min fairness, by water-filling); a layer's progress rate is the least, over its
// channels, of what it is given over what it needs (at most 1: alone it runs at its own pace).
// Below saturation its transfers still queue behind the others' (the SystemC memory serves a
// channel's transfers in arrival order), which processor sharing alone misses (it was 21 % fast
// on mean latency against SystemC): the rate is further bounded by 1 / (1 + sum over channels
// of u_c x the other layers' use of c), a fixed point over the running layers. Rates are
// recomputed at every start and finish of a layer; between events every running layer works off
// its T at its rate. Alone a layer runs at rate 1 and takes exactly T: one unit matches
// time_layer exactly. Held to the SystemC executor in tests/sim/test_executor.cpp.
//
// Preemption at a tile boundary cuts the running layer to its first k tiles, k the least whose
// time alone (time_layer of those tiles) exceeds the work the layer has done: the rest of the
// layer's time is that of the cut layer, at the shared rate.
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>

#include "common/checked.hpp"
#include "sim/analytical.hpp"
#include "sim/executor.hpp"

namespace tessera::sim {

namespace {

struct Layer {
  const dataflows::TilePlan* plan = nullptr;
  std::unique_ptr<dataflows::TilePlan> converted;  // on the memory clock, when clocks differ
  LayerTiming alone;
  std::array<double, kMaxChannels> need{};  // u_c
};

struct Job {
  u64 id = 0;
  std::vector<Layer> layers;
};

struct UnitState {
  std::deque<Job> queue;
  std::optional<Job> job;  // running
  std::size_t layer = 0;   // running layer of `job`
  double left = 0;         // cycles of that layer's T not yet worked off
  double rate = 1;
  double start = 0;        // when the job started (memory cycles)
  std::size_t stop_after = std::numeric_limits<std::size_t>::max();  // preempted: last layer
  LayerTiming sum;         // of the layers done
  // Preempted at a tile boundary: the running layer stops before this tile, and its work is
  // that of its first cut_tile tiles (timed alone: `cut`); 0: not cut.
  u64 cut_tile = 0;
  LayerTiming cut;
};

class AnalyticalExecutor final : public PlanExecutor {
 public:
  explicit AnalyticalExecutor(const ExecutorSpec& spec)
      : spec_(spec), units_(spec.units.size()) {
    if (spec.units.empty()) throw std::invalid_argument("analytical executor: no compute units");
    if (spec.memory.channels.empty() || spec.memory.channels.size() > kMaxChannels)
      throw std::invalid_argument("analytical executor: 1 to " + std::to_string(kMaxChannels) + " memory channels");
  }

  const std::vector<UnitSpec>& units() const override { return spec_.units; }

  void submit(std::size_t unit, std::vector<const dataflows::TilePlan*> layers, u64 id) override {
    UnitState& u = units_.at(unit);
    Job job;
    job.id = id;
    for (const auto* plan : layers) {
      for (const auto& p : plan->ports)
        if (p.channel >= spec_.memory.channels.size())
          throw std::invalid_argument("analytical executor: port '" + p.name + "' has no channel");
      Layer l;
      l.plan = &on_memory_clock(*plan, spec_.units[unit].clock_hz, spec_.memory_clock_hz,
                                l.converted);
      l.alone = time_layer(*l.plan, spec_.memory);
      if (l.alone.cycles > 0) {
        std::array<double, kMaxChannels> busy{};
        const std::vector<u64> times = l.plan->multiplicities();
        const arch::MemorySystem memory = memory_for(*l.plan, spec_.memory);
        for (std::size_t r = 0; r < l.plan->tiles.size(); ++r) {
          const auto& t = l.plan->tiles[r];
          const TileTransfers tr = tile_transfers(*l.plan, t, memory);
          for (std::size_t c = 0; c < spec_.memory.channels.size(); ++c)
            busy[c] += static_cast<double>(times[r]) * static_cast<double>(t.count) *
                       static_cast<double>(tr.reads[c] + tr.writes[c]);
        }
        for (std::size_t c = 0; c < kMaxChannels; ++c)
          l.need[c] = std::min(1.0, busy[c] / static_cast<double>(l.alone.cycles));
      }
      job.layers.push_back(std::move(l));
    }
    u.queue.push_back(std::move(job));
  }

  std::vector<Completion> run_until(double seconds) override {
    advance(std::max(now_, seconds * spec_.memory_clock_hz));
    return take();
  }

  std::vector<Completion> run_to_completion() override {
    advance(std::numeric_limits<double>::infinity());
    return take();
  }

  double now() const override { return now_ / spec_.memory_clock_hz; }

  std::optional<double> next_completion(double before_s) override {
    // Simulated on a copy of the state: the answer must not move time.
    AnalyticalExecutor copy(spec_);
    copy.now_ = now_;
    for (std::size_t i = 0; i < units_.size(); ++i) copy.units_[i] = clone(units_[i]);
    for (;;) {
      copy.start_and_finish_instant();
      if (!copy.done_.empty()) {
        const double end = copy.done_.front().end_s;
        return end <= before_s ? std::optional<double>(end) : std::nullopt;
      }
      if (!copy.busy()) return std::nullopt;
      copy.step(std::numeric_limits<double>::infinity());
    }
  }

  std::optional<Preemption> preempt(std::size_t unit, Boundary at) override {
    UnitState& u = units_.at(unit);
    if (!u.job || u.cut_tile > 0) return std::nullopt;  // idle, or stopping inside its layer
    const Layer& l = u.job->layers[u.layer];
    Preemption p;
    p.id = u.job->id;
    p.unit = unit;
    for (std::size_t k = 0; k < u.layer; ++k) add_port_bytes(*u.job->layers[k].plan, p.bytes);
    const double alone = static_cast<double>(l.alone.cycles);
    if (at == Boundary::tile && u.left > 0) {
      // The layer alone is a sequence of tiles whose first k end (their writes landed) at
      // time_layer of those k tiles: the tile in progress is the first k whose end lies after
      // the work done so far (in the layer's own time, which sharing only slows down).
      const double done = alone - u.left;
      const u64 n = l.plan->tile_count();
      u64 lo = 1, hi = n;
      while (lo < hi) {
        const u64 mid = lo + (hi - lo) / 2;
        if (static_cast<double>(time_layer(plan_head(*l.plan, mid), spec_.memory).cycles) > done)
          hi = mid;
        else
          lo = mid + 1;
      }
      if (lo < n) {
        const dataflows::TilePlan head = plan_head(*l.plan, lo);
        u.cut = time_layer(head, spec_.memory);
        u.cut_tile = lo;
        u.left = static_cast<double>(u.cut.cycles) - done;
        u.stop_after = u.layer;
        add_port_bytes(head, p.bytes);
        p.layer = u.layer;
        p.tile = lo;
        return p;
      }
      // In its last tile: the next boundary is the layer's.
    }
    if (u.layer + 1 >= u.job->layers.size() || u.stop_after <= u.layer) return std::nullopt;
    u.stop_after = u.layer;
    add_port_bytes(*l.plan, p.bytes);
    p.layer = u.layer + 1;
    return p;
  }

 private:
  // A copy for looking ahead; its plans are this executor's (it lives shorter).
  static UnitState clone(const UnitState& u) {
    UnitState c;
    const auto copy_job = [](const Job& j) {
      Job k;
      k.id = j.id;
      for (const Layer& l : j.layers) {
        Layer m;
        m.plan = l.plan;
        m.alone = l.alone;
        m.need = l.need;
        k.layers.push_back(std::move(m));
      }
      return k;
    };
    for (const Job& j : u.queue) c.queue.push_back(copy_job(j));
    if (u.job) c.job = copy_job(*u.job);
    c.layer = u.layer;
    c.left = u.left;
    c.rate = u.rate;
    c.start = u.start;
    c.stop_after = u.stop_after;
    c.sum = u.sum;
    c.cut_tile = u.cut_tile;
    c.cut = u.cut;
    return c;
  }

  bool busy() const {
    return std::any_of(units_.begin(), units_.end(),
                       [](const UnitState& u) { return u.job || !u.queue.empty(); });
  }

  // Starts queued jobs on idle units and finishes layers of no time, at now_.
  void start_and_finish_instant() {
    for (std::size_t i = 0; i < units_.size(); ++i) {
      UnitState& u = units_[i];
      for (;;) {
        if (!u.job) {
          if (u.queue.empty()) break;
          u.job = std::move(u.queue.front());
          u.queue.pop_front();
          u.layer = 0;
          u.start = now_;
          u.sum = {};
          u.cut_tile = 0;
          u.stop_after = std::numeric_limits<std::size_t>::max();
          if (u.job->layers.empty()) {
            finish_job(i);
            continue;
          }
          u.left = static_cast<double>(u.job->layers[0].alone.cycles);
        }
        if (u.left > 0) break;
        finish_layer(i);
      }
    }
  }

  void finish_layer(std::size_t i) {
    UnitState& u = units_[i];
    const Layer& l = u.job->layers[u.layer];
    const LayerTiming& done = u.cut_tile > 0 ? u.cut : l.alone;
    u.sum.compute_cycles =
        checked_add(u.sum.compute_cycles, done.compute_cycles, "a job's compute cycle count");
    u.sum.busy_unit_cycles = checked_add(u.sum.busy_unit_cycles, done.busy_unit_cycles,
                                         "a job's busy unit-cycle count");
    if (u.layer + 1 < u.job->layers.size() && u.layer < u.stop_after) {
      ++u.layer;
      u.left = static_cast<double>(u.job->layers[u.layer].alone.cycles);
      return;
    }
    finish_job(i);
  }

  void finish_job(std::size_t i) {
    UnitState& u = units_[i];
    Completion c;
    c.id = u.job->id;
    c.unit = i;
    c.start_s = u.start / spec_.memory_clock_hz;
    c.end_s = now_ / spec_.memory_clock_hz;
    c.timing = u.sum;
    c.timing.cycles = static_cast<u64>(std::llround(now_ - u.start));
    c.timing.stall_cycles = c.timing.cycles - std::min(c.timing.cycles, c.timing.compute_cycles);
    c.layers_done = u.job->layers.empty() ? 0 : u.layer + (u.cut_tile > 0 ? 0 : 1);
    c.preempted = c.layers_done < u.job->layers.size();
    u.cut_tile = 0;
    done_.push_back(c);
    u.job.reset();
  }

  // Processor sharing of each channel among the running layers (see the file comment).
  void share() {
    const std::size_t channels = spec_.memory.channels.size();
    std::vector<UnitState*> running;
    for (auto& u : units_)
      if (u.job && u.left > 0) running.push_back(&u);
    std::array<double, kMaxChannels> lambda;
    lambda.fill(std::numeric_limits<double>::infinity());
    const auto need = [&](std::size_t j, std::size_t c) {
      return running[j]->job->layers[running[j]->layer].need[c];
    };
    // The rate of layer j allowed by the channels other than `skip`.
    const auto rate_without = [&](std::size_t j, std::size_t skip) {
      double r = 1;
      for (std::size_t c = 0; c < channels; ++c)
        if (c != skip && need(j, c) > 0) r = std::min(r, lambda[c] / need(j, c));
      return r;
    };
    // Each channel's fair level given the others', repeated until it settles (levels only grow
    // as other channels slow their users down, so this converges; channels are few).
    for (int round = 0; round < 64; ++round) {
      bool changed = false;
      for (std::size_t c = 0; c < channels; ++c) {
        std::vector<double> demand;
        for (std::size_t j = 0; j < running.size(); ++j)
          if (need(j, c) > 0) demand.push_back(need(j, c) * rate_without(j, c));
        std::sort(demand.begin(), demand.end());
        double capacity = 1, l = std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < demand.size(); ++k) {
          const double share = capacity / static_cast<double>(demand.size() - k);
          if (demand[k] > share) {
            l = share;
            break;
          }
          capacity -= demand[k];
        }
        if (!(l == lambda[c]) && std::abs(l - lambda[c]) > 1e-12 * std::max(1.0, l)) changed = true;
        lambda[c] = l;
      }
      if (!changed) break;
    }
    for (std::size_t j = 0; j < running.size(); ++j) running[j]->rate = rate_without(j, kMaxChannels);
    // Below saturation a layer's transfers still wait behind the others' on a channel: its
    // rate is 1 / (1 + sum over channels of need x the others' utilisation of the channel at
    // their rates), iterated to a fixed point (damped) and never above its share above.
    if (running.size() < 2) return;
    std::vector<double> share_rate(running.size()), r(running.size()), next(running.size());
    for (std::size_t j = 0; j < running.size(); ++j) share_rate[j] = r[j] = running[j]->rate;
    for (int round = 0; round < 200; ++round) {
      for (std::size_t j = 0; j < running.size(); ++j) {
        double wait = 0;
        for (std::size_t c = 0; c < channels; ++c) {
          if (need(j, c) <= 0) continue;
          double others = 0;
          for (std::size_t k = 0; k < running.size(); ++k)
            if (k != j) others += need(k, c) * r[k];
          wait += need(j, c) * others;
        }
        next[j] = std::min(share_rate[j], 1 / (1 + wait));
      }
      for (std::size_t j = 0; j < running.size(); ++j) r[j] = 0.5 * (r[j] + next[j]);
    }
    for (std::size_t j = 0; j < running.size(); ++j) running[j]->rate = r[j];
  }

  // One event: to the next layer end (true), or to `until` if that comes first (false).
  bool step(double until) {
    share();
    double dt = std::numeric_limits<double>::infinity();
    std::size_t first = units_.size();
    for (std::size_t i = 0; i < units_.size(); ++i) {
      const UnitState& u = units_[i];
      if (u.job && u.left > 0 && u.left / u.rate < dt) dt = u.left / u.rate, first = i;
    }
    if (first == units_.size() || now_ + dt > until) {
      if (std::isfinite(until)) {
        const double d = until - now_;
        for (auto& u : units_)
          if (u.job && u.left > 0) u.left = std::max(0.0, u.left - u.rate * d);
        now_ = until;
      }
      return false;
    }
    now_ += dt;  // alone (rate 1) a layer thus ends exactly T after it started
    for (std::size_t i = 0; i < units_.size(); ++i) {
      UnitState& u = units_[i];
      if (!u.job || u.left <= 0) continue;
      u.left = i == first ? 0 : u.left - u.rate * dt;
      // Layers ending within rounding of this event end with it.
      if (u.left <= 1e-9 * static_cast<double>(u.job->layers[u.layer].alone.cycles)) u.left = 0;
    }
    for (std::size_t i = 0; i < units_.size(); ++i)
      if (units_[i].job && units_[i].left <= 0) finish_layer(i);
    return true;
  }

  void advance(double until) {
    for (;;) {
      start_and_finish_instant();
      if (!busy() || !step(until)) break;
    }
    if (std::isfinite(until)) now_ = std::max(now_, until);
  }

  std::vector<Completion> take() {
    std::vector<Completion> out = std::move(done_);
    done_.clear();
    return out;
  }

  ExecutorSpec spec_;
  std::vector<UnitState> units_;
  double now_ = 0;  // memory cycles
  std::vector<Completion> done_;
};

}  // namespace

std::unique_ptr<PlanExecutor> make_analytical_executor(const ExecutorSpec& spec) {
  return std::make_unique<AnalyticalExecutor>(spec);
}

}  // namespace tessera::sim
