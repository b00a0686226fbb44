#include "serving/sampling.hpp"

#include <algorithm>

namespace tessera::serving {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::vector<double> arrival_times(const Arrival& a, Rng& rng, std::int64_t limit, double until) {
  std::vector<double> out;
  const auto room = [&](double t) { return static_cast<std::int64_t>(out.size()) < limit && t < until; };
  switch (a.process) {
    case ArrivalProcess::trace:
      for (double t : a.times_s)
        if (room(t)) out.push_back(t);
      break;
    case ArrivalProcess::periodic:
      for (std::int64_t i = 0;; ++i) {
        const double t = a.offset_s + static_cast<double>(i) / a.rate_per_s;
        if (!room(t)) break;
        out.push_back(t);
      }
      break;
    case ArrivalProcess::poisson:
      for (double t = rng.exponential(1 / a.rate_per_s); room(t); t += rng.exponential(1 / a.rate_per_s))
        out.push_back(t);
      break;
    case ArrivalProcess::bursty: {
      const double on_rate = a.peak_ratio * a.rate_per_s;
      const double off_mean = a.burst_s * (a.peak_ratio - 1);
      double t = 0, on_end = rng.exponential(a.burst_s);
      while (true) {
        const double next = t + rng.exponential(1 / on_rate);
        if (next < on_end) {
          if (!room(next)) break;
          out.push_back(next);
          t = next;
        } else {  // the burst ends first: a quiet spell, then a new burst (memoryless)
          t = on_end + (off_mean > 0 ? rng.exponential(off_mean) : 0.0);
          on_end = t + rng.exponential(a.burst_s);
          if (!room(t)) break;
        }
      }
      break;
    }
  }
  return out;
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace tessera::serving
