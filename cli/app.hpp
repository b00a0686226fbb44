// The `tessera` command line, as a function so tests run it in-process. Only this layer reads
// arguments and writes files; everything it calls returns values.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tessera::cli {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInputError = 1;  // bad file, config, workload or option value
inline constexpr int kExitNoResults = 2;   // a sweep or search where every point failed, or a
                                           // log with no ok entry to rank
inline constexpr int kExitInternal = 3;    // a bug: please report

// Runs the CLI with argv-style arguments (args[0] is the program name). Normal output goes to
// `out`, messages and errors to `err`. Never throws.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace tessera::cli
