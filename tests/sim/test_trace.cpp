// The Perfetto trace of a SystemC run, parsed back: on every track (a process and thread id)
// slices are disjoint or properly nested, which trace viewers require (pipelined transfers used
// to overlap partly on their channel's track); each layer is its own process named after it;
// every track used has a name that says what it shows. Times are checked both in the cycles the
// slices carry and in the nanoseconds a viewer reads.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "sim/simulate.hpp"
#include "sim/trace.hpp"
#include "test_support.hpp"

using namespace tessera;

namespace {

struct Slice {
  long long start, end;
};

// Disjoint or nested: sorted by start (longest first), each slice starts after the enclosing
// open ones end, or ends inside the innermost one still open.
bool well_nested(std::vector<Slice> slices, std::string& why) {
  std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  std::vector<Slice> open;
  for (const auto& s : slices) {
    while (!open.empty() && open.back().end <= s.start) open.pop_back();
    if (!open.empty() && s.end > open.back().end) {
      why = "[" + std::to_string(s.start) + ", " + std::to_string(s.end) + ") overlaps [" +
            std::to_string(open.back().start) + ", " + std::to_string(open.back().end) + ")";
      return false;
    }
    open.push_back(s);
  }
  return true;
}

}  // namespace

TEST_CASE("a SystemC trace has well-nested slices on every track and a track group per layer",
          "[sim][systemc][trace]") {
  // A slow, long-latency memory: transfers pipeline (the next leaves its channel before the
  // previous has landed), the case that used to overlap on one track. Clock 700 MHz: cycles are
  // not whole nanoseconds.
  const nlohmann::json cfg = {{"engine", "systolic"},
                              {"clock", 700},
                              {"systolic", {{"rows", 8}, {"cols", 8}, {"dataflow", "os"}}},
                              {"dram", {{"bandwidth", 4}, {"latency_cycles", 100},
                                        {"channels", "per_operand"}}},
                              {"fusion", false}};
  const auto arch = arch::build_arch({"t.json", cfg});
  const auto graph = test::conv_relu_graph();
  sim::Trace trace;
  const auto layers = sim::simulate(*arch.engine, graph, "systemc", &trace);
  REQUIRE(layers.size() == 2);
  const auto json = nlohmann::json::parse(sim::chrome_trace(trace, {"conv", "relu"}, 700e6));

  std::map<int, std::string> process_names;
  std::map<std::pair<int, int>, std::string> track_names;
  std::map<std::pair<int, int>, std::vector<Slice>> cycles, nanoseconds;
  std::map<std::string, std::set<int>> pids_of_layer;
  std::size_t slices = 0;
  for (const auto& e : json.at("traceEvents")) {
    const int pid = e.at("pid");
    if (e.at("ph") == "M") {
      const auto name = e.at("args").contains("name") ? e.at("args").at("name").get<std::string>() : "";
      if (e.at("name") == "process_name") process_names[pid] = name;
      if (e.at("name") == "thread_name") track_names[{pid, e.at("tid").get<int>()}] = name;
      continue;
    }
    REQUIRE(e.at("ph") == "X");
    ++slices;
    const std::pair<int, int> track{pid, e.at("tid").get<int>()};
    const auto& a = e.at("args");
    const auto start = a.at("start_cycle").get<long long>(), n = a.at("cycles").get<long long>();
    cycles[track].push_back({start, start + n});
    const auto ts = e.at("ts").get<double>(), dur = e.at("dur").get<double>();  // microseconds
    const long long t0 = std::llround(ts * 1000);
    nanoseconds[track].push_back({t0, t0 + std::llround(dur * 1000)});
    pids_of_layer[a.at("layer").get<std::string>()].insert(pid);
  }
  REQUIRE(slices > trace.spans.size());  // transfers with latency add an in-flight slice

  // A process per layer, named after it.
  REQUIRE(pids_of_layer.size() == 2);
  for (const auto& [layer, pids] : pids_of_layer) {
    REQUIRE(pids.size() == 1);
    CHECK(process_names.at(*pids.begin()) == layer);
  }
  CHECK(*pids_of_layer["conv"].begin() != *pids_of_layer["relu"].begin());

  // Every track named; disjoint or nested slices on each.
  std::size_t in_flight_tracks = 0;
  for (const auto& [track, list] : cycles) {
    INFO("pid " << track.first << " tid " << track.second);
    REQUIRE(track_names.count(track));
    const std::string& name = track_names.at(track);
    INFO(name);
    CHECK((name == "compute" || name.rfind("dram.", 0) == 0));
    in_flight_tracks += name.find(" in flight ") != std::string::npos;
    std::string why, why_ns;
    const bool nested = well_nested(list, why), nested_ns = well_nested(nanoseconds.at(track), why_ns);
    INFO(why << why_ns);
    CHECK(nested);
    CHECK(nested_ns);
  }
  // The latency of pipelined transfers needed more than one in-flight track per channel.
  CHECK(in_flight_tracks > 3);

  // The split loses nothing: each transfer is its channel's busy time plus the latency after it.
  std::uint64_t end = 0;
  for (const auto& s : trace.spans) end = std::max(end, s.end_cycle + s.latency);
  CHECK(end == layers[0].timing.cycles + layers[1].timing.cycles);
}
