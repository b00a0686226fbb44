#include "cli/results_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/error.hpp"

namespace tessera::cli {

ResultsFile::ResultsFile(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir)) {
    fs::create_directories(dir, ec);
    if (ec)
      throw InputError(path + ": cannot create the log's folder " + dir.string() + ": " +
                       ec.message());
  }
  if (fs::is_directory(path)) throw InputError(path + ": is a directory, not a results log");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path + ": cannot open results log: " + std::strerror(errno));
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
    if (n < 0) throw InputError(path + ": read failed: " + std::strerror(errno));
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
