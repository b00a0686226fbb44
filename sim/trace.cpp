#include "sim/trace.hpp"

#include <map>

namespace tessera::sim {

nlohmann::json chrome_trace(const Trace& trace, const std::vector<std::string>& layer_names,
                            double clock_hz) {
  const double us_per_cycle = 1e6 / clock_hz;
  std::map<std::string, int> tids;  // compute first, then the DRAM channels in name order
  tids["compute"] = 1;
  for (const auto& s : trace.spans)
    if (!tids.count(s.track)) tids.emplace(s.track, 0);
  int next = 2;
  for (auto& [track, tid] : tids)
    if (tid == 0) tid = next++;

  nlohmann::json events = nlohmann::json::array();
  events.push_back(
      {{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "accelerator"}}}});
  for (const auto& [track, tid] : tids)
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", tid},
                      {"args", {{"name", track}}}});
  for (const auto& s : trace.spans) {
    const std::string layer =
        s.layer < layer_names.size() ? layer_names[s.layer] : std::to_string(s.layer);
    nlohmann::json args = {{"layer", layer},
                           {"tile", s.tile},
                           {"start_cycle", s.start_cycle},
                           {"cycles", s.end_cycle - s.start_cycle}};
    std::string name = layer;
    if (s.track != "compute") {
      args["bytes"] = s.bytes;
      name = (s.write ? "write " : "read ") + layer;
    }
    events.push_back({{"name", name},
                      {"cat", s.track == "compute" ? "compute" : "dram"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", tids.at(s.track)},
                      {"ts", static_cast<double>(s.start_cycle) * us_per_cycle},
                      {"dur", static_cast<double>(s.end_cycle - s.start_cycle) * us_per_cycle},
                      {"args", std::move(args)}});
  }
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
}

}  // namespace tessera::sim
