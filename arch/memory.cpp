#include "arch/memory.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "arch/dram/controller.hpp"
#include "common/checked.hpp"
#include "common/error.hpp"

namespace tessera::arch {

namespace {
// Ranges of the channel keys (docs/configs.md), far beyond any memory: a latency of 2^32 cycles
// (4 s at 1 GHz), a million requests in flight, bursts of 1 GiB.
constexpr std::int64_t kMaxLatencyCycles = std::int64_t{1} << 32;
constexpr std::int64_t kMaxOutstanding = std::int64_t{1} << 20;
constexpr std::int64_t kMaxBurstBytes = std::int64_t{1} << 30;
}  // namespace

double MemoryChannel::rate() const {
  if (std::isinf(bytes_per_cycle)) {
    if (latency_cycles == 0) return bytes_per_cycle;
    return static_cast<double>(outstanding * burst_bytes) / static_cast<double>(latency_cycles);
  }
  const double round_trip =
      static_cast<double>(latency_cycles) + static_cast<double>(burst_bytes) / bytes_per_cycle;
  return std::min(bytes_per_cycle, static_cast<double>(outstanding * burst_bytes) / round_trip);
}

u64 MemoryChannel::occupancy(u64 bytes) const {
  if (bytes == 0) return 0;
  const double r = rate();
  if (std::isinf(r)) return 0;
  return checked_ceil<u64>(static_cast<double>(bytes) / r, "cycle count");
}

std::size_t MemorySystem::channel_for(std::string_view port) const {
  std::optional<std::size_t> fallback;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    if (channels[c].ports.empty()) fallback = c;
    for (const auto& p : channels[c].ports)
      if (p == port) return c;
  }
  // Metadata travels beside its values: "weight_meta" on the channel of "weight" unless a
  // channel names it.
  constexpr std::string_view meta = "_meta";
  if (port.size() > meta.size() && port.substr(port.size() - meta.size()) == meta)
    return channel_for(port.substr(0, port.size() - meta.size()));
  if (fallback) return *fallback;
  if (form != ChannelForm::list) return 0;
  std::string listed;
  for (const auto& c : channels)
    for (const auto& p : c.ports) listed += (listed.empty() ? "" : ", ") + p;
  throw InputError(source + "no channel carries the port '" + std::string(port) +
                   "' a tile plan uses (the channels carry " + listed + "); name it in one "
                   "channel's ports");
}

void MemorySystem::assign(dataflows::TilePlan& plan) const {
  for (auto& p : plan.ports) p.channel = channel_for(p.name);
}

namespace {

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : dram::presets()) names.push_back(p.name);
  return names;
}

// A channel of model "detailed": the preset and its options; bandwidth and latency follow.
MemoryChannel read_detailed(ParamReader& r, double clock_hz, MemoryChannel c) {
  for (const char* key : {"bandwidth", "latency_cycles", "burst_bytes"})
    if (r.has(key))
      throw r.error(key, "comes from the DRAM preset with model 'detailed'; remove it");
  const std::optional<dram::Spec>& inherited = c.detailed;
  const auto names = preset_names();
  if (!inherited && !r.has("preset")) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw r.error("preset", "required with model 'detailed' (one of: " + list + ")");
  }
  dram::Spec s = dram::preset(r.choice("preset", names, inherited ? inherited->name : ""));
  if (inherited && inherited->name == s.name) s = *inherited;  // a listed channel keeps the object's options
  s.mapping = r.string("mapping", s.mapping);
  s.page = r.choice("page", {"open", "closed"}, s.page == dram::PagePolicy::open ? "open" : "closed") == "open"
               ? dram::PagePolicy::open
               : dram::PagePolicy::closed;
  s.scheduling = r.choice("scheduling", {"frfcfs", "fcfs"},
                          s.scheduling == dram::Scheduling::frfcfs ? "frfcfs" : "fcfs") == "frfcfs"
                     ? dram::Scheduling::frfcfs
                     : dram::Scheduling::fcfs;
  const std::int64_t depth = r.positive_integer("queue_depth", s.queue_depth);
  if (depth > 1024) throw r.error("queue_depth", "must be at most 1024, got " + std::to_string(depth));
  s.queue_depth = static_cast<unsigned>(depth);
  s.org.ranks = static_cast<unsigned>(r.positive_integer("ranks", s.org.ranks));  // validate() bounds it
  s.refresh = r.choice("refresh", {"all_bank", "per_bank"},
                       s.refresh == dram::Refresh::all_bank ? "all_bank" : "per_bank") == "all_bank"
                  ? dram::Refresh::all_bank
                  : dram::Refresh::per_bank;  // validate() refuses per_bank where the preset has none
  s.validate([&r](const std::string& key, const std::string& what) { return r.error(key, what); });
  // The engine's cycles per DRAM cycle convert the preset's rate and latency.
  const double dram_cycles_per_engine_cycle = 1e9 / s.timing.tck_ns / clock_hz;
  c.bytes_per_cycle = sustained_bytes_per_dram_cycle(s) * dram_cycles_per_engine_cycle;
  c.latency_cycles = static_cast<u64>(std::ceil(
      static_cast<double>(s.timing.rcd + s.timing.cl + s.timing.burst_cycles) / dram_cycles_per_engine_cycle));
  c.outstanding = static_cast<u64>(r.positive_integer("outstanding", std::int64_t(c.outstanding)));
  if (c.outstanding > static_cast<u64>(kMaxOutstanding))
    throw r.error("outstanding", "must be at most 2^20");
  c.burst_bytes = s.org.access_bytes();
  c.detailed = s;
  c.clock_hz = clock_hz;
  return c;
}

// A channel's timing keys; `defaults` fills the absent ones. An absent bandwidth is
// `bandwidth_default` ("" = required), or the default's when that is nullopt.
MemoryChannel read_channel(ParamReader& r, double clock_hz, const MemoryChannel& defaults,
                           const std::optional<std::string>& bandwidth_default) {
  MemoryChannel c = defaults;
  const std::string model =
      r.choice("model", {"simple", "detailed"}, defaults.detailed ? "detailed" : "simple");
  if (model == "detailed") return read_detailed(r, clock_hz, c);
  c.detailed.reset();
  if (r.is_string("bandwidth") && r.string("bandwidth") == "unlimited")
    c.bytes_per_cycle = std::numeric_limits<double>::infinity();
  else if (bandwidth_default || r.has("bandwidth"))
    c.bytes_per_cycle =
        r.bandwidth("bandwidth", bandwidth_default.value_or("")).bytes_per_cycle(clock_hz);
  // Ranges far beyond any memory, so that outstanding x burst_bytes and the cycle counts built
  // from latencies stay exact in 64 bits.
  const auto at_most = [&r](const char* key, std::int64_t v, std::int64_t max, const char* limit) {
    if (v > max)
      throw r.error(key, std::string("must be at most ") + limit + ", got " + std::to_string(v));
    return static_cast<u64>(v);
  };
  c.latency_cycles = at_most(
      "latency_cycles", r.non_negative_integer("latency_cycles", std::int64_t(c.latency_cycles)),
      kMaxLatencyCycles, "2^32");
  c.outstanding = at_most("outstanding",
                          r.positive_integer("outstanding", std::int64_t(c.outstanding)),
                          kMaxOutstanding, "2^20");
  c.burst_bytes = at_most("burst_bytes",
                          r.positive_integer("burst_bytes", std::int64_t(c.burst_bytes)),
                          kMaxBurstBytes, "2^30");
  return c;
}

// The listed form: every channel names itself and its ports; a port is carried once. The dram
// object's own timing keys are each channel's defaults (as with per_operand), so a shared config
// turns into a listed one with one override.
std::vector<MemoryChannel> read_channel_list(ParamReader& dram, double clock_hz) {
  const bool bandwidth = dram.has("bandwidth");  // else each channel must give its own
  const MemoryChannel defaults = read_channel(dram, clock_hz, MemoryChannel{}, std::nullopt);
  const std::size_t n = dram.array_size("channels");
  if (n == 0) throw dram.error("channels", "must list at least one channel");
  // Each channel carries a port of its own, and a tile plan has at most kMaxPorts ports (the
  // timers keep per-channel state in arrays of that size).
  if (n > dataflows::kMaxPorts)
    throw dram.error("channels", "lists " + std::to_string(n) + " channels, at most " +
                                     std::to_string(dataflows::kMaxPorts) +
                                     " (a tile plan has at most that many ports)");
  std::map<std::string, std::string> carried;  // port -> channel
  std::set<std::string> names;
  std::vector<MemoryChannel> out;
  for (std::size_t i = 0; i < n; ++i) {
    ParamReader item = dram.item("channels", i);
    const std::string name = item.string("name");
    if (name.empty()) throw item.error("name", "must not be empty");
    if (!names.insert(name).second)
      throw item.error("name", "channel '" + name + "' is listed twice");
    MemoryChannel c = read_channel(item, clock_hz, defaults,
                                   bandwidth ? std::nullopt : std::optional<std::string>(""));
    c.name = name;
    c.ports = item.strings("ports");
    if (c.ports.empty()) throw item.error("ports", "must name at least one tile-plan port");
    for (std::size_t p = 0; p < c.ports.size(); ++p) {
      const auto [it, fresh] = carried.emplace(c.ports[p], name);
      if (!fresh)
        throw InputError(json_location(item.file(), item.path_of("ports") + "/" +
                                                        std::to_string(p)) +
                         "port '" + c.ports[p] + "' is already carried by channel '" + it->second +
                         "'");
    }
    item.finish();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

MemorySystem read_memory(ParamReader& dram, double clock_hz, const MemoryDefaults& defaults) {
  MemorySystem m;
  m.capacity_bytes = dram.size_bytes("capacity", "16 GiB");
  if (dram.is_array("channels")) {
    if (!defaults.allow_per_operand) throw dram.error("channels", defaults.shared_only_reason);
    m.form = ChannelForm::list;
    m.source = json_location(dram.file(), dram.path_of("channels"));
    m.channels = read_channel_list(dram, clock_hz);
    return m;
  }
  const MemoryChannel c = read_channel(dram, clock_hz, MemoryChannel{}, defaults.bandwidth);
  const std::string channels = dram.choice("channels", {"shared", "per_operand"}, "shared");
  if (channels == "per_operand" && !defaults.allow_per_operand)
    throw dram.error("channels", defaults.shared_only_reason);
  m.form = channels == "per_operand" ? ChannelForm::per_operand : ChannelForm::shared;
  if (m.form == ChannelForm::shared) {
    m.channels = {c};
  } else {
    using namespace dataflows;
    MemoryChannel in = c, w = c, out = c;
    in.name = "dram.input";  // carries input and any port not named below
    w.name = "dram.weight";
    w.ports = {std::string(port::weight)};
    out.name = "dram.output";
    out.ports = {std::string(port::output), std::string(port::psum_in),
                 std::string(port::psum_out)};
    m.channels = {in, w, out};
  }
  return m;
}

double sustained_bytes_per_dram_cycle(const dram::Spec& spec) {
  return dram::sequential_stream_stats(spec).bytes_per_cycle();
}

namespace {
nlohmann::json channel_json(const MemoryChannel& c) {
  if (!c.detailed)
    return {{"bandwidth", bandwidth_json(c.bytes_per_cycle)},
            {"latency_cycles", c.latency_cycles},
            {"outstanding", c.outstanding},
            {"burst_bytes", c.burst_bytes}};
  const dram::Spec& s = *c.detailed;
  return {{"model", "detailed"},
          {"preset", s.name},
          {"mapping", s.mapping},
          {"page", s.page == dram::PagePolicy::open ? "open" : "closed"},
          {"scheduling", s.scheduling == dram::Scheduling::frfcfs ? "frfcfs" : "fcfs"},
          {"queue_depth", s.queue_depth},
          {"ranks", s.org.ranks},
          {"refresh", s.refresh == dram::Refresh::all_bank ? "all_bank" : "per_bank"},
          {"outstanding", c.outstanding}};
}
}  // namespace

nlohmann::json bandwidth_json(double bytes_per_cycle) {
  if (std::isinf(bytes_per_cycle)) return "unlimited";
  return bytes_per_cycle;
}

nlohmann::json memory_json(const MemorySystem& m) {
  if (m.form == ChannelForm::list) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : m.channels) {
      nlohmann::json j = channel_json(c);
      j["name"] = c.name;
      j["ports"] = c.ports;
      list.push_back(std::move(j));
    }
    return {{"channels", list}, {"capacity", m.capacity_bytes}};
  }
  nlohmann::json j = channel_json(m.channels.front());
  j["channels"] = m.form == ChannelForm::per_operand ? "per_operand" : "shared";
  j["capacity"] = m.capacity_bytes;
  return j;
}

}  // namespace tessera::arch
