#include "sim/metrics.hpp"

#include <algorithm>

namespace tessera::sim {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

const std::vector<Metric>& metric_table() {
  using V = const std::map<std::string, double>&;
  static const std::vector<Metric> table = {
      {"cycles", "cycle", Direction::minimize, "cycles",
       Combine::per_task, [](const Summary& s) { return static_cast<double>(s.cycles); }},
      {"latency_s", "s", Direction::minimize, "latency",
       Combine::max, [](const Summary& s) { return s.latency_s; }},
      {"energy_pj", "pJ", Direction::minimize, "energy", Combine::sum,
       [](const Summary& s) { return s.energy_pj; }},
      {"area_mm2", "mm²", Direction::minimize, "area", Combine::sum,
       [](const Summary& s) { return s.area_mm2; }},
      {"utilization", "1", Direction::maximize,
       "utilization", Combine::per_task,
       [](const Summary& s) { return s.utilization; }},
      {"macs", "MAC", Direction::maximize, "multiply-accumulates", Combine::sum,
       [](const Summary& s) { return static_cast<double>(s.macs); }},
      {"throughput_macs_per_s", "MAC/s", Direction::maximize, "throughput",
       Combine::derived, nullptr, [](V v) { return ratio(v.at("macs"), v.at("latency_s")); }},
      {"edp_pj_s", "pJ·s", Direction::minimize, "energy-delay product", Combine::derived,
       nullptr, [](V v) { return v.at("energy_pj") * v.at("latency_s"); }},
      {"power_w", "W", Direction::minimize, "average power",
       Combine::derived, nullptr,
       [](V v) { return ratio(v.at("energy_pj") * 1e-12, v.at("latency_s")); }},
      // A serving run's (tessera serve): over every request of every stream. Its "utilization"
      // is the row above: the units' busy time over the run's span, averaged over the units.
      {"mean_latency_s", "s", Direction::minimize, "serving: mean request latency", Combine::serving},
      {"p50_latency_s", "s", Direction::minimize, "serving: median request latency", Combine::serving},
      {"p95_latency_s", "s", Direction::minimize, "serving: 95th percentile request latency",
       Combine::serving},
      {"p99_latency_s", "s", Direction::minimize, "serving: 99th percentile request latency",
       Combine::serving},
      {"slo_satisfaction", "1", Direction::maximize,
       "serving: fraction of requests done within their SLO", Combine::serving},
      {"throughput_rps", "request/s", Direction::maximize,
       "serving: requests done per second of the run", Combine::serving},
      {"energy_per_request_pj", "pJ", Direction::minimize, "serving: energy per request",
       Combine::serving},
      // LLM serving runs only: time to first token and per output token after the first.
      {"mean_ttft_s", "s", Direction::minimize, "serving, LLM: mean time to first token", Combine::serving},
      {"p50_ttft_s", "s", Direction::minimize, "serving, LLM: median time to first token", Combine::serving},
      {"p99_ttft_s", "s", Direction::minimize, "serving, LLM: 99th percentile time to first token",
       Combine::serving},
      {"mean_tpot_s", "s", Direction::minimize, "serving, LLM: mean time per output token", Combine::serving},
      {"p50_tpot_s", "s", Direction::minimize, "serving, LLM: median time per output token", Combine::serving},
      {"p99_tpot_s", "s", Direction::minimize, "serving, LLM: 99th percentile time per output token",
       Combine::serving},
      {"output_tokens_per_s", "token/s", Direction::maximize,
       "serving, LLM: output tokens per second of the run", Combine::serving},
  };
  return table;
}

const Metric* find_metric(std::string_view name) {
  const auto& t = metric_table();
  const auto it = std::find_if(t.begin(), t.end(), [&](const Metric& m) { return m.name == name; });
  return it == t.end() ? nullptr : &*it;
}

std::map<std::string, double> metric_values(const Summary& summary) {
  std::map<std::string, double> out;
  for (const Metric& m : metric_table())
    if (m.of_summary) out[std::string(m.name)] = m.of_summary(summary);
  for (const Metric& m : metric_table())
    if (m.of_values) out[std::string(m.name)] = m.of_values(out);
  return out;
}

std::map<std::string, double> combine_metric_values(
    const std::vector<std::map<std::string, double>>& tasks) {
  std::map<std::string, double> out;
  for (const Metric& m : metric_table()) {
    if (m.combine != Combine::max && m.combine != Combine::sum) continue;
    double v = 0;
    for (const auto& t : tasks)
      v = m.combine == Combine::max ? std::max(v, t.at(std::string(m.name)))
                                    : v + t.at(std::string(m.name));
    out[std::string(m.name)] = v;
  }
  for (const Metric& m : metric_table())
    if (m.combine == Combine::derived) out[std::string(m.name)] = m.of_values(out);
  return out;
}

std::string_view to_string(Direction d) { return d == Direction::minimize ? "min" : "max"; }

}  // namespace tessera::sim
