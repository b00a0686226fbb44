#include "arch/vector_unit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <variant>
#include <vector>

#include "arch/engine.hpp"
#include "common/error.hpp"

#include <fmt/format.h>

namespace tessera::arch {

namespace {

constexpr std::array<std::string_view, kVectorOps> kNames = {
    "add", "mul", "compare", "reduce", "move", "exp", "divide", "rsqrt"};
// Energy per operation as a multiple of one MAC at the unit's precision (see the header).
constexpr std::array<double, kVectorOps> kEnergyFactor = {0.27, 0.73, 0.1, 0.27, 0.05, 8, 4, 4};

using workloads::i64;
using Ops = std::array<u64, kVectorOps>;  // operations per element, by class (VectorOp order)

// An elementwise function's operations per output element: `each` once, `per_operand` once per
// operand beyond the first (at least once), so an n-ary add costs n - 1 adds per element.
struct Recipe {
  std::vector<std::string_view> names;
  Ops each{};
  Ops per_operand{};
};

//                             add mul cmp red mov exp div rsq
constexpr Ops kAdd           {1, 0, 0, 0, 0, 0, 0, 0};
constexpr Ops kMul           {0, 1, 0, 0, 0, 0, 0, 0};
constexpr Ops kCompare       {0, 0, 1, 0, 0, 0, 0, 0};
constexpr Ops kDivide        {0, 0, 0, 0, 0, 0, 1, 0};

// Every elementwise function the front-ends produce (ONNX operator types in lower case, Hugging
// Face activation names, the transformer and NAS-Bench-201 builders' own), with the operations
// docs/configs.md lists. A function missing here is an error, never a guess.
const std::vector<Recipe>& recipes() {
  static const std::vector<Recipe> table = {
      {{"add", "sub", "sum", "mean", "bias", "neg", "abs", "identity", "linear", "cast",
        "castlike", "zero", "einsum", "cumsum"}, {}, kAdd},
      {{"mul", "scale", "pow", "square"}, {}, kMul},
      {{"div", "reciprocal", "mod"}, {}, kDivide},
      {{"relu", "clip", "max", "min", "leakyrelu", "leaky_relu", "prelu", "relu6", "hardtanh",
        "thresholdedrelu", "sign", "floor", "ceil", "round", "where", "equal", "less",
        "greater", "lessorequal", "greaterorequal", "not", "and", "or", "xor", "bitshift",
        "bitwiseand", "bitwiseor", "bitwisexor", "bitwisenot", "isnan", "isinf", "trilu"},
       {}, kCompare},
      // One pass over the input (the importer's reductions: elements = input size).
      {{"reducesum", "reducemean", "reducelogsum"}, {0, 0, 0, 1, 0, 0, 0, 0}},
      {{"reducemax", "reducemin", "argmax", "argmin", "topk"}, {0, 0, 1, 0, 0, 0, 0, 0}},
      {{"reduceprod"}, {0, 1, 0, 0, 0, 0, 0, 0}},
      {{"reducel1"}, {1, 0, 0, 1, 0, 0, 0, 0}},
      {{"reducel2", "reducesumsquare"}, {0, 1, 0, 1, 0, 0, 0, 0}},
      {{"reducelogsumexp"}, {0, 0, 0, 1, 0, 1, 0, 0}},
      {{"sqrt", "rsqrt"}, {0, 0, 0, 0, 0, 0, 0, 1}},
      {{"exp", "log", "erf", "sin", "cos", "tan"}, {0, 0, 0, 0, 0, 1, 0, 0}},
      {{"sigmoid", "softplus"}, {1, 0, 0, 0, 0, 1, 1, 0}},
      {{"tanh"}, {2, 0, 0, 0, 0, 1, 1, 0}},
      {{"silu", "swish"}, {1, 1, 0, 0, 0, 1, 1, 0}},
      // tanh form: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
      {{"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate", "fastgelu"},
       {4, 5, 0, 0, 0, 1, 1, 0}},
      {{"biasgelu"}, {5, 5, 0, 0, 0, 1, 1, 0}},
      {{"quickgelu", "quick_gelu"}, {1, 2, 0, 0, 0, 1, 1, 0}},  // x sigmoid(1.702x)
      {{"elu", "celu"}, {1, 1, 1, 0, 0, 1, 0, 0}},                // x > 0 ? x : a(exp(x) - 1)
      {{"selu"}, {1, 2, 1, 0, 0, 1, 0, 0}},
      {{"softsign"}, {2, 0, 0, 0, 0, 0, 1, 0}},                   // x / (1 + |x|)
      {{"mish"}, {3, 1, 0, 0, 0, 2, 2, 0}},                       // x tanh(softplus(x))
      {{"relu2"}, {0, 1, 1, 0, 0, 0, 0, 0}},                      // relu(x)^2
      {{"shrink"}, {1, 0, 1, 0, 0, 0, 0, 0}},
      {{"hardswish", "hardsigmoid", "hard_swish", "hard_sigmoid"}, {1, 2, 2, 0, 0, 0, 0, 0}},
      {{"quantizelinear"}, {1, 1, 2, 0, 0, 0, 0, 0}},             // scale, zero point, round, clamp
      {{"dequantizelinear"}, {1, 1, 0, 0, 0, 0, 0, 0}},
      {{"dynamicquantizelinear"}, {1, 1, 4, 0, 0, 0, 0, 0}},      // min and max, then quantize
      {{"qlinearadd"}, {4, 3, 2, 0, 0, 0, 0, 0}},                 // dequantize, add, requantize
      {{"qlinearmul"}, {3, 4, 2, 0, 0, 0, 0, 0}},
      {{"qlinearsigmoid"}, {3, 2, 2, 0, 0, 1, 1, 0}},
      {{"qlinearleakyrelu"}, {2, 3, 3, 0, 0, 0, 0, 0}},
      {{"lpnormalization"}, {0, 2, 0, 1, 0, 0, 0, 0}},            // square, sum, scale
      {{"meanvariancenormalization"}, {2, 2, 0, 2, 0, 0, 0, 0}},
      {{"lrn"}, {2, 2, 0, 0, 0, 2, 0, 0}},                        // running window sum, pow
      {{"rope", "rotaryembedding"}, {1, 2, 0, 0, 0, 0, 0, 0}},    // x cos + rotate(x) sin
      // A gated mixture's combine: each operand scaled by its gate, then summed.
      {{"moe_combine"}, {0, 1, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0}},
  };
  return table;
}

const Recipe* find_recipe(std::string_view f) {
  for (const auto& r : recipes())
    for (auto name : r.names)
      if (name == f) return &r;
  return nullptr;
}

// Products and sums of operation counts, checked: a count beyond 64 bits is refused naming the
// operator rather than wrapped.
struct Counter {
  const workloads::Operator& op;
  std::string_view engine;
  u64 mul(u64 a, u64 b) const {
    u64 r = 0;
    if (__builtin_mul_overflow(a, b, &r)) overflow();
    return r;
  }
  u64 add(u64 a, u64 b) const {
    u64 r = 0;
    if (__builtin_add_overflow(a, b, &r)) overflow();
    return r;
  }
  [[noreturn]] void overflow() const {
    throw InputError(where() + "its vector-unit operations exceed 2^64");
  }
  std::string where() const {
    return (op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name + "': ";
  }
};

u64 u(i64 v) { return static_cast<u64>(std::max<i64>(v, 0)); }

VectorWork pointwise(const Counter& c, const workloads::Elementwise& e) {
  const Recipe* r = find_recipe(e.function);
  if (!r && e.function.ends_with("_cell")) {  // recurrent cell gates: sigmoids and tanh
    static const Recipe cell{{}, {6, 3, 0, 0, 0, 4, 4, 0}};
    r = &cell;
  }
  if (!r)
    throw UnsupportedError(c.where() + "the vector unit of engine '" + std::string(c.engine) +
                           "' has no work model for elementwise function '" + e.function +
                           "' (known: " + known_vector_functions() + ", and <rnn>_cell)");
  const u64 n = u(e.elements);
  const u64 extra = e.inputs > 1 ? u(e.inputs) - 1 : 1;
  VectorWork w;
  for (std::size_t i = 0; i < kVectorOps; ++i)
    w.ops[i] = c.add(c.mul(n, r->each[i]), c.mul(c.mul(n, extra), r->per_operand[i]));
  return w;
}

}  // namespace

std::string_view to_string(VectorOp op) { return kNames[static_cast<std::size_t>(op)]; }

std::string known_vector_functions() {
  std::vector<std::string_view> names;
  for (const auto& r : recipes()) names.insert(names.end(), r.names.begin(), r.names.end());
  std::sort(names.begin(), names.end());
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

VectorWork& VectorWork::operator+=(const VectorWork& o) {
  for (std::size_t i = 0; i < kVectorOps; ++i)
    if (__builtin_add_overflow(ops[i], o.ops[i], &ops[i]))
      throw InputError("vector-unit operations of a fused layer exceed 2^64");
  return *this;
}

u64 VectorWork::total() const {
  u64 s = 0;
  for (u64 v : ops)
    if (__builtin_add_overflow(s, v, &s)) return std::numeric_limits<u64>::max();
  return s;
}

bool is_view(const workloads::Operator& op) {
  const auto* d = std::get_if<workloads::DataMovement>(&op.shape);
  return d && (d->type == workloads::MoveType::reshape || d->type == workloads::MoveType::flatten);
}

// Every operator kind is named here (std::visit over the shape): a new kind does not compile
// until it has a work model.
VectorWork vector_work(const workloads::Operator& op, std::string_view engine) {
  using namespace workloads;
  using enum VectorOp;
  const Counter c{op, engine};
  struct Visitor {
    const Operator& op;
    const Counter& c;
    VectorWork operator()(const Conv&) const { return {}; }    // MACs; epilogues are separate
    VectorWork operator()(const MatMul&) const { return {}; }  // operators
    VectorWork operator()(const Butterfly&) const { return {}; }  // butterfly-unit MACs
    VectorWork operator()(const Fft&) const { return {}; }
    VectorWork operator()(const Elementwise& e) const { return pointwise(c, e); }
    VectorWork operator()(const Softmax& s) const {
      VectorWork w;
      const u64 n = c.mul(u(s.rows), u(s.cols));
      w[compare] = n;          // running maximum
      w[add] = n;              // subtract it
      w[exp] = n;
      w[reduce] = n;           // sum
      w[divide] = u(s.rows);   // one reciprocal per row
      w[mul] = n;              // scale by it
      return w;
    }
    VectorWork operator()(const Norm& nm) const {
      VectorWork w;
      const u64 n = u(nm.elements), rows = u(nm.elements / std::max<i64>(nm.channels, 1));
      switch (nm.type) {
        case NormType::batch:  // inference: a per-channel scale and shift
          w[mul] = n, w[add] = n;
          break;
        case NormType::layer:
        case NormType::group:  // mean, variance, normalise, scale, shift
          w[reduce] = c.mul(2, n), w[add] = c.mul(2, n), w[mul] = c.mul(3, n), w[rsqrt] = rows;
          break;
        case NormType::rms:  // mean square, normalise, scale
          w[reduce] = n, w[mul] = c.mul(3, n), w[rsqrt] = rows;
          break;
      }
      return w;
    }
    VectorWork operator()(const Pool& p) const {
      VectorWork w;
      const u64 out = c.mul(c.mul(u(p.n), u(p.c)), c.mul(u(p.p()), u(p.q())));
      const u64 window = p.global ? c.mul(u(p.h), u(p.w)) : c.mul(u(p.r), u(p.s));
      if (p.type == PoolType::max)
        w[compare] = c.mul(out, window);
      else
        w[reduce] = c.mul(out, window), w[mul] = out;
      return w;
    }
    VectorWork operator()(const Embedding&) const { return moves(); }
    VectorWork operator()(const DataMovement&) const {
      return is_view(op) ? VectorWork{} : moves();
    }
    VectorWork moves() const {
      VectorWork w;
      w[move] = u(op.output_elements());
      return w;
    }
  };
  return std::visit(Visitor{op, c}, op.shape);
}

u64 VectorUnit::compute_cycles(const VectorWork& w) const {
  __extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC and Clang extension
  // ops (< 2^64) x cycles in 2^-16 steps (<= 2^32) < 2^96 per class: the sum of 8 fits.
  constexpr double kScale = double(u64{1} << kVectorCycleFractionBits);
  u128 lane_cycles = 0;  // in 2^-16 cycles
  for (std::size_t i = 0; i < kVectorOps; ++i)
    lane_cycles += u128{w.ops[i]} * static_cast<u64>(std::llround(cycles[i] * kScale));
  const u128 per_cycle = u128{std::max<u64>(lanes, 1)} << kVectorCycleFractionBits;
  const u128 c = (lane_cycles + per_cycle - 1) / per_cycle;
  if (c > kMaxVectorCycles)
    throw InputError("vector.cycles: " + std::to_string(w.total()) +
                     " vector-unit operations take more than 2^62 cycles at these cycles per "
                     "element and " + std::to_string(lanes) + " lanes");
  return static_cast<u64>(c);
}

double VectorUnit::energy(const VectorWork& w) const {
  double e = 0;
  for (std::size_t i = 0; i < kVectorOps; ++i) e += static_cast<double>(w.ops[i]) * energy_pj[i];
  return e;
}

double VectorUnit::area_mm2(const energy::Technology& tech) const {
  return static_cast<double>(lanes) * tech.mac_cost(precision).area_um2 * 1e-6;
}

void resolve_energy(VectorUnit& v, const energy::Technology& tech) {
  if (v.energy_resolved) return;
  const double mac_pj = tech.mac_cost(v.precision).energy_pj;
  for (std::size_t i = 0; i < kVectorOps; ++i) v.energy_pj[i] = kEnergyFactor[i] * mac_pj;
  v.energy_resolved = true;
}

VectorUnit read_vector_unit(ParamReader& config, const energy::Technology& tech) {
  VectorUnit v;
  std::optional<ParamReader> r = config.optional_child("vector");
  if (r) {
    v.lanes = static_cast<u64>(
        array_dimension(*r, "lanes", static_cast<std::int64_t>(kDefaultVectorLanes)));
    v.precision = r->string("precision", v.precision);
    v.buffer_bytes = r->size_bytes("buffer", "64 KiB");
    if (v.buffer_bytes < kMinVectorBuffer)
      throw r->error("buffer", "must be at least " + std::to_string(kMinVectorBuffer) +
                                   " bytes (each half holds one 64-bit element of the input "
                                   "and one of the parameters), got " +
                                   std::to_string(v.buffer_bytes));
  }
  try {
    resolve_energy(v, tech);
  } catch (const InputError& e) {
    if (r) throw r->error("precision", e.what());
    throw;
  }
  if (r) {
    if (auto c = r->optional_child("cycles")) {
      // Kept to 2^-16 of a cycle (the resolved config shows the value used), so that cycle
      // counts are exact sums in integers.
      constexpr double kScale = double(u64{1} << kVectorCycleFractionBits);
      for (std::size_t i = 0; i < kVectorOps; ++i) {
        const std::string key(kNames[i]);
        const double given = c->positive(key, v.cycles[i]);
        if (given < 1 / kScale || given > kScale)
          throw c->error(key, "must be in [2^-16, 2^16] cycles per element, got " +
                                  fmt::format("{:g}", given));
        v.cycles[i] = std::round(given * kScale) / kScale;
      }
      c->finish();
    }
    if (auto e = r->optional_child("energy_pj")) {
      for (std::size_t i = 0; i < kVectorOps; ++i)
        v.energy_pj[i] = e->non_negative(std::string(kNames[i]), v.energy_pj[i]);
      e->finish();
    }
    r->finish();
  }
  return v;
}

nlohmann::json vector_unit_json(const VectorUnit& v) {
  nlohmann::json cycles = nlohmann::json::object(), energy = nlohmann::json::object();
  for (std::size_t i = 0; i < kVectorOps; ++i) {
    cycles[std::string(kNames[i])] = v.cycles[i];
    energy[std::string(kNames[i])] = v.energy_pj[i];
  }
  return {{"lanes", v.lanes},
          {"precision", v.precision},
          {"buffer", v.buffer_bytes},
          {"cycles", cycles},
          {"energy_pj", energy}};
}

}  // namespace tessera::arch
