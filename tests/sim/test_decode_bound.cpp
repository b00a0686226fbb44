// LLM decode as users measure it: one Llama-3.2-1B decode step with 4,096 tokens in the KV cache
// on the memory-bound TPUv1-style array, at batch 1 and 16, against the bandwidth bound computed
// here from the two config files alone (weights + KV cache read and append, over the DRAM
// bandwidth), at both fidelities, with the cache at 16 and at 8 bits. Also the KV bytes per step
// against the closed form 2 · layers · B · T · kv_heads · head_dim · kv_bits/8 (T = L + 1: the
// new token's K and V are appended before the attention reads the cache). Tagged [decode];
// about 2 s.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "common/params.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;
using workloads::i64;

namespace {

// "34 GB/s", "700 MHz": the number times the unit's decimal prefix.
double si_value(const std::string& text) {
  double v = 0;
  char prefix = 0;
  REQUIRE(std::sscanf(text.c_str(), "%lf %c", &v, &prefix) == 2);
  switch (prefix) {
    case 'k':
      return v * 1e3;
    case 'M':
      return v * 1e6;
    case 'G':
      return v * 1e9;
    case 'T':
      return v * 1e12;
    default:
      return v;
  }
}

struct Llama {
  i64 d, layers, heads, kv_heads, head_dim, ffn, vocab;
  bool tied;
};

Llama llama_sizes(const nlohmann::json& c) {
  const i64 heads = c.at("num_attention_heads");
  return {c.at("hidden_size"),         c.at("num_hidden_layers"),  heads,
          c.at("num_key_value_heads"), c.at("head_dim"),           c.at("intermediate_size"),
          c.at("vocab_size"),          c.at("tie_word_embeddings")};
}

// Parameters of a Llama decoder without biases: embeddings (once if tied), per layer Q, K, V, O,
// the gated MLP and two RMSNorms, the final norm.
i64 llama_params(const Llama& m) {
  const i64 dq = m.heads * m.head_dim, dkv = m.kv_heads * m.head_dim;
  return m.vocab * m.d * (m.tied ? 1 : 2) +
         m.layers * (2 * m.d * dq + 2 * m.d * dkv + 3 * m.d * m.ffn + 2 * m.d) + m.d;
}

// KV-cache bytes for B sequences over `tokens` tokens at `bits`.
i64 kv_bytes(const Llama& m, i64 b, i64 tokens, int bits) {
  return 2 * m.layers * b * tokens * m.kv_heads * m.head_dim * bits / 8;
}

i64 graph_kv_read(const workloads::Graph& g) {
  i64 bytes = 0;
  for (workloads::Graph::Node n = 0; n < g.size(); ++n) bytes += g.op(n).cache_bytes();
  return bytes;
}

}  // namespace

TEST_CASE("decode: Llama-3.2-1B at kv_len 4096 within 3% of the bandwidth bound", "[sim][decode]") {
  const std::string model_file = test::source_path("configs/models/llama-1b.json");
  const std::string arch_file = test::source_path("configs/arch/systolic_tpuv1_128x128_ws.json");
  const nlohmann::json model = read_json_file(model_file);
  const nlohmann::json arch_json = read_json_file(arch_file);
  const Llama m = llama_sizes(model);
  REQUIRE(model.at("torch_dtype") == "bfloat16");
  const int bits = 16;
  const double bandwidth = si_value(arch_json.at("/dram/bandwidth"_json_pointer));  // bytes/s
  const double clock = si_value(arch_json.at("clock"));
  const auto arch = arch::load_arch(arch_file);
  const i64 L = 4096;

  for (const i64 B : {i64{1}, i64{16}}) {
    workloads::LoadOptions o;
    o.phase = "decode";
    o.batch = B;
    o.kv_len = L;
    const auto graph = workloads::load_workload(model_file, o);
    // KV bytes per step from the closed form, at the activation precision and at 8 bits.
    CHECK(graph_kv_read(graph) == kv_bytes(m, B, L + 1, bits));
    o.kv_bits = 8;
    CHECK(graph_kv_read(workloads::load_workload(model_file, o)) == kv_bytes(m, B, L + 1, 8));

    // The bound: every weight byte and the cache read once, the new tokens' K and V written;
    // with an 8-bit cache too (the engines stream the cache at its own precision).
    for (const int kv_bits : {bits, 8}) {
      o.kv_bits = kv_bits;
      const auto g = workloads::load_workload(model_file, o);
      const double bytes =
          static_cast<double>(llama_params(m)) * bits / 8 +
          static_cast<double>(kv_bytes(m, B, L + 1, kv_bits) + kv_bytes(m, B, 1, kv_bits));
      const double bound_s = bytes / bandwidth;
      for (const auto fidelity : {"analytical", "systemc"}) {
        const auto layers = sim::simulate(*arch.engine, g, fidelity);
        double cycles = 0;
        for (const auto& l : layers) cycles += static_cast<double>(l.timing.cycles);
        const double seconds = cycles / clock;
        INFO("B=" << B << " kv_bits=" << kv_bits << " " << fidelity << ": "
                  << seconds * 1e3 << " ms, bound " << bound_s * 1e3 << " ms");
        CHECK(seconds >= bound_s);
        CHECK(seconds <= 1.03 * bound_s);
      }
    }
  }
}
