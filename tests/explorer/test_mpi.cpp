// The MPI evaluator pool through the real executable under mpirun: the same log as a single
// process for sweeps (analytical and SystemC) and searches, and a sweep resumed after rank 1 and
// then rank 0 were killed (SIGKILL) ends with every point exactly once.
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_support.hpp"
#include "explorer/results_log.hpp"
#include "test_support.hpp"

extern char** environ;

using namespace tessera;

namespace {

namespace fs = std::filesystem;

// Named by process: several checkouts may run their suites at once on one machine.
std::string temp_log(const std::string& name) {
  const auto p = (fs::temp_directory_path() /
                  ("tessera_mpi_" + std::to_string(::getpid()) + "_" + name + ".jsonl"))
                     .string();
  fs::remove(p);
  return p;
}

// Starts `mpiexec -n ranks tessera args...` with its output in a file; returns its pid.
pid_t start_mpi(int ranks, const std::vector<std::string>& args) {
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);  // CI containers run as root
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  ::setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);  // no ptrace in containers
  std::vector<std::string> argv = {TESSERA_MPIEXEC, "-n", std::to_string(ranks), "--oversubscribe",
                                   TESSERA_EXECUTABLE};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c;
  for (auto& a : argv) c.push_back(a.data());
  c.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  const auto out =
      (fs::temp_directory_path() / ("tessera_mpi_output_" + std::to_string(::getpid()) + ".txt"))
          .string();
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, c[0], &files, nullptr, c.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&files);
  return pid;
}

// The exit status of `pid`; a job still running after two minutes (a deadlock) is killed and
// fails the test.
int wait_for(pid_t pid) {
  int status = 0;
  for (int waited_ms = 0; ::waitpid(pid, &status, WNOHANG) == 0; waited_ms += 10) {
    if (waited_ms > 120000) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("mpiexec did not finish within two minutes");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_mpi(int ranks, const std::vector<std::string>& args) {
  return wait_for(start_mpi(ranks, args));
}

// The pid of MPI rank `rank` among the children of mpiexec `parent`, or -1.
pid_t rank_pid(pid_t parent, int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& d : fs::directory_iterator("/proc")) {
    const std::string name = d.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(d.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream env(d.path() / "environ", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    for (std::size_t b = 0; b < text.size();) {
      const auto e = text.find('\0', b);
      if (text.compare(b, (e == std::string::npos ? text.size() : e) - b, want) == 0)
        return std::stoi(name);
      b = e == std::string::npos ? text.size() : e + 1;
    }
  }
  return -1;
}

std::size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  return static_cast<std::size_t>(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

const auto by_index = test::log_by_index;

}  // namespace

TEST_CASE("MPI sweeps and searches log what a single process logs", "[explorer][mpi]") {
  const auto small = test::data_path("spaces/small.json");
  const auto systemc = test::data_path("spaces/small_systemc.json");
  for (const auto& [space, extra] :
       {std::pair{small, std::vector<std::string>{}},
        {small, {"--method", "random", "--samples", "300", "--seed", "4", "--jobs", "2"}},
        // Batches of 256 points: tasks and results far above MPI's eager limit both ways.
        {small, {"--method", "random", "--samples", "3000", "--jobs", "4"}},
        {systemc, {}}}) {
    const auto one = temp_log("single"), many = temp_log("ranks");
    std::vector<std::string> args = {"sweep", space, "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto single = args, ranks = args;
    single.insert(single.end(), {"--log", one});
    ranks.insert(ranks.end(), {"--log", many, "--mpi"});
    REQUIRE(test::run_cli(single).code == 0);
    REQUIRE(run_mpi(3, ranks) == 0);
    INFO(space << " " << extra.size());
    CHECK(by_index(many) == by_index(one));
    CHECK(explorer::read_results_log(many).header->run ==
          explorer::read_results_log(one).header->run);
  }
  const auto one = temp_log("explore_single"), many = temp_log("explore_ranks");
  REQUIRE(
      test::run_cli({"explore", small, "--log", one, "--budget", "64", "--seed", "5", "--quiet"})
          .code == 0);
  REQUIRE(run_mpi(3, {"explore", small, "--log", many, "--budget", "64", "--seed", "5", "--quiet",
                      "--mpi"}) == 0);
  CHECK(by_index(many) == by_index(one));
}

TEST_CASE("MPI co-design searches log what a single process logs", "[explorer][mpi][codesign]") {
  // A joint network x accelerator space with the NATS accuracy oracle, and a two-task space
  // (NASAIC's templates, shared budgets, specs): the same evaluate_point path as sweeps, here
  // with accuracy lookups and multi-task points carried through the pool.
  for (const char* file : {"configs/spaces/codesign_nb201_systolic_edge.json",
                           "configs/spaces/nasaic_nb201_two_tasks.json"}) {
    const auto one = temp_log("codesign_single"), many = temp_log("codesign_ranks");
    const std::vector<std::string> args = {"codesign", test::source_path(file), "--algo", "nsga2",
                                           "--budget", "24", "--seed", "2", "--quiet"};
    auto single = args, ranks = args;
    single.insert(single.end(), {"--log", one});
    ranks.insert(ranks.end(), {"--log", many, "--mpi"});
    REQUIRE(test::run_cli(single).code == 0);
    REQUIRE(run_mpi(3, ranks) == 0);
    INFO(file);
    const auto logged = by_index(many);
    CHECK(logged.size() >= 12);  // NSGA-II's budget counts proposals; repeats are not logged
    CHECK(logged.size() <= 24);
    CHECK(logged == by_index(one));
    std::size_t with_accuracy = 0;
    for (const auto& e : explorer::read_log(many)) with_accuracy += e.ok && !e.metrics.empty();
    CHECK(with_accuracy > 0);
  }
}

TEST_CASE("an MPI sweep resumes after any rank is killed", "[explorer][mpi]") {
  const auto space = test::data_path("spaces/small_systemc.json");
  // OpenMPI takes about a second to take the job down after a rank dies, and the surviving
  // ranks go on meanwhile (~3,000 points here with a worker killed): the sweep is long enough to
  // be unfinished after that, and the log's writer (rank 0) is killed first.
  const std::size_t samples = 6000;
  const std::vector<std::string> sweep = {"sweep",     space,  "--method", "random",
                                          "--samples", std::to_string(samples), "--quiet"};
  const auto reference = temp_log("kill_reference"), log = temp_log("killed");
  auto args = sweep;
  args.insert(args.end(), {"--log", reference, "--jobs", "2"});
  REQUIRE(test::run_cli(args).code == 0);

  args = sweep;
  args.insert(args.end(), {"--log", log, "--mpi", "--resume"});
  for (const int victim : {0, 1}) {
    const std::size_t before = lines_in(log);
    const pid_t mpi = start_mpi(3, args);
    pid_t rank = -1;
    for (int tries = 0; tries < 3000 && (rank < 0 || lines_in(log) < before + 100); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (rank < 0) rank = rank_pid(mpi, victim);
    }
    REQUIRE(rank > 0);
    ::kill(rank, SIGKILL);
    CHECK(wait_for(mpi) != 0);  // the job goes down with the rank
    INFO("killed rank " << victim << " after " << lines_in(log) - before << " new lines");
    CHECK(by_index(log).size() < samples);  // readable (a torn last line is ignored), incomplete
  }
  REQUIRE(run_mpi(3, args) == 0);
  CHECK(by_index(log) == by_index(reference));
}
