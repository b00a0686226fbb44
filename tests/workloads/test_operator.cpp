// Derived counts of every operator kind, checked against numbers worked out by hand (the
// arithmetic is written beside each expectation), and validate()'s errors.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "workloads/operator.hpp"

using namespace tessera;
using namespace tessera::workloads;
using Catch::Contains;

namespace {

Operator make(OpShape shape, Precision precision = {}) {
  Operator op;
  op.name = "op";
  op.shape = std::move(shape);
  op.precision = precision;
  return op;
}

}  // namespace

TEST_CASE("conv counts: ResNet stem, strided and padded", "[workloads][operator]") {
  Conv c{.c = 3, .h = 224, .w = 224, .k = 64, .r = 7, .s = 7};
  c.stride_h = c.stride_w = 2;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 3;
  const Operator op = make(c, {.weight_bits = 3, .activation_bits = 4});
  CHECK(c.p() == 112);  // (224 + 6 - 7) / 2 + 1
  CHECK(c.q() == 112);
  CHECK(op.kind() == OpKind::conv);
  CHECK(op.macs() == 118013952);          // 64 * 112*112 * 3*7*7
  CHECK(op.params() == 9408);             // 64 * 3*7*7
  CHECK(op.input_elements() == 150528);   // 3 * 224*224
  CHECK(op.output_elements() == 802816);  // 64 * 112*112
  CHECK(op.weight_bytes() == 3528);       // 9408 * 3 bits / 8
  CHECK(op.input_bytes() == 75264);       // 150528 * 4 bits / 8
  CHECK(op.output_bytes() == 401408);
}

TEST_CASE("conv counts: grouped, depthwise, dilated", "[workloads][operator]") {
  SECTION("grouped with bias") {
    Conv c{.c = 32, .h = 16, .w = 16, .k = 64, .r = 3, .s = 3, .groups = 4, .bias = true};
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
    const Operator op = make(c);
    CHECK(op.macs() == 1179648);  // 64 * 16*16 * (32/4)*3*3
    CHECK(op.params() == 4672);   // 64 * 8*3*3 + 64 bias
  }
  SECTION("depthwise") {
    Conv c{.c = 32, .h = 112, .w = 112, .k = 32, .r = 3, .s = 3, .groups = 32};
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
    const Operator op = make(c);
    CHECK(op.macs() == 3612672);  // 32 * 112*112 * 1*3*3
    CHECK(op.params() == 288);    // 32 * 3*3
  }
  SECTION("dilated") {
    Conv c{.c = 16, .h = 32, .w = 32, .k = 16, .r = 3, .s = 3};
    c.dilation_h = c.dilation_w = 2;
    CHECK(c.p() == 28);                // 32 - 2*(3-1) - 1 + 1
    CHECK(make(c).macs() == 1806336);  // 16 * 28*28 * 16*3*3
  }
  SECTION("strided 1x1, no padding (SCALE-Sim r18_conv3_ds1x1s2)") {
    Conv c{.c = 64, .h = 55, .w = 55, .k = 128, .r = 1, .s = 1};
    c.stride_h = c.stride_w = 2;
    CHECK(c.p() == 28);                // (55 - 1) / 2 + 1
    CHECK(make(c).macs() == 6422528);  // 128 * 28*28 * 64
  }
  SECTION("asymmetric padding and a batch of 2") {
    Conv c{.n = 2, .c = 1, .h = 8, .w = 9, .k = 1, .r = 3, .s = 3};
    c.stride_h = c.stride_w = 2;
    c.pad_top = 0;
    c.pad_bottom = 1;
    c.pad_left = 1;
    c.pad_right = 0;
    CHECK(c.p() == 4);                       // (8 + 0 + 1 - 3) / 2 + 1
    CHECK(c.q() == 4);                       // (9 + 1 + 0 - 3) / 2 + 1
    CHECK(make(c).macs() == 288);            // 2 * 4*4 * 3*3
    CHECK(make(c).input_elements() == 144);  // 2 * 8*9
  }
}

TEST_CASE("matmul counts: weights versus attention", "[workloads][operator]") {
  SECTION("projection, B is a weight") {
    const Operator op = make(MatMul{.m = 128, .n = 768, .k = 768, .bias = true});
    CHECK(op.macs() == 75497472);         // 128*768*768
    CHECK(op.params() == 590592);         // 768*768 + 768
    CHECK(op.input_elements() == 98304);  // 128*768, the weight is not an activation
    CHECK(op.output_elements() == 98304);
  }
  SECTION("attention scores, both operands activations") {
    const Operator op =
        make(MatMul{.batch = 12, .m = 128, .n = 128, .k = 64, .b_is_weight = false});
    CHECK(op.macs() == 12582912);  // 12 * 128*128*64
    CHECK(op.params() == 0);
    CHECK(op.input_elements() == 196608);   // 12 * (128*64 + 64*128)
    CHECK(op.output_elements() == 196608);  // 12 * 128*128
    CHECK(op.weight_bytes() == 0);
  }
}

TEST_CASE("pool counts, windowed and global", "[workloads][operator]") {
  Pool p{.c = 64, .h = 112, .w = 112, .r = 3, .s = 3};
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const Operator max_pool = make(p);
  CHECK(p.p() == 56);  // (112 + 2 - 3) / 2 + 1
  CHECK(max_pool.macs() == 0);
  CHECK(max_pool.params() == 0);
  CHECK(max_pool.output_elements() == 200704);  // 64 * 56*56

  const Pool g{.type = PoolType::avg, .global = true, .c = 512, .h = 7, .w = 7, .r = 7, .s = 7};
  CHECK(g.p() == 1);
  CHECK(make(g).input_elements() == 25088);  // 512 * 7*7
  CHECK(make(g).output_elements() == 512);
}

TEST_CASE("counts of the other kinds", "[workloads][operator]") {
  const Operator add = make(Elementwise{.function = "add", .elements = 100, .inputs = 2});
  CHECK(add.macs() == 0);
  CHECK(add.input_elements() == 200);
  CHECK(add.output_elements() == 100);

  const Operator softmax = make(Softmax{.rows = 1536, .cols = 128});
  CHECK(softmax.input_elements() == 196608);
  CHECK(softmax.output_elements() == 196608);

  CHECK(make(Norm{.type = NormType::layer, .elements = 98304, .channels = 768}).params() == 1536);
  CHECK(make(Norm{.type = NormType::rms, .elements = 98304, .channels = 768}).params() == 768);

  const Operator embedding = make(Embedding{.tokens = 128, .vocab = 30522, .dim = 768},
                                  {.weight_bits = 16, .activation_bits = 16});
  CHECK(embedding.params() == 23440896);        // 30522 * 768
  CHECK(embedding.weight_bytes() == 46881792);  // 2 bytes each
  CHECK(embedding.input_elements() == 128);
  CHECK(embedding.output_elements() == 98304);

  const Operator concat =
      make(DataMovement{.type = MoveType::concat, .input_elements = 300, .output_elements = 300});
  CHECK(concat.macs() == 0);
  CHECK(concat.kind() == OpKind::data_movement);
  CHECK(concat.output_bytes() == 300);
}

TEST_CASE("kind and enum names round trip", "[workloads][operator]") {
  for (auto k : {OpKind::conv, OpKind::matmul, OpKind::elementwise, OpKind::pool, OpKind::softmax,
                 OpKind::norm, OpKind::embedding, OpKind::data_movement})
    CHECK(op_kind_from_string(to_string(k)) == k);
  CHECK(to_string(OpKind::data_movement) == "data_movement");
  CHECK(pool_type_from_string("avg") == PoolType::avg);
  CHECK(norm_type_from_string("group") == NormType::group);
  CHECK(move_type_from_string("flatten") == MoveType::flatten);
  CHECK_FALSE(op_kind_from_string("convolution"));
  CHECK_FALSE(pool_type_from_string("min"));
}

TEST_CASE("validate names the operator, the field and the bound", "[workloads][operator]") {
  const std::string where = "w.json: /operators/0: ";
  auto fails = [&](const Operator& op) {
    try {
      validate(op, where);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_NOTHROW(validate(make(Conv{.c = 4, .h = 8, .w = 8, .k = 8, .r = 3, .s = 3}), where));

  CHECK_THAT(
      fails(make(Conv{.c = 6, .h = 8, .w = 8, .k = 8, .r = 3, .s = 3, .groups = 4})),
      Contains("w.json: /operators/0: operator 'op': ") && Contains("divisible by groups=4"));
  CHECK_THAT(fails(make(Conv{.c = 1, .h = 4, .w = 4, .k = 1, .r = 5, .s = 5})),
             Contains("does not fit") && Contains("0x0"));
  CHECK_THAT(fails(make(MatMul{.m = 0})), Contains("m must be > 0, got 0"));
  CHECK_THAT(fails(make(Softmax{.rows = -3})), Contains("rows must be > 0, got -3"));
  CHECK_THAT(fails(make(Pool{.h = 2, .w = 2, .r = 3, .s = 3})), Contains("window does not fit"));
  CHECK_THAT(fails(make(Elementwise{.function = ""})), Contains("function must not be empty"));
  CHECK_THAT(fails(make(MatMul{}, {.weight_bits = 0})), Contains("weight_bits must be in [1, 64]"));

  Operator sparse = make(MatMul{});
  sparse.density.weight = 0;
  CHECK_THAT(fails(sparse), Contains("weight density must be in (0, 1]"));

  Operator exit = make(MatMul{});
  exit.early_exit = EarlyExit{0, 1.5};
  CHECK_THAT(fails(exit), Contains("early_exit probability must be in [0, 1]"));

  Operator unnamed = make(MatMul{});
  unnamed.name.clear();
  CHECK_THAT(fails(unnamed), Contains("w.json: /operators/0: operator name must not be empty"));
}

TEST_CASE("validate refuses sizes and counts beyond 2^53", "[workloads][operator][errors]") {
  const std::string where = "w.json: /operators/0: ";
  auto fails = [&](const Operator& op) {
    try {
      validate(op, where);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  constexpr i64 big = i64{1} << 31;
  // A 2^62-element softmax gave negative MACs downstream; 2^62 rows is beyond the field bound.
  CHECK_THAT(fails(make(Softmax{.rows = big, .cols = big})),
             Contains("w.json: /operators/0: operator 'op': elements (rows x cols) exceed 2^53"));
  CHECK_THAT(fails(make(Softmax{.rows = i64{1} << 62, .cols = 1})),
             Contains("rows must be at most 2^53, got 4611686018427387904"));
  CHECK_THAT(fails(make(MatMul{.batch = i64{1} << 40, .m = 1 << 10, .n = 1 << 10, .k = 1})),
             Contains("MACs (batch x m x n x k) exceed 2^53"));
  // Each factor fits, the product wraps 64 bits: still refused, not wrapped.
  CHECK_THAT(fails(make(MatMul{.batch = big, .m = big, .n = big, .k = big})),
             Contains("MACs (batch x m x n x k) exceed 2^53"));
  CHECK_THAT(fails(make(Conv{.n = big, .c = big, .h = 2, .w = 2, .k = 1, .r = 1, .s = 1})),
             Contains("input elements (n x c x h x w) exceed 2^53"));
  CHECK_THAT(fails(make(Conv{.c = 1, .h = 8, .w = 8, .k = 1, .r = 3, .s = 3,
                             .dilation_h = i64{1} << 52})),
             Contains("dilation_h x r exceed 2^53"));
  CHECK_THAT(fails(make(Embedding{.tokens = 1, .vocab = big, .dim = big})),
             Contains("weights (vocab x dim) exceed 2^53"));
  CHECK_THAT(fails(make(Elementwise{.function = "add", .elements = i64{1} << 52, .inputs = 4})),
             Contains("input elements (elements x inputs) exceed 2^53"));
  // At the bound itself: accepted, and the derived counts are exact.
  const Operator edge = make(MatMul{.batch = 1 << 13, .m = 1 << 20, .n = 1 << 20, .k = 1});
  CHECK_NOTHROW(validate(edge, where));
  CHECK(edge.macs() == kMaxCount);
}

TEST_CASE("size_product saturates instead of wrapping", "[workloads][operator]") {
  CHECK(size_product({3, 5, 7}) == 105);
  CHECK(size_product({}) == 1);
  CHECK(size_product({i64{1} << 40, i64{1} << 13}) == kMaxCount);
  CHECK(size_product({i64{1} << 40, i64{1} << 14}) == kMaxCount + 1);
  CHECK(size_product({i64{1} << 62, 4, 4}) == kMaxCount + 1);  // 2^66 would wrap to 0
  CHECK(size_product({-(i64{1} << 60), 2}) == -(kMaxCount + 1));
}
