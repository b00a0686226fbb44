#include "cli/app.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "arch/config.hpp"
#include "arch/energy/hamming.hpp"
#include "common/error.hpp"
#include "common/version.hpp"
#include "cli/workload_args.hpp"
#include "explorer/evaluator.hpp"
#include "explorer/pareto.hpp"
#include "explorer/results_log.hpp"
#include "explorer/search.hpp"
#include "explorer/sweep.hpp"
#include "sim/report.hpp"
#include "sim/scalesim_report.hpp"
#include "sim/systemc/tile_sim.hpp"
#include "sim/trace.hpp"
#include "workloads/frontend.hpp"
#include "workloads/json_format.hpp"

namespace tessera::cli {

namespace {

// Writes `text` to `path` through a temporary file and a rename, so an existing file is either
// left as it was or replaced whole, never truncated by a failed run.
void write_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir))
    throw InputError(path + ": directory " + dir.string() + " does not exist");
  const fs::path tmp = dir / (target.filename().string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(path + ": cannot write (" + tmp.string() + ")");
    f << text;
    f.flush();
    if (!f) throw InputError(path + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(path + ": cannot replace file: " + ec.message());
  }
}

std::string shape_text(const workloads::Operator& op) {
  using namespace workloads;
  return std::visit(
      [](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, Conv>)
          return fmt::format("{}x{}x{}x{} k{} {}x{}/{} g{}", s.n, s.c, s.h, s.w, s.k, s.r, s.s,
                             s.stride_h, s.groups);
        else if constexpr (std::is_same_v<T, MatMul>)
          return fmt::format("{}x[{}x{} . {}x{}]{}", s.batch, s.m, s.k, s.k, s.n,
                             s.b_is_weight ? "" : " act");
        else if constexpr (std::is_same_v<T, Pool>)
          return fmt::format(
              "{} {}x{}x{}x{} {}", to_string(s.type), s.n, s.c, s.h, s.w,
              s.global ? std::string("global") : fmt::format("{}x{}/{}", s.r, s.s, s.stride_h));
        else if constexpr (std::is_same_v<T, Elementwise>)
          return fmt::format("{} {}", s.function, s.elements);
        else if constexpr (std::is_same_v<T, Softmax>)
          return fmt::format("{}x{}", s.rows, s.cols);
        else if constexpr (std::is_same_v<T, Norm>)
          return fmt::format("{} {}", to_string(s.type), s.elements);
        else if constexpr (std::is_same_v<T, Embedding>)
          return fmt::format("{} of {}x{}", s.tokens, s.vocab, s.dim);
        else
          return fmt::format("{} {}->{}", to_string(s.type), s.input_elements, s.output_elements);
      },
      op.shape);
}

// ONNX: per operator type, what its nodes became (LoadOptions::on_node) and how many.
using OpTypeUses = std::map<std::string, std::map<std::string, long long>>;

// The words `inspect` uses for what an ONNX node became.
std::string became_category(const std::string& became) {
  if (became == "conv") return "convolution";
  if (became == "matmul") return "matrix product";
  if (became == "embedding" || became == "data_movement") return "data movement";
  if (became == "folded" || became == "bypassed") return "folded";
  if (became == "unsupported") return "unsupported";
  return "vector operation";
}

int inspect(const workloads::Graph& g, const OpTypeUses& op_types, bool as_json,
            std::ostream& out) {
  const auto totals = g.totals();
  if (as_json) {
    nlohmann::json layers = nlohmann::json::array();
    for (auto n : g.topological_order()) {
      const auto& op = g.op(n);
      nlohmann::json inputs = nlohmann::json::array();
      for (auto p : g.producers(n)) inputs.push_back(g.op(p).name);
      layers.push_back({{"name", op.name},
                        {"kind", workloads::to_string(op.kind())},
                        {"source", op.source},
                        {"inputs", std::move(inputs)},
                        {"macs", op.macs()},
                        {"params", op.params()},
                        {"weight_bytes", op.weight_bytes()},
                        {"input_bytes", op.input_bytes()},
                        {"output_bytes", op.output_bytes()},
                        {"weight_bits", op.precision.weight_bits},
                        {"activation_bits", op.precision.activation_bits},
                        {"weight_density", op.density.weight},
                        {"activation_density", op.density.activation}});
    }
    nlohmann::json doc = {{"workload", g.name()},
                                {"layers", std::move(layers)},
                                {"totals",
                                 {{"layers", g.size()},
                                  {"macs", totals.macs},
                                  {"params", totals.params},
                                  {"weight_bytes", totals.weight_bytes},
                                  {"activation_bytes", totals.activation_bytes}}}};
    if (!op_types.empty()) {
      nlohmann::json types = nlohmann::json::array();
      for (const auto& [type, uses] : op_types) {
        nlohmann::json became = nlohmann::json::array();
        long long nodes = 0;
        for (const auto& [what, count] : uses) {
          became.push_back({{"as", became_category(what)}, {"kind", what}, {"nodes", count}});
          nodes += count;
        }
        types.push_back({{"op_type", type}, {"nodes", nodes}, {"became", std::move(became)}});
      }
      doc["op_types"] = std::move(types);
    }
    out << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::size_t w = 5;
  for (auto n : g.topological_order()) w = std::max(w, g.op(n).name.size());
  w = std::min<std::size_t>(w, 40);
  out << fmt::format("{}: {} operators\n", g.name(), g.size());
  out << fmt::format("{:<{}} {:<13} {:<32} {:>14} {:>12} {:>8}\n", "layer", w, "kind", "shape",
                     "MACs", "params", "bits w/a");
  for (auto n : g.topological_order()) {
    const auto& op = g.op(n);
    out << fmt::format(
        "{:<{}} {:<13} {:<32} {:>14} {:>12} {:>8}\n", op.name.substr(0, w), w,
        workloads::to_string(op.kind()), shape_text(op), op.macs(), op.params(),
        fmt::format("{}/{}", op.precision.weight_bits, op.precision.activation_bits));
  }
  out << fmt::format("total: {} MACs, {} params, {} weight bytes, {} activation bytes\n",
                     totals.macs, totals.params, totals.weight_bytes, totals.activation_bytes);
  if (!op_types.empty()) {
    out << fmt::format("\nONNX operator types ({}): nodes, and what they became\n",
                       op_types.size());
    for (const auto& [type, uses] : op_types) {
      std::string became;
      long long nodes = 0;
      for (const auto& [what, count] : uses) {
        became += fmt::format("{}{} {} ({})", became.empty() ? "" : ", ", count,
                              became_category(what), what);
        nodes += count;
      }
      out << fmt::format("{:<40} {:>6}  {}\n", type, nodes, became);
    }
  }
  return kExitOk;
}

int list(bool as_json, std::ostream& out) {
  nlohmann::json doc;
  doc["engines"] = nlohmann::json::object();
  for (const auto& [name, desc] : arch::engines().list()) doc["engines"][name] = desc;
  doc["frontends"] = nlohmann::json::object();
  for (const auto& [name, desc] : workloads::frontends().list()) doc["frontends"][name] = desc;
  doc["fidelities"] = {{"analytical", "closed form over the tile plan; thread-safe"},
                       {"systemc", "tile-level SystemC/TLM simulation; one per process at a time"}};
  doc["search_algorithms"] = nlohmann::json::object();
  for (const auto& [name, desc] : explorer::search_algorithms().list())
    doc["search_algorithms"][name] = desc;
  if (as_json) {
    out << doc.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& [section, title] : {std::pair{"engines", "engines"},
                                       {"frontends", "workload front-ends"},
                                       {"fidelities", "fidelities"},
                                       {"search_algorithms", "search algorithms"}}) {
    out << title << ":\n";
    if (doc[section].empty()) out << "  (none registered)\n";
    for (const auto& [name, desc] : doc[section].items())
      out << fmt::format("  {:<12} {}\n", name, desc.get<std::string>());
  }
  return kExitOk;
}

struct SweepArgs {
  std::string space, log, method = "grid", shard, algo = "nsga2";
  std::uint64_t samples = 0, seed = 1, budget = 100;
  unsigned jobs = 1, population = 0;
  bool resume = false, quiet = false;
};

// Drops a last line cut short by a kill, so appending continues on a line boundary.
void trim_partial_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty() || text.back() == '\n') return;
  const auto keep = text.find_last_of('\n');
  std::filesystem::resize_file(path, keep == std::string::npos ? 0 : keep + 1);
}

// The entries of an existing results log, which is only ever continued with --resume.
std::vector<explorer::LogEntry> previous_results(const SweepArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(a.log) || fs::file_size(a.log) == 0) return {};
  if (!a.resume)
    throw InputError(a.log +
                     ": results log exists; add --resume to continue it, or choose another --log");
  trim_partial_line(a.log);
  return explorer::read_log(a.log);
}

// Appends each result to the log the moment it is known, and shows progress on a terminal.
class ResultSink {
 public:
  ResultSink(const SweepArgs& a, const explorer::DesignSpace& space, std::uint64_t total,
             std::ostream& err)
      : log_(a.log, std::ios::app),
        path_(a.log),
        err_(err),
        total_(total),
        objective_(space.objectives.front()),
        progress_(!a.quiet && ::isatty(::fileno(stderr))) {
    if (!log_) throw InputError(a.log + ": cannot open for appending");
  }

  void operator()(const explorer::LogEntry& e) {
    log_ << explorer::to_line(e) << "\n" << std::flush;  // on disk before the next point
    ++done_;
    if (!e.ok) ++failed_;
    const auto& [metric, minimize] = objective_;
    if (e.ok && e.metrics.count(metric)) {
      const double v = e.metrics.at(metric);
      if (!best_ || (minimize ? v < best_->metrics.at(metric) : v > best_->metrics.at(metric)))
        best_ = e;
    }
    const auto now = std::chrono::steady_clock::now();
    if (progress_ && (now - last_ > std::chrono::milliseconds(200) || done_ == total_)) {
      last_ = now;
      const double secs = std::chrono::duration<double>(now - start_).count();
      const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
      const double eta =
          rate > 0 && total_ > done_ ? static_cast<double>(total_ - done_) / rate : 0.0;
      err_ << fmt::format(
                  "\r[{}] {}/{} points, {:.0f}/s, ETA {:.0f} s, {} failed, best {} {:.4g}   ",
                  path_, done_, total_, rate, eta, failed_, metric,
                  best_ ? best_->metrics.at(metric) : 0.0)
           << std::flush;
    }
  }

  // Ends the progress line and prints the summary.
  void finish(const std::string& name, std::uint64_t already, bool quiet, std::ostream& out) {
    if (progress_) err_ << "\n";
    if (!log_) throw InputError(path_ + ": write failed");
    if (quiet) return;
    out << fmt::format("{}: {} points evaluated ({} failed), {} already in {}\n", name, done_,
                       failed_, already, path_);
    if (best_)
      out << fmt::format("best {}: {:.6g} at point {} {}\n", objective_.first,
                         best_->metrics.at(objective_.first), best_->index, best_->point.dump());
  }

 private:
  std::ofstream log_;
  std::string path_;
  std::ostream& err_;
  std::uint64_t total_, done_ = 0, failed_ = 0;
  std::pair<std::string, bool> objective_;
  bool progress_;
  std::optional<explorer::LogEntry> best_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

int sweep(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  explorer::SweepOptions o;
  o.method = *explorer::sweep_method_from_string(a.method);
  o.samples = a.samples;
  o.seed = a.seed;
  o.jobs = a.jobs;
  if (o.method != explorer::SweepOptions::Method::grid && o.samples == 0)
    throw InputError("sweep --method " + a.method + " needs --samples N (N > 0)");
  if (!a.shard.empty()) {
    unsigned long long i = 0, n = 0;
    char extra = 0;
    if (std::sscanf(a.shard.c_str(), "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
      throw InputError("--shard " + a.shard + ": expected i/N with 0 <= i < N, e.g. 3/16");
    o.shard = i;
    o.shards = n;
  }
  const explorer::DesignSpace space = explorer::read_space(a.space);
  const explorer::WorkloadCache workloads(space);
  const explorer::Sampler sampler(space, o);
  for (const auto& e : previous_results(a)) {
    if (e.index >= sampler.size() || e.point != sampler.point(e.index))
      throw InputError(a.log + ": point " + std::to_string(e.index) + " was " + e.point.dump() +
                       ", which is not this sweep's point " + std::to_string(e.index) +
                       ": a different space, method, seed or sample count");
    o.done.insert(e.index);
  }
  const auto indices = explorer::sweep_indices(sampler, o);
  ResultSink sink(a, space, indices.size(), err);
  explorer::run_sweep(space, workloads, sampler, o.jobs, indices,
                      [&](const explorer::LogEntry& e) { sink(e); });
  sink.finish(space.name, o.done.size(), a.quiet, out);
  return kExitOk;
}

int explore(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  const explorer::SearchAlgorithm& algorithm = explorer::search_algorithms().get(a.algo);
  const explorer::DesignSpace space = explorer::read_space(a.space);
  const explorer::WorkloadCache workloads(space);
  auto previous = previous_results(a);
  const std::uint64_t already = previous.size();
  ResultSink sink(a, space, a.budget, err);
  explorer::Evaluations evaluations(space, workloads, std::move(previous),
                                    [&](const explorer::LogEntry& e) { sink(e); });
  explorer::SearchOptions o;
  o.budget = a.budget;
  o.seed = static_cast<unsigned>(a.seed);
  o.population = a.population;
  algorithm(evaluations, o);
  sink.finish(space.name, already, a.quiet, out);
  return kExitOk;
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  sim::systemc::register_fidelity();  // the SystemC fidelity is linked in this program
  CLI::App app{"Tessera: simulator and design-space explorer for DNN and transformer accelerators",
               "tessera"};
  app.set_version_flag("--version", fmt::format("tessera {} ({})", kVersion, kGitRevision));
  app.require_subcommand(1);

  std::string arch_file, workload_file, out_file, trace_file, fidelity_name = "analytical",
                                                              format = "json";
  std::vector<std::string> overrides;
  bool quiet = false, as_json = false;
  WorkloadArgs workload_args;

  auto* simulate = app.add_subcommand("simulate", "Simulate a workload on an architecture");
  simulate->add_option("--arch", arch_file, "Architecture config (JSON)")->required();
  simulate
      ->add_option("--workload", workload_file,
                   "Workload: a file any front-end reads (tessera list), or nasbench201:ARCH")
      ->required();
  add_workload_options(*simulate, workload_args);
  simulate->add_option("--fidelity", fidelity_name, "analytical or systemc")
      ->check(CLI::IsMember({"analytical", "systemc"}))
      ->capture_default_str();
  simulate->add_option("--set", overrides,
                       "Override a config value: path.to.key=value (repeatable); "
                       "workload.KEY=value sets a workload setting");
  simulate->add_option("--out", out_file, "Write the full JSON report here");
  simulate
      ->add_option("--format", format,
                   "json, or scalesim: also write SCALE-Sim's COMPUTE_REPORT.csv, "
                   "BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv in the --out directory")
      ->check(CLI::IsMember({"json", "scalesim"}))
      ->capture_default_str();
  simulate->add_option(
      "--trace", trace_file,
      "With --fidelity systemc: write a Chrome/Perfetto trace (trace-event JSON) of "
      "compute and DRAM transfers per tile");
  simulate->add_flag("--quiet", quiet, "Do not print the summary table");

  auto* inspect_cmd = app.add_subcommand("inspect", "Summarise a workload per layer and in total");
  inspect_cmd->add_option("workload", workload_file, "Workload file or nasbench201:ARCH")
      ->required();
  inspect_cmd->add_flag("--json", as_json, "Print JSON instead of a table");
  inspect_cmd->add_option("--set", overrides, "Workload setting: workload.KEY=value (repeatable)");
  add_workload_options(*inspect_cmd, workload_args);

  std::string convert_to = "json";
  auto* convert_cmd =
      app.add_subcommand("convert", "Write a workload, as read and annotated, in another format");
  convert_cmd->add_option("workload", workload_file, "Workload file or nasbench201:ARCH")
      ->required();
  convert_cmd->add_option("--to", convert_to, "Output format: json (Tessera workload JSON)")
      ->check(CLI::IsMember({"json"}))
      ->capture_default_str();
  convert_cmd->add_option("--out", out_file, "Output file (default: standard output)");
  convert_cmd->add_option("--set", overrides, "Workload setting: workload.KEY=value (repeatable)");
  add_workload_options(*convert_cmd, workload_args);

  auto* list_cmd =
      app.add_subcommand("list", "List engines, workload front-ends and search algorithms");
  list_cmd->add_flag("--json", as_json, "Print JSON instead of text");

  SweepArgs sweep_args;
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "Evaluate the points of a design space, appending to a results log");
  sweep_cmd->add_option("space", sweep_args.space, "Design space (JSON, docs/explorer.md)")
      ->required();
  sweep_cmd
      ->add_option("--log", sweep_args.log, "Results log (JSON lines), appended as points complete")
      ->required();
  sweep_cmd
      ->add_option("--method", sweep_args.method,
                   "grid: every point; random, halton (low-discrepancy) or lhs (Latin hypercube): "
                   "--samples points")
      ->check(CLI::IsMember({"grid", "random", "halton", "lhs"}))
      ->capture_default_str();
  sweep_cmd->add_option("--samples", sweep_args.samples, "Points to draw (random)");
  sweep_cmd->add_option("--seed", sweep_args.seed, "Seed (random)")->capture_default_str();
  sweep_cmd->add_option("--jobs", sweep_args.jobs,
                        "Parallel evaluations: threads (analytical), worker processes (systemc)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  sweep_cmd->add_flag("--resume", sweep_args.resume, "Continue a log: skip the points it holds");
  sweep_cmd->add_option("--shard", sweep_args.shard,
                        "i/N: evaluate only the points whose index is i mod N");
  sweep_cmd->add_flag("--quiet", sweep_args.quiet, "No progress line and no summary");

  auto* explore_cmd =
      app.add_subcommand("explore", "Search a design space for the Pareto front of its objectives");
  explore_cmd->add_option("space", sweep_args.space, "Design space (JSON, docs/explorer.md)")
      ->required();
  explore_cmd
      ->add_option("--log", sweep_args.log, "Results log (JSON lines), appended as points complete")
      ->required();
  explore_cmd->add_option("--algo", sweep_args.algo, "Search algorithm (tessera list)")
      ->capture_default_str();
  explore_cmd->add_option("--budget", sweep_args.budget, "Points to propose (whole generations)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->capture_default_str();
  explore_cmd->add_option("--seed", sweep_args.seed, "Seed")->capture_default_str();
  explore_cmd->add_option("--population", sweep_args.population,
                          "Population size (default: from the budget)");
  explore_cmd->add_flag("--resume", sweep_args.resume,
                        "Continue a log: replay its points, evaluate the rest");
  explore_cmd->add_flag("--quiet", sweep_args.quiet, "No progress line and no summary");

  auto* check = app.add_subcommand("check", "Validate an architecture config without running it");
  check->add_option("arch", arch_file, "Architecture config (JSON)")->required();
  check->add_option("--set", overrides, "Override a config value: path.to.key=value (repeatable)");

  std::vector<std::string> log_files;
  std::string objectives_spec = explorer::kDefaultObjectives, reference_spec, merged_file;
  auto* pareto_cmd = app.add_subcommand(
      "pareto", "Print the non-dominated entries of a results log and their hypervolume");
  pareto_cmd->add_option("log", log_files, "Results log (JSON lines)")->required()->expected(1);
  pareto_cmd
      ->add_option("--objectives", objectives_spec,
                   "Metrics to rank by, metric:min or metric:max, comma-separated")
      ->capture_default_str();
  pareto_cmd->add_option("--reference", reference_spec,
                         "Hypervolume reference point, one value per objective, comma-separated "
                         "(default: the worst ok value of each objective moved 10% further)");
  pareto_cmd->add_flag("--json", as_json, "Print JSON instead of a table");

  auto* merge_cmd =
      app.add_subcommand("merge", "Merge results logs (shards of one sweep) into one, by index");
  merge_cmd->add_option("logs", log_files, "Results logs (JSON lines)")->required();
  merge_cmd->add_option("--out", merged_file, "Write the merged log here")->required();

  // energy: hamming-distance (bit-toggle) datapath energy (arch/energy/hamming.hpp, docs/energy.md).
  arch::energy::HammingOptions energy_options;
  std::string energy_json_file;
  auto* energy_cmd = app.add_subcommand(
      "energy", "Count datapath bit toggles of a workload on an engine and their energy");
  energy_cmd->add_option("--arch", arch_file, "Architecture config (JSON)")->required();
  energy_cmd->add_option("--workload", workload_file, "Workload file")->required();
  add_workload_options(*energy_cmd, workload_args);
  energy_cmd
      ->add_option("--data", energy_options.data,
                   "Operand values: synthetic, onnx (the model's weights) or npy:DIR "
                   "(activations from DIR/<layer>.npy)")
      ->capture_default_str();
  energy_cmd->add_flag("--optimize-order", energy_options.optimize_order,
                       "Reorder output channels to reduce toggles; report before and after");
  energy_cmd->add_option("--seed", energy_options.seed, "Seed of synthetic values and sampling")
      ->capture_default_str();
  energy_cmd->add_option("--exact-limit", energy_options.exact_limit,
                         "Count exactly up to this many value evaluations per port, else sample")
      ->capture_default_str();
  energy_cmd->add_option("--samples", energy_options.samples, "Sampled transitions per port")
      ->capture_default_str();
  energy_cmd->add_option("--set", overrides, "Override a config value: path.to.key=value");
  energy_cmd->add_option("--json", energy_json_file, "Write the JSON report here");

  // compare: one workload on several engines, cycles / latency / energy / area and their ratios
  // to the first architecture (docs/bitfusion.md).
  std::vector<std::string> compare_archs, compare_sets;
  std::string compare_workload, compare_fidelity = "analytical", compare_out;
  bool compare_json = false;
  auto* compare_cmd = app.add_subcommand(
      "compare", "Run one workload on several architectures and compare them with the first");
  compare_cmd->add_option("--arch", compare_archs, "Architecture config (repeat; first = baseline)")
      ->required();
  compare_cmd->add_option("--workload", compare_workload, "Workload file")->required();
  compare_cmd->add_option("--fidelity", compare_fidelity, "analytical or systemc")
      ->check(CLI::IsMember({"analytical", "systemc"}))
      ->capture_default_str();
  compare_cmd->add_option("--set", compare_sets,
                          "Override a value of every config: path.to.key=value (repeatable); "
                          "workload.KEY=value sets a workload setting");
  compare_cmd->add_flag("--json", compare_json, "Print JSON instead of a table");
  compare_cmd->add_option("--out", compare_out, "Also write the JSON here");
  add_workload_options(*compare_cmd, workload_args);
  const auto run_compare = [&]() -> int {
    const auto [workload_overrides, arch_overrides] =
        workloads::split_workload_overrides(compare_sets);
    const auto workload = explorer::prepare_workload(
        workloads::load_workload(compare_workload,
                                 workload_settings(workload_args, workload_overrides)),
        compare_workload);
    explorer::EvaluateOptions options;
    options.fidelity = sim::fidelity_from_string(compare_fidelity);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& file : compare_archs) {
      const arch::ArchConfig arch = arch::load_arch(file, arch_overrides);
      options.arch_file = file;
      const sim::Report r = explorer::evaluate(arch, workload, options);
      rows.push_back({{"arch", arch.name},
                      {"arch_file", file},
                      {"engine", r.engine},
                      {"config_hash", arch.hash},
                      {"cycles", r.summary.cycles},
                      {"latency_s", r.summary.latency_s},
                      {"energy_pj", r.summary.energy_pj},
                      {"area_mm2", r.summary.area_mm2},
                      {"utilization", r.summary.utilization}});
    }
    const auto ratio = [](double v, double base) {
      return base > 0 ? nlohmann::json(v / base) : nlohmann::json(nullptr);
    };
    const nlohmann::json base = rows.front();
    for (auto& row : rows)
      row["ratio_to_first"] = {
          {"cycles", ratio(row["cycles"].get<double>(), base["cycles"].get<double>())},
          {"latency", ratio(row["latency_s"].get<double>(), base["latency_s"].get<double>())},
          {"energy", ratio(row["energy_pj"].get<double>(), base["energy_pj"].get<double>())},
          {"area", ratio(row["area_mm2"].get<double>(), base["area_mm2"].get<double>())}};
    const nlohmann::json doc = {{"workload", workload.graph.name()},
                                {"workload_file", compare_workload},
                                {"workload_hash", workload.hash},
                                {"fidelity", compare_fidelity},
                                {"architectures", rows}};
    if (compare_json) {
      out << doc.dump(2) << "\n";
    } else {
      const auto x = [](const nlohmann::json& v) {
        return v.is_null() ? std::string("-") : fmt::format("{:.3f}x", v.get<double>());
      };
      std::size_t w = 4;
      for (const auto& row : rows) w = std::max(w, row["arch"].get<std::string>().size());
      out << fmt::format("{} ({} fidelity)\n", workload.graph.name(), compare_fidelity);
      out << fmt::format("{:<{}} {:<10} {:>15} {:>12} {:>14} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                         "arch", w, "engine", "cycles", "latency ms", "energy uJ", "area mm2",
                         "cycles", "latency", "energy", "area");
      for (const auto& row : rows) {
        const auto& q = row["ratio_to_first"];
        out << fmt::format(
            "{:<{}} {:<10} {:>15} {:>12.4f} {:>14.3f} {:>9.3f} {:>9} {:>9} {:>9} {:>9}\n",
            row["arch"].get<std::string>(), w, row["engine"].get<std::string>(),
            row["cycles"].get<std::uint64_t>(), row["latency_s"].get<double>() * 1e3,
            row["energy_pj"].get<double>() / 1e6, row["area_mm2"].get<double>(), x(q["cycles"]),
            x(q["latency"]), x(q["energy"]), x(q["area"]));
      }
      out << "ratios are to the first architecture (" << base["arch"].get<std::string>()
          << "); below 1 is smaller\n";
    }
    if (!compare_out.empty()) {
      write_file(compare_out, doc.dump(2) + "\n");
      if (!compare_json) out << "comparison written to " << compare_out << "\n";
    }
    return kExitOk;
  };

  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  try {
    if (*simulate) {
      const bool scalesim_csv = format == "scalesim";
      if (scalesim_csv && out_file.empty())
        throw InputError(
            "--format scalesim needs --out: the SCALE-Sim CSV reports are written to the "
            "directory of the --out file");
      if (!trace_file.empty() && fidelity_name != "systemc")
        throw InputError("--trace " + trace_file +
                         ": traces come from the SystemC run; add --fidelity systemc");
      const auto [workload_overrides, arch_overrides] =
          workloads::split_workload_overrides(overrides);
      const arch::ArchConfig arch = arch::load_arch(arch_file, arch_overrides);
      const auto workload = explorer::prepare_workload(
          workloads::load_workload(workload_file,
                                   workload_settings(workload_args, workload_overrides)),
          workload_file);
      explorer::EvaluateOptions options;
      options.fidelity = sim::fidelity_from_string(fidelity_name);
      options.arch_file = arch_file;
      sim::Trace trace;
      if (!trace_file.empty()) options.trace = &trace;
      const sim::Report report = explorer::evaluate(arch, workload, options);
      // Made before anything is written: an engine without per-operand accesses fails here.
      const sim::ScaleSimCsv csv = scalesim_csv ? sim::to_scalesim_csv(report) : sim::ScaleSimCsv{};
      if (!quiet) out << sim::format_table(report);
      if (!out_file.empty()) {
        write_file(out_file, sim::to_json(report).dump(2) + "\n");
        if (!quiet) out << "report written to " << out_file << "\n";
      }
      if (!trace_file.empty()) {
        std::vector<std::string> names;
        for (const auto& l : report.layers) names.push_back(l.name);
        write_file(trace_file, sim::chrome_trace(trace, names, report.clock_hz).dump() + "\n");
        if (!quiet) out << "trace written to " << trace_file << " (open in ui.perfetto.dev)\n";
      }
      if (scalesim_csv) {  // SCALE-Sim's own file names, beside the JSON report
        const std::filesystem::path dir = std::filesystem::path(out_file).parent_path();
        for (const auto& [name, text] :
             {std::pair{sim::kScaleSimComputeReport, &csv.compute},
              {sim::kScaleSimBandwidthReport, &csv.bandwidth},
              {sim::kScaleSimDetailedAccessReport, &csv.detailed_access}}) {
          const std::string path = (dir / name).string();
          write_file(path, *text);
          if (!quiet) out << "SCALE-Sim report written to " << path << "\n";
        }
      }
      return kExitOk;
    }
    if (*inspect_cmd || *convert_cmd) {
      const auto [workload_overrides, other] = workloads::split_workload_overrides(overrides);
      if (!other.empty())
        throw InputError("--set " + other.front() +
                         ": only workload settings (workload.KEY=value) apply to a workload");
      auto settings = workload_settings(workload_args, workload_overrides);
      OpTypeUses op_types;
      if (*inspect_cmd)
        settings.load.on_node = [&](const std::string& type, const std::string& became) {
          ++op_types[type][became];
        };
      const workloads::Graph graph = workloads::load_workload(workload_file, settings);
      if (*inspect_cmd) return inspect(graph, op_types, as_json, out);
      const std::string text = workloads::workload_to_json(graph).dump(2) + "\n";
      if (out_file.empty()) {
        out << text;
      } else {
        write_file(out_file, text);
        err << "workload '" << graph.name() << "' (" << graph.size() << " operators) written to "
            << out_file << "\n";
      }
      return kExitOk;
    }
    if (*energy_cmd) {
      if (energy_options.data != "synthetic" && energy_options.data != "onnx" &&
          energy_options.data.rfind("npy:", 0) != 0)
        throw InputError("--data " + energy_options.data + ": expected synthetic, onnx or npy:DIR");
      if (energy_options.data.rfind("npy:", 0) == 0 &&
          !std::filesystem::is_directory(energy_options.data.substr(4)))
        throw InputError("--data " + energy_options.data + ": no such directory");
      const auto [workload_overrides, arch_overrides] =
          workloads::split_workload_overrides(overrides);
      const arch::ArchConfig arch = arch::load_arch(arch_file, arch_overrides);
      const workloads::Graph graph = workloads::load_workload(
          workload_file, workload_settings(workload_args, workload_overrides));
      // Long runs (large networks, --optimize-order) show progress on a terminal.
      const bool tty = ::isatty(::fileno(stderr));
      const auto start = std::chrono::steady_clock::now();
      const auto progress = [&](const std::string& stage, std::size_t done, std::size_t total) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        err << fmt::format("\r[energy] {}: {}/{} layers, {:.0f} s   ", stage, done, total, secs)
            << std::flush;
      };
      const auto report = arch::energy::analyse_hamming(
          *arch.engine, graph, energy_options,
          tty ? arch::energy::HammingProgress(progress) : arch::energy::HammingProgress());
      if (tty) err << "\n";
      out << fmt::format("{} on {} ({}, technology {}, data {}, seed {})\n", graph.name(), arch.name,
                         arch.engine->engine_name(), report.technology, energy_options.data,
                         energy_options.seed)
          << arch::energy::format_table(report);
      if (!energy_json_file.empty()) {
        nlohmann::json j = arch::energy::to_json(report);
        j["arch"] = arch.name;
        j["arch_file"] = arch_file;
        j["workload_file"] = workload_file;
        j["config_hash"] = arch.hash;
        write_file(energy_json_file, j.dump(2) + "\n");
        out << "report written to " << energy_json_file << "\n";
      }
      return kExitOk;
    }
    if (*compare_cmd) return run_compare();
    if (*list_cmd) return list(as_json, out);
    if (*pareto_cmd) {
      const auto entries = explorer::read_log(log_files.at(0));
      const auto objectives = explorer::parse_objectives(objectives_spec);
      std::optional<std::vector<double>> reference;
      if (!reference_spec.empty())
        reference = explorer::parse_reference_point(reference_spec, objectives);
      const auto result = explorer::analyse_pareto(entries, objectives, reference, log_files[0]);
      if (as_json)
        out << explorer::to_json(result, entries).dump(2) << "\n";
      else
        out << explorer::format_table(result, entries);
      return kExitOk;
    }
    if (*merge_cmd) {
      std::vector<explorer::Shard> shards;
      std::size_t read = 0;
      for (const auto& f : log_files) {
        shards.push_back({f, explorer::read_log(f)});
        read += shards.back().entries.size();
      }
      const auto merged = explorer::merge_logs(shards);
      std::string text;
      std::size_t failed = 0;
      for (const auto& e : merged) {
        text += explorer::to_line(e) + "\n";
        failed += e.ok ? 0 : 1;
      }
      write_file(merged_file, text);
      out << fmt::format(
          "{} entries ({} ok, {} failed) from {} logs ({} entries read, {} duplicates kept once) "
          "written to {}\n",
          merged.size(), merged.size() - failed, failed, log_files.size(), read,
          read - merged.size(), merged_file);
      return kExitOk;
    }
    if (*sweep_cmd) return sweep(sweep_args, out, err);
    if (*explore_cmd) return explore(sweep_args, out, err);
    if (*check) {
      const arch::ArchConfig arch = arch::load_arch(arch_file, overrides);
      out << fmt::format("{}: valid {} config '{}' (hash {})\n", arch_file,
                         arch.engine->engine_name(), arch.name, arch.hash);
      out << arch.resolved.dump(2) << "\n";
      return kExitOk;
    }
  } catch (const InputError& e) {
    err << "tessera: error: " << e.what() << "\n";
    return kExitInputError;
  } catch (const UnsupportedError& e) {
    err << "tessera: unsupported: " << e.what() << "\n";
    return kExitInputError;
  } catch (const std::exception& e) {
    err << "tessera: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitOk;
}

}  // namespace tessera::cli
