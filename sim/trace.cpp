#include "sim/trace.hpp"

#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tessera::sim {

std::string chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                         double clock_hz) {
  using u64 = std::uint64_t;
  const auto quoted = [](const std::string& s) { return nlohmann::json(s).dump(); };
  // Layer names as JSON strings, quoted once; a layer without a name by its index.
  std::vector<std::string> layers;
  for (const auto& n : layer_names) layers.push_back(quoted(n));
  for (const auto& s : trace.spans)
    while (layers.size() <= s.layer) layers.push_back(quoted(std::to_string(layers.size())));

  // Track ids, the same in every layer: compute units first, then channels, each channel's
  // in-flight tracks after it. In-flight slices go on the first of their channel's tracks whose
  // last slice has ended (first fit keeps every track's slices disjoint in any order).
  std::map<std::string, std::vector<u64>> lanes_free_at;  // channel -> each in-flight track's end
  std::vector<std::size_t> lane(trace.spans.size(), 0);
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const auto& s = trace.spans[i];
    if (s.track.rfind("compute", 0) == 0 || s.latency == 0) continue;
    auto& free_at = lanes_free_at[s.track];
    std::size_t l = 0;
    while (l < free_at.size() && free_at[l] > s.end_cycle) ++l;
    if (l == free_at.size()) free_at.push_back(0);
    free_at[l] = s.end_cycle + s.latency;
    lane[i] = l + 1;
  }
  std::map<std::pair<std::string, std::size_t>, int> tids;  // (track, in-flight lane or 0)
  for (int pass = 0; pass < 2; ++pass)  // compute tracks first
    for (const auto& s : trace.spans)
      if ((s.track.rfind("compute", 0) == 0) == (pass == 0)) tids.emplace(std::pair{s.track, 0}, 0);
  for (const auto& [channel, free_at] : lanes_free_at)
    for (std::size_t l = 1; l <= free_at.size(); ++l) tids.emplace(std::pair{channel, l}, 0);
  int next = 1;
  for (int pass = 0; pass < 2; ++pass)
    for (auto& [key, tid] : tids)
      if ((key.first.rfind("compute", 0) == 0) == (pass == 0)) tid = next++;

  // Instants as whole nanoseconds, written as microseconds with three decimals (exact).
  const double ns_per_cycle = 1e9 / clock_hz;
  const auto ns = [&](u64 cycle) { return std::llround(static_cast<double>(cycle) * ns_per_cycle); };
  const auto us = [](long long n) { return fmt::format("{}.{:03}", n / 1000, n % 1000); };

  std::string out = R"({"displayTimeUnit":"ns",)";
  if (trace.dropped)
    out += fmt::format(R"("otherData":{{"note":"spans after the first {} left out","dropped_spans":{}}},)",
                       trace.spans.size(), trace.dropped);
  out += R"("traceEvents":[)";
  bool first = true;
  const auto event = [&](const std::string& e) {
    out += first ? "" : ",";
    out += e;
    first = false;
  };
  // Metadata: each layer that has spans is a process named after it, in run order, with the
  // tracks it uses.
  std::map<std::size_t, std::map<int, std::string>> used;  // layer -> tid -> track name
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const auto& s = trace.spans[i];
    used[s.layer][tids.at({s.track, 0})] = s.track;
    if (lane[i])
      used[s.layer][tids.at({s.track, lane[i]})] = s.track + " in flight " + std::to_string(lane[i]);
  }
  for (const auto& [layer, tracks] : used) {
    const std::size_t pid = layer + 1;
    event(fmt::format(R"({{"name":"process_name","ph":"M","pid":{},"args":{{"name":{}}}}})", pid,
                      layers[layer]));
    event(fmt::format(R"({{"name":"process_sort_index","ph":"M","pid":{},"args":{{"sort_index":{}}}}})",
                      pid, layer));
    for (const auto& [tid, name] : tracks) {
      event(fmt::format(R"({{"name":"thread_name","ph":"M","pid":{},"tid":{},"args":{{"name":{}}}}})",
                        pid, tid, quoted(name)));
      event(fmt::format(R"({{"name":"thread_sort_index","ph":"M","pid":{},"tid":{},"args":{{"sort_index":{}}}}})",
                        pid, tid, tid));
    }
  }
  const auto slice = [&](std::string_view name, std::string_view cat, std::size_t pid, int tid,
                         u64 start, u64 end, const TraceSpan& s) {
    const long long t0 = ns(start), t1 = ns(end);
    const std::string bytes = cat == "compute" ? "" : fmt::format(R"(,"bytes":{})", s.bytes);
    event(fmt::format(R"({{"name":"{}","cat":"{}","ph":"X","pid":{},"tid":{},"ts":{},"dur":{},)"
                      R"("args":{{"layer":{},"tile":{},"start_cycle":{},"cycles":{}{}}}}})",
                      name, cat, pid, tid, us(t0), us(t1 - t0), layers[s.layer], s.tile, start,
                      end - start, bytes));
  };
  for (std::size_t i = 0; i < trace.spans.size(); ++i) {
    const auto& s = trace.spans[i];
    const std::size_t pid = s.layer + 1;
    if (s.track.rfind("compute", 0) == 0) {
      slice("compute", "compute", pid, tids.at({s.track, 0}), s.start_cycle, s.end_cycle, s);
      continue;
    }
    slice(s.write ? "write" : "read", "dram", pid, tids.at({s.track, 0}), s.start_cycle,
          s.end_cycle, s);
    if (lane[i])
      slice(s.write ? "write in flight" : "read in flight", "dram.latency", pid,
            tids.at({s.track, lane[i]}), s.end_cycle, s.end_cycle + s.latency, s);
  }
  out += "]}\n";
  return out;
}

}  // namespace tessera::sim
