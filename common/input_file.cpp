#include "common/input_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"

namespace tessera {

namespace {

std::uint64_t checked_size(const std::string& path, const struct stat& st, std::uint64_t limit) {
  if (!S_ISREG(st.st_mode))
    throw InputError(path + ": is " + file_type_name(st.st_mode) + ", not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limit)
    throw InputError(path + ": is " + byte_size_text(size) + ", larger than the " +
                     byte_size_text(limit) + " limit for this kind of file");
  return size;
}

}  // namespace

std::string file_type_name(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a pipe (FIFO)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISREG(mode)) return "a regular file";
  return "a file of an unknown type";
}

std::string byte_size_text(std::uint64_t bytes) {
  constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, v == std::floor(v) ? "%.0f %s" : "%.1f %s", v, units[u]);
  return text;
}

std::uint64_t check_input_file(const std::string& path, std::uint64_t limit,
                               const std::string& what) {
  // stat before open: opening a device can have effects of its own (a tape rewinds, a
  // watchdog starts), and opening a pipe waits for a writer.
  if (path.empty()) throw InputError("cannot open " + what + ": the path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path + ": cannot open " + what + ": " + std::strerror(errno));
  return checked_size(path, st, limit);
}

InputFile::InputFile(const std::string& path, std::uint64_t limit, const std::string& what)
    : path_(path), what_(what) {
  check_input_file(path, limit, what);
  // O_NONBLOCK: should the path have become a pipe since the stat, open does not wait for a
  // writer, and the fstat below refuses it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) throw InputError(path + ": cannot open " + what + ": " + std::strerror(errno));
  struct stat st {};
  try {
    if (::fstat(fd_, &st) != 0)
      throw InputError(path + ": cannot read " + what + ": " + std::strerror(errno));
    size_ = checked_size(path, st, limit);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

InputFile::~InputFile() { ::close(fd_); }

std::string InputFile::read(std::uint64_t offset, std::uint64_t count) const {
  if (offset > size_ || count > size_ - offset)
    throw InputError(path_ + ": " + std::to_string(count) + " bytes at offset " +
                     std::to_string(offset) + " lie beyond the end of the " + what_ + " (" +
                     std::to_string(size_) + " bytes)");
  std::string out(static_cast<std::size_t>(count), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(path_ + ": cannot read " + what_ + ": " + std::strerror(errno));
    if (n == 0)
      throw InputError(path_ + ": the " + what_ + " became shorter while it was read");
    done += static_cast<std::size_t>(n);
  }
  return out;
}

std::string read_input_file(const std::string& path, std::uint64_t limit,
                            const std::string& what) {
  return InputFile(path, limit, what).read_all();
}

}  // namespace tessera
