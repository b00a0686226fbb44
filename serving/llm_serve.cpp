#include "serving/llm_serve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
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
  i64 prompt = 0, output = 0, generated = 0, prefilled = 0;
  u32 stream = 0, model = 0, unit = 0;
  i64 kv() const { return prompt + output; }  // tokens reserved in the KV cache
};

bool is_attention(const std::string& name) {
  for (const char* part : {"attn.scores", "attn.softmax", "attn.context"}) {
    const std::string p = part;
    if (name.size() >= p.size() && name.compare(name.size() - p.size(), p.size(), p) == 0) return true;
  }
  return false;
}

// f(len) at len, or interpolated linearly between the multiples of `step` around it when both
// lie in [lo_min, hi_max].
template <class F>
auto on_grid(i64 len, i64 step, i64 lo_min, i64 hi_max, F&& f) {
  const i64 lo = len / step * step, hi = lo + step;
  if (step == 1 || lo == len || lo < lo_min || hi > hi_max) return f(len);
  const auto a = f(lo), b = f(hi);
  const double w = static_cast<double>(len - lo) / static_cast<double>(step);
  auto r = a;
  r.all.seconds += w * (b.all.seconds - a.all.seconds);
  r.all.energy_pj += w * (b.all.energy_pj - a.all.energy_pj);
  r.attention.seconds += w * (b.attention.seconds - a.attention.seconds);
  r.attention.energy_pj += w * (b.attention.energy_pj - a.attention.energy_pj);
  return r;
}

}  // namespace

IterationCosts::IterationCosts(const Scenario& s, std::size_t model, std::size_t unit)
    : s_(s), model_(s.models[model]), unit_(unit) {
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

IterationCosts::Parts IterationCosts::exact(Graph kind, i64 batch, i64 a, i64 b) {
  const auto key = std::make_tuple(kind, batch, a, b);
  if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
  const auto start = std::chrono::steady_clock::now();
  // The graphs of sim::simulate_generation: the same settings, builder and annotations.
  workloads::WorkloadSettings st = model_.llm->settings;
  st.generation.reset();
  st.load.batch = batch;
  workloads::Graph g;
  bool head = true;
  switch (kind) {
    case Graph::prefill:  // batch prompts of a tokens
      st.load.phase = "prefill";
      st.load.seq_len = a;
      g = workloads::build_transformer(model_.llm->config, model_.file, st.load);
      workloads::annotate(g, st, true);
      break;
    case Graph::decode:  // a decode step at KV length a
      g = sim::decode_graph(model_.llm->config, model_.file, st, a, 0);
      break;
    case Graph::chunk:  // a tokens after b cached ones (b >= 1)
      g = sim::decode_graph(model_.llm->config, model_.file, st, b, 0, a);
      break;
    case Graph::rows:  // a new token rows of one pass, b of them through the LM head
      g = sim::decode_graph(model_.llm->config, model_.file, st, 1, 0, a);
      for (workloads::Graph::Node n = 0; n < g.size(); ++n)
        if (auto* m = std::get_if<workloads::MatMul>(&g.op(n).shape); m && g.op(n).name == "lm_head") m->m = std::max<i64>(b, 1);
      head = b > 0;
      break;
  }
  const arch::Engine& engine = *s_.units[unit_].arch.engine;
  std::uint64_t cycles = 0, attention = 0;
  Parts p;
  for (const auto& l : sim::simulate(engine, g, s_.fidelity, nullptr, &cache_)) {
    if (!head && l.name == "lm_head") continue;
    cycles = checked_add(cycles, l.timing.cycles, "an iteration's cycle count");
    p.all.energy_pj += l.energy_pj;
    if (is_attention(l.name)) {
      attention = checked_add(attention, l.timing.cycles, "an iteration's cycle count");
      p.attention.energy_pj += l.energy_pj;
    }
  }
  p.all.seconds = static_cast<double>(cycles) / engine.clock_hz();
  p.attention.seconds = static_cast<double>(attention) / engine.clock_hz();
  wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return memo_[key] = p;
}

IterationCosts::Cost IterationCosts::prefill(i64 batch, i64 tokens_each) {
  return on_grid(tokens_each, s_.llm.length_step, 1, model_.llm->config.max_positions,
                 [&](i64 len) { return exact(Graph::prefill, batch, len, 0); }).all;
}

IterationCosts::Cost IterationCosts::decode(i64 batch, i64 kv_len) {
  // A decode step at KV length l uses position l + 1.
  return on_grid(kv_len, s_.llm.length_step, 1, model_.llm->config.max_positions - 1,
                 [&](i64 len) { return exact(Graph::decode, batch, len, 0); }).all;
}

IterationCosts::Cost IterationCosts::mixed(i64 batch, i64 kv_len, const std::vector<Chunk>& chunks) {
  const i64 step = s_.llm.length_step, positions = model_.llm->config.max_positions;
  i64 rows = batch, heads = batch;
  for (const Chunk& c : chunks) {
    rows += c.tokens;
    heads += c.last ? 1 : 0;
  }
  // Everything but attention over all the rows; the grid needs no upper bound (one position).
  const Parts all = on_grid(rows, step, 1, std::numeric_limits<i64>::max() / 2,
                            [&](i64 n) { return exact(Graph::rows, 1, n, heads); });
  Cost c{all.all.seconds - all.attention.seconds, all.all.energy_pj - all.attention.energy_pj};
  const auto add = [&](const Parts& p) {
    c.seconds += p.attention.seconds;
    c.energy_pj += p.attention.energy_pj;
  };
  if (batch > 0)
    add(on_grid(kv_len, step, 1, positions - 1, [&](i64 len) { return exact(Graph::decode, batch, len, 0); }));
  for (const Chunk& k : chunks) {
    // Over the chunk's length, then over the cached tokens before it (0: a prefill graph).
    const auto at = [&](i64 tokens, i64 before) {
      return before == 0 ? exact(Graph::prefill, 1, tokens, 0) : exact(Graph::chunk, 1, tokens, before);
    };
    add(on_grid(k.before, step, 0, positions - k.tokens, [&](i64 before) {
      return on_grid(k.tokens, step, 1, positions - before, [&](i64 tokens) { return at(tokens, before); });
    }));
  }
  return c;
}

namespace {

// One model's requests on one unit.
struct ModelQueue {
  u32 model = 0;
  IterationCosts* costs = nullptr;
  std::deque<u32> waiting;
  std::vector<u32> prefilling;  // admitted, prompt not all processed yet (chunked prefill)
  std::vector<u32> running;     // decoding
};

struct UnitLoop {
  std::vector<ModelQueue> queues;  // the models placed on the unit that have streams
  std::size_t turn = 0;            // the queue whose turn comes next
  i64 kv_capacity = 0, kv_used = 0, kv_peak = 0;  // bytes
  double boundary = kInf;  // when the running iteration ends, or when to look again
  bool in_iteration = false;
  std::vector<u32> ending;  // requests done at `boundary`
  i64 outstanding = 0;      // requests dispatched here and not done
  double busy = 0;
  i64 iterations = 0;
};

}  // namespace

ServingReport serve_llm(const Scenario& s, const ServeOptions& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::size_t nu = s.units.size(), nm = s.models.size();

  // Which units serve which model (models with streams only).
  std::vector<char> streamed(nm, 0);
  for (const Stream& st : s.streams) streamed[st.model] = 1;
  std::vector<std::vector<u32>> units_of(nm);
  for (u32 m = 0; m < nm; ++m) {
    if (!streamed[m]) continue;
    const auto it = std::find_if(s.llm.placement.begin(), s.llm.placement.end(),
                                 [&](const auto& p) { return p.first == s.models[m].name; });
    for (u32 u = 0; u < nu; ++u)
      if (it == s.llm.placement.end() ||
          std::find(it->second.begin(), it->second.end(), s.units[u].name) != it->second.end())
        units_of[m].push_back(u);
  }
  // Cost tables per (unit, model); units of the same design share them.
  std::vector<std::unique_ptr<IterationCosts>> tables;
  std::map<std::pair<std::string, u32>, IterationCosts*> by_design;
  std::vector<UnitLoop> loops(nu);
  std::vector<std::vector<std::size_t>> queue_of(nu, std::vector<std::size_t>(nm, 0));
  std::vector<i64> bytes_per_token(nm, 0);
  for (u32 m = 0; m < nm; ++m)
    for (u32 u : units_of[m]) {
      IterationCosts*& t = by_design[{s.units[u].arch.hash, m}];
      if (!t) {
        tables.push_back(std::make_unique<IterationCosts>(s, m, u));
        t = tables.back().get();
      }
      bytes_per_token[m] = t->kv_bytes_per_token();
      queue_of[u][m] = loops[u].queues.size();
      loops[u].queues.push_back({m, t, {}, {}, {}});
    }
  // Each unit's KV cache in bytes.
  constexpr i64 kUnbounded = std::numeric_limits<i64>::max() / 4;
  for (u32 u = 0; u < nu; ++u) {
    UnitLoop& L = loops[u];
    if (L.queues.empty()) continue;
    if (s.llm.kv_capacity_bytes) {
      L.kv_capacity = *s.llm.kv_capacity_bytes;
    } else if (s.llm.kv_capacity_tokens) {  // the unit serves one model (scenario check)
      const i64 b = bytes_per_token[L.queues.front().model];
      L.kv_capacity = b > 0 ? checked_mul(*s.llm.kv_capacity_tokens, b, "the KV capacity in bytes") : kUnbounded;
    } else {
      i64 weights = 0;
      for (const ModelQueue& q : L.queues) weights += q.costs->weight_bytes();
      const auto dram = static_cast<i64>(std::min<std::uint64_t>(
          s.units[u].arch.engine->memory().capacity_bytes, std::uint64_t{1} << 62));
      L.kv_capacity = dram - weights;
      std::int64_t smallest = kUnbounded;
      for (const ModelQueue& q : L.queues)
        if (q.costs->kv_bytes_per_token() > 0) smallest = std::min(smallest, q.costs->kv_bytes_per_token());
      if (L.kv_capacity < smallest) {
        std::string names;
        for (const ModelQueue& q : L.queues) names += (names.empty() ? "'" : ", '") + s.models[q.model].name + "'";
        throw InputError(s.file + ": the weights of " + names + " leave no DRAM for the KV cache" +
                         (nu > 1 ? " of unit '" + s.units[u].name + "'" : "") +
                         " (dram.capacity; or give llm.kv_capacity_tokens or llm.kv_capacity_bytes)");
      }
    }
  }
  const auto kv_bytes = [&](const Req& r) { return r.kv() * bytes_per_token[r.model]; };

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
        r.model = static_cast<u32>(s.streams[i].model);
        reqs.push_back(r);
      }
      if (reqs.size() > 100'000'000) throw InputError(s.file + ": more than 1e8 LLM requests; shorten duration_s");
    }
    std::stable_sort(reqs.begin(), reqs.end(), [](const Req& a, const Req& b) { return a.arrival < b.arrival; });
    if (s.requests && reqs.size() > static_cast<std::size_t>(*s.requests))
      reqs.resize(static_cast<std::size_t>(*s.requests));
  }
  // Token lengths per request, in each stream's arrival order; each must fit every unit its
  // model may be sent to.
  {
    std::vector<Rng> rng;
    std::vector<std::pair<CountSampler, CountSampler>> samplers;
    std::vector<std::size_t> next(s.streams.size(), 0);
    for (u32 i = 0; i < s.streams.size(); ++i) {
      rng.emplace_back(mix(s.seed ^ mix(0x4c4c4d00ULL + i)));
      samplers.emplace_back(CountSampler(s.streams[i].tokens->prompt), CountSampler(s.streams[i].tokens->output));
    }
    std::vector<i64> fits(nm, kUnbounded);  // the smallest KV cache of each model's units
    for (u32 m = 0; m < nm; ++m)
      for (u32 u : units_of[m]) fits[m] = std::min(fits[m], loops[u].kv_capacity);
    for (Req& r : reqs) {
      const TokenLengths& t = *s.streams[r.stream].tokens;
      if (!t.trace.empty()) {
        std::tie(r.prompt, r.output) = t.trace[next[r.stream]++ % t.trace.size()];
      } else {
        r.prompt = samplers[r.stream].first(rng[r.stream]);
        r.output = samplers[r.stream].second(rng[r.stream]);
      }
      if (s.streams[r.stream].slo_s) r.deadline = r.arrival + *s.streams[r.stream].slo_s;
      if (kv_bytes(r) > fits[r.model])
        throw InputError(json_location(s.file, "/streams/" + std::to_string(r.stream)) +
                         "a request of " + std::to_string(r.prompt) + " prompt + " +
                         std::to_string(r.output) + " output tokens does not fit the KV cache of " +
                         std::to_string(fits[r.model] / bytes_per_token[r.model]) + " tokens");
    }
  }

  // The iterations.
  const Batching& b = s.batching;
  const bool continuous = b.mode == BatchingMode::continuous;
  const i64 chunk = continuous ? b.chunk_tokens : 0;
  const auto limit = static_cast<std::size_t>(b.mode == BatchingMode::none ? 1 : b.size);
  const std::size_t n = reqs.size();
  std::size_t ai = 0, done = 0, reported = 0;
  i64 kv_total = 0, prefilled = 0;  // bytes reserved over all units; prompt tokens processed
  ServingReport rep;
  struct QueueChange {
    double t;
    u32 stream;
    int delta;
  };
  std::vector<QueueChange> queue_log;
  std::vector<i64> model_iterations(nm, 0), model_kv(nm, 0), model_kv_peak(nm, 0);
  const auto account = [&](u32 r, const IterationCosts::Cost& c, std::size_t batch) {
    const double k = static_cast<double>(batch);
    reqs[r].energy += c.energy_pj / k;
    reqs[r].busy += c.seconds / k;
    reqs[r].batch_sum += k;
    reqs[r].iterations += 1;
  };
  const auto finish = [&](UnitLoop& L, u32 r, double at) {
    reqs[r].end = at;
    L.ending.push_back(r);
    ++done;
  };
  // Runs an iteration of queue q at time t if it can; else lowers `wake` to when it may.
  const auto try_run = [&](UnitLoop& L, ModelQueue& q, double t, double& wake) -> bool {
    // Admission: first come first served while the batch and the KV cache have room.
    std::size_t admit = 0;
    const std::size_t in_batch = q.running.size() + q.prefilling.size();
    if (continuous || in_batch == 0) {
      i64 kv = L.kv_used;
      while (admit < q.waiting.size() && in_batch + admit < limit &&
             kv + kv_bytes(reqs[q.waiting[admit]]) <= L.kv_capacity)
        kv += kv_bytes(reqs[q.waiting[admit++]]);
      // A static batch waits for its size, or until its oldest request has waited the timeout
      // (not when the KV cache is what stops it).
      const bool kv_bound = admit < q.waiting.size() && in_batch + admit < limit;
      if (b.mode == BatchingMode::static_size && admit > 0 && admit < limit && !kv_bound &&
          t < reqs[q.waiting.front()].arrival + b.timeout_s) {
        wake = std::min(wake, reqs[q.waiting.front()].arrival + b.timeout_s);
        return false;
      }
    }
    std::vector<u32> batch(q.waiting.begin(), q.waiting.begin() + static_cast<std::ptrdiff_t>(admit));
    q.waiting.erase(q.waiting.begin(), q.waiting.begin() + static_cast<std::ptrdiff_t>(admit));
    for (u32 r : batch) {
      L.kv_used += kv_bytes(reqs[r]);
      kv_total += kv_bytes(reqs[r]);
      model_kv[q.model] += reqs[r].kv();
      reqs[r].admitted = t;
      queue_log.push_back({t, reqs[r].stream, -1});
    }
    L.kv_peak = std::max(L.kv_peak, L.kv_used);
    rep.kv_peak_bytes = std::max(rep.kv_peak_bytes, kv_total);
    model_kv_peak[q.model] = std::max(model_kv_peak[q.model], model_kv[q.model]);
    IterationCosts::Cost c;
    // The decode KV length of the running requests (their mean, rounded up).
    const auto mean_kv = [&] {
      i64 kv = 0;
      for (u32 r : q.running) kv += reqs[r].prompt + reqs[r].generated - 1;
      return ceil_div(kv, static_cast<i64>(q.running.size()));
    };
    // Decode steps of the running requests, ending at `end`.
    const auto step_running = [&](double end, std::size_t in_iteration) {
      std::vector<u32> still;
      for (u32 r : q.running) {
        account(r, c, in_iteration);
        if (++reqs[r].generated == reqs[r].output)
          finish(L, r, end);
        else
          still.push_back(r);
      }
      q.running = std::move(still);
    };
    // The prompt of r is done at `end`: its first token.
    const auto first_token = [&](u32 r, double end, std::vector<u32>& joined) {
      reqs[r].first = end;
      reqs[r].generated = 1;
      if (reqs[r].output == 1)
        finish(L, r, end);
      else
        joined.push_back(r);
    };
    if (chunk > 0) {  // chunked prefill: decode tokens, then chunks of prompts within the budget
      q.prefilling.insert(q.prefilling.end(), batch.begin(), batch.end());
      if (q.running.empty() && q.prefilling.empty()) return false;
      i64 budget = chunk - static_cast<i64>(q.running.size());
      std::vector<IterationCosts::Chunk> chunks;
      for (u32 r : q.prefilling) {
        if (budget <= 0) break;
        const i64 k = std::min(budget, reqs[r].prompt - reqs[r].prefilled);
        chunks.push_back({k, reqs[r].prefilled, reqs[r].prefilled + k == reqs[r].prompt});
        budget -= k;
      }
      const auto decoding = static_cast<i64>(q.running.size());
      c = chunks.empty() ? q.costs->decode(decoding, mean_kv())
                         : q.costs->mixed(decoding, decoding > 0 ? mean_kv() : 0, chunks);
      const double end = t + c.seconds;
      const std::size_t in_iteration = q.running.size() + chunks.size();
      step_running(end, in_iteration);
      std::vector<u32> joined, still;
      for (std::size_t j = 0; j < q.prefilling.size(); ++j) {
        const u32 r = q.prefilling[j];
        if (j >= chunks.size()) {
          still.push_back(r);
          continue;
        }
        account(r, c, in_iteration);
        reqs[r].prefilled += chunks[j].tokens;
        prefilled += chunks[j].tokens;
        if (chunks[j].last)
          first_token(r, end, joined);
        else
          still.push_back(r);
      }
      q.prefilling = std::move(still);
      q.running.insert(q.running.end(), joined.begin(), joined.end());
    } else if (admit > 0) {  // a prefill iteration of the admitted requests
      i64 tokens = 0;
      for (u32 r : batch) tokens += reqs[r].prompt;
      c = q.costs->prefill(static_cast<i64>(admit), ceil_div(tokens, static_cast<i64>(admit)));
      const double end = t + c.seconds;
      std::vector<u32> joined;
      for (u32 r : batch) {
        account(r, c, admit);
        reqs[r].prefilled = reqs[r].prompt;
        first_token(r, end, joined);
      }
      prefilled += tokens;
      q.running.insert(q.running.end(), joined.begin(), joined.end());
    } else if (!q.running.empty()) {  // one decode step of every running request
      c = q.costs->decode(static_cast<i64>(q.running.size()), mean_kv());
      step_running(t + c.seconds, q.running.size());
    } else {
      return false;
    }
    L.boundary = t + c.seconds;
    L.in_iteration = true;
    L.busy += c.seconds;
    ++L.iterations;
    ++model_iterations[q.model];
    ++rep.iterations;
    return true;
  };
  // A boundary of unit L at time t: the requests of the iteration that ends leave, then the next
  // model in turn that can run an iteration runs one.
  const auto boundary = [&](UnitLoop& L, double t) {
    for (u32 r : L.ending) {
      L.kv_used -= kv_bytes(reqs[r]);
      kv_total -= kv_bytes(reqs[r]);
      model_kv[reqs[r].model] -= reqs[r].kv();
      --L.outstanding;
    }
    L.ending.clear();
    L.in_iteration = false;
    double wake = kInf;
    for (std::size_t k = 0; k < L.queues.size(); ++k) {
      const std::size_t i = (L.turn + k) % L.queues.size();
      if (try_run(L, L.queues[i], t, wake)) {
        L.turn = (i + 1) % L.queues.size();
        return;
      }
    }
    L.boundary = wake;  // idle: until a static batch's timeout or the next arrival here
  };
  Rng dispatch_rng(mix(s.seed ^ mix(0x44495350ULL)));
  std::vector<std::size_t> turn_of(nm, 0);
  const auto dispatch = [&](u32 r) {
    const std::vector<u32>& cands = units_of[reqs[r].model];
    u32 u = cands.front();
    switch (s.llm.dispatch) {
      case Dispatch::round_robin: u = cands[turn_of[reqs[r].model]++ % cands.size()]; break;
      case Dispatch::random:
        u = cands[std::min(cands.size() - 1, static_cast<std::size_t>(dispatch_rng.uniform() *
                                                                       static_cast<double>(cands.size())))];
        break;
      case Dispatch::least_loaded:
        for (u32 c : cands)
          if (loops[c].outstanding < loops[u].outstanding) u = c;
        break;
    }
    reqs[r].unit = u;
    UnitLoop& L = loops[u];
    L.queues[queue_of[u][reqs[r].model]].waiting.push_back(r);
    ++L.outstanding;
    if (!L.in_iteration) L.boundary = std::min(L.boundary, reqs[r].arrival);
    queue_log.push_back({reqs[r].arrival, reqs[r].stream, +1});
  };
  while (done < n) {
    std::size_t u = 0;
    for (std::size_t k = 1; k < nu; ++k)
      if (loops[k].boundary < loops[u].boundary) u = k;
    // Arrivals first at equal times: a boundary sees every request that has arrived by then.
    if (ai < n && reqs[ai].arrival <= loops[u].boundary) {
      dispatch(static_cast<u32>(ai++));
      continue;
    }
    if (loops[u].boundary == kInf) throw std::logic_error("LLM serving: waiting requests but nothing to run");
    boundary(loops[u], loops[u].boundary);
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
  rep.chunk_tokens = chunk;
  rep.dispatch = to_string(s.llm.dispatch);
  rep.preemption = "none";
  rep.fidelity = s.fidelity;
  rep.seed = s.seed;
  rep.resolved = s.resolved;
  rep.prefill_tokens = prefilled;
  for (const Req& r : reqs) rep.span_s = std::max(rep.span_s, r.end);
  const double span = rep.span_s;
  u32 models_served = 0;
  for (u32 m = 0; m < nm; ++m) {
    if (!streamed[m]) continue;
    ++models_served;
    rep.models.push_back({s.models[m].name, s.models[m].file, 0.0, 1});
  }
  for (u32 u = 0; u < nu; ++u) {
    const UnitLoop& L = loops[u];
    UnitStats us;
    us.name = s.units[u].name;
    us.engine = s.units[u].arch.engine->engine_name();
    us.busy_s = L.busy;
    us.utilization = span > 0 ? L.busy / span : 0;
    us.jobs = L.iterations;
    us.kv_capacity_bytes = L.queues.empty() || L.kv_capacity >= kUnbounded ? 0 : L.kv_capacity;
    us.kv_peak_bytes = L.kv_peak;
    rep.kv_capacity_bytes += us.kv_capacity_bytes;
    rep.units.push_back(us);
  }
  if (models_served == 1) {  // tokens of one size: the capacity and peak in tokens too
    const i64 bpt = bytes_per_token[s.streams.front().model];
    if (bpt > 0) {
      rep.kv_capacity_tokens = 0;
      for (const UnitLoop& L : loops)
        if (!L.queues.empty() && L.kv_capacity < kUnbounded) rep.kv_capacity_tokens += L.kv_capacity / bpt;
      rep.kv_peak_tokens = rep.kv_peak_bytes / bpt;
    }
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
    // Unit time spent on these requests over (units x span).
    st.utilization = span > 0 ? used / (span * static_cast<double>(nu)) : 0;
    st.energy_per_request_pj = energy / k;
    st.mean_batch = iterations > 0 ? batch / iterations : 0;
    return st;
  };
  rep.summary = stats("all", "", [](const Req&) { return true; });
  if (models_served > 1)
    for (u32 m = 0; m < nm; ++m) {
      if (!streamed[m]) continue;
      LlmModelStats ms;
      ms.stats = stats(s.models[m].name, s.models[m].name, [m](const Req& r) { return r.model == m; });
      for (u32 u : units_of[m]) ms.units.push_back(s.units[u].name);
      ms.iterations = model_iterations[m];
      ms.kv_bytes_per_token = bytes_per_token[m];
      ms.kv_peak_tokens = model_kv_peak[m];
      rep.llm_models.push_back(std::move(ms));
    }
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
    ServingStats st = stats(s.streams[i].name, s.models[s.streams[i].model].name,
                            [i](const Req& r) { return r.stream == i; });
    if (s.streams[i].slo_s) st.slo_s = *s.streams[i].slo_s;
    st.mean_queue = span > 0 ? integral[i] / span : 0;
    st.max_queue = most[i];
    rep.summary.mean_queue += st.mean_queue;
    rep.streams.push_back(st);
  }
  {
    // The log is in time order: events run in time order over all units.
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
    q.unit = r.unit;
    rep.requests.push_back(q);
  }
  rep.notes.push_back("a prefill of several prompts is timed at their mean length (exact token count, "
                      "attention at the mean); a decode step at the batch's mean KV length");
  if (chunk > 0)
    rep.notes.push_back("a mixed iteration is one pass over all its token rows (weights read once) plus "
                        "the attention of its decode step and of each chunk over its prompt's earlier tokens");
  rep.notes.push_back("each request reserves its prompt + output tokens of KV cache when admitted: "
                      "nothing is evicted or recomputed");
  if (nu > 1)
    rep.notes.push_back("each unit is timed alone and has its own KV cache: units do not contend for a "
                        "shared memory system");
  if (models_served > 1)
    rep.notes.push_back("a unit serving several models runs one model's iteration at a time, in turn");
  rep.notes.push_back("energy counts the iterations run; idle time costs none");
  std::size_t computed = 0;
  double cost_wall = 0;
  for (const auto& t : tables) {
    computed += t->computed();
    cost_wall += t->wall_s();
  }
  rep.stage_costs = static_cast<i64>(computed);
  rep.events = rep.iterations;
  rep.cost_wall_s = cost_wall;
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return rep;
}

}  // namespace tessera::serving
