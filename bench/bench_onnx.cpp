// ONNX import speed (`tessera_bench --onnx [FILE...]`): wall time of read_onnx on the largest
// model of the corpus of today's exports (workloads/models/modern/, by node count) and, as the
// baseline measured in the same run, on the opset-13 torchvision ResNet-18; per model the time
// per import, per ONNX node and the ratio to the baseline.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "workloads/frontend.hpp"
#include "workloads/onnx_import.hpp"

namespace {

struct Timing {
  double s_per_import = 0;
  std::size_t nodes = 0;  // ONNX nodes the importer saw (LoadOptions::on_node calls)
  std::size_t operators = 0;
};

Timing time_import(const std::string& file, double seconds) {
  Timing t;
  tessera::workloads::LoadOptions options;
  std::size_t nodes = 0;
  options.on_node = [&](const std::string&, const std::string&) { ++nodes; };
  options.warn = [](const std::string&) {};
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  long runs = 0;
  while (elapsed < seconds || runs < 3) {
    nodes = 0;
    t.operators = tessera::workloads::read_onnx(file, options).size();
    ++runs;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  t.s_per_import = elapsed / double(runs);
  t.nodes = nodes;
  return t;
}

// The corpus model with the most nodes (its node count read by one import each).
std::string largest_corpus_model(const std::string& dir) {
  std::string best;
  std::size_t most = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".onnx") continue;
    tessera::workloads::LoadOptions options;
    std::size_t nodes = 0;
    options.on_node = [&](const std::string&, const std::string&) { ++nodes; };
    options.warn = [](const std::string&) {};
    try {
      tessera::workloads::read_onnx(entry.path().string(), options);
    } catch (const std::exception&) {
      continue;  // a model with dynamic inputs needs overrides; not a candidate
    }
    if (nodes > most) {
      most = nodes;
      best = entry.path().string();
    }
  }
  return best;
}

}  // namespace

int onnx_bench(const std::vector<std::string>& files, double seconds) {
  const std::string root = TESSERA_SOURCE_DIR;
  const std::string baseline = root + "/workloads/models/resnet18.onnx";
  std::vector<std::string> models = files;
  if (models.empty()) models.push_back(largest_corpus_model(root + "/workloads/models/modern"));
  const Timing base = time_import(baseline, seconds);
  fmt::print("{:<44} {:>7} {:>9} {:>12} {:>10} {:>8}\n", "model", "nodes", "operators",
             "ms/import", "us/node", "ratio");
  auto row = [&](const std::string& file, const Timing& t) {
    fmt::print("{:<44} {:>7} {:>9} {:>12.2f} {:>10.1f} {:>8.2f}\n",
               std::filesystem::path(file).filename().string(), t.nodes, t.operators,
               1e3 * t.s_per_import, 1e6 * t.s_per_import / double(std::max<std::size_t>(1, t.nodes)),
               t.s_per_import / base.s_per_import);
  };
  row(baseline, base);
  for (const auto& m : models) row(m, time_import(m, seconds));
  return 0;
}
