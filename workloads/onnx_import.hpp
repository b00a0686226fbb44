// ONNX front-end: imports an ONNX model (as PyTorch exports it) into the workload IR. Shapes come
// from ONNX's own shape inference with data propagation, after input-size overrides, and from
// a small constant folder for the shape computations (Shape -> Gather -> Concat -> Reshape);
// docs/onnx.md lists what is imported and how. ONNX and protobuf stay inside onnx_import.cpp.
#pragma once

#include <string>

#include "workloads/frontend.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {

// Reads an ONNX model. Throws InputError naming the file (and the node) for a file that does
// not parse, an unsupported opset, a dynamic dimension without an override, a cycle, or an
// operator the IR cannot express (unless options.allow_unsupported).
Graph read_onnx(const std::string& path, const LoadOptions& options = {});

// True for *.onnx (any case).
bool looks_like_onnx(const std::string& path);

}  // namespace tessera::workloads
