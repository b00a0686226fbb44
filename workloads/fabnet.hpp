// FABNet graphs (Fan et al., MICRO 2022) from a small config: an encoder of ABfly layers
// (attention whose projections are butterflies, the artefact's "Top" layout: they come first)
// followed by FBfly layers (an FNet 2-D Fourier token mixer and a butterfly FFN), each with its
// residual adds and LayerNorms. Embeddings and the classifier are left out, as the Butterfly
// accelerator's performance model leaves them out. docs/butterfly.md describes the config.
#pragma once

#include <string>

#include "workloads/frontend.hpp"

namespace tessera::workloads {

struct FabnetConfig {
  i64 hidden = 768;      // D
  i64 ffn_ratio = 4;     // the FFN's width is ffn_ratio * D
  i64 layers = 12;       // ABfly + FBfly
  i64 abfly_layers = 0;  // attention layers, first in the stack
  i64 heads = 12;        // ABfly attention heads (D divisible by it)
  i64 seq_len = 128;     // L when LoadOptions::seq_len is absent
  int bits = 16;
  i64 fbfly_layers() const { return layers - abfly_layers; }
};

// Reads a config whose "model_type" is "fabnet"; errors name the file and the JSON path.
FabnetConfig read_fabnet_config(const std::string& path);
Graph build_fabnet(const FabnetConfig& config, const std::string& file,
                   const LoadOptions& options = {});
Graph read_fabnet(const std::string& path, const LoadOptions& options = {});
// True if `path` holds a JSON object whose "model_type" is "fabnet". Never throws.
bool looks_like_fabnet_config(const std::string& path);

}  // namespace tessera::workloads
