// The config layer: parsing, overrides, validation errors naming file and JSON path, registry;
// the memory system the "dram" keys build (channels, DMA rate).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <catch2/catch.hpp>

#include "arch/config.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

arch::ArchDocument doc(const std::string& text) {
  return {"test.json", nlohmann::json::parse(text)};
}

const char* kIdeal = R"({"engine": "ideal", "clock": "800 MHz", "peak_macs_per_cycle": 256,
                         "dram": {"bandwidth": "12.8 GB/s"}})";

}  // namespace

TEST_CASE("ideal config resolves defaults and units", "[arch][config]") {
  const auto cfg = arch::build_arch(doc(kIdeal));
  CHECK(cfg.engine->engine_name() == "ideal");
  CHECK(cfg.name == "test");  // file stem when no "name" key
  CHECK(cfg.engine->clock_hz() == Approx(800e6));
  CHECK(cfg.engine->peak_macs_per_cycle() == 256);
  REQUIRE(cfg.engine->memory().channels.size() == 1);
  const auto& dram = cfg.engine->memory().channels.front();
  CHECK(dram.bytes_per_cycle == Approx(16.0));  // 12.8e9 B/s / 800e6 cycles/s
  CHECK(dram.latency_cycles == 0);
  CHECK(dram.outstanding == 1024);
  CHECK(dram.burst_bytes == 64);
  CHECK(cfg.resolved["dram"]["channels"] == "shared");
  CHECK(cfg.resolved["clock"] == Approx(800.0));  // MHz, the key's default unit
  CHECK(cfg.resolved["technology"] == "45nm");
  CHECK(cfg.resolved["energy"]["dram"] == "ddr4");
  CHECK(cfg.hash.size() == 16);
}

TEST_CASE("a resolved config reads back as the same design point", "[arch][config]") {
  const auto cfg = arch::build_arch(doc(kIdeal));
  const auto again = arch::build_arch({"resolved.json", cfg.resolved});
  CHECK(again.hash == cfg.hash);
  CHECK(again.resolved == cfg.resolved);
}

TEST_CASE("the hash ignores key order and the name label but not parameters", "[arch][config]") {
  const auto a = arch::build_arch(doc(kIdeal));
  const auto b = arch::build_arch(doc(R"({"dram": {"bandwidth": 16}, "peak_macs_per_cycle": 256,
                                          "clock": 800, "engine": "ideal", "name": "other"})"));
  CHECK(a.hash == b.hash);
  auto d = doc(kIdeal);
  arch::apply_override(d, "peak_macs_per_cycle=512");
  CHECK(arch::build_arch(d).hash != a.hash);
}

TEST_CASE("overrides set nested values by dotted path or JSON pointer", "[arch][config]") {
  auto d = doc(kIdeal);
  arch::apply_override(d, "dram.bandwidth=32");
  arch::apply_override(d, "/dram/latency_cycles=100");
  arch::apply_override(d, "clock=1 GHz");  // not JSON: taken as a string
  const auto cfg = arch::build_arch(d);
  CHECK(cfg.engine->memory().channels.at(0).bytes_per_cycle == 32);
  CHECK(cfg.engine->memory().channels.at(0).latency_cycles == 100);
  CHECK(cfg.engine->clock_hz() == Approx(1e9));
}

TEST_CASE("config errors name the file, the JSON path and what was expected",
          "[arch][config][errors]") {
  auto fails_with = [](const std::string& text, const std::string& a, const std::string& b) {
    CHECK_THROWS_WITH(arch::build_arch(doc(text)),
                      Contains("test.json") && Contains(a) && Contains(b));
  };
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 256, "dram": {"bandwidth": 16, "bandwith": 3}})",
      "/dram/bandwith", "unknown key");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 256, "dram": {"bandwidth": 16}, "extra": 1})",
      "/extra", "unknown key");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 0, "dram": {"bandwidth": 16}})",
             "/peak_macs_per_cycle", "must be > 0");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": "many", "dram": {"bandwidth": 16}})",
             "/peak_macs_per_cycle", "expected a number");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": -4}})",
             "/dram/bandwidth", "must be > 0");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": "4 furlongs"}})",
      "/dram/bandwidth", "unknown unit");
  fails_with(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": 4, "latency_cycles": -1}})",
      "/dram/latency_cycles", "must be >= 0");
  fails_with(R"({"engine": "ideal", "peak_macs_per_cycle": 8})", "missing required key", "dram");
  fails_with(R"({"engine": "warp-drive"})", "/engine",
             "known: bitfusion, butterfly, eyeriss, fluid_npu, ideal, sparse, systolic");
  fails_with(R"({"peak_macs_per_cycle": 8})", "missing required key", "engine");
  fails_with(R"([1, 2])", "expected an object", "array");
}

TEST_CASE("a malformed config file is reported with line and column", "[arch][config][errors]") {
  CHECK_THROWS_WITH(arch::load_arch(test::data_path("cli/malformed.json")),
                    Contains("malformed.json:4:") && Contains("malformed JSON"));
  CHECK_THROWS_WITH(arch::load_arch(test::data_path("cli/no_such_file.json")),
                    Contains("no_such_file.json") && Contains("cannot open"));
}

TEST_CASE("bad overrides are errors", "[arch][config][errors]") {
  auto d = doc(kIdeal);
  CHECK_THROWS_WITH(arch::apply_override(d, "no_equals_sign"), Contains("expected path=value"));
  CHECK_THROWS_WITH(arch::apply_override(d, "clock.mhz=3"),
                    Contains("/clock") && Contains("cannot set a key"));
  arch::apply_override(d, "dram.bandwidht=3");  // accepted here, rejected by the engine
  CHECK_THROWS_WITH(arch::build_arch(d), Contains("/dram/bandwidht") && Contains("unknown key"));
}

TEST_CASE("every shipped architecture config is valid", "[arch][config]") {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("configs/arch")))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f);
    CHECK_NOTHROW(arch::load_arch(f));
  }
}

TEST_CASE("a memory channel's rate: bandwidth-bound or DMA-bound by Little's law",
          "[arch][memory]") {
  arch::MemoryChannel c;
  // Bandwidth-bound: 256 requests of 64 B cover 100 cycles of latency at 16 B/cycle
  // (256 * 64 / (100 + 64/16) = 157.5 > 16).
  c.bytes_per_cycle = 16, c.latency_cycles = 100, c.outstanding = 256, c.burst_bytes = 64;
  CHECK(c.rate() == 16);
  CHECK(c.occupancy(100) == 7);  // ceil(100 / 16)
  CHECK(c.occupancy(0) == 0);
  // DMA-bound: 4 requests of 64 B in flight over 1000 + 4 cycles: 256 / 1004 B/cycle.
  c.latency_cycles = 1000, c.outstanding = 4;
  CHECK(c.rate() == Approx(256.0 / 1004.0));
  CHECK(c.occupancy(1000) == 3922);  // ceil(1000 * 1004 / 256) = ceil(3921.875)
  // Larger bursts cover more of the latency: 4 * 1024 / (1000 + 64) B/cycle.
  c.burst_bytes = 1024;
  CHECK(c.rate() == Approx(4096.0 / 1064.0));
  // No latency: the bandwidth whatever the DMA depth.
  c.latency_cycles = 0, c.outstanding = 1, c.burst_bytes = 64;
  CHECK(c.rate() == 16);
  // Unlimited bandwidth: only the DMA limits it (256 * 64 B per 500 cycles), or nothing.
  c.bytes_per_cycle = std::numeric_limits<double>::infinity();
  c.latency_cycles = 500, c.outstanding = 256;
  CHECK(c.rate() == Approx(256.0 * 64 / 500));
  CHECK(c.occupancy(65536) == 2000);
  c.latency_cycles = 0;
  CHECK(std::isinf(c.rate()));
  CHECK(c.occupancy(1 << 30) == 0);
}

TEST_CASE("dram.channels: shared by default, or one channel per operand", "[arch][memory][config]") {
  const auto shared = arch::build_arch(doc(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8,
          "dram": {"bandwidth": 32, "latency_cycles": 40, "outstanding": 8, "burst_bytes": 128}})"));
  const auto& m = shared.engine->memory();
  CHECK(m.form == arch::ChannelForm::shared);
  REQUIRE(m.channels.size() == 1);
  CHECK(m.channels[0].bytes_per_cycle == 32);  // the total
  CHECK(m.channels[0].latency_cycles == 40);
  CHECK(m.channels[0].outstanding == 8);
  CHECK(m.channels[0].burst_bytes == 128);
  CHECK(m.channels[0].ports.empty());  // carries every port
  for (const char* p : {"input", "weight", "output", "psum_in", "psum_out", "metadata"})
    CHECK(m.channel_for(p) == 0);
  CHECK(shared.resolved["dram"]["outstanding"] == 8);
  CHECK(shared.resolved["dram"]["burst_bytes"] == 128);

  const auto per = arch::build_arch(doc(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8,
          "dram": {"bandwidth": 32, "latency_cycles": 40, "channels": "per_operand"}})"));
  const auto& po = per.engine->memory();
  CHECK(po.form == arch::ChannelForm::per_operand);
  REQUIRE(po.channels.size() == 3);
  CHECK(po.channels[0].name == "dram.input");
  CHECK(po.channels[1].name == "dram.weight");
  CHECK(po.channels[2].name == "dram.output");
  for (const auto& c : po.channels) {
    CHECK(c.bytes_per_cycle == 32);  // the bandwidth of each channel
    CHECK(c.latency_cycles == 40);
  }
  CHECK(po.channel_for("input") == 0);
  CHECK(po.channel_for("weight") == 1);
  CHECK(po.channel_for("output") == 2);
  CHECK(po.channel_for("psum_in") == 2);
  CHECK(po.channel_for("psum_out") == 2);
  CHECK(po.channel_for("metadata") == 0);  // any other port: the channel naming none
  CHECK(per.resolved["dram"]["channels"] == "per_operand");
  CHECK(arch::build_arch({"r.json", per.resolved}).hash == per.hash);
  CHECK(per.hash != shared.hash);

  // assign() sets each port's channel in a plan.
  dataflows::TilePlan plan;
  plan.port(dataflows::port::input);
  plan.port(dataflows::port::weight);
  plan.port(dataflows::port::psum_out, dataflows::Direction::write);
  po.assign(plan);
  CHECK(plan.ports[0].channel == 0);
  CHECK(plan.ports[1].channel == 1);
  CHECK(plan.ports[2].channel == 2);
  m.assign(plan);
  for (const auto& p : plan.ports) CHECK(p.channel == 0);
}

TEST_CASE("dram.channels as a list: named channels of their own widths and ports",
          "[arch][memory][config]") {
  const char* kList = R"({"engine": "ideal", "peak_macs_per_cycle": 8, "clock": 1000,
      "dram": {"latency_cycles": 20, "channels": [
        {"name": "hbm.pc0", "bandwidth": "32 GB/s", "ports": ["input", "epilogue_in"]},
        {"name": "hbm.pc1", "bandwidth": 64, "latency_cycles": 90, "outstanding": 16,
         "burst_bytes": 32, "ports": ["weight"]},
        {"name": "ddr", "bandwidth": "unlimited", "ports": ["output", "psum_in", "psum_out"]}]}})";
  const auto cfg = arch::build_arch(doc(kList));
  const auto& m = cfg.engine->memory();
  CHECK(m.form == arch::ChannelForm::list);
  REQUIRE(m.channels.size() == 3);
  CHECK(m.channels[0].name == "hbm.pc0");
  CHECK(m.channels[0].bytes_per_cycle == 32);  // 32 GB/s at 1 GHz
  CHECK(m.channels[0].latency_cycles == 20);   // the dram object's, as a default
  CHECK(m.channels[0].outstanding == 1024);
  CHECK(m.channels[1].bytes_per_cycle == 64);
  CHECK(m.channels[1].latency_cycles == 90);
  CHECK(m.channels[1].outstanding == 16);
  CHECK(m.channels[1].burst_bytes == 32);
  CHECK(std::isinf(m.channels[2].bytes_per_cycle));
  CHECK(m.channel_for("input") == 0);
  CHECK(m.channel_for("epilogue_in") == 0);
  CHECK(m.channel_for("weight") == 1);
  CHECK(m.channel_for("psum_out") == 2);
  // No catch-all: a port no channel names is an error naming the port and the config.
  CHECK_THROWS_WITH(m.channel_for("metadata"),
                    Contains("test.json: /dram/channels: ") && Contains("'metadata'") &&
                        Contains("input, epilogue_in, weight, output, psum_in, psum_out"));
  dataflows::TilePlan plan;
  plan.port("metadata");
  CHECK_THROWS_AS(m.assign(plan), InputError);

  // The resolved config writes the list with every key and reads back as the same point.
  const auto& list = cfg.resolved["dram"]["channels"];
  REQUIRE(list.is_array());
  CHECK(list[1]["bandwidth"] == 64);
  CHECK(list[2]["bandwidth"] == "unlimited");
  CHECK(list[0]["latency_cycles"] == 20);
  CHECK(list[0]["ports"] == nlohmann::json({"input", "epilogue_in"}));
  const auto again = arch::build_arch({"resolved.json", cfg.resolved});
  CHECK(again.hash == cfg.hash);
  CHECK(again.resolved == cfg.resolved);
  CHECK(again.engine->memory() == m);
  // Another width is another design point.
  auto wider = doc(kList);
  arch::apply_override(wider, "/dram/channels/1/bandwidth=128");
  CHECK(arch::build_arch(wider).hash != cfg.hash);
  CHECK(arch::build_arch(wider).engine->memory().channels[1].bytes_per_cycle == 128);
  arch::apply_override(wider, "dram.channels.0.ports.1=metadata");  // dotted, into a list
  CHECK(arch::build_arch(wider).engine->memory().channels[0].ports[1] == "metadata");
  CHECK_THROWS_WITH(arch::apply_override(wider, "dram.channels.3.bandwidth=1"),
                    Contains("/dram/channels: ") && Contains("no element '3' in an array of 3"));

  // The dram object's bandwidth is each channel's default, so one override turns a shared
  // config into a listed one.
  auto shared = doc(kIdeal);
  arch::apply_override(shared, R"(dram.channels=[{"name": "a", "ports": ["input", "output"]},
                                                 {"name": "b", "bandwidth": 4, "ports": ["weight"]}])");
  const auto& two = arch::build_arch(shared).engine->memory();
  REQUIRE(two.channels.size() == 2);
  CHECK(two.channels[0].bytes_per_cycle == Approx(16.0));
  CHECK(two.channels[1].bytes_per_cycle == 4);
}

TEST_CASE("dram.channels list errors name the JSON path", "[arch][memory][config][errors]") {
  auto fails_with = [](const std::string& channels, const std::string& path,
                       const std::string& what) {
    const std::string text = R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"channels": )" +
                             channels + "}}";
    CHECK_THROWS_WITH(arch::build_arch(doc(text)),
                      Contains("test.json: " + path + ": ") && Contains(what));
  };
  const std::string a = R"({"name": "a", "bandwidth": 8, "ports": ["input", "weight"]})";
  fails_with("[" + a + R"(, {"name": "b", "bandwidth": 8, "ports": ["output", "weight"]}])",
             "/dram/channels/1/ports/1", "port 'weight' is already carried by channel 'a'");
  fails_with("[" + a + R"(, {"name": "b", "bandwidth": 8, "ports": ["output", "output"]}])",
             "/dram/channels/1/ports/1", "port 'output' is already carried by channel 'b'");
  fails_with("[" + a + "," + a + "]", "/dram/channels/1/name", "listed twice");
  fails_with("[]", "/dram/channels", "at least one channel");
  {
    std::string many = "[";
    for (int i = 0; i < 13; ++i)
      many += (i ? "," : "") + std::string(R"({"name": "c)") + std::to_string(i) +
              R"(", "bandwidth": 1, "ports": ["p)" + std::to_string(i) + R"("]})";
    fails_with(many + "]", "/dram/channels", "lists 13 channels, at most 12");
  }
  fails_with(R"([{"name": "a", "bandwidth": 8, "ports": []}])", "/dram/channels/0/ports",
             "at least one");
  fails_with(R"([{"name": "a", "ports": ["input"]}])", "/dram/channels/0/bandwidth", "");
  fails_with(R"([{"name": "a", "bandwidth": 0, "ports": ["input"]}])",
             "/dram/channels/0/bandwidth", "");
  fails_with(R"([{"bandwidth": 8, "ports": ["input"]}])", "/dram/channels/0", "'name'");
  fails_with(R"([{"name": "a", "bandwidth": 8, "ports": ["input"], "width": 2}])",
             "/dram/channels/0/width", "unknown key");
  fails_with(R"([{"name": "a", "bandwidth": 8, "ports": "input"}])", "/dram/channels/0/ports",
             "list of strings");
  fails_with(R"([3])", "/dram/channels/0", "");
  // SCALE-Sim mode keeps its one shared channel.
  CHECK_THROWS_WITH(
      arch::load_arch(test::source_path("configs/arch/systolic_edge_32x32.json"),
                      {"systolic.mode=scalesim",
                       R"(dram.channels=[{"name": "a", "ports": ["input"]}])"}),
      Contains("systolic_edge_32x32.json: /dram/channels: ") && Contains("SCALE-Sim mode"));
}

TEST_CASE("dram and vector keys are checked with their JSON paths", "[arch][config][errors]") {
  auto fails_with = [](const std::string& text, const std::string& a, const std::string& b) {
    CHECK_THROWS_WITH(arch::build_arch(doc(text)),
                      Contains("test.json") && Contains(a) && Contains(b));
  };
  const std::string head = R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": 4)";
  fails_with(head + R"(, "channels": "banked"}})", "/dram/channels", "shared, per_operand");
  fails_with(head + R"(, "outstanding": 0}})", "/dram/outstanding", "positive integer");
  fails_with(head + R"(, "burst_bytes": 1.5}})", "/dram/burst_bytes", "integer");
  fails_with(head + R"(}, "vector": {"lanse": 4}})", "/vector/lanse", "unknown key");
  fails_with(head + R"(}, "vector": {"lanes": 0}})", "/vector/lanes", "positive integer");
  fails_with(head + R"(}, "vector": {"cycles": {"exq": 2}}})", "/vector/cycles/exq", "unknown key");
  fails_with(head + R"(}, "vector": {"cycles": {"exp": 0}}})", "/vector/cycles/exp", "must be > 0");
  fails_with(head + R"(}, "vector": {"energy_pj": {"add": -1}}})", "/vector/energy_pj/add",
             "must be >= 0");
  fails_with(head + R"(}, "vector": {"energy_pj": {"sqrt": 1}}})", "/vector/energy_pj/sqrt",
             "unknown key");
  fails_with(head + R"(}, "vector": {"buffer": 1}})", "/vector/buffer", "at least 32 bytes");
  fails_with(head + R"(}, "vector": {"precision": "int7"}})", "/vector/precision", "int8");
  fails_with(head + R"(}, "vector": 3})", "/vector", "expected an object");
}

TEST_CASE("vector keys resolve and read back", "[arch][config]") {
  const auto cfg = arch::build_arch(doc(
      R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": {"bandwidth": 4},
          "vector": {"lanes": 16, "buffer": "8 KiB", "cycles": {"exp": 2}, "energy_pj": {"add": 0.5}}})"));
  const auto& v = cfg.engine->vector_unit();
  CHECK(v.lanes == 16);
  CHECK(v.buffer_bytes == 8 * 1024);
  CHECK(v.cycles[static_cast<std::size_t>(arch::VectorOp::exp)] == 2);
  CHECK(v.cycles[static_cast<std::size_t>(arch::VectorOp::divide)] == 4);  // default
  CHECK(v.energy_pj[static_cast<std::size_t>(arch::VectorOp::add)] == 0.5);
  CHECK(cfg.resolved["vector"]["lanes"] == 16);
  CHECK(cfg.resolved["vector"]["cycles"]["exp"] == 2);
  const auto again = arch::build_arch({"r.json", cfg.resolved});
  CHECK(again.hash == cfg.hash);
  CHECK(again.engine->vector_unit().energy_pj == v.energy_pj);
  // Default: 64 lanes on the ideal engine.
  CHECK(arch::build_arch(doc(kIdeal)).engine->vector_unit().lanes == 64);
}

TEST_CASE("overrides relabel a config unless they set its name", "[arch][config]") {
  const std::string file = test::source_path("configs/arch/systolic_edge_32x32.json");
  CHECK(arch::load_arch(file).name == "systolic-edge-32x32-os");
  // The demo's fastest design: a 128x64 ws array is not the file's 32x32 os design.
  const auto changed = arch::load_arch(
      file, {"systolic.rows=128", "/systolic/cols=64", R"(systolic.dataflow="ws")"});
  CHECK(changed.name == R"(systolic-edge-32x32-os[systolic.rows=128,systolic.cols=64,systolic.dataflow="ws"])");
  CHECK(changed.resolved["name"] == changed.name);
  CHECK(changed.hash == arch::load_arch(file, {"systolic.rows=128", "systolic.cols=64",
                                               "systolic.dataflow=ws"})
                            .hash);  // the label is not part of the design point
  CHECK(arch::load_arch(file, {"systolic.rows=128", "name=big"}).name == "big");
  CHECK(arch::overridden_name("a", {}) == "a");
}

TEST_CASE("engine keys whose values would overflow a count are refused naming the key",
          "[arch][config][errors]") {
  auto fails_with = [](const std::string& text, const std::string& key, const std::string& what) {
    CHECK_THROWS_WITH(arch::build_arch(doc(text)),
                      Contains("test.json: " + key + ": ") && Contains(what));
  };
  // Memory: outstanding x burst_bytes and latencies stay exact in 64 bits.
  const std::string ideal = R"({"engine": "ideal", "peak_macs_per_cycle": 8, "dram": )";
  fails_with(ideal + R"({"bandwidth": 4, "latency_cycles": 4294967297}})", "/dram/latency_cycles",
             "must be at most 2^32, got 4294967297");
  fails_with(ideal + R"({"bandwidth": 4, "outstanding": 1048577}})", "/dram/outstanding",
             "must be at most 2^20");
  fails_with(ideal + R"({"bandwidth": 4, "burst_bytes": 9007199254740992}})", "/dram/burst_bytes",
             "must be at most 2^30");
  // The bounds themselves are accepted.
  const auto at_bounds = arch::build_arch(
      doc(ideal + R"({"bandwidth": 4, "latency_cycles": 4294967296, "outstanding": 1048576,
                  "burst_bytes": 1073741824}})"));
  CHECK(at_bounds.engine->memory().channels.at(0).latency_cycles == arch::u64{1} << 32);
  // Eyeriss: words of at most 64 bits, scratch pads of at most 2^20 words.
  fails_with(R"({"engine": "eyeriss", "eyeriss": {"word_bits": 65}})", "/eyeriss/word_bits",
             "must be at most 64, got 65");
  fails_with(R"({"engine": "eyeriss", "eyeriss": {"filter_spad_words": 9007199254740992}})",
             "/eyeriss/filter_spad_words", "must be at most 1048576");
  // Bit Fusion: operand and sum widths of at most 64 bits, plans of at most 2^20 tiles.
  fails_with(R"({"engine": "bitfusion", "bitfusion": {"brick_bits": 128, "fused_bits": 256}})",
             "/bitfusion/brick_bits", "must be at most 64, got 128");
  fails_with(R"({"engine": "bitfusion", "bitfusion": {"fused_bits": 4611686018427387904}})",
             "/bitfusion/fused_bits", "beyond the accepted range");
  fails_with(R"({"engine": "bitfusion", "bitfusion": {"fused_bits": 128}})",
             "/bitfusion/fused_bits", "must be at most 64, got 128");
  fails_with(R"({"engine": "bitfusion", "bitfusion": {"psum_bits": 65}})", "/bitfusion/psum_bits",
             "must be at most 64");
  fails_with(R"({"engine": "bitfusion", "bitfusion": {"max_plan_tiles": 1099511627776}})",
             "/bitfusion/max_plan_tiles", "must be at most 1048576");
}
