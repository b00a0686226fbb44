#include "sim/trace.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tessera::sim {

std::string chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                         double clock_hz) {
  const double us_per_cycle = 1e6 / clock_hz;
  std::map<std::string, int> tids;  // compute first, then the DRAM channels in name order
  tids["compute"] = 1;
  for (const auto& s : trace.spans)
    if (!tids.count(s.track)) tids.emplace(s.track, 0);
  int next = 2;
  for (auto& [track, tid] : tids)
    if (tid == 0) tid = next++;
  const auto quoted = [](const std::string& s) { return nlohmann::json(s).dump(); };
  // Layer names as JSON strings, quoted once; a layer without a name by its index.
  std::vector<std::string> layers;
  for (const auto& n : layer_names) layers.push_back(quoted(n));
  for (const auto& s : trace.spans)
    while (layers.size() <= s.layer) layers.push_back(quoted(std::to_string(layers.size())));

  std::string out = R"({"displayTimeUnit":"ns",)";
  if (trace.dropped)
    out += fmt::format(R"("otherData":{{"note":"spans after the first {} left out","dropped_spans":{}}},)",
                       trace.spans.size(), trace.dropped);
  out += R"("traceEvents":[{"name":"process_name","ph":"M","pid":1,"args":{"name":"accelerator"}})";
  for (const auto& [track, tid] : tids)
    out += fmt::format(R"(,{{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":{}}}}})",
                       tid, quoted(track));
  for (const auto& s : trace.spans) {
    const bool compute = s.track == "compute";
    const std::string& name = layers[s.layer];
    const std::string bytes = compute ? "" : fmt::format(R"(,"bytes":{})", s.bytes);
    // The name of a transfer: "read LAYER" or "write LAYER", inside the layer's quotes.
    const std::string event =
        compute ? name : "\"" + std::string(s.write ? "write " : "read ") + name.substr(1);
    out += fmt::format(
        R"(,{{"name":{},"cat":"{}","ph":"X","pid":1,"tid":{},"ts":{},"dur":{},)"
        R"("args":{{"layer":{},"tile":{},"start_cycle":{},"cycles":{}{}}}}})",
        event, compute ? "compute" : "dram", tids.at(s.track),
        static_cast<double>(s.start_cycle) * us_per_cycle,
        static_cast<double>(s.end_cycle - s.start_cycle) * us_per_cycle, name, s.tile,
        s.start_cycle, s.end_cycle - s.start_cycle, bytes);
  }
  out += "]}\n";
  return out;
}

}  // namespace tessera::sim
