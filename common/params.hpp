// Typed, validated reading of a JSON object into parameters (the second config layer).
//
// A ParamReader wraps one JSON object together with the file it came from and its JSON path.
// Components read their keys through it with required/default/optional accessors; every error
// names the file and the JSON path (RFC 6901 pointer) and says what was expected. finish() turns
// every key that was not read into an "unknown key" error, so a mistyped sweep key cannot pass
// silently. Components never see raw JSON beyond this class.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace tessera {

// A bandwidth either per cycle (needs no clock) or per second (converted with the engine clock).
struct Bandwidth {
  double bytes = 0.0;
  bool per_cycle = true;
  double bytes_per_cycle(double clock_hz) const { return per_cycle ? bytes : bytes / clock_hz; }
};

// "FILE: PATH: " prefix for messages about a place in a JSON file (path may be empty = whole file).
std::string json_location(const std::string& file, const std::string& path);

// Escapes a key for use in a JSON pointer (RFC 6901: ~ becomes ~0, / becomes ~1) in a message:
// control characters are written as by printable().
std::string pointer_token(const std::string& key);
// `text` with control characters written as \uXXXX, so that a message quoting it stays one line.
std::string printable(const std::string& text);

// Reads and parses a JSON file. Errors name the file, and the line and column of a syntax error.
nlohmann::json read_json_file(const std::string& file);

// Applies one override "a.b.c=value" (the path in dots, or as a JSON pointer "/a/b/c") to a
// parsed JSON document read from `file`. The value is read as JSON when it parses (numbers,
// true/false, quoted strings, objects), otherwise as a plain string, so `--set clock="1 GHz"` and
// `--set clock=1GHz` both work. Missing objects on the path are created.
void apply_json_override(nlohmann::json& doc, const std::string& file,
                         const std::string& assignment);

class ParamReader {
 public:
  // `object` must outlive the reader. Throws InputError if it is not a JSON object.
  ParamReader(const nlohmann::json& object, std::string file, std::string path = "");

  bool has(const std::string& key);
  bool is_string(const std::string& key);  // present and a string; does not mark the key read

  // Plain values. Type mismatches are errors; integers must be integral JSON numbers.
  std::string string(const std::string& key);
  std::string string(const std::string& key, const std::string& fallback);
  // One of `choices`; the error lists them.
  std::string choice(const std::string& key, const std::vector<std::string>& choices,
                     const std::string& fallback);
  // A list of strings; empty when the key is absent.
  std::vector<std::string> strings(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  double number(const std::string& key);
  double number(const std::string& key, double fallback);
  std::optional<double> optional_number(const std::string& key);
  std::int64_t integer(const std::string& key);
  std::int64_t integer(const std::string& key, std::int64_t fallback);

  // Checked ranges: > 0 and >= 0. The error states the value and the bound.
  double positive(const std::string& key);
  double positive(const std::string& key, double fallback);
  double non_negative(const std::string& key, double fallback);
  std::int64_t positive_integer(const std::string& key);
  std::int64_t positive_integer(const std::string& key, std::int64_t fallback);
  std::int64_t non_negative_integer(const std::string& key, std::int64_t fallback);

  // Quantities with units: a number in the documented default unit, or a string "<value> <unit>".
  //   frequency: bare number in MHz; units Hz, kHz, MHz, GHz.             Returns Hz.
  //   bandwidth: bare number in bytes/cycle; units B/cycle, GB/s, GiB/s, MB/s, TB/s.
  //   size:      bare number in bytes; units B, KiB, MiB, GiB.            Returns bytes.
  // Ranges: frequency [1 kHz, 1 THz]; bandwidth [1e-3, 1e9] B/cycle or [1e3, 1e16] B/s;
  // size [1 B, 2^50 B]. Values outside are errors naming the key.
  double frequency_hz(const std::string& key, const std::string& fallback);
  Bandwidth bandwidth(const std::string& key, const std::string& fallback);
  std::uint64_t size_bytes(const std::string& key, const std::string& fallback);

  // Arrays. is_array() does not mark the key read; array_size() requires an array and does.
  bool is_array(const std::string& key);
  std::size_t array_size(const std::string& key);
  // Element i of the array at `key`, which must be an object; its path is ".../key/i".
  ParamReader item(const std::string& key, std::size_t i);
  // `count` integers >= `min`: an array of exactly `count`, or one integer meaning all of them.
  // Absent: `count` copies of `fallback`.
  std::vector<std::int64_t> integers(const std::string& key, std::size_t count,
                                     std::int64_t fallback, std::int64_t min);

  // Nested objects. child() requires the key; optional_child() returns nullopt when absent.
  ParamReader child(const std::string& key);
  std::optional<ParamReader> optional_child(const std::string& key);

  // Every key of this object, in the document's order; does not mark them read.
  std::vector<std::string> keys();

  // Throws InputError naming the first key that was never read, listing the accepted keys.
  void finish() const;

  // Builds an InputError whose message names the file and the path of `key`.
  [[nodiscard]] InputError error(const std::string& key, const std::string& what) const;
  std::string path_of(const std::string& key) const;
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& at(const std::string& key);
  const nlohmann::json* find(const std::string& key);

  const nlohmann::json& object_;
  std::string file_;
  std::string path_;
  std::set<std::string> read_;   // keys present and read
  std::set<std::string> known_;  // keys asked for, present or not (listed in unknown-key errors)
};

}  // namespace tessera
