// Lines of a small CSV file with a fixed header (latency tables, request traces, XR layer
// costs); every error names the file and line. Includes common/ only.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"

namespace tessera::serving {

class CsvLines {
 public:
  CsvLines(std::string file, const std::vector<std::string>& header, std::size_t optional)
      : file_(std::move(file)), text_(read_input_file(file_, kTextFileLimit)), in_(text_) {
    std::string line;
    if (!next_line(line)) throw error("is empty (expected the header " + join(header) + ")");
    fields_ = split(line);
    const std::size_t n = fields_.size();
    const bool ok = n >= header.size() - optional && n <= header.size() &&
                    std::equal(fields_.begin(), fields_.end(), header.begin());
    if (!ok) throw error("expected the header " + join(header) + ", not '" + printable(line) + "'");
    columns_ = n;
  }
  std::size_t columns() const { return columns_; }
  // The next non-blank line's fields (exactly columns()); false at the end.
  bool next(std::vector<std::string>& fields) {
    std::string line;
    if (!next_line(line)) return false;
    fields = split(line);
    if (fields.size() != columns_)
      throw error(fmt::format("expected {} fields, found {}", columns_, fields.size()));
    return true;
  }
  InputError error(const std::string& what) const {
    return InputError(fmt::format("{}:{}: {}", file_, line_, what));
  }
  double number(const std::string& s, const char* what) const {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v))
      throw error(fmt::format("{} '{}' is not a finite number", what, printable(s)));
    return v;
  }
  std::int64_t integer(const std::string& s, const char* what, std::int64_t lo,
                       std::int64_t hi) const {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < lo || v > hi)
      throw error(fmt::format("{} '{}' is not an integer in [{}, {}]", what, printable(s), lo, hi));
    return v;
  }

 private:
  bool next_line(std::string& line) {
    while (std::getline(in_, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) return true;
    }
    return false;
  }
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    for (char c : line) {
      if (c == ',')
        out.emplace_back();
      else if (c != ' ' && c != '\t')
        out.back() += c;
    }
    return out;
  }
  static std::string join(const std::vector<std::string>& h) {
    std::string s;
    for (const auto& f : h) s += (s.empty() ? "" : ",") + f;
    return s;
  }
  std::string file_, text_;
  std::istringstream in_;
  std::vector<std::string> fields_;
  std::size_t columns_ = 0, line_ = 0;
};

}  // namespace tessera::serving
