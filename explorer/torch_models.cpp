#include "explorer/torch_models.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "common/error.hpp"

namespace tessera::explorer {

namespace {

constexpr int kAbi = 1;  // must match explorer/torch/module.cpp

struct Module {
  void* handle = nullptr;
  std::string error;
};

const Module& module() {
  static const Module m = [] {
    Module out;
    std::vector<std::string> tried;
    if (const char* env = std::getenv("TESSERA_TORCH_MODELS")) tried.emplace_back(env);
#ifdef TESSERA_TORCH_MODELS_PATH
    tried.emplace_back(TESSERA_TORCH_MODELS_PATH);
#endif
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) tried.push_back((exe.parent_path() / "libtessera_torch_models.so").string());
    std::string why;
    for (const auto& path : tried) {
      if (!std::filesystem::exists(path, ec)) {
        why += (why.empty() ? "" : "; ") + path + ": not found";
        continue;
      }
      out.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (out.handle) {
        using Abi = int (*)();
        auto abi = reinterpret_cast<Abi>(dlsym(out.handle, "tessera_torch_models_abi"));
        if (abi && abi() == kAbi) return out;
        why += (why.empty() ? "" : "; ") + path + ": interface version differs";
        dlclose(out.handle);
        out.handle = nullptr;
        continue;
      }
      why += (why.empty() ? "" : "; ") + std::string(dlerror());
    }
    out.error = "the libtorch models module is not available (build with TESSERA_WITH_TORCH=ON, "
                "or set TESSERA_TORCH_MODELS): " +
                (why.empty() ? std::string("no path to try") : why);
    return out;
  }();
  return m;
}

}  // namespace

void* torch_models_symbol(const std::string& name) {
  const Module& m = module();
  if (!m.handle) throw UnsupportedError(m.error);
  void* f = dlsym(m.handle, name.c_str());
  if (!f) throw UnsupportedError("the libtorch models module has no '" + name + "'");
  return f;
}

}  // namespace tessera::explorer
