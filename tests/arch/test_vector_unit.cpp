// The vector unit: operation counts per operator kind against the closed forms documented in
// arch/vector_unit.cpp (expected values worked by hand below), cycles and energy per class,
// operators without MACs mapped onto it (EngineBase::map_vector: tiles of at most half its
// buffer, totals preserved, views free), and the warnings engines give for what they ignore.
#include <algorithm>

#include <catch2/catch.hpp>

#include "arch/ideal/ideal.hpp"
#include "arch/systolic/systolic.hpp"

using namespace tessera;
using arch::VectorOp;
using arch::VectorWork;
using Catch::Matchers::Contains;

namespace {

workloads::Operator make(workloads::OpShape shape) {
  workloads::Operator op;
  op.name = "op";
  op.shape = std::move(shape);
  return op;
}

VectorWork work(std::initializer_list<std::pair<VectorOp, arch::u64>> counts) {
  VectorWork w;
  for (const auto& [op, n] : counts) w[op] = n;
  return w;
}

// An engine that maps operators without MACs with split tiles (systolic, native mode).
arch::SystolicEngine systolic(arch::u64 vector_buffer = 64 * 1024, arch::u64 lanes = 64) {
  arch::SystolicParams p;
  p.rows = p.cols = 8;
  p.common.vector.buffer_bytes = vector_buffer;
  p.common.vector.lanes = lanes;
  return arch::SystolicEngine(p);
}

}  // namespace

TEST_CASE("vector work per operator kind follows the documented closed forms", "[arch][vector]") {
  using enum VectorOp;
  // Softmax over 3 rows of 5: per element a running-max compare, a subtract, an exp, a sum
  // reduction and a scale; one reciprocal per row.
  CHECK(arch::vector_work(make(workloads::Softmax{.rows = 3, .cols = 5})) ==
        work({{compare, 15}, {add, 15}, {exp, 15}, {reduce, 15}, {divide, 3}, {mul, 15}}));
  // Layer norm of 24 values over 8 channels (3 rows): mean and variance (2 reductions and 2
  // adds per element), normalise, scale, shift (3 multiplies per element), one rsqrt per row.
  const workloads::Norm layer{.type = workloads::NormType::layer, .elements = 24, .channels = 8};
  CHECK(arch::vector_work(make(layer)) ==
        work({{reduce, 48}, {add, 48}, {mul, 72}, {rsqrt, 3}}));
  auto group = layer;
  group.type = workloads::NormType::group;
  CHECK(arch::vector_work(make(group)) == arch::vector_work(make(layer)));
  // RMS norm: mean square (1 reduction), normalise and scale (3 multiplies), rsqrt per row.
  auto rms = layer;
  rms.type = workloads::NormType::rms;
  CHECK(arch::vector_work(make(rms)) == work({{reduce, 24}, {mul, 72}, {rsqrt, 3}}));
  // Batch norm at inference: one multiply and one add per element.
  auto batch = layer;
  batch.type = workloads::NormType::batch;
  CHECK(arch::vector_work(make(batch)) == work({{mul, 24}, {add, 24}}));

  // Pooling 2 channels of 6x6 with a 3x3 window, stride 3: 2 x 2 x 2 = 8 outputs of 9 inputs.
  workloads::Pool pool{.type = workloads::PoolType::max, .n = 1, .c = 2, .h = 6, .w = 6,
                       .r = 3, .s = 3, .stride_h = 3, .stride_w = 3};
  CHECK(arch::vector_work(make(pool)) == work({{compare, 72}}));
  pool.type = workloads::PoolType::avg;  // a sum over the window and one scale per output
  CHECK(arch::vector_work(make(pool)) == work({{reduce, 72}, {mul, 8}}));
  pool.global = true;  // one output per channel over the whole 6x6 plane
  CHECK(arch::vector_work(make(pool)) == work({{reduce, 72}, {mul, 2}}));

  // GELU, tanh form 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) on 10 elements: per element
  // one exp, 4 adds, one divide, 5 multiplies.
  CHECK(arch::vector_work(make(workloads::Elementwise{.function = "gelu", .elements = 10})) ==
        work({{exp, 10}, {add, 40}, {divide, 10}, {mul, 50}}));
  // Pointwise functions of several inputs: inputs - 1 operations per element.
  CHECK(arch::vector_work(make(workloads::Elementwise{.function = "add", .elements = 10,
                                                      .inputs = 3})) == work({{add, 20}}));
  CHECK(arch::vector_work(make(workloads::Elementwise{.function = "relu", .elements = 10})) ==
        work({{compare, 10}}));
  // Data movement and embeddings move each output element once.
  CHECK(arch::vector_work(make(workloads::DataMovement{.type = workloads::MoveType::transpose,
                                                       .input_elements = 12,
                                                       .output_elements = 12})) ==
        work({{move, 12}}));
  CHECK(arch::vector_work(make(workloads::Embedding{.tokens = 4, .vocab = 100, .dim = 8})) ==
        work({{move, 32}}));
  // MAC operators have none (their epilogues are separate operators).
  CHECK(arch::vector_work(make(workloads::MatMul{.batch = 1, .m = 4, .n = 4, .k = 4})).total() == 0);
}

TEST_CASE("views cost nothing", "[arch][vector]") {
  for (auto type : {workloads::MoveType::reshape, workloads::MoveType::flatten}) {
    const auto view = make(workloads::DataMovement{.type = type, .input_elements = 4096,
                                                   .output_elements = 4096});
    CHECK(arch::is_view(view));
    CHECK(arch::vector_work(view).total() == 0);
    const auto w = systolic().map(view);
    CHECK(w.plan.tiles.empty());
    CHECK(w.plan.read_bytes() + w.plan.write_bytes() == 0);
    CHECK(w.vector.total() == 0);
  }
  CHECK_FALSE(arch::is_view(make(workloads::DataMovement{.type = workloads::MoveType::copy})));
}

TEST_CASE("vector cycles and energy per operation class", "[arch][vector]") {
  arch::VectorUnit v;
  v.lanes = 4;
  // Softmax 3 x 5 with the default cycles (exp and divide 4, the rest 1):
  // 15 + 15 + 15*4 + 15 + 3*4 + 15 = 132 lane-cycles on 4 lanes = 33 cycles.
  const auto sm = arch::vector_work(make(workloads::Softmax{.rows = 3, .cols = 5}));
  CHECK(v.compute_cycles(sm) == 33);
  v.lanes = 5;
  CHECK(v.compute_cycles(sm) == 27);  // ceil(132 / 5) = 27
  v.energy_pj = {1, 2, 3, 4, 5, 6, 7, 8};
  // compare 15*3 + add 15*1 + exp 15*6 + reduce 15*4 + divide 3*7 + mul 15*2 = 261 pJ.
  CHECK(v.energy(sm) == Approx(261));
  VectorWork sum = sm;
  sum += sm;
  CHECK(sum.total() == 2 * sm.total());
  CHECK(sm.total() == 15 * 5 + 3);
}

TEST_CASE("operators without MACs map onto the vector unit in tiles of half its buffer",
          "[arch][vector]") {
  // 5000 ReLUs through a 1 KiB buffer: 5000 B in and 5000 B out in tiles of at most 512 B,
  // ceil(5000 / 512) = 10 tiles; ceil(5000 / 64 lanes) = 79 cycles in all.
  const auto relu = make(workloads::Elementwise{.function = "relu", .elements = 5000});
  const auto e = systolic(1024);
  const auto w = e.map(relu);
  CHECK(w.macs == 0);
  CHECK(w.plan.tile_count() == 10);
  CHECK(w.plan.compute_cycles() == 79);
  CHECK(w.plan.port_bytes(dataflows::port::input) == 5000);
  CHECK(w.plan.port_bytes(dataflows::port::output) == 5000);
  CHECK(w.plan.find_port(dataflows::port::weight) == dataflows::kMaxPorts);  // no parameters
  CHECK(w.plan.units == 64);
  CHECK(w.vector == arch::vector_work(relu));
  const auto in = w.plan.find_port(dataflows::port::input);
  const auto out = w.plan.find_port(dataflows::port::output);
  for (const auto& t : w.plan.tiles) {
    CHECK(t.bytes[in] <= 512);
    CHECK(t.bytes[out] <= 512);
    CHECK(t.busy_units == 64);
  }
  CHECK(w.accesses.at("dram.ifmap").read_bytes == 5000);
  CHECK(w.accesses.at("dram.ofmap").write_bytes == 5000);
  // A buffer that holds it all: one tile, the same totals.
  const auto whole = systolic().map(relu);
  CHECK(whole.plan.tile_count() == 1);
  CHECK(whole.plan.compute_cycles() == 79);
  CHECK(whole.plan.read_bytes() == 5000);
  // On-chip neighbours: no input read, no output written.
  const auto chained = e.map(relu, arch::MapContext{.input_on_chip = true, .output_on_chip = true});
  CHECK(chained.plan.read_bytes() == 0);
  CHECK(chained.plan.write_bytes() == 0);
  CHECK(chained.plan.compute_cycles() == 79);
  // The roofline engine keeps one streaming tile with the same totals.
  arch::IdealParams ip;
  ip.common.vector.buffer_bytes = 1024;
  const auto ideal = arch::IdealEngine(ip).map(relu);
  CHECK(ideal.plan.tile_count() == 1);
  CHECK(ideal.plan.compute_cycles() == 79);
  CHECK(ideal.plan.read_bytes() == 5000);
}

// Remainders must not push a tile over half the buffer: 5119 B in a 1 KiB buffer, or a layer
// norm of 4096 B with 1024 B of parameters (per-port rounding).
TEST_CASE("every vector tile fits half the buffer, remainders included",
          "[arch][vector]") {
  const auto relu = make(workloads::Elementwise{.function = "relu", .elements = 5119});
  const auto w = systolic(1024).map(relu);
  CHECK(w.plan.port_bytes(dataflows::port::input) == 5119);
  const auto in = w.plan.find_port(dataflows::port::input);
  const auto out = w.plan.find_port(dataflows::port::output);
  for (const auto& t : w.plan.tiles) {
    CHECK(t.bytes[in] <= 512);
    CHECK(t.bytes[out] <= 512);
  }
  const auto norm = make(workloads::Norm{.type = workloads::NormType::layer, .elements = 4096,
                                         .channels = 512});
  const auto n = systolic(1024).map(norm);
  const auto nin = n.plan.find_port(dataflows::port::input);
  const auto nwt = n.plan.find_port(dataflows::port::weight);
  for (const auto& t : n.plan.tiles) CHECK(t.bytes[nin] + t.bytes[nwt] <= 512);
}

TEST_CASE("a layer norm's parameters and an embedding's gathered rows come through the weight "
          "port", "[arch][vector]") {
  // Layer norm of 4096 8-bit values over 512 channels: scale and shift are 1024 B. In tiles of
  // 512 B: (4096 + 1024) / 512 = 10 tiles for what comes in, 8 for what goes out; but 10 tiles
  // of ceil(4096 / 10) + ceil(1024 / 10) = 410 + 103 = 513 B overflow by a byte: 11.
  const auto norm = make(workloads::Norm{.type = workloads::NormType::layer, .elements = 4096,
                                         .channels = 512});
  const auto w = systolic(1024).map(norm);
  CHECK(w.plan.tile_count() == 11);
  CHECK(w.plan.port_bytes(dataflows::port::input) == 4096);
  CHECK(w.plan.port_bytes(dataflows::port::weight) == 1024);
  CHECK(w.plan.port_bytes(dataflows::port::output) == 4096);
  CHECK(w.accesses.at("dram.filter").read_bytes == 1024);
  // rows 8: reduce 8192, add 8192, mul 12288, rsqrt 8 (4 cycles): 28,704 lane-cycles / 64.
  CHECK(w.plan.compute_cycles() == (8192 + 8192 + 12288 + 8 * 4 + 63) / 64);

  // An embedding reads its 32-bit token ids and only the rows it gathers (10 x 64 bytes), not
  // the 1000-row table.
  const auto emb = make(workloads::Embedding{.tokens = 10, .vocab = 1000, .dim = 64});
  const auto e = systolic().map(emb);
  CHECK(e.plan.port_bytes(dataflows::port::input) == 40);
  CHECK(e.plan.port_bytes(dataflows::port::weight) == 640);
  CHECK(e.plan.port_bytes(dataflows::port::output) == 640);
  CHECK(e.vector[VectorOp::move] == 640);
}

TEST_CASE("engines warn about densities and N:M patterns they run densely",
          "[arch][vector][supports]") {
  const arch::IdealEngine ideal{arch::IdealParams{}};
  auto op = make(workloads::MatMul{.batch = 1, .m = 8, .n = 8, .k = 8});
  op.name = "fc";
  CHECK(ideal.supports(op).empty());
  op.density.weight = 0.5;
  auto w = ideal.supports(op);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Contains("weight density 0.5") && Contains("ideal"));
  op.density.activation = 0.25;
  w = ideal.supports(op);
  REQUIRE(w.size() == 2);
  CHECK_THAT(w[1], Contains("activation density"));
  // An N:M pattern is named instead of the density it implies.
  op.density = {};
  op.density.weight = 0.5;
  op.density.weight_pattern = workloads::StructuredSparsity{.n = 2, .m = 4};
  w = ideal.supports(op);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Contains("2:4"));
  // The systolic engine adds its own notes to the same warnings.
  const auto s = systolic();
  w = s.supports(op);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Contains("systolic") && Contains("2:4"));
}
