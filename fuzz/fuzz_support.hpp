// What every fuzz target shares: the bytes as a file (most readers take a path, as the CLI
// calls them), and the oracle. A reader may answer bad bytes only with an InputError or
// UnsupportedError whose message is one line naming the file; a crash, a sanitizer report, a
// hang, running out of memory, another exception or a message that does not say where is a
// finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "common/error.hpp"

namespace tessera::fuzz {

// A folder of this process's own under the temporary directory, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir()
        : path(std::filesystem::temp_directory_path() /
               ("tessera_fuzz_" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// Copies a shipped file (path from the source tree) into the scratch folder as `name`, for
// inputs that name files beside them.
inline void copy_beside(const char* shipped, const char* name) {
  std::filesystem::copy_file(std::filesystem::path(TESSERA_SOURCE_DIR) / shipped, scratch_dir() / name,
                             std::filesystem::copy_options::overwrite_existing);
}

// Writes the input to `name` in the scratch folder and returns its path.
inline std::string as_file(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const auto path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

[[noreturn]] inline void finding(const char* kind, const std::string& message) {
  std::fprintf(stderr, "fuzz finding: %s: %s\n", kind, message.c_str());
  std::abort();
}

// Runs `read`; an InputError or UnsupportedError must be one line that contains `names`
// (the file or the place the caller gave the reader). Other exceptions escape to libFuzzer,
// which reports them as crashes.
template <class Read>
int expect_clean(std::string_view names, Read&& read) {
  const auto check = [&](const std::exception& e) {
    const std::string_view what = e.what();
    if (what.find(names) == std::string_view::npos)
      finding("the message does not name the input", e.what());
    if (what.find('\n') != std::string_view::npos) finding("the message is not one line", e.what());
  };
  try {
    read();
  } catch (const InputError& e) {
    check(e);
  } catch (const UnsupportedError& e) {
    check(e);
  }
  return 0;
}

}  // namespace tessera::fuzz
