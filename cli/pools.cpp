#include "cli/pools.hpp"

#ifdef TESSERA_WITH_MPI
#include "explorer/mpi/mpi_pool.hpp"
#endif

namespace tessera::cli {

const explorer::PoolRegistry& evaluator_pools() {
  static const explorer::PoolRegistry registry = [] {
    explorer::PoolRegistry r("evaluator pool");
    explorer::add_builtin_pools(r);
#ifdef TESSERA_WITH_MPI
    explorer::add_mpi_pool(r);
#endif
    return r;
  }();
  return registry;
}

}  // namespace tessera::cli
