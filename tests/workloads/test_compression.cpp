// Compressed models from workload settings: low-rank factorisation of linear and convolution
// layers (`rank`, `rank_ratio` annotations) and MoDeGPT-style module decomposition of
// transformer layers (`modegpt`). Parameter and MAC counts are worked out by hand in the
// comments from the shapes in configs/workloads/lenet5.json and configs/models/*.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "common/error.hpp"
#include "test_support.hpp"
#include "workloads/compression.hpp"
#include "workloads/passes.hpp"
#include "workloads/settings.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

WorkloadSettings settings(const json& doc) { return read_workload_settings(doc, "s.json"); }

const std::string kLenet = test::source_path("configs/workloads/lenet5.json");
const std::string kGpt2 = test::source_path("configs/models/gpt2.json");
const std::string kLlama = test::source_path("configs/models/llama-1b.json");

std::string error_of(const std::string& path, const json& doc) {
  try {
    (void)load_workload(path, settings(doc));
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> names(const Graph& g, const std::vector<Graph::Node>& nodes) {
  std::vector<std::string> out;
  for (auto n : nodes) out.push_back(g.op(n).name);
  return out;
}

i64 kv_bytes_written(const Graph& g) {
  i64 bytes = 0;
  for (Graph::Node n = 0; n < g.size(); ++n)
    if (const auto* m = std::get_if<DataMovement>(&g.op(n).shape);
        m && m->type == MoveType::cache_write)
      bytes += g.op(n).output_bytes();
  return bytes;
}

}  // namespace

TEST_CASE("low rank: a linear layer becomes d_in -> r -> d_out", "[workloads][compression]") {
  const Graph dense = load_workload(kLenet, LoadOptions{});
  Graph g = load_workload(kLenet, settings({{"layers", {{"fc1", {{"rank", 16}, {"weight_bits", 4}}}}}}));
  CHECK_FALSE(g.find("fc1"));
  const Operator& a = g.op(*g.find("fc1.factor_in"));
  const Operator& b = g.op(*g.find("fc1.factor_out"));
  // fc1 is 400 -> 120 with a bias: 48,120 parameters. Its factors: 400·16 = 6,400 without a bias
  // and 16·120 + 120 = 2,040 with fc1's bias.
  CHECK(a.shape == OpShape{MatMul{.batch = 1, .m = 1, .n = 16, .k = 400, .bias = false}});
  CHECK(b.shape == OpShape{MatMul{.batch = 1, .m = 1, .n = 120, .k = 16, .bias = true}});
  CHECK(a.params() == 6400);
  CHECK(b.params() == 2040);
  CHECK(dense.totals().params == 61706);
  CHECK(g.totals().params == 61706 - 48120 + 6400 + 2040);
  // MACs 400·120 = 48,000 become 400·16 + 16·120 = 8,320.
  CHECK(g.totals().macs == dense.totals().macs - 48000 + 8320);
  // Both factors keep the annotation; the edges go through them.
  CHECK(a.precision.weight_bits == 4);
  CHECK(b.precision.weight_bits == 4);
  CHECK(names(g, g.producers(*g.find("fc1.factor_in"))) == std::vector<std::string>{"flatten"});
  CHECK(names(g, g.producers(*g.find("fc1.factor_out"))) ==
        std::vector<std::string>{"fc1.factor_in"});
  CHECK(names(g, g.consumers(*g.find("fc1.factor_out"))) == std::vector<std::string>{"relu3"});
  CHECK(names(g, g.producers(*g.find("relu3"))) == std::vector<std::string>{"fc1.factor_out"});
  CHECK_THAT(b.source, Contains("low-rank factor 2 of 2, rank 16"));
}

TEST_CASE("low rank: a KxK convolution becomes KxK to r channels, then 1x1 to K",
          "[workloads][compression]") {
  const Graph dense = load_workload(kLenet, LoadOptions{});
  Graph g = load_workload(kLenet, settings({{"layers", {{"conv2", {{"rank", 4}}}}}}));
  const Operator& a = g.op(*g.find("conv2.factor_in"));
  const Operator& b = g.op(*g.find("conv2.factor_out"));
  // conv2: 6 -> 16 channels, 5x5, 14x14 -> 10x10, bias: 16·6·25 + 16 = 2,416 parameters,
  // 10·10·16·150 = 240,000 MACs. Factors: 5x5 6 -> 4 (600 parameters, 100·4·150 = 60,000
  // MACs), 1x1 4 -> 16 over 10x10 with the bias (64 + 16 = 80 parameters, 100·16·4 = 6,400 MACs).
  const auto& ca = std::get<Conv>(a.shape);
  const auto& cb = std::get<Conv>(b.shape);
  CHECK(ca.c == 6);
  CHECK(ca.k == 4);
  CHECK(ca.r == 5);
  CHECK_FALSE(ca.bias);
  CHECK(cb.c == 4);
  CHECK(cb.h == 10);
  CHECK(cb.w == 10);
  CHECK(cb.k == 16);
  CHECK(cb.r == 1);
  CHECK(cb.bias);
  CHECK(a.params() == 600);
  CHECK(b.params() == 80);
  CHECK(a.macs() == 60000);
  CHECK(b.macs() == 6400);
  CHECK(b.output_elements() == dense.op(*dense.find("conv2")).output_elements());
  CHECK(g.totals().params == 61706 - 2416 + 680);
  CHECK(g.totals().macs == dense.totals().macs - 240000 + 66400);
}

TEST_CASE("low rank: ratios, defaults and kinds reach only factorisable operators",
          "[workloads][compression]") {
  // rank_ratio 0.5: fc1 (full rank min(400, 120) = 120) gets 60, fc2 (min(120, 84)) 42, fc3 5;
  // conv1 (min(6, 1·25)) 3, conv2 (min(16, 150)) 8. Pools, ReLUs and the flatten stay.
  Graph g = load_workload(kLenet, settings({{"default", {{"rank_ratio", 0.5}}}}));
  CHECK(std::get<MatMul>(g.op(*g.find("fc1.factor_in")).shape).n == 60);
  CHECK(std::get<MatMul>(g.op(*g.find("fc2.factor_in")).shape).n == 42);
  CHECK(std::get<MatMul>(g.op(*g.find("fc3.factor_in")).shape).n == 5);
  CHECK(std::get<Conv>(g.op(*g.find("conv1.factor_in")).shape).k == 3);
  CHECK(std::get<Conv>(g.op(*g.find("conv2.factor_in")).shape).k == 8);
  CHECK(g.size() == 12 + 5);
  CHECK(g.find("relu1"));
  // A more specific pattern wins; "fc*" also matches nothing that is not a matmul here.
  Graph h = load_workload(kLenet, settings({{"kinds", {{"matmul", {{"rank", 8}}}}},
                                            {"layers", {{"fc3", {{"rank", 2}}}}}}));
  CHECK(std::get<MatMul>(h.op(*h.find("fc1.factor_in")).shape).n == 8);
  CHECK(std::get<MatMul>(h.op(*h.find("fc3.factor_in")).shape).n == 2);
  CHECK(h.find("conv1"));
  // A full-rank factorisation is allowed (it is what the user asked for).
  Graph f = load_workload(kLenet, settings({{"layers", {{"fc3", {{"rank", 10}}}}}}));
  CHECK(f.op(*f.find("fc3.factor_out")).params() == 10 * 10 + 10);
}

TEST_CASE("low rank: bad ranks are one line naming the setting", "[workloads][compression]") {
  CHECK_THAT(error_of(kLenet, {{"layers", {{"fc1", {{"rank", 0}}}}}}),
             Contains("s.json: /layers/fc1/rank:"));
  CHECK_THAT(error_of(kLenet, {{"layers", {{"fc1", {{"rank", 121}}}}}}),
             Contains("s.json: /layers/fc1/rank: rank 121 exceeds the full rank 120 of operator "
                      "'fc1'"));
  // conv1's filters are a 6 x 25 matrix: rank at most 6.
  CHECK_THAT(error_of(kLenet, {{"layers", {{"conv1", {{"rank", 7}}}}}}),
             Contains("/layers/conv1/rank: rank 7 exceeds the full rank 6"));
  CHECK_THAT(error_of(kLenet, {{"layers", {{"fc1", {{"rank_ratio", 1.5}}}}}}),
             Contains("/layers/fc1/rank_ratio: must be in (0, 1]"));
  CHECK_THAT(error_of(kLenet, {{"layers", {{"fc1", {{"rank_ratio", 0}}}}}}),
             Contains("/layers/fc1/rank_ratio:"));
  CHECK_THAT(error_of(kLenet, {{"layers", {{"fc1", {{"rank", 4}, {"rank_ratio", 0.5}}}}}}),
             Contains("/layers/fc1/rank_ratio: give either rank or rank_ratio, not both"));
  CHECK_THAT(error_of(kLenet, {{"layers", {{"relu*", {{"rank", 4}}}}}}),
             Contains("/layers/relu*: pattern 'relu*' matches no operator that a rank can "
                      "factorise"));
  CHECK_THAT(error_of(kLenet, {{"kinds", {{"pool", {{"rank", 4}}}}}}),
             Contains("/kinds/pool/rank: a low-rank factorisation applies to matmul and conv"));
}

TEST_CASE("low rank: the rank of each kind of operator", "[workloads][compression]") {
  Operator op;
  op.shape = MatMul{.batch = 2, .m = 8, .n = 30, .k = 50};
  CHECK(full_rank(op) == 30);
  op.shape = MatMul{.batch = 2, .m = 8, .n = 30, .k = 50, .b_is_weight = false};
  CHECK(full_rank(op) == 0);  // attention products have no weight
  op.shape = Conv{.c = 8, .k = 64, .r = 3, .s = 3};
  CHECK(full_rank(op) == 64);  // min(64, 8·9 = 72)
  op.shape = Conv{.c = 8, .k = 8, .r = 3, .s = 5, .groups = 8};
  CHECK(full_rank(op) == 3);  // depthwise: each filter's 3 x 5 kernel
  op.shape = Conv{.c = 8, .k = 16, .r = 3, .s = 3, .groups = 8};
  CHECK(full_rank(op) == 3);  // depthwise with two filters per channel: still each kernel
  op.shape = Conv{.c = 8, .k = 64, .r = 3, .s = 3, .groups = 4};
  CHECK(full_rank(op) == 16);  // grouped: each group's 16 x (2·9) filters
  op.shape = Conv{.c = 1, .k = 6, .r = 5, .s = 5};
  CHECK(full_rank(op) == 6);  // one input channel, ungrouped: a 6 x 25 matrix, not depthwise
  op.shape = Conv{.c = 8, .k = 8, .r = 2, .s = 2, .groups = 8, .transposed = true};
  CHECK(full_rank(op) == 0);
  op.shape = Norm{};
  CHECK(full_rank(op) == 0);
}

TEST_CASE("low rank: a grouped convolution factorises group by group", "[workloads][compression]") {
  const std::string block = test::data_path("workloads/mobile_block.json");
  const Graph dense = load_workload(block, LoadOptions{});
  Graph g = load_workload(block, settings({{"layers", {{"gc", {{"rank", 8}}}}}}));
  const Operator& a = g.op(*g.find("gc.factor_in"));
  const Operator& b = g.op(*g.find("gc.factor_out"));
  // gc: 32 -> 64 channels in 4 groups, 3x3, 8x8, no bias: 64·8·9 = 4,608 parameters,
  // 64·64·8·9 = 294,912 MACs. Each group's 16 x 72 filter matrix at rank 8: a 3x3 conv of 4
  // groups 32 -> 4·8 = 32 (32·8·9 = 2,304 parameters, 32·64·8·9 = 147,456 MACs), then a 1x1
  // conv of 4 groups 32 -> 64 (64·8 = 512 parameters, 64·64·8 = 32,768 MACs).
  const auto& ca = std::get<Conv>(a.shape);
  const auto& cb = std::get<Conv>(b.shape);
  CHECK(ca.groups == 4);
  CHECK(ca.k == 32);
  CHECK(ca.r == 3);
  CHECK(ca.pad_top == 1);
  CHECK(cb.groups == 4);
  CHECK(cb.c == 32);
  CHECK(cb.k == 64);
  CHECK(cb.r == 1);
  CHECK(dense.op(*dense.find("gc")).params() == 4608);
  CHECK(a.params() == 2304);
  CHECK(b.params() == 512);
  CHECK(a.macs() == 147456);
  CHECK(b.macs() == 32768);
  CHECK(b.output_elements() == dense.op(*dense.find("gc")).output_elements());
  CHECK(g.totals().params == dense.totals().params - 4608 + 2816);
  CHECK(g.totals().macs == dense.totals().macs - 294912 + 180224);
}

TEST_CASE("low rank: a depthwise convolution's kernels become rows then columns", "[workloads][compression]") {
  const std::string block = test::data_path("workloads/mobile_block.json");
  const Graph dense = load_workload(block, LoadOptions{});
  Graph g = load_workload(block, settings({{"layers", {{"dw", {{"rank", 1}}}}}}));
  const Operator& a = g.op(*g.find("dw.factor_in"));
  const Operator& b = g.op(*g.find("dw.factor_out"));
  // dw: 32 channels, 3x3, stride 2, padding 1, 16x16 -> 8x8, bias: 32·9 + 32 = 320 parameters,
  // 32·8·8·9 = 18,432 MACs. At rank 1 each kernel is a column times a row: a 3x1 conv down the
  // rows (stride 2, padding 1 above and below) over all 16 columns, 32 -> 32 channels in 32
  // groups (32·3 = 96 parameters, 32·8·16·3 = 12,288 MACs), then a 1x3 conv along the columns
  // (stride 2, padding 1 left and right) with the bias (32·3 + 32 = 128 parameters, 32·8·8·3 =
  // 6,144 MACs): 224 parameters, and here as many MACs as before (stride 2 across needs every
  // column of the first factor).
  const auto& ca = std::get<Conv>(a.shape);
  const auto& cb = std::get<Conv>(b.shape);
  CHECK(ca.r == 3);
  CHECK(ca.s == 1);
  CHECK(ca.stride_h == 2);
  CHECK(ca.stride_w == 1);
  CHECK(ca.pad_top == 1);
  CHECK(ca.pad_left == 0);
  CHECK(ca.groups == 32);
  CHECK(ca.p() == 8);
  CHECK(ca.q() == 16);
  CHECK(cb.c == 32);
  CHECK(cb.h == 8);
  CHECK(cb.w == 16);
  CHECK(cb.r == 1);
  CHECK(cb.s == 3);
  CHECK(cb.stride_w == 2);
  CHECK(cb.pad_left == 1);
  CHECK(cb.pad_right == 1);
  CHECK(cb.groups == 32);
  CHECK(cb.bias);
  CHECK(a.params() == 96);
  CHECK(b.params() == 128);
  CHECK(a.macs() == 12288);
  CHECK(b.macs() == 6144);
  CHECK(b.output_elements() == dense.op(*dense.find("dw")).output_elements());
  CHECK(g.totals().params == dense.totals().params - 320 + 224);
  // Rank 2 keeps two channels per kernel: 32·2·3 + (32·2·3 + 32) = 416 parameters, more than
  // the 320 of the whole kernels (allowed: it is what was asked for).
  Graph two = load_workload(block, settings({{"layers", {{"dw", {{"rank", 2}}}}}}));
  CHECK(two.op(*two.find("dw.factor_in")).params() + two.op(*two.find("dw.factor_out")).params() == 416);
  CHECK(std::get<Conv>(two.op(*two.find("dw.factor_out")).shape).c == 64);
  CHECK_THAT(error_of(block, {{"layers", {{"dw", {{"rank", 4}}}}}}),
             Contains("/layers/dw/rank: rank 4 exceeds the full rank 3 of operator 'dw'"));
  // A ratio reaches every factorisable convolution; the transposed one stays:
  // stem min(32, 27) -> round(13.5) = 14, dw 3 -> 2, gc 16 -> 8, pw min(16, 64) -> 8.
  Graph r = load_workload(block, settings({{"kinds", {{"conv", {{"rank_ratio", 0.5}}}}}}));
  CHECK(std::get<Conv>(r.op(*r.find("stem.factor_in")).shape).k == 14);
  CHECK(std::get<Conv>(r.op(*r.find("dw.factor_in")).shape).k == 64);
  CHECK(std::get<Conv>(r.op(*r.find("gc.factor_in")).shape).k == 32);
  CHECK(std::get<Conv>(r.op(*r.find("pw.factor_in")).shape).k == 8);
  CHECK(r.find("up"));
  CHECK(r.size() == 9);
}

TEST_CASE("modegpt: a compression ratio on every layer of gpt2", "[workloads][compression]") {
  // ratio 0.25: head dim 64 -> 48 for Q/K and for V/O, MLP 3072 -> 2304. A layer: Q, K, V
  // 768 x 576 + 576 each, O 576 x 768 + 768, MLP 768 x 2304 + 2304 and 2304 x 768 + 768, two
  // LayerNorms 2·1536: 1,771,968 + 3,542,016 + 3,072 = 5,317,056 (7,087,872 uncompressed).
  // Model: 124,439,808 - 12·(7,087,872 - 5,317,056) = 103,190,016.
  Graph g = load_workload(kGpt2, settings({{"modegpt", {{"ratio", 0.25}}}}));
  CHECK(g.totals().params == 103190016);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.3.attn.q_proj")).shape).n == 576);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.3.attn.o_proj")).shape).k == 576);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.3.mlp.up_proj")).shape).n == 2304);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.3.mlp.down_proj")).shape).k == 2304);
  // QK^T over the smaller head dim; the context has the smaller value dim.
  const auto& scores = std::get<MatMul>(g.op(*g.find("layers.3.attn.scores")).shape);
  CHECK(scores.k == 48);
  CHECK(scores.batch == 12);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.3.attn.context")).shape).n == 48);
  // The cache holds the reduced K and V: 2·12 layers·576·2 bytes per token (36,864 dense).
  CHECK(kv_bytes_written(g) == 128 * 2 * 12 * 576 * 2);
  // ratio 0 is the model itself.
  CHECK(load_workload(kGpt2, settings({{"modegpt", {{"ratio", 0}}}})).totals().params ==
        124439808);
}

TEST_CASE("modegpt: ranks per module and per layer on llama-1b (GQA, RoPE)",
          "[workloads][compression]") {
  // Every layer: Q/K 32 per head, V/O 48 per head, MLP 4096; layers.0 left whole (ratio 0).
  // llama-1b: d 2048, 32 heads, 8 KV heads, head dim 64, gated MLP 8192, 16 layers.
  // A compressed layer: q 2048·(32·32), k 2048·(8·32), v 2048·(8·48), o (32·48)·2048,
  // MLP 3·2048·4096, norms 2·2048 = 6,553,600 + 25,165,824 + 4,096 = 31,723,520.
  // A whole layer: 2048·5120 + 3·2048·8192 + 4096 = 60,821,504. Model: tied table 128256·2048 =
  // 262,668,288 + 60,821,504 + 15·31,723,520 + final norm 2048 = 799,344,640.
  Graph g = load_workload(kLlama, settings({{"modegpt",
                                             {{"qk_rank", 32},
                                              {"vo_rank", 48},
                                              {"mlp_rank", 4096},
                                              {"layers", {{"layers.0", {{"ratio", 0}}}}}}}}));
  CHECK(g.totals().params == 799344640);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.0.attn.scores")).shape).k == 64);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.5.attn.scores")).shape).k == 32);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.5.attn.context")).shape).n == 48);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.5.attn.k_proj")).shape).n == 256);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.5.attn.v_proj")).shape).n == 384);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.5.mlp.gate_proj")).shape).n == 4096);
  // RoPE rotates the new queries and keys: 128·(1024 + 256) elements.
  CHECK(std::get<Elementwise>(g.op(*g.find("layers.5.attn.rope")).shape).elements == 128 * 1280);
  // KV bytes per token: layer 0 2·512·2, the others (256 + 384)·2.
  CHECK(kv_bytes_written(g) == 128 * (2 * 512 * 2 + 15 * (256 + 384) * 2));

  // A layer's ratio wins over the ranks of every layer: 0.5 of 64 -> 32 (paired for RoPE), of
  // 8192 -> 4096.
  Graph h = load_workload(kLlama, settings({{"modegpt",
                                             {{"qk_rank", 16},
                                              {"layers", {{"layers.1?", {{"ratio", 0.5}}}}}}}}));
  CHECK(std::get<MatMul>(h.op(*h.find("layers.2.attn.scores")).shape).k == 16);
  CHECK(std::get<MatMul>(h.op(*h.find("layers.12.attn.scores")).shape).k == 32);
  CHECK(std::get<MatMul>(h.op(*h.find("layers.12.mlp.up_proj")).shape).n == 4096);
  CHECK(std::get<MatMul>(h.op(*h.find("layers.2.mlp.up_proj")).shape).n == 8192);
  // Ratios round the Q/K dim to pairs: (1 - 0.3)·64 = 44.8 -> 44.
  Graph r = load_workload(kLlama, settings({{"modegpt", {{"ratio", 0.3}}}}));
  CHECK(std::get<MatMul>(r.op(*r.find("layers.0.attn.scores")).shape).k == 44);
  CHECK(std::get<MatMul>(r.op(*r.find("layers.0.attn.context")).shape).n == 45);
}

TEST_CASE("modegpt: decode steps read the reduced cache", "[workloads][compression]") {
  auto s = settings({{"phase", "decode"}, {"kv_len", 100}, {"modegpt", {{"ratio", 0.25}}}});
  Graph g = load_workload(kGpt2, s);
  // 12 layers, K and V of 12 heads x 48 at 2 bytes over the 101 keys attended.
  i64 read = 0;
  for (Graph::Node n = 0; n < g.size(); ++n) read += g.op(n).cache_bytes();
  CHECK(read == 2 * 12 * 101 * 576 * 2);
}

TEST_CASE("modegpt: bad settings are one line naming the setting", "[workloads][compression]") {
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"qk_rank", 65}}}}),
             Contains("s.json: /modegpt/qk_rank: 65 exceeds the head dimension 64 of layers.0"));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"layers", {{"layers.3", {{"mlp_rank", 4000}}}}}}}}),
             Contains("s.json: /modegpt/layers/layers.3/mlp_rank: 4000 exceeds the MLP width "
                      "3072 of layers.3"));
  CHECK_THAT(error_of(kLlama, {{"modegpt", {{"qk_rank", 33}}}}),
             Contains("/modegpt/qk_rank: 33 must be even: rotary embeddings rotate pairs"));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"vo_rank", 0}}}}), Contains("/modegpt/vo_rank:"));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"ratio", 1}}}}),
             Contains("/modegpt/ratio: must be in [0, 1)"));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"layers", {{"layers.12", {{"ratio", 0.1}}}}}}}}),
             Contains("s.json: /modegpt/layers/layers.12: pattern 'layers.12' matches no layer"));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"rank", 3}}}}), Contains("/modegpt/rank"));
  // Other front-ends do not take it.
  CHECK_THAT(error_of(kLenet, {{"modegpt", {{"ratio", 0.25}}}}), Contains("modegpt"));
}

namespace {

// Scores whose softmax weights at epsilon 0.1 are 1, 1/2, 1/4, 1/8 (s = 0.1 · ln 2 · g),
// repeated over gpt2's 12 layers: g = 0, 1, 2, 3, 0, 1, 2, 3, ...
json powers_of_two_scores() {
  json s = json::array();
  for (int l = 0; l < 12; ++l) s.push_back(0.1 * std::log(2.0) * (l % 4));
  return s;
}

i64 q_width(const Graph& g, int layer) {
  return std::get<MatMul>(g.op(*g.find("layers." + std::to_string(layer) + ".attn.q_proj")).shape).n;
}
i64 mlp_width(const Graph& g, int layer) {
  return std::get<MatMul>(g.op(*g.find("layers." + std::to_string(layer) + ".mlp.up_proj")).shape).n;
}

}  // namespace

TEST_CASE("modegpt allocation: ratios from scores by softmax, the mean kept, the cap honoured",
          "[workloads][compression]") {
  std::vector<double> scores;
  for (const auto& s : powers_of_two_scores()) scores.push_back(s.get<double>());
  const auto mean = [](const std::vector<double>& r) { return std::accumulate(r.begin(), r.end(), 0.0) / r.size(); };
  // Weights per group of four 8/15, 4/15, 2/15, 1/15 of 1.875 each; 12 layers at an average of
  // 0.3 remove 3.6 in all: 3.6 · w / 5.625 = 0.64 · w -> 0.64, 0.32, 0.16, 0.08.
  const auto free = allocate_ratios(scores, 0.3, 0.1, 0.8, "");
  for (int l = 0; l < 12; ++l) CHECK(free[l] == Approx(std::vector{0.64, 0.32, 0.16, 0.08}[l % 4]));
  CHECK(mean(free) == Approx(0.3));
  // Cap 0.5: the three g = 0 layers take 0.5; the other 2.1 goes by weight over 3 · 0.875:
  // 0.8 · w -> 0.4, 0.2, 0.1.
  const auto half = allocate_ratios(scores, 0.3, 0.1, 0.5, "");
  for (int l = 0; l < 12; ++l) CHECK(half[l] == Approx(std::vector{0.5, 0.4, 0.2, 0.1}[l % 4]));
  CHECK(mean(half) == Approx(0.3));
  // Cap 0.35, two rounds: g = 0 capped leaves 2.55 over 2.625, so g = 1 gets 0.486 > 0.35 and is
  // capped too; 3.6 - 6 · 0.35 = 1.5 over 3 · 0.375 gives g = 2 1/3 and g = 3 1/6.
  const auto tight = allocate_ratios(scores, 0.3, 0.1, 0.35, "");
  for (int l = 0; l < 12; ++l) CHECK(tight[l] == Approx(std::vector{0.35, 0.35, 1.0 / 3, 1.0 / 6}[l % 4]));
  CHECK(mean(tight) == Approx(0.3));
  for (double r : tight) CHECK(r <= 0.35);
  // A large epsilon flattens the allocation towards the average; equal scores give it exactly.
  for (double r : allocate_ratios(scores, 0.3, 1e6, 0.8, "")) CHECK(r == Approx(0.3).epsilon(1e-5));
  for (double r : allocate_ratios(std::vector<double>(5, 0.4), 0.25, 0.05, 0.8, "")) CHECK(r == Approx(0.25));

  // On gpt2 (head dim 64, MLP 3072) at cap 0.35: 0.35 keeps round(0.65 · 64) = 42 per head and
  // round(0.65 · 3072) = 1997; 1/3 keeps 43 and 2048; 1/6 keeps 53 and 2560. The lowest score
  // (layer 0, the least influence) loses the most.
  Graph g = load_workload(kGpt2, settings({{"modegpt",
                                            {{"ratio", 0.3},
                                             {"allocation",
                                              {{"scores", powers_of_two_scores()}, {"epsilon", 0.1}, {"cap", 0.35}}}}}}));
  CHECK(q_width(g, 0) == 12 * 42);
  CHECK(q_width(g, 5) == 12 * 42);
  CHECK(q_width(g, 6) == 12 * 43);
  CHECK(q_width(g, 11) == 12 * 53);
  CHECK(mlp_width(g, 4) == 1997);
  CHECK(mlp_width(g, 10) == 2048);
  CHECK(mlp_width(g, 7) == 2560);
  CHECK(std::get<MatMul>(g.op(*g.find("layers.11.attn.scores")).shape).k == 53);
  // A layer pattern still wins over the allocated share, and a top-level rank over both.
  Graph h = load_workload(kGpt2, settings({{"modegpt",
                                            {{"ratio", 0.3},
                                             {"mlp_rank", 1000},
                                             {"allocation", {{"scores", powers_of_two_scores()}, {"epsilon", 0.1}}},
                                             {"layers", {{"layers.3", {{"ratio", 0}}}}}}}}));
  CHECK(q_width(h, 0) == 12 * 23);  // 0.64 of 64: 23.04 kept
  CHECK(q_width(h, 3) == 768);
  CHECK(mlp_width(h, 1) == 1000);
  CHECK(mlp_width(h, 3) == 3072);
}

TEST_CASE("modegpt allocation: scores from a file, and bad allocations are one line", "[workloads][compression]") {
  const auto dir = std::filesystem::temp_directory_path() / "tessera_test_modegpt_allocation";
  std::filesystem::create_directories(dir);
  const std::string settings_file = (dir / "settings.json").string();
  {
    std::ofstream(dir / "bi.json") << powers_of_two_scores().dump();
    std::ofstream(settings_file) << "{}";
    std::ofstream(dir / "bad.json") << "[0.1, 0.2, -0.5]";
  }
  const json doc = {{"modegpt", {{"ratio", 0.3}, {"allocation", {{"scores_file", "bi.json"}, {"epsilon", 0.1}}}}}};
  Graph g = load_workload(kGpt2, read_workload_settings(doc, settings_file));
  CHECK(q_width(g, 0) == 12 * 23);
  CHECK(q_width(g, 1) == 12 * 44);  // 0.32: 43.52 kept

  const auto err = [](const json& allocation, double ratio = 0.3) {
    return error_of(kGpt2, {{"modegpt", {{"ratio", ratio}, {"allocation", allocation}}}});
  };
  CHECK_THAT(err({{"scores", {0.1, 0.2, 0.3, 0.4}}, {"epsilon", 0.1}}),
             Contains("s.json: /modegpt/allocation: 4 scores for") && Contains("which has 12 layers"));
  CHECK_THAT(err({{"scores", {0.1, "x"}}, {"epsilon", 0.1}}),
             Contains("s.json: /modegpt/allocation/scores/1: expected a Block Influence score in [0, 2]"));
  CHECK_THAT(err({{"scores", {0.1, 2.5}}, {"epsilon", 0.1}}), Contains("/modegpt/allocation/scores/1:"));
  CHECK_THAT(err({{"scores", json::array()}, {"epsilon", 0.1}}), Contains("/modegpt/allocation/scores: expected a non-empty"));
  CHECK_THAT(err({{"scores", powers_of_two_scores()}}), Contains("/modegpt/allocation: missing required key 'epsilon'"));
  CHECK_THAT(err({{"scores", powers_of_two_scores()}, {"epsilon", 0}}), Contains("/modegpt/allocation/epsilon"));
  CHECK_THAT(err({{"scores", powers_of_two_scores()}, {"epsilon", 0.1}, {"cap", 1}}),
             Contains("/modegpt/allocation/cap: must be in (0, 1)"));
  CHECK_THAT(err({{"scores", powers_of_two_scores()}, {"epsilon", 0.1}, {"cap", 0.4}}, 0.5),
             Contains("/modegpt/allocation: the average ratio 0.500000 exceeds the cap 0.400000"));
  CHECK_THAT(err({{"epsilon", 0.1}}), Contains("exactly one of \"scores\" and \"scores_file\""));
  CHECK_THAT(error_of(kGpt2, {{"modegpt", {{"allocation", {{"scores", powers_of_two_scores()}, {"epsilon", 0.1}}}}}}),
             Contains("/modegpt/allocation: spreads the top-level \"ratio\""));
  const auto from_file = [&](const std::string& name) {
    try {
      (void)read_workload_settings(
          json{{"modegpt", {{"ratio", 0.3}, {"allocation", {{"scores_file", name}, {"epsilon", 0.1}}}}}}, settings_file);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(from_file("bad.json"), Contains("bad.json: /2: expected a Block Influence score"));
  CHECK_THAT(from_file("absent.json"), Contains("absent.json"));
  std::filesystem::remove_all(dir);
}
