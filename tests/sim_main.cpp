// Catch2 v2 runner for the tests that link SystemC: libsystemc.so defines main() and calls
// sc_main, so the Catch2 session runs from here. Kept alone: the single header is slow to compile.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <systemc>

#include "sim/systemc/tile_sim.hpp"

int sc_main(int argc, char* argv[]) {
  tessera::sim::systemc::register_fidelity();
  return Catch::Session().run(argc, argv);
}
