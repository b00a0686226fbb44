// The workload options every command that loads a workload shares: the sidecar settings file,
// the size flags, and the `--set workload.KEY=VALUE` overrides (workloads/settings.hpp).
#pragma once

#include <functional>

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "workloads/graph.hpp"
#include "workloads/settings.hpp"

namespace tessera::cli {

struct WorkloadArgs {
  std::string settings_file;
  workloads::i64 batch = 0, image_size = 0, seq_len = 0, kv_len = 0;
  std::string phase;
  std::vector<std::string> input_shapes;  // NAME=D0xD1x...
  bool allow_unsupported = false;
};

// Adds --workload-settings, --batch, --image-size, --seq-len, --input-shape, --phase, --kv-len
// and --allow-unsupported to `cmd`.
void add_workload_options(CLI::App& cmd, WorkloadArgs& args);

// The settings: the sidecar file (or none), then the flags, then the workload overrides
// (assignments with the "workload." prefix already removed). Errors name the file or flag.
workloads::WorkloadSettings workload_settings(const WorkloadArgs& args,
                                              const std::vector<std::string>& overrides);

// A workload for commands that take no architecture (inspect, convert): every --set must be a
// workload setting (workload.KEY=value). `on_node`: LoadOptions::on_node (ONNX: what each node
// became).
workloads::Graph load_workload_only(
    const std::string& file, const WorkloadArgs& args, const std::vector<std::string>& overrides,
    std::function<void(const std::string&, const std::string&)> on_node = {});

}  // namespace tessera::cli
