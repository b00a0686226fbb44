#include "workloads/frontend.hpp"

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <filesystem>
#include <map>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "workloads/fabnet.hpp"
#include "workloads/json_format.hpp"
#include "workloads/passes.hpp"
#include "workloads/nasbench201.hpp"
#include "workloads/onnx_import.hpp"
#include "workloads/scalesim_topology.hpp"
#include "workloads/transformer.hpp"

namespace tessera::workloads {

namespace {

// Sums over a whole workload: per-operator counts stay 16 times below the i64 range, which leaves
// the engines room to scale them to cycles and bytes; exit probabilities (fractions of all inputs
// leaving at each exit) add up to at most 1.
void check_totals(const Graph& graph, const std::string& path) {
  constexpr i64 kMaxTotal = kMaxCount << 4;
  i64 macs = 0, elements = 0;
  std::map<int, double> exits;  // exit index -> probability
  double exiting = 0;
  for (Graph::Node n = 0; n < graph.size(); ++n) {
    const Operator& op = graph.op(n);
    const std::string at = path + ": operator '" + op.name + "': ";
    if (op.early_exit && op.early_exit->probability) {
      const double p = *op.early_exit->probability;
      const auto [it, added] = exits.emplace(op.early_exit->index, p);
      if (!added && it->second != p)
        throw InputError(at + "early_exit " + std::to_string(it->first) + " has probability " +
                         std::to_string(p) + " here and " + std::to_string(it->second) +
                         " on an earlier operator");
      if (added) exiting += p;
      if (exiting > 1 + 1e-9)
        throw InputError(at + "early_exit probabilities sum to " + std::to_string(exiting) +
                         ", more than 1 (each is the fraction of all inputs leaving there)");
    }
    macs += op.macs();  // each at most kMaxCount, checked against the total at every step
    elements += op.input_elements() + op.output_elements();
    if (macs > kMaxTotal || elements > kMaxTotal)
      throw InputError(at + "the workload's total " +
                       (macs > kMaxTotal ? "MACs" : "input and output elements") +
                       " exceed 2^57 (the largest total Tessera accepts)");
  }
}

bool has_extension(const std::string& path, const std::string& ext) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ext;
}

Registry<FrontEnd> make_frontends() {
  Registry<FrontEnd> r("workload front-end");
  r.add("json", "Tessera workload JSON, *.json (docs/workload-format.md)",
        {[](const std::string& p) {
           return has_extension(p, ".json") && !looks_like_model_config(p);
         },
         [](const std::string& p, const LoadOptions&) { return read_workload_json(p); },
         {}});
  r.add("scalesim", "SCALE-Sim v2 topology CSV, conv or GEMM, *.csv",
        {[](const std::string& p) {
           return has_extension(p, ".csv") || looks_like_scalesim_topology(p);
         },
         [](const std::string& p, const LoadOptions&) { return read_scalesim_topology(p); },
         {}});
  r.add("onnx", "ONNX model, *.onnx (docs/onnx.md)",
        {[](const std::string& p) { return looks_like_onnx(p); },
         [](const std::string& p, const LoadOptions& o) { return read_onnx(p, o); },
         {"batch", "image_size", "seq_len", "input_shapes"}});
  r.add("fabnet",
        "FABNet config (model_type fabnet): FBfly and ABfly layers, butterfly FFNs "
        "(docs/butterfly.md)",
        {looks_like_fabnet_config,
         [](const std::string& p, const LoadOptions& o) { return read_fabnet(p, o); },
         {"batch", "seq_len"}});
  r.add("transformer",
        "Hugging Face config.json with a model_type: bert, roberta, gpt2, llama, mistral, mixtral, "
        "qwen2, phi3, gemma, vit "
        "(docs/transformers.md)",
        {[](const std::string& p) {
           return has_extension(p, ".json") && looks_like_model_config(p) &&
                  !looks_like_fabnet_config(p);
         },
         [](const std::string& p, const LoadOptions& o) { return read_transformer(p, o); },
         {"batch", "seq_len", "phase", "kv_len", "kv_read", "kv_bits", "experts_touched",
          "modegpt"}});
  r.add("nasbench201",
        "NAS-Bench-201 cell network, nasbench201:[DATASET:]|op~0|+|op~0|op~1|+|...| "
        "(docs/transformers.md)",
        {is_nasbench201_spec, load_nasbench201_spec, {"batch"}});
  return r;
}

}  // namespace

const Registry<FrontEnd>& frontends() {
  static const Registry<FrontEnd> registry = make_frontends();
  return registry;
}

std::vector<std::string> LoadOptions::given() const {
  std::vector<std::string> out;
  if (batch) out.push_back("batch");
  if (image_size) out.push_back("image_size");
  if (seq_len) out.push_back("seq_len");
  if (!input_shapes.empty()) out.push_back("input_shapes");
  if (phase != "prefill") out.push_back("phase");
  if (kv_len) out.push_back("kv_len");
  if (kv_read != "per_group") out.push_back("kv_read");
  if (kv_bits) out.push_back("kv_bits");
  if (experts_touched) out.push_back("experts_touched");
  if (modegpt) out.push_back("modegpt");
  return out;
}

namespace {

// Rejects options the chosen front-end would ignore: a batch size given to a JSON graph would
// otherwise silently simulate batch 1.
void check_options(const std::string& path, const std::string& name, const FrontEnd& frontend,
                   const LoadOptions& options) {
  for (const auto& option : options.given()) {
    if (std::find(frontend.options.begin(), frontend.options.end(), option) !=
        frontend.options.end())
      continue;
    std::string takes;
    for (const auto& o : frontend.options) takes.append(takes.empty() ? "" : ", ").append(o);
    throw InputError(path + ": the " + name + " front-end does not take the setting '" + option +
                     "' (it takes: " + (takes.empty() ? "none; set sizes in the file" : takes) +
                     ")");
  }
}

}  // namespace

void LoadOptions::warning(const std::string& text) const {
  if (warn)
    warn(text);
  else
    std::fprintf(stderr, "warning: %s\n", text.c_str());
}

Graph load_workload(const std::string& path, const std::string& frontend,
                    const LoadOptions& options, const std::function<Graph()>& build) {
  check_options(path, frontend, frontends().get(frontend), options);
  Graph graph = build();
  if (graph.empty()) throw InputError(path + ": workload has no operators");
  check_totals(graph, path);
  try {
    graph.topological_order();
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  if (options.fold_batch_norms) fold_batch_norms(graph);
  return graph;
}

Graph load_workload(const std::string& path, const LoadOptions& options) {
  if (is_nasbench201_spec(path))
    return load_workload(path, "nasbench201", options,
                         [&] { return load_nasbench201_spec(path, options); });
  // Each front-end reads under its own size limit; this checks the path names a regular file
  // before any front-end looks at it.
  check_input_file(path, kOnnxModelLimit);

  for (const auto& [name, description] : frontends().list()) {
    const FrontEnd& frontend = frontends().get(name);
    if (frontend.accepts(path))
      return load_workload(path, name, options, [&] { return frontend.load(path, options); });
  }
  std::string known;
  for (const auto& [name, description] : frontends().list())
    known.append(known.empty() ? "" : "; ").append(name).append(": ").append(description);
  throw InputError(path + ": no workload front-end reads this file (known: " + known + ")");
}

}  // namespace tessera::workloads
