// Registers the search algorithms built on libtorch (explorer/torch). The header includes no
// libtorch header, so callers compile without it.
#pragma once

#include "explorer/search.hpp"

namespace tessera::explorer {

void add_torch_search_algorithms(Registry<SearchAlgorithm>& registry);

}  // namespace tessera::explorer
