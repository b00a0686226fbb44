#include "common/params.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "common/input_file.hpp"

namespace tessera {

std::string json_location(const std::string& file, const std::string& path) {
  return file + ": " + (path.empty() ? std::string("/") : path) + ": ";
}

std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", u);
      out += code;
    } else
      out += c;
  }
  return out;
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : printable(key)) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

namespace {

// Byte offset -> "line:column" (1-based) of `text`.
std::string line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// Tracks where the parser is (a stack of objects and arrays, each with its current key or index)
// so that a key repeated in one object is an error naming its JSON path: nlohmann would keep the
// last value silently.
class DuplicateKeyCheck {
 public:
  explicit DuplicateKeyCheck(const std::string& file) : file_(file) {}

  bool operator()(int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start: stack_.push_back({false, {}, {}, 0}); break;
      case E::array_start: stack_.push_back({true, {}, {}, 0}); break;
      case E::key: {
        Frame& top = stack_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          throw InputError(json_location(file_, path()) + "duplicate key '" + top.key + "'");
        break;
      }
      case E::object_end:
      case E::array_end:
        stack_.pop_back();
        element_done();
        break;
      case E::value: element_done(); break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    std::set<std::string> keys;
    std::string key;
    std::size_t index;
  };
  void element_done() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
  }
  std::string path() const {
    std::string out;
    for (const Frame& f : stack_)
      out += "/" + (f.array ? std::to_string(f.index) : pointer_token(f.key));
    return out;
  }

  const std::string& file_;
  std::vector<Frame> stack_;
};

}  // namespace

nlohmann::json read_json_file(const std::string& file) {
  const std::string text = read_input_file(file, kTextFileLimit);
  try {
    return nlohmann::json::parse(text, DuplicateKeyCheck(file));
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("syntax error"); pos != std::string::npos) what = what.substr(pos);
    throw InputError(file + ":" + line_column(text, e.byte) + ": malformed JSON: " + what);
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number beyond a double (1e400); nlohmann does not say where.
    std::string what = e.what();
    if (const auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
    throw InputError(file + ": malformed JSON: " + what);
  }
}

namespace {

std::string type_name(const nlohmann::json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return std::string("a ") + v.type_name();
}

// Splits "<number> <unit>" (space optional). Returns false if the text does not start with a
// number.
bool split_quantity(const std::string& text, double& value, std::string& unit) {
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return false;
  }
  unit = text.substr(used);
  const auto b = unit.find_first_not_of(' ');
  unit = b == std::string::npos ? "" : unit.substr(b);
  return true;
}

// An integral JSON number (2 or 2.0) as an integer; `where` prefixes the error.
// Integers beyond 2^53 in magnitude are refused: doubles (and so most JSON tools) cannot hold them
// exactly, and sizes that large overflow the counts derived from them.
std::int64_t to_integer(const nlohmann::json& v, const std::string& where) {
  constexpr std::int64_t kMax = std::int64_t{1} << 53;
  const auto bounded = [&](std::int64_t i) {
    if (i > kMax || i < -kMax)
      throw InputError(where + "integer " + v.dump() + " is beyond the accepted range +-2^53");
    return i;
  };
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(kMax)) bounded(kMax + 1);
  if (v.is_number_integer()) return bounded(v.get<std::int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) == d && std::isfinite(d)) {
      if (std::abs(d) > double(kMax)) bounded(kMax + 1);
      return static_cast<std::int64_t>(d);
    }
  }
  throw InputError(where + "expected an integer, got " + (v.is_number() ? v.dump() : type_name(v)));
}

std::int64_t at_least(std::int64_t v, std::int64_t min, const std::string& where) {
  if (v >= min) return v;
  throw InputError(
      where +
      (min == 1 ? std::string("must be a positive integer") : "must be >= " + std::to_string(min)) +
      ", got " + std::to_string(v));
}

}  // namespace

ParamReader::ParamReader(const nlohmann::json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object())
    throw InputError(json_location(file_, path_) + "expected an object, got " + type_name(object_));
}

std::string ParamReader::path_of(const std::string& key) const {
  return path_ + "/" + pointer_token(key);
}

InputError ParamReader::error(const std::string& key, const std::string& what) const {
  return InputError(json_location(file_, key.empty() ? path_ : path_of(key)) + what);
}

bool ParamReader::has(const std::string& key) {
  known_.insert(key);
  return object_.contains(key);
}

const nlohmann::json* ParamReader::find(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end()) return nullptr;
  read_.insert(key);
  return &*it;
}

const nlohmann::json& ParamReader::at(const std::string& key) {
  if (const auto* v = find(key)) return *v;
  throw error("", "missing required key '" + key + "'");
}

std::string ParamReader::string(const std::string& key) {
  const auto& v = at(key);
  if (!v.is_string()) throw error(key, "expected a string, got " + type_name(v));
  return v.get<std::string>();
}

std::string ParamReader::string(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

std::string ParamReader::choice(const std::string& key, const std::vector<std::string>& choices,
                                const std::string& fallback) {
  const std::string v = string(key, fallback);
  for (const auto& c : choices)
    if (c == v) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  throw error(key, "'" + v + "' is not one of: " + list);
}

std::vector<std::string> ParamReader::strings(const std::string& key) {
  const auto* v = find(key);
  if (!v) return {};
  if (!v->is_array()) throw error(key, "expected a list of strings, got " + type_name(*v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string())
      throw InputError(json_location(file_, path_of(key) + "/" + std::to_string(i)) +
                       "expected a string, got " + type_name((*v)[i]));
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

bool ParamReader::boolean(const std::string& key, bool fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw error(key, "expected true or false, got " + type_name(*v));
  return v->get<bool>();
}

double ParamReader::number(const std::string& key) {
  const auto& v = at(key);
  if (!v.is_number()) throw error(key, "expected a number, got " + type_name(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw error(key, "expected a finite number");
  return d;
}

double ParamReader::number(const std::string& key, double fallback) {
  return has(key) ? number(key) : fallback;
}

std::optional<double> ParamReader::optional_number(const std::string& key) {
  if (!has(key)) return std::nullopt;
  return number(key);
}

std::int64_t ParamReader::integer(const std::string& key) {
  return to_integer(at(key), json_location(file_, path_of(key)));
}

std::int64_t ParamReader::integer(const std::string& key, std::int64_t fallback) {
  return has(key) ? integer(key) : fallback;
}

double ParamReader::positive(const std::string& key) {
  const double v = number(key);
  if (!(v > 0)) throw error(key, "must be > 0, got " + nlohmann::json(v).dump());
  return v;
}

double ParamReader::positive(const std::string& key, double fallback) {
  return has(key) ? positive(key) : fallback;
}

double ParamReader::non_negative(const std::string& key, double fallback) {
  if (!has(key)) return fallback;
  const double v = number(key);
  if (v < 0) throw error(key, "must be >= 0, got " + nlohmann::json(v).dump());
  return v;
}

std::int64_t ParamReader::positive_integer(const std::string& key) {
  return at_least(integer(key), 1, json_location(file_, path_of(key)));
}

std::int64_t ParamReader::positive_integer(const std::string& key, std::int64_t fallback) {
  return has(key) ? positive_integer(key) : fallback;
}

std::int64_t ParamReader::non_negative_integer(const std::string& key, std::int64_t fallback) {
  return has(key) ? at_least(integer(key), 0, json_location(file_, path_of(key))) : fallback;
}

namespace {

struct UnitFactor {
  const char* unit;
  double factor;
};

// Reads a quantity given as a number (in units[0]) or as "<value> <unit>", returns value*factor.
double read_quantity(ParamReader& r, const nlohmann::json* v, const std::string& key,
                     const std::string& fallback, const char* what,
                     std::initializer_list<UnitFactor> units, std::string* unit_out = nullptr) {
  std::string text;
  if (!v) {
    text = fallback;
  } else if (v->is_number()) {
    const double d = v->get<double>();
    if (!(d > 0) || !std::isfinite(d))
      throw r.error(key, std::string(what) + " must be > 0, got " + v->dump());
    if (unit_out) *unit_out = units.begin()->unit;
    return d * units.begin()->factor;
  } else if (v->is_string()) {
    text = v->get<std::string>();
  } else {
    throw r.error(key, std::string("expected a ") + what + " (a number or a string such as \"" +
                           fallback + "\"), got " + type_name(*v));
  }
  double value = 0;
  std::string unit;
  std::string accepted;
  for (const auto& u : units) accepted += (accepted.empty() ? "" : ", ") + std::string(u.unit);
  if (!split_quantity(text, value, unit))
    throw r.error(key, "cannot read '" + text + "' as a " + what + " (units: " + accepted + ")");
  for (const auto& u : units) {
    if (unit == u.unit || (unit.empty() && &u == units.begin())) {
      if (!(value > 0) || !std::isfinite(value))
        throw r.error(key, std::string(what) + " must be > 0, got '" + text + "'");
      if (unit_out) *unit_out = u.unit;
      return value * u.factor;
    }
  }
  throw r.error(key, "unknown unit '" + unit + "' in '" + text + "' (units: " + accepted + ")");
}

// The accepted ranges of quantities (docs/config-reference.md): far beyond any real design, yet
// small enough that cycles, bytes and energies derived from them stay finite and exact enough.
constexpr double kMinFrequencyHz = 1e3, kMaxFrequencyHz = 1e12;
constexpr double kMinBytesPerCycle = 1e-3, kMaxBytesPerCycle = 1e9;
constexpr double kMinBytesPerSecond = 1e3, kMaxBytesPerSecond = 1e16;
constexpr double kMaxSizeBytes = 1125899906842624.0;  // 2^50 bytes, 1 PiB

void check_range(ParamReader& r, const std::string& key, const char* what, double v, double min,
                 double max, const char* unit) {
  if (v >= min && v <= max) return;
  const auto g = [](double d) {
    std::ostringstream o;
    o << d;
    return o.str();
  };
  throw r.error(key, std::string(what) + " must be in [" + g(min) + ", " + g(max) + "] " + unit +
                         ", got " + g(v) + " " + unit);
}

}  // namespace

double ParamReader::frequency_hz(const std::string& key, const std::string& fallback) {
  const double hz = read_quantity(*this, find(key), key, fallback, "frequency",
                                  {{"MHz", 1e6}, {"Hz", 1.0}, {"kHz", 1e3}, {"GHz", 1e9}});
  check_range(*this, key, "frequency", hz, kMinFrequencyHz, kMaxFrequencyHz, "Hz");
  return hz;
}

Bandwidth ParamReader::bandwidth(const std::string& key, const std::string& fallback) {
  std::string unit;
  const double bytes = read_quantity(
      *this, find(key), key, fallback, "bandwidth",
      {{"B/cycle", 1.0}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"GiB/s", 1073741824.0}, {"TB/s", 1e12}},
      &unit);
  const bool per_cycle = unit == "B/cycle";
  if (per_cycle)
    check_range(*this, key, "bandwidth", bytes, kMinBytesPerCycle, kMaxBytesPerCycle, "B/cycle");
  else
    check_range(*this, key, "bandwidth", bytes, kMinBytesPerSecond, kMaxBytesPerSecond, "B/s");
  return Bandwidth{bytes, per_cycle};
}

std::uint64_t ParamReader::size_bytes(const std::string& key, const std::string& fallback) {
  const double b =
      read_quantity(*this, find(key), key, fallback, "size",
                    {{"B", 1.0}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}});
  check_range(*this, key, "size", b, 1, kMaxSizeBytes, "B");
  if (std::floor(b) != b) throw error(key, "a size must be a whole number of bytes");
  return static_cast<std::uint64_t>(b);
}


bool ParamReader::is_string(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  return it != object_.end() && it->is_string();
}

bool ParamReader::is_array(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  return it != object_.end() && it->is_array();
}

std::size_t ParamReader::array_size(const std::string& key) {
  const auto& v = at(key);
  if (!v.is_array()) throw error(key, "expected an array, got " + type_name(v));
  return v.size();
}

ParamReader ParamReader::item(const std::string& key, std::size_t i) {
  const auto& v = at(key);
  if (!v.is_array() || i >= v.size())
    throw error(key, "expected an array with an element " + std::to_string(i));
  return ParamReader(v[i], file_, path_of(key) + "/" + std::to_string(i));
}

std::vector<std::int64_t> ParamReader::integers(const std::string& key, std::size_t count,
                                                std::int64_t fallback, std::int64_t min) {
  const auto* v = find(key);
  if (!v) return std::vector<std::int64_t>(count, fallback);
  const auto check = [&](const nlohmann::json& e, const std::string& path) {
    const std::string where = json_location(file_, path);
    return at_least(to_integer(e, where), min, where);
  };
  if (!v->is_array()) return std::vector<std::int64_t>(count, check(*v, path_of(key)));
  if (v->size() != count)
    throw error(key, "expected one integer or an array of " + std::to_string(count) +
                         ", got an array of " + std::to_string(v->size()));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(check((*v)[i], path_of(key) + "/" + std::to_string(i)));
  return out;
}

ParamReader ParamReader::child(const std::string& key) {
  return ParamReader(at(key), file_, path_of(key));
}

std::optional<ParamReader> ParamReader::optional_child(const std::string& key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return ParamReader(*v, file_, path_of(key));
}

void ParamReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (read_.count(it.key())) continue;
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    throw InputError(json_location(file_, path_of(it.key())) + "unknown key '" + printable(it.key()) + "'" +
                     (known.empty() ? "" : " (accepted here: " + known + ")"));
  }
}

namespace {

std::vector<std::string> split_path(const std::string& assignment, const std::string& path) {
  std::vector<std::string> parts;
  const bool pointer = !path.empty() && path[0] == '/';
  const char sep = pointer ? '/' : '.';
  std::string cur;
  for (std::size_t i = pointer ? 1 : 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == sep) {
      if (cur.empty())
        throw InputError("--set " + assignment + ": empty key in path '" + path + "'");
      if (pointer) {  // undo RFC 6901 escapes
        for (std::size_t p; (p = cur.find("~1")) != std::string::npos;) cur.replace(p, 2, "/");
        for (std::size_t p; (p = cur.find("~0")) != std::string::npos;) cur.replace(p, 2, "~");
      }
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += path[i];
    }
  }
  return parts;
}

}  // namespace

void apply_json_override(nlohmann::json& doc, const std::string& file,
                         const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected path=value, e.g. dram.bandwidth=32");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  if (!doc.is_object())
    throw InputError(file + ": --set " + assignment + ": the config is not a JSON object");
  nlohmann::json* node = &doc;
  std::string where;
  const auto parts = split_path(assignment, path);
  // An existing element of an array, by its index (dram.channels.1.bandwidth).
  const auto element = [&](const std::string& part) {
    const bool digits = !part.empty() && part.size() < 10 &&
                        std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(part) >= node->size())
      throw InputError(json_location(file, where) + "--set " + assignment + ": no element '" +
                       part + "' in an array of " + std::to_string(node->size()));
    return &(*node)[std::stoul(part)];
  };
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    nlohmann::json* next = node->is_array() ? element(parts[i]) : &(*node)[parts[i]];
    where += "/" + pointer_token(parts[i]);
    if (next->is_null()) *next = nlohmann::json::object();
    if (!next->is_object() && !next->is_array())
      throw InputError(json_location(file, where) + "--set " + assignment +
                       ": cannot set a key inside a " + next->type_name());
    node = next;
  }
  if (node->is_array())
    *element(parts.back()) = std::move(value);
  else
    (*node)[parts.back()] = std::move(value);
}

std::vector<std::string> ParamReader::keys() {
  std::vector<std::string> out;
  for (auto it = object_.begin(); it != object_.end(); ++it) out.push_back(it.key());
  return out;
}

}  // namespace tessera
