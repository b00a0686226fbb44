// Architecture configs, in two layers:
//   1. ArchDocument: the parsed JSON of a config file, with `--set path=value` overrides applied.
//   2. ArchConfig: a validated, immutable engine built from it by the engine template that the
//      "engine" key names, with defaults and units applied.
// Every error names the file and the JSON path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/engine.hpp"

namespace tessera::arch {

struct ArchDocument {
  std::string file;  // for messages; "<inline>" for configs built in code
  nlohmann::json json;
};

ArchDocument read_arch_document(const std::string& path);

// Applies one override "a.b.c=value" (the path in dots, or as a JSON pointer "/a/b/c"). The
// value is read as JSON when it parses (numbers, true/false, quoted strings, objects), otherwise
// as a plain string, so `--set clock="1 GHz"` and `--set clock=1GHz` both work. Missing objects
// on the path are created; the engine then rejects keys it does not know.
void apply_override(ArchDocument& doc, const std::string& assignment);

struct ArchConfig {
  std::string name;  // the optional "name" key, else the file stem
  std::shared_ptr<const Engine> engine;
  nlohmann::json resolved;  // {"engine":..., "name":..., every engine parameter}
  std::string hash;         // json_hash of `resolved` without "name": identifies the design point
};

ArchConfig build_arch(const ArchDocument& doc);

// The label of `base` changed by `overrides`: "base[a.b=1,c=\"ws\"]" (the overrides as given,
// JSON pointers in dots), or `base` without overrides.
std::string overridden_name(const std::string& base, const std::vector<std::string>& overrides);

// read_arch_document + overrides + build_arch. Overrides that do not set "name" relabel the
// config with overridden_name(), so a report never shows a changed design under its file's name.
ArchConfig load_arch(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace tessera::arch
