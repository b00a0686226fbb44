// The MPI evaluator pool (OpenMPI): `tessera sweep|explore ... --mpi` under mpirun or srun. Rank 0
// owns the space or search and the results log; every rank evaluates. Rank 0 hands out batches
// of points on demand (guided self-scheduling: large batches first, single points at the end, two
// batches in flight per worker so no worker waits for the next), evaluates small batches itself
// between messages, and reports each result as it arrives. Analytical points are evaluated on
// each rank's --jobs threads, SystemC points one at a time per process (batches of one).
// An optional library: the CLI links it and registers it when Tessera is built with MPI.
#pragma once

#include "explorer/pool.hpp"

namespace tessera::explorer {

// Adds "mpi". Creating the pool initialises MPI (MPI_Init_thread, funneled) and destroying it
// stops the workers and finalises MPI; a process creates at most one.
void add_mpi_pool(PoolRegistry& registry);

}  // namespace tessera::explorer
