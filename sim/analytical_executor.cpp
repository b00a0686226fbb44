// The analytical PlanExecutor: several units sharing the memory channels.
//
// A layer that has its channels to itself runs in closed form: it starts with them free and
// takes time_layer's T cycles (sim/analytical.hpp), so a unit alone is time_layer exactly, at
// the cost of one time_layer per layer. While layers of several units overlap on a channel they
// are stepped tile by tile instead, through time_layer's own recurrence (the reads of the first
// `input` tiles at the start; when a tile has computed, its writes and then the reads `input`
// tiles ahead; a tile computes once its reads have landed and the writes `output` tiles back
// have left) with each channel's free time shared by all units: a channel serves the transfers
// of every unit in the order they are issued, each holding it for its occupancy and landing the
// channel's latency later. That is the rule of the SystemC memory target, so the two executors
// differ only in the order of transfers issued at the same cycle (here: by unit index) and on
// detailed DRAM channels (here: each port's pattern rate, as time_layer). A layer running in
// closed form that another unit's layer comes to overlap is first stepped alone from its start
// to that moment (which replays its schedule exactly: nobody else used its channels) and is
// stepped from then on until it ends. Events (a tile's compute end, where it issues its writes
// and next reads; a layer's end) are taken in time order over the units.
//
// Cost: one time_layer per layer, plus a few operations per tile of the layers that overlap (a
// processor-sharing fluid model of the channels, cheaper, was 8-16 % off SystemC's mean and p99
// latency: docs/validation.md, "Several units sharing memory").
//
// Preemption at a tile boundary steps the running layer (catching it up first) and stops it as
// SystemC does: the tile computing finishes, one waiting for its reads or buffers does not
// start, no more reads are issued, and the layer ends when the writes issued have landed (reads
// already issued for later tiles still hold their channels).
//
// next_completion() runs a copy of the state forward; the next run_until() to the time it
// reached takes that copy over instead of running the same events again.
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>

#include "common/checked.hpp"
#include "sim/analytical.hpp"
#include "sim/executor.hpp"

namespace tessera::sim {

namespace {

constexpr u64 kNever = std::numeric_limits<u64>::max();
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
constexpr const char* kCycles = "cycle count";

struct LayerData {
  const dataflows::TilePlan* plan = nullptr;
  std::unique_ptr<dataflows::TilePlan> converted;  // on the memory clock, when clocks differ
  LayerTiming alone;
  std::vector<TileTransfers> transfers;  // per run of the plan (run_transfers)
  u64 tiles = 0;
  u64 channels = 0;  // bit c: the layer moves data on channel c
};

struct JobData {
  u64 id = 0;
  std::vector<LayerData> layers;
};
using JobPtr = std::shared_ptr<const JobData>;

// A layer stepped tile by tile (see the file comment).
struct Stepper {
  std::optional<dataflows::TileCursor> at, ahead;  // the tile scheduled last; the next to read
  u64 scheduled = 0;  // tiles scheduled to compute; the last may not have finished
  u64 read = 0;       // tiles whose reads are issued
  u64 di = 1, dout = 1;
  std::vector<u64> read_landed, write_sent;  // rings by tile index
  u64 start = 0;      // when the last scheduled tile starts computing (or streaming)
  u64 prev_end = 0;   // when the tile before it finished (the layer's start for tile 0)
  u64 last_landed = 0;
  u64 next = 0;       // the next event: the last scheduled tile's end, or the layer's
  bool ending = false;  // `next` is the layer's end
  u64 stop = kNever;  // preempted: tiles from this one are not computed
};

struct Unit {
  std::deque<JobPtr> queue;
  JobPtr job;  // running
  std::size_t layer = 0;
  u64 job_start = 0, layer_start = 0;
  std::size_t stop_after = kAll;  // preempted at a layer boundary: the last layer it runs
  LayerTiming sum;                // of the layers done
  bool stepped = false;
  u64 end = 0;  // closed form: when the layer ends
  Stepper st;

  const LayerData& current() const { return job->layers[layer]; }
  u64 next_event() const { return !job ? kNever : stepped ? st.next : end; }
};

// The executor's state and its event loop; copyable, for looking ahead.
class Model {
 public:
  explicit Model(const ExecutorSpec& spec) : spec_(&spec), units_(spec.units.size()) {}

  u64 now() const { return now_; }
  std::vector<Completion>& done() { return done_; }
  Unit& unit(std::size_t i) { return units_.at(i); }

  // Runs the events at or before `limit` (cycles); with `first_completion`, stops after the
  // event that completes a job. Returns whether it stopped there.
  bool advance(double limit, bool first_completion) {
    const std::size_t before = done_.size();
    start_idle();  // may complete jobs of no layers
    for (;;) {
      if (first_completion && done_.size() > before) return true;
      std::size_t u = units_.size();
      u64 t = kNever;
      for (std::size_t i = 0; i < units_.size(); ++i)
        if (units_[i].next_event() < t) t = units_[i].next_event(), u = i;
      if (u == units_.size() || static_cast<double>(t) > limit) break;
      now_ = std::max(now_, t);
      Unit& x = units_[u];
      if (!x.stepped || x.st.ending) {
        finish_layer(u);
      } else {
        step(x);
      }
    }
    if (limit > static_cast<double>(now_) && limit < static_cast<double>(kNever))
      now_ = static_cast<u64>(std::floor(limit));
    return false;
  }

  std::optional<Preemption> preempt(std::size_t unit, Boundary at) {
    Unit& x = units_.at(unit);
    if (!x.job) return std::nullopt;
    const LayerData& l = x.current();
    if (x.stepped && x.st.stop < l.tiles) return std::nullopt;  // stopping inside its layer
    Preemption p;
    p.id = x.job->id;
    p.unit = unit;
    for (std::size_t k = 0; k < x.layer; ++k) add_port_bytes(*x.job->layers[k].plan, p.bytes);
    if (at == Boundary::tile) {
      if (!x.stepped) materialize(x);
      Stepper& s = x.st;
      // The tile computing finishes; one waiting for its reads or buffers does not start (a
      // streaming tile is under way from its start).
      const bool computing = !s.ending && (l.plan->buffering.streaming || s.start <= now_);
      const u64 k = s.ending || computing ? s.scheduled : s.scheduled - 1;
      if (k < l.tiles) {
        s.stop = k;
        x.stop_after = x.layer;
        if (!s.ending && !computing) {  // it ends once the writes issued have landed
          --s.scheduled;
          s.ending = true;
          s.next = std::max({now_, s.prev_end, s.last_landed});
        }
        add_port_bytes(plan_head(*l.plan, k), p.bytes);
        p.layer = x.layer;
        p.tile = k;
        return p;
      }
    }
    if (x.layer + 1 >= x.job->layers.size() || x.stop_after <= x.layer) return std::nullopt;
    x.stop_after = x.layer;
    add_port_bytes(*l.plan, p.bytes);
    p.layer = x.layer + 1;
    return p;
  }

 private:
  void start_idle() {
    for (std::size_t i = 0; i < units_.size(); ++i)
      if (!units_[i].job && !units_[i].queue.empty()) start_job(i);
  }

  void start_job(std::size_t i) {
    Unit& x = units_[i];
    x.job = std::move(x.queue.front());
    x.queue.pop_front();
    x.layer = 0;
    x.job_start = now_;
    x.sum = {};
    x.stop_after = kAll;
    if (x.job->layers.empty()) {
      finish_job(i, false);
      return;
    }
    begin_layer(i);
  }

  // Starts the unit's current layer at now_: in closed form when no other unit's running layer
  // shares a channel with it and its channels are free; stepped otherwise, with the overlapping
  // layers that ran in closed form caught up to now_.
  void begin_layer(std::size_t i) {
    Unit& x = units_[i];
    const LayerData& l = x.current();
    x.layer_start = now_;
    x.stepped = false;
    bool alone = true;
    for (std::size_t c = 0; c < spec_->memory.channels.size(); ++c)
      if ((l.channels >> c & 1) && free_[c] > now_) alone = false;
    for (std::size_t v = 0; v < units_.size(); ++v) {
      Unit& y = units_[v];
      if (v == i || !y.job || !(y.current().channels & l.channels)) continue;
      alone = false;
      if (!y.stepped) materialize(y);
    }
    if (alone) {
      x.end = checked_add(now_, l.alone.cycles, kCycles);
      return;
    }
    begin_steps(x);
  }

  // Steps a layer running in closed form from its start to now_ (its channels were its own).
  void materialize(Unit& x) {
    begin_steps(x);
    while (!x.st.ending && x.st.next <= now_) step(x);
  }

  // Issues one transfer on each channel marked; returns when the last leaves its channel and
  // when the last lands.
  std::pair<u64, u64> issue(const std::array<u64, kMaxChannels>& occupancy,
                            const std::array<bool, kMaxChannels>& any, u64 at) {
    u64 sent = at, landed = at;
    for (std::size_t c = 0; c < spec_->memory.channels.size(); ++c) {
      if (!any[c]) continue;
      free_[c] = checked_add(std::max(free_[c], at), occupancy[c], kCycles);
      sent = std::max(sent, free_[c]);
      landed = std::max(landed,
                        checked_add(free_[c], spec_->memory.channels[c].latency_cycles, kCycles));
    }
    return {sent, landed};
  }

  void begin_steps(Unit& x) {
    const LayerData& l = x.current();
    const dataflows::TilePlan& plan = *l.plan;
    Stepper& s = x.st;
    s = Stepper{};
    x.stepped = true;
    s.at.emplace(plan);
    s.prev_end = s.next = x.layer_start;
    if (plan.buffering.streaming) {
      schedule(x, x.layer_start);
      return;
    }
    s.ahead.emplace(plan);
    s.di = std::max(1u, plan.buffering.input);
    s.dout = std::max(1u, plan.buffering.output);
    s.read_landed.assign(s.di, 0);
    s.write_sent.assign(s.dout, 0);
    for (; s.read < s.di && s.read < l.tiles && s.read < s.stop; ++s.read, s.ahead->advance())
      s.read_landed[s.read % s.di] =
          issue(l.transfers[s.ahead->run()].reads, l.transfers[s.ahead->run()].any_read,
                x.layer_start).second;
    schedule(x, x.layer_start);
  }

  // Schedules the next tile from `t` (the previous tile's end), or the layer's end.
  void schedule(Unit& x, u64 t) {
    const LayerData& l = x.current();
    Stepper& s = x.st;
    s.prev_end = t;
    if (s.scheduled >= l.tiles || s.scheduled >= s.stop) {
      s.ending = true;
      s.next = std::max(t, s.last_landed);
      return;
    }
    const std::size_t run = s.at->run();
    const u64 compute = l.plan->tiles[run].compute_cycles;
    if (l.plan->buffering.streaming) {  // reads, then writes, then compute alongside
      const TileTransfers& tr = l.transfers[run];
      const u64 r = issue(tr.reads, tr.any_read, t).second;
      const u64 w = issue(tr.writes, tr.any_write, t).second;
      s.start = t;
      s.next = std::max({checked_add(t, compute, kCycles), r, w});
      s.at->advance();
    } else {
      u64 start = std::max(t, s.read_landed[s.scheduled % s.di]);
      if (s.scheduled >= s.dout) start = std::max(start, s.write_sent[(s.scheduled - s.dout) % s.dout]);
      s.start = start;
      s.next = checked_add(start, compute, kCycles);
    }
    ++s.scheduled;
  }

  // The event at x.st.next, not the layer's end: the last scheduled tile has finished.
  void step(Unit& x) {
    Stepper& s = x.st;
    const u64 t = s.next;
    const LayerData& l = x.current();
    if (!l.plan->buffering.streaming) {
      const u64 j = s.scheduled - 1;
      const TileTransfers& tr = l.transfers[s.at->run()];
      const auto [sent, landed] = issue(tr.writes, tr.any_write, t);
      s.write_sent[j % s.dout] = sent;  // the result buffer is free once its data has left
      s.last_landed = std::max(s.last_landed, landed);
      s.at->advance();
      if (s.read < l.tiles && s.read < s.stop) {
        const TileTransfers& ahead = l.transfers[s.ahead->run()];
        s.read_landed[s.read % s.di] = issue(ahead.reads, ahead.any_read, t).second;
        ++s.read;
        s.ahead->advance();
      }
    }
    schedule(x, t);
  }

  void finish_layer(std::size_t i) {
    Unit& x = units_[i];
    const LayerData& l = x.current();
    const bool cut = x.stepped && x.st.stop < l.tiles;
    if (cut) {
      const dataflows::TilePlan head = plan_head(*l.plan, x.st.stop);
      x.sum.compute_cycles =
          checked_add(x.sum.compute_cycles, head.compute_cycles(), "a job's compute cycle count");
      x.sum.busy_unit_cycles = checked_add(x.sum.busy_unit_cycles, head.busy_unit_cycles(),
                                           "a job's busy unit-cycle count");
    } else {
      x.sum.compute_cycles = checked_add(x.sum.compute_cycles, l.alone.compute_cycles,
                                         "a job's compute cycle count");
      x.sum.busy_unit_cycles = checked_add(x.sum.busy_unit_cycles, l.alone.busy_unit_cycles,
                                           "a job's busy unit-cycle count");
    }
    x.stepped = false;
    x.st.stop = kNever;
    if (!cut && x.layer + 1 < x.job->layers.size() && x.layer < x.stop_after) {
      ++x.layer;
      begin_layer(i);
      return;
    }
    finish_job(i, cut);
  }

  void finish_job(std::size_t i, bool cut) {
    Unit& x = units_[i];
    Completion c;
    c.id = x.job->id;
    c.unit = i;
    c.start_s = static_cast<double>(x.job_start) / spec_->memory_clock_hz;
    c.end_s = static_cast<double>(now_) / spec_->memory_clock_hz;
    c.timing = x.sum;
    c.timing.cycles = now_ - x.job_start;
    c.timing.stall_cycles = c.timing.cycles - std::min(c.timing.cycles, c.timing.compute_cycles);
    c.layers_done = x.job->layers.empty() ? 0 : x.layer + (cut ? 0 : 1);
    c.preempted = c.layers_done < x.job->layers.size();
    done_.push_back(c);
    x.job.reset();
    x.stepped = false;
    if (!x.queue.empty()) start_job(i);
  }

  const ExecutorSpec* spec_;
  std::vector<Unit> units_;
  std::array<u64, kMaxChannels> free_{};  // when each channel has served what was issued to it
  u64 now_ = 0;
  std::vector<Completion> done_;};

class AnalyticalExecutor final : public PlanExecutor {
 public:
  explicit AnalyticalExecutor(const ExecutorSpec& spec) : spec_(spec), model_(spec_) {
    if (spec.units.empty()) throw std::invalid_argument("analytical executor: no compute units");
    if (spec.memory.channels.empty() || spec.memory.channels.size() > kMaxChannels)
      throw std::invalid_argument("analytical executor: 1 to " + std::to_string(kMaxChannels) + " memory channels");
  }
  // The model points at spec_: no copies or moves.
  AnalyticalExecutor(const AnalyticalExecutor&) = delete;
  AnalyticalExecutor& operator=(const AnalyticalExecutor&) = delete;

  const std::vector<UnitSpec>& units() const override { return spec_.units; }

  void submit(std::size_t unit, std::vector<const dataflows::TilePlan*> layers, u64 id) override {
    Unit& u = model_.unit(unit);
    auto job = std::make_shared<JobData>();
    job->id = id;
    job->layers.reserve(layers.size());
    for (const auto* plan : layers) {
      for (const auto& p : plan->ports)
        if (p.channel >= spec_.memory.channels.size())
          throw std::invalid_argument("analytical executor: port '" + p.name + "' has no channel");
      LayerData l;
      l.plan = &on_memory_clock(*plan, spec_.units[unit].clock_hz, spec_.memory_clock_hz,
                                l.converted);
      l.alone = time_layer(*l.plan, spec_.memory);
      l.transfers = run_transfers(*l.plan, spec_.memory);
      l.tiles = l.plan->tile_count();
      for (std::size_t r = 0; r < l.transfers.size(); ++r)
        for (std::size_t c = 0; c < spec_.memory.channels.size(); ++c)
          if (l.transfers[r].any_read[c] || l.transfers[r].any_write[c]) l.channels |= u64{1} << c;
      job->layers.push_back(std::move(l));
    }
    ahead_.reset();
    u.queue.push_back(std::move(job));
  }

  std::vector<Completion> run_until(double seconds) override {
    const double target =
        std::max(static_cast<double>(model_.now()), std::round(seconds * spec_.memory_clock_hz));
    take_ahead(target);
    model_.advance(target, false);
    return take();
  }

  std::vector<Completion> run_to_completion() override {
    take_ahead(std::numeric_limits<double>::infinity());
    model_.advance(std::numeric_limits<double>::infinity(), false);
    return take();
  }

  double now() const override { return static_cast<double>(model_.now()) / spec_.memory_clock_hz; }

  std::optional<double> next_completion(double before_s) override {
    // On a copy: the answer must not move time.
    ahead_.emplace(model_);
    const std::size_t pending = ahead_->done().size();
    const double limit = before_s * spec_.memory_clock_hz;
    if (!ahead_->advance(std::isnan(limit) ? 0.0 : limit, true)) return std::nullopt;
    return ahead_->done()[pending].end_s;
  }

  std::optional<Preemption> preempt(std::size_t unit, Boundary at) override {
    ahead_.reset();
    return model_.preempt(unit, at);
  }

 private:
  // The state next_completion() reached, when nothing changed since and it lies no later than
  // `target`: the run goes on from there.
  void take_ahead(double target) {
    if (ahead_ && static_cast<double>(ahead_->now()) <= target) model_ = std::move(*ahead_);
    ahead_.reset();
  }

  std::vector<Completion> take() {
    std::vector<Completion> out = std::move(model_.done());
    model_.done().clear();
    return out;
  }

  ExecutorSpec spec_;
  Model model_;
  std::optional<Model> ahead_;
};

}  // namespace

std::unique_ptr<PlanExecutor> make_analytical_executor(const ExecutorSpec& spec) {
  return std::make_unique<AnalyticalExecutor>(spec);
}

}  // namespace tessera::sim
