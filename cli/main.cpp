// The tessera executable. libsystemc.so defines main() and calls sc_main(), so this is the entry.
#include <cstdlib>
#include <iostream>

#include <systemc>

#include "cli/app.hpp"

int sc_main(int argc, char* argv[]) {
  return tessera::cli::run(std::vector<std::string>(argv, argv + argc), std::cout, std::cerr);
}
