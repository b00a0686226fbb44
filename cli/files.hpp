// Writing output files: the only place besides the results log (cli/results_file.hpp) where
// Tessera writes to disk.
#pragma once

#include <string>

namespace tessera::cli {

// Writes `text` to `path` through a temporary file and a rename, so an existing file is either
// left as it was or replaced whole, never truncated by a failed run.
void write_file(const std::string& path, const std::string& text);

}  // namespace tessera::cli
