// The .npy reader (arch/energy/npy.hpp): files as NumPy writes them, and every way a header or
// its data can be wrong, each one line naming the file. The valid files follow NumPy's format
// description (numpy.lib.format: magic, version, little-endian header length, a dict padded with
// spaces to a multiple of 64 bytes and ended by a newline).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/energy/npy.hpp"
#include "common/error.hpp"

using namespace tessera;
using namespace tessera::arch::energy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path& dir() {
  static const fs::path d = [] {
    auto p = fs::temp_directory_path() / ("tessera_npy_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

std::string header_text(const std::string& dict, int version = 1) {
  const std::size_t pre = version == 1 ? 10 : 12;
  std::string h = dict;
  h.resize(h.size() + (64 - (pre + h.size() + 1) % 64) % 64, ' ');
  return h + '\n';
}

// A file from its parts: the header dict, the data bytes; version and header length as given.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  const std::string h = header_text(dict, version);
  std::string out = std::string("\x93NUMPY", 6) + char(version) + '\0';
  const auto n = static_cast<std::uint32_t>(h.size());
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i) out += char((n >> (8 * i)) & 0xff);
  return out + h + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

std::string write(const std::string& name, const std::string& bytes) {
  const auto path = (dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

std::string dict(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string error_of(const std::string& path, std::optional<std::uint64_t> expected = {}) {
  try {
    (void)read_npy(path, expected, "the input of layer 'conv'");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_THAT(what, Contains(path));
    return what;
  }
  return "no error";
}

}  // namespace

TEST_CASE("npy: every dtype read as NumPy writes it", "[energy][npy]") {
  const auto f4 = read_npy(write("f4.npy", npy_bytes(dict("<f4", "(2, 3)"),
                                                      raw<float>({0, 1.5f, -2, 3, 4, 5}))));
  CHECK(f4.shape == std::vector<std::int64_t>{2, 3});
  CHECK(f4.values == std::vector<double>{0, 1.5, -2, 3, 4, 5});
  CHECK(read_npy(write("f8.npy", npy_bytes(dict("<f8", "(2,)"), raw<double>({0.25, -1}))))
            .values == std::vector<double>{0.25, -1});
  CHECK(read_npy(write("i1.npy", npy_bytes(dict("|i1", "(3,)"), raw<std::int8_t>({-128, 0, 127}))))
            .values == std::vector<double>{-128, 0, 127});
  CHECK(read_npy(write("u1.npy", npy_bytes(dict("|u1", "(1,)"), raw<std::uint8_t>({255}))))
            .values == std::vector<double>{255});
  CHECK(read_npy(write("i2.npy", npy_bytes(dict("<i2", "(1,)"), raw<std::int16_t>({-300}))))
            .values == std::vector<double>{-300});
  CHECK(read_npy(write("u2.npy", npy_bytes(dict("<u2", "(1,)"), raw<std::uint16_t>({65535}))))
            .values == std::vector<double>{65535});
  CHECK(read_npy(write("i4.npy", npy_bytes(dict("<i4", "(1,)"), raw<std::int32_t>({-70000}))))
            .values == std::vector<double>{-70000});
  CHECK(read_npy(write("u4.npy", npy_bytes(dict("<u4", "(1,)"), raw<std::uint32_t>({4000000000u}))))
            .values == std::vector<double>{4e9});
  CHECK(read_npy(write("i8.npy", npy_bytes(dict("<i8", "(1,)"), raw<std::int64_t>({-5}))))
            .values == std::vector<double>{-5});
  CHECK(read_npy(write("u8.npy", npy_bytes(dict("<u8", "(1,)"), raw<std::uint64_t>({7}))))
            .values == std::vector<double>{7});
  // A scalar (shape ()), an empty array, versions 2 and 3, double quotes and no trailing comma.
  CHECK(read_npy(write("scalar.npy", npy_bytes(dict("<f4", "()"), raw<float>({2})))).values ==
        std::vector<double>{2});
  CHECK(read_npy(write("empty.npy", npy_bytes(dict("<f4", "(0,)"), ""))).values.empty());
  CHECK(read_npy(write("v2.npy", npy_bytes(dict("<f4", "(1,)"), raw<float>({3}), 2))).values ==
        std::vector<double>{3});
  CHECK(read_npy(write("v3.npy", npy_bytes(dict("<i2", "(2,)"), raw<std::int16_t>({1, 2}), 3)))
            .values.size() == 2);
  CHECK(read_npy(write("quotes.npy",
                       npy_bytes("{\"descr\": \"<f4\", \"shape\": (1,), \"fortran_order\": False}",
                                 raw<float>({1}))))
            .values.size() == 1);
  // The expected count matches.
  CHECK(read_npy((dir() / "f4.npy").string(), 6, "x").values.size() == 6);
}

TEST_CASE("npy: a bad preamble or header is one line naming the file", "[energy][npy][errors]") {
  const std::string ok = npy_bytes(dict("<f4", "(1,)"), raw<float>({1}));
  CHECK_THAT(error_of(write("short.npy", "\x93NUM")), Contains("shorter than its preamble"));
  CHECK_THAT(error_of(write("magic.npy", "PK\x03\x04" + ok.substr(4))),
             Contains("not a .npy file"));
  std::string v4 = ok;
  v4[6] = 4;
  CHECK_THAT(error_of(write("v4.npy", v4)), Contains(".npy format version 4.0"));
  std::string minor = ok;
  minor[7] = 1;
  CHECK_THAT(error_of(write("minor.npy", minor)), Contains("version 1.1"));
  // Header length beyond the file, and beyond the 1 MiB accepted.
  std::string long_header = ok;
  long_header[8] = '\xff';
  long_header[9] = '\xff';
  CHECK_THAT(error_of(write("long_header.npy", long_header)),
             Contains("is longer than the file"));
  std::string huge = npy_bytes(dict("<f4", "(1,)"), raw<float>({1}), 2);
  huge[11] = '\x7f';
  CHECK_THAT(error_of(write("huge_header.npy", huge)), Contains("at most 1048576 are read"));
  const std::pair<std::string, std::string> headers[] = {
      {"{'descr': '<f4', 'fortran_order': False}", "no 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unknown key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
       "the key 'descr' appears twice"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}", "Fortran-order"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}", "dtype '>f4' is not read"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", "dtype '<f2' is not read"},
      {"{'descr': '|i2', 'fortran_order': False, 'shape': (1,)}", "dtype '|i2' is not read"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured dtypes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
       "a dimension beyond 2^62"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648, 4)}",
       "has more than 2^62 elements"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "text after the closing '}'"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "expected True or False"},
      {"{'descr: '<f4'}", "expected ':'"},
      {"'descr'", "expected '{'"},
  };
  int n = 0;
  for (const auto& [h, expected] : headers) {
    INFO(h);
    CHECK_THAT(error_of(write("header" + std::to_string(n++) + ".npy", npy_bytes(h, raw<float>({1})))),
               Contains(expected));
  }
  std::string nul = npy_bytes(dict("<f4", "(1,)"), raw<float>({1}));
  nul[20] = '\0';
  CHECK_THAT(error_of(write("nul.npy", nul)), Contains("not ASCII"));
}

TEST_CASE("npy: the data must match the header, the layer and be finite", "[energy][npy][errors]") {
  CHECK_THAT(error_of(write("truncated.npy", npy_bytes(dict("<f4", "(2, 3)"), raw<float>({1, 2})))),
             Contains("shape (2, 3) of f4 needs 6 x 4 data bytes; the file has 8"));
  CHECK_THAT(error_of(write("trailing.npy", npy_bytes(dict("<f4", "(1,)"), raw<float>({1, 2})))),
             Contains("4 bytes after the data of shape (1,)"));
  // The layer's count is checked before the data: a file of the wrong layer.
  const auto six = write("six.npy", npy_bytes(dict("<f4", "(2, 3)"), raw<float>({1, 2, 3, 4, 5, 6})));
  CHECK_THAT(error_of(six, 12),
             Contains("6 values (shape (2, 3)), but the input of layer 'conv' has 12"));
  // Not a silent 0 or a clamp: NaN and infinities are errors naming the value.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK_THAT(error_of(write("nan.npy", npy_bytes(dict("<f4", "(3,)"), raw<float>({1, nan, 2})))),
             Contains("value 1 is NaN"));
  CHECK_THAT(error_of(write("inf.npy", npy_bytes(dict("<f8", "(2,)"), raw<double>({-inf, 0})))),
             Contains("value 0 is infinite"));
  // A pipe where a file should be: refused without waiting for a writer.
  const auto fifo = (dir() / "fifo.npy").string();
  fs::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THAT(error_of(fifo), Contains("is a pipe (FIFO), not a regular file"));
  CHECK_THAT(error_of((dir() / "missing.npy").string()), Contains("cannot open .npy file"));
}
