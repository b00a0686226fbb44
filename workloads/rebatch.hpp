// Views of a workload for serving: the same network run on a batch of requests, and its layers
// split into the stages between early exits. Owns only these functions; includes workloads/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/graph.hpp"

namespace tessera::workloads {

// `graph` (as loaded, for one request) on `batch` requests at once: every operator's batch
// dimension multiplied by `batch` (convolutions and pools: n; a matrix product with weights: its
// rows m, which are the tokens or samples; between activations: its batch; elementwise, softmax,
// norms, embeddings and data movement: their element, row or token counts). Weights are shared
// by the batch. InputError naming the operator when a count would not fit in 64 bits.
Graph rebatch(const Graph& graph, i64 batch);

// An early-exit classifier to attach to a network: after operator `after`, a global average
// pool over its output channels and a fully connected layer to `classes` outputs, whose output is
// exit `index` (Operator::early_exit, on both head operators) with `probability` (the fraction
// of all inputs leaving there). The head's operators are named "exitI.pool" and "exitI.fc".
struct ExitHead {
  std::string after;
  double probability = 0;
  std::int64_t classes = 10;
};
// `graph` with the heads added, exits numbered in the order given. `after` must name a
// convolution, a pool, or an operator whose output is a convolution's or pool's (an
// elementwise function or norm after one); InputError naming it otherwise.
Graph add_exit_heads(const Graph& graph, const std::vector<ExitHead>& heads, const std::string& where);

// A network split at its early exits (Operator::early_exit), in the order a request runs them.
// Stage e (for each exit index e present, ascending) holds every operator that exit e's
// operators need (their ancestors and themselves) and no earlier stage holds, and the unmarked
// operators that come before the latest unmarked one of those in topological order (so that a
// graph without edges, run in its listed order, splits at the exit's operator); operators
// marked with an early exit form the exit heads. The last stage holds the rest (none when nothing is left after the last exit). A stage's inputs from earlier
// stages are read from memory (they are graph inputs of its own graph). Without exits: one stage,
// the whole graph.
struct ExitStages {
  std::vector<Graph> stages;
  // exit_probability[e]: the fraction of all requests that leave after stage e (the exit's
  // Operator::early_exit probability; 0 when it has none). One per stage; the last stage's
  // is whatever is left (1 - the others).
  std::vector<double> exit_probability;
};
ExitStages split_stages(const Graph& graph);

}  // namespace tessera::workloads
