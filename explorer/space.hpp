// Design spaces: a base architecture config and workload, and parameters over any config path,
// each a list of values, a range or a power-of-two range. Format "tessera.space" version 1
// (docs/explorer.md). A point is a value per parameter; points are numbered by a deterministic
// enumeration so that shards, resumed runs and any number of threads agree on what point i is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/config.hpp"
#include "sim/timing.hpp"

namespace tessera::explorer {

struct Parameter {
  std::string path;                    // dotted config path, e.g. "systolic.rows"
  std::vector<nlohmann::json> values;  // every value it takes, in order
};

// A bound on a metric of every point: "area_mm2 <= 10", "throughput_macs_per_s >= 1e12".
struct Constraint {
  std::string metric;
  bool at_most = true;  // <=, else >=
  double bound = 0;
  std::string text;  // as written
};

struct DesignSpace {
  std::string name;
  std::string file;  // where it was read from, for messages
  arch::ArchDocument base;
  std::string workload_file;
  sim::Fidelity fidelity = sim::Fidelity::analytical;
  std::vector<Parameter> parameters;                     // in the file's key order (sorted)
  std::vector<std::pair<std::string, bool>> objectives;  // metric, minimise; in the file's order
  std::vector<Constraint> constraints;

  // Number of grid points (the product of the parameters' sizes).
  std::uint64_t grid_size() const;
  // Grid point `index` (mixed radix, first parameter slowest).
  nlohmann::json grid_point(std::uint64_t index) const;
  // The point at unit coordinates u (one per parameter, each in [0, 1)): value floor(u * size).
  nlohmann::json unit_point(const std::vector<double>& u) const;
  // Random point `index` of a run seeded with `seed`: each value drawn uniformly from its
  // parameter, from a generator seeded by (seed, index) alone.
  nlohmann::json random_point(std::uint64_t seed, std::uint64_t index) const;
};

// Reads and validates a space file; errors name the file and JSON path. Relative paths in it
// ("arch", "workload") are relative to the space file's folder.
DesignSpace read_space(const std::string& path);

// The architecture config of a point: the base document with each parameter set.
arch::ArchConfig point_config(const DesignSpace& space, const nlohmann::json& point);

}  // namespace tessera::explorer
