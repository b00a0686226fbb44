#include "arch/scalesim_cfg.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace tessera::arch {

namespace {

enum class Role {
  used,           // read into the Tessera config
  ignored,        // accepted, no effect on timing
  must_be_false,  // a switch: false is accepted, true asks for something Tessera does not model
};

struct Key {
  std::string_view section;
  std::string_view name;  // as SCALE-Sim spells it; matched case-insensitively
  Role role;
  std::string_view why;  // ignored: why it does not matter; must_be_false: what is not modelled
};

// Every key SCALE-Sim v2 reads (and the layout keys its shipped scale.cfg carries). Ignored:
//   IfmapOffset, FilterOffset, OfmapOffset   DRAM address bases, used only to write traces
//   MemoryBanks                              bank count of the trace address map
//   ReadRequestBuffer, WriteRequestBuffer    request queues of the Ramulator trace flow
//   OnChipMemoryBanks, OnChipMemoryBankPorts, {Ifmap,Filter}SRAMBank{Bandwidth,Num,Port}
//                                            SRAM banking, used only with a custom layout
//   TopologyCsvLoc                           the workload is given to Tessera separately
//   SparseRep, OptimizedMapping, BlockSize, NonZeroElems, RandomNumberGeneratorSeed
//                                            read by SCALE-Sim only when SparsitySupport is true
// Errors when true: SparsitySupport, IfmapCustomLayout, FilterCustomLayout, UseRamulatorTrace.
constexpr std::string_view kTraceOnly = "it only places operands in the address traces";
constexpr std::string_view kLayoutOnly =
    "it only matters for SCALE-Sim's SRAM bank-conflict evaluation of a custom layout";
constexpr std::string_view kSparseOnly = "SCALE-Sim reads it only when SparsitySupport is true";
constexpr std::string_view kNoLayout =
    "a custom on-chip data layout enables SCALE-Sim's SRAM bank-conflict evaluation, which "
    "Tessera does not model";

const Key kKeys[] = {
    {"general", "run_name", Role::used, ""},
    {"architecture_presets", "ArrayHeight", Role::used, ""},
    {"architecture_presets", "ArrayWidth", Role::used, ""},
    {"architecture_presets", "IfmapSramSzkB", Role::used, ""},
    {"architecture_presets", "FilterSramSzkB", Role::used, ""},
    {"architecture_presets", "OfmapSramSzkB", Role::used, ""},
    {"architecture_presets", "Dataflow", Role::used, ""},
    {"architecture_presets", "Bandwidth", Role::used, ""},
    {"architecture_presets", "IfmapOffset", Role::ignored, kTraceOnly},
    {"architecture_presets", "FilterOffset", Role::ignored, kTraceOnly},
    {"architecture_presets", "OfmapOffset", Role::ignored, kTraceOnly},
    {"architecture_presets", "MemoryBanks", Role::ignored, kTraceOnly},
    {"architecture_presets", "ReadRequestBuffer", Role::ignored, "Ramulator flow only"},
    {"architecture_presets", "WriteRequestBuffer", Role::ignored, "Ramulator flow only"},
    {"architecture_presets", "OnChipMemoryBanks", Role::ignored, kLayoutOnly},
    {"architecture_presets", "OnChipMemoryBankPorts", Role::ignored, kLayoutOnly},
    {"architecture_presets", "IfmapSRAMBankBandwidth", Role::ignored, kLayoutOnly},
    {"architecture_presets", "IfmapSRAMBankNum", Role::ignored, kLayoutOnly},
    {"architecture_presets", "IfmapSRAMBankPort", Role::ignored, kLayoutOnly},
    {"architecture_presets", "FilterSRAMBankBandwidth", Role::ignored, kLayoutOnly},
    {"architecture_presets", "FilterSRAMBankNum", Role::ignored, kLayoutOnly},
    {"architecture_presets", "FilterSRAMBankPort", Role::ignored, kLayoutOnly},
    {"architecture_presets", "IfmapCustomLayout", Role::must_be_false, kNoLayout},
    {"architecture_presets", "FilterCustomLayout", Role::must_be_false, kNoLayout},
    {"run_presets", "InterfaceBandwidth", Role::used, ""},
    {"run_presets", "UseRamulatorTrace", Role::must_be_false,
     "Ramulator DRAM timing is not modelled (Tessera's DRAM is a bandwidth)"},
    {"network_presets", "TopologyCsvLoc", Role::ignored, "give the workload to Tessera instead"},
    {"sparsity", "SparsitySupport", Role::must_be_false,
     "sparse operands change SCALE-Sim's mapping, cycles and traffic, and Tessera does not model "
     "sparsity"},
    {"sparsity", "SparseRep", Role::ignored, kSparseOnly},
    {"sparsity", "OptimizedMapping", Role::ignored, kSparseOnly},
    {"sparsity", "BlockSize", Role::ignored, kSparseOnly},
    {"sparsity", "NonZeroElems", Role::ignored, kSparseOnly},
    {"sparsity", "RandomNumberGeneratorSeed", Role::ignored, kSparseOnly},
};

const std::vector<std::string_view> kSections = {"general", "architecture_presets", "run_presets",
                                                 "network_presets", "sparsity"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\f\v");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\f\v") - b + 1));
}

template <typename Range>
std::string join(const Range& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

const Key* find_key(std::string_view section, const std::string& lowered) {
  for (const auto& k : kKeys)
    if (k.section == section && lower(k.name) == lowered) return &k;
  return nullptr;
}

std::string known_keys(std::string_view section) {
  std::vector<std::string> names;
  for (const auto& k : kKeys)
    if (k.section == section) names.emplace_back(k.name);
  return join(names);
}

struct Entry {
  const Key* key;
  std::string value;  // trimmed
  int line;
};

struct Section {
  int line;
  std::map<std::string_view, Entry> entries;  // by Key::name
};

class Cfg {
 public:
  explicit Cfg(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  InputError error(int line, const std::string& what) const {
    return InputError(file_ + ":" + std::to_string(line) + ": " + what);
  }

  const Entry* find(std::string_view section, std::string_view key) const {
    const auto s = sections_.find(std::string(section));
    if (s == sections_.end()) return nullptr;
    const auto e = s->second.entries.find(key);
    return e == s->second.entries.end() ? nullptr : &e->second;
  }

  // The entry of a required key; the error names the file, the section and the key.
  const Entry& require(std::string_view section, std::string_view key,
                       std::string_view meaning) const {
    if (const Entry* e = find(section, key)) return *e;
    const std::string where = "[" + std::string(section) + "]";
    if (sections_.count(std::string(section)) == 0)
      throw InputError(file_ + ": no " + where + " section, but " + std::string(key) +
                       " is required (" + std::string(meaning) + ")");
    throw InputError(file_ + ": " + where + " has no " + std::string(key) +
                     " (required: " + std::string(meaning) + ")");
  }

  void parse(std::istream& in);

 private:
  void add_entry(const std::string& section, const std::string& key_text, std::string value,
                 int line);

  std::string file_;
  std::map<std::string, Section> sections_;
};

// configparser's boolean words; SCALE-Sim compares some switches to "true"/"True" only, so any
// true word here is treated as on (an error), never silently as off.
std::optional<bool> boolean(const std::string& value) {
  const std::string v = lower(value);
  if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
  if (v == "0" || v == "no" || v == "false" || v == "off") return false;
  return std::nullopt;
}

// SCALE-Sim keeps "# ..." after a value as part of it; say so when a bad value contains one.
std::string inline_comment_hint(const std::string& value) {
  if (value.find_first_of("#;") == std::string::npos) return "";
  return " (a comment must be on its own line: configparser keeps text after '#' or ';' in the "
         "value)";
}

void Cfg::add_entry(const std::string& section, const std::string& key_text, std::string value,
                    int line) {
  const std::string lowered = lower(key_text);
  const Key* key = find_key(section, lowered);
  if (!key) {
    std::string hint;
    for (const auto& k : kKeys)
      if (lower(k.name) == lowered)
        hint = "; " + std::string(k.name) + " belongs in [" + std::string(k.section) + "]";
    throw error(line, "unknown key '" + key_text + "' in [" + section + "]" + hint +
                          " (accepted here: " + known_keys(section) + ")");
  }
  Section& s = sections_.at(section);
  if (const auto prev = s.entries.find(key->name); prev != s.entries.end())
    throw error(line, "duplicate key '" + key_text + "' in [" + section + "] (first set on line " +
                          std::to_string(prev->second.line) + ")");
  if (key->role == Role::must_be_false) {
    const auto on = boolean(value);
    if (!on)
      throw error(line, std::string(key->name) + ": expected True or False, got '" + value + "'" +
                            inline_comment_hint(value));
    if (*on)
      throw error(line, std::string(key->name) + " = " + value +
                            " is not supported: " + std::string(key->why));
  }
  s.entries.emplace(key->name, Entry{key, std::move(value), line});
}

// configparser (strict, default options): whole-line comments, `[section]` headers, `key: value`
// or `key = value`; a line indented deeper than the key before it continues that key's value.
void Cfg::parse(std::istream& in) {
  std::string raw;
  std::string section;         // current section; empty before the first header
  std::size_t key_indent = 0;  // indentation of the last key line in this section
  std::string last_key;        // that key, for the continuation-line error
  int last_key_line = 0;
  for (int line = 1; std::getline(in, raw); ++line) {
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (line == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);  // UTF-8 BOM
    const std::string text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    const std::size_t indent = raw.find_first_not_of(" \t\f\v");

    if (!last_key.empty() && indent > key_indent)
      throw error(line, "indented line continues the value of '" + last_key + "' (line " +
                            std::to_string(last_key_line) +
                            "); multi-line values are not supported, remove the indentation");

    if (text[0] == '[') {
      if (text.back() != ']') throw error(line, "section header '" + text + "' lacks a ']'");
      section = text.substr(1, text.size() - 2);
      last_key.clear();
      if (std::find(kSections.begin(), kSections.end(), section) == kSections.end()) {
        std::string hint;
        for (const auto& s : kSections)
          if (lower(trim(section)) == s)
            hint = "; section names are case-sensitive and spaces count: write [" + std::string(s) +
                   "]";
        throw error(
            line, "unknown section [" + section + "]" + hint + " (known: " + join(kSections) + ")");
      }
      if (const auto prev = sections_.find(section); prev != sections_.end())
        throw error(line, "duplicate section [" + section + "] (first on line " +
                              std::to_string(prev->second.line) + ")");
      sections_.emplace(section, Section{line, {}});
      continue;
    }

    const auto delim = text.find_first_of("=:");
    if (delim == std::string::npos)
      throw error(line, "expected 'key: value' or 'key = value', got '" + text + "'");
    const std::string key = trim(std::string_view(text).substr(0, delim));
    if (key.empty()) throw error(line, "no key before '" + std::string(1, text[delim]) + "'");
    if (section.empty()) throw error(line, "key '" + key + "' comes before any [section] header");
    add_entry(section, key, trim(std::string_view(text).substr(delim + 1)), line);
    key_indent = indent;
    last_key = key;
    last_key_line = line;
  }
}

// Python's int() of a positive value, as SCALE-Sim reads every number (no '_' separators).
std::int64_t positive_integer(const Cfg& cfg, const Entry& e, const std::string& text) {
  std::string_view v = text;
  if (!v.empty() && v[0] == '+') v.remove_prefix(1);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out <= 0)
    throw cfg.error(e.line, std::string(e.key->name) + ": expected a positive integer, got '" +
                                text + "'" + inline_comment_hint(text));
  return out;
}

std::int64_t positive_integer(const Cfg& cfg, const Entry& e) {
  return positive_integer(cfg, e, e.value);
}

}  // namespace

nlohmann::json scalesim_cfg_to_config(std::istream& in, const std::string& file) {
  Cfg cfg(file);
  cfg.parse(in);
  constexpr std::string_view arch = "architecture_presets";

  // Required keys first, in SCALE-Sim's order, so a missing one is reported before bad values.
  const Entry& rows = cfg.require(arch, "ArrayHeight", "rows of the systolic array");
  const Entry& cols = cfg.require(arch, "ArrayWidth", "columns of the systolic array");
  const Entry& ifmap = cfg.require(arch, "IfmapSramSzkB", "ifmap SRAM size in KiB");
  const Entry& filter = cfg.require(arch, "FilterSramSzkB", "filter SRAM size in KiB");
  const Entry& ofmap = cfg.require(arch, "OfmapSramSzkB", "ofmap SRAM size in KiB");
  const Entry& dataflow = cfg.require(arch, "Dataflow", "os, ws or is");

  nlohmann::json out;
  out["engine"] = "systolic";
  const Entry* run_name = cfg.find("general", "run_name");
  out["name"] = run_name && !run_name->value.empty() ? run_name->value
                                                     : std::filesystem::path(file).stem().string();

  // SCALE-Sim compares the dataflow exactly (lower case).
  if (dataflow.value != "os" && dataflow.value != "ws" && dataflow.value != "is")
    throw cfg.error(dataflow.line, "Dataflow: expected os, ws or is, got '" + dataflow.value + "'" +
                                       inline_comment_hint(dataflow.value));
  out["systolic"] = {{"rows", positive_integer(cfg, rows)},
                     {"cols", positive_integer(cfg, cols)},
                     {"dataflow", dataflow.value},
                     {"mode", "scalesim"}};

  // SCALE-Sim's word is one byte, so KiB of words are KiB of bytes.
  auto kib = [&](const Entry& e) { return std::to_string(positive_integer(cfg, e)) + " KiB"; };
  out["sram"] = {{"ifmap", kib(ifmap)}, {"filter", kib(filter)}, {"ofmap", kib(ofmap)}};

  // CALC: stall-free, SCALE-Sim reports the bandwidth it would need and never reads Bandwidth.
  // USER: Bandwidth is a comma-separated list (one per memory bank in some versions); SCALE-Sim
  // parses every value but simulates all three operands with the first, and so does Tessera.
  const Entry* mode = cfg.find("run_presets", "InterfaceBandwidth");
  if (mode && mode->value != "CALC" && mode->value != "USER")
    throw cfg.error(mode->line, "InterfaceBandwidth: expected CALC or USER, got '" + mode->value +
                                    "'" + inline_comment_hint(mode->value));
  if (mode && mode->value == "USER") {
    const Entry* bw = cfg.find(arch, "Bandwidth");
    if (!bw)
      throw cfg.error(mode->line,
                      "InterfaceBandwidth is USER but [architecture_presets] has no Bandwidth "
                      "(DRAM words per cycle)");
    std::vector<std::int64_t> values;
    std::size_t start = 0;
    for (std::size_t comma;; start = comma + 1) {
      comma = bw->value.find(',', start);
      values.push_back(positive_integer(cfg, *bw, trim(bw->value.substr(start, comma - start))));
      if (comma == std::string::npos) break;
    }
    out["dram"] = {{"bandwidth", values.front()}};
  } else {
    out["dram"] = {{"bandwidth", "unlimited"}};
  }
  return out;
}

nlohmann::json read_scalesim_cfg(const std::string& path) {
  std::istringstream in(read_input_file(path, kTextFileLimit));
  return scalesim_cfg_to_config(in, path);
}

}  // namespace tessera::arch
