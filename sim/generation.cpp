#include "sim/generation.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/checked.hpp"
#include "common/error.hpp"

namespace tessera::sim {

using workloads::Graph;

namespace {

// The weights a precision schedule sets: matrix products and convolutions with parameters (the
// linear layers and the LM head). Norm scales and untied embedding tables keep their precision.
bool is_weight_op(const workloads::Operator& op) {
  return (op.kind() == workloads::OpKind::matmul || op.kind() == workloads::OpKind::conv) &&
         op.params() > 0;
}

u64 bytes_at(i64 elements, int bits) {
  return static_cast<u64>((static_cast<long double>(elements) * bits + 7) / 8);
}

void set_weight_bits(Graph& g, int bits) {
  if (bits == 0) return;
  for (Graph::Node n = 0; n < g.size(); ++n)
    if (is_weight_op(g.op(n))) g.op(n).precision.weight_bits = bits;
}

// The graph's parameter bytes with its weight operators at `bits` (0: as they are).
u64 weight_set_bytes(const Graph& g, int bits) {
  u64 total = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) {
    const auto& op = g.op(n);
    total = checked_add(total,
                        bits && is_weight_op(op) ? bytes_at(op.params(), bits)
                                                 : static_cast<u64>(op.weight_bytes()),
                        "the model's weight bytes");
  }
  return total;
}

i64 weight_elements(const Graph& g) {
  i64 total = 0;
  for (Graph::Node n = 0; n < g.size(); ++n)
    if (is_weight_op(g.op(n))) total = checked_add(total, g.op(n).params(), "the model's weight count");
  return total;
}

int bits_at(const std::vector<workloads::WeightPhase>& schedule, i64 step) {
  if (schedule.empty()) return 0;
  i64 start = 0;
  for (const auto& p : schedule) {
    if (!p.steps || step < start + *p.steps) return p.bits;
    start += *p.steps;
  }
  return schedule.back().bits;  // a schedule shorter than the run: its last phase continues
}

struct Cost {
  u64 cycles = 0;
  double energy_pj = 0;
  u64 macs = 0;
};

Cost total(const std::vector<LayerResult>& layers) {
  Cost c;
  for (const auto& l : layers) {
    c.cycles = checked_add(c.cycles, l.timing.cycles, "a step's cycle count");
    c.energy_pj += l.energy_pj;
    c.macs = checked_add(c.macs, l.macs, "a step's MAC count");
  }
  return c;
}

workloads::WorkloadSettings step_settings(const workloads::WorkloadSettings& settings,
                                          const std::string& phase, i64 kv_len, i64 tokens) {
  workloads::WorkloadSettings s = settings;
  s.generation.reset();
  s.load.phase = phase;
  s.load.kv_len.reset();
  if (phase == "decode") {
    s.load.kv_len = kv_len;
    s.load.decode_tokens = tokens;
  }
  return s;
}

Graph build(const workloads::TransformerConfig& config, const std::string& file,
            const workloads::WorkloadSettings& s, int weight_bits, bool whole_model) {
  Graph g = workloads::build_transformer(config, file, s.load);
  try {
    workloads::annotate(g, s, whole_model);
  } catch (const InputError& e) {
    throw InputError(file + ": " + e.what());
  }
  set_weight_bits(g, weight_bits);
  return g;
}

std::string gib(u64 bytes) { return fmt::format("{:.3f} GiB", static_cast<double>(bytes) / (1 << 30)); }

}  // namespace

Graph decode_graph(const workloads::TransformerConfig& config, const std::string& file,
                   const workloads::WorkloadSettings& settings, i64 kv_len, int weight_bits,
                   i64 decode_tokens, bool whole_model) {
  return build(config, file, step_settings(settings, "decode", kv_len, decode_tokens), weight_bits,
               whole_model);
}

u64 GenerationResult::decode_cycles() const {
  u64 c = 0;
  for (const auto& s : decode) c = checked_add(c, s.cycles, "the decode steps' cycle count");
  return c;
}

double GenerationResult::decode_energy_pj() const {
  double e = 0;
  for (const auto& s : decode) e += s.energy_pj;
  return e;
}

double GenerationResult::tpot_mean_s() const {
  return decode.empty() ? 0.0
                        : static_cast<double>(decode_cycles()) / clock_hz /
                              static_cast<double>(decode.size());
}

double GenerationResult::decode_tokens_per_s() const {
  const u64 c = decode_cycles();
  return c ? static_cast<double>(batch) * static_cast<double>(steps) * clock_hz / static_cast<double>(c) : 0.0;
}

GenerationResult simulate_generation(const arch::Engine& engine,
                                     const workloads::TransformerConfig& config,
                                     const std::string& file,
                                     const workloads::WorkloadSettings& settings,
                                     const GenerationOptions& options) {
  auto fail = [&](const std::string& what) { return InputError(file + ": " + what); };
  if (!settings.generation) throw fail("no generation settings (\"generate\")");
  const workloads::GenerationSettings& gen = *settings.generation;
  if (!config.decoder())
    throw fail("generation needs a decoder model (gpt2 or a llama-style model); model_type '" +
               config.model_type + "' is an encoder");
  if (settings.load.phase != "prefill" || settings.load.kv_len)
    throw fail("phase and kv_len do not apply to a generation run (it runs the prefill, then "
               "decode steps with the KV length growing from seq_len)");

  GenerationResult r;
  r.batch = settings.load.batch.value_or(1);
  r.prompt = settings.load.seq_len.value_or(workloads::kDefaultSeqLen);
  r.steps = gen.tokens;
  r.clock_hz = engine.clock_hz();
  r.nested_weights = gen.nested_weights;
  r.on_chip_bytes = engine.on_chip_bytes();
  r.dram_capacity_bytes = engine.memory().capacity_bytes;
  const i64 draft = gen.early_exit ? gen.early_exit->draft : 0;
  if (r.prompt + r.steps + draft > config.max_positions)
    throw fail(fmt::format("prompt {} + {} generated tokens{} exceed the model's {} positions",
                           r.prompt, r.steps,
                           draft ? fmt::format(" + {} drafted", draft) : std::string(),
                           config.max_positions));
  if (gen.early_exit && gen.early_exit->layers >= config.layers)
    throw fail(fmt::format("early_exit.layers {} must be below the model's {} layers",
                           gen.early_exit->layers, config.layers));

  MapCache shared;
  const auto run = [&](const Graph& g) {
    MapCache fresh;
    MapCache& c = options.share_plans ? shared : fresh;
    auto layers = simulate(engine, g, options.fidelity, nullptr, &c);
    if (!options.share_plans) {
      r.plans_mapped += fresh.size();
      r.plan_reuses += fresh.hits();
    }
    return layers;
  };

  // Prefill.
  r.prefill_weight_bits = gen.prefill_weight_bits.value_or(0);
  r.prefill_graph = build(config, file, step_settings(settings, "prefill", 0, 1), 0, true);
  // The weights' own precision (the model's, after the workload settings), which a step
  // without a scheduled precision runs at.
  const int own_bits = [&] {
    for (Graph::Node n = 0; n < r.prefill_graph.size(); ++n)
      if (is_weight_op(r.prefill_graph.op(n))) return r.prefill_graph.op(n).precision.weight_bits;
    return 0;
  }();
  set_weight_bits(r.prefill_graph, r.prefill_weight_bits);

  // KV bytes per token from the prefill's cache writes (their precision is the cache's).
  u64 kv_written = 0;
  for (Graph::Node n = 0; n < r.prefill_graph.size(); ++n) {
    const auto& op = r.prefill_graph.op(n);
    if (const auto* m = std::get_if<workloads::DataMovement>(&op.shape);
        m && m->type == workloads::MoveType::cache_write)
      kv_written = checked_add(kv_written, static_cast<u64>(op.output_bytes()), "the KV bytes written");
  }
  r.kv_bytes_per_token = kv_written / static_cast<u64>(checked_mul(r.batch, r.prompt, "the prompt token count"));
  r.kv_bytes = checked_mul(r.kv_bytes_per_token,
                           checked_mul(static_cast<u64>(r.batch),
                                       static_cast<u64>(r.prompt + r.steps), "the KV token count"),
                           "the KV cache bytes");

  // The weights resident at the largest precision used; with the KV cache they must fit DRAM.
  const auto resolved = [&](int bits) { return bits ? bits : own_bits; };
  int max_bits = std::max(resolved(r.prefill_weight_bits), resolved(bits_at(gen.decode_weights, 0)));
  for (const auto& p : gen.decode_weights) max_bits = std::max(max_bits, p.bits);
  r.weight_bytes = weight_set_bytes(r.prefill_graph, max_bits);
  if (!try_add(r.weight_bytes, r.kv_bytes) || r.weight_bytes + r.kv_bytes > r.dram_capacity_bytes)
    throw fail(fmt::format(
        "the KV cache of {} sequences x {} tokens ({}) and the weights ({}) exceed the DRAM "
        "capacity of {} (dram.capacity)",
        r.batch, r.prompt + r.steps, gib(r.kv_bytes), gib(r.weight_bytes),
        gib(r.dram_capacity_bytes)));

  r.prefill = run(r.prefill_graph);
  const Cost prefill = total(r.prefill);
  r.prefill_cycles = prefill.cycles;
  r.prefill_energy_pj = prefill.energy_pj;

  // A precision switch without nested (bit-plane) weights reloads the weight set: a copy of
  // every weight at the new precision from where it is stored to where the steps read it.
  const i64 weight_elems = weight_elements(r.prefill_graph);
  std::map<int, Cost> reloads;
  const auto reload = [&](int bits) -> Cost {
    auto it = reloads.find(bits);
    if (it != reloads.end()) return it->second;
    Graph g("weight-reload");
    workloads::Operator op;
    op.name = "weight_reload";
    op.source = file + ": weights reloaded at " + std::to_string(bits) + " bits";
    op.shape = workloads::DataMovement{workloads::MoveType::copy, weight_elems, weight_elems};
    op.precision = {bits, bits};
    g.add(op);
    return reloads[bits] = total(simulate(engine, g, options.fidelity));
  };
  const auto switch_cost = [&](int from, int to) -> Cost {
    if (gen.nested_weights || resolved(from) == resolved(to)) return {};
    return reload(resolved(to));
  };

  // Early-exit rounds: `draft` drafted tokens, of which the expected accepted ones plus the
  // verifier's own advance the sequence.
  const double tokens_per_round = [&] {
    if (!gen.early_exit) return 0.0;
    const double a = gen.early_exit->acceptance, d = static_cast<double>(gen.early_exit->draft);
    return a >= 1 ? d + 1 : (1 - std::pow(a, d + 1)) / (1 - a);
  }();
  const i64 ee_rounds =
      gen.early_exit ? static_cast<i64>(std::ceil(static_cast<double>(r.steps) / tokens_per_round)) : 0;
  const i64 work = r.steps + ee_rounds * (draft + 1);
  i64 done = 0;

  // Decode steps.
  int bits_before = r.prefill_weight_bits;
  for (i64 i = 0; i < r.steps; ++i) {
    GenerationStep s;
    s.kv_len = r.prompt + i;
    s.weight_bits = bits_at(gen.decode_weights, i);
    const Cost sw = switch_cost(bits_before, s.weight_bits);
    bits_before = s.weight_bits;
    const Cost c = total(run(decode_graph(config, file, settings, s.kv_len, s.weight_bits)));
    s.switch_cycles = sw.cycles;
    s.cycles = checked_add(c.cycles, sw.cycles, "a step's cycle count");
    s.energy_pj = c.energy_pj + sw.energy_pj;
    s.macs = c.macs;
    r.decode.push_back(s);
    if (options.progress) options.progress(++done, work);
  }

  // Self-speculative decoding over the same tokens: rounds of `draft` early-exit steps and one
  // verify pass of the remaining layers, advancing by the expected accepted tokens per round.
  if (gen.early_exit) {
    EarlyExitResult e;
    e.params = *gen.early_exit;
    const i64 d = e.params.draft;
    e.tokens_per_round = tokens_per_round;
    e.rounds = ee_rounds;
    workloads::TransformerConfig head = config, tail = config;
    head.layers = e.params.layers;
    tail.layers = config.layers - e.params.layers;
    tail.first_layer = e.params.layers;
    for (i64 round = 0; round < e.rounds; ++round) {
      const i64 produced = static_cast<i64>(std::floor(static_cast<double>(round) * e.tokens_per_round));
      const i64 kv = r.prompt + produced;
      const int bits = bits_at(gen.decode_weights, produced);
      for (i64 j = 0; j < d; ++j) {
        const Cost c = total(run(decode_graph(head, file, settings, kv + j, bits, 1, false)));
        e.draft_cycles = checked_add(e.draft_cycles, c.cycles, "the draft steps' cycle count");
        e.energy_pj += c.energy_pj;
        if (options.progress) options.progress(++done, work);
      }
      const Cost v = total(run(decode_graph(tail, file, settings, kv, bits, d, false)));
      e.verify_cycles = checked_add(e.verify_cycles, v.cycles, "the verify passes' cycle count");
      e.energy_pj += v.energy_pj;
      if (options.progress) options.progress(++done, work);
    }
    // The rounds produce rounds x tokens_per_round >= steps tokens: scale to the run's tokens.
    const double scale = static_cast<double>(r.steps) /
                         (static_cast<double>(e.rounds) * e.tokens_per_round);
    e.seconds = static_cast<double>(e.draft_cycles + e.verify_cycles) / r.clock_hz * scale;
    e.energy_pj *= scale;
    e.tokens_per_s = e.seconds > 0 ? static_cast<double>(r.batch) * static_cast<double>(r.steps) / e.seconds : 0.0;
    e.speedup = e.seconds > 0 ? static_cast<double>(r.decode_cycles()) / r.clock_hz / e.seconds : 0.0;
    r.early_exit = e;
  }
  if (options.share_plans) {
    r.plans_mapped = shared.size();
    r.plan_reuses = shared.hits();
  }
  return r;
}

nlohmann::json to_json(const GenerationResult& r) {
  nlohmann::json tpot = nlohmann::json::array(), steps = nlohmann::json::array();
  for (std::size_t i = 0; i < r.decode.size(); ++i) {
    const auto& s = r.decode[i];
    tpot.push_back(r.tpot_s(i));
    steps.push_back({{"kv_len", s.kv_len},
                     {"weight_bits", s.weight_bits},
                     {"cycles", s.cycles},
                     {"switch_cycles", s.switch_cycles},
                     {"energy_pj", s.energy_pj},
                     {"macs", s.macs}});
  }
  nlohmann::json j = {
      {"batch", r.batch},
      {"prompt_tokens", r.prompt},
      {"decode_steps", r.steps},
      {"generated_tokens", r.tokens()},
      {"prefill_cycles", r.prefill_cycles},
      {"decode_cycles", r.decode_cycles()},
      {"total_s", r.total_s()},
      {"ttft_s", r.ttft_s()},
      {"tpot_s", {{"mean", r.tpot_mean_s()}, {"steps", std::move(tpot)}}},
      {"tokens_per_s", r.tokens_per_s()},
      {"decode_tokens_per_s", r.decode_tokens_per_s()},
      {"energy_pj", r.prefill_energy_pj + r.decode_energy_pj()},
      {"energy_per_token_pj", r.energy_per_token_pj()},
      {"prefill_weight_bits", r.prefill_weight_bits},
      {"nested_weights", r.nested_weights},
      {"kv",
       {{"bytes_per_token", r.kv_bytes_per_token},
        {"footprint_bytes", r.kv_bytes},
        {"on_chip_bytes", r.on_chip_bytes},
        {"dram_capacity_bytes", r.dram_capacity_bytes},
        {"weight_bytes", r.weight_bytes},
        {"fits_on_chip", r.kv_bytes <= r.on_chip_bytes},
        {"location", "dram"}}},
      {"plans", {{"mapped", r.plans_mapped}, {"reused", r.plan_reuses}}},
      {"steps", std::move(steps)}};
  if (r.early_exit) {
    const auto& e = *r.early_exit;
    j["early_exit"] = {{"layers", e.params.layers},
                       {"draft", e.params.draft},
                       {"acceptance", e.params.acceptance},
                       {"tokens_per_round", e.tokens_per_round},
                       {"rounds", e.rounds},
                       {"draft_cycles", e.draft_cycles},
                       {"verify_cycles", e.verify_cycles},
                       {"decode_s", e.seconds},
                       {"energy_pj", e.energy_pj},
                       {"tokens_per_s", e.tokens_per_s},
                       {"speedup", e.speedup}};
  }
  return j;
}

}  // namespace tessera::sim
