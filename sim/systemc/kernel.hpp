// SystemC kernel glue. The SystemC kernel is process-global and not thread-safe: run one
// simulation per process at a time (the explorer uses worker processes for this fidelity).
#pragma once

namespace tessera::sim::systemc {

// Installs a fresh kernel context so the process can elaborate and run another simulation.
// Call before constructing a run's modules, after the previous run's modules are destroyed.
// Uses SystemC 2.3 internals (sc_curr_simcontext), not the IEEE 1666 API, hence kept here alone.
// Also re-applies the process-global report settings, which survive a reset.
void fresh_kernel();

}  // namespace tessera::sim::systemc
