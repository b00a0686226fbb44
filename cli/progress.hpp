// A progress line for long single runs (tessera energy, tessera simulate with energy.hamming or
// --generate):
// on a terminal one line rewritten in place (at most every 0.2 s), otherwise a plain line every
// `every_s` seconds, so batch logs show that the run is alive without filling up.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace tessera::cli {

class ProgressLine {
 public:
  ProgressLine(std::ostream& err, std::string label, std::string unit = "layers",
               double every_s = 10);
  // Units done of total at a stage ("counting": layers; "decode": steps). Not thread-safe: callers serialise.
  void operator()(const std::string& stage, std::size_t done, std::size_t total);
  // Ends the terminal line (call once when the work is done).
  void finish();

 private:
  std::ostream& err_;
  std::string label_, unit_;
  bool tty_;
  double every_s_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace tessera::cli
