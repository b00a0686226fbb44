#include "explorer/sweep.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <numeric>
#include <random>

#include <pagmo/utils/discrepancy.hpp>
#include <tbb/global_control.h>
#include <tbb/parallel_for_each.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.hpp"
#include "workloads/settings.hpp"

namespace tessera::explorer {

std::optional<SweepOptions::Method> sweep_method_from_string(const std::string& name) {
  using M = SweepOptions::Method;
  for (auto [n, m] :
       {std::pair{"grid", M::grid}, {"random", M::random}, {"halton", M::halton}, {"lhs", M::lhs}})
    if (name == n) return m;
  return std::nullopt;
}

Sampler::Sampler(const DesignSpace& space, const SweepOptions& o)
    : space_(space),
      method_(o.method),
      seed_(o.seed),
      size_(o.method == SweepOptions::Method::grid ? space.grid_size() : o.samples) {
  if (method_ != SweepOptions::Method::lhs) return;
  for (std::size_t p = 0; p < space.parameters.size(); ++p) {
    std::vector<std::uint64_t> strata(size_);
    std::iota(strata.begin(), strata.end(), 0);
    std::mt19937_64 rng(seed_ * 1000003u + p);
    std::shuffle(strata.begin(), strata.end(), rng);
    strata_.push_back(std::move(strata));
  }
}

nlohmann::json Sampler::point(std::uint64_t index) const {
  switch (method_) {
    case SweepOptions::Method::grid:
      return space_.grid_point(index);
    case SweepOptions::Method::random:
      return space_.random_point(seed_, index);
    case SweepOptions::Method::halton:  // the index-th element of the sequence
      return space_.unit_point(pagmo::halton(static_cast<unsigned>(space_.parameters.size()),
                                             static_cast<unsigned>(index + 1))());
    case SweepOptions::Method::lhs: {  // the middle of the sample's stratum, per parameter
      std::vector<double> u;
      for (const auto& strata : strata_)
        u.push_back((static_cast<double>(strata[index]) + 0.5) / static_cast<double>(size_));
      return space_.unit_point(u);
    }
  }
  return {};
}

std::vector<std::uint64_t> sweep_indices(const Sampler& sampler, const SweepOptions& o) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = o.shard; i < sampler.size(); i += o.shards)
    if (!o.done.count(i)) out.push_back(i);
  return out;
}

WorkloadCache::WorkloadCache(const DesignSpace& space)
    : space_(space), base_(build(space.workload_settings)) {
  built_.emplace(space.workload_settings.dump(), base_);
}

std::shared_ptr<const Workload> WorkloadCache::build(const nlohmann::json& settings) const {
  const auto read = workloads::read_workload_settings(settings, space_.file, "/workload_settings");
  return std::make_shared<const Workload>(prepare_workload(
      workloads::load_workload(space_.workload_file, read), space_.workload_file));
}

std::shared_ptr<const Workload> WorkloadCache::get(const nlohmann::json& settings) const {
  const std::string key = settings.dump();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = built_.find(key); it != built_.end()) return it->second;
  }
  auto w = build(settings);  // outside the lock: other threads may build other settings
  const std::lock_guard<std::mutex> lock(mutex_);
  return built_.emplace(key, std::move(w)).first->second;  // the first one built wins
}

LogEntry evaluate_point(const DesignSpace& space, const WorkloadCache& workloads,
                        std::uint64_t index, const nlohmann::json& point) {
  const auto start = std::chrono::steady_clock::now();
  LogEntry e;
  e.index = index;
  e.point = point;
  e.workload_hash = workloads.base().hash;
  try {
    const ResolvedPoint resolved = resolve_point(space, point);
    const arch::ArchConfig arch = point_config(space, resolved);
    e.config_hash = arch.hash;
    check_constraints(space, resolved, arch.resolved);
    const auto workload = workloads.get(resolved.workload_settings);
    e.workload_hash = workload->hash;
    EvaluateOptions options;
    options.fidelity = space.fidelity;
    const sim::Report r = evaluate(arch, *workload, options);
    const auto& s = r.summary;
    e.metrics = {{"cycles", static_cast<double>(s.cycles)},
                 {"latency_s", s.latency_s},
                 {"energy_pj", s.energy_pj},
                 {"area_mm2", s.area_mm2},
                 {"utilization", s.utilization},
                 {"macs", static_cast<double>(s.macs)},
                 {"throughput_macs_per_s",
                  s.latency_s > 0 ? static_cast<double>(s.macs) / s.latency_s : 0.0},
                 {"edp_pj_s", s.energy_pj * s.latency_s},
                 {"power_w", s.latency_s > 0 ? s.energy_pj * 1e-12 / s.latency_s : 0.0}};
    check_constraints(space, resolved, arch.resolved, &e.metrics);
  } catch (const std::exception& ex) {  // a bad point is logged as failed; the sweep goes on
    e.ok = false;
    e.error = ex.what();
    e.metrics.clear();
  }
  e.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

namespace {

// SystemC's kernel is process-global, so SystemC points run in forked worker processes, one
// simulation at a time each. Worker w evaluates every jobs-th index from position w and writes
// one log line per point to its pipe; the parent reads whichever pipe has data, so results
// arrive as they complete. A worker that dies (killed, crashed) leaves its remaining points
// unreported: they are missing from the log, and --resume evaluates them.
void run_in_workers(const DesignSpace& space, const WorkloadCache& workloads,
                    const Sampler& sampler, unsigned jobs,
                    const std::vector<std::uint64_t>& indices,
                    const std::function<void(const LogEntry&)>& on_result) {
  jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, indices.size()));
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
        const std::string line =
            to_line(evaluate_point(space, workloads, indices[k], sampler.point(indices[k]))) +
            "\n";
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
      const auto p = std::find_if(polls.begin(), polls.end(),
                                  [&](const pollfd& q) { return q.fd == w.fd; });
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
        failure = "a SystemC worker process (pid " + std::to_string(w.pid) + ") " +
                  (WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                       : "exited with status " + std::to_string(WEXITSTATUS(status))) +
                  "; its remaining points are not in the log (--resume evaluates them)";
    }
  }
  if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace

void run_sweep(const DesignSpace& space, const WorkloadCache& workloads, const Sampler& sampler,
               unsigned jobs, const std::vector<std::uint64_t>& indices,
               const std::function<void(const LogEntry&)>& on_result) {
  if (jobs > 1 && space.fidelity == sim::Fidelity::systemc && indices.size() > 1)
    return run_in_workers(space, workloads, sampler, jobs, indices, on_result);
  std::mutex report;
  const auto one = [&](std::uint64_t index) {
    LogEntry e = evaluate_point(space, workloads, index, sampler.point(index));
    const std::lock_guard<std::mutex> lock(report);
    on_result(e);
  };
  if (jobs <= 1 || space.fidelity == sim::Fidelity::systemc) {
    for (auto i : indices) one(i);
    return;
  }
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, jobs);
  tbb::parallel_for_each(indices.begin(), indices.end(), one);
}

}  // namespace tessera::explorer
