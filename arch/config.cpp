#include "arch/config.hpp"

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

ArchConfig load_arch(const std::string& path, const std::vector<std::string>& overrides) {
  ArchDocument doc = read_arch_document(path);
  for (const auto& o : overrides) apply_override(doc, o);
  return build_arch(doc);
}

}  // namespace tessera::arch
