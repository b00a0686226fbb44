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
#include <charconv>
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

// What is kept of each of the command's streams: the last kOutputKept bytes (the accuracy is
// the last line, so a chatty command loses its head, never its answer).
constexpr std::size_t kOutputKept = 1u << 20;

struct Captured {
  std::string text;
  bool truncated = false;  // bytes before `text` were dropped
  void append(const char* data, std::size_t n) {
    text.append(data, n);
    if (text.size() > 2 * kOutputKept) {  // dropped in large pieces: appending stays linear
      text.erase(0, text.size() - kOutputKept);
      truncated = true;
    }
  }
  void trim() {
    if (text.size() <= kOutputKept) return;
    text.erase(0, text.size() - kOutputKept);
    truncated = true;
  }
};

// `text` escaped as in a JSON string (control characters escaped, bytes that are not UTF-8
// replaced), at most `max` bytes of it, so that a reason is one line a results log can hold.
std::string escaped(std::string_view text, std::size_t max = kQuotedLine) {
  const std::string s = nlohmann::json(std::string(text.substr(0, max)))
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.substr(1, s.size() - 2) + (text.size() > max ? "..." : "");
}

// The last non-blank line of `text`, without the spaces around it, and whether a newline
// precedes it in `text`.
std::pair<std::string_view, bool> last_line(std::string_view text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  const auto nl = text.rfind('\n');
  std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
  while (!line.empty() && space(line.front())) line.remove_prefix(1);
  return {line, nl != std::string_view::npos};
}

class CommandOracle : public AccuracyOracle {
 public:
  CommandOracle(std::string command, std::string dir, double timeout_s)
      : command_(std::move(command)), dir_(std::move(dir)), timeout_s_(timeout_s) {}

  double accuracy(const OracleQuery& q) const override {
    const nlohmann::json input = {
        {"point", q.point}, {"network", q.network}, {"dataset", q.dataset}, {"task", q.task}};
    const std::string who = "accuracy command '" + escaped(command_, 200) + "' ";
    const Result r = run(input.dump() + "\n", who);
    if (r.status != 0) {
      const std::string_view err = last_line(r.err.text).first;
      throw InputError(who + (r.status > 0 ? "exited with status " + std::to_string(r.status)
                                           : "was killed by signal " + std::to_string(-r.status)) +
                       (err.empty() ? "" : ": " + escaped(err)));
    }
    return parse_command_accuracy(r.out.text, r.out.truncated, who);
  }

 private:
  struct Result {
    int status = 0;  // exit status, or minus the signal that killed it
    Captured out, err;
  };

  // Runs the command with /bin/sh in the space file's folder, in its own process group. The
  // deadline holds whatever the command does: its stdin is written, and its output read, only
  // while it is ready (a command that reads nothing, or closes its output and runs on, cannot
  // stall this); at the deadline the whole group is killed (SIGKILL: a command may ignore
  // SIGTERM; a grandchild that keeps the output open dies with it). When the command ends, what
  // it left running in its group is killed too, so no point leaves processes behind.
  // posix_spawn, not fork: evaluator threads may be running.
  Result run(const std::string& input, const std::string& who) const {
    int in_pair[2], out_pipe[2], err_pipe[2];
    // stdin is a socket so that writing to a command that does not read it fails with EPIPE
    // (MSG_NOSIGNAL) instead of killing this process with SIGPIPE.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
      throw InputError(who + "cannot create a socket: " + std::strerror(errno));
    Fd in_w{in_pair[0]}, in_r{in_pair[1]};
    if (::pipe2(out_pipe, O_CLOEXEC) != 0)
      throw InputError(who + "cannot create a pipe: " + std::strerror(errno));
    Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0)
      throw InputError(who + "cannot create a pipe: " + std::strerror(errno));
    Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    // Its own process group (setpgid(0, 0) in the child), default signal dispositions and no
    // blocked signals, whatever this thread has.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    const char* argv[] = {"sh", "-c", command_.c_str(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char**>(argv),
                                 environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw InputError(who + "cannot start /bin/sh: " + std::strerror(rc));
    in_r.reset();
    out_w.reset();
    err_w.reset();

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s_);
    // Milliseconds to the deadline (at most `cap`), or -1 once it has passed.
    const auto left_ms = [&](double cap) {
      const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      return left <= 0 ? -1 : static_cast<int>(std::ceil(std::min(left, cap) * 1000));
    };
    Result r;
    std::size_t sent = 0;
    bool timed_out = false;
    // Its stdin and output, until all are closed or the deadline.
    while (in_w.fd >= 0 || out_r.fd >= 0 || err_r.fd >= 0) {
      const int wait = left_ms(1.0);
      if (wait < 0) {
        timed_out = true;
        break;
      }
      pollfd fds[3] = {{in_w.fd, POLLOUT, 0}, {out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
      if (::poll(fds, 3, wait) < 0 && errno != EINTR)
        throw_and_kill(pid, who + "poll failed: " + std::strerror(errno));
      if (in_w.fd >= 0 && fds[0].revents != 0) {
        const ssize_t n = ::send(in_w.fd, input.data() + sent, input.size() - sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) sent += static_cast<std::size_t>(n);
        // Written, or the command closed its stdin (a command need not read the point).
        if (sent == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) in_w.reset();
      }
      for (auto [pfd, fd, captured] :
           {std::tuple{&fds[1], &out_r, &r.out}, std::tuple{&fds[2], &err_r, &r.err}}) {
        if (fd->fd < 0 || pfd->revents == 0) continue;
        char buffer[65536];
        const ssize_t got = ::read(fd->fd, buffer, sizeof buffer);
        if (got > 0) captured->append(buffer, static_cast<std::size_t>(got));
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) fd->reset();
      }
    }
    // The command itself, until it exits or the deadline (it may close its output and go on).
    int status = 0;
    bool reaped = false;
    while (!timed_out && !reaped) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        reaped = true;
      } else if (w < 0 && errno != EINTR) {
        throw InputError(who + "cannot wait for it: " + std::strerror(errno));
      } else {
        const int wait = left_ms(0.01);
        if (wait < 0)
          timed_out = true;
        else
          ::poll(nullptr, 0, wait);
      }
    }
    // Its group, still there while a process of it lives, so the id is no other's.
    ::kill(-pid, SIGKILL);
    while (!reaped && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
      std::ostringstream seconds;  // 1 s, 0.3 s: as written in the space
      seconds << timeout_s_;
      throw InputError(who + "timed out after " + seconds.str() +
                       " s (timeout_s); its process group was killed");
    }
    r.out.trim();
    r.err.trim();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return r;
  }

  // Kills the command's group and reaps it, then throws.
  [[noreturn]] static void throw_and_kill(pid_t pid, const std::string& message) {
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw InputError(message);
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

double parse_command_accuracy(std::string_view out, bool truncated, const std::string& who) {
  const auto [line, whole] = last_line(out);
  if (line.empty())
    throw InputError(who + "printed nothing on stdout, expected the accuracy in percent as its "
                           "last line");
  if (truncated && !whole)
    throw InputError(who + "printed a last line longer than the " + std::to_string(out.size()) +
                     " bytes kept of its output, expected the accuracy in percent");
  // A plain decimal: [+-] digits [. digits] or [+-] . digits (from_chars alone would also take
  // "inf", "nan", "1e2" and hexadecimal).
  std::string_view digits = line;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  const auto point = digits.find('.');
  const std::string_view whole_part = digits.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : digits.substr(point + 1);
  const auto all_digits = [](std::string_view s) {
    return s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const bool plain = all_digits(whole_part) && all_digits(fraction) &&
                     (point == std::string_view::npos ? !whole_part.empty()
                                                      : !whole_part.empty() || !fraction.empty());
  double v = 0;
  if (plain) {
    const std::string_view number = line.front() == '+' ? line.substr(1) : line;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec == std::errc::result_out_of_range)  // beyond a double, or below its smallest
      v = whole_part.find_first_not_of('0') == std::string_view::npos ? 0.0 : HUGE_VAL;
    else if (ec != std::errc() || end != number.data() + number.size())
      v = -1;
    v += 0.0;  // "-0" is 0
  }
  if (!plain)
    throw InputError(who + "printed " + "\"" + escaped(line) + "\"" +
                     " as its last line, expected a number (accuracy in percent, e.g. 87.5)");
  if (!(v >= 0 && v <= 100))
    throw InputError(who + "printed " + "\"" + escaped(line) + "\"" +
                     " as its last line: an accuracy in percent is in [0, 100]");
  return v;
}

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
