#include "serving/serve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <queue>

#include <fmt/format.h>

#include "serving/llm_serve.hpp"
#include "serving/policy.hpp"
#include "serving/sampling.hpp"
#include "serving/stage_costs.hpp"
#include "sim/executor.hpp"
#include "sim/metrics.hpp"

namespace tessera::serving {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using u32 = std::uint32_t;
using u64 = std::uint64_t;

struct Req {
  double arrival = 0, deadline = kInf, start = -1, end = -1, energy = 0, busy = 0;
  double batch_sum = 0, jobs = 0;
  u32 stream = 0, model = 0, exit_stage = 0;
};

struct Work {
  std::vector<u32> reqs;
  u32 model = 0, stage = 0, layer = 0;
  u64 id = 0;
  double arrival = 0, deadline = kInf, remaining = 0, expected = 0;
  int priority = 0;
};

struct UnitState {
  bool busy = false, preempting = false;
  Work work;
  const StageCost* cost = nullptr;
  double start = 0, base = 0, end = 0, wake = kInf;
  u32 stop = 0;  // the layers [work.layer, stop) run
  u64 version = 0;
};

struct Event {
  double t;
  u64 seq;
  u32 unit;
  u64 version;
  bool wake;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

class Loop {
 public:
  Loop(const Scenario& s, const ServeOptions& o)
      : s_(s), o_(o), costs_(s), policy_(policies().get(s.policy)), units_(s.units.size()) {
    if (s.memory == "shared") {  // jobs contend for the first unit's memory system
      sim::ExecutorSpec spec;
      for (const Unit& u : s.units)
        spec.units.push_back({u.arch.engine->engine_name(), u.arch.engine->clock_hz()});
      spec.memory = s.units.front().arch.engine->memory();
      spec.memory_clock_hz = s.units.front().arch.engine->clock_hz();
      exec_ = sim::fidelities().get(s.fidelity).executor(spec, nullptr);
    }
  }

  ServingReport run();

 private:
  Rank rank(const Work& w, double now) const {
    WorkView v;
    v.arrival_s = w.arrival;
    v.deadline_s = w.deadline;
    v.remaining_s = w.remaining;
    v.expected_remaining_s = w.expected;
    v.priority = w.priority;
    v.now_s = now;
    return policy_.rank(v);
  }
  bool before(const Work& a, const Work& b, double now) const {
    const Rank ra = rank(a, now), rb = rank(b, now);
    if (ra != rb) return ra < rb;
    if (a.arrival != b.arrival) return a.arrival < b.arrival;
    return a.id < b.id;
  }
  // What is left of `w` alone on the first unit: all of it, and in expectation.
  void estimate(Work& w) {
    const double done = w.layer > 0 ? costs_.get(w.model, w.stage, 1, 0).end_s[w.layer - 1] : 0.0;
    w.remaining = costs_.full_time_s(w.model, 0, w.stage) - done;
    w.expected = costs_.expected_time_s(w.model, 0, w.stage) - done;
  }
  Work make_work(std::vector<u32> reqs, u32 model, u32 stage) {
    Work w;
    w.reqs = std::move(reqs);
    w.model = model;
    w.stage = stage;
    w.id = next_id_++;
    w.arrival = kInf;
    w.priority = std::numeric_limits<int>::min();
    for (u32 r : w.reqs) {
      w.arrival = std::min(w.arrival, reqs_[r].arrival);
      w.deadline = std::min(w.deadline, reqs_[r].deadline);
      w.priority = std::max(w.priority, s_.streams[reqs_[r].stream].priority);
    }
    estimate(w);
    return w;
  }
  void count_queue(const Work& w, double t, int sign) {
    for (u32 r : w.reqs) {
      const u32 st = reqs_[r].stream;
      queue_log_.push_back({t, st, sign});
      auto& q = queued_[st];
      q.integral += static_cast<double>(q.count) * (t - q.since);
      q.since = t;
      q.count += sign;
      q.max = std::max(q.max, q.count);
    }
  }
  void enqueue(Work w, double t) {
    count_queue(w, t, +1);
    queue_.push_back(std::move(w));
  }
  Work take(std::size_t i, double t) {
    Work w = std::move(queue_[i]);
    queue_[i] = std::move(queue_.back());
    queue_.pop_back();
    count_queue(w, t, -1);
    return w;
  }
  void push(double t, u32 unit, bool wake) {
    events_.push({t, seq_++, unit, units_[unit].version, wake});
  }
  void start(u32 u, Work w, double t);
  void dispatch(u32 u, double t);
  void job_end(u32 u, double t);
  void maybe_preempt(const Work& w, double t);

  const Scenario& s_;
  const ServeOptions& o_;
  StageCosts costs_;
  const Policy& policy_;
  std::vector<UnitState> units_;
  std::vector<UnitStats> unit_stats_;
  std::vector<Req> reqs_;
  std::vector<Work> queue_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::unique_ptr<sim::PlanExecutor> exec_;  // memory "shared": jobs run here
  u64 seq_ = 0, next_id_ = 0;
  std::int64_t done_ = 0, events_count_ = 0;
  struct QueueCount {
    std::int64_t count = 0, max = 0;
    double integral = 0, since = 0;
  };
  std::vector<QueueCount> queued_;
  struct QueueChange {
    double t;
    u32 stream;
    int delta;
  };
  std::vector<QueueChange> queue_log_;
};

void Loop::start(u32 u, Work w, double t) {
  UnitState& us = units_[u];
  us.cost = &costs_.get(w.model, w.stage, static_cast<std::int64_t>(w.reqs.size()), u);
  us.base = w.layer > 0 ? us.cost->end_s[w.layer - 1] : 0.0;
  us.start = t;
  us.end = t + us.cost->time_s() - us.base;
  us.stop = static_cast<u32>(us.cost->layers());
  us.busy = true;
  us.preempting = false;
  us.wake = kInf;
  for (u32 r : w.reqs)
    if (reqs_[r].start < 0) reqs_[r].start = t;
  us.work = std::move(w);
  ++us.version;
  if (exec_) {
    const auto plans = us.cost->plan->plans();
    exec_->submit(u, std::vector<const dataflows::TilePlan*>(plans.begin() + us.work.layer, plans.end()),
                  us.version);
  } else {
    push(us.end, u, false);
  }
}

void Loop::dispatch(u32 u, double t) {
  if (queue_.empty()) return;
  std::size_t best = 0;
  for (std::size_t i = 1; i < queue_.size(); ++i)
    if (before(queue_[i], queue_[best], t)) best = i;
  const Batching& b = s_.batching;
  const Work& head = queue_[best];
  const bool batches = b.mode != BatchingMode::none && head.layer == 0 &&
                       (head.stage == 0 || b.mode == BatchingMode::fluid);
  if (!batches) {
    start(u, take(best, t), t);
    return;
  }
  // Waiting work that may join: same model and stage, at its start, best ranked first.
  std::vector<std::size_t> join;
  for (std::size_t i = 0; i < queue_.size(); ++i)
    if (i != best && queue_[i].model == head.model && queue_[i].stage == head.stage &&
        queue_[i].layer == 0)
      join.push_back(i);
  std::sort(join.begin(), join.end(),
            [&](std::size_t x, std::size_t y) { return before(queue_[x], queue_[y], t); });
  std::size_t size = head.reqs.size();
  std::vector<std::size_t> chosen = {best};
  double oldest = head.arrival;
  for (std::size_t i : join) {
    if (size + queue_[i].reqs.size() > static_cast<std::size_t>(b.size)) continue;
    size += queue_[i].reqs.size();
    oldest = std::min(oldest, queue_[i].arrival);
    chosen.push_back(i);
  }
  if (b.mode == BatchingMode::static_size && size < static_cast<std::size_t>(b.size) &&
      t < oldest + b.timeout_s) {
    // A static batch waits for its size, or until its oldest request has waited the timeout.
    const double wake = oldest + b.timeout_s;
    if (units_[u].wake != wake) {
      units_[u].wake = wake;
      push(wake, u, true);
    }
    return;
  }
  // Take the chosen work out of the queue (highest index first, as take() moves the last in).
  std::sort(chosen.begin(), chosen.end(), std::greater<>());
  std::vector<Work> parts;
  for (std::size_t i : chosen) parts.push_back(take(i, t));
  std::vector<u32> reqs;
  for (auto& p : parts) reqs.insert(reqs.end(), p.reqs.begin(), p.reqs.end());
  std::sort(reqs.begin(), reqs.end());
  const u32 model = parts.front().model, stage = parts.front().stage;
  start(u, make_work(std::move(reqs), model, stage), t);
}

void Loop::job_end(u32 u, double t) {
  UnitState& us = units_[u];
  Work& w = us.work;
  const StageCost& c = *us.cost;
  const double e0 = w.layer > 0 ? c.energy_pj[w.layer - 1] : 0.0;
  const double energy = c.energy_pj[us.stop - 1] - e0;
  const double n = static_cast<double>(w.reqs.size());
  for (u32 r : w.reqs) {
    reqs_[r].energy += energy / n;
    reqs_[r].busy += (t - us.start) / n;
    reqs_[r].batch_sum += n;
    reqs_[r].jobs += 1;
  }
  unit_stats_[u].busy_s += t - us.start;
  ++unit_stats_[u].jobs;
  us.busy = false;
  const bool preempted = us.preempting;
  us.preempting = false;
  if (us.stop < c.layers()) {  // preempted: the rest waits again and resumes at this layer
    ++unit_stats_[u].preemptions;
    w.layer = us.stop;
    estimate(w);
    enqueue(std::move(w), t);
    return;
  }
  const u32 last = static_cast<u32>(costs_.stages(w.model) - 1);
  std::vector<u32> survivors;
  for (u32 r : w.reqs) {
    if (reqs_[r].exit_stage <= w.stage || w.stage == last) {
      reqs_[r].end = t;
      ++done_;
    } else {
      survivors.push_back(r);
    }
  }
  if (survivors.empty()) return;
  Work next = make_work(std::move(survivors), w.model, w.stage + 1);
  if (s_.batching.mode == BatchingMode::fluid || preempted)
    enqueue(std::move(next), t);
  else  // the batch runs its next stage at once, without those that exited
    start(u, std::move(next), t);
}

void Loop::maybe_preempt(const Work& w, double t) {
  if (s_.preemption != Preemption::layer) return;
  std::optional<u32> victim;
  for (u32 u = 0; u < units_.size(); ++u) {
    if (!units_[u].busy) return;  // a free unit takes it
    if (units_[u].preempting) continue;
    if (!victim || before(units_[*victim].work, units_[u].work, t)) victim = u;
  }
  if (!victim || !before(w, units_[*victim].work, t)) return;
  UnitState& us = units_[*victim];
  if (exec_) {  // the executor stops it where its current layer ends
    if (exec_->preempt(*victim)) us.preempting = true;
    return;
  }
  // The layer in progress at t ends at the first boundary at or after t.
  const auto& ends = us.cost->end_s;
  const double at = us.base + (t - us.start);
  const auto it = std::lower_bound(ends.begin() + us.work.layer, ends.end(), at - 1e-15);
  const u32 stop = static_cast<u32>(it - ends.begin()) + 1;
  if (stop >= us.cost->layers()) return;  // its last layer: it ends at that boundary anyway
  us.stop = stop;
  us.end = us.start + ends[stop - 1] - us.base;
  us.preempting = true;
  ++us.version;
  push(us.end, *victim, false);
}

ServingReport Loop::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  ServingReport rep;
  unit_stats_.resize(s_.units.size());
  queued_.resize(s_.streams.size());

  // Arrivals, merged over the streams in time order (ties: stream order).
  struct Arr {
    double t;
    u32 stream;
  };
  std::vector<Arr> arrivals;
  {
    const std::int64_t limit = s_.requests ? *s_.requests : std::numeric_limits<std::int64_t>::max();
    const double until = s_.duration_s ? *s_.duration_s : kInf;
    for (u32 i = 0; i < s_.streams.size(); ++i) {
      Rng rng(mix(s_.seed ^ mix(2 * i + 1)));
      for (double t : arrival_times(s_.streams[i].arrival, rng, limit, until)) arrivals.push_back({t, i});
      if (arrivals.size() > 200'000'000)
        throw InputError(s_.file + ": more than 2e8 arrivals; shorten duration_s");
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const Arr& a, const Arr& b) { return a.t < b.t; });
    if (s_.requests && arrivals.size() > static_cast<std::size_t>(*s_.requests))
      arrivals.resize(static_cast<std::size_t>(*s_.requests));
  }
  // SLOs in seconds, and each request's exit stage.
  std::vector<double> slo(s_.streams.size(), kInf);
  std::vector<Rng> exit_rng;
  for (u32 i = 0; i < s_.streams.size(); ++i) {
    const Stream& st = s_.streams[i];
    if (st.slo_s) slo[i] = *st.slo_s;
    if (st.slo_multiple) slo[i] = *st.slo_multiple * costs_.full_time_s(st.model, 0);
    exit_rng.emplace_back(mix(s_.seed ^ mix(2 * i + 2)));
  }
  reqs_.resize(arrivals.size());
  std::vector<std::size_t> of_model(s_.models.size(), 0);  // requests of each model so far
  for (std::size_t k = 0; k < arrivals.size(); ++k) {
    Req& r = reqs_[k];
    r.arrival = arrivals[k].t;
    r.stream = arrivals[k].stream;
    r.model = static_cast<u32>(s_.streams[r.stream].model);
    r.deadline = r.arrival + slo[r.stream];
    const auto& p = costs_.exit_probability(r.model);
    const u32 stages = static_cast<u32>(p.size());
    r.exit_stage = stages - 1;
    const auto& decisions = s_.models[r.model].exit_decisions;
    if (!decisions.empty()) {
      r.exit_stage = decisions[of_model[r.model]++ % decisions.size()];
    } else if (stages > 1) {
      const double x = exit_rng[r.stream].uniform();
      double cum = 0;
      for (u32 st = 0; st + 1 < stages; ++st) {
        cum += p[st];
        if (x < cum) {
          r.exit_stage = st;
          break;
        }
      }
    }
  }

  // The event loop.
  const std::int64_t total = static_cast<std::int64_t>(reqs_.size());
  std::size_t ai = 0;
  std::int64_t reported = 0;
  double last_t = 0;
  // The executor's next completion before the loop's next arrival or event (infinity: none); the
  // SystemC executor runs its kernel that far, so nothing may be submitted before it.
  const auto next_completion = [&] {
    if (!exec_) return kInf;
    const double horizon = std::min(ai < reqs_.size() ? reqs_[ai].arrival : kInf,
                                    events_.empty() ? kInf : events_.top().t);
    return exec_->next_completion(horizon).value_or(kInf);
  };
  double next_done = next_completion();
  while (ai < reqs_.size() || !events_.empty() || next_done < kInf) {
    double t = std::min(ai < reqs_.size() ? reqs_[ai].arrival : kInf,
                        events_.empty() ? kInf : events_.top().t);
    if (exec_) {
      t = std::min(t, next_done);
      std::vector<sim::Completion> done = exec_->run_until(t);
      // The completion's time in seconds may round a hair below its cycle: step up to it.
      for (double up = t; done.empty() && t == next_done && up < t * (1 + 1e-9) + 1e-15;) {
        up = std::nextafter(up * (1 + 1e-13), kInf);
        done = exec_->run_until(up);
      }
      for (const sim::Completion& c : done) {
        ++events_count_;
        UnitState& us = units_[c.unit];
        us.stop = us.work.layer + static_cast<u32>(c.layers_done);
        job_end(static_cast<u32>(c.unit), std::max(last_t, c.end_s));
      }
    }
    last_t = t;
    while (!events_.empty() && events_.top().t <= t) {
      const Event e = events_.top();
      events_.pop();
      ++events_count_;
      UnitState& us = units_[e.unit];
      if (e.wake) {
        if (us.wake == e.t) us.wake = kInf;
      } else if (us.busy && e.version == us.version) {
        job_end(e.unit, t);
      }
    }
    while (ai < reqs_.size() && reqs_[ai].arrival <= t) {
      ++events_count_;
      Work w = make_work({static_cast<u32>(ai)}, reqs_[ai].model, 0);
      maybe_preempt(w, t);
      enqueue(std::move(w), t);
      ++ai;
    }
    for (u32 u = 0; u < units_.size(); ++u)
      if (!units_[u].busy) dispatch(u, t);
    next_done = next_completion();
    if (o_.progress && done_ - reported >= 20000) {
      reported = done_;
      o_.progress(done_, total);
    }
  }
  if (o_.progress) o_.progress(done_, total);

  // The report.
  rep.scenario = s_.name;
  rep.file = s_.file;
  rep.policy = s_.policy;
  rep.batching = to_string(s_.batching.mode);
  rep.batch_size = s_.batching.size;
  rep.batch_timeout_s = s_.batching.timeout_s;
  rep.preemption = s_.preemption == Preemption::layer ? "layer" : "none";
  rep.fidelity = s_.fidelity;
  rep.seed = s_.seed;
  rep.resolved = s_.resolved;
  for (const Req& r : reqs_) rep.span_s = std::max(rep.span_s, r.end);
  const double span = rep.span_s;
  const double units = static_cast<double>(s_.units.size());
  for (std::size_t m = 0; m < s_.models.size(); ++m)
    rep.models.push_back({s_.models[m].name, s_.models[m].file, costs_.full_time_s(m, 0),
                          costs_.stages(m)});
  for (std::size_t u = 0; u < s_.units.size(); ++u) {
    UnitStats us = unit_stats_[u];
    us.name = s_.units[u].name;
    us.engine = s_.units[u].arch.engine->engine_name();
    us.utilization = span > 0 ? us.busy_s / span : 0;
    rep.units.push_back(us);
  }
  const auto stats = [&](const std::string& name, const std::string& model, auto&& member) {
    ServingStats st;
    st.name = name;
    st.model = model;
    std::vector<double> lat;
    double wait = 0, busy = 0, energy = 0, batch = 0, jobs = 0;
    std::int64_t met = 0;
    for (const Req& r : reqs_) {
      if (!member(r)) continue;
      const double l = r.end - r.arrival;
      lat.push_back(l);
      wait += r.start - r.arrival;
      busy += r.busy;
      energy += r.energy;
      batch += r.batch_sum;
      jobs += r.jobs;
      if (l <= slo[r.stream] * (1 + 1e-12)) ++met;
    }
    st.requests = static_cast<std::int64_t>(lat.size());
    if (lat.empty()) return st;
    const double n = static_cast<double>(lat.size());
    std::sort(lat.begin(), lat.end());
    double sum = 0;
    for (double l : lat) sum += l;
    st.mean_latency_s = sum / n;
    st.p50_latency_s = percentile(lat, 0.50);
    st.p95_latency_s = percentile(lat, 0.95);
    st.p99_latency_s = percentile(lat, 0.99);
    st.max_latency_s = lat.back();
    st.mean_wait_s = wait / n;
    st.slo_satisfaction = static_cast<double>(met) / n;
    st.throughput_rps = span > 0 ? n / span : 0;
    st.utilization = span > 0 ? busy / (units * span) : 0;
    st.energy_per_request_pj = energy / n;
    st.mean_batch = jobs > 0 ? batch / jobs : 0;
    return st;
  };
  rep.summary = stats("all", "", [](const Req&) { return true; });
  for (u32 i = 0; i < s_.streams.size(); ++i) {
    ServingStats st = stats(s_.streams[i].name, s_.models[s_.streams[i].model].name,
                            [i](const Req& r) { return r.stream == i; });
    if (std::isfinite(slo[i])) st.slo_s = slo[i];
    QueueCount& q = queued_[i];
    q.integral += static_cast<double>(q.count) * (span - q.since);
    st.mean_queue = span > 0 ? q.integral / span : 0;
    st.max_queue = q.max;
    rep.summary.mean_queue += st.mean_queue;
    rep.streams.push_back(st);
  }
  // The queue over time: the counts after every change up to each sample time.
  {
    const std::size_t k = std::max<std::size_t>(2, o_.queue_samples);
    std::vector<std::int64_t> by(s_.streams.size(), 0);
    std::int64_t all = 0;
    rep.queue_by_stream.assign(s_.streams.size(), {});
    std::size_t j = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const double t = span * static_cast<double>(i) / static_cast<double>(k - 1);
      for (; j < queue_log_.size() && queue_log_[j].t <= t; ++j) {
        by[queue_log_[j].stream] += queue_log_[j].delta;
        all += queue_log_[j].delta;
        rep.summary.max_queue = std::max(rep.summary.max_queue, all);
      }
      rep.queue_t_s.push_back(t);
      rep.queue_total.push_back(all);
      for (std::size_t st = 0; st < by.size(); ++st) rep.queue_by_stream[st].push_back(by[st]);
    }
  }
  rep.requests.reserve(reqs_.size());
  for (const Req& r : reqs_) rep.requests.push_back({r.stream, r.exit_stage, r.arrival, r.start, r.end});
  if (s_.units.size() > 1 && !exec_)
    rep.notes.push_back(
        "sub-accelerators are timed alone: sharing one memory system does not slow them down in "
        "this run (\"memory\": \"shared\" runs them on the executor)");
  if (exec_ && s_.fidelity != "analytical")
    rep.notes.push_back("the " + s_.fidelity + " executor times the jobs; their energy and the "
                        "policies' estimates come from stage costs timed analytically");
  rep.notes.push_back("energy counts the layers run; idle time between jobs costs none");
  rep.stage_costs = static_cast<std::int64_t>(costs_.computed());
  rep.events = events_count_;
  rep.cost_wall_s = costs_.wall_s();
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return rep;
}

nlohmann::json stats_json(const ServingStats& s) {
  nlohmann::json j = {{"requests", s.requests},
                      {"mean_latency_s", s.mean_latency_s},
                      {"p50_latency_s", s.p50_latency_s},
                      {"p95_latency_s", s.p95_latency_s},
                      {"p99_latency_s", s.p99_latency_s},
                      {"max_latency_s", s.max_latency_s},
                      {"mean_wait_s", s.mean_wait_s},
                      {"slo_satisfaction", s.slo_satisfaction},
                      {"throughput_rps", s.throughput_rps},
                      {"utilization", s.utilization},
                      {"energy_per_request_pj", s.energy_per_request_pj},
                      {"mean_queue", s.mean_queue},
                      {"max_queue", s.max_queue},
                      {"mean_batch", s.mean_batch}};
  if (!s.model.empty()) j["model"] = s.model;
  if (s.slo_s > 0) j["slo_s"] = s.slo_s;
  if (s.output_tokens > 0) {
    j["output_tokens"] = s.output_tokens;
    j["output_tokens_per_s"] = s.output_tokens_per_s;
    j["ttft_s"] = {{"mean", s.mean_ttft_s}, {"p50", s.p50_ttft_s}, {"p95", s.p95_ttft_s}, {"p99", s.p99_ttft_s}};
    j["tpot_s"] = {{"mean", s.mean_tpot_s}, {"p50", s.p50_tpot_s}, {"p95", s.p95_tpot_s}, {"p99", s.p99_tpot_s}};
  }
  return j;
}

}  // namespace

ServingReport serve(const Scenario& scenario, const ServeOptions& options) {
  if (scenario.serves_llm()) return serve_llm(scenario, options);
  return Loop(scenario, options).run();
}

nlohmann::json to_json(const ServingReport& r, bool requests) {
  nlohmann::json j;
  j["format"] = "tessera.serving_report";
  j["version"] = 1;
  j["scenario"] = {{"name", r.scenario}, {"file", r.file}, {"policy", r.policy},
                   {"batching", {{"mode", r.batching}, {"size", r.batch_size}, {"timeout_s", r.batch_timeout_s}}},
                   {"preemption", r.preemption}, {"fidelity", r.fidelity}, {"seed", r.seed}};
  j["summary"] = stats_json(r.summary);
  j["summary"]["span_s"] = r.span_s;
  j["streams"] = nlohmann::json::object();
  for (std::size_t i = 0; i < r.streams.size(); ++i) {
    j["streams"][r.streams[i].name] = stats_json(r.streams[i]);
    j["streams"][r.streams[i].name]["queue"] = r.queue_by_stream[i];
  }
  j["units"] = nlohmann::json::array();
  for (const auto& u : r.units)
    j["units"].push_back({{"name", u.name}, {"engine", u.engine}, {"busy_s", u.busy_s},
                          {"utilization", u.utilization}, {"jobs", u.jobs},
                          {"preemptions", u.preemptions}});
  j["models"] = nlohmann::json::array();
  for (const auto& m : r.models)
    j["models"].push_back({{"name", m.name}, {"workload", m.file},
                           {"isolated_latency_s", m.isolated_latency_s}, {"stages", m.stages}});
  j["queue_timeline"] = {{"t_s", r.queue_t_s}, {"total", r.queue_total}};
  j["metrics"] = metric_values(r);
  if (requests) {
    nlohmann::json rq = {{"stream", nlohmann::json::array()}, {"exit_stage", nlohmann::json::array()},
                         {"arrival_s", nlohmann::json::array()}, {"start_s", nlohmann::json::array()},
                         {"end_s", nlohmann::json::array()}};
    const bool llm = r.summary.output_tokens > 0;
    if (llm)
      for (const char* k : {"first_token_s", "prompt_tokens", "output_tokens", "unit"}) rq[k] = nlohmann::json::array();
    for (const auto& q : r.requests) {
      if (llm) {
        rq["first_token_s"].push_back(q.first_token_s);
        rq["prompt_tokens"].push_back(q.prompt_tokens);
        rq["output_tokens"].push_back(q.output_tokens);
        rq["unit"].push_back(q.unit);
      }
      rq["stream"].push_back(q.stream);
      rq["exit_stage"].push_back(q.exit_stage);
      rq["arrival_s"].push_back(q.arrival_s);
      rq["start_s"].push_back(q.start_s);
      rq["end_s"].push_back(q.end_s);
    }
    j["requests"] = std::move(rq);
  }
  if (r.summary.output_tokens > 0) {
    j["llm"] = {{"kv_capacity_tokens", r.kv_capacity_tokens}, {"kv_peak_tokens", r.kv_peak_tokens},
                {"kv_capacity_bytes", r.kv_capacity_bytes}, {"kv_peak_bytes", r.kv_peak_bytes},
                {"iterations", r.iterations}, {"prefill_tokens", r.prefill_tokens},
                {"chunk_tokens", r.chunk_tokens}, {"dispatch", r.dispatch}};
    for (std::size_t i = 0; i < r.units.size(); ++i) {
      j["units"][i]["kv_capacity_bytes"] = r.units[i].kv_capacity_bytes;
      j["units"][i]["kv_peak_bytes"] = r.units[i].kv_peak_bytes;
    }
    for (const auto& m : r.llm_models) {
      nlohmann::json one = stats_json(m.stats);
      one["units"] = m.units;
      one["iterations"] = m.iterations;
      one["kv_bytes_per_token"] = m.kv_bytes_per_token;
      one["kv_peak_tokens"] = m.kv_peak_tokens;
      j["llm"]["models"][m.stats.name] = std::move(one);
    }
  }
  j["notes"] = r.notes;
  j["run"] = {{"wall_s", r.wall_s}, {"stage_cost_wall_s", r.cost_wall_s},
              {"stage_costs", r.stage_costs}, {"events", r.events},
              {"simulated_s", r.span_s},
              {"requests_per_wall_s", r.wall_s > 0 ? static_cast<double>(r.summary.requests) / r.wall_s : 0.0}};
  j["resolved"] = r.resolved;
  return j;
}

std::map<std::string, double> metric_values(const ServingReport& r) {
  const ServingStats& s = r.summary;
  std::map<std::string, double> v = {{"mean_latency_s", s.mean_latency_s},
                                     {"p50_latency_s", s.p50_latency_s},
                                     {"p95_latency_s", s.p95_latency_s},
                                     {"p99_latency_s", s.p99_latency_s},
                                     {"slo_satisfaction", s.slo_satisfaction},
                                     {"throughput_rps", s.throughput_rps},
                                     {"energy_per_request_pj", s.energy_per_request_pj}};
  if (s.output_tokens > 0) {
    v["mean_ttft_s"] = s.mean_ttft_s;
    v["p50_ttft_s"] = s.p50_ttft_s;
    v["p99_ttft_s"] = s.p99_ttft_s;
    v["mean_tpot_s"] = s.mean_tpot_s;
    v["p50_tpot_s"] = s.p50_tpot_s;
    v["p99_tpot_s"] = s.p99_tpot_s;
    v["output_tokens_per_s"] = s.output_tokens_per_s;
  }
  double busy = 0;
  for (const auto& u : r.units) busy += u.utilization;
  v["utilization"] = r.units.empty() ? 0 : busy / static_cast<double>(r.units.size());
  return v;
}

std::string format_table(const ServingReport& r) {
  std::string out;
  const auto ms = [](double s) { return fmt::format("{:.3f}", s * 1e3); };
  out += fmt::format("scenario {}: policy {}, batching {}", r.scenario, r.policy, r.batching);
  if (r.batching != "none") out += fmt::format(" (size {}", r.batch_size);
  if (r.batching == "static") out += fmt::format(", timeout {} ms", ms(r.batch_timeout_s));
  if (r.batching != "none") out += ")";
  out += fmt::format(", preemption {}, seed {}\n", r.preemption, r.seed);
  out += fmt::format("{} requests over {:.4g} s simulated ({} fidelity stage costs: {}, wall {:.3g} s)\n\n",
                     r.summary.requests, r.span_s, r.fidelity, r.stage_costs, r.wall_s);
  out += fmt::format("{:<14} {:>7} {:>9} {:>9} {:>9} {:>9} {:>6} {:>8} {:>6} {:>8} {:>6}\n", "stream",
                     "reqs", "mean ms", "p50 ms", "p95 ms", "p99 ms", "SLO %", "req/s", "util%",
                     "uJ/req", "queue");
  const auto row = [&](const ServingStats& s) {
    std::string name = s.name.size() > 14 ? s.name.substr(0, 13) + "~" : s.name;
    out += fmt::format("{:<14} {:>7} {:>9} {:>9} {:>9} {:>9} {:>6.1f} {:>8.4g} {:>6.1f} {:>8.4g} {:>6.3g}\n",
                       name, s.requests, ms(s.mean_latency_s), ms(s.p50_latency_s), ms(s.p95_latency_s),
                       ms(s.p99_latency_s), 100 * s.slo_satisfaction, s.throughput_rps,
                       100 * s.utilization, s.energy_per_request_pj * 1e-6, s.mean_queue);
  };
  for (const auto& s : r.streams) row(s);
  if (r.streams.size() > 1) row(r.summary);
  out += "\n";
  if (r.summary.output_tokens > 0) {  // LLM requests: TTFT and TPOT
    out += fmt::format("{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "stream", "TTFT p50",
                       "TTFT p95", "TTFT p99", "TPOT p50", "TPOT p95", "TPOT p99", "tok/s");
    const auto llm_row = [&](const ServingStats& s) {
      std::string name = s.name.size() > 14 ? s.name.substr(0, 13) + "~" : s.name;
      out += fmt::format("{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9.4g}\n", name,
                         ms(s.p50_ttft_s), ms(s.p95_ttft_s), ms(s.p99_ttft_s), ms(s.p50_tpot_s),
                         ms(s.p95_tpot_s), ms(s.p99_tpot_s), s.output_tokens_per_s);
    };
    for (const auto& s : r.streams) llm_row(s);
    if (r.streams.size() > 1) llm_row(r.summary);
    if (!r.llm_models.empty()) out += "by model:\n";
    for (const auto& m : r.llm_models) llm_row(m.stats);
    if (r.kv_capacity_tokens > 0)
      out += fmt::format("(ms; TPOT after the first token; KV cache {} tokens, at most {} reserved; "
                         "{} iterations", r.kv_capacity_tokens, r.kv_peak_tokens, r.iterations);
    else
      out += fmt::format("(ms; TPOT after the first token; KV cache {:.4g} GiB, at most {:.4g} GiB "
                         "reserved; {} iterations", r.kv_capacity_bytes / 1073741824.0,
                         r.kv_peak_bytes / 1073741824.0, r.iterations);
    if (r.chunk_tokens > 0) out += fmt::format("; chunked prefill, {} tokens an iteration", r.chunk_tokens);
    if (r.units.size() > 1) out += ", dispatch " + r.dispatch;
    out += ")\n\n";
  }
  for (const auto& m : r.models)
    if (m.isolated_latency_s > 0)
      out += fmt::format("model {}: isolated latency {} ms{}\n", m.name, ms(m.isolated_latency_s),
                       m.stages > 1 ? fmt::format(", {} exit stages", m.stages) : "");
  for (const auto& u : r.units)
    out += fmt::format("unit {} ({}): utilization {:.1f} %, {} jobs, {} preemptions\n", u.name,
                       u.engine, 100 * u.utilization, u.jobs, u.preemptions);
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string format_comparison(const ServingReport& r,
                              const std::vector<std::pair<std::string, ServingReport>>& baselines) {
  std::string out = fmt::format("{:<22} {:>16} {:>9} {:>9} {:>9} {:>6} {:>10}\n", "run", "batching",
                                "mean ms", "p99 ms", "mean x", "SLO %", "util %");
  const auto row = [&](const std::string& name, const ServingReport& b) {
    const double ratio = r.summary.mean_latency_s > 0 ? b.summary.mean_latency_s / r.summary.mean_latency_s : 0;
    out += fmt::format("{:<22} {:>16} {:>9.3f} {:>9.3f} {:>9.2f} {:>6.1f} {:>10.1f}\n",
                       name.size() > 22 ? name.substr(0, 21) + "~" : name,
                       b.batching + "/" + b.policy, b.summary.mean_latency_s * 1e3,
                       b.summary.p99_latency_s * 1e3, ratio, 100 * b.summary.slo_satisfaction,
                       100 * metric_values(b).at("utilization"));
  };
  row("this run", r);
  for (const auto& [name, b] : baselines) row(name, b);
  out += "(mean x: the run's mean latency over this run's)\n";
  if (r.summary.output_tokens > 0) {  // LLM runs: what chunks, batching and dispatch change
    out += fmt::format("\n{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "run", "TTFT p50", "TTFT p99",
                       "TPOT p50", "TPOT p99", "tok/s");
    const auto llm_row = [&](const std::string& name, const ServingReport& b) {
      out += fmt::format("{:<22} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.4g}\n",
                         name.size() > 22 ? name.substr(0, 21) + "~" : name, b.summary.p50_ttft_s * 1e3,
                         b.summary.p99_ttft_s * 1e3, b.summary.p50_tpot_s * 1e3,
                         b.summary.p99_tpot_s * 1e3, b.summary.output_tokens_per_s);
    };
    llm_row("this run", r);
    for (const auto& [name, b] : baselines) llm_row(name, b);
    out += "(ms; all streams)\n";
  }
  return out;
}

}  // namespace tessera::serving
