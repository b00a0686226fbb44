#include "cli/run_log.hpp"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

#include "common/error.hpp"

namespace tessera::cli {

namespace {

// Drops a last line cut short by a kill, so appending continues on a line boundary.
void trim_partial_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty() || text.back() == '\n') return;
  const auto keep = text.find_last_of('\n');
  std::filesystem::resize_file(path, keep == std::string::npos ? 0 : keep + 1);
}

}  // namespace

// The entries of an existing results log, which is only ever continued with --resume.
std::vector<explorer::LogEntry> previous_results(const SweepArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(a.log) || fs::file_size(a.log) == 0) return {};
  if (!a.resume)
    throw InputError(a.log +
                     ": results log exists; add --resume to continue it, or choose another --log");
  trim_partial_line(a.log);
  return explorer::read_log(a.log);
}

ResultSink::ResultSink(const SweepArgs& a, const explorer::DesignSpace& space, std::uint64_t total,
                       std::ostream& err)
    : log_(a.log, std::ios::app),
      path_(a.log),
      err_(err),
      total_(total),
      objective_(space.objectives.front()),
      progress_(!a.quiet && ::isatty(::fileno(stderr))) {
  if (!log_) throw InputError(a.log + ": cannot open for appending");
}

void ResultSink::operator()(const explorer::LogEntry& e) {
  log_ << explorer::to_line(e) << "\n" << std::flush;  // on disk before the next point
  ++done_;
  if (!e.ok) ++failed_;
  const auto& [metric, minimize] = objective_;
  if (e.ok && e.metrics.count(metric)) {
    const double v = e.metrics.at(metric);
    if (!best_ || (minimize ? v < best_->metrics.at(metric) : v > best_->metrics.at(metric)))
      best_ = e;
  }
  const auto now = std::chrono::steady_clock::now();
  if (progress_ && (now - last_ > std::chrono::milliseconds(200) || done_ == total_)) {
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
    const double eta =
        rate > 0 && total_ > done_ ? static_cast<double>(total_ - done_) / rate : 0.0;
    err_ << fmt::format("\r[{}] {}/{} points, {:.0f}/s, ETA {:.0f} s, {} failed, best {} {:.4g}   ",
                        path_, done_, total_, rate, eta, failed_, metric,
                        best_ ? best_->metrics.at(metric) : 0.0)
         << std::flush;
  }
}

void ResultSink::finish(const std::string& name, std::uint64_t already, bool quiet,
                        std::ostream& out) {
  if (progress_) err_ << "\n";
  if (!log_) throw InputError(path_ + ": write failed");
  if (quiet) return;
  out << fmt::format("{}: {} points evaluated ({} failed), {} already in {}\n", name, done_,
                     failed_, already, path_);
  if (best_)
    out << fmt::format("best {}: {:.6g} at point {} {}\n", objective_.first,
                       best_->metrics.at(objective_.first), best_->index, best_->point.dump());
}

}  // namespace tessera::cli
