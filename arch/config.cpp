#include "arch/config.hpp"

#include <cctype>
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

void apply_override(ArchDocument& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected path=value, e.g. dram.bandwidth=32");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  if (!doc.json.is_object())
    throw InputError(doc.file + ": --set " + assignment + ": the config is not a JSON object");
  nlohmann::json* node = &doc.json;
  std::string where;
  const auto parts = split_path(assignment, path);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    where += "/" + pointer_token(parts[i]);
    nlohmann::json& next = (*node)[parts[i]];
    if (next.is_null()) next = nlohmann::json::object();
    if (!next.is_object())
      throw InputError(json_location(doc.file, where) + "--set " + assignment +
                       ": cannot set a key inside a " + next.type_name());
    node = &next;
  }
  (*node)[parts.back()] = std::move(value);
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
