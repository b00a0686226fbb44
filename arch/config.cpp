#include "arch/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <filesystem>

#include "arch/scalesim_cfg.hpp"
#include "common/hash.hpp"

namespace tessera::arch {

// A SCALE-Sim v2 .cfg becomes the JSON of an equivalent systolic config; anything else is JSON.
ArchDocument read_arch_document(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".cfg") return {path, read_scalesim_cfg(path)};
  return {path, read_json_file(path)};
}

void apply_override(ArchDocument& doc, const std::string& assignment) {
  apply_json_override(doc.json, doc.file, assignment);
}

ArchConfig build_arch(const ArchDocument& doc) {
  ParamReader r(doc.json, doc.file);
  const std::string engine_name = r.string("engine");
  const EngineFactory* factory = nullptr;
  try {
    factory = &engines().get(engine_name);
  } catch (const InputError& e) {
    throw r.error("engine", e.what());
  }
  ArchConfig cfg;
  cfg.name = r.string("name", std::filesystem::path(doc.file).stem().string());
  std::shared_ptr<Engine> engine = (*factory)(r);
  r.finish();
  cfg.resolved = engine->resolved_config();
  cfg.resolved["engine"] = engine_name;
  cfg.hash = json_hash(cfg.resolved);  // the design point, without its label
  cfg.resolved["name"] = cfg.name;
  cfg.engine = std::move(engine);
  return cfg;
}

std::string overridden_name(const std::string& base, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return base;
  std::string name = base + "[";
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    const std::string& o = overrides[i];
    const std::size_t eq = o.find('=');
    std::string key = o.substr(0, eq);
    if (!key.empty() && key.front() == '/') {  // a JSON pointer reads as the dotted path
      key.erase(0, 1);
      std::replace(key.begin(), key.end(), '/', '.');
    }
    name += (i ? "," : "") + key + (eq == std::string::npos ? "" : o.substr(eq));
  }
  return name + "]";
}

ArchConfig load_arch(const std::string& path, const std::vector<std::string>& overrides) {
  ArchDocument doc = read_arch_document(path);
  for (const auto& o : overrides) apply_override(doc, o);
  ArchConfig cfg = build_arch(doc);
  // An override of "name" itself came through build_arch; any other makes a different design
  // than the one the file names, so the label says what changed.
  const bool named = std::any_of(overrides.begin(), overrides.end(), [](const std::string& o) {
    return o.rfind("name=", 0) == 0 || o.rfind("/name=", 0) == 0;
  });
  if (!named && !overrides.empty()) {
    cfg.name = overridden_name(cfg.name, overrides);
    cfg.resolved["name"] = cfg.name;
  }
  return cfg;
}

}  // namespace tessera::arch
