#include "arch/vector_unit.hpp"

#include <cmath>
#include <variant>

#include "arch/engine.hpp"

namespace tessera::arch {

namespace {

constexpr std::array<std::string_view, kVectorOps> kNames = {
    "add", "mul", "compare", "reduce", "move", "exp", "divide", "rsqrt"};
// Energy per operation as a multiple of one MAC at the unit's precision (see the header).
constexpr std::array<double, kVectorOps> kEnergyFactor = {0.27, 0.73, 0.1, 0.27, 0.05, 8, 4, 4};

using workloads::i64;

u64 u(i64 v) { return static_cast<u64>(std::max<i64>(v, 0)); }

// Operation classes per output element of a pointwise function with `inputs` operands.
VectorWork pointwise(const std::string& f, u64 n, u64 inputs) {
  VectorWork w;
  const u64 extra = inputs > 1 ? inputs - 1 : 1;
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (auto s : names)
      if (f == s) return true;
    return false;
  };
  using enum VectorOp;
  if (is({"add", "sub", "sum", "mean", "bias", "neg", "abs", "identity", "cast", "zero"})) {
    w[add] = n * extra;
  } else if (is({"mul", "scale", "pow", "square"})) {
    w[mul] = n * extra;
  } else if (is({"div", "reciprocal"})) {
    w[divide] = n * extra;
  } else if (is({"relu", "clip", "max", "min", "leakyrelu", "prelu", "relu6", "hardtanh",
                 "sign", "floor", "ceil", "round", "where", "equal", "less", "greater", "not",
                 "and", "or"})) {
    w[compare] = n * extra;
  } else if (is({"sqrt", "rsqrt"})) {
    w[rsqrt] = n;
  } else if (is({"exp", "log", "erf", "sin", "cos"})) {
    w[exp] = n;
  } else if (is({"sigmoid", "softplus"})) {
    w[exp] = n, w[add] = n, w[divide] = n;
  } else if (is({"tanh"})) {
    w[exp] = n, w[add] = 2 * n, w[divide] = n;
  } else if (is({"silu", "swish"})) {
    w[exp] = n, w[add] = n, w[divide] = n, w[mul] = n;
  } else if (is({"gelu"})) {  // tanh form: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))
    w[exp] = n, w[add] = 4 * n, w[divide] = n, w[mul] = 5 * n;
  } else if (is({"hardswish", "hardsigmoid", "hard_swish", "hard_sigmoid"})) {
    w[compare] = 2 * n, w[mul] = 2 * n, w[add] = n;
  } else if (f.ends_with("_cell")) {  // recurrent cell gates: sigmoids and tanh per element
    w[exp] = 4 * n, w[add] = 6 * n, w[divide] = 4 * n, w[mul] = 3 * n;
  } else {  // an unlisted function: one operation per input element
    w[add] = n * extra;
  }
  return w;
}

}  // namespace

std::string_view to_string(VectorOp op) { return kNames[static_cast<std::size_t>(op)]; }

VectorWork& VectorWork::operator+=(const VectorWork& o) {
  for (std::size_t i = 0; i < kVectorOps; ++i) ops[i] += o.ops[i];
  return *this;
}

u64 VectorWork::total() const {
  u64 s = 0;
  for (u64 v : ops) s += v;
  return s;
}

bool is_view(const workloads::Operator& op) {
  const auto* d = std::get_if<workloads::DataMovement>(&op.shape);
  return d && (d->type == workloads::MoveType::reshape || d->type == workloads::MoveType::flatten);
}

VectorWork vector_work(const workloads::Operator& op) {
  using namespace workloads;
  using enum VectorOp;
  VectorWork w;
  if (is_view(op)) return w;
  if (const auto* e = std::get_if<Elementwise>(&op.shape)) return pointwise(e->function, u(e->elements), u(e->inputs));
  if (const auto* s = std::get_if<Softmax>(&op.shape)) {
    const u64 n = u(s->rows * s->cols);
    w[compare] = n;  // running maximum
    w[add] = n;      // subtract it
    w[exp] = n;
    w[reduce] = n;             // sum
    w[divide] = u(s->rows);    // one reciprocal per row
    w[mul] = n;                // scale by it
    return w;
  }
  if (const auto* nm = std::get_if<Norm>(&op.shape)) {
    const u64 n = u(nm->elements), rows = u(nm->elements / std::max<i64>(nm->channels, 1));
    switch (nm->type) {
      case NormType::batch:  // inference: a per-channel scale and shift
        w[mul] = n, w[add] = n;
        break;
      case NormType::layer:
      case NormType::group:  // mean, variance, normalise, scale, shift
        w[reduce] = 2 * n, w[add] = 2 * n, w[mul] = 3 * n, w[rsqrt] = rows;
        break;
      case NormType::rms:  // mean square, normalise, scale
        w[reduce] = n, w[mul] = 3 * n, w[rsqrt] = rows;
        break;
    }
    return w;
  }
  if (const auto* p = std::get_if<Pool>(&op.shape)) {
    const u64 out = u(p->n * p->c * p->p() * p->q());
    const u64 window = p->global ? u(p->h * p->w) : u(p->r * p->s);
    if (p->type == PoolType::max)
      w[compare] = out * window;
    else
      w[reduce] = out * window, w[mul] = out;
    return w;
  }
  if (std::get_if<Embedding>(&op.shape) || std::get_if<DataMovement>(&op.shape)) {
    w[move] = u(op.output_elements());
    return w;
  }
  return w;  // MAC operators
}

u64 VectorUnit::compute_cycles(const VectorWork& w) const {
  double c = 0;
  for (std::size_t i = 0; i < kVectorOps; ++i) c += static_cast<double>(w.ops[i]) * cycles[i];
  return static_cast<u64>(std::ceil(c / static_cast<double>(lanes)));
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

VectorUnit read_vector_unit(ParamReader& config, const energy::Technology& tech,
                            u64 default_lanes) {
  VectorUnit v;
  v.lanes = default_lanes;
  std::optional<ParamReader> r = config.optional_child("vector");
  if (r) {
    v.lanes = static_cast<u64>(
        array_dimension(*r, "lanes", static_cast<std::int64_t>(default_lanes)));
    v.precision = r->string("precision", v.precision);
    v.buffer_bytes = r->size_bytes("buffer", "64 KiB");
    if (v.buffer_bytes < 2) throw r->error("buffer", "must be at least 2 bytes");
  }
  try {
    resolve_energy(v, tech);
  } catch (const InputError& e) {
    if (r) throw r->error("precision", e.what());
    throw;
  }
  if (r) {
    if (auto c = r->optional_child("cycles")) {
      for (std::size_t i = 0; i < kVectorOps; ++i)
        v.cycles[i] = c->positive(std::string(kNames[i]), v.cycles[i]);
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
