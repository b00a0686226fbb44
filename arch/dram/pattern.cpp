#include "arch/dram/pattern.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>

namespace tessera::arch::dram {

namespace {

// Tiles move whole rows of the matrix.
bool whole_rows(const dataflows::Layout& l) { return l.run == 0 || l.run >= l.pitch; }
// One transfer right after the other in memory.
bool contiguous(const dataflows::Layout& l) { return l.window == 0 && whole_rows(l); }

constexpr u64 kSyntheticBytes = u64{1} << 20;

}  // namespace

Region region(const Spec& spec, u64 stream) {
  const Organisation& o = spec.org;
  const u64 capacity = u64{o.ranks} * o.banks() * o.rows * o.columns * o.data_bits / 8;
  const u64 bytes = capacity / kRegions;
  return {(stream % kRegions) * bytes, bytes};
}

u64 window_offset(const dataflows::Layout& l, u64 row, u64 column) {
  const u64 origin = l.across > 0 ? row / l.across * l.down + row % l.across * l.step : row * l.step;
  return origin + column / l.window * l.line + column % l.window;
}

Footprint Footprint::runs(u64 first, u64 n) const {
  Footprint f = *this;
  const u64 r = std::max<u64>(run, 1);
  f.bytes = std::min(n * r, bytes - std::min(bytes, first * r));
  if (window > 0) f.row += first;
  else f.address += first * pitch;
  return f;
}

Walk::Walk(const dataflows::Layout& layout, const Region& region)
    : layout_(layout),
      base_(region.base),
      limit_(layout.extent > 0 ? std::min(layout.extent, region.bytes) : region.bytes) {}

Footprint Walk::next(u64 bytes) {
  const u64 limit = limit_;
  const dataflows::Layout& l = layout_;
  if (l.window > 0 && l.pitch > 0) {
    // Rows are windows: band_ counts rows. A tile moves `run` bytes of each of its rows (the
    // whole window when contiguous), rows after the previous tile's.
    const bool whole = whole_rows(l);
    const u64 run = whole ? l.pitch : l.run;
    const u64 rows = (bytes + run - 1) / run;
    // A tile that would start past the last window reads the tensor again from its start.
    if ((l.windows > 0 && band_ >= l.windows) || window_offset(l, band_, column_) >= limit)
      band_ = 0, column_ = 0;
    Footprint f{base_, bytes, run, l.pitch, band_, column_, l.window, l.line, l.step, l.across, l.down, limit};
    column_ += run;
    if (whole || column_ + run > l.pitch) {
      column_ = 0;
      band_ += rows;
    }
    return f;
  }
  if (contiguous(l)) {
    if (band_ + bytes > limit) band_ = 0;  // the tensor read again from its start
    const Footprint f{base_ + band_, bytes, std::max<u64>(bytes, 1), std::max<u64>(bytes, 1)};
    band_ += bytes;
    return f;
  }
  const u64 run = l.run, pitch = l.pitch;
  const u64 rows = (bytes + run - 1) / run;
  if (rows > 0 && band_ + (rows - 1) * pitch + run > limit) band_ = 0, column_ = 0;
  const Footprint f{base_ + band_ + column_, bytes, run, pitch};
  column_ += run;
  if (column_ + run > pitch) {  // the next tile starts the next band of rows
    column_ = 0;
    band_ += rows * pitch;
  }
  return f;
}

void append_requests(const Spec& spec, const Footprint& f, bool write, u64 arrival,
                     std::vector<Request>& out) {
  if (f.bytes == 0) return;
  const u64 access = spec.org.access_bytes();
  const u64 run = std::max<u64>(f.run, 1);
  const std::size_t first = out.size();
  // Bytes [start, start + length) of memory, access by access.
  const auto range = [&](u64 start, u64 length) {
    for (u64 a = start / access; a <= (start + length - 1) / access; ++a) {
      // Runs closer than an access share it.
      if (out.size() > first && out.back().address == a * access) continue;
      out.push_back({a * access, write, arrival});
    }
  };
  if (f.window > 0) {
    dataflows::Layout l;
    l.window = f.window, l.line = f.line, l.step = f.step, l.across = f.across, l.down = f.down;
    for (u64 done = 0, row = f.row; done < f.bytes; done += run, ++row) {
      const u64 end = f.column + std::min(run, f.bytes - done);
      for (u64 c = f.column; c < end;) {  // cut where the window's lines end
        const u64 piece = std::min(end, (c / f.window + 1) * f.window) - c;
        u64 at = window_offset(l, row, c);
        if (f.extent > 0 && at + piece > f.extent) at = std::min(at % f.extent, f.extent - std::min(piece, f.extent));
        range(f.address + at, piece);
        c += piece;
      }
    }
    return;
  }
  for (u64 done = 0, start = f.address; done < f.bytes; done += run, start += f.pitch)
    range(start, std::min(run, f.bytes - done));
}

std::string_view pattern_class(const Pattern& p) {
  if (p.ports.empty()) return "idle";
  if (p.ports.size() > 1) return "interleaved";
  return contiguous(p.ports.front().layout) ? "streaming" : "strided";
}

Pattern plan_pattern(const dataflows::TilePlan& plan, std::size_t channel) {
  const std::vector<u64> times = plan.multiplicities();
  Pattern out;
  std::vector<u64> transfers;
  for (std::size_t p = 0; p < plan.ports.size(); ++p) {
    if (plan.ports[p].channel != channel) continue;
    u64 n = 0, bytes = 0;
    for (std::size_t r = 0; r < plan.tiles.size(); ++r)
      if (const auto& t = plan.tiles[r]; t.bytes[p] > 0) {
        n += times[r] * t.count;
        bytes += times[r] * t.count * t.bytes[p];
      }
    if (n == 0) continue;
    PortPattern pp;
    pp.write = plan.ports[p].direction == dataflows::Direction::write;
    pp.transfer = (bytes + n - 1) / n;
    pp.layout = plan.ports[p].layout;
    out.ports.push_back(pp);
    transfers.push_back(n);
  }
  const u64 most = transfers.empty() ? 0 : *std::max_element(transfers.begin(), transfers.end());
  for (std::size_t i = 0; i < transfers.size(); ++i)
    out.ports[i].per_1024 = std::max<u64>(
        1, static_cast<u64>(static_cast<double>(transfers[i]) / static_cast<double>(most) * 1024.0 + 0.5));
  return out;
}

double PatternRun::bytes_per_cycle() const {
  return stats.cycles ? static_cast<double>(useful_bytes) / static_cast<double>(stats.cycles) : 0.0;
}

double PatternRun::port_bytes_per_cycle(std::size_t i) const {
  return port_cycles.at(i) ? static_cast<double>(port_bytes.at(i)) / static_cast<double>(port_cycles[i])
                           : bytes_per_cycle();
}

namespace {

PatternRun run_pattern(const Spec& spec, const Pattern& pattern) {
  PatternRun out;
  if (pattern.ports.empty()) return out;
  if (pattern.ports.size() == 1 && !pattern.ports[0].write && contiguous(pattern.ports[0].layout)) {
    out.stats = sequential_stream_stats(spec);
    out.useful_bytes = out.stats.bytes;
    out.port_bytes = {out.stats.bytes};
    out.port_cycles = {out.stats.cycles};
    return out;
  }
  Controller channel(spec);
  std::vector<Walk> walks;
  std::vector<u64> credit;
  for (std::size_t i = 0; i < pattern.ports.size(); ++i) {
    walks.emplace_back(pattern.ports[i].layout, region(spec, i + 1));
    credit.push_back(1024 - std::min<u64>(pattern.ports[i].per_1024, 1024));  // all start at once
  }
  std::vector<Request> requests;
  out.port_bytes.assign(pattern.ports.size(), 0);
  out.port_cycles.assign(pattern.ports.size(), 0);
  u64 last = 0;
  while (out.useful_bytes < kSyntheticBytes) {
    for (std::size_t i = 0; i < pattern.ports.size(); ++i) {
      const PortPattern& p = pattern.ports[i];
      credit[i] += p.per_1024;
      if (credit[i] < 1024) continue;
      credit[i] -= 1024;
      const Footprint f = walks[i].next(std::min(std::max<u64>(p.transfer, 1), kSyntheticBytes));
      requests.clear();
      append_requests(spec, f, p.write, 0, requests);
      const u64 end = std::max(last, channel.run(requests));
      out.port_cycles[i] += end - last;
      out.port_bytes[i] += f.bytes;
      last = end;
      out.useful_bytes += f.bytes;
    }
  }
  out.stats = channel.stats();
  return out;
}

std::vector<u64> key_of(const Pattern& p) {
  std::vector<u64> k;
  for (const auto& port : p.ports)
    k.insert(k.end(), {u64{port.write}, port.transfer, port.per_1024, port.layout.run,
                       port.layout.pitch, port.layout.extent});
  return k;
}

}  // namespace

const PatternRun& pattern_run(const Spec& spec, const Pattern& pattern) {
  static std::mutex mutex;
  // Lists and maps: references handed out stay valid as entries are added.
  static std::list<std::pair<Spec, std::map<std::vector<u64>, PatternRun>>> known;
  const std::vector<u64> key = key_of(pattern);
  const auto find = [&]() -> const PatternRun* {
    for (auto& [s, runs] : known)
      if (s == spec) {
        const auto it = runs.find(key);
        return it == runs.end() ? nullptr : &it->second;
      }
    return nullptr;
  };
  {
    std::lock_guard lock(mutex);
    if (const PatternRun* r = find()) return *r;
  }
  PatternRun run = run_pattern(spec, pattern);  // outside the lock: threads time other layers
  std::lock_guard lock(mutex);
  if (const PatternRun* r = find()) return *r;
  for (auto& [s, runs] : known)
    if (s == spec) return runs.emplace(key, std::move(run)).first->second;
  return known.emplace_back(spec, std::map<std::vector<u64>, PatternRun>{})
      .second.emplace(key, std::move(run))
      .first->second;
}

}  // namespace tessera::arch::dram
