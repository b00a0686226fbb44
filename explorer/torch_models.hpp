// Finds the libtorch models module (explorer/torch) at run time. The module is loaded on first
// use, so commands that need no autograd do not pay libtorch's start-up; its entry points take
// and return plain data and Tessera's own classes only through explorer/surrogate.hpp and
// explorer/controller.hpp.
#pragma once

#include <string>

namespace tessera::explorer {

// The address of the module's exported function `name`. Loads the module on first call, from
// $TESSERA_TORCH_MODELS, else the path it was built at, else beside the running executable.
// Throws UnsupportedError naming what was tried when the module is absent (built with
// TESSERA_WITH_TORCH=OFF), fails to load, or lacks `name`.
void* torch_models_symbol(const std::string& name);

}  // namespace tessera::explorer
