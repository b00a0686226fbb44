// Workload front-ends: each turns a file into a Graph. One registry holds them; load_workload()
// picks the first front-end that accepts the path (by extension or content), so the CLI takes
// any supported file with one `--workload` flag.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/registry.hpp"
#include "workloads/compression.hpp"
#include "workloads/graph.hpp"

namespace tessera::workloads {

// What a front-end may need besides the file: sizes for models whose inputs are symbolic or
// configurable, the transformer phase, and how to treat operators it cannot model.
struct LoadOptions {
  std::optional<i64> batch;       // batch size (ONNX: the leading dimension of every input)
  std::optional<i64> image_size;  // ONNX image inputs: H = W = image_size
  std::optional<i64> seq_len;     // transformers: prompt length; ONNX: symbolic sequence dims
  // ONNX: full shapes by graph input name; these win over batch/image_size/seq_len.
  std::map<std::string, std::vector<i64>> input_shapes;
  // Transformers: "prefill" (the whole prompt) or "decode" (one new token per sequence against
  // a KV cache holding kv_len earlier tokens).
  std::string phase = "prefill";
  std::optional<i64> kv_len;
  // Transformers, decode: new tokens per sequence in the step (default 1); more verify a
  // speculative draft in one pass (sim/generation.hpp). Not a workload setting.
  std::optional<i64> decode_tokens;
  // Transformers with grouped- or multi-query attention: "per_group" reads each key/value head
  // once for its group of query heads (FlashDecoding, vLLM); "per_query_head" once per query
  // head. docs/transformers.md.
  std::string kv_read = "per_group";
  // Transformers: stored precision of the KV cache in bits; absent = the activation precision.
  std::optional<int> kv_bits;
  // Mixture-of-experts transformers: distinct experts the step's tokens use per layer; absent =
  // the expected number when every token picks its top-k of E experts uniformly.
  std::optional<i64> experts_touched;
  // Transformers: MoDeGPT-style module decomposition, the layers' reduced inner dimensions
  // (workloads/compression.hpp).
  std::optional<ModuleDecomposition> modegpt;
  // Fold batch norms into the convolution or matrix product before them (workloads/passes.hpp),
  // as inference compilers do. Applies to every front-end.
  bool fold_batch_norms = true;
  // An operator no front-end rule covers becomes a zero-cost node and a warning instead of an
  // error.
  bool allow_unsupported = false;
  // Receives warnings (unsupported operators kept as zero-cost nodes, ignored attributes). When
  // empty, warnings go to stderr.
  std::function<void(const std::string&)> warn;
  // ONNX: called for each node with its operator type ("domain::Type" outside ai.onnx) and what
  // it became: an IR kind (conv, matmul, elementwise, pool, softmax, norm, embedding,
  // data_movement), "folded" (a constant computation), "bypassed" (Identity, Dropout) or
  // "unsupported" (kept as a zero-cost node). `tessera inspect` tallies them.
  std::function<void(const std::string& op_type, const std::string& became)> on_node;

  void warning(const std::string& text) const;
  // The names of the options that are set (allow_unsupported and warn aside).
  std::vector<std::string> given() const;
};

struct FrontEnd {
  // True if this front-end reads `path` (decided from the name, and the content where needed).
  std::function<bool(const std::string& path)> accepts;
  // Reads the file. Throws InputError naming the file and the place in it.
  std::function<Graph(const std::string& path, const LoadOptions& options)> load;
  // The LoadOptions it uses ("batch", "image_size", "seq_len", "input_shapes", "phase",
  // "kv_len"); load_workload() rejects others that are set, rather than ignore them.
  std::vector<std::string> options;
};

// The built-in front-ends (`tessera list` shows them with their descriptions).
const Registry<FrontEnd>& frontends();

// Loads a workload with the first front-end that accepts it. Throws InputError for a missing
// file, a file no front-end accepts, or an empty workload; the graph is checked to be acyclic.
Graph load_workload(const std::string& path, const LoadOptions& options = {});
// The same for a graph `build` makes from `path`'s model instead of front-end `frontend`'s reader
// (a co-design point's transformer with other sizes): the options that front-end does not take
// are refused, and the graph is checked and finished as a loaded one.
Graph load_workload(const std::string& path, const std::string& frontend,
                    const LoadOptions& options, const std::function<Graph()>& build);

}  // namespace tessera::workloads
