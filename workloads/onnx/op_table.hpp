// The ONNX front-end's operator tables, as data (docs/onnx.md lists them): which ai.onnx schemas
// changed after opset 17 (the newest ONNX 1.12 knows), and how each operator type maps onto the
// IR when it is not one of the importer's structured cases (convolutions, matrix products,
// pooling, normalisations, attention, recurrent cells).
#pragma once

#include <optional>
#include <string>

#include "workloads/operator.hpp"

namespace tessera::workloads::onnx_import {

// The newest opset in (17, opset] where the ai.onnx operator's inputs, attributes or output
// shapes changed (a change of allowed types only does not count); nullopt if none. For those
// nodes ONNX 1.12's shape inference would apply an older schema, so Tessera's rules take over.
std::optional<int> schema_change_after_17(const std::string& op, i64 opset);

// ai.onnx operators whose Tessera shape rule is used at every opset: Einsum (ONNX 1.12 infers
// only its rank), GatherND (1.12's inference reads out of bounds for a bad batch_dims) and
// Resize (1.12 turns scales <= 0 or not finite into sizes <= 0 or an overflowing cast).
bool tessera_rule_at_every_opset(const std::string& op);

enum class Mapping {
  elementwise,  // pointwise over the output (activations, arithmetic, casts, Q/DQ)
  reduction,    // one pass over the input (Reduce*, ArgMax, TopK, CumSum)
  movement,     // data movement (move_type says which)
};
struct OpMapping {
  Mapping mapping;
  MoveType move_type = MoveType::copy;
};
// The generic mapping of an ai.onnx (or com.microsoft elementwise) operator type; nullopt for
// the structured cases and for unknown operators.
std::optional<OpMapping> generic_mapping(const std::string& domain, const std::string& op);

}  // namespace tessera::workloads::onnx_import
