// BOSHCODE's surrogate in libtorch (explorer/surrogate.hpp).
#include <torch/torch.h>
