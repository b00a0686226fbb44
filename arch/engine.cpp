#include "arch/engine.hpp"

#include <algorithm>
#include <cmath>

#include "arch/energy/config.hpp"
#include "common/error.hpp"

#include <fmt/format.h>

namespace tessera::arch {

std::string_view to_string(Unit unit) {
  switch (unit) {
    case Unit::datapath: return "datapath";
    case Unit::vector_unit: return "vector_unit";
    case Unit::none: return "none";
  }
  return "none";
}

std::vector<KindSupport> mac_kinds_on_datapath(Unit others) {
  using workloads::OpKind;
  return {{OpKind::conv, Unit::datapath},      {OpKind::matmul, Unit::datapath},
          {OpKind::elementwise, others},       {OpKind::pool, others},
          {OpKind::softmax, others},           {OpKind::norm, others},
          {OpKind::embedding, others},         {OpKind::data_movement, others}};
}

Unit Engine::runs_on(const workloads::Operator& op) const {
  const auto listed = kinds();
  const auto it = std::find_if(listed.begin(), listed.end(),
                               [&](const KindSupport& k) { return k.kind == op.kind(); });
  if (it != listed.end()) return it->unit;
  std::string known;
  for (const auto& k : listed) known += (known.empty() ? "" : ", ") + std::string(to_string(k.kind));
  throw UnsupportedError(fmt::format("{}operator '{}': engine '{}' does not run {} operators (it "
                                     "runs {})",
                                     op.source.empty() ? "" : op.source + ": ", op.name,
                                     engine_name(), to_string(op.kind()),
                                     known.empty() ? "none" : known));
}

std::vector<std::string> Engine::supports(const workloads::Operator& op) const {
  runs_on(op);  // refuses a kind the engine does not list
  if (op.precision.complex) {
    const std::string where = (op.source.empty() ? "" : op.source + ": ") + "operator '" +
                              op.name + "': ";
    if (op.macs() == 0)
      throw UnsupportedError(where + "complex operands are modelled for MACs only (the vector "
                                     "unit has no complex operations)");
    if (!complex_mac())
      throw UnsupportedError(where + "engine '" + engine_name() + "' has no complex datapath");
  }
  std::vector<std::string> warnings;
  // Messages name no layer: a report lists them per layer and counts the layers in its summary.
  const auto& d = op.density;
  if (d.weight_pattern)
    warnings.push_back(fmt::format("{} runs densely: {}:{} weight patterns are ignored (no sparse "
                                   "datapath)",
                                   engine_name(), d.weight_pattern->n, d.weight_pattern->m));
  else if (d.weight < 1.0)
    warnings.push_back(fmt::format("{} runs densely: weight density {:g} is ignored (no sparse "
                                   "datapath)",
                                   engine_name(), d.weight));
  if (d.activation < 1.0)
    warnings.push_back(fmt::format("{} runs densely: activation density {:g} is ignored (no "
                                   "sparse datapath)",
                                   engine_name(), d.activation));
  return warnings;
}

double Engine::area_mm2() const {
  double total = 0;
  for (const auto& [component, mm2] : area_by_component()) total += mm2;
  return total;
}

AreaBreakdown EngineBase::area_or_given(AreaBreakdown estimate) const {
  if (common_.area_mm2) return {{"given", *common_.area_mm2}};
  estimate["vector"] = vector_area_mm2();
  return estimate;
}

std::int64_t array_dimension(ParamReader& r, const std::string& key,
                             std::optional<std::int64_t> fallback) {
  if (fallback && !r.has(key)) return *fallback;
  const std::int64_t v = r.positive_integer(key);
  if (v > kMaxArrayDimension)
    throw r.error(key, "must be at most " + std::to_string(kMaxArrayDimension) + ", got " +
                           std::to_string(v));
  return v;
}

CommonParams read_common(ParamReader& r, const CommonDefaults& defaults,
                         const EnergyKeys& own_energy) {
  CommonParams c;
  c.clock_hz = r.frequency_hz("clock", defaults.clock);
  if (defaults.dram_required || r.has("dram")) {
    ParamReader dram = r.child("dram");
    c.memory = read_memory(dram, c.clock_hz, defaults.memory);
    dram.finish();
  } else {
    static const nlohmann::json none = nlohmann::json::object();  // outlives the reader
    ParamReader empty(none, r.file(), r.path_of("dram"));
    c.memory = read_memory(empty, c.clock_hz, defaults.memory);
  }
  c.tech = energy::read_technology(r, c.technology);
  c.technology = c.tech->origin;
  c.vector = read_vector_unit(r, *c.tech);
  c.fusion = r.boolean("fusion", true);
  if (const double area = r.non_negative("area_mm2", 0); area > 0) c.area_mm2 = area;
  if (auto energy = r.optional_child("energy")) {
    if (defaults.hamming) c.hamming = energy::read_hamming(*energy);
    if (defaults.zero_gating) {
      const std::string g = energy->choice("zero_gating", {"none", "weights", "activations", "both"}, "none");
      c.gate_weights = g == "weights" || g == "both";
      c.gate_activations = g == "activations" || g == "both";
    }
    if (own_energy) own_energy(*energy, *c.tech);
    energy->finish();
  }
  return c;
}

nlohmann::json EngineBase::with_common(nlohmann::json own) const {
  own["clock"] = common_.clock_hz / 1e6;
  nlohmann::json dram = memory_json(common_.memory);
  if (own.contains("dram")) dram.update(own["dram"]);
  own["dram"] = dram;
  own["vector"] = vector_unit_json(common_.vector);
  own["technology"] = common_.technology;
  own["fusion"] = common_.fusion;
  own["area_mm2"] = common_.area_mm2.value_or(0.0);
  if (stream_source())
    own["energy"]["hamming"] = energy::hamming_json(common_.hamming);
  if (common_.gate_weights || common_.gate_activations)
    own["energy"]["zero_gating"] = common_.gate_weights && common_.gate_activations ? "both"
                                   : common_.gate_weights                          ? "weights"
                                                                                   : "activations";
  return own;
}

double EngineBase::mac_energy_fraction(const workloads::Operator& op) const {
  const auto density = [](const std::vector<std::uint8_t>& mask, double fallback) {
    if (mask.empty()) return fallback;
    std::uint64_t nnz = 0;
    for (auto b : mask) nnz += b;
    return static_cast<double>(nnz) / static_cast<double>(mask.size());
  };
  double f = 1.0;
  if (common_.gate_weights)
    f *= op.masks ? density(op.masks->weight, op.density.weight) : op.density.weight;
  if (common_.gate_activations)
    f *= op.masks ? density(op.masks->input, op.density.activation) : op.density.activation;
  return f;
}

EngineBase::EngineBase(CommonParams common) : common_(std::move(common)) {
  if (!common_.tech) common_.tech = energy::load_technology(common_.technology);
  resolve_energy(common_.vector, *common_.tech);
}

LayerWork EngineBase::map_vector(const workloads::Operator& op, const MapContext& context,
                                 bool split) const {
  using namespace dataflows;
  LayerWork w;
  w.plan.buffering = kDoubleBuffered;
  w.plan.units = common_.vector.lanes;
  if (is_view(op)) return w;
  w.vector = vector_work(op, engine_name());
  const auto bytes = [](workloads::i64 elements, int bits) {
    return static_cast<u64>((elements * bits + 7) / 8);
  };
  u64 input = context.input_on_chip ? 0 : static_cast<u64>(op.input_bytes());
  u64 params = static_cast<u64>(op.weight_bytes());
  if (const auto* e = std::get_if<workloads::Embedding>(&op.shape)) {
    input = context.input_on_chip ? 0 : bytes(e->tokens, 32);  // token ids
    params = bytes(e->tokens * e->dim, op.precision.weight_bits);  // the gathered rows only
  }
  const u64 output = context.output_on_chip ? 0 : static_cast<u64>(op.output_bytes());
  Tile total;
  try {
    total.compute_cycles = common_.vector.compute_cycles(w.vector);
  } catch (const InputError& e) {
    throw InputError((op.source.empty() ? "" : op.source + ": ") + "operator '" + op.name +
                     "' on " + engine_name() + ": " + e.what());
  }
  total.busy_units = common_.vector.lanes;
  total.bytes[w.plan.port(port::input)] = input;
  if (params) total.bytes[w.plan.port(port::weight)] = params;
  total.bytes[w.plan.port(port::output, Direction::write)] = output;
  // Tiles of at most half the unit's buffer for what comes in and what goes out. The fewest
  // tiles whose per-port rounded shares fit (append_split rounds each port up): the fit only
  // improves with more tiles, so a binary search finds it in 64 steps whatever the sizes, and
  // max(input, params) tiles of one byte each always fit (half >= 2, kMinVectorBuffer).
  const u64 half = std::max<u64>(common_.vector.buffer_bytes / 2, 2);
  const auto up = [](u64 v, u64 d) { return v / d + (v % d != 0); };
  const auto fits = [&](u64 n) { return up(input, n) + up(params, n) <= half && up(output, n) <= half; };
  u64 lo = 1, hi = std::max<u64>({1, input, params, output});
  while (lo < hi) {
    const u64 mid = lo + (hi - lo) / 2;
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  const u64 n = lo;
  append_split(w.plan, total, split ? n : 1);
  if (const auto* e = std::get_if<workloads::Embedding>(&op.shape); e && params) {
    // The gathered rows lie anywhere in the table: one run per row, rows spread over the table
    // (the other ports stream their tensors in order).
    Layout& l = w.plan.ports[w.plan.find_port(port::weight)].layout;
    l.run = bytes(e->dim, op.precision.weight_bits);
    l.pitch = l.run * static_cast<u64>(std::max<workloads::i64>(1, e->vocab / std::max<workloads::i64>(1, e->tokens)));
    l.extent = bytes(e->vocab * e->dim, op.precision.weight_bits);
    if (l.pitch <= l.run) l = {};
  }
  w.accesses["dram.ifmap"] = {input, 0};
  if (params) w.accesses["dram.filter"] = {params, 0};
  w.accesses["dram.ofmap"] = {0, output};
  return w;
}

}  // namespace tessera::arch
