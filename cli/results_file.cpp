#include "cli/results_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/files.hpp"
#include "common/error.hpp"
#include "common/input_file.hpp"

namespace tessera::cli {

ResultsFile::ResultsFile(const std::string& path) : path_(path) {
  // A log is locked, read back and continued by --resume: only a regular file (through symbolic
  // links) or a new one will do. stat before open, which would wait on a pipe.
  const auto refuse = [&](mode_t mode) {
    return InputError(path + ": is " + file_type_name(mode) +
                      "; a results log must be a regular file (it is locked, read back and "
                      "continued by --resume)");
  };
  struct stat st {};
  if (path.empty()) throw InputError("--log: the path is empty");
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) throw refuse(st.st_mode);
  } else {
    create_parent_folder(path);
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd_ < 0) throw InputError(path + ": cannot open results log: " + std::strerror(errno));
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd_);
    fd_ = -1;
    throw refuse(mode);
  }
  if (static_cast<std::uint64_t>(st.st_size) > kResultsLogLimit) {
    ::close(fd_);
    fd_ = -1;
    throw InputError(path + ": is " + byte_size_text(static_cast<std::uint64_t>(st.st_size)) +
                     ", larger than the " + byte_size_text(kResultsLogLimit) +
                     " limit for this kind of file");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      throw InputError(path +
                       ": another run is writing this results log (it is locked); wait "
                       "for it to finish or choose another --log");
    throw InputError(path + ": cannot lock results log: " + std::strerror(error));
  }
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::pread(fd_, buffer, sizeof buffer, static_cast<off_t>(content_.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      throw InputError(path + ": read failed: " + std::strerror(error));
    }
    if (n == 0) break;
    content_.append(buffer, static_cast<std::size_t>(n));
  }
}

ResultsFile::~ResultsFile() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void ResultsFile::drop_partial_line() {
  if (content_.empty() || content_.back() == '\n') return;
  const auto keep = content_.find_last_of('\n');
  content_.resize(keep == std::string::npos ? 0 : keep + 1);
  if (::ftruncate(fd_, static_cast<off_t>(content_.size())) != 0)
    throw InputError(path_ + ": cannot cut the partial last line: " + std::strerror(errno));
}

void ResultsFile::append(const std::string& line) {
  const std::string text = line + "\n";
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError(path_ + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace tessera::cli
