// Generation runs (sim/generation.hpp): TTFT against the prefill simulated alone, per-step times
// against the total, the KV cache growing a token per step, plan sharing against steps simulated
// independently, PMPD weight precision on a memory-bound engine, early-exit decoding against its
// draft and verify passes simulated on their own, and the DRAM capacity check.
#include <cmath>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "common/error.hpp"
#include "sim/generation.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

namespace {

using namespace tessera;
using workloads::i64;

const std::string kLlama = test::source_path("configs/models/llama-1b.json");

arch::ArchConfig arch_from(const std::string& name, const std::vector<std::string>& overrides = {}) {
  return arch::load_arch(test::source_path("configs/arch/" + name), overrides);
}

workloads::WorkloadSettings settings(const nlohmann::json& j) {
  return workloads::read_workload_settings(j, "settings.json");
}

sim::u64 cycles(const std::vector<sim::LayerResult>& layers) {
  sim::u64 c = 0;
  for (const auto& l : layers) c += l.timing.cycles;
  return c;
}

double energy(const std::vector<sim::LayerResult>& layers) {
  double e = 0;
  for (const auto& l : layers) e += l.energy_pj;
  return e;
}

sim::GenerationResult generate(const arch::ArchConfig& arch, const nlohmann::json& j,
                               bool share = true) {
  sim::GenerationOptions o;
  o.share_plans = share;
  return sim::simulate_generation(*arch.engine, workloads::read_transformer_config(kLlama), kLlama,
                                  settings(j), o);
}

}  // namespace

TEST_CASE("generation: TTFT is the prefill simulated alone, per-step times sum to the total") {
  const auto arch = arch_from("systolic_edge_32x32.json");
  const auto r = generate(arch, {{"seq_len", 32}, {"batch", 2}, {"generate", 6}});
  workloads::LoadOptions load;
  load.seq_len = 32;
  load.batch = 2;
  const auto prefill = sim::simulate(*arch.engine, workloads::load_workload(kLlama, load),
                                     "analytical");
  CHECK(r.prefill_cycles == cycles(prefill));
  CHECK(r.ttft_s() == Approx(static_cast<double>(cycles(prefill)) / arch.engine->clock_hz()));
  CHECK(r.prefill_energy_pj == Approx(energy(prefill)));

  REQUIRE(r.decode.size() == 6);
  double sum = 0;
  sim::u64 step_cycles = 0;
  for (std::size_t i = 0; i < r.decode.size(); ++i) {
    sum += r.tpot_s(i);
    step_cycles += r.decode[i].cycles;
  }
  CHECK(step_cycles == r.decode_cycles());
  CHECK(r.ttft_s() + sum == Approx(r.total_s()).epsilon(1e-12));
  CHECK(r.tpot_mean_s() == Approx(sum / 6).epsilon(1e-12));
  CHECK(r.tokens() == 2 * 7);
  CHECK(r.tokens_per_s() == Approx(14 / r.total_s()));
  const auto j = sim::to_json(r);
  CHECK(j["tpot_s"]["steps"].size() == 6);
  CHECK(j["ttft_s"].get<double>() == Approx(r.ttft_s()));
  CHECK(j["energy_per_token_pj"].get<double>() ==
        Approx((r.prefill_energy_pj + r.decode_energy_pj()) / 14));
}

TEST_CASE("generation: the KV cache grows a token per step (closed form)") {
  const auto arch = arch_from("ideal_edge.json");
  const i64 P = 40, N = 5, B = 3;
  const auto r = generate(arch, {{"seq_len", P}, {"batch", B}, {"generate", N}});
  // Llama-3.2-1B: 2 (K, V) x 16 layers x 8 KV heads x 64 x 2 bytes = 32 KiB per token.
  const sim::u64 per_token = 2 * 16 * 8 * 64 * 2;
  CHECK(r.kv_bytes_per_token == per_token);
  CHECK(r.kv_bytes == per_token * B * (P + N));
  const auto config = workloads::read_transformer_config(kLlama);
  const auto s = settings({{"seq_len", P}, {"batch", B}});
  for (i64 i = 0; i < N; ++i) {
    CHECK(r.decode[static_cast<std::size_t>(i)].kv_len == P + i);
    // The step appends one token per sequence, then its attention products read the whole
    // cache in place: the P + i earlier tokens and the new one.
    const auto g = sim::decode_graph(config, kLlama, s, P + i, 0);
    sim::u64 read = 0, written = 0;
    for (workloads::Graph::Node n = 0; n < g.size(); ++n) {
      read += static_cast<sim::u64>(g.op(n).cache_bytes());
      const auto* m = std::get_if<workloads::DataMovement>(&g.op(n).shape);
      if (m && m->type == workloads::MoveType::cache_write) written += g.op(n).output_bytes();
    }
    CHECK(read == per_token * B * (P + i + 1));
    CHECK(written == per_token * B);
  }
  // Longer caches cost more: each step at least as long as the one before.
  for (std::size_t i = 1; i < r.decode.size(); ++i) CHECK(r.decode[i].cycles >= r.decode[i - 1].cycles);
}

TEST_CASE("generation: shared plans give the same results as every step simulated alone") {
  const auto arch = arch_from("systolic_edge_32x32.json");
  const nlohmann::json j = {{"seq_len", 24}, {"generate", 5}, {"decode_weight_bits", "8:2,4"}};
  const auto shared = generate(arch, j, true);
  const auto alone = generate(arch, j, false);
  REQUIRE(shared.decode.size() == alone.decode.size());
  CHECK(shared.prefill_cycles == alone.prefill_cycles);
  for (std::size_t i = 0; i < shared.decode.size(); ++i) {
    CHECK(shared.decode[i].cycles == alone.decode[i].cycles);
    CHECK(shared.decode[i].energy_pj == alone.decode[i].energy_pj);
  }
  // And each step is what simulate() gives for that step's graph.
  const auto config = workloads::read_transformer_config(kLlama);
  const auto s = settings({{"seq_len", 24}});
  const auto step3 = sim::simulate(*arch.engine, sim::decode_graph(config, kLlama, s, 27, 4),
                                   "analytical");
  CHECK(shared.decode[3].cycles == cycles(step3));
  // Sharing maps fewer operators: only the attention operators are new in a step.
  CHECK(shared.plans_mapped < alone.plans_mapped);
}

TEST_CASE("generation: PMPD speed-up of p-bit weights over 16-bit on a memory-bound engine") {
  // ideal_edge: 256 MACs/cycle, 16 B/cycle. A Llama-1B decode step reads 2.47 GB of 16-bit
  // weights (154 M cycles) for 1.24 G MACs (4.8 M cycles): memory bound at every precision down
  // to 2 bits. The speed-up is 16/p times the weight share of the bytes read; the rest stays at
  // 16 bits: at kv_len 16..18 the attention operands (each of the 32 query heads reads its
  // group's 17 keys and values: 2 x 32 x 17 x 64 x 2 B per layer), the cache reads and the
  // activations, about 3 MB per step against 309 MB of 2-bit weights, so the speed-up lies in
  // [0.95 * 16/p, 16/p]. With a longer cache that share grows and the speed-up falls further
  // below 16/p (docs/validation.md, "PMPD").
  const auto arch = arch_from("ideal_edge.json");
  const auto speedup = [&](int p, i64 prompt) {
    const auto base =
        generate(arch, {{"seq_len", prompt}, {"generate", 3}, {"decode_weight_bits", 16}});
    const auto q = generate(arch, {{"seq_len", prompt}, {"generate", 3}, {"decode_weight_bits", p},
                                   {"prefill_weight_bits", p}});
    return static_cast<double>(base.decode_cycles()) / static_cast<double>(q.decode_cycles());
  };
  for (int p : {8, 4, 3, 2}) {
    const double s = speedup(p, 16);
    INFO("p = " << p << ", speed-up " << s);
    CHECK(s <= 16.0 / p);
    CHECK(s >= 0.95 * 16.0 / p);
  }
  CHECK(speedup(2, 1024) < speedup(2, 16));
}

TEST_CASE("generation: a PMPD schedule sets each step's precision; switching reloads weights") {
  const auto arch = arch_from("ideal_edge.json");
  const nlohmann::json j = {{"seq_len", 16}, {"generate", 6}, {"prefill_weight_bits", 4},
                            {"decode_weight_bits", "3:2,2"}};
  const auto plain = generate(arch, j);
  nlohmann::json nested = j;
  nested["nested_weights"] = true;
  const auto free = generate(arch, nested);
  const std::vector<int> bits = {3, 3, 2, 2, 2, 2};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(plain.decode[i].weight_bits == bits[i]);
    CHECK(free.decode[i].switch_cycles == 0);
    const bool switches = i == 0 || i == 2;
    CHECK((plain.decode[i].switch_cycles > 0) == switches);
    CHECK(plain.decode[i].cycles == free.decode[i].cycles + plain.decode[i].switch_cycles);
  }
  // A reload copies every weight at the new precision: read and written at 16 B/cycle.
  const double weights = 1235814400.0 - 16 * 2 * 2048 - 2048;  // less the norm scales
  CHECK(static_cast<double>(plain.decode[2].switch_cycles) >= 2 * weights * 2 / 8 / 16);
  CHECK(static_cast<double>(plain.decode[2].switch_cycles) <= 1.01 * 2 * weights * 2 / 8 / 16);
  // The prefill runs at 4 bits.
  for (const auto& l : plain.prefill)
    if (l.name == "layers.0.attn.q_proj") CHECK(l.macs > 0);
  CHECK(plain.prefill_weight_bits == 4);
}

TEST_CASE("generation: a low-precision prefill then decode at the model's own precision") {
  // No decode schedule: the steps run at the weights' own 16 bits, so the first one reloads
  // them (4 -> 16 bits) and the resident weights are the 16-bit set.
  const auto arch = arch_from("ideal_edge.json");
  const auto r = generate(arch, {{"seq_len", 16}, {"generate", 3}, {"prefill_weight_bits", 4}});
  CHECK(r.decode[0].switch_cycles > 0);
  CHECK(r.decode[1].switch_cycles == 0);
  const auto own = generate(arch, {{"seq_len", 16}, {"generate", 3}});
  CHECK(r.weight_bytes == own.weight_bytes);
  CHECK(r.decode[1].cycles == own.decode[1].cycles);
}

TEST_CASE("generation: Bit Fusion's compute rate follows the weight precision") {
  const auto arch = arch_from("bitfusion_isca2018.json");
  const auto config = workloads::read_transformer_config(kLlama);
  const auto s = settings({{"seq_len", 8}, {"default", {{"activation_bits", 8}}}});
  const auto g8 = sim::decode_graph(config, kLlama, s, 8, 8);
  const auto g2 = sim::decode_graph(config, kLlama, s, 8, 2);
  for (workloads::Graph::Node n = 0; n < g8.size(); ++n) {
    if (g8.op(n).name != "layers.0.mlp.up_proj") continue;
    CHECK(arch.engine->peak_macs_per_cycle(g2.op(n)) ==
          4 * arch.engine->peak_macs_per_cycle(g8.op(n)));
  }
}

TEST_CASE("generation: early-exit speed-up against draft and verify passes simulated alone") {
  const auto arch = arch_from("ideal_edge.json");
  const i64 P = 20, N = 7, E = 4, d = 3;
  const double a = 0.6;
  const auto r = generate(arch, {{"seq_len", P}, {"generate", N},
                                 {"early_exit", {{"layers", E}, {"draft", d}, {"acceptance", a}}}});
  REQUIRE(r.early_exit);
  const auto& e = *r.early_exit;
  const double t = (1 - std::pow(a, d + 1)) / (1 - a);  // 1 + a + a^2 + a^3
  CHECK(e.tokens_per_round == Approx(1 + a + a * a + a * a * a));
  CHECK(e.rounds == static_cast<i64>(std::ceil(N / t)));

  auto config = workloads::read_transformer_config(kLlama);
  auto head = config, tail = config;
  head.layers = E;
  tail.layers = config.layers - E;
  tail.first_layer = E;
  const auto s = settings({{"seq_len", P}});
  sim::u64 draft = 0, verify = 0;
  for (i64 round = 0; round < e.rounds; ++round) {
    const i64 kv = P + static_cast<i64>(std::floor(round * t));
    for (i64 j = 0; j < d; ++j)
      draft += cycles(sim::simulate(*arch.engine, sim::decode_graph(head, kLlama, s, kv + j, 0),
                                    "analytical"));
    const auto vg = sim::decode_graph(tail, kLlama, s, kv, 0, d);
    for (workloads::Graph::Node n = 0; n < vg.size(); ++n)
      if (vg.op(n).name == "lm_head") CHECK(std::get<workloads::MatMul>(vg.op(n).shape).m == d);
    verify += cycles(sim::simulate(*arch.engine, vg, "analytical"));
  }
  CHECK(e.draft_cycles == draft);
  CHECK(e.verify_cycles == verify);
  const double seconds = static_cast<double>(draft + verify) / arch.engine->clock_hz() *
                         static_cast<double>(N) / (static_cast<double>(e.rounds) * t);
  CHECK(e.seconds == Approx(seconds));
  CHECK(e.speedup == Approx(static_cast<double>(r.decode_cycles()) / arch.engine->clock_hz() / seconds));
  // Memory bound: a draft step reads a quarter of the layers, the verify pass the rest once for
  // d tokens, so a round of 2.2 tokens costs about 1.75 steps of the full model.
  CHECK(e.speedup > 1.0);
}

TEST_CASE("generation: per-layer settings meet the layers they name on both sides of an early exit") {
  const auto arch = arch_from("ideal_edge.json");
  const nlohmann::json exit = {{"layers", 4}, {"draft", 2}, {"acceptance", 0.5}};
  const auto plain = generate(arch, {{"seq_len", 16}, {"generate", 3}, {"early_exit", exit}});
  // 4-bit weights in layer 10 (past the exit): the verify pass is cheaper, the draft unchanged.
  const auto tail = generate(arch, {{"seq_len", 16}, {"generate", 3}, {"early_exit", exit},
                                    {"layers", {{"layers.10.*", {{"weight_bits", 4}}}}}});
  CHECK(tail.early_exit->draft_cycles == plain.early_exit->draft_cycles);
  CHECK(tail.early_exit->verify_cycles < plain.early_exit->verify_cycles);
  // In layer 2 (before it): the draft is cheaper, the verify pass unchanged.
  const auto head = generate(arch, {{"seq_len", 16}, {"generate", 3}, {"early_exit", exit},
                                    {"layers", {{"layers.2.*", {{"weight_bits", 4}}}}}});
  CHECK(head.early_exit->draft_cycles < plain.early_exit->draft_cycles);
  CHECK(head.early_exit->verify_cycles == plain.early_exit->verify_cycles);
  // The tail's layers keep their names; a pattern naming no layer of the model is still an error.
  auto config = workloads::read_transformer_config(kLlama);
  config.first_layer = 4;
  config.layers = 12;
  const auto g = sim::decode_graph(config, kLlama, settings({{"seq_len", 16}}), 16, 0);
  CHECK(g.find("layers.4.mlp.up_proj"));
  CHECK(g.find("layers.15.mlp.up_proj"));
  CHECK_FALSE(g.find("layers.0.mlp.up_proj"));
  CHECK_THROWS_WITH(generate(arch, {{"seq_len", 16}, {"generate", 3}, {"early_exit", exit},
                                    {"layers", {{"layers.16.*", {{"weight_bits", 4}}}}}}),
                    Catch::Matchers::Contains("pattern 'layers.16.*' matches no operator"));
}

TEST_CASE("generation: the KV cache and weights must fit dram.capacity") {
  const auto small = arch_from("ideal_edge.json", {"dram.capacity=4 GiB"});
  // 2.47 GB of weights + 32 KiB x 16 x 4096 = 2 GiB of KV cache > 4 GiB.
  CHECK_THROWS_WITH(generate(small, {{"seq_len", 4000}, {"batch", 16}, {"generate", 96}}),
                    Catch::Matchers::Contains("exceed the DRAM capacity of 4.000 GiB (dram.capacity)"));
  const auto r = generate(small, {{"seq_len", 100}, {"batch", 16}, {"generate", 2}});
  CHECK(r.dram_capacity_bytes == (sim::u64{4} << 30));
  CHECK(r.kv_bytes > r.on_chip_bytes);
  CHECK(sim::to_json(r)["kv"]["fits_on_chip"] == false);
}

TEST_CASE("generation settings: schedules, early exit and their errors") {
  using workloads::parse_weight_schedule;
  using W = workloads::WeightPhase;
  CHECK(parse_weight_schedule("3:64,2", "") == std::vector<W>{{3, 64}, {2, std::nullopt}});
  CHECK(parse_weight_schedule("4", "") == std::vector<W>{{4, std::nullopt}});
  CHECK_THROWS_WITH(parse_weight_schedule("3,2", "f: "), "f: only the last phase may omit its steps");
  CHECK_THROWS_WITH(parse_weight_schedule("3:x,2", "f: "), Catch::Matchers::Contains("expected a schedule like"));
  CHECK_THROWS_WITH(parse_weight_schedule("0", "f: "), Catch::Matchers::Contains("weight bits must be in [1, 64]"));
  const auto s = settings({{"generate", 10},
                           {"decode_weight_bits", {{{"bits", 3}, {"steps", 4}}, {{"bits", 2}}}},
                           {"early_exit", {{"layers", 2}, {"draft", 3}, {"acceptance", 0.5}}}});
  REQUIRE(s.generation);
  CHECK(s.generation->tokens == 10);
  CHECK(s.generation->decode_weights == std::vector<W>{{3, 4}, {2, std::nullopt}});
  CHECK(s.generation->early_exit->draft == 3);
  CHECK_THROWS_WITH(settings({{"decode_weight_bits", 2}}),
                    Catch::Matchers::Contains("/decode_weight_bits: applies to generation runs"));
  CHECK_THROWS_WITH(settings({{"generate", 2}, {"early_exit", {{"layers", 2}, {"draft", 1}}}}),
                    Catch::Matchers::Contains("/early_exit/acceptance: is required"));
  CHECK_THROWS_WITH(generate(arch_from("ideal_edge.json"),
                             {{"generate", 2}, {"early_exit", {{"layers", 16}, {"draft", 1}, {"acceptance", 0.5}}}}),
                    Catch::Matchers::Contains("early_exit.layers 16 must be below the model's 16 layers"));
  CHECK_THROWS_WITH(generate(arch_from("ideal_edge.json"), {{"generate", 2}, {"phase", "decode"}}),
                    Catch::Matchers::Contains("phase and kv_len do not apply"));
}

TEST_CASE("generation: compressed models run with the reduced KV cache and shapes") {
  // MoDeGPT ratio 0.25 on every layer (Q/K and V/O head dims 64 -> 48), 0.5 on layers 10-15
  // (-> 32), a rank-256 LM head, and an early exit after 4 layers: its head and tail graphs see
  // the per-layer settings of the layers they hold.
  const nlohmann::json j = {{"seq_len", 16},
                            {"generate", 3},
                            {"modegpt", {{"ratio", 0.25}, {"layers", {{"layers.1?", {{"ratio", 0.5}}}}}}},
                            {"layers", {{"lm_head", {{"rank", 256}}}}},
                            {"early_exit", {{"layers", 4}, {"draft", 2}, {"acceptance", 0.5}}}};
  const auto arch = arch_from("systolic_edge_32x32.json");
  const auto r = generate(arch, j);
  // K and V of 8 KV heads at 2 bytes: 10 layers of 48, 6 of 32 per head (32,768 uncompressed).
  CHECK(r.kv_bytes_per_token == 2 * 2 * 8 * (10 * 48 + 6 * 32));
  REQUIRE(r.early_exit);
  // A decode step is the graph the same settings give at its KV length.
  nlohmann::json step = j;
  step.erase("generate");
  step.erase("early_exit");
  step["phase"] = "decode";
  step["kv_len"] = 16;
  const auto g = workloads::load_workload(kLlama, settings(step));
  CHECK(g.find("lm_head.factor_out"));
  CHECK(r.decode[0].macs == static_cast<sim::u64>(g.totals().macs));
  const auto plain = generate(arch, {{"seq_len", 16}, {"generate", 3}});
  CHECK(r.decode[0].macs < plain.decode[0].macs);
  CHECK(r.weight_bytes < plain.weight_bytes);
}
