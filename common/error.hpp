// Error types shared by every library. Each carries enough context (file, JSON path, node name)
// for the CLI to print one line that tells the user what to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace tessera {

// Bad user input: a file that cannot be read or parsed, an unknown key, an impossible value.
// what() is the full message, already naming where the problem is.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A valid input the model cannot handle (e.g. an operator kind an engine does not support).
class UnsupportedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tessera
