// Exact integer arithmetic for counts on the timing path (MACs, bytes, tiles, cycles): a sum or
// product that does not fit its type throws CountOverflow naming what was counted, never wraps
// and never saturates (a clamped count is a wrong count). Code that knows the operator turns it
// into one line naming the operator (sim::simulate); docs/testing.md states the promise.
//
// Owns only these helpers; includes nothing above common/.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <type_traits>

#include "common/error.hpp"

namespace tessera {

// A count that does not fit in 64 bits. what(): "<what> does not fit in 64 bits".
class CountOverflow : public InputError {
 public:
  explicit CountOverflow(const std::string& what) : InputError(what + " does not fit in 64 bits") {}
};

// a * b, or nullopt when it does not fit in T (for "does it fit a capacity" tests, where a
// product beyond T is simply too large).
template <class T>
[[nodiscard]] std::optional<T> try_mul(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// a + b, or nullopt when it does not fit in T.
template <class T>
[[nodiscard]] std::optional<T> try_add(T a, T b) {
  static_assert(std::is_integral_v<T>);
  T out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

template <class T>
[[nodiscard]] T checked_mul(T a, T b, const char* what) {
  static_assert(std::is_integral_v<T>);
  T out;
  if (__builtin_mul_overflow(a, b, &out)) throw CountOverflow(what);
  return out;
}

template <class T>
[[nodiscard]] T checked_add(T a, T b, const char* what) {
  static_assert(std::is_integral_v<T>);
  T out;
  if (__builtin_add_overflow(a, b, &out)) throw CountOverflow(what);
  return out;
}

// A double count (a quotient of a count by a rate) rounded up to an integer of T; throws when it
// does not fit (a cast of such a double to an integer is undefined behaviour).
template <class T>
[[nodiscard]] T checked_ceil(double v, const char* what) {
  static_assert(std::is_integral_v<T>);
  // 2^64 (2^63) is exact as a double; the largest double below it converts exactly.
  constexpr double limit = std::is_signed_v<T> ? 9223372036854775808.0 : 18446744073709551616.0;
  const double c = std::ceil(v);
  if (!(c < limit)) throw CountOverflow(what);  // also NaN
  return c <= 0 ? T{0} : static_cast<T>(c);
}

// floor(a * b / c) for non-negative a, b and positive c whose quotient fits T, through 128 bits:
// `a` spread over `c` parts, the first `b` of them (the product alone may pass 64 bits).
template <class T>
[[nodiscard]] T mul_div(T a, T b, T c) {
  static_assert(std::is_integral_v<T> && sizeof(T) <= 8);
  __extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC and Clang extension
  return static_cast<T>(static_cast<u128>(a) * static_cast<u128>(b) / static_cast<u128>(c));
}

}  // namespace tessera
