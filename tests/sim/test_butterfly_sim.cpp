// FABNet on the butterfly engine through sim::simulate: reference mode gives the artefact's
// latency for the whole network (tests/data/butterfly_acc/latency.csv), both fidelities agree in
// both modes, and native mode stays above each layer's physical bound.
#include <catch2/catch.hpp>

#include "arch/butterfly/butterfly.hpp"
#include "arch/config.hpp"
#include "common/csv.hpp"
#include "sim/simulate.hpp"
#include "test_support.hpp"
#include "workloads/fabnet.hpp"
#include "workloads/frontend.hpp"

using namespace tessera;

namespace {

arch::ButterflyParams vcu128() {
  arch::ButterflyParams p;
  p.common.clock_hz = 200e6;
  p.common.memory.channels = {
      arch::MemoryChannel{.name = "in",
                          .bytes_per_cycle = 256,
                          .latency_cycles = 40,
                          .ports = {"input", "epilogue_in"}},
      arch::MemoryChannel{
          .name = "coef", .bytes_per_cycle = 32, .latency_cycles = 40, .ports = {"coefficients", "weight"}},
      arch::MemoryChannel{
          .name = "out", .bytes_per_cycle = 256, .latency_cycles = 40, .ports = {"output"}}};
  p.engines = 120;
  p.units = 4;
  return p;
}

}  // namespace

TEST_CASE("butterfly: FABNet in reference mode takes the artefact's latency", "[sim][butterfly]") {
  arch::ButterflyParams p = vcu128();
  p.reference = true;
  p.efficiency = 0.85;
  const arch::ButterflyEngine e(p);
  std::map<std::string, double> expected;
  for (const auto& r : read_csv_table(test::data_path("butterfly_acc/latency.csv")))
    if (r.at("board") == "vcu128" && r.at("p_be") == "120" && r.at("p_bu") == "4")
      expected[r.at("version") + "/" + r.at("seq_len")] = std::stod(r.at("latency_ms"));
  for (const char* version : {"base", "large"})
    for (const workloads::i64 L : {128, 512, 1024}) {
      INFO(version << " L=" << L);
      workloads::LoadOptions o;
      o.seq_len = L;
      const auto g = workloads::load_workload(
          test::source_path(std::string("configs/models/fabnet-") + version + ".json"), o);
      const auto a = sim::simulate(e, g, "analytical");
      const auto s = sim::simulate(e, g, "systemc");
      arch::u64 total = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].timing == s[i].timing);
        total += a[i].timing.cycles;
      }
      const double ms = static_cast<double>(total) / 200e6 * 1e3;
      const double want = expected.at(std::string(version) + "/" + std::to_string(L));
      const double layers = std::string(version) == "base" ? 12 : 24;
      CHECK(ms >= want - 1e-12);
      CHECK(ms <= want + 3 * layers * 1e3 / 200e6);  // a cycle per operator of rounding
    }
}

TEST_CASE("butterfly: FABNet in native mode, both fidelities, above the bounds",
          "[sim][butterfly][bounds]") {
  const arch::ButterflyEngine e(vcu128());
  workloads::LoadOptions o;
  o.seq_len = 256;
  workloads::FabnetConfig c;
  c.layers = 4;
  c.abfly_layers = 2;  // attention layers too
  const auto g = workloads::build_fabnet(c, "hybrid.json", o);
  const auto a = sim::simulate(e, g, "analytical");
  const auto s = sim::simulate(e, g, "systemc");
  REQUIRE(a.size() == s.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].name);
    CHECK(a[i].timing == s[i].timing);
    CHECK(a[i].timing.cycles >= a[i].roofline_cycles);
    if (a[i].fused_into.empty())
      CHECK(static_cast<double>(a[i].timing.cycles) * a[i].peak_macs_per_cycle >=
            static_cast<double>(a[i].macs));
  }
}

TEST_CASE("butterfly: LayerNorm and shortcuts run on the output path in native mode",
          "[sim][butterfly]") {
  workloads::LoadOptions o;
  o.seq_len = 128;
  workloads::FabnetConfig c;
  c.layers = 2;
  c.abfly_layers = 1;
  const auto g = workloads::build_fabnet(c, "hybrid.json", o);
  const arch::ButterflyEngine fused(vcu128());
  arch::ButterflyParams p = vcu128();
  p.common.fusion = false;
  const arch::ButterflyEngine separate(p);
  const auto a = sim::simulate(fused, g, "analytical");
  const auto b = sim::simulate(separate, g, "analytical");
  REQUIRE(a.size() == b.size());
  const auto total = [](const std::vector<sim::LayerResult>& r, auto field) {
    double sum = 0;
    for (const auto& l : r) sum += static_cast<double>(field(l));
    return sum;
  };
  std::size_t norms = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != "norm") continue;
    ++norms;
    INFO(a[i].name);
    // Each norm follows its shortcut add on the layer that produced the add's input.
    CHECK_FALSE(a[i].fused_into.empty());
    CHECK(a[i].timing.cycles == 0);
    CHECK(b[i].fused_into.empty());
    CHECK(b[i].timing.cycles > 0);
  }
  CHECK(norms == 4);
  // Fused, no norm reads or writes its row through DRAM, and the network takes less time.
  const auto dram = [](const sim::LayerResult& l) {
    arch::u64 bytes = 0;
    for (const auto& [level, x] : l.accesses)
      if (level.rfind("dram", 0) == 0) bytes += x.read_bytes + x.write_bytes;
    return bytes;
  };
  CHECK(total(a, dram) < total(b, dram));
  const auto cycles = [](const sim::LayerResult& l) { return l.timing.cycles; };
  CHECK(total(a, cycles) < total(b, cycles));
  // Both fidelities time the fused plans alike.
  const auto s = sim::simulate(fused, g, "systemc");
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].timing == s[i].timing);
}

TEST_CASE("butterfly: hamming-distance energy of its streams in simulate", "[sim][butterfly][energy]") {
  const auto arch = arch::load_arch(test::source_path("configs/arch/butterfly_vcu128.json"),
                                    {"energy.hamming=true"});
  const auto plain = arch::load_arch(test::source_path("configs/arch/butterfly_vcu128.json"));
  workloads::LoadOptions o;
  o.seq_len = 64;
  workloads::FabnetConfig c;
  c.layers = 2;
  c.abfly_layers = 1;
  const auto g = workloads::build_fabnet(c, "hybrid.json", o);
  const auto with = sim::simulate(*arch.engine, g, "analytical");
  const auto without = sim::simulate(*plain.engine, g, "analytical");
  REQUIRE(with.size() == without.size());
  int streamed = 0;
  for (std::size_t i = 0; i < with.size(); ++i) {
    INFO(with[i].name);
    const auto kind = g.op(*g.find(with[i].name)).kind();
    const bool datapath = kind == workloads::OpKind::butterfly || kind == workloads::OpKind::fft;
    CHECK(with[i].timing == without[i].timing);  // energy only
    if (datapath) {
      ++streamed;
      // The table's flat MAC energy replaced by toggles on the unit's ports plus the MACs' base.
      CHECK_FALSE(with[i].energy.count("mac"));
      CHECK(with[i].energy.at("mac.toggle") > 0);
      CHECK(with[i].energy.at("mac.base") > 0);
      CHECK(with[i].hamming.at("original").at("ports").size() >= 4);
      CHECK(with[i].energy.at("mac.toggle") + with[i].energy.at("mac.base") <
            1.5 * without[i].energy.at("mac"));
    } else {
      CHECK(with[i].hamming.is_null());
    }
  }
  CHECK(streamed >= 3);  // the FBfly layer's mixer and FFN, the ABfly layer's projections
}
