// The built-in evaluator pools (explorer/pool.hpp): inline, TBB threads, forked processes.
#include "explorer/pool.hpp"

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <stdexcept>

#include <poll.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for_each.h>
#include <unistd.h>

#include "common/error.hpp"

namespace tessera::explorer {

namespace {

class InlinePool : public EvaluatorPool {
 public:
  explicit InlinePool(PoolSettings s) : s_(std::move(s)) {}
  void run(const std::vector<std::uint64_t>& indices, const PointOf& point,
           const ResultHandler& on_result) override {
    for (auto i : indices) on_result(s_.evaluate(i, point(i)));
  }

 private:
  PoolSettings s_;
};

class ThreadPool : public EvaluatorPool {
 public:
  explicit ThreadPool(PoolSettings s) : s_(std::move(s)) {
    if (!sim::fidelities().get(s_.fidelity).thread_safe)
      throw InputError("--pool threads: " + s_.fidelity +
                       " points run one per process (the fidelity is not thread-safe); use "
                       "--pool processes or mpi");
  }
  void run(const std::vector<std::uint64_t>& indices, const PointOf& point,
           const ResultHandler& on_result) override {
    std::mutex report;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                                std::max(1u, s_.jobs));
    tbb::parallel_for_each(indices.begin(), indices.end(), [&](std::uint64_t index) {
      LogEntry e = s_.evaluate(index, point(index));
      const std::lock_guard<std::mutex> lock(report);
      on_result(e);
    });
  }

 private:
  PoolSettings s_;
};

// Forked worker processes, one evaluation at a time each: SystemC's kernel is process-global.
// Worker w evaluates every jobs-th index from position w and writes one log line per point to
// its pipe; the parent reads whichever pipe has data, so results arrive as they complete. A
// worker that dies (killed, crashed) leaves its remaining points unreported: they are missing
// from the log, and --resume evaluates them.
class ProcessPool : public EvaluatorPool {
 public:
  explicit ProcessPool(PoolSettings s) : s_(std::move(s)) {}
  void run(const std::vector<std::uint64_t>& indices, const PointOf& point,
           const ResultHandler& on_result) override;

 private:
  PoolSettings s_;
};

void ProcessPool::run(const std::vector<std::uint64_t>& indices, const PointOf& point,
                      const ResultHandler& on_result) {
  const auto jobs =
      static_cast<unsigned>(std::min<std::size_t>(std::max(1u, s_.jobs), indices.size()));
  struct Worker {
    pid_t pid = -1;
    int fd = -1;
    std::string pending;
  };
  std::vector<Worker> workers(jobs);
  for (unsigned w = 0; w < jobs; ++w) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe() failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork() failed");
    if (pid == 0) {  // the worker
      ::close(fds[0]);
      for (unsigned other = 0; other < w; ++other) ::close(workers[other].fd);
      for (std::size_t k = w; k < indices.size(); k += jobs) {
        const std::string line = to_line(s_.evaluate(indices[k], point(indices[k]))) + "\n";
        for (std::size_t done = 0; done < line.size();) {
          const ssize_t n = ::write(fds[1], line.data() + done, line.size() - done);
          if (n <= 0) ::_exit(2);
          done += static_cast<std::size_t>(n);
        }
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    workers[w] = {pid, fds[0], {}};
  }
  std::size_t open = jobs;
  std::string failure;
  while (open > 0) {
    std::vector<pollfd> polls;
    for (const auto& w : workers)
      if (w.fd >= 0) polls.push_back({w.fd, POLLIN, 0});
    if (::poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll() failed");
    }
    for (auto& w : workers) {
      if (w.fd < 0) continue;
      const auto p =
          std::find_if(polls.begin(), polls.end(), [&](const pollfd& q) { return q.fd == w.fd; });
      if (p == polls.end() || !(p->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[65536];
      const ssize_t n = ::read(w.fd, buffer, sizeof buffer);
      if (n > 0) {
        w.pending.append(buffer, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = w.pending.find('\n')) != std::string::npos;) {
          const std::string line = w.pending.substr(0, nl);
          w.pending.erase(0, nl + 1);
          on_result(log_entry_from_json(nlohmann::json::parse(line), "worker output"));
        }
        continue;
      }
      ::close(w.fd);
      w.fd = -1;
      --open;
      int status = 0;
      ::waitpid(w.pid, &status, 0);
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && failure.empty())
        failure =
            "a worker process (pid " + std::to_string(w.pid) + ") " +
            (WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                 : "exited with status " + std::to_string(WEXITSTATUS(status))) +
            "; its remaining points are not in the log (--resume evaluates them)";
    }
  }
  if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace

void add_builtin_pools(PoolRegistry& r) {
  r.add("inline", "one point at a time in this process",
        [](const PoolSettings& s) { return std::make_unique<InlinePool>(s); });
  r.add("threads", "--jobs TBB threads in this process (analytical points)",
        [](const PoolSettings& s) { return std::make_unique<ThreadPool>(s); });
  r.add("processes", "--jobs forked worker processes, one simulation each (SystemC points)",
        [](const PoolSettings& s) { return std::make_unique<ProcessPool>(s); });
}

std::string default_pool(const std::string& fidelity, unsigned jobs) {
  if (jobs <= 1) return "inline";
  return sim::fidelities().get(fidelity).thread_safe ? "threads" : "processes";
}

}  // namespace tessera::explorer
