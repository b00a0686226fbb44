// The .npy reader (NumPy's array file format, versions 1-3) for `--data npy:DIR` activations.
//
// What it accepts: a dict header with exactly 'descr', 'fortran_order' (False) and 'shape'; the
// dtypes f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, little-endian ('<', or '|' and '=' where that
// means the same); a file exactly as long as the header says (no missing or trailing bytes);
// finite values only. Anything else, a header over 1 MiB, an element count other than the
// caller's expected one, or a file that is not a regular file (common/input_file.hpp) is an
// InputError of one line naming the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera::arch::energy {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

// Largest header accepted (NumPy itself refuses headers over 10,000 bytes unless told otherwise).
inline constexpr std::uint64_t kNpyHeaderLimit = std::uint64_t{1} << 20;
// Largest file read without an expected element count.
inline constexpr std::uint64_t kNpyFileLimit = std::uint64_t{4} << 30;

// `expected`: the element count the caller needs (a layer's input); a file of any other count is
// refused before its data is read, as "`for_what` has N elements". The file is then limited to
// the header and that many 8-byte values.
NpyArray read_npy(const std::string& path, std::optional<std::uint64_t> expected = std::nullopt,
                  const std::string& for_what = "");

}  // namespace tessera::arch::energy
