// BOSHCODE (Tuli and Jha, CODEBench, ACM TECS 2023) as a search algorithm (explorer/boshcode.cpp,
// docs/explorer.md "BOSHCODE"), and the embedding of a space's points that its surrogate reads.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "explorer/search.hpp"
#include "explorer/space.hpp"

namespace tessera::explorer {

// A design: the index of each parameter's value, in the space's parameter order.
using Design = std::vector<std::uint32_t>;

// Whether a parameter belongs to the network branch of the surrogate (paths "network." and
// "workload."); the others form the accelerator branch.
bool network_parameter(const std::string& path);

// Each parameter with two or more values becomes columns of the embedding: a parameter with a
// non-numeric value (a string such as "nor_conv_3x3", a boolean) one column per value (one-hot),
// a numeric one a single column, its value's position in the list scaled to [0, 1] (for pow2
// ranges that is the log of the value). Network parameters' columns come first. Every column
// lies in [0, 1], the box GOBI searches.
class SpaceEncoding {
 public:
  explicit SpaceEncoding(const DesignSpace& space);
  std::size_t dim() const { return dim_; }
  std::size_t network_dim() const { return network_dim_; }

  // InputError when a value of the point is not one the space lists.
  Design design(const nlohmann::json& point) const;
  nlohmann::json point(const Design& d) const;
  std::vector<double> embed(const Design& d) const;
  // The nearest real design to an embedding: per parameter the largest one-hot column, or the
  // nearest position.
  Design snap(const std::vector<double>& x) const;
  Design random(std::mt19937_64& rng) const;

 private:
  struct Block {
    std::size_t parameter, column, width;
    bool one_hot;
  };
  const DesignSpace* space_;
  std::vector<Block> blocks_;
  std::size_t dim_ = 0, network_dim_ = 0;
};

// The algorithm, as registered in search_algorithms(): SearchOptions::population is its batch
// (queries per surrogate training, default 4). Needs the libtorch models module.
void boshcode(Evaluations& ev, const SearchOptions& o);

}  // namespace tessera::explorer
