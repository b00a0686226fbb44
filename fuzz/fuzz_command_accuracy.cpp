// Fuzz target: the reader of an accuracy command's output (the `command` oracle: the last line
// of stdout is the accuracy). The first byte says whether the rest is only the tail of a longer
// output. What it accepts must be a plain decimal in [0, 100] that strtod reads as the same
// number; anything else must be an InputError, one line naming the command.
#include <cmath>
#include <cstdlib>
#include <string>

#include "explorer/oracle.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool truncated = (data[0] & 1) != 0;
  const std::string out(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string who = "accuracy command 'sh score.sh' ";
  return tessera::fuzz::expect_clean(who, [&] {
    const double v = tessera::explorer::parse_command_accuracy(out, truncated, who);
    if (!(v >= 0 && v <= 100)) tessera::fuzz::finding("accepted an accuracy outside [0, 100]", out);
    // The accepted line, read again independently: the last non-blank line, trimmed.
    std::string line = out;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
    const auto first = line.find_first_not_of(" \t\r\f\v");
    line = line.substr(first == std::string::npos ? line.size() : first);
    if (line.find_first_not_of("+-.0123456789") != std::string::npos)
      tessera::fuzz::finding("accepted a line that is not a plain decimal", line);
    char* end = nullptr;
    const double again = std::strtod(line.c_str(), &end);
    if (*end != '\0' || std::abs(again - v) > 0)
      tessera::fuzz::finding("accepted a line strtod reads otherwise", line);
  });
}
