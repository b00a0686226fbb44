// Reading user files: the one place that opens an input named on the command line or inside a
// config (configs, workload files, settings, spaces, tables, results logs, ONNX models and their
// external data, .npy arrays). Only regular files are read (symbolic links followed): a
// directory, a device (/dev/zero), a pipe or a socket is refused before anything is read, so an
// input can never hang on a pipe or read until memory runs out. Each kind of file has a size
// limit, checked against the file's size before it is read. Errors are one line naming the file.
#pragma once

#include <cstdint>
#include <string>

namespace tessera {

// Size limits by kind of file (docs/testing.md, "Files").
inline constexpr std::uint64_t kTextFileLimit = std::uint64_t{256} << 20;  // JSON, CSV, .cfg
inline constexpr std::uint64_t kResultsLogLimit = std::uint64_t{4} << 30;
inline constexpr std::uint64_t kOnnxModelLimit = std::uint64_t{2} << 30;  // protobuf's own limit
inline constexpr std::uint64_t kOnnxExternalDataLimit = std::uint64_t{16} << 30;

// An input file opened for reading, after the checks: `path` names a regular file of at most
// `limit` bytes. `what` names the kind of file in messages ("file", "results log", "the
// NATS-Bench table"): "PATH: cannot open WHAT: No such file or directory", "PATH: is a
// directory, not a regular file", "PATH: is 300 MiB, more than the 256 MiB limit for a WHAT".
class InputFile {
 public:
  InputFile(const std::string& path, std::uint64_t limit, const std::string& what = "file");
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // Exactly `count` bytes from `offset` (an error if the file is shorter: it changed).
  std::string read(std::uint64_t offset, std::uint64_t count) const;
  // The whole file.
  std::string read_all() const { return read(0, size_); }

 private:
  std::string path_, what_;
  std::uint64_t size_ = 0;
  int fd_ = -1;
};

// The same checks without opening the file; returns its size.
std::uint64_t check_input_file(const std::string& path, std::uint64_t limit,
                               const std::string& what = "file");

// InputFile(path, limit, what).read_all().
std::string read_input_file(const std::string& path, std::uint64_t limit,
                            const std::string& what = "file");

// "a directory", "a character device", "a pipe (FIFO)", "a socket", "a block device", or
// "a file of an unknown type" for a stat st_mode that is not a regular file.
std::string file_type_name(unsigned mode);

// A byte count for messages: "300 MiB", "4 GiB", "12 bytes".
std::string byte_size_text(std::uint64_t bytes);

}  // namespace tessera
