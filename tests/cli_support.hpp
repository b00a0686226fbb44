// Running the `tessera` command line in-process from tests (the executable's own main is a thin
// wrapper around cli::run).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/app.hpp"

namespace tessera::test {

struct CliResult {
  int code;
  std::string out, err;
};

// `args` without the program name.
inline CliResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "tessera");
  std::ostringstream out, err;
  const int code = cli::run(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace tessera::test
