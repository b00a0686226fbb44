// The accuracy oracles (explorer/oracle.hpp): the NATS-Bench table, an external command, and
// the Gaussian noise any of them can add.
#include "explorer/oracle.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <unordered_map>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "common/input_file.hpp"

extern char** environ;

namespace tessera::explorer {

namespace {

std::string resolve(const std::string& dir, const std::string& p) {
  return std::filesystem::path(p).is_absolute() ? p
                                                : (std::filesystem::path(dir) / p).lexically_normal().string();
}

// ---- NATS-Bench ----------------------------------------------------------------------------

// The table's accuracy columns, in nats_datasets() order.
constexpr std::array<const char*, 3> kNatsColumns = {
    "CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs",
    "ImageNetTestAccuracy200Epochs"};
constexpr const char* kNatsArchColumn = "ArchitectureString";

using NatsTable = std::unordered_map<std::string, std::array<double, 3>>;  // arch -> accuracies

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

NatsTable parse_nats(const std::string& path) {
  std::istringstream in(read_input_file(path, kTextFileLimit, "the NATS-Bench table"));
  std::string line;
  std::size_t number = 0;
  const auto at = [&](std::size_t n) { return path + ":" + std::to_string(n) + ": "; };
  std::vector<std::size_t> columns;  // accuracy columns, then the architecture column
  std::size_t width = 0;
  NatsTable table;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto fields = split_commas(line);
    if (columns.empty()) {
      for (const char* name : kNatsColumns) {
        const auto it = std::find(fields.begin(), fields.end(), name);
        if (it == fields.end())
          throw InputError(at(number) + "header lacks the column " + name +
                           " (expected the NATS-Bench topology table, data/nats_bench)");
        columns.push_back(static_cast<std::size_t>(it - fields.begin()));
      }
      const auto it = std::find(fields.begin(), fields.end(), kNatsArchColumn);
      if (it == fields.end())
        throw InputError(at(number) + "header lacks the column " + kNatsArchColumn);
      columns.push_back(static_cast<std::size_t>(it - fields.begin()));
      width = fields.size();
      continue;
    }
    if (fields.size() != width)
      throw InputError(at(number) + "has " + std::to_string(fields.size()) +
                       " fields, the header " + std::to_string(width));
    std::array<double, 3> acc{};
    for (std::size_t k = 0; k < acc.size(); ++k) {
      const std::string& text = fields[columns[k]];
      char* end = nullptr;
      acc[k] = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(acc[k]) || acc[k] < 0 || acc[k] > 100)
        throw InputError(at(number) + kNatsColumns[k] + " is \"" + text +
                         "\", expected a percentage");
    }
    if (!table.emplace(fields[columns.back()], acc).second)
      throw InputError(at(number) + "architecture " + fields[columns.back()] +
                       " is listed twice");
  }
  if (columns.empty()) throw InputError(path + ": empty file, expected the NATS-Bench table");
  if (table.empty()) throw InputError(path + ": has a header and no rows");
  return table;
}

// Each table is parsed once per process: a benchmark runs many searches over the same file.
const NatsTable& nats_table(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const NatsTable>> tables;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& t = tables[path];
  if (!t) t = std::make_shared<const NatsTable>(parse_nats(path));
  return *t;
}

std::size_t nats_dataset_index(const std::string& dataset) {
  const auto& names = nats_datasets();
  const auto it = std::find(names.begin(), names.end(), dataset);
  if (it == names.end())
    throw InputError("dataset '" + dataset +
                     "' is not in the NATS-Bench table (datasets: cifar10, cifar100, "
                     "ImageNet16-120)");
  return static_cast<std::size_t>(it - names.begin());
}

double lookup(const NatsTable& table, const std::string& csv, const std::string& arch,
              const std::string& dataset) {
  const std::size_t k = nats_dataset_index(dataset);
  const auto it = table.find(arch);
  if (it == table.end()) throw InputError("architecture " + arch + " is not in " + csv);
  return it->second[k];
}

class NatsOracle : public AccuracyOracle {
 public:
  // The table is looked up once: queries from every evaluator thread then read it unlocked.
  explicit NatsOracle(std::string csv) : csv_(std::move(csv)), table_(nats_table(csv_)) {}
  double accuracy(const OracleQuery& q) const override {
    if (!q.network.is_object() || q.network.value("kind", "") != "nasbench201")
      throw InputError("the nats oracle scores NAS-Bench-201 cells; this point's network is " +
                       (q.network.is_null() ? std::string("not a parameter") : q.network.dump()));
    return lookup(table_, csv_, q.network.at("arch").get<std::string>(), q.dataset);
  }
  void check_dataset(const std::string& dataset) const override {
    (void)nats_dataset_index(dataset);
  }

 private:
  std::string csv_;
  const NatsTable& table_;  // owned by nats_table's cache for the process's lifetime
};

// ---- command -------------------------------------------------------------------------------

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

class CommandOracle : public AccuracyOracle {
 public:
  CommandOracle(std::string command, std::string dir, double timeout_s)
      : command_(std::move(command)), dir_(std::move(dir)), timeout_s_(timeout_s) {}

  double accuracy(const OracleQuery& q) const override {
    const nlohmann::json input = {
        {"point", q.point}, {"network", q.network}, {"dataset", q.dataset}, {"task", q.task}};
    const auto [status, out, err] = run(input.dump() + "\n");
    const auto tail = [](std::string s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      const auto nl = s.rfind('\n');
      return nl == std::string::npos ? s : s.substr(nl + 1);
    };
    if (status != 0)
      throw InputError("accuracy command '" + command_ + "' " +
                       (status > 0 ? "exited with status " + std::to_string(status)
                                   : "was killed by signal " + std::to_string(-status)) +
                       (tail(err).empty() ? "" : ": " + tail(err)));
    // The last line of its output is the accuracy: scripts may print progress before it.
    const std::string last = tail(out);
    char* end = nullptr;
    const double v = std::strtod(last.c_str(), &end);
    if (last.empty() || *end != '\0' || !std::isfinite(v))
      throw InputError("accuracy command '" + command_ + "' printed \"" + last +
                       "\" as its last line, expected a number (accuracy in percent)");
    return v;
  }

 private:
  struct Result {
    int status;  // exit status, or minus the signal that killed it
    std::string out, err;
  };

  // Runs the command with /bin/sh in the space file's folder, in its own process group so that
  // a timeout ends everything it started. posix_spawn, not fork: evaluator threads may be
  // running.
  Result run(const std::string& input) const {
    int in_pair[2], out_pipe[2], err_pipe[2];
    // stdin is a socket so that writing to a command that does not read it fails with EPIPE
    // (MSG_NOSIGNAL) instead of killing this process with SIGPIPE.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0 ||
        ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
      throw InputError(std::string("accuracy command: cannot create pipes: ") +
                       std::strerror(errno));
    Fd in_w{in_pair[0]}, in_r{in_pair[1]}, out_r{out_pipe[0]}, out_w{out_pipe[1]},
        err_r{err_pipe[0]}, err_w{err_pipe[1]};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const char* argv[] = {"sh", "-c", command_.c_str(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char**>(argv),
                                 environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
      throw InputError("accuracy command '" + command_ + "': cannot start /bin/sh: " +
                       std::strerror(rc));
    in_r.reset();
    out_w.reset();
    err_w.reset();
    // A point is small; a command that exits without reading it is not an error here.
    (void)::send(in_w.fd, input.data(), input.size(), MSG_NOSIGNAL);
    in_w.reset();

    Result r{0, "", ""};
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    bool timed_out = false;
    while (out_r.fd >= 0 || err_r.fd >= 0) {
      const double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        timed_out = true;
        break;
      }
      pollfd fds[2] = {{out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
      const int n = ::poll(fds, 2, static_cast<int>(std::ceil(std::min(left, 1.0) * 1000)));
      if (n < 0 && errno != EINTR) break;
      for (auto [pfd, fd, text] : {std::tuple{&fds[0], &out_r, &r.out},
                                   std::tuple{&fds[1], &err_r, &r.err}}) {
        if (fd->fd < 0 || !(pfd->revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buffer[4096];
        const ssize_t got = ::read(fd->fd, buffer, sizeof buffer);
        if (got > 0 && text->size() < (1u << 20)) text->append(buffer, static_cast<size_t>(got));
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) fd->reset();
      }
    }
    if (timed_out) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
      throw InputError("accuracy command '" + command_ + "' timed out after " +
                       nlohmann::json(timeout_s_).dump() + " s");
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return r;
  }

  std::string command_, dir_;
  double timeout_s_;
};

// ---- noise ---------------------------------------------------------------------------------

// Adds N(0, sd) to another oracle's accuracy, from a generator seeded by the seed, the point,
// the task and the dataset alone, so a point scores the same in every run and on every thread.
class NoisyOracle : public AccuracyOracle {
 public:
  NoisyOracle(std::shared_ptr<const AccuracyOracle> inner, double sd, std::uint64_t seed)
      : inner_(std::move(inner)), sd_(sd), seed_(seed) {}
  double accuracy(const OracleQuery& q) const override {
    const double clean = inner_->accuracy(q);
    const std::uint64_t h =
        fnv1a64(std::to_string(seed_) + "\n" + q.point.dump() + "\n" + q.task + "\n" + q.dataset);
    std::mt19937_64 rng(h);
    std::normal_distribution<double> noise(0.0, sd_);
    return std::clamp(clean + noise(rng), 0.0, 100.0);
  }
  void check_dataset(const std::string& dataset) const override {
    inner_->check_dataset(dataset);
  }

 private:
  std::shared_ptr<const AccuracyOracle> inner_;
  double sd_;
  std::uint64_t seed_;
};

}  // namespace

const std::vector<std::string>& nats_datasets() {
  static const std::vector<std::string> names = {"cifar10", "cifar100", "ImageNet16-120"};
  return names;
}

double nats_accuracy(const std::string& csv, const std::string& arch,
                     const std::string& dataset) {
  return lookup(nats_table(csv), csv, arch, dataset);
}

Registry<OracleFactory>& accuracy_oracles() {
  static Registry<OracleFactory> registry = [] {
    Registry<OracleFactory> r("accuracy oracle");
    r.add("nats",
          "NATS-Bench topology table: test accuracy of NAS-Bench-201 cells (cifar10, cifar100, "
          "ImageNet16-120); option csv",
          [](ParamReader& p, const std::string& dir) -> std::shared_ptr<const AccuracyOracle> {
            // Default: the table in data/ of the checkout this build came from, wherever the space is.
            const std::string csv = resolve(
                dir, p.string("csv", std::string(TESSERA_DATA_DIR) + "/nats_bench/nats_bench_tss.csv"));
            try {
              return std::make_shared<NatsOracle>(csv);
            } catch (const InputError& e) {
              throw p.error("csv", e.what());
            }
          });
    r.add("command",
          "a user's command: the point as JSON on stdin, the accuracy (percent) as the last line "
          "of stdout; options command, timeout_s",
          [](ParamReader& p, const std::string& dir) -> std::shared_ptr<const AccuracyOracle> {
            const std::string command = p.string("command");
            if (command.empty()) throw p.error("command", "must not be empty");
            return std::make_shared<CommandOracle>(command, dir.empty() ? "." : dir,
                                                   p.positive("timeout_s", 600.0));
          });
    return r;
  }();
  return registry;
}

std::shared_ptr<const AccuracyOracle> read_oracle(ParamReader& r, const std::string& dir) {
  const std::string name = r.string("oracle");
  if (!accuracy_oracles().contains(name)) {
    try {
      (void)accuracy_oracles().get(name);
    } catch (const InputError& e) {
      throw r.error("oracle", e.what());
    }
  }
  std::shared_ptr<const AccuracyOracle> oracle = accuracy_oracles().get(name)(r, dir);
  if (auto noise = r.optional_child("noise")) {
    const double sd = noise->positive("sd");
    const auto seed = static_cast<std::uint64_t>(noise->non_negative_integer("seed", 1));
    noise->finish();
    oracle = std::make_shared<NoisyOracle>(std::move(oracle), sd, seed);
  }
  return oracle;
}

}  // namespace tessera::explorer
