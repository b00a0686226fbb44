// The MPI evaluator pool (explorer/mpi/mpi_pool.hpp). Messages, all as text:
//   rank 0 -> worker  kTagTasks    a JSON array of [index, point] pairs
//   rank 0 -> worker  kTagStop     empty: leave serve()
//   worker -> rank 0  kTagResults  the batch's results log lines, one per point
// A rank that dies takes the job down with it (MPI's default error handler); the log holds every
// result rank 0 had received, and --resume evaluates the rest.
#include "explorer/mpi/mpi_pool.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>

#include <mpi.h>

#include "common/error.hpp"

namespace tessera::explorer {

namespace {

constexpr int kTagTasks = 1, kTagStop = 2, kTagResults = 3;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

// Rank 0's messages in flight, each with the text it sends. Rank 0 never blocks on a send: a
// blocking send of a message above the eager limit waits for the receiver, and rank 0 and a
// worker each sending to the other would wait for ever.
class Outbox {
 public:
  void send(std::string text, int to, int tag) {
    sends_.emplace_back();
    auto& [request, buffer] = sends_.back();
    buffer = std::move(text);
    check(MPI_Isend(buffer.data(), static_cast<int>(buffer.size()), MPI_CHAR, to, tag,
                    MPI_COMM_WORLD, &request),
          "MPI_Isend");
    collect();
  }
  // Forgets the sends that have completed.
  void collect() {
    while (!sends_.empty()) {
      int done = 0;
      check(MPI_Test(&sends_.front().first, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return;
      sends_.pop_front();
    }
  }
  void wait_all() {
    for (auto& [request, buffer] : sends_) check(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
    sends_.clear();
  }

 private:
  std::deque<std::pair<MPI_Request, std::string>> sends_;  // a deque: buffers never move
};

// Receives the message `status` announced (MPI_Probe / MPI_Iprobe).
std::string receive(const MPI_Status& status) {
  int size = 0;
  check(MPI_Get_count(&status, MPI_CHAR, &size), "MPI_Get_count");
  std::string text(static_cast<std::size_t>(size), '\0');
  MPI_Status received;
  check(MPI_Recv(text.data(), size, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 &received),
        "MPI_Recv");
  return text;
}

class MpiPool : public EvaluatorPool {
 public:
  explicit MpiPool(const PoolSettings& s) : settings_(s) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) throw std::logic_error("the MPI pool is created once per process");
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // Within a rank: threads for analytical points, one at a time for SystemC (never forked
    // processes under MPI).
    PoolRegistry local("evaluator pool");
    add_builtin_pools(local);
    const bool thread_safe = sim::fidelities().get(s.fidelity).thread_safe;
    const bool threads = thread_safe && s.jobs > 1;
    local_ = local.get(threads ? "threads" : "inline")(s);
    // Batches: single points for SystemC (one simulation per process, so a slow point holds up
    // nothing else); for analytical points at least one per thread, at most 64 per thread.
    min_batch_ = thread_safe ? std::max(1u, s.jobs) : 1;
    max_batch_ = thread_safe ? 64 * std::max(1u, s.jobs) : 1;
  }

  ~MpiPool() override {
    if (rank_ == 0)
      for (int w = 1; w < size_; ++w) MPI_Send(nullptr, 0, MPI_CHAR, w, kTagStop, MPI_COMM_WORLD);
    MPI_Finalize();
  }

  bool coordinator() const override { return rank_ == 0; }

  void run(const std::vector<std::uint64_t>& indices, const PointOf& point,
           const ResultHandler& on_result) override;
  void serve() override;

 private:
  // The next batch: a share of what is left, between min_batch_ and max_batch_.
  std::size_t batch_size(std::size_t left) const {
    const std::size_t share = left / (2 * static_cast<std::size_t>(size_));
    return std::min(left, std::clamp<std::size_t>(share, min_batch_, max_batch_));
  }

  PoolSettings settings_;
  int rank_ = 0, size_ = 1;
  std::unique_ptr<EvaluatorPool> local_;
  std::size_t min_batch_ = 1, max_batch_ = 1;
  Outbox outbox_;
};

void MpiPool::run(const std::vector<std::uint64_t>& indices, const PointOf& point,
                  const ResultHandler& on_result) {
  if (rank_ != 0) throw std::logic_error("MpiPool::run on a worker rank");
  std::size_t next = 0, reported = 0;
  const auto report = [&](const LogEntry& e) {
    ++reported;
    on_result(e);
  };
  const auto send_batch = [&](int worker) {
    const std::size_t n = batch_size(indices.size() - next);
    nlohmann::json tasks = nlohmann::json::array();
    for (std::size_t k = 0; k < n; ++k, ++next)
      tasks.push_back({indices[next], point(indices[next])});
    outbox_.send(tasks.dump(), worker, kTagTasks);
  };
  for (int round = 0; round < 2; ++round)  // two batches in flight per worker
    for (int w = 1; w < size_ && next < indices.size(); ++w) send_batch(w);

  while (reported < indices.size()) {
    // Answer every worker that has finished a batch, then work on a small batch here.
    int waiting = 0;
    MPI_Status status;
    for (;;) {
      check(MPI_Iprobe(MPI_ANY_SOURCE, kTagResults, MPI_COMM_WORLD, &waiting, &status),
            "MPI_Iprobe");
      if (!waiting) {
        if (next < indices.size() || reported == indices.size()) break;
        // Everything is handed out: wait for the rest.
        check(MPI_Probe(MPI_ANY_SOURCE, kTagResults, MPI_COMM_WORLD, &status), "MPI_Probe");
      }
      const std::string lines = receive(status);
      for (std::size_t begin = 0; begin < lines.size();) {
        const std::size_t nl = lines.find('\n', begin);
        const std::string line = lines.substr(begin, nl - begin);
        begin = nl == std::string::npos ? lines.size() : nl + 1;
        if (!line.empty())
          report(log_entry_from_json(nlohmann::json::parse(line),
                                     "rank " + std::to_string(status.MPI_SOURCE) + " output"));
      }
      if (next < indices.size()) send_batch(status.MPI_SOURCE);
      if (reported == indices.size()) break;
    }
    outbox_.collect();
    if (next < indices.size()) {
      const std::size_t n = std::min(indices.size() - next, min_batch_);
      const std::vector<std::uint64_t> mine(
          indices.begin() + static_cast<std::ptrdiff_t>(next),
          indices.begin() + static_cast<std::ptrdiff_t>(next + n));
      next += n;
      local_->run(mine, point, report);
    }
  }
  outbox_.wait_all();  // every batch was answered, so every send has completed
}

void MpiPool::serve() {
  for (;;) {
    MPI_Status status;
    check(MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Probe");
    const std::string text = receive(status);
    if (status.MPI_TAG == kTagStop) return;
    std::vector<std::uint64_t> indices;
    std::map<std::uint64_t, nlohmann::json> points;
    for (const auto& task : nlohmann::json::parse(text)) {
      indices.push_back(task.at(0).get<std::uint64_t>());
      points[indices.back()] = task.at(1);
    }
    std::string lines;
    local_->run(
        indices, [&](std::uint64_t index) { return points.at(index); },
        [&](const LogEntry& e) { lines += to_line(e) + "\n"; });
    // Blocking: the results travel while this rank waits in MPI. Sent without blocking, a
    // message above the eager limit would move only when this rank next called MPI, after its
    // next batch, and rank 0 would sit in MPI_Recv for it all that time. Rank 0 never blocks
    // on a send, so this cannot deadlock.
    check(MPI_Send(lines.data(), static_cast<int>(lines.size()), MPI_CHAR, 0, kTagResults,
                   MPI_COMM_WORLD),
          "MPI_Send");
  }
}

}  // namespace

void add_mpi_pool(PoolRegistry& registry) {
  registry.add("mpi",
               "MPI ranks under mpirun/srun: rank 0 writes the log, every rank evaluates "
               "(--jobs threads each for analytical points)",
               [](const PoolSettings& s) { return std::make_unique<MpiPool>(s); });
}

}  // namespace tessera::explorer
