// Joint network/accelerator spaces: accuracy oracles (NATS-Bench table, command, noise),
// network parameters, the workload cache's bound, multi-task composition and early pruning,
// expression metrics, the normalised hypervolume and `tessera codesign` end to end.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli_support.hpp"
#include "explorer/evaluator.hpp"
#include "explorer/pareto.hpp"
#include "explorer/sweep.hpp"
#include "test_support.hpp"
#include "workloads/frontend.hpp"
#include "workloads/nasbench201.hpp"
#include "workloads/transformer.hpp"

using namespace tessera;
using Catch::Matchers::Contains;

namespace {

const std::string kCsv = std::string(TESSERA_SOURCE_DIR) + "/data/nats_bench/nats_bench_tss.csv";
const std::string kCell =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

std::filesystem::path temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("tessera_codesign_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Writes a space file into `dir`: `body` is the JSON text after the common head.
std::string write_space(const std::filesystem::path& dir, const std::string& body,
                        const std::string& name = "space.json") {
  const auto path = (dir / name).string();
  std::ofstream(path) << R"({"format": "tessera.space", "version": 1, )" << body << "}\n";
  return path;
}

const std::string kArch =
    "\"arch\": \"" + test::source_path("configs/arch/systolic_edge_32x32.json") + "\", ";

// A single-accelerator NB201 space: edges op_3_1 and op_3_2 swept, the rest from kCell.
std::string nb201_space(const std::filesystem::path& dir, const std::string& accuracy,
                        const std::string& extra = "") {
  return write_space(dir, kArch +
                              R"("network": {"kind": "nasbench201", "dataset": "cifar10", "arch": ")" +
                              kCell + R"("}, "accuracy": )" + accuracy + R"(, "parameters": {
      "network.op_3_1": {"values": ["none", "nor_conv_1x1", "nor_conv_3x3"]},
      "network.op_3_2": {"values": ["skip_connect", "avg_pool_3x3"]},
      "systolic.rows": {"values": [8, 16]}},
    "objectives": ["test_error:min", "latency_s:min"])" + extra);
}

std::string nats(const std::string& dataset = "cifar10") {
  return R"({"oracle": "nats", "csv": ")" + kCsv + R"(", "dataset": ")" + dataset + "\"}";
}

// The CSV read here independently of the oracle: arch -> (cifar10, cifar100, ImageNet16-120).
std::map<std::string, std::array<double, 3>> read_table() {
  std::ifstream in(kCsv);
  std::string line;
  std::getline(in, line);
  REQUIRE(line.rfind("CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,"
                     "ImageNetTestAccuracy200Epochs,ArchitectureString",
                     0) == 0);
  std::map<std::string, std::array<double, 3>> out;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string a, b, c, arch;
    std::getline(ss, a, ',');
    std::getline(ss, b, ',');
    std::getline(ss, c, ',');
    std::getline(ss, arch, ',');
    out[arch] = {std::stod(a), std::stod(b), std::stod(c)};
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("the nats oracle returns the table's accuracies", "[explorer][codesign][oracle]") {
  const auto table = read_table();
  REQUIRE(table.size() == 15625);
  const std::vector<std::string> datasets = {"cifar10", "cifar100", "ImageNet16-120"};
  // Rows spread over the file, and the cell of the NATS-Bench paper's figure.
  std::vector<std::string> archs = {kCell};
  std::size_t i = 0;
  for (const auto& [arch, acc] : table)
    if (i++ % 3907 == 0) archs.push_back(arch);
  for (const auto& arch : archs)
    for (std::size_t k = 0; k < 3; ++k)
      CHECK(explorer::nats_accuracy(kCsv, arch, datasets[k]) == table.at(arch)[k]);
  CHECK(table.at(kCell)[0] == Approx(93.66));  // the README's second row
  CHECK_THROWS_WITH(explorer::nats_accuracy(kCsv, kCell, "mnist"),
                    Contains("dataset 'mnist' is not in the NATS-Bench table"));
}

TEST_CASE("the nats oracle's default table is the repository's, wherever the space is",
          "[explorer][codesign][oracle]") {
  // A space in a temporary folder, far from configs/spaces/, naming no csv.
  const auto dir = temp_dir("default_table");
  const auto space = explorer::read_space(nb201_space(dir, R"({"oracle": "nats"})"));
  const explorer::WorkloadCache workloads(space);
  const auto point = space.grid_point(0);
  const auto e = explorer::evaluate_point(space, workloads, 0, point);
  REQUIRE(e.ok);
  const auto arch = explorer::resolve_point(space, point).network.at("arch").get<std::string>();
  CHECK(e.metrics.at("accuracy") == read_table().at(arch)[0]);
}

TEST_CASE("a network parameter builds the NAS-Bench-201 graph of its cell",
          "[explorer][codesign][network]") {
  const auto dir = temp_dir("network");
  const auto space = explorer::read_space(nb201_space(dir, nats()));
  CHECK(space.grid_size() == 3 * 2 * 2);
  const explorer::WorkloadCache workloads(space);
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const auto point = space.grid_point(i);
    const auto resolved = explorer::resolve_point(space, point);
    auto ops = workloads::parse_nasbench201_arch(kCell).ops;
    ops[4] = point.at("network.op_3_1").get<std::string>();
    ops[5] = point.at("network.op_3_2").get<std::string>();
    const std::string arch = "|" + ops[0] + "~0|+|" + ops[1] + "~0|" + ops[2] + "~1|+|" + ops[3] +
                             "~0|" + ops[4] + "~1|" + ops[5] + "~2|";
    CHECK(resolved.network.at("arch") == arch);
    const auto built = workloads.get(resolved.network, resolved.workload_settings);
    const auto expected =
        explorer::prepare_workload(workloads::load_workload("nasbench201:cifar10:" + arch));
    CHECK(built->hash == expected.hash);
    CHECK(built->graph.totals().macs == expected.graph.totals().macs);
    CHECK(built->graph.totals().macs ==
          workloads::build_nasbench201(arch, "cifar10").totals().macs);
    // The point's entry logs that network's hash and its accuracy from the table.
    const auto e = explorer::evaluate_point(space, workloads, i, point);
    REQUIRE(e.ok);
    CHECK(e.workload_hash == expected.hash);
    CHECK(e.metrics.at("accuracy") == explorer::nats_accuracy(kCsv, arch, "cifar10"));
    CHECK(e.metrics.at("test_error") == Approx(100.0 - e.metrics.at("accuracy")));
  }
}

TEST_CASE("network.arch chooses whole cells", "[explorer][codesign][network]") {
  const auto dir = temp_dir("arch_param");
  const std::string other = "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
  const auto space = explorer::read_space(write_space(
      dir, kArch + R"("network": {"kind": "nasbench201", "dataset": "cifar100"}, "accuracy": )" +
               R"({"oracle": "nats", "csv": ")" + kCsv + R"("}, "parameters": {"network.arch": {"values": [")" + kCell + R"(", ")" +
               other + R"("]}})"));
  const explorer::WorkloadCache workloads(space);
  for (std::uint64_t i = 0; i < 2; ++i) {
    const auto e = explorer::evaluate_point(space, workloads, i, space.grid_point(i));
    REQUIRE(e.ok);
    const std::string arch = i == 0 ? kCell : other;
    CHECK(e.workload_hash ==
          explorer::prepare_workload(workloads::load_workload("nasbench201:cifar100:" + arch)).hash);
    // The space's dataset is the network's: CIFAR-100 accuracy.
    CHECK(e.metrics.at("accuracy") == explorer::nats_accuracy(kCsv, arch, "cifar100"));
  }
}

TEST_CASE("the workload cache keeps at most its capacity", "[explorer][codesign][network]") {
  const auto dir = temp_dir("lru");
  const auto space = explorer::read_space(nb201_space(dir, nats()));
  const explorer::WorkloadCache workloads(space, 2);
  const auto net = [&](std::uint64_t i) {
    return explorer::resolve_point(space, space.grid_point(i * 4)).network;  // distinct cells
  };
  const auto settings = space.workload_settings;
  const auto before = workloads.builds();  // the base workload
  (void)workloads.get(net(1), settings);
  (void)workloads.get(net(2), settings);
  (void)workloads.get(net(1), settings);  // kept
  CHECK(workloads.builds() == before + 2);
  (void)workloads.get(net(0), settings);  // evicts net(2), the least recently used
  (void)workloads.get(net(1), settings);  // still kept
  CHECK(workloads.builds() == before + 3);
  (void)workloads.get(net(2), settings);  // built again
  CHECK(workloads.builds() == before + 4);
}

TEST_CASE("the command oracle runs the user's command", "[explorer][codesign][oracle]") {
  const auto dir = temp_dir("command");
  // The point arrives on stdin: the script answers with a number derived from it.
  std::ofstream(dir / "score.sh") << "#!/bin/sh\n"
                                     "input=$(cat)\n"
                                     "echo progress line\n"
                                     "case \"$input\" in *'\"systolic.rows\":16'*) echo 71.5;; "
                                     "*) echo 62.25;; esac\n";
  const auto ok = explorer::read_space(
      nb201_space(dir, R"({"oracle": "command", "command": "sh score.sh"})"));
  const explorer::WorkloadCache workloads(ok);
  for (std::uint64_t i = 0; i < 2; ++i) {
    const auto point = ok.grid_point(i);
    const auto e = explorer::evaluate_point(ok, workloads, i, point);
    REQUIRE(e.ok);
    CHECK(e.metrics.at("accuracy") == (point.at("systolic.rows") == 16 ? 71.5 : 62.25));
  }
  const auto failing = [&](const std::string& oracle) {
    const auto space = explorer::read_space(nb201_space(dir, oracle));
    const explorer::WorkloadCache w(space);
    const auto e = explorer::evaluate_point(space, w, 0, space.grid_point(0));
    CHECK_FALSE(e.ok);
    CHECK(e.metrics.empty());
    return e.error;
  };
  CHECK_THAT(failing(R"({"oracle": "command", "command": "echo broken >&2; exit 3"})"),
             Contains("exited with status 3: broken"));
  CHECK_THAT(failing(R"({"oracle": "command", "command": "echo ninety"})"),
             Contains("printed \"ninety\" as its last line, expected a number"));
  const auto start = std::chrono::steady_clock::now();
  CHECK_THAT(failing(R"({"oracle": "command", "command": "sleep 30", "timeout_s": 0.3})"),
             Contains("timed out after 0.3 s"));
  // The timeout ended the command: the evaluation did not wait for it.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  // A command that never reads its input is not an error.
  const auto quiet = explorer::read_space(
      nb201_space(dir, R"({"oracle": "command", "command": "echo 50"})"));
  const explorer::WorkloadCache wq(quiet);
  CHECK(explorer::evaluate_point(quiet, wq, 0, quiet.grid_point(0)).metrics.at("accuracy") == 50);
}

TEST_CASE("oracle noise is reproducible per point and seed", "[explorer][codesign][oracle]") {
  const auto dir = temp_dir("noise");
  const auto noisy = [&](int seed) {
    return explorer::read_space(nb201_space(
        dir, R"({"oracle": "nats", "csv": ")" + kCsv + R"(", "noise": {"sd": 1.0, "seed": )" +
                 std::to_string(seed) + "}}",
        ""));
  };
  const auto clean = explorer::read_space(nb201_space(dir, nats()));
  const auto a = noisy(1), a2 = noisy(1), b = noisy(2);
  const explorer::WorkloadCache wc(clean), wa(a), wa2(a2), wb(b);
  double sum = 0, sum_sq = 0;
  int differs = 0;
  for (std::uint64_t i = 0; i < clean.grid_size(); ++i) {
    const auto p = clean.grid_point(i);
    const double c = explorer::evaluate_point(clean, wc, i, p).metrics.at("accuracy");
    const double x = explorer::evaluate_point(a, wa, i, p).metrics.at("accuracy");
    CHECK(explorer::evaluate_point(a2, wa2, i, p).metrics.at("accuracy") == x);  // same seed
    CHECK(explorer::evaluate_point(a, wa, i, p).metrics.at("accuracy") == x);    // same run
    differs += explorer::evaluate_point(b, wb, i, p).metrics.at("accuracy") != x;
    CHECK(x != c);
    sum += x - c;
    sum_sq += (x - c) * (x - c);
  }
  CHECK(differs == static_cast<int>(clean.grid_size()));
  // Twelve draws of N(0, 1): their RMS is within a factor of 2.5 of 1 with probability > 0.999.
  const double rms = std::sqrt(sum_sq / static_cast<double>(clean.grid_size()));
  CHECK(rms > 0.4);
  CHECK(rms < 2.5);
}

TEST_CASE("expression metrics and accuracy constraints", "[explorer][codesign][space]") {
  const auto dir = temp_dir("expressions");
  // A threshold between the worst and the best of the space's cells.
  const auto clean = explorer::read_space(nb201_space(dir, nats()));
  const explorer::WorkloadCache wc(clean);
  double lo = 100, hi = 0;
  for (std::uint64_t i = 0; i < clean.grid_size(); ++i) {
    const double a = explorer::evaluate_point(clean, wc, i, clean.grid_point(i)).metrics.at("accuracy");
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  REQUIRE(lo < hi);
  const std::string threshold = nlohmann::json((lo + hi) / 2).dump();
  const auto space = explorer::read_space(nb201_space(
      dir, nats(),
      R"x(, "metrics": {"log10_latency_s": "log10(latency_s)", "score": "accuracy - log10_latency_s"},
      "constraints": ["accuracy >= )x" + threshold + "\"]"));
  CHECK(space.accuracy_metrics.count("score"));
  CHECK_FALSE(space.accuracy_metrics.count("log10_latency_s"));
  const explorer::WorkloadCache workloads(space);
  int feasible = 0;
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const auto e = explorer::evaluate_point(space, workloads, i, space.grid_point(i));
    if (!e.ok) {
      CHECK_THAT(e.error, Contains("infeasible: accuracy >= " + threshold + " violated"));
      continue;
    }
    ++feasible;
    CHECK(e.metrics.at("log10_latency_s") == Approx(std::log10(e.metrics.at("latency_s"))));
    CHECK(e.metrics.at("score") ==
          Approx(e.metrics.at("accuracy") - e.metrics.at("log10_latency_s")));
  }
  CHECK(feasible > 0);
  CHECK(feasible < static_cast<int>(space.grid_size()));
}

TEST_CASE("bad joint spaces name the file and JSON path", "[explorer][codesign][errors]") {
  const auto dir = temp_dir("errors");
  const auto fails = [&](const std::string& accuracy, const std::string& extra = "") {
    try {
      (void)explorer::read_space(nb201_space(dir, accuracy, extra));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(fails(R"({"oracle": "oracle9"})"),
             Contains("/accuracy/oracle: unknown accuracy oracle 'oracle9' (known: command, nats)"));
  CHECK_THAT(fails(R"({"oracle": "nats", "csv": "missing.csv"})"),
             Contains("/accuracy/csv: ") && Contains("missing.csv: cannot open the NATS-Bench table"));
  CHECK_THAT(fails(nats("mnist")), Contains("/accuracy/dataset: dataset 'mnist' is not in the "
                                            "NATS-Bench table"));
  std::ofstream(dir / "bad.csv")
      << "CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,"
         "ImageNetTestAccuracy200Epochs,ArchitectureString,UniqueString\n"
      << "90.1,70.2,40.3," << kCell << ",x\n"
      << "91.1,seventy,40.3," << kCell << ",x\n";
  CHECK_THAT(fails(R"({"oracle": "nats", "csv": "bad.csv"})"),
             Contains("bad.csv:3: CIFAR100TestAccuracy200Epochs is \"seventy\""));
  CHECK_THAT(fails(nats(), R"(, "metrics": {"latency_s": "1"})"),
             Contains("/metrics/latency_s: is already a metric"));
  // A network parameter that is no edge, an operation that is none of the five, a cell not
  // chosen whole.
  const auto net_space = [&](const std::string& params) {
    return write_space(dir, kArch + R"("network": {"kind": "nasbench201"}, "parameters": )" +
                                params);
  };
  CHECK_THROWS_WITH(explorer::read_space(net_space(R"({"network.op_9_0": {"values": ["none"]}})")),
                    Contains("/parameters/network.op_9_0: network parameter 'op_9_0': a "
                             "nasbench201 network has the parameters arch and op_1_0"));
  CHECK_THROWS_WITH(
      explorer::read_space(net_space(R"({"network.op_1_0": {"values": ["conv"]}})")),
      Contains("values must be operations (none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
               "avg_pool_3x3), got \"conv\""));
  CHECK_THROWS_WITH(
      explorer::read_space(net_space(R"({"network.op_1_0": {"values": ["none"]}})")),
      Contains("/parameters: network.op_2_0 is not a parameter and the network has no \"arch\""));
  CHECK_THROWS_WITH(
      explorer::read_space(write_space(
          dir, kArch + R"("workload": "x.json", "parameters": {"network.arch": {"values": ["x"]}})")),
      Contains("network parameters need a \"network\" object"));
}

namespace {

// Two tasks (cifar10 with weight 1, cifar100 with weight 3) on sub-accelerators from templates.
std::string two_task_space(const std::filesystem::path& dir, const std::string& accuracy,
                           const std::string& constraints) {
  const std::string net = R"("kind": "nasbench201", "arch": ")" + kCell + "\"";
  return write_space(
      dir, R"("tasks": [
        {"name": "a", "network": {)" + net + R"(, "dataset": "cifar10"}, "weight": 1},
        {"name": "b", "network": {)" + net + R"(, "dataset": "cifar100"}, "weight": 3, "template": "shidiannao"}],
      "templates": {"nvdla": ")" + test::source_path("configs/arch/systolic_edge_32x32.json") +
               R"(", "shidiannao": ")" + test::source_path("configs/arch/systolic_edge_32x32.json") +
               R"(", "eyeriss": ")" + test::source_path("configs/arch/eyeriss.json") + R"("},
      "accuracy": )" + accuracy + R"(,
      "parameters": {
        "a.template": {"values": ["nvdla", "eyeriss"]},
        "a.rows": {"values": [8, 16]},
        "a.network.op_3_2": {"values": ["skip_connect", "nor_conv_3x3"]},
        "b.cols": {"values": [16]},
        "b.bandwidth_gbs": {"values": [6.4]}},
      "constraints": )" + constraints + R"(,
      "objectives": ["accuracy:max", "energy_pj:min"])");
}

}  // namespace

TEST_CASE("multi-task points combine their tasks' metrics", "[explorer][codesign][multitask]") {
  const auto dir = temp_dir("multitask");
  const auto space = explorer::read_space(
      two_task_space(dir, nats(), R"(["a.rows * 16 + b.cols * 16 <= 400"])"));
  REQUIRE(space.tasks.size() == 2);
  const explorer::WorkloadCache workloads(space);
  int pruned = 0;
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const auto point = space.grid_point(i);
    const auto e = explorer::evaluate_point(space, workloads, i, point);
    if (point.at("a.rows") == 16) {  // 16*16 + 16*16 = 512 PEs > 400: the shared budget
      CHECK_FALSE(e.ok);
      CHECK_THAT(e.error, Contains("infeasible: a.rows * 16 + b.cols * 16 <= 400 violated"));
      ++pruned;
      continue;
    }
    INFO(e.error);
    REQUIRE(e.ok);
    // Each task on its own, built here from the same files and overrides by hand.
    auto cell_a = workloads::parse_nasbench201_arch(kCell).ops;
    cell_a[5] = point.at("a.network.op_3_2").get<std::string>();
    const std::string arch_a = "|" + cell_a[0] + "~0|+|" + cell_a[1] + "~0|" + cell_a[2] + "~1|+|" +
                               cell_a[3] + "~0|" + cell_a[4] + "~1|" + cell_a[5] + "~2|";
    const bool eyeriss = point.at("a.template") == "eyeriss";
    const auto hw_a = arch::load_arch(
        test::source_path(eyeriss ? "configs/arch/eyeriss.json"
                                  : "configs/arch/systolic_edge_32x32.json"),
        eyeriss ? std::vector<std::string>{"eyeriss.rows=8"}
                : std::vector<std::string>{"systolic.dataflow=\"ws\"", "systolic.rows=8"});
    const auto hw_b = arch::load_arch(
        test::source_path("configs/arch/systolic_edge_32x32.json"),
        {"systolic.dataflow=\"os\"", "systolic.cols=16", "dram.bandwidth=\"6.4 GB/s\""});
    const auto run = [](const arch::ArchConfig& hw, const std::string& spec) {
      return explorer::evaluate(hw, explorer::prepare_workload(workloads::load_workload(spec)), {})
          .summary;
    };
    const auto sa = run(hw_a, "nasbench201:cifar10:" + arch_a);
    const auto sb = run(hw_b, "nasbench201:cifar100:" + kCell);
    CHECK(e.metrics.at("latency_s.a") == Approx(sa.latency_s));
    CHECK(e.metrics.at("latency_s.b") == Approx(sb.latency_s));
    CHECK(e.metrics.at("latency_s") == Approx(std::max(sa.latency_s, sb.latency_s)));
    CHECK(e.metrics.at("energy_pj") == Approx(sa.energy_pj + sb.energy_pj));
    CHECK(e.metrics.at("area_mm2") == Approx(sa.area_mm2 + sb.area_mm2));
    const double acc_a = explorer::nats_accuracy(kCsv, arch_a, "cifar10");
    const double acc_b = explorer::nats_accuracy(kCsv, kCell, "cifar100");
    CHECK(e.metrics.at("accuracy.a") == acc_a);
    CHECK(e.metrics.at("accuracy.b") == acc_b);
    CHECK(e.metrics.at("accuracy") == Approx((acc_a + 3 * acc_b) / 4));
    CHECK(e.metrics.at("test_error.b") == Approx(100 - acc_b));
  }
  CHECK(pruned == 4);
}

TEST_CASE("a point that breaks a hardware spec is never scored", "[explorer][codesign][multitask]") {
  const auto dir = temp_dir("pruning");
  const auto calls = dir / "calls.txt";
  const std::string counting =
      R"({"oracle": "command", "command": "cat > /dev/null; echo call >> calls.txt; echo 80"})";
  const auto count = [&] {
    std::ifstream in(calls);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  // Impossible latency spec: every point is infeasible, and the oracle is never called.
  const auto strict = explorer::read_space(
      two_task_space(dir, counting, R"(["latency_s <= 1e-12", "accuracy >= 10"])"));
  const explorer::WorkloadCache ws(strict);
  for (std::uint64_t i = 0; i < strict.grid_size(); ++i) {
    const auto e = explorer::evaluate_point(strict, ws, i, strict.grid_point(i));
    CHECK_FALSE(e.ok);
    CHECK_THAT(e.error, Contains("infeasible: latency_s <= 1e-12 violated"));
  }
  CHECK(count() == 0);
  // A spec every point meets: one call per task and point; the accuracy spec after it.
  const auto lenient = explorer::read_space(
      two_task_space(dir, counting, R"(["latency_s <= 1", "accuracy >= 90"])"));
  const explorer::WorkloadCache wl(lenient);
  const auto e = explorer::evaluate_point(lenient, wl, 0, lenient.grid_point(0));
  CHECK(count() == 2);
  CHECK_FALSE(e.ok);
  CHECK_THAT(e.error, Contains("infeasible: accuracy >= 90 violated (80 < 90)"));
}

TEST_CASE("the normalised hypervolume", "[explorer][codesign][pareto]") {
  // One point at the middle of a box [lo, ref] in two objectives: a quarter of the unit box.
  CHECK(explorer::normalised_hypervolume({{15, 3}}, {10, 1}, {20, 5}) == Approx(0.25));
  // Outside the box in one objective: no volume; better than lo: counted as lo.
  CHECK(explorer::normalised_hypervolume({{25, 1}}, {10, 1}, {20, 5}) == 0);
  CHECK(explorer::normalised_hypervolume({{0, 1}}, {10, 1}, {20, 5}) == Approx(1));
  // Two points: union of [0.5,1]x[0,1] and [0,1]x[0.5,1] = 0.75.
  CHECK(explorer::normalised_hypervolume({{15, 1}, {10, 3}}, {10, 1}, {20, 5}) == Approx(0.75));
  // The streaming archive keeps exactly pareto_front()'s points.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<explorer::LogEntry> entries;
  explorer::ParetoArchive archive;
  for (int i = 0; i < 400; ++i) {
    explorer::LogEntry e;
    e.index = static_cast<std::uint64_t>(i);
    e.metrics = {{"x", u(rng)}, {"y", u(rng)}, {"z", u(rng)}};
    archive.add({e.metrics["x"], e.metrics["y"], e.metrics["z"]});
    entries.push_back(e);
  }
  const std::vector<explorer::Objective> objectives = {{"x", true}, {"y", true}, {"z", true}};
  const auto front = explorer::pareto_front(entries, objectives);
  CHECK(archive.points().size() == front.size());
  CHECK(explorer::normalised_hypervolume(archive.points(), {0, 0, 0}, {1, 1, 1}) ==
        Approx(explorer::normalised_hypervolume(entries, objectives, {0, 0, 0}, {1, 1, 1})));
}

TEST_CASE("the shipped co-design spaces", "[explorer][codesign][space]") {
  const auto bench = explorer::read_space(
      test::source_path("configs/spaces/codesign_nb201_systolic_edge.json"));
  CHECK(bench.grid_size() == 15625ull * 4 * 4 * 3 * 2);
  CHECK(bench.hv_lo.size() == 4);
  const auto point = bench.random_point(1, 0);
  CHECK(point.size() == 10);
  CHECK(point.at("network.op_1_0").is_string());
  CHECK(point.at("systolic.rows").is_number_integer());
  CHECK(point.at("dram.bandwidth").is_string());
  const explorer::WorkloadCache workloads(bench);
  const auto e = explorer::evaluate_point(bench, workloads, 0, point);
  REQUIRE(e.ok);
  for (const char* m : {"test_error", "log10_latency_s", "log10_energy_pj", "log10_area_mm2"})
    CHECK(e.metrics.count(m));
  const auto nasaic =
      explorer::read_space(test::source_path("configs/spaces/nasaic_nb201_two_tasks.json"));
  CHECK(nasaic.tasks.size() == 2);
  CHECK(nasaic.oracle);
}

TEST_CASE("the shipped compression x hardware space", "[explorer][codesign][space]") {
  const auto space =
      explorer::read_space(test::source_path("configs/spaces/modegpt_gpt2_systolic.json"));
  CHECK(space.grid_size() == 5ull * 3 * 3 * 2);
  REQUIRE(space.oracle);
  const explorer::WorkloadCache workloads(space);
  // The same hardware at ratios 0 and 0.25: the compressed GPT-2 does fewer MACs, is faster, and
  // its accuracy is the oracle table's (100 and 95, configs/spaces/modegpt_accuracy.csv).
  auto point = space.grid_point(0);
  point["workload.modegpt.ratio"] = 0;
  const auto dense = explorer::evaluate_point(space, workloads, 0, point);
  point["workload.modegpt.ratio"] = 0.25;
  const auto compressed = explorer::evaluate_point(space, workloads, 1, point);
  INFO(dense.error << compressed.error);
  REQUIRE(dense.ok);
  REQUIRE(compressed.ok);
  CHECK(dense.metrics.at("accuracy") == Approx(100));
  CHECK(compressed.metrics.at("accuracy") == Approx(95));
  CHECK(compressed.metrics.at("macs") < dense.metrics.at("macs"));
  CHECK(compressed.metrics.at("latency_s") < dense.metrics.at("latency_s"));
  CHECK(compressed.workload_hash != dense.workload_hash);
  // Past the table the oracle refuses the point rather than extrapolate.
  point["workload.modegpt.ratio"] = 0.5;
  const auto outside = explorer::evaluate_point(space, workloads, 2, point);
  CHECK_FALSE(outside.ok);
  CHECK_THAT(outside.error, Contains("outside the table"));
}

TEST_CASE("a space's hypervolume scale goes into its log and tessera pareto uses it",
          "[explorer][codesign][cli]") {
  const auto dir = temp_dir("hv_scale");
  const auto space = nb201_space(dir, nats(), R"(, "hypervolume": {"lo": [0, 0], "ref": [100, 1]})");
  const auto log = (dir / "run.jsonl").string();
  REQUIRE(test::run_cli({"sweep", space, "--log", log, "--quiet"}).code == 0);
  const auto parsed = explorer::read_results_log(log);
  REQUIRE(parsed.header);
  CHECK(parsed.header->hv_lo == std::vector<double>{0, 0});
  CHECK(parsed.header->hv_ref == std::vector<double>{100, 1});
  const auto r = test::run_cli({"pareto", log, "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("reference") == "space");
  // Dominated entries add nothing: the front's hypervolume is that of every ok entry.
  const auto objectives = explorer::parse_objectives("test_error:min,latency_s:min");
  const double expected =
      explorer::normalised_hypervolume(parsed.entries, objectives, {0, 0}, {100, 1});
  CHECK(expected > 0);
  CHECK(j.at("hypervolume").get<double>() == Approx(expected));
}

TEST_CASE("tessera codesign: a search over a joint space, resumable",
          "[explorer][codesign][cli]") {
  const auto dir = temp_dir("cli");
  const auto space = nb201_space(dir, nats());
  const auto log = (dir / "run.jsonl").string();
  const std::vector<std::string> args = {"codesign", space, "--log", log, "--algo", "nsga2",
                                         "--budget", "16", "--seed", "3", "--quiet"};
  auto r = test::run_cli(args);
  REQUIRE(r.code == 0);
  const auto full = explorer::read_results_log(log);
  REQUIRE(full.header);
  CHECK(full.header->command == "codesign");
  REQUIRE(!full.entries.empty());
  for (const auto& e : full.entries)
    if (e.ok) CHECK(e.metrics.count("accuracy"));
  // Killed after five points: --resume evaluates the rest and ends with the same log.
  const std::string text = read_text(log);
  std::size_t cut = 0;
  for (int lines = 0; lines < 6; ++lines) cut = text.find('\n', cut) + 1;
  std::ofstream(log, std::ios::trunc) << text.substr(0, cut);
  auto resume_args = args;
  resume_args.push_back("--resume");
  r = test::run_cli(resume_args);
  REQUIRE(r.code == 0);
  const auto resumed = explorer::read_results_log(log);
  REQUIRE(resumed.entries.size() == full.entries.size());
  for (std::size_t i = 0; i < full.entries.size(); ++i) {
    CHECK(resumed.entries[i].point == full.entries[i].point);
    CHECK(resumed.entries[i].metrics == full.entries[i].metrics);
  }
  // Not a joint space: one line naming the file.
  r = test::run_cli({"codesign", test::source_path("configs/spaces/systolic_resnet18.json"),
                     "--log", (dir / "other.jsonl").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("systolic_resnet18.json: codesign needs a joint space"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("transformer sizes as network parameters", "[explorer][codesign][network]") {
  const auto dir = temp_dir("transformer");
  const std::string config = test::source_path("configs/models/gpt2.json");
  const auto space = explorer::read_space(write_space(
      dir, kArch + R"("network": {"kind": "transformer", "config": ")" + config + R"("},
      "workload_settings": {"seq_len": 16},
      "parameters": {"network.layers": {"values": [1, 2]}, "network.hidden": {"values": [256, 250]},
                     "network.heads": {"values": [4]}})"));
  const explorer::WorkloadCache workloads(space);
  for (std::uint64_t i = 0; i < space.grid_size(); ++i) {
    const auto point = space.grid_point(i);
    const auto e = explorer::evaluate_point(space, workloads, i, point);
    if (point.at("network.hidden") == 250) {  // 250 is no multiple of 4 heads
      CHECK_FALSE(e.ok);
      CHECK_THAT(e.error, Contains("network.hidden 250 is not a multiple of network.heads 4"));
      continue;
    }
    REQUIRE(e.ok);
    auto c = workloads::read_transformer_config(config);
    c.layers = point.at("network.layers").get<std::int64_t>();
    c.hidden = 256;
    c.heads = 4;
    c.kv_heads = 4;
    c.head_dim = 64;
    workloads::LoadOptions options;
    options.seq_len = 16;
    CHECK(e.metrics.at("macs") ==
          static_cast<double>(workloads::build_transformer(c, config, options).totals().macs));
  }
  // Settings the transformer front-end does not take are refused before the search starts, as
  // `tessera simulate` refuses them.
  const auto image = explorer::read_space(write_space(
      dir, kArch + R"("network": {"kind": "transformer", "config": ")" + config + R"("},
      "workload_settings": {"seq_len": 16, "image_size": 64},
      "parameters": {"network.layers": {"values": [1, 2]}})"));
  CHECK_THROWS_WITH(explorer::WorkloadCache(image),
      Contains("gpt2.json: the transformer front-end does not take the setting 'image_size'"));
}

TEST_CASE("tessera codesign: bad oracle input is one line and exit 1", "[explorer][codesign][cli]") {
  const auto dir = temp_dir("cli_errors");
  for (const auto& [accuracy, message] :
       std::vector<std::pair<std::string, std::string>>{
           {R"({"oracle": "oracle9"})", "unknown accuracy oracle 'oracle9'"},
           {R"({"oracle": "nats", "csv": "nope.csv"})", "nope.csv: cannot open the NATS-Bench table"},
           {nats("svhn"), "/accuracy/dataset: dataset 'svhn' is not in the NATS-Bench table"}}) {
    const auto r = test::run_cli(
        {"codesign", nb201_space(dir, accuracy), "--log", (dir / "x.jsonl").string()});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains(message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "x.jsonl"));
  }
}
