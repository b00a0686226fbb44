// ONNX front-end: imports an ONNX model (ai.onnx opsets 7 to 23, as today's exporters and
// onnxruntime's quantizer write them) into the workload IR. Shapes come from ONNX's own shape
// inference where its schemas (ONNX 1.12: opsets up to 17) are the model's, from Tessera's rules
// where they are not, and from a constant folder for the shape computations;
// docs/onnx.md lists what is imported and how. ONNX and protobuf stay inside workloads/onnx/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "workloads/frontend.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {

// Reads an ONNX model. Throws InputError naming the file (and the node) for a file that does
// not parse, an unsupported opset, a dynamic dimension without an override, a cycle, or an
// operator the IR cannot express (unless options.allow_unsupported).
Graph read_onnx(const std::string& path, const LoadOptions& options = {});

// The dims of the model's graph outputs after shape propagation (an output whose shape is not
// known is absent). For tests and tools; errors as read_onnx.
std::map<std::string, std::vector<i64>> onnx_output_shapes(const std::string& path,
                                                          const LoadOptions& options = {});

// True for *.onnx (any case).
bool looks_like_onnx(const std::string& path);

}  // namespace tessera::workloads
