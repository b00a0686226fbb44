// Output paths (cli/files.hpp, cli/results_file.hpp) through the command line in-process: what
// may be replaced, what is written in place, what is refused, and the checks between a run's
// inputs and outputs. Pipes are made with mkfifo in a temporary folder; device paths such as
// /dev/null are only examined, never written.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/app.hpp"
#include "cli/files.hpp"
#include "cli_support.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

using namespace tessera;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

constexpr auto run = test::run_cli;

std::string data(const std::string& f) { return test::data_path("cli/" + f); }

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tessera_outputs_" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // Names in the folder other than `keep`: a temporary file left behind shows here.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

fs::file_type type_of(const std::string& path) { return fs::symlink_status(path).type(); }

// Reads a pipe on a thread while the command writes it. Opened without waiting (O_NONBLOCK), so
// a command that failed to open the pipe cannot leave the test waiting.
class PipeReader {
 public:
  explicit PipeReader(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    REQUIRE(fd_ >= 0);
    thread_ = std::thread([this] {
      char buffer[4096];
      for (;;) {
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n > 0) {
          text_.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        if (done_) break;  // the writer has finished and the pipe is drained
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  std::string finish() {
    done_ = true;
    thread_.join();
    ::close(fd_);
    return text_;
  }

 private:
  int fd_;
  std::atomic<bool> done_{false};
  std::string text_;
  std::thread thread_;
};

std::vector<std::string> simulate_args(const std::string& out) {
  return {"simulate", "--arch", data("ok_arch.json"), "--workload", data("ok_workload.json"),
          "--quiet", "--out", out};
}

}  // namespace

// Test names never start with '-': Catch2 reads such a name on its command line as one of its own
// options (ctest passes the name), runs every test and writes its report to a file named by the rest.
TEST_CASE("an --out onto a pipe writes into it and leaves the pipe", "[cli][files][pipe]") {
  const TempDir d;
  const auto fifo = d / "report.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(fifo, d.path / "link_to_fifo.json");
  for (const auto& out : {fifo, d / "link_to_fifo.json"}) {
    INFO(out);
    PipeReader reader(fifo);
    const auto r = run(simulate_args(out));
    const std::string text = reader.finish();
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(nlohmann::json::parse(text).at("summary").at("cycles") == 451584);
    CHECK(type_of(fifo) == fs::file_type::fifo);
  }
  CHECK(type_of(d / "link_to_fifo.json") == fs::file_type::symlink);
  CHECK(d.names() == std::vector<std::string>{"link_to_fifo.json", "report.fifo"});
  // --format scalesim writes its CSVs beside --out: a pipe has no folder of its own.
  const auto r = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                      data("ok_workload.json"), "--format", "scalesim", "--out", fifo});
  CHECK(r.code == cli::kExitInputError);
  CHECK_THAT(r.err, Contains("--format scalesim") && Contains("written in place"));
}

TEST_CASE("device and descriptor paths are written in place, never replaced", "[cli][files]") {
  // Only examined: nothing here opens a device.
  CHECK_FALSE(cli::is_replaced_file("/dev/null"));
  CHECK_FALSE(cli::is_replaced_file("/dev/stdout"));
  CHECK_FALSE(cli::is_replaced_file("/dev/fd/2"));
  CHECK_FALSE(cli::is_replaced_file("/proc/self/fd/1"));
  const TempDir d;
  CHECK(cli::is_replaced_file(d / "new.json"));
  CHECK(cli::is_replaced_file(d / "new/folder/new.json"));
  // Two outputs on /dev/null are fine (nothing is kept there); checking opens nothing.
  CHECK_NOTHROW(cli::check_run_paths({}, {{"--out", "/dev/null"}, {"--trace", "/dev/null"}}));
}

TEST_CASE("an --out through a symbolic link replaces the link's target and keeps the link",
          "[cli][files]") {
  const TempDir d;
  const auto target = d / "target.json";
  { std::ofstream(target) << "old\n"; }
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  fs::create_symlink("target.json", d.path / "link.json");
  const auto r = run(simulate_args(d / "link.json"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(type_of(d / "link.json") == fs::file_type::symlink);
  CHECK(nlohmann::json::parse(slurp(target)).at("summary").at("cycles") == 451584);
  // The replaced file keeps its permissions.
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  // A link to nothing yet: its target is created, the link kept.
  fs::create_symlink("later.json", d.path / "dangling.json");
  REQUIRE(run(simulate_args(d / "dangling.json")).code == 0);
  CHECK(type_of(d / "dangling.json") == fs::file_type::symlink);
  CHECK(type_of(d / "later.json") == fs::file_type::regular);
  CHECK(d.names() == std::vector<std::string>{"dangling.json", "later.json", "link.json", "target.json"});
}

TEST_CASE("an output path that is a folder, empty, an input or another output is an error",
          "[cli][files][errors]") {
  const TempDir d;
  const auto dir_out = run(simulate_args(d.path.string()));
  CHECK(dir_out.code == cli::kExitInputError);
  CHECK(dir_out.err == "tessera: error: --out " + d.path.string() + ": is a directory, not a file "
                       "an output can be written to\n");
  const auto slash = run(simulate_args(d / "sub/"));
  CHECK(slash.code == cli::kExitInputError);
  CHECK_THAT(slash.err, Contains("names a folder"));
  const auto empty = run(simulate_args(""));
  CHECK(empty.code != 0);
  CHECK_THAT(empty.err, Contains("--out") && Contains("must not be empty"));

  // The input under other names: ./, a symbolic link, a hard link. Never written.
  const auto arch = d / "arch.json";
  fs::copy_file(data("ok_arch.json"), arch);
  const std::string original = slurp(arch);
  fs::create_symlink(arch, d.path / "arch_link.json");
  fs::create_hard_link(arch, d.path / "arch_hard.json");
  for (const auto& out : {d.path.string() + "/./arch.json", d / "arch_link.json", d / "arch_hard.json"}) {
    INFO(out);
    const auto r = run({"simulate", "--arch", arch, "--workload", data("ok_workload.json"),
                        "--quiet", "--out", out});
    CHECK(r.code == cli::kExitInputError);
    CHECK(r.err == "tessera: error: --out " + out + ": is also the run's input --arch " + arch +
                       "; writing it would destroy the input\n");
  }
  CHECK(slurp(arch) == original);
  const auto settings = d / "settings.json";
  { std::ofstream(settings) << "{}"; }
  const auto s = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                      data("ok_workload.json"), "--workload-settings", settings, "--out", settings});
  CHECK_THAT(s.err, Contains("is also the run's input --workload-settings"));
  CHECK(slurp(settings) == "{}");

  // Two outputs naming one file, neither existing yet.
  const auto both = run({"simulate", "--arch", data("ok_arch.json"), "--workload",
                         data("ok_workload.json"), "--fidelity", "systemc", "--out", d / "r.json",
                         "--trace", d.path.string() + "/sub/../r.json"});
  CHECK(both.code == cli::kExitInputError);
  CHECK_THAT(both.err, Contains("--trace " + d.path.string() + "/sub/../r.json: is also the output "
                                "of --out " + (d / "r.json")));
  CHECK_FALSE(fs::exists(d / "r.json"));

  // The other commands that write.
  const auto e = run({"energy", "--arch", arch, "--workload",
                      test::source_path("configs/workloads/lenet5.json"), "--json", arch});
  CHECK_THAT(e.err, Contains("--json " + arch + ": is also the run's input --arch"));
  const auto workload = d / "w.json";
  fs::copy_file(data("ok_workload.json"), workload);
  const auto c = run({"convert", workload, "--out", workload});
  CHECK_THAT(c.err, Contains("--out " + workload + ": is also the run's input workload"));
  const auto cmp = run({"compare", "--arch", data("ok_arch.json"), "--arch", arch, "--workload",
                        data("ok_workload.json"), "--out", d / "arch_link.json"});
  CHECK_THAT(cmp.err, Contains("is also the run's input --arch " + arch));
  CHECK(slurp(arch) == original);
  CHECK(slurp(workload) == slurp(data("ok_workload.json")));
}

TEST_CASE("simulate --out and sweep --log create missing folders alike", "[cli][files]") {
  const TempDir d;
  const auto report = d / "reports/a/b/r.json";
  REQUIRE(run(simulate_args(report)).code == 0);
  CHECK(fs::is_regular_file(report));
  const auto space = test::data_path("spaces/small.json");
  const auto log = d / "logs/c/d/log.jsonl";
  const auto sweep = run({"sweep", space, "--log", log, "--quiet", "--method", "random",
                          "--samples", "1"});
  INFO(sweep.err);
  REQUIRE(sweep.code == 0);
  CHECK(fs::is_regular_file(log));
  // A file where a folder should be: the same message from both.
  { std::ofstream(d / "file") << "x"; }
  const auto r1 = run(simulate_args(d / "file/sub/r.json"));
  const auto r2 = run({"sweep", space, "--log", d / "file/sub/log.jsonl", "--quiet"});
  CHECK(r1.code == cli::kExitInputError);
  CHECK(r2.code == cli::kExitInputError);
  CHECK(r1.err == "tessera: error: " + (d / "file/sub/r.json") + ": cannot create the folder " +
                      (d / "file/sub") + ": Not a directory\n");
  CHECK(r2.err == "tessera: error: " + (d / "file/sub/log.jsonl") +
                      ": cannot create the folder " + (d / "file/sub") + ": Not a directory\n");
}

TEST_CASE("a results log must be a regular file and not the space", "[cli][files][errors]") {
  const TempDir d;
  const auto space = test::data_path("spaces/small.json");
  const auto fifo = d / "log.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto r = run({"sweep", space, "--log", fifo, "--quiet"});
  CHECK(r.code == cli::kExitInputError);
  CHECK(r.err == "tessera: error: " + fifo +
                     ": is a pipe (FIFO); a results log must be a regular file (it is locked, read "
                     "back and continued by --resume)\n");
  CHECK(type_of(fifo) == fs::file_type::fifo);
  const auto same = run({"explore", space, "--log", space, "--budget", "2", "--quiet"});
  CHECK(same.code == cli::kExitInputError);
  CHECK_THAT(same.err, Contains("--log " + space + ": is also the run's input space"));
  const auto dir = run({"sweep", space, "--log", d.path.string(), "--quiet"});
  CHECK_THAT(dir.err, Contains("is a directory"));
  // pareto and merge read logs through the input reader: a pipe is refused, not waited on.
  const auto p = run({"pareto", fifo});
  CHECK(p.code == cli::kExitInputError);
  CHECK_THAT(p.err, Contains(fifo + ": is a pipe (FIFO), not a regular file"));
  const auto shard = d / "shard.jsonl";
  fs::copy_file(test::data_path("logs/shard_0_of_2.jsonl"), shard);
  const std::string before = slurp(shard);
  const auto m = run({"merge", shard, test::data_path("logs/shard_1_of_2.jsonl"), "--out", shard});
  CHECK(m.code == cli::kExitInputError);
  CHECK_THAT(m.err, Contains("--out " + shard + ": is also the run's input log " + shard));
  CHECK(slurp(shard) == before);
}
