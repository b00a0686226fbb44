#include "cli/files.hpp"

#include <filesystem>
#include <fstream>

#include "common/error.hpp"

namespace tessera::cli {

void write_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir))
    throw InputError(path + ": directory " + dir.string() + " does not exist");
  const fs::path tmp = dir / (target.filename().string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(path + ": cannot write (" + tmp.string() + ")");
    f << text;
    f.flush();
    if (!f) throw InputError(path + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(path + ": cannot replace file: " + ec.message());
  }
}

}  // namespace tessera::cli
