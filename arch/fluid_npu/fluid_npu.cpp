#include "arch/fluid_npu/fluid_npu.hpp"

#include <algorithm>
#include <cmath>

#include "arch/energy/config.hpp"
#include "common/checked.hpp"

namespace tessera::arch {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }

// The samples of an operator's batch: a convolution's or pool's n, a weight product's rows m
// (a CNN's classifier: one row per sample), otherwise 1 (the lanes then hold one sample).
std::int64_t samples_of(const workloads::Operator& op) {
  if (const auto* c = std::get_if<workloads::Conv>(&op.shape)) return c->n;
  if (const auto* m = std::get_if<workloads::MatMul>(&op.shape)) return m->b_is_weight ? m->m : m->batch;
  return 1;
}

}  // namespace

NpuSchedule npu_schedule(const FluidNpuParams& p, std::int64_t samples, std::uint64_t m1,
                         std::uint64_t o1) {
  const auto P = static_cast<std::uint64_t>(p.pes), V = static_cast<std::uint64_t>(p.lanes);
  const auto b = static_cast<std::uint64_t>(std::max<std::int64_t>(1, samples));
  NpuSchedule plain;
  plain.cycles = checked_mul(ceil_div(b, V), ceil_div(m1, P), "NPU cycles");
  if (!p.stackable || b >= V) return plain;
  const std::uint64_t g = V / b;
  if (g < 2) return plain;
  NpuSchedule stacked;
  stacked.stack = static_cast<std::int64_t>(g);
  const auto depth = static_cast<std::uint64_t>(std::ceil(std::log2(static_cast<double>(g))));
  stacked.cycles = ceil_div(m1, P * g) + ceil_div(o1, P) + depth;
  stacked.reduction_adds = checked_mul(b, checked_mul(o1, g - 1, "NPU reduction adds"), "NPU reduction adds");
  return stacked.cycles < plain.cycles ? stacked : plain;
}

std::unique_ptr<Engine> FluidNpuEngine::create(ParamReader& r) {
  FluidNpuParams p;
  CommonDefaults d;
  d.memory.bandwidth = "";  // required
  d.dram_required = true;
  p.common = read_common(r, d, [&p](ParamReader& energy, const energy::Technology& tech) {
    p.dram_type = energy::read_dram_type(energy, tech, p.dram_type);
  });
  if (auto n = r.optional_child("npu")) {
    p.pes = n->positive_integer("pes", p.pes);
    p.lanes = n->positive_integer("lanes", p.lanes);
    p.stackable = n->boolean("stackable", p.stackable);
    if (p.pes > 65536) throw n->error("pes", "must be at most 65536");
    if (p.lanes > 1024) throw n->error("lanes", "must be at most 1024");
    n->finish();
  }
  return std::make_unique<FluidNpuEngine>(p);
}

AreaBreakdown FluidNpuEngine::area_by_component() const {
  const auto& mac = common_.tech->mac_cost(energy::area_mac_precision("auto"));
  return area_or_given({{"pe_array", static_cast<double>(p_.pes * p_.lanes) * mac.area_um2 * 1e-6}});
}

LayerWork FluidNpuEngine::map(const workloads::Operator& op, const MapContext& context) const {
  using namespace dataflows;
  if (op.macs() == 0) {
    LayerWork w = map_vector(op, context, /*split=*/false);
    w.plan.buffering = kStreaming;
    w.accesses.clear();
    w.accesses["dram"] = {w.plan.read_bytes(), w.plan.write_bytes()};
    return w;
  }
  LayerWork w;
  w.macs = static_cast<u64>(op.macs());
  w.mac_bits = std::max(op.precision.weight_bits, op.precision.activation_bits);
  w.mac_format = op.precision.format;
  const std::int64_t b = std::max<std::int64_t>(1, samples_of(op));
  const auto m1 = w.macs / static_cast<u64>(b) + (w.macs % static_cast<u64>(b) != 0);
  const auto o = static_cast<u64>(op.output_elements());
  const auto o1 = o / static_cast<u64>(b) + (o % static_cast<u64>(b) != 0);
  const NpuSchedule s = npu_schedule(p_, b, m1, o1);
  Tile t;
  t.compute_cycles = std::max<u64>(1, s.cycles);
  t.busy_units = static_cast<u64>(std::min<std::int64_t>(b * s.stack, p_.lanes) * p_.pes);
  u64 input = static_cast<u64>(op.input_bytes()), weight = static_cast<u64>(op.weight_bytes());
  if (const auto* m = std::get_if<workloads::MatMul>(&op.shape); m && !m->b_is_weight) {
    weight = static_cast<u64>((m->batch * m->k * m->n * op.b_bits() + 7) / 8);
    input -= std::min(input, weight);
  }
  t.bytes[w.plan.port(port::input)] = input;
  t.bytes[w.plan.port(port::weight)] = weight;
  t.bytes[w.plan.port(port::output, Direction::write)] = static_cast<u64>(op.output_bytes());
  w.plan.units = static_cast<u64>(p_.pes * p_.lanes);
  w.plan.tiles.push_back(t);
  w.plan.buffering = kStreaming;
  w.metrics["npu.stack"] = static_cast<double>(s.stack);
  w.metrics["npu.reduction_adds"] = static_cast<double>(s.reduction_adds);
  w.accesses.clear();
  w.accesses["dram"] = {w.plan.read_bytes(), w.plan.write_bytes()};
  return w;
}

EnergyBreakdown FluidNpuEngine::energy(const LayerWork& work, u64 cycles) const {
  const energy::Technology& t = *common_.tech;
  const auto& dram = work.accesses.at("dram");
  const std::string prec = energy::priced_mac_precision("auto", work.mac_bits, work.mac_format);
  const double mac_pj = t.mac_cost(prec).energy_pj;
  const double dram_pj_per_byte = 8 * t.dram(p_.dram_type);
  const auto it = work.metrics.find("npu.reduction_adds");
  const double adds = it == work.metrics.end() ? 0.0 : it->second;
  const double logic_mm2 = static_cast<double>(p_.pes * p_.lanes) * t.mac_cost(energy::area_mac_precision("auto")).area_um2 * 1e-6;
  const double seconds = static_cast<double>(cycles) / common_.clock_hz;
  // A reduction-stage addition is priced as half a MAC (an adder without the multiplier).
  return {{"mac", static_cast<double>(work.macs) * mac_pj},
          {"reduction", adds * 0.5 * mac_pj},
          {"dram.read", static_cast<double>(dram.read_bytes) * dram_pj_per_byte},
          {"dram.write", static_cast<double>(dram.write_bytes) * dram_pj_per_byte},
          {"leakage.pe_array", logic_mm2 * t.leakage_logic_mw_per_mm2 * seconds * 1e9}};
}

nlohmann::json FluidNpuEngine::resolved_config() const {
  return with_common({{"npu", {{"pes", p_.pes}, {"lanes", p_.lanes}, {"stackable", p_.stackable}}},
                      {"energy", {{"dram", p_.dram_type}}}});
}

}  // namespace tessera::arch
