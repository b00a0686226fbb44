// The evaluator pools this build has: the built-in ones, and "mpi" when Tessera is built with
// OpenMPI (TESSERA_WITH_MPI), registered here since the MPI library is optional.
#pragma once

#include "explorer/pool.hpp"

namespace tessera::cli {

const explorer::PoolRegistry& evaluator_pools();

}  // namespace tessera::cli
