// Random numbers, arrival times and percentiles shared by the serving loops (serve.cpp for
// requests of one pass through a network, llm_serve.cpp for LLM requests of many iterations).
//
// Owns nothing but these helpers; includes serving/scenario.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "serving/scenario.hpp"

namespace tessera::serving {

// The standard fixes mt19937_64's sequence; the conversions to doubles are our own, so a seed
// gives the same numbers with any standard library.
struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  double uniform() { return static_cast<double>(g() >> 11) * 0x1.0p-53; }  // [0, 1)
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
};

// splitmix64's finaliser: independent seeds for each stream and purpose.
std::uint64_t mix(std::uint64_t x);

// A stream's arrival times: at most `limit` of them, all before `until`.
std::vector<double> arrival_times(const Arrival& a, Rng& rng, std::int64_t limit, double until);

// Linear interpolation between order statistics (NumPy's default), on sorted values.
double percentile(const std::vector<double>& sorted, double q);

}  // namespace tessera::serving
