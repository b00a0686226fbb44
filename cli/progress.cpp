#include "cli/progress.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <unistd.h>

namespace tessera::cli {

ProgressLine::ProgressLine(std::ostream& err, std::string label, std::string unit, double every_s)
    : err_(err),
      label_(std::move(label)),
      unit_(std::move(unit)),
      tty_(::isatty(::fileno(stderr))),
      every_s_(tty_ ? 0.2 : every_s),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void ProgressLine::operator()(const std::string& stage, std::size_t done, std::size_t total) {
  const auto now = std::chrono::steady_clock::now();
  // The terminal line appears at once; a log line only once the run has taken a while.
  const bool due = std::chrono::duration<double>(now - last_).count() >= every_s_;
  if (!(due || (tty_ && !shown_) || (tty_ && done == total))) return;
  last_ = now;
  shown_ = true;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const std::string line = fmt::format("[{}] {}: {}/{} {}, {:.0f} s", label_, stage, done, total, unit_, secs);
  if (tty_)
    err_ << "\r" << line << "   " << std::flush;
  else
    err_ << line << "\n" << std::flush;
}

void ProgressLine::finish() {
  if (tty_ && shown_) err_ << "\n" << std::flush;
}

}  // namespace tessera::cli
