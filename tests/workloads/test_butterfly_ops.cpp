// Butterfly and FFT operators: their arithmetic against a dense matrix product and a direct DFT
// on random inputs, their counts against the multiplies that arithmetic does, the JSON workload
// format, and the FABNet front-end.
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "test_support.hpp"
#include "workloads/butterfly_ops.hpp"
#include "workloads/fabnet.hpp"
#include "workloads/frontend.hpp"
#include "workloads/json_format.hpp"

using namespace tessera;
using namespace tessera::workloads;

namespace {

std::vector<double> random_values(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<double> d;
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Operator op_of(OpShape shape) {
  Operator op;
  op.name = "op";
  op.shape = std::move(shape);
  return op;
}

}  // namespace

TEST_CASE("butterfly: one butterfly equals the product of its stage matrices") {
  std::mt19937 rng(7);
  for (const i64 n : {2, 4, 8, 16, 64}) {
    INFO("N = " << n);
    const auto w = random_values(butterfly_weight_count(n), rng);
    const auto x = random_values(static_cast<std::size_t>(n), rng);
    i64 multiplies = 0;
    const auto y = butterfly_apply(x, w, &multiplies);
    const auto m = butterfly_dense(n, w);
    for (i64 r = 0; r < n; ++r) {
      double dense = 0;
      for (i64 c = 0; c < n; ++c) dense += m[r * n + c] * x[c];
      CHECK(y[r] == Approx(dense).margin(1e-9));
    }
    // The operator's MACs are the multiplies done: 4 per block, N/2 blocks, log2 N stages.
    CHECK(multiplies == op_of(Butterfly{.rows = 1, .in_features = n, .out_features = n}).macs());
  }
}

TEST_CASE("butterfly: rectangular layers are copies (expansion) or a truncation (contraction)") {
  std::mt19937 rng(11);
  SECTION("expansion 6 -> 24: 3 padded to 8, 4 butterflies of size 8") {
    CHECK(butterfly_copies(6, 24) == 4);
    const auto w = random_values(4 * butterfly_weight_count(8), rng);
    const auto x = random_values(6, rng);
    i64 multiplies = 0;
    const auto y = butterfly_layer(x, 6, 24, w, &multiplies);
    REQUIRE(y.size() == 24);
    std::vector<double> padded(x);
    padded.resize(8, 0.0);
    for (i64 c = 0; c < 4; ++c) {
      const std::vector<double> part(w.begin() + c * 48, w.begin() + (c + 1) * 48);
      const auto m = butterfly_dense(8, part);
      for (i64 r = 0; r < 8 && c * 8 + r < 24; ++r) {
        double dense = 0;
        for (i64 k = 0; k < 8; ++k) dense += m[r * 8 + k] * padded[k];
        CHECK(y[c * 8 + r] == Approx(dense).margin(1e-9));
      }
    }
    const Operator op = op_of(Butterfly{.rows = 1, .in_features = 6, .out_features = 24});
    CHECK(multiplies == op.macs());
    CHECK(op.params() == 4 * 48);
  }
  SECTION("contraction 32 -> 8: one butterfly of 32, first 8 outputs") {
    CHECK(butterfly_copies(32, 8) == 1);
    const auto w = random_values(butterfly_weight_count(32), rng);
    const auto x = random_values(32, rng);
    const auto y = butterfly_layer(x, 32, 8, w);
    const auto m = butterfly_dense(32, w);
    REQUIRE(y.size() == 8);
    for (i64 r = 0; r < 8; ++r) {
      double dense = 0;
      for (i64 k = 0; k < 32; ++k) dense += m[r * 32 + k] * x[k];
      CHECK(y[r] == Approx(dense).margin(1e-9));
    }
  }
}

TEST_CASE("fft: the radix-2 butterfly network equals a direct DFT on random complex inputs") {
  std::mt19937 rng(3);
  for (const i64 n : {2, 4, 8, 32, 256}) {
    INFO("N = " << n);
    const auto re = random_values(static_cast<std::size_t>(n), rng);
    const auto im = random_values(static_cast<std::size_t>(n), rng);
    std::vector<Complex> x(static_cast<std::size_t>(n));
    for (i64 i = 0; i < n; ++i) x[i] = {re[i], im[i]};
    const auto expected = dft_direct(x);
    i64 butterflies = 0;
    fft_radix2(x, &butterflies);
    for (i64 k = 0; k < n; ++k) {
      CHECK(x[k].real() == Approx(expected[k].real()).margin(1e-8));
      CHECK(x[k].imag() == Approx(expected[k].imag()).margin(1e-8));
    }
    CHECK(butterflies ==
          Fft{.rows = 1, .cols = n}.butterflies());  // N/2 log2 N, as the operator counts
  }
}

TEST_CASE("fft: the FNet mixer equals direct DFTs over rows then columns, real part kept") {
  std::mt19937 rng(5);
  for (const auto& [rows, cols] : {std::pair<i64, i64>{4, 8}, {16, 32}, {8, 2}}) {
    const auto x = random_values(static_cast<std::size_t>(rows * cols), rng);
    const auto y = fourier_mix(x, rows, cols);
    const auto expected = fourier_mix_direct(x, rows, cols);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(expected[i]).margin(1e-8));
  }
  const Operator mix = op_of(Fft{.batch = 2, .rows = 16, .cols = 32, .two_d = true});
  // 16 rows of 32-point FFTs (16 x 80 butterflies) and 32 columns of 16-point ones (32 x 32).
  CHECK(std::get<Fft>(mix.shape).butterflies() == 2 * (16 * 80 + 32 * 32));
  CHECK(mix.macs() == 4 * 2 * (16 * 80 + 32 * 32));
  CHECK(mix.params() == 0);
  CHECK(mix.input_elements() == 2 * 16 * 32);
  CHECK(mix.output_elements() == 2 * 16 * 32);
  const Operator dft = op_of(Fft{.rows = 3, .cols = 100, .complex_input = true});
  CHECK(dft.input_elements() == 600);  // complex: two values each
  CHECK(dft.output_elements() == 600);
  CHECK(dft.macs() == 4 * 3 * 64 * 7);  // 100 points run as 128
}

TEST_CASE("butterfly and fft: validation names the field") {
  Operator bad = op_of(Butterfly{.rows = 4, .in_features = 1, .out_features = 8});
  CHECK_THROWS_WITH(validate(bad, "f: "), Catch::Contains("in_features must be >= 2"));
  bad = op_of(Fft{.rows = 4, .cols = 8, .two_d = true, .complex_input = true});
  CHECK_THROWS_WITH(validate(bad, "f: "), Catch::Contains("complex_input applies to a 1-D FFT"));
  bad = op_of(Butterfly{.rows = i64{1} << 40, .in_features = i64{1} << 20, .out_features = 8});
  CHECK_THROWS_AS(validate(bad, "f: "), InputError);
}

TEST_CASE("butterfly and fft: the JSON workload format reads and writes them") {
  const std::string text =
      R"({"format": "tessera.workload", "version": 1, "name": "bfly", "operators": [
    {"name": "mix", "kind": "fft", "shape": {"rows": 128, "cols": 768, "two_d": true}},
    {"name": "up", "kind": "butterfly", "inputs": ["mix"],
     "shape": {"rows": 128, "in_features": 768, "out_features": 3072, "bias": true}}]})";
  const Graph g = workload_from_json(nlohmann::json::parse(text), "bfly.json");
  REQUIRE(g.size() == 2);
  const auto& up = std::get<Butterfly>(g.op(1).shape);
  CHECK(up.size() == 1024);
  CHECK(up.copies() == 4);
  CHECK(g.op(1).macs() == 4 * 128 * 4 * 512 * 10);
  const Graph back = workload_from_json(workload_to_json(g), "again.json");
  CHECK(back.op(0).shape == g.op(0).shape);
  CHECK(back.op(1).shape == g.op(1).shape);
}

TEST_CASE("fabnet: the shipped configs build FBfly layers; ABfly layers come first") {
  LoadOptions o;
  o.seq_len = 256;
  const Graph base = load_workload(test::source_path("configs/models/fabnet-base.json"), o);
  CHECK(base.size() == 12 * 8);  // fourier, add, norm, ffn.in, gelu, ffn.out, add, norm
  const auto mix = base.find("layers.0.fourier");
  REQUIRE(mix);
  CHECK(std::get<Fft>(base.op(*mix).shape) ==
        Fft{.batch = 1, .rows = 256, .cols = 768, .two_d = true});
  const auto up = base.find("layers.11.ffn.in");
  REQUIRE(up);
  CHECK(std::get<Butterfly>(base.op(*up).shape).out_features == 3072);
  CHECK(base.op(*up).precision.format == NumberFormat::fp16);
  const Graph large = load_workload(test::source_path("configs/models/fabnet-large.json"));
  CHECK(large.size() == 24 * 8);
  CHECK(std::get<Fft>(large.op(*large.find("layers.23.fourier")).shape).rows == 128);

  FabnetConfig c;
  c.hidden = 64;
  c.heads = 4;
  c.layers = 3;
  c.abfly_layers = 1;
  const Graph hybrid = build_fabnet(c, "hybrid.json", o);
  CHECK(hybrid.find("layers.0.attention.scores"));
  CHECK(!hybrid.find("layers.0.fourier"));
  CHECK(hybrid.find("layers.1.fourier"));
  const auto& scores = std::get<MatMul>(hybrid.op(*hybrid.find("layers.0.attention.scores")).shape);
  CHECK(scores.batch == 4);
  CHECK(scores.m == 256);
  CHECK(scores.k == 16);
  CHECK(!scores.b_is_weight);
}

TEST_CASE("fabnet: bad configs are one line naming the file and key") {
  const std::string dir = std::filesystem::temp_directory_path() / "tessera_fabnet_test";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/bad.json";
  const auto write = [&](const std::string& text) { std::ofstream(path) << text; };
  write(
      R"({"model_type": "fabnet", "hidden_size": 64, "num_layers": 2, "num_attention_heads": 4, "abfly_layers": 3})");
  CHECK_THROWS_WITH(load_workload(path),
                    Catch::Contains("bad.json") && Catch::Contains("/abfly_layers"));
  write(
      R"({"model_type": "fabnet", "hidden_size": 64, "num_layers": 2, "num_attention_heads": 4, "hidden": 3})");
  CHECK_THROWS_WITH(load_workload(path), Catch::Contains("/hidden"));
  write(
      R"({"model_type": "fabnet", "hidden_size": 64, "num_layers": 2, "num_attention_heads": 5})");
  CHECK_THROWS_WITH(load_workload(path), Catch::Contains("num_attention_heads"));
  LoadOptions o;
  o.kv_len = 4;
  write(
      R"({"model_type": "fabnet", "hidden_size": 64, "num_layers": 2, "num_attention_heads": 4})");
  CHECK_THROWS_WITH(load_workload(path, o), Catch::Contains("kv_len"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("fft: ONNX DFT nodes become 1-D FFT operators", "[onnx]") {
  // tests/data/onnx/dft_opset17.onnx: DFT along axis 1 of a real [2, 64, 1] and a complex
  // [3, 128, 2] input (made with onnx 1.12's helper and shape inference).
  const Graph g = load_workload(test::data_path("onnx/dft_opset17.onnx"));
  REQUIRE(g.size() == 2);
  const auto real = g.find("dft_real"), cplx = g.find("dft_complex");
  REQUIRE(real);
  REQUIRE(cplx);
  CHECK(std::get<Fft>(g.op(*real).shape) == Fft{.batch = 1, .rows = 2, .cols = 64});
  CHECK(std::get<Fft>(g.op(*cplx).shape) ==
        Fft{.batch = 1, .rows = 3, .cols = 128, .complex_input = true});
  CHECK(g.op(*cplx).macs() == 4 * 3 * 64 * 7);
}

TEST_CASE("fft: ONNX DFT at opset 20 reads its axis and length inputs", "[onnx]") {
  // tests/data/onnx/dft_opset20.onnx (scripts/make_onnx_test_data.py): the axis as a constant
  // input, the default axis -2, and a one-sided 128-point DFT of 100 values (dft_length).
  const Graph g = load_workload(test::data_path("onnx/dft_opset20.onnx"));
  REQUIRE(g.size() == 3);
  CHECK(std::get<Fft>(g.op(*g.find("dft_axis")).shape) == Fft{.batch = 1, .rows = 2, .cols = 64});
  CHECK(std::get<Fft>(g.op(*g.find("dft_default")).shape) ==
        Fft{.batch = 1, .rows = 3 * 16, .cols = 32, .complex_input = true});
  CHECK(std::get<Fft>(g.op(*g.find("dft_onesided")).shape) ==
        Fft{.batch = 1, .rows = 4, .cols = 128});
  // An axis on the last dim (the real and imaginary parts) names the node.
  CHECK_THROWS_WITH(load_workload(test::data_path("onnx/dft_opset20_last_axis.onnx")),
                    Catch::Contains("node 'dft_last' (DFT)") && Catch::Contains("axis 2"));
}
