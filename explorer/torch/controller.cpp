// NASAIC's RNN controller in libtorch (explorer/controller.hpp).
#include <torch/torch.h>
