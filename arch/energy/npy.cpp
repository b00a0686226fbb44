#include "arch/energy/npy.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <map>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"

namespace tessera::arch::energy {

namespace {

// The header dict, as NumPy writes it: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::int64_t>& shape) {
    std::map<std::string, bool> seen;
    expect('{');
    for (;;) {
      space();
      if (peek() == '}') break;
      const std::string key = string_literal("a key");
      if (seen[key]) fail("the key '" + printable(key) + "' appears twice");
      seen[key] = true;
      space();
      expect(':');
      space();
      if (key == "descr")
        descr = string_literal("the dtype string of 'descr' (structured dtypes are not read)");
      else if (key == "fortran_order")
        fortran = boolean();
      else if (key == "shape")
        shape = tuple();
      else
        fail("unknown key '" + printable(key) + "' (expected descr, fortran_order, shape)");
      space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++i_;
    space();
    if (i_ != s_.size()) fail("text after the closing '}'");
    for (const char* k : {"descr", "fortran_order", "shape"})
      if (!seen[k]) fail(std::string("no '") + k + "'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path_ + ": .npy header at character " + std::to_string(i_) + ": " + what);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_literal(const std::string& what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected " + what);
    const auto end = s_.find(quote, i_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    for (const auto& [word, value] : {std::pair{"True", true}, {"False", false}})
      if (s_.compare(i_, std::strlen(word), word) == 0) {
        i_ += std::strlen(word);
        return value;
      }
    fail("expected True or False");
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> out;
    expect('(');
    for (;;) {
      space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a dimension");
      std::int64_t d = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (d > (std::int64_t{1} << 62) / 10) fail("a dimension beyond 2^62");
        d = d * 10 + (s_[i_++] - '0');
      }
      out.push_back(d);
      space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in the shape");
    }
    ++i_;
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

template <class T>
double load(const char* p) {
  T x;
  std::memcpy(&x, p, sizeof x);
  return static_cast<double>(x);
}

}  // namespace

NpyArray read_npy(const std::string& path, std::optional<std::uint64_t> expected,
                  const std::string& for_what) {
  // 12: magic, version and the longest length field.
  const std::uint64_t limit =
      expected && *expected <= (kNpyFileLimit - 12 - kNpyHeaderLimit) / 8
          ? 12 + kNpyHeaderLimit + *expected * 8
          : kNpyFileLimit;
  const InputFile file(path, limit, ".npy file");
  if (file.size() < 10) throw InputError(path + ": not a .npy file (shorter than its preamble)");
  const std::string preamble = file.read(0, std::min<std::uint64_t>(12, file.size()));
  if (preamble.compare(0, 6, "\x93NUMPY") != 0)
    throw InputError(path + ": not a .npy file (it does not start with \\x93NUMPY)");
  const int major = static_cast<unsigned char>(preamble[6]);
  const int minor = static_cast<unsigned char>(preamble[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw InputError(path + ": .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (versions 1.0, 2.0 and 3.0 are read)");
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  if (preamble.size() < 8 + length_bytes)
    throw InputError(path + ": not a .npy file (shorter than its preamble)");
  const std::uint64_t header_len = little_endian(preamble, 8, length_bytes);
  const std::uint64_t data_offset = 8 + length_bytes + header_len;
  if (header_len > kNpyHeaderLimit)
    throw InputError(path + ": .npy header of " + std::to_string(header_len) +
                     " bytes (at most " + std::to_string(kNpyHeaderLimit) + " are read)");
  if (data_offset > file.size())
    throw InputError(path + ": .npy header of " + std::to_string(header_len) +
                     " bytes is longer than the file (" + std::to_string(file.size()) +
                     " bytes)");
  const std::string header = file.read(8 + length_bytes, header_len);
  for (const char c : header)
    if (c == '\0' || (major < 3 && static_cast<unsigned char>(c) >= 0x80))
      throw InputError(path + ": .npy header is not " + (major < 3 ? "ASCII" : "text") +
                       " (a NUL or non-ASCII byte)");

  std::string descr;
  bool fortran = false;
  NpyArray a;
  HeaderParser(header, path).parse(descr, fortran, a.shape);
  if (fortran) throw InputError(path + ": Fortran-order arrays are not read (save in C order)");
  static const std::map<std::string, int> kSizes = {{"f4", 4}, {"f8", 8}, {"i1", 1}, {"u1", 1},
                                                    {"i2", 2}, {"u2", 2}, {"i4", 4}, {"u4", 4},
                                                    {"i8", 8}, {"u8", 8}};
  const std::string type = descr.size() == 3 ? descr.substr(1) : "";
  const auto size_of = kSizes.find(type);
  const char order = descr.empty() ? '?' : descr[0];
  if (size_of == kSizes.end() ||
      !(order == '<' || order == '=' || (order == '|' && size_of->second == 1)))
    throw InputError(path + ": dtype '" + printable(descr) +
                     "' is not read (little-endian f4, f8, i1-i8, u1-u8)");
  const std::size_t item = static_cast<std::size_t>(size_of->second);

  std::uint64_t count = 1;
  for (const std::int64_t d : a.shape) {
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && count > (std::uint64_t{1} << 62) / u)
      throw InputError(path + ": shape " + shape_text(a.shape) + " has more than 2^62 elements");
    count *= u;
  }
  if (expected && count != *expected)
    throw InputError(path + ": " + std::to_string(count) + " values (shape " +
                     shape_text(a.shape) + "), but " + for_what + " has " +
                     std::to_string(*expected));
  const std::uint64_t data = file.size() - data_offset;
  if (count > data / item)
    throw InputError(path + ": shape " + shape_text(a.shape) + " of " + type + " needs " +
                     std::to_string(count) + " x " + std::to_string(item) +
                     " data bytes; the file has " + std::to_string(data) +
                     " after its header (truncated?)");
  if (data != count * item)
    throw InputError(path + ": " + std::to_string(data - count * item) +
                     " bytes after the data of shape " + shape_text(a.shape) + " of " + type +
                     " (not one array as NumPy writes it)");
  const std::string raw = file.read(data_offset, data);
  const char kind = type[0];
  a.values.resize(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    const char* p = raw.data() + i * item;
    double v = 0;
    switch (kind == 'f' ? item : kind == 'i' ? 10 + item : 20 + item) {
      case 4: v = load<float>(p); break;
      case 8: v = load<double>(p); break;
      case 11: v = load<std::int8_t>(p); break;
      case 12: v = load<std::int16_t>(p); break;
      case 14: v = load<std::int32_t>(p); break;
      case 18: v = load<std::int64_t>(p); break;
      case 21: v = load<std::uint8_t>(p); break;
      case 22: v = load<std::uint16_t>(p); break;
      case 24: v = load<std::uint32_t>(p); break;
      default: v = load<std::uint64_t>(p); break;
    }
    if (!std::isfinite(v))
      throw InputError(path + ": value " + std::to_string(i) + " is " +
                       (std::isnan(v) ? "NaN" : "infinite") +
                       " (activations must be finite to be quantised)");
    a.values[i] = v;
  }
  return a;
}

}  // namespace tessera::arch::energy
