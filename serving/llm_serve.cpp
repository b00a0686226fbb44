#include "serving/llm_serve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>

#include "common/checked.hpp"
#include "common/error.hpp"
#include "serving/sampling.hpp"
#include "sim/generation.hpp"

namespace tessera::serving {

namespace {

using i64 = std::int64_t;
using u32 = std::uint32_t;
constexpr double kInf = std::numeric_limits<double>::infinity();

i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

// Draws a token count; the Zipf law's cumulative weights are made once per count.
class CountSampler {
 public:
  explicit CountSampler(const TokenCount& c) : c_(c) {
    if (c.kind != TokenCount::Kind::zipf) return;
    double sum = 0;
    for (i64 k = 0; k <= c.max - c.min; ++k) {
      sum += std::pow(static_cast<double>(k + 1), -c.theta);
      cdf_.push_back(sum);
    }
    for (double& v : cdf_) v /= sum;
  }
  i64 operator()(Rng& rng) const {
    switch (c_.kind) {
      case TokenCount::Kind::fixed: return c_.value;
      case TokenCount::Kind::uniform:
        return c_.min + std::min(c_.max - c_.min,
                                 static_cast<i64>(rng.uniform() * static_cast<double>(c_.max - c_.min + 1)));
      case TokenCount::Kind::geometric: {
        // Inversion: G = floor(log(1 - U) / log(q)), q = m / (m + 1) for mean m.
        const double m = c_.mean - static_cast<double>(c_.min);
        if (m <= 0) return c_.min;
        const double g = std::floor(std::log1p(-rng.uniform()) / std::log(m / (m + 1)));
        return c_.min + static_cast<i64>(std::min(g, static_cast<double>(c_.max - c_.min)));
      }
      case TokenCount::Kind::zipf: {
        const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), rng.uniform());
        return c_.min + std::min<i64>(c_.max - c_.min, it - cdf_.begin());
      }
    }
    return c_.value;
  }

 private:
  TokenCount c_;
  std::vector<double> cdf_;
};

struct Req {
  double arrival = 0, deadline = kInf, admitted = -1, first = -1, end = -1;
  double energy = 0, busy = 0, batch_sum = 0, iterations = 0;
  i64 prompt = 0, output = 0, generated = 0;
  u32 stream = 0;
  i64 kv() const { return prompt + output; }  // tokens reserved in the KV cache
};

}  // namespace

IterationCosts::IterationCosts(const Scenario& s, std::size_t model) : s_(s), model_(s.models[model]) {
  // KV bytes per token from a one-token prefill's cache writes (their precision is the cache's),
  // as the generation model measures them; the weights as the model stores them.
  workloads::WorkloadSettings st = model_.llm->settings;
  st.load.batch = 1;
  st.load.seq_len = 1;
  workloads::Graph g = workloads::build_transformer(model_.llm->config, model_.file, st.load);
  workloads::annotate(g, st, true);
  for (workloads::Graph::Node n = 0; n < g.size(); ++n) {
    const auto& op = g.op(n);
    weight_bytes_ = checked_add(weight_bytes_, op.weight_bytes(), "the model's weight bytes");
    if (const auto* m = std::get_if<workloads::DataMovement>(&op.shape);
        m && m->type == workloads::MoveType::cache_write)
      kv_bytes_per_token_ = checked_add(kv_bytes_per_token_, op.output_bytes(), "the KV bytes of a token");
  }
}

IterationCosts::Cost IterationCosts::exact(bool prefill, i64 batch, i64 len) {
  const auto key = std::make_tuple(prefill, batch, len);
  if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
  const auto start = std::chrono::steady_clock::now();
  // The graphs of sim::simulate_generation: the same settings, builder and annotations.
  workloads::WorkloadSettings st = model_.llm->settings;
  st.generation.reset();
  st.load.batch = batch;
  workloads::Graph g;
  if (prefill) {
    st.load.phase = "prefill";
    st.load.seq_len = len;
    g = workloads::build_transformer(model_.llm->config, model_.file, st.load);
    workloads::annotate(g, st, true);
  } else {
    g = sim::decode_graph(model_.llm->config, model_.file, st, len, 0);
  }
  const arch::Engine& engine = *s_.units.front().arch.engine;
  Cost c;
  std::uint64_t cycles = 0;
  for (const auto& l : sim::simulate(engine, g, s_.fidelity, nullptr, &cache_)) {
    cycles = checked_add(cycles, l.timing.cycles, "an iteration's cycle count");
    c.energy_pj += l.energy_pj;
  }
  c.seconds = static_cast<double>(cycles) / engine.clock_hz();
  wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return memo_[key] = c;
}

IterationCosts::Cost IterationCosts::grid(bool prefill, i64 batch, i64 len) {
  const i64 step = s_.llm.length_step;
  const i64 lo = len / step * step, hi = lo + step;
  // A decode step at KV length l uses position l + 1.
  const i64 last = model_.llm->config.max_positions - (prefill ? 0 : 1);
  if (step == 1 || lo == len || lo < 1 || hi > last) return exact(prefill, batch, len);
  const Cost a = exact(prefill, batch, lo), b = exact(prefill, batch, hi);
  const double w = static_cast<double>(len - lo) / static_cast<double>(step);
  return {a.seconds + w * (b.seconds - a.seconds), a.energy_pj + w * (b.energy_pj - a.energy_pj)};
}

IterationCosts::Cost IterationCosts::prefill(i64 batch, i64 tokens_each) {
  return grid(true, batch, tokens_each);
}

IterationCosts::Cost IterationCosts::decode(i64 batch, i64 kv_len) { return grid(false, batch, kv_len); }

ServingReport serve_llm(const Scenario& s, const ServeOptions& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::size_t model = s.streams.front().model;
  IterationCosts costs(s, model);

  // Arrivals, merged over the streams in time order (ties: stream order), as serve() makes them.
  std::vector<Req> reqs;
  {
    const i64 limit = s.requests ? *s.requests : std::numeric_limits<i64>::max();
    const double until = s.duration_s ? *s.duration_s : kInf;
    for (u32 i = 0; i < s.streams.size(); ++i) {
      Rng rng(mix(s.seed ^ mix(2 * i + 1)));
      for (double t : arrival_times(s.streams[i].arrival, rng, limit, until)) {
        Req r;
        r.arrival = t;
        r.stream = i;
        reqs.push_back(r);
      }
      if (reqs.size() > 100'000'000) throw InputError(s.file + ": more than 1e8 LLM requests; shorten duration_s");
    }
    std::stable_sort(reqs.begin(), reqs.end(), [](const Req& a, const Req& b) { return a.arrival < b.arrival; });
    if (s.requests && reqs.size() > static_cast<std::size_t>(*s.requests))
      reqs.resize(static_cast<std::size_t>(*s.requests));
  }
  // Token lengths per request, in each stream's arrival order.
  i64 capacity = std::numeric_limits<i64>::max();
  if (s.llm.kv_capacity_tokens) {
    capacity = *s.llm.kv_capacity_tokens;
  } else if (costs.kv_bytes_per_token() > 0) {
    const auto dram = static_cast<i64>(std::min<std::uint64_t>(
        s.units.front().arch.engine->memory().capacity_bytes, std::uint64_t{1} << 62));
    capacity = (dram - costs.weight_bytes()) / costs.kv_bytes_per_token();
    if (capacity < 1)
      throw InputError(s.file + ": the weights of '" + s.models[model].name +
                       "' leave no DRAM for the KV cache (dram.capacity; or give llm.kv_capacity_tokens)");
  }
  {
    std::vector<Rng> rng;
    std::vector<std::pair<CountSampler, CountSampler>> samplers;
    std::vector<std::size_t> next(s.streams.size(), 0);
    for (u32 i = 0; i < s.streams.size(); ++i) {
      rng.emplace_back(mix(s.seed ^ mix(0x4c4c4d00ULL + i)));
      samplers.emplace_back(CountSampler(s.streams[i].tokens->prompt), CountSampler(s.streams[i].tokens->output));
    }
    for (Req& r : reqs) {
      const TokenLengths& t = *s.streams[r.stream].tokens;
      if (!t.trace.empty()) {
        std::tie(r.prompt, r.output) = t.trace[next[r.stream]++ % t.trace.size()];
      } else {
        r.prompt = samplers[r.stream].first(rng[r.stream]);
        r.output = samplers[r.stream].second(rng[r.stream]);
      }
      if (s.streams[r.stream].slo_s) r.deadline = r.arrival + *s.streams[r.stream].slo_s;
      if (r.kv() > capacity)
        throw InputError(json_location(s.file, "/streams/" + std::to_string(r.stream)) +
                         "a request of " + std::to_string(r.prompt) + " prompt + " +
                         std::to_string(r.output) + " output tokens does not fit the KV cache of " +
                         std::to_string(capacity) + " tokens");
    }
  }

  // The iterations.
  const Batching& b = s.batching;
  const bool continuous = b.mode == BatchingMode::continuous;
  const auto limit = static_cast<std::size_t>(b.mode == BatchingMode::none ? 1 : b.size);
  const std::size_t n = reqs.size();
  std::deque<u32> waiting;
  std::vector<u32> running;
  i64 kv_used = 0;
  double t = 0, busy = 0;
  std::size_t ai = 0, done = 0, reported = 0;
  ServingReport rep;
  struct QueueChange {
    double t;
    u32 stream;
    int delta;
  };
  std::vector<QueueChange> queue_log;
  const auto account = [&](u32 r, const IterationCosts::Cost& c, std::size_t batch) {
    const double k = static_cast<double>(batch);
    reqs[r].energy += c.energy_pj / k;
    reqs[r].busy += c.seconds / k;
    reqs[r].batch_sum += k;
    reqs[r].iterations += 1;
  };
  const auto finish = [&](u32 r, double at) {
    reqs[r].end = at;
    kv_used -= reqs[r].kv();
    ++done;
  };
  while (done < n) {
    while (ai < n && reqs[ai].arrival <= t) {
      waiting.push_back(static_cast<u32>(ai));
      queue_log.push_back({reqs[ai].arrival, reqs[ai].stream, +1});
      ++ai;
    }
    // Admission: first come first served while the batch and the KV cache have room.
    std::size_t admit = 0;
    if (continuous || running.empty()) {
      i64 kv = kv_used;
      while (admit < waiting.size() && running.size() + admit < limit &&
             kv + reqs[waiting[admit]].kv() <= capacity)
        kv += reqs[waiting[admit++]].kv();
      // A static batch waits for its size, or until its oldest request has waited the timeout
      // (not when the KV cache is what stops it).
      const bool kv_bound = admit < waiting.size() && running.size() + admit < limit;
      if (b.mode == BatchingMode::static_size && admit > 0 && admit < limit && !kv_bound &&
          t < reqs[waiting.front()].arrival + b.timeout_s) {
        t = std::min(reqs[waiting.front()].arrival + b.timeout_s, ai < n ? reqs[ai].arrival : kInf);
        continue;
      }
    }
    IterationCosts::Cost c;
    if (admit > 0) {  // a prefill iteration of the admitted requests
      std::vector<u32> batch(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(admit));
      waiting.erase(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(admit));
      i64 tokens = 0;
      for (u32 r : batch) {
        tokens += reqs[r].prompt;
        kv_used += reqs[r].kv();
        reqs[r].admitted = t;
        queue_log.push_back({t, reqs[r].stream, -1});
      }
      c = costs.prefill(static_cast<i64>(admit), ceil_div(tokens, static_cast<i64>(admit)));
      const double end = t + c.seconds;
      for (u32 r : batch) {
        account(r, c, admit);
        reqs[r].first = end;
        reqs[r].generated = 1;
        if (reqs[r].output == 1)
          finish(r, end);
        else
          running.push_back(r);
      }
      rep.kv_peak_tokens = std::max(rep.kv_peak_tokens, kv_used);
    } else if (!running.empty()) {  // one decode step of every running request
      i64 kv = 0;
      for (u32 r : running) kv += reqs[r].prompt + reqs[r].generated - 1;
      const auto k = static_cast<i64>(running.size());
      c = costs.decode(k, ceil_div(kv, k));
      const double end = t + c.seconds;
      std::vector<u32> still;
      for (u32 r : running) {
        account(r, c, running.size());
        if (++reqs[r].generated == reqs[r].output)
          finish(r, end);
        else
          still.push_back(r);
      }
      running = std::move(still);
    } else {  // idle until the next arrival (every waiting request fits an empty machine)
      if (ai >= n) throw std::logic_error("LLM serving: waiting requests but nothing to run");
      t = std::max(t, reqs[ai].arrival);
      continue;
    }
    t += c.seconds;
    busy += c.seconds;
    ++rep.iterations;
    if (o.progress && done - reported >= 1000) {
      reported = done;
      o.progress(static_cast<i64>(done), static_cast<i64>(n));
    }
  }
  if (o.progress) o.progress(static_cast<i64>(done), static_cast<i64>(n));

  // The report.
  rep.scenario = s.name;
  rep.file = s.file;
  rep.policy = s.policy;
  rep.batching = to_string(b.mode);
  rep.batch_size = b.mode == BatchingMode::none ? 1 : b.size;
  rep.batch_timeout_s = b.timeout_s;
  rep.preemption = "none";
  rep.fidelity = s.fidelity;
  rep.seed = s.seed;
  rep.resolved = s.resolved;
  rep.kv_capacity_tokens = capacity == std::numeric_limits<i64>::max() ? 0 : capacity;
  for (const Req& r : reqs) rep.span_s = std::max(rep.span_s, r.end);
  const double span = rep.span_s;
  rep.models.push_back({s.models[model].name, s.models[model].file, 0.0, 1});
  {
    UnitStats u;
    u.name = s.units.front().name;
    u.engine = s.units.front().arch.engine->engine_name();
    u.busy_s = busy;
    u.utilization = span > 0 ? busy / span : 0;
    u.jobs = rep.iterations;
    rep.units.push_back(u);
  }
  const auto stats = [&](const std::string& name, const std::string& model_name, auto&& member) {
    ServingStats st;
    st.name = name;
    st.model = model_name;
    std::vector<double> lat, ttft, tpot;
    double wait = 0, used = 0, energy = 0, batch = 0, iterations = 0;
    i64 met = 0;
    for (const Req& r : reqs) {
      if (!member(r)) continue;
      lat.push_back(r.end - r.arrival);
      ttft.push_back(r.first - r.arrival);
      if (r.output > 1) tpot.push_back((r.end - r.first) / static_cast<double>(r.output - 1));
      wait += r.admitted - r.arrival;
      used += r.busy;
      energy += r.energy;
      batch += r.batch_sum;
      iterations += r.iterations;
      st.output_tokens += r.output;
      if (r.end <= r.deadline * (1 + 1e-12)) ++met;
    }
    st.requests = static_cast<i64>(lat.size());
    if (lat.empty()) return st;
    const double k = static_cast<double>(lat.size());
    const auto summarise = [](std::vector<double>& v, double& mean, double& p50, double& p95, double& p99) {
      if (v.empty()) return;
      std::sort(v.begin(), v.end());
      double sum = 0;
      for (double x : v) sum += x;
      mean = sum / static_cast<double>(v.size());
      p50 = percentile(v, 0.50);
      p95 = percentile(v, 0.95);
      p99 = percentile(v, 0.99);
    };
    summarise(lat, st.mean_latency_s, st.p50_latency_s, st.p95_latency_s, st.p99_latency_s);
    summarise(ttft, st.mean_ttft_s, st.p50_ttft_s, st.p95_ttft_s, st.p99_ttft_s);
    summarise(tpot, st.mean_tpot_s, st.p50_tpot_s, st.p95_tpot_s, st.p99_tpot_s);
    st.max_latency_s = lat.back();
    st.mean_wait_s = wait / k;
    st.slo_satisfaction = static_cast<double>(met) / k;
    st.throughput_rps = span > 0 ? k / span : 0;
    st.output_tokens_per_s = span > 0 ? static_cast<double>(st.output_tokens) / span : 0;
    st.utilization = span > 0 ? used / span : 0;
    st.energy_per_request_pj = energy / k;
    st.mean_batch = iterations > 0 ? batch / iterations : 0;
    return st;
  };
  rep.summary = stats("all", "", [](const Req&) { return true; });
  // Requests waiting (arrived, not yet admitted): time-averaged, most, and sampled over the span.
  std::vector<double> integral(s.streams.size(), 0), since(s.streams.size(), 0);
  std::vector<i64> count(s.streams.size(), 0), most(s.streams.size(), 0);
  for (const QueueChange& q : queue_log) {
    integral[q.stream] += static_cast<double>(count[q.stream]) * (q.t - since[q.stream]);
    since[q.stream] = q.t;
    count[q.stream] += q.delta;
    most[q.stream] = std::max(most[q.stream], count[q.stream]);
  }
  for (u32 i = 0; i < s.streams.size(); ++i) {
    ServingStats st = stats(s.streams[i].name, s.models[model].name, [i](const Req& r) { return r.stream == i; });
    if (s.streams[i].slo_s) st.slo_s = *s.streams[i].slo_s;
    st.mean_queue = span > 0 ? integral[i] / span : 0;
    st.max_queue = most[i];
    rep.summary.mean_queue += st.mean_queue;
    rep.streams.push_back(st);
  }
  {
    const std::size_t k = std::max<std::size_t>(2, o.queue_samples);
    std::vector<i64> by(s.streams.size(), 0);
    i64 all = 0;
    rep.queue_by_stream.assign(s.streams.size(), {});
    std::size_t j = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const double at = span * static_cast<double>(i) / static_cast<double>(k - 1);
      for (; j < queue_log.size() && queue_log[j].t <= at; ++j) {
        by[queue_log[j].stream] += queue_log[j].delta;
        all += queue_log[j].delta;
        rep.summary.max_queue = std::max(rep.summary.max_queue, all);
      }
      rep.queue_t_s.push_back(at);
      rep.queue_total.push_back(all);
      for (std::size_t st = 0; st < by.size(); ++st) rep.queue_by_stream[st].push_back(by[st]);
    }
  }
  rep.requests.reserve(n);
  for (const Req& r : reqs) {
    ServingReport::Request q;
    q.stream = r.stream;
    q.arrival_s = r.arrival;
    q.start_s = r.admitted;
    q.end_s = r.end;
    q.first_token_s = r.first;
    q.prompt_tokens = r.prompt;
    q.output_tokens = r.output;
    rep.requests.push_back(q);
  }
  rep.notes.push_back("a prefill of several prompts is timed at their mean length (exact token count, "
                      "attention at the mean); a decode step at the batch's mean KV length");
  rep.notes.push_back("each request reserves its prompt + output tokens of KV cache when admitted: "
                      "nothing is evicted or recomputed");
  rep.notes.push_back("energy counts the iterations run; idle time costs none");
  rep.stage_costs = static_cast<i64>(costs.computed());
  rep.events = rep.iterations;
  rep.cost_wall_s = costs.wall_s();
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return rep;
}

}  // namespace tessera::serving
