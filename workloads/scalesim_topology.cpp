#include "workloads/scalesim_topology.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace tessera::workloads {

namespace {

// Column names as SCALE-Sim v2 writes them in its headers; also used in error messages.
const std::vector<std::string> kConvColumns = {"Layer name",    "IFMAP Height", "IFMAP Width",
                                               "Filter Height", "Filter Width", "Channels",
                                               "Num Filter",    "Strides"};
const std::vector<std::string> kGemmColumns = {"Layer", "M", "N", "K"};

enum class Format { conv, gemm };

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Comma-separated fields, trimmed; the trailing comma SCALE-Sim writes (and any empty fields
// after the last value) do not count as fields.
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
    fields.push_back(trim(line.substr(start, comma - start)));
  fields.push_back(trim(line.substr(start)));
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Which topology a header line introduces. Column names are compared loosely (case) because
// hand-written files vary; the column count and the first data column must match.
std::optional<Format> header_format(const std::vector<std::string>& header) {
  if (header.size() == kConvColumns.size() && lower(header[1]) == lower(kConvColumns[1]))
    return Format::conv;
  if (header.size() == kGemmColumns.size() && lower(header[1]) == "m" && lower(header[2]) == "n" &&
      lower(header[3]) == "k")
    return Format::gemm;
  return std::nullopt;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Reads non-blank lines with their 1-based line numbers.
class Lines {
 public:
  explicit Lines(std::istream& in) : in_(in) {}
  bool next(std::string& line) {
    while (std::getline(in_, line)) {
      ++number_;
      if (!trim(line).empty()) return true;
    }
    return false;
  }
  int number() const { return number_; }

 private:
  std::istream& in_;
  int number_ = 0;
};

}  // namespace

Graph read_scalesim_topology(std::istream& in, const std::string& file) {
  Lines lines(in);
  std::string line;
  if (!lines.next(line))
    throw InputError(file + ": empty file, expected a SCALE-Sim topology header (" +
                     join(kConvColumns) + ", or " + join(kGemmColumns) + ")");
  const auto format = header_format(split(line));
  if (!format)
    throw InputError(file + ":" + std::to_string(lines.number()) +
                     ": not a SCALE-Sim topology header, expected '" + join(kConvColumns) +
                     ",' or '" + join(kGemmColumns) + ",'");
  const auto& columns = *format == Format::conv ? kConvColumns : kGemmColumns;

  Graph graph(std::filesystem::path(file).stem().string());
  while (lines.next(line)) {
    const std::string source = file + ":" + std::to_string(lines.number());
    auto fail = [&](const std::string& what) { return InputError(source + ": " + what); };
    const auto fields = split(line);
    if (fields.size() != columns.size())
      throw fail("expected " + std::to_string(columns.size()) + " fields (" + join(columns) +
                 "), got " + std::to_string(fields.size()));
    if (fields[0].empty()) throw fail("the layer name is empty");
    std::vector<i64> v(fields.size());  // v[i] is column i; v[0] (the name) is unused
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const auto& f = fields[i];
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v[i]);
      if (ec != std::errc() || end != f.data() + f.size() || v[i] <= 0)
        throw fail(columns[i] + ": expected a positive integer, got '" + f + "'");
    }

    Operator op;
    op.name = fields[0];
    op.source = source;
    if (*format == Format::gemm) {
      op.shape = MatMul{.batch = 1, .m = v[1], .n = v[2], .k = v[3], .b_is_weight = true};
    } else {
      Conv c{.c = v[5], .h = v[1], .w = v[2], .k = v[6], .r = v[3], .s = v[4]};
      c.stride_h = c.stride_w = v[7];
      // SCALE-Sim runs a "DP" layer as `Channels` separate single-channel, single-filter layers.
      if (op.name.find("DP") != std::string::npos) {
        if (c.k != 1)
          throw fail(columns[6] + ": a depthwise (DP) layer must have 1 filter, got " +
                     std::to_string(c.k));
        c.k = c.groups = c.c;
      }
      op.shape = c;
    }
    // SCALE-Sim's word is one byte.
    op.precision = Precision{8, 8};
    validate(op, source + ": ");
    if (const auto other = graph.find(op.name))
      throw fail("layer name '" + op.name + "' is already used at " + graph.op(*other).source);
    graph.add(std::move(op));
  }
  if (graph.empty()) throw InputError(file + ": no layers after the header");
  return graph;
}

Graph read_scalesim_topology(const std::string& path) {
  std::istringstream in(read_input_file(path, kTextFileLimit));
  return read_scalesim_topology(in, path);
}

bool looks_like_scalesim_topology(const std::string& path) {
  // Only the first line is needed; the type check keeps the open from waiting on a pipe.
  try {
    check_input_file(path, kTextFileLimit);
  } catch (const InputError&) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::string line;
  return in && Lines(in).next(line) && header_format(split(line)).has_value();
}

}  // namespace tessera::workloads
