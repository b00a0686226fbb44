// The vector unit: operation counts per operator kind against the closed forms documented in
// arch/vector_unit.cpp (expected values worked by hand below), cycles and energy per class,
// operators without MACs mapped onto it (EngineBase::map_vector: tiles of at most half its
// buffer, totals preserved, views free), and the warnings engines give for what they ignore.
#include <algorithm>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/ideal/ideal.hpp"
#include "arch/systolic/systolic.hpp"
#include "common/error.hpp"

using namespace tessera;
using arch::VectorOp;
using arch::VectorWork;
using Catch::Matchers::Contains;
using arch::u64;
using workloads::i64;

namespace {

workloads::Operator make(workloads::OpShape shape) {
  workloads::Operator op;
  op.name = "op";
  op.shape = std::move(shape);
  return op;
}

VectorWork vector_work(const workloads::Operator& op) { return arch::vector_work(op, "test"); }

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
  CHECK(vector_work(make(workloads::Softmax{.rows = 3, .cols = 5})) ==
        work({{compare, 15}, {add, 15}, {exp, 15}, {reduce, 15}, {divide, 3}, {mul, 15}}));
  // Layer norm of 24 values over 8 channels (3 rows): mean and variance (2 reductions and 2
  // adds per element), normalise, scale, shift (3 multiplies per element), one rsqrt per row.
  const workloads::Norm layer{.type = workloads::NormType::layer, .elements = 24, .channels = 8};
  CHECK(vector_work(make(layer)) ==
        work({{reduce, 48}, {add, 48}, {mul, 72}, {rsqrt, 3}}));
  auto group = layer;
  group.type = workloads::NormType::group;
  CHECK(vector_work(make(group)) == vector_work(make(layer)));
  // RMS norm: mean square (1 reduction), normalise and scale (3 multiplies), rsqrt per row.
  auto rms = layer;
  rms.type = workloads::NormType::rms;
  CHECK(vector_work(make(rms)) == work({{reduce, 24}, {mul, 72}, {rsqrt, 3}}));
  // Batch norm at inference: one multiply and one add per element.
  auto batch = layer;
  batch.type = workloads::NormType::batch;
  CHECK(vector_work(make(batch)) == work({{mul, 24}, {add, 24}}));

  // Pooling 2 channels of 6x6 with a 3x3 window, stride 3: 2 x 2 x 2 = 8 outputs of 9 inputs.
  workloads::Pool pool{.type = workloads::PoolType::max, .n = 1, .c = 2, .h = 6, .w = 6,
                       .r = 3, .s = 3, .stride_h = 3, .stride_w = 3};
  CHECK(vector_work(make(pool)) == work({{compare, 72}}));
  pool.type = workloads::PoolType::avg;  // a sum over the window and one scale per output
  CHECK(vector_work(make(pool)) == work({{reduce, 72}, {mul, 8}}));
  pool.global = true;  // one output per channel over the whole 6x6 plane
  CHECK(vector_work(make(pool)) == work({{reduce, 72}, {mul, 2}}));

  // GELU, tanh form 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) on 10 elements: per element
  // one exp, 4 adds, one divide, 5 multiplies.
  CHECK(vector_work(make(workloads::Elementwise{.function = "gelu", .elements = 10})) ==
        work({{exp, 10}, {add, 40}, {divide, 10}, {mul, 50}}));
  // Pointwise functions of several inputs: inputs - 1 operations per element.
  CHECK(vector_work(make(workloads::Elementwise{.function = "add", .elements = 10,
                                                      .inputs = 3})) == work({{add, 20}}));
  CHECK(vector_work(make(workloads::Elementwise{.function = "relu", .elements = 10})) ==
        work({{compare, 10}}));
  // Data movement and embeddings move each output element once.
  CHECK(vector_work(make(workloads::DataMovement{.type = workloads::MoveType::transpose,
                                                       .input_elements = 12,
                                                       .output_elements = 12})) ==
        work({{move, 12}}));
  CHECK(vector_work(make(workloads::Embedding{.tokens = 4, .vocab = 100, .dim = 8})) ==
        work({{move, 32}}));
  // MAC operators have none (their epilogues are separate operators).
  CHECK(vector_work(make(workloads::MatMul{.batch = 1, .m = 4, .n = 4, .k = 4})).total() == 0);
}

TEST_CASE("views cost nothing", "[arch][vector]") {
  for (auto type : {workloads::MoveType::reshape, workloads::MoveType::flatten}) {
    const auto view = make(workloads::DataMovement{.type = type, .input_elements = 4096,
                                                   .output_elements = 4096});
    CHECK(arch::is_view(view));
    CHECK(vector_work(view).total() == 0);
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
  const auto sm = vector_work(make(workloads::Softmax{.rows = 3, .cols = 5}));
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
  CHECK(w.vector == vector_work(relu));
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

TEST_CASE("the vector unit has 64 lanes on every engine, whatever the array's shape",
          "[arch][vector]") {
  // A sweep over array columns used to sweep the vector unit with them (systolic and Bit Fusion
  // defaulted to one lane per column, Eyeriss to 14).
  for (const nlohmann::json& cfg :
       {nlohmann::json{{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 8}}}},
        nlohmann::json{{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 256}}}},
        nlohmann::json{{"engine", "bitfusion"}, {"bitfusion", {{"rows", 16}, {"cols", 32}}}},
        nlohmann::json{{"engine", "eyeriss"}},
        nlohmann::json{{"engine", "ideal"}, {"peak_macs_per_cycle", 256},
                       {"dram", {{"bandwidth", 16}}}}}) {
    INFO(cfg.dump());
    const auto a = arch::build_arch({"v.json", cfg});
    CHECK(a.engine->vector_unit().lanes == 64);
    CHECK(a.resolved.at("vector").at("lanes") == 64);  // stated in every report
    // The area lists the vector unit: 64 fp16 lanes of the table.
    const auto area = a.engine->area_by_component();
    REQUIRE(area.count("vector"));
    CHECK(area.at("vector") ==
          Approx(64 * arch::energy::load_technology("45nm")->mac_cost("fp16").area_um2 * 1e-6));
    double sum = 0;
    for (const auto& [component, mm2] : area) sum += mm2;
    CHECK(a.engine->area_mm2() == Approx(sum));
  }
  nlohmann::json given = {{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 8}}},
                          {"area_mm2", 3.5}};
  CHECK(arch::build_arch({"v.json", given}).engine->area_by_component() ==
        arch::AreaBreakdown{{"given", 3.5}});
}

TEST_CASE("vector buffer and cycles out of range are refused naming the key",
          "[arch][vector][errors]") {
  const auto build = [](nlohmann::json vector) {
    return arch::build_arch(
        {"v.json", {{"engine", "systolic"}, {"systolic", {{"rows", 8}, {"cols", 8}}},
                    {"vector", std::move(vector)}}});
  };
  // A buffer of 3 bytes looped forever on a layer with parameters; 31 holds no 64-bit element
  // of the input and one of the parameters per half.
  for (int bytes : {1, 3, 31})
    CHECK_THROWS_WITH(build({{"buffer", bytes}}),
                      Contains("v.json") && Contains("/vector/buffer") &&
                          Contains("must be at least 32 bytes"));
  CHECK(build({{"buffer", 32}}).engine->vector_unit().buffer_bytes == 32);
  // 1e17 cycles per element wrapped to fewer cycles than the default.
  for (double c : {1e17, 65537.0, 1e-6, 0.0})
    CHECK_THROWS_WITH(build({{"cycles", {{"exp", c}}}}), Contains("/vector/cycles/exp"));
  // Kept to 2^-16 of a cycle, and the resolved config says so: 0.3 -> 19661 / 65536.
  const auto a = build({{"cycles", {{"add", 0.3}, {"exp", 65536}}}});
  CHECK(a.engine->vector_unit().cycles[0] == 19661.0 / 65536);
  CHECK(a.resolved.at("vector").at("cycles").at("add") == 19661.0 / 65536);
  CHECK(a.resolved.at("vector").at("cycles").at("exp") == 65536);
}

TEST_CASE("vector cycles are exact, and a count beyond 2^62 names the operator and the key",
          "[arch][vector][errors]") {
  arch::VectorUnit v;
  v.lanes = 1;
  VectorWork w;
  w[VectorOp::add] = (u64{1} << 60) + 1;  // a double sum would round this to 2^60
  CHECK(v.compute_cycles(w) == (u64{1} << 60) + 1);
  v.lanes = 3;
  w[VectorOp::exp] = 1;  // + 4 cycles: ceil((2^60 + 5) / 3)
  CHECK(v.compute_cycles(w) == ((u64{1} << 60) + 5 + 2) / 3);
  v.cycles[0] = 0.5;  // 2^59 + 0.5 + 4 lane-cycles on 3 lanes: ceil of 2^59 + 4.5, over 3
  CHECK(v.compute_cycles(w) == ((u64{1} << 59) + 5 + 2) / 3);
  // Past 2^62 cycles: refused, not wrapped.
  v.lanes = 1;
  v.cycles[0] = 8;
  CHECK_THROWS_AS(v.compute_cycles(w), InputError);
  CHECK_THROWS_WITH(v.compute_cycles(w), Contains("vector.cycles"));
  // Through an engine: the operator is named. A 2^52-element softmax at 65,536 cycles per exp.
  arch::SystolicParams p;
  p.common.vector.cycles[5] = 65536;
  const arch::SystolicEngine e(p);
  auto sm = make(workloads::Softmax{.rows = i64{1} << 26, .cols = i64{1} << 26});
  sm.name = "attn.softmax";
  CHECK_THROWS_WITH(e.map(sm), Contains("operator 'attn.softmax'") && Contains("vector.cycles") &&
                                   Contains("2^62"));
  // Operation counts beyond 64 bits: a max pool of 2^40 outputs over a 2^30 window.
  workloads::Pool pool{.n = 1, .c = i64{1} << 40, .h = i64{1} << 15, .w = i64{1} << 15,
                       .r = i64{1} << 15, .s = i64{1} << 15, .stride_h = i64{1} << 15,
                       .stride_w = i64{1} << 15};
  CHECK_THROWS_WITH(vector_work(make(pool)), Contains("operator 'op'") && Contains("2^64"));
}

TEST_CASE("tiny vector buffers split huge layers in few steps", "[arch][vector]") {
  // 2^40 bytes through 16-byte halves: 2^36 tiles found by a binary search (a linear one took
  // 2^36 steps), every tile within its half, totals preserved.
  const auto relu = make(workloads::Elementwise{.function = "relu", .elements = i64{1} << 40});
  const auto w = systolic(32).map(relu);
  CHECK(w.plan.tile_count() == u64{1} << 36);
  CHECK(w.plan.port_bytes(dataflows::port::input) == u64{1} << 40);
  // A layer norm with parameters at the smallest buffer: input and parameters share 16 bytes.
  const auto norm = make(workloads::Norm{.type = workloads::NormType::layer, .elements = 1000,
                                         .channels = 100});
  // (append_split gives the remainder to the last tile: with 200 B over 77 tiles its last tile
  // holds 48 B of parameters, beyond the half; the count below is map_vector's rule, ceil shares.)
  const auto n = systolic(32).map(norm);
  CHECK(n.plan.port_bytes(dataflows::port::input) == 1000);
  CHECK(n.plan.port_bytes(dataflows::port::weight) == 200);
  // ceil(1000 / n) + ceil(200 / n) <= 16 first holds at n = 77 (14 + 3 = 17 at 76).
  CHECK(n.plan.tile_count() == 77);
}

TEST_CASE("an elementwise function the work model does not list is an error naming the "
          "operator, the function and the engine", "[arch][vector][errors]") {
  auto f = make(workloads::Elementwise{.function = "foo", .elements = 10});
  f.name = "mystery";
  CHECK_THROWS_AS(arch::vector_work(f, "systolic"), UnsupportedError);
  CHECK_THROWS_WITH(arch::vector_work(f, "systolic"),
                    Contains("operator 'mystery'") && Contains("'foo'") &&
                        Contains("engine 'systolic'") && Contains("known: "));
  CHECK_THROWS_WITH(systolic().map(f), Contains("engine 'systolic'") && Contains("'foo'"));
  // Every listed function costs something (none is silently free), including the names the
  // front-ends produce: ONNX types in lower case, Hugging Face activations, the builders' own.
  const std::string known = arch::known_vector_functions();
  std::vector<std::string> names;
  for (std::size_t at = 0; at < known.size();) {
    const std::size_t end = std::min(known.find(", ", at), known.size());
    names.push_back(known.substr(at, end - at));
    at = end + 2;
  }
  CHECK(names.size() > 100);
  for (const auto& name : names) {
    INFO(name);
    CHECK(vector_work(make(workloads::Elementwise{.function = name, .elements = 10})).total() >= 10);
  }
  for (const char* name : {"gelu_new", "gelu_pytorch_tanh", "quick_gelu", "silu", "leakyrelu",
                           "quantizelinear", "reducemean", "rope", "moe_combine", "lstm_cell"})
    CHECK_NOTHROW(vector_work(make(workloads::Elementwise{.function = name, .elements = 1})));
  // GPT-2's gelu_new is the tanh-form GELU (it was charged one add per element).
  CHECK(vector_work(make(workloads::Elementwise{.function = "gelu_new", .elements = 10})) ==
        vector_work(make(workloads::Elementwise{.function = "gelu", .elements = 10})));
  // A gated combine of 4 expert outputs: 4 multiplies and 3 adds per element.
  CHECK(vector_work(make(workloads::Elementwise{.function = "moe_combine", .elements = 10,
                                                .inputs = 4})) ==
        work({{VectorOp::mul, 40}, {VectorOp::add, 30}}));
}
