// Running the `tessera` command line in-process from tests (the executable's own main is a thin
// wrapper around cli::run).
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "explorer/results_log.hpp"

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

// A results log's entries by index, without the wall time (the only field allowed to differ
// between runs); throws when an index appears twice (a point evaluated twice).
inline std::map<std::uint64_t, nlohmann::json> log_by_index(const std::string& log) {
  std::map<std::uint64_t, nlohmann::json> out;
  for (const auto& e : explorer::read_log(log)) {
    auto j = explorer::to_json(e);
    j.erase("wall_s");
    if (!out.emplace(e.index, j).second)
      throw std::logic_error(log + ": index " + std::to_string(e.index) + " logged twice");
  }
  return out;
}

}  // namespace tessera::test
