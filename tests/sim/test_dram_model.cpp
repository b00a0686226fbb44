// The detailed DRAM model (dram.model = "detailed"): config keys, the SystemC fidelity running the
// command-level controller on each transfer, and the analytical fidelity's sustained rate held to
// it on streaming layers.
#include <cmath>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "arch/dram/controller.hpp"
#include "sim/report.hpp"
#include "sim/simulate.hpp"
#include "workloads/json_format.hpp"

using namespace tessera;
using u64 = std::uint64_t;
namespace dram = tessera::arch::dram;
using Catch::Matchers::Contains;

namespace {

arch::ArchConfig arch_with(const nlohmann::json& dram) {
  return arch::build_arch({"dram.json", {{"engine", "ideal"},
                                         {"peak_macs_per_cycle", 4096},
                                         {"clock", "1 GHz"},
                                         {"dram", dram}}});
}

workloads::Graph one(const nlohmann::json& op) {
  return workloads::workload_from_json(
      {{"format", "tessera.workload"}, {"version", 1}, {"name", "w"}, {"operators", {op}}}, "w.json");
}

u64 total_cycles(const std::vector<sim::LayerResult>& layers) {
  u64 c = 0;
  for (const auto& l : layers) c += l.timing.cycles;
  return c;
}

}  // namespace

TEST_CASE("dram.model detailed: keys, resolved config, errors naming the key", "[dram][config]") {
  const auto a = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}});
  const auto& ch = a.engine->memory().channels.front();
  REQUIRE(ch.detailed);
  CHECK(ch.detailed->name == "ddr4_3200");
  // Sustained: at most the peak (64 B per 4 DRAM cycles of 0.625 ns = 25.6 B/ns at 1 GHz).
  CHECK(ch.bytes_per_cycle <= 25.6);
  CHECK(ch.bytes_per_cycle >= 0.9 * 25.6);
  // The resolved config reads back to the same memory.
  const auto again = arch_with(a.resolved.at("dram"));
  CHECK(again.engine->memory() == a.engine->memory());
  CHECK(a.resolved.at("dram").at("preset") == "ddr4_3200");

  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"bandwidth", "10 GB/s"}}),
                    Contains("/dram/bandwidth: comes from the DRAM preset"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}}),
                    Contains("/dram/preset: required with model 'detailed'") && Contains("hbm2_2000"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr9"}}),
                    Contains("/dram/preset: 'ddr9' is not one of"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"mapping", "RoRo"}}),
                    Contains("/dram/mapping: five fields"));
  CHECK_THROWS_WITH(arch_with({{"model", "fancy"}}), Contains("/dram/model: 'fancy' is not one of"));
  // Ranks: a power of two up to 16, written back, refreshed each on its own.
  const auto two = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"ranks", 2}});
  CHECK(two.engine->memory().channels.front().detailed->org.ranks == 2);
  CHECK(two.resolved.at("dram").at("ranks") == 2);
  CHECK(arch_with(two.resolved.at("dram")).engine->memory() == two.engine->memory());
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"ranks", 3}}),
                    Contains("/dram/ranks: must be a power of two"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"ranks", 0}}),
                    Contains("/dram/ranks"));
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 2 << 20}, {"output_elements", 2 << 20}}}});
  const auto l = sim::simulate(*two.engine, g, "systemc").front();
  const double refis = static_cast<double>(l.timing.cycles) /
                       (static_cast<double>(dram::preset("ddr4_3200").timing.refi) * 0.625);
  CHECK(l.metrics.at("dram_stats.dram.refreshes") >= 2 * std::floor(refis) - 2);
  CHECK(l.metrics.at("dram_stats.dram.refreshes") <= 2 * std::ceil(refis) + 2);

  // Per-bank refresh: where the standard has it, written back, counted apart at both fidelities;
  // DDR4 refused naming the key.
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"refresh", "per_bank"}}),
                    Contains("/dram/refresh: per_bank: preset ddr4_3200 has no per-bank refresh"));
  CHECK_THROWS_WITH(arch_with({{"model", "detailed"}, {"preset", "hbm2_2000"}, {"refresh", "some"}}),
                    Contains("/dram/refresh: 'some' is not one of"));
  const auto pb = arch_with({{"model", "detailed"}, {"preset", "lpddr4x_4266"}, {"refresh", "per_bank"}});
  CHECK(pb.resolved.at("dram").at("refresh") == "per_bank");
  CHECK(arch_with(pb.resolved.at("dram")).engine->memory() == pb.engine->memory());
  const auto& lp = dram::preset("lpddr4x_4266");
  for (const std::string fidelity : {"systemc", "analytical"}) {
    INFO(fidelity);
    const auto p = sim::simulate(*pb.engine, g, fidelity).front();
    const double refis_pb = static_cast<double>(p.timing.cycles) / (static_cast<double>(lp.refi_pb()) * lp.timing.tck_ns);
    CHECK(p.metrics.at("dram_stats.dram.refreshes") == 0);
    CHECK(p.metrics.at("dram_stats.dram.per_bank_refreshes") >= std::floor(refis_pb) - 1);
    CHECK(p.metrics.at("dram_stats.dram.per_bank_refreshes") <= std::ceil(refis_pb) + 1);
    CHECK(p.energy.at("dram.ref") ==
          Approx(p.metrics.at("dram_stats.dram.per_bank_refreshes") * dram::command_energy(lp).ref_pb));
  }
}

TEST_CASE("detailed DRAM: SystemC runs the controller, analytical within 5 % on a streaming layer",
          "[dram]") {
  // A copy of 8 Mi elements: one read stream and one write stream, no compute to hide them.
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 8 << 20}, {"output_elements", 8 << 20}}}});
  for (const std::string preset : {"ddr4_3200", "lpddr5_6400", "hbm2_2000"}) {
    INFO(preset);
    // Reads and writes on channels of their own: each is one sequential stream.
    const auto a = arch_with({{"model", "detailed"}, {"preset", preset}, {"channels", "per_operand"}});
    const u64 analytical = total_cycles(sim::simulate(*a.engine, g, "analytical"));
    const u64 systemc = total_cycles(sim::simulate(*a.engine, g, "systemc"));
    CHECK(static_cast<double>(analytical) == Approx(static_cast<double>(systemc)).epsilon(0.05));
    // Never faster than the preset's peak on the read.
    const auto& spec = dram::preset(preset);
    const double peak_per_engine_cycle = spec.peak_bytes_per_cycle() / spec.timing.tck_ns;  // 1 GHz
    CHECK(static_cast<double>(systemc) >= static_cast<double>(g.op(0).input_bytes()) / peak_per_engine_cycle);
  }
}

TEST_CASE("detailed DRAM: operand streams sharing a channel cost row conflicts the simple model does not see",
          "[dram]") {
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 8 << 20}, {"output_elements", 8 << 20}}}});
  const auto shared = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}});
  const auto split = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"channels", "per_operand"}});
  const u64 one_channel = total_cycles(sim::simulate(*shared.engine, g, "systemc"));
  const u64 two_channels = total_cycles(sim::simulate(*split.engine, g, "systemc"));
  // Twice the data on one channel, and read/write turnarounds and row switches between them.
  CHECK(one_channel > 2 * two_channels * 0.95);
  const auto& spec = dram::preset("ddr4_3200");
  const double bytes = static_cast<double>(g.op(0).input_bytes() + g.op(0).output_bytes());
  CHECK(static_cast<double>(one_channel) >= bytes / (spec.peak_bytes_per_cycle() / spec.timing.tck_ns));
}

TEST_CASE("detailed DRAM: per-channel statistics counted by SystemC, estimated by analytical, IDD energy",
          "[dram][energy]") {
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 4 << 20}, {"output_elements", 4 << 20}}}});
  const auto a = arch_with({{"model", "detailed"}, {"preset", "ddr4_3200"}, {"channels", "per_operand"}});
  const auto& spec = dram::preset("ddr4_3200");
  const auto systemc = sim::simulate(*a.engine, g, "systemc");
  const auto analytical = sim::simulate(*a.engine, g, "analytical");
  REQUIRE(systemc.size() == 1);
  const auto& l = systemc.front();
  // per_operand: channels dram.input, dram.weight, dram.output.
  const auto m = [&](const sim::LayerResult& r, const std::string& channel, const std::string& figure) {
    INFO(channel << " " << figure);
    REQUIRE(r.metrics.count("dram_stats." + channel + "." + figure) == 1);
    return r.metrics.at("dram_stats." + channel + "." + figure);
  };
  const double in = static_cast<double>(g.op(0).input_bytes());
  const double out = static_cast<double>(g.op(0).output_bytes());
  CHECK(m(l, "dram.input", "estimated") == 0);
  // Every byte once, in bursts of 64 B, on the channel carrying its port.
  CHECK(m(l, "dram.input", "reads") == in / 64);
  CHECK(m(l, "dram.input", "writes") == 0);
  CHECK(m(l, "dram.output", "writes") == out / 64);
  CHECK(m(l, "dram.weight", "reads") + m(l, "dram.weight", "writes") == 0);
  CHECK(m(l, "dram.input", "bytes") == in);
  // One sequential stream: nearly all row hits; one activate per 8 KiB row, again after each
  // refresh for the banks it closed.
  CHECK(m(l, "dram.input", "row_hit_rate") > 0.95);
  CHECK(m(l, "dram.input", "activates") >= in / 8192);
  CHECK(m(l, "dram.input", "activates") <= in / 8192 + 16 * m(l, "dram.input", "refreshes"));
  CHECK(m(l, "dram.input", "row_hits") + m(l, "dram.input", "row_misses") + m(l, "dram.input", "row_conflicts") ==
        m(l, "dram.input", "reads"));
  // A refresh per tREFI of the layer's time, give or take one.
  const double layer_ns = static_cast<double>(l.timing.cycles);  // 1 GHz
  const double refis = layer_ns / (static_cast<double>(spec.timing.refi) * spec.timing.tck_ns);
  CHECK(m(l, "dram.input", "refreshes") >= std::floor(refis) - 1);
  CHECK(m(l, "dram.input", "refreshes") <= std::ceil(refis) + 1);
  // Achieved bandwidth never above the peak.
  CHECK(m(l, "dram.input", "bandwidth_fraction") <= 1.0);
  CHECK(m(l, "dram.input", "achieved_gb_per_s") == Approx(in / layer_ns));
  CHECK(m(l, "dram.input", "peak_gb_per_s") == Approx(25.6));

  // The analytical fidelity estimates the same counts from the calibration stream.
  const auto& e = analytical.front();
  CHECK(m(e, "dram.input", "estimated") == 1);
  CHECK(m(e, "dram.input", "reads") == m(l, "dram.input", "reads"));
  CHECK(m(e, "dram.output", "writes") == m(l, "dram.output", "writes"));
  CHECK(m(e, "dram.input", "activates") == Approx(m(l, "dram.input", "activates")).epsilon(0.1));
  CHECK(m(e, "dram.input", "row_hit_rate") == Approx(m(l, "dram.input", "row_hit_rate")).epsilon(0.02));
  CHECK(m(e, "dram.input", "refreshes") == Approx(m(l, "dram.input", "refreshes")).margin(2));

  // IDD energy in place of the per-byte DRAM energy: the counted commands at their energies.
  for (const auto& [name, pj] : l.energy) {
    INFO(name);
    CHECK((name.rfind("dram", 0) != 0 || name == "dram.act" || name == "dram.pre" || name == "dram.rd" ||
           name == "dram.wr" || name == "dram.ref" || name == "dram.background"));
  }
  const auto per = dram::command_energy(spec);
  double acts = 0, pres = 0, writes = 0, refs = 0;
  for (const std::string ch : {"dram.input", "dram.weight", "dram.output"}) {
    acts += m(l, ch, "activates"), pres += m(l, ch, "precharges"), writes += m(l, ch, "writes");
    refs += m(l, ch, "refreshes");
  }
  CHECK(l.energy.at("dram.rd") == Approx(in / 64 * per.rd));
  CHECK(l.energy.at("dram.wr") == Approx(writes * per.wr));
  CHECK(l.energy.at("dram.wr") == Approx(out / 64 * per.wr));
  CHECK(l.energy.at("dram.act") == Approx(acts * per.act));
  CHECK(l.energy.at("dram.pre") == Approx(pres * per.pre));
  CHECK(l.energy.at("dram.ref") == Approx(refs * per.ref));
  // Standby of three channels over the layer's time: between all precharged (IDD2N) and all
  // active (IDD3N); the streaming channels keep rows open, the idle weight channel none.
  const double idle = dram::background_energy(spec, layer_ns, 0), busy = dram::background_energy(spec, layer_ns, layer_ns);
  CHECK(l.energy.at("dram.background") > idle + 1.8 * (busy - idle));
  CHECK(l.energy.at("dram.background") <= 2 * busy + idle);
  CHECK(e.energy.at("dram.background") == Approx(l.energy.at("dram.background")).epsilon(0.05));

  // HBM2 has no published currents here: its energy stays per byte, its statistics are reported.
  const auto h = arch_with({{"model", "detailed"}, {"preset", "hbm2_2000"}});
  const auto hl = sim::simulate(*h.engine, g, "analytical").front();
  CHECK(hl.metrics.count("dram_stats.dram.reads") == 1);
  CHECK(hl.energy.count("dram.act") == 0);
  CHECK(hl.energy.count("dram.background") == 0);
  bool per_byte = false;
  for (const auto& [name, pj] : hl.energy) per_byte = per_byte || (name.rfind("dram", 0) == 0 && pj > 0);
  CHECK(per_byte);
  // The simple model reports no DRAM statistics.
  const auto s = arch_with({{"bandwidth", "16 B/cycle"}});
  for (const auto& [name, v] : sim::simulate(*s.engine, g, "analytical").front().metrics)
    CHECK(name.rfind("dram_stats.", 0) != 0);
}

TEST_CASE("detailed DRAM: the report sums the layers' statistics per channel", "[dram][report]") {
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 1 << 20}, {"output_elements", 1 << 20}}}});
  const auto a = arch_with({{"model", "detailed"}, {"preset", "lpddr4x_4266"}});
  for (const std::string fidelity : {"systemc", "analytical"}) {
    INFO(fidelity);
    sim::Report r;
    r.layers = sim::simulate(*a.engine, g, fidelity);
    r.clock_hz = 1e9;
    r.summary = sim::summarize(r.layers, r.clock_hz, 4096, {});
    const auto j = sim::to_json(r);
    const auto& d = j.at("summary").at("dram").at("dram");
    CHECK(d.at("estimated") == (fidelity == "analytical"));
    CHECK(d.at("reads").get<double>() == r.layers[0].metrics.at("dram_stats.dram.reads"));
    CHECK(d.at("bytes").get<double>() == static_cast<double>(g.op(0).input_bytes() + g.op(0).output_bytes()));
    CHECK(d.at("row_hit_rate").get<double>() > 0.5);
    CHECK(d.at("bandwidth_fraction").get<double>() <= 1.0);
    CHECK(d.at("bandwidth_fraction").get<double>() > 0.5);
    CHECK_THAT(sim::format_table(r), Contains("DRAM dram") && Contains("row-buffer hit rate"));
  }
}

TEST_CASE("detailed DRAM: SystemC converts the engine's clock to DRAM cycles", "[dram][systemc]") {
  // A streaming copy at 500 MHz and 2 GHz: the analytical fidelity's sustained rate (converted
  // with the engine clock) and the SystemC controller agree as they do at 1 GHz.
  const auto g = one({{"name", "copy"},
                       {"kind", "data_movement"},
                       {"shape", {{"type", "copy"}, {"input_elements", 2 << 20}, {"output_elements", 2 << 20}}}});
  for (const char* clock : {"500 MHz", "2 GHz"}) {
    INFO(clock);
    const auto a = arch::build_arch({"dram.json", {{"engine", "ideal"},
                                                   {"peak_macs_per_cycle", 4096},
                                                   {"clock", clock},
                                                   {"dram", {{"model", "detailed"}, {"preset", "ddr4_3200"},
                                                             {"channels", "per_operand"}}}}});
    const double s = static_cast<double>(total_cycles(sim::simulate(*a.engine, g, "systemc")));
    const double an = static_cast<double>(total_cycles(sim::simulate(*a.engine, g, "analytical")));
    CHECK(s == Approx(an).epsilon(0.05));
  }
}
