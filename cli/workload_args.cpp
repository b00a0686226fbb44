#include "cli/workload_args.hpp"

#include <cstdio>

#include "common/error.hpp"
#include "common/params.hpp"
#include "workloads/frontend.hpp"

namespace tessera::cli {

void add_workload_options(CLI::App& cmd, WorkloadArgs& a) {
  cmd.add_option("--workload-settings", a.settings_file,
                 "Workload settings JSON: sizes, phase, per-layer precision and density "
                 "(docs/workload-format.md)");
  cmd.add_option("--batch", a.batch, "Batch size")->check(CLI::PositiveNumber);
  cmd.add_option("--image-size", a.image_size, "ONNX image inputs: height = width = N")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--seq-len", a.seq_len, "Sequence length (transformers; ONNX sequence dims)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--input-shape", a.input_shapes,
                 "ONNX input shape NAME=D0xD1x... (repeatable), e.g. input=1x3x299x299");
  cmd.add_option("--phase", a.phase, "Transformers: prefill (whole prompt) or decode (one token)")
      ->check(CLI::IsMember({"prefill", "decode"}));
  cmd.add_option("--kv-len", a.kv_len, "Transformers, decode: tokens already in the KV cache")
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--allow-unsupported", a.allow_unsupported,
               "Keep operators no rule covers as zero-cost nodes, with a warning");
}

workloads::WorkloadSettings workload_settings(const WorkloadArgs& a,
                                              const std::vector<std::string>& overrides) {
  nlohmann::json doc = nlohmann::json::object();
  std::string file = "workload settings";
  if (!a.settings_file.empty()) {
    doc = read_json_file(a.settings_file);
    file = a.settings_file;
  }
  if (!doc.is_object()) throw InputError(file + ": expected a JSON object");
  if (a.batch) doc["batch"] = a.batch;
  if (a.image_size) doc["image_size"] = a.image_size;
  if (a.seq_len) doc["seq_len"] = a.seq_len;
  if (a.kv_len) doc["kv_len"] = a.kv_len;
  if (!a.phase.empty()) doc["phase"] = a.phase;
  if (a.allow_unsupported) doc["allow_unsupported"] = true;
  for (const auto& spec : a.input_shapes) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw InputError("--input-shape " + spec +
                       ": expected NAME=D0xD1x..., e.g. input=1x3x224x224");
    nlohmann::json dims = nlohmann::json::array();
    std::size_t pos = eq + 1;
    while (pos <= spec.size()) {
      const auto x = spec.find('x', pos);
      const std::string part = spec.substr(pos, x == std::string::npos ? x : x - pos);
      long long v = 0;
      char extra = 0;
      if (std::sscanf(part.c_str(), "%lld%c", &v, &extra) != 1 || v <= 0)
        throw InputError("--input-shape " + spec + ": '" + part +
                         "' is not a positive dimension (expected NAME=D0xD1x...)");
      dims.push_back(v);
      if (x == std::string::npos) break;
      pos = x + 1;
    }
    doc["input_shapes"][spec.substr(0, eq)] = std::move(dims);
  }
  return workloads::read_workload_settings(std::move(doc), file, overrides);
}

workloads::Graph load_workload_only(
    const std::string& file, const WorkloadArgs& args, const std::vector<std::string>& overrides,
    std::function<void(const std::string&, const std::string&)> on_node) {
  const auto [workload_overrides, other] = workloads::split_workload_overrides(overrides);
  if (!other.empty())
    throw InputError("--set " + other.front() +
                     ": only workload settings (workload.KEY=value) apply to a workload");
  auto settings = workload_settings(args, workload_overrides);
  settings.load.on_node = std::move(on_node);
  return workloads::load_workload(file, settings);
}

}  // namespace tessera::cli
