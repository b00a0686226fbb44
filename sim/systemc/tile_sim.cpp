#include "sim/systemc/tile_sim.hpp"

#include <algorithm>
#include <deque>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "arch/dram/controller.hpp"
#include "arch/dram/pattern.hpp"
#include "common/checked.hpp"
#include "common/error.hpp"
#include "sim/dram_counts.hpp"
#include "sim/systemc/kernel.hpp"

namespace tessera::sim::systemc {

namespace {

using sc_core::sc_time;

// One engine cycle of simulated time is 1 ns; integer arithmetic on the kernel's time values
// keeps cycle counts exact.
sc_core::sc_time::value_type cycle_value() { return sc_time(1, sc_core::SC_NS).value(); }
sc_time cycles(u64 n) { return sc_time::from_value(n * cycle_value()); }
u64 to_cycles(const sc_time& t) { return t.value() / cycle_value(); }
// sc_time counts the resolution (1 ps by default) in 64 bits and a cycle is 1 ns: the longest
// run that fits, about 1.8e16 cycles.
constexpr u64 kMaxRunCycles = std::numeric_limits<std::uint64_t>::max() / 1000;

// The memory system as a TLM-2.0 target (loosely timed, blocking transport). The address's low
// byte selects the channel. A transfer starts when it arrives or when its channel frees,
// whichever is later, holds the channel for MemoryChannel::occupancy() and lands latency_cycles
// after that; channels serve transfers in arrival order and are free again before the latency
// has passed (pipelined requests). Timing only: a payload's data is the transfer's size in bytes
// (a u64, so transfers beyond the 4 GiB a length field holds need no splitting).
//
// A channel of model "detailed" is a DRAM channel instead: the payload also says where the
// transfer's bytes lie (a footprint of its port's tensor, arch/dram/pattern.hpp, walked by the
// unit as the plan's layouts say), and its accesses go through the channel's command-level
// controller (arch/dram/controller.hpp), whose state carries from one transfer to the next; the
// transfer lands when its last access is done.
struct Payload {
  u64 bytes = 0;  // first: what bytes_of reads
  arch::dram::Footprint footprint;  // detailed channels
};

struct Memory : sc_core::sc_module {
  tlm_utils::multi_passthrough_target_socket<Memory> socket{"socket"};
  arch::MemorySystem system;
  std::vector<sc_time> busy_until;
  std::vector<std::optional<arch::dram::Controller>> controllers;  // detailed channels
  double memory_clock_hz;
  std::vector<arch::dram::Request> requests;  // scratch
  // Per initiator (unit), per channel: what the controllers did for its transfers since the unit
  // last took them (take_stats), so that each layer has its own counts.
  std::vector<std::vector<arch::dram::Stats>> stats;

  Memory(sc_core::sc_module_name name, const arch::MemorySystem& m, double clock_hz)
      : sc_module(name), system(m), busy_until(m.channels.size()), controllers(m.channels.size()),
        memory_clock_hz(clock_hz) {
    for (std::size_t c = 0; c < m.channels.size(); ++c)
      if (m.channels[c].detailed) controllers[c].emplace(*m.channels[c].detailed);
    socket.register_b_transport(this, &Memory::b_transport);
  }

  // Moves what the unit's transfers did since the last call into `into` (per channel; empty
  // when no detailed channel served it).
  void take_stats(std::size_t unit, std::vector<arch::dram::Stats>& into) {
    if (unit >= stats.size() || stats[unit].empty()) return;
    if (into.empty()) into.resize(system.channels.size());
    for (std::size_t c = 0; c < into.size(); ++c) into[c] += stats[unit][c];
    stats[unit].assign(system.channels.size(), {});
  }

  void b_transport(int initiator, tlm::tlm_generic_payload& tx, sc_time& delay) {
    const std::size_t index = tx.get_address() & 0xff;
    const auto& channel = system.channels.at(index);
    if (controllers[index]) {
      const arch::dram::Stats before = controllers[index]->stats();
      delay = detailed(index, tx, sc_core::sc_time_stamp() + delay) - sc_core::sc_time_stamp();
      const auto unit = static_cast<std::size_t>(initiator);
      if (stats.size() <= unit) stats.resize(unit + 1);
      if (stats[unit].empty()) stats[unit].resize(system.channels.size());
      stats[unit][index] += controllers[index]->stats().since(before);
      tx.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    auto& busy = busy_until.at(index);
    const sc_time start = std::max(sc_core::sc_time_stamp() + delay, busy);
    busy = start + cycles(channel.occupancy(bytes_of(tx)));
    delay = busy + cycles(channel.latency_cycles) - sc_core::sc_time_stamp();
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  // When the transfer's last access is done, on the DRAM channel `index`.
  sc_time detailed(std::size_t index, const tlm::tlm_generic_payload& tx, const sc_time& arrival) {
    arch::dram::Controller& ctl = *controllers[index];
    const arch::dram::Spec& spec = *system.channels[index].detailed;
    const u64 access = spec.org.access_bytes();
    // DRAM cycles per simulated cycle: the channel's cycles count in the engine clock it was
    // configured with (one simulated cycle; the executor's memory clock is that clock, and
    // simulate_tile_plans labels it 1 GHz whatever it is).
    const double clock = system.channels[index].clock_hz > 0 ? system.channels[index].clock_hz : memory_clock_hz;
    const double ratio = 1e9 / spec.timing.tck_ns / clock;
    const auto dram_arrival = static_cast<u64>(std::floor(static_cast<double>(to_cycles(arrival)) * ratio));
    const arch::dram::Footprint& f = reinterpret_cast<const Payload*>(tx.get_data_ptr())->footprint;
    const bool write = tx.get_command() == tlm::TLM_WRITE_COMMAND;
    u64 done = dram_arrival;
    // In pieces of about 4096 accesses, so that a long transfer holds a bounded request list.
    const u64 piece = 4096 * access;
    const bool contiguous = f.window == 0 && f.run >= f.bytes;
    const u64 rows = contiguous ? 1 : std::max<u64>(1, piece / std::max<u64>(f.run, 1));
    const u64 step = contiguous ? piece : rows * std::max<u64>(f.run, 1);
    for (u64 off = 0, k = 0; off < f.bytes; off += step, k += rows) {
      arch::dram::Footprint part = f.runs(k, rows);  // strided and windows: a run at a time
      if (contiguous) part = {f.address + off, std::min(step, f.bytes - off)}, part.run = part.pitch = part.bytes;
      requests.clear();
      arch::dram::append_requests(spec, part, write, dram_arrival, requests);
      done = std::max(done, ctl.run(requests));
    }
    return cycles(static_cast<u64>(std::ceil(static_cast<double>(done) / ratio)));
  }

  static u64 bytes_of(const tlm::tlm_generic_payload& tx) {
    return reinterpret_cast<const Payload*>(tx.get_data_ptr())->bytes;
  }
};

struct Job {
  std::vector<const dataflows::TilePlan*> layers;
  u64 id = 0;
  std::vector<std::unique_ptr<dataflows::TilePlan>> converted;  // layers on the memory clock
};

struct Shared {
  double memory_clock_hz = 1e9;
  std::vector<Completion> completions;
  u64 pending = 0;  // submitted and not completed
  Trace* trace = nullptr;
  std::map<u64, std::vector<arch::dram::Stats>> dram;  // per job: its DRAM counts per channel
};

// One compute unit: a DMA process and a compute process following the plan's buffering.
struct Unit : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Unit> memory{"memory"};
  std::size_t index;
  const arch::MemorySystem& system;
  Shared& shared;
  Memory* target = nullptr;  // the memory bound to `memory`, for its DRAM counts
  std::vector<arch::dram::Stats> job_dram;  // the running job's, per channel (detailed ones)
  std::deque<Job> queue;
  sc_core::sc_event work_event;

  // The running job, shared by the two processes.
  const dataflows::TilePlan* plan = nullptr;
  u64 tiles = 0, reads_issued = 0, computed = 0, writes_issued = 0;
  std::vector<sc_time> read_landed, write_landed;  // rings by tile index (writes: when sent)
  // Per port on a detailed DRAM channel: where its next transfer lies (from each layer's start).
  std::array<std::optional<arch::dram::Walk>, dataflows::kMaxPorts> walks;
  sc_core::sc_event job_event, reads_event, computed_event, writes_event;
  u64 job_id = 0;
  bool running = false;
  const std::vector<const dataflows::TilePlan*>* layers = nullptr;  // of the running job
  std::size_t layer_index = 0, layer_count = 0;
  std::size_t stop_after = 0;  // the last layer the running job runs (preempt() lowers it)
  // The running layer stops before this tile (preempt() at a tile boundary lowers it).
  u64 stop_tile = std::numeric_limits<u64>::max();
  bool computing = false;  // tile `computed` is computing (or streaming) now
  bool compute_busy = false;  // the compute process is inside a layer
  sc_core::sc_event compute_done_event;

  SC_HAS_PROCESS(Unit);
  Unit(sc_core::sc_module_name name, std::size_t i, const arch::MemorySystem& m, Shared& s)
      : sc_module(name), index(i), system(m), shared(s) {
    SC_THREAD(dma);
    SC_THREAD(compute);
  }

  std::string compute_track() const {
    return index == 0 ? "compute" : "compute." + std::to_string(index);
  }

  // A compute span, or a transfer: its channel busy from `start` to `end`, landing `latency`
  // cycles later (sim/trace.hpp draws the two apart so that no track has overlapping slices).
  void record(const std::string& track, u64 tile, const sc_time& start, const sc_time& end,
              u64 bytes, bool write, u64 latency = 0) {
    if (shared.trace)
      shared.trace->add({track, static_cast<std::size_t>(job_id), tile, to_cycles(start),
                         to_cycles(end), latency, bytes, write});
  }

  // Issues one transfer without waiting; returns when it lands. `where`: its bytes on a
  // detailed DRAM channel.
  sc_time issue(tlm::tlm_command cmd, std::size_t channel, u64 bytes, u64 tile,
                const arch::dram::Footprint& where = {}) {
    if (bytes == 0) return sc_core::sc_time_stamp();
    Payload data{bytes, where};
    tlm::tlm_generic_payload tx;
    tx.set_command(cmd);
    tx.set_address(channel);
    tx.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
    tx.set_data_length(static_cast<unsigned>(sizeof data));
    tx.set_streaming_width(static_cast<unsigned>(sizeof data));
    tx.set_byte_enable_ptr(nullptr);
    tx.set_dmi_allowed(false);
    tx.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;
    memory->b_transport(tx, delay);
    if (tx.is_response_error())
      throw std::runtime_error("memory transfer failed: " + tx.get_response_string());
    const sc_time end = sc_core::sc_time_stamp() + delay;
    const auto& ch = system.channels[channel];
    if (ch.detailed) {  // no fixed occupancy: the channel's track shows the whole transfer
      record(ch.name, tile, sc_core::sc_time_stamp(), end, bytes, cmd == tlm::TLM_WRITE_COMMAND);
      return end;
    }
    const sc_time left = end - cycles(ch.latency_cycles);
    record(ch.name, tile, left - cycles(ch.occupancy(bytes)), left, bytes,
           cmd == tlm::TLM_WRITE_COMMAND, ch.latency_cycles);
    return end;
  }

  // A tile's reads (or writes): one transfer per channel; returns when the last lands, and sets
  // `sent` to when the last has left its channel.
  sc_time transfers(const dataflows::Tile& t, dataflows::Direction d, u64 tile,
                    sc_time* sent = nullptr) {
    std::array<u64, kMaxChannels> bytes{};
    for (std::size_t p = 0; p < plan->ports.size(); ++p)
      if (plan->ports[p].direction == d) bytes[plan->ports[p].channel] += t.bytes[p];
    sc_time done = sc_core::sc_time_stamp();
    if (sent) *sent = done;
    const auto cmd = d == dataflows::Direction::read ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND;
    for (std::size_t ch = 0; ch < system.channels.size(); ++ch) {
      if (!bytes[ch]) continue;
      const auto& channel = system.channels[ch];
      if (channel.detailed) {  // a DRAM channel: each port walks its own tensor
        for (std::size_t p = 0; p < plan->ports.size(); ++p) {
          if (plan->ports[p].direction != d || plan->ports[p].channel != ch || !t.bytes[p]) continue;
          const sc_time landed = issue(cmd, ch, t.bytes[p], tile, walks[p]->next(t.bytes[p]));
          done = std::max(done, landed);
          if (sent) *sent = std::max(*sent, landed - std::min(landed, cycles(channel.latency_cycles)));
        }
        continue;
      }
      const sc_time landed = issue(cmd, ch, bytes[ch], tile);
      done = std::max(done, landed);
      if (sent) *sent = std::max(*sent, landed - cycles(channel.latency_cycles));
    }
    return done;
  }

  static void wait_until(const sc_time& t) {
    if (t > sc_core::sc_time_stamp()) sc_core::wait(t - sc_core::sc_time_stamp());
  }

  void finish(const sc_time& start, const LayerTiming& sum, std::size_t done, std::size_t layers) {
    Completion c;
    c.id = job_id;
    c.unit = index;
    const u64 start_cycle = to_cycles(start), end_cycle = to_cycles(sc_core::sc_time_stamp());
    c.start_s = static_cast<double>(start_cycle) / shared.memory_clock_hz;
    c.end_s = static_cast<double>(end_cycle) / shared.memory_clock_hz;
    c.timing = sum;
    c.timing.cycles = end_cycle - start_cycle;
    c.timing.stall_cycles = c.timing.cycles - std::min(c.timing.cycles, sum.compute_cycles);
    c.layers_done = done;
    c.preempted = done < layers;
    if (!job_dram.empty()) shared.dram[job_id] = std::move(job_dram);
    job_dram.clear();
    shared.completions.push_back(c);
    --shared.pending;
  }

  void dma() {
    for (;;) {
      while (queue.empty()) sc_core::wait(work_event);
      const Job job = std::move(queue.front());
      queue.pop_front();
      job_id = job.id;
      running = true;
      layers = &job.layers;
      layer_count = job.layers.size();
      stop_after = layer_count;
      const sc_time start = sc_core::sc_time_stamp();
      LayerTiming sum;
      std::size_t done = 0;
      for (std::size_t l = 0; l < job.layers.size(); ++l) {
        layer_index = l;
        plan = job.layers[l];
        stop_tile = std::numeric_limits<u64>::max();
        run_layer();
        if (target) target->take_stats(index, job_dram);
        if (stop_tile < tiles) {  // cut at a tile boundary: the work of its first tiles
          const dataflows::TilePlan head = plan_head(*plan, stop_tile);
          sum.compute_cycles += head.compute_cycles();
          sum.busy_unit_cycles += head.busy_unit_cycles();
          break;
        }
        sum.compute_cycles += plan->compute_cycles();
        sum.busy_unit_cycles += plan->busy_unit_cycles();
        done = l + 1;
        if (l >= stop_after) break;
      }
      running = false;
      layers = nullptr;
      finish(start, sum, done, job.layers.size());
    }
  }

  // Runs `plan` from empty buffers until its last write has landed.
  void run_layer() {
    using dataflows::Direction;
    tiles = plan->tile_count();
    computed = 0;
    computing = false;
    // No tiles, nothing to move (a layer that takes no time): the compute process is not woken,
    // or it would run the next layer's plan unasked.
    if (tiles == 0) return;
    for (std::size_t p = 0; p < plan->ports.size(); ++p) {
      walks[p].reset();
      if (const auto& spec = system.channels[plan->ports[p].channel].detailed)
        walks[p].emplace(plan->ports[p].layout,
                         arch::dram::region(*spec, 1 + index * dataflows::kMaxPorts + p));
    }
    if (plan->buffering.streaming) {
      u64 j = 0;
      for (dataflows::TileCursor c(*plan); !c.done() && j < stop_tile; c.advance(), ++j) {
        computed = j;
        computing = true;
        const sc_time t0 = sc_core::sc_time_stamp();
        sc_time done = transfers(c.tile(), Direction::read, j);
        done = std::max(done, transfers(c.tile(), Direction::write, j));
        done = std::max(done, t0 + cycles(c.tile().compute_cycles));
        record(compute_track(), j, t0, t0 + cycles(c.tile().compute_cycles), 0, false);
        wait_until(done);
        computing = false;
        computed = j + 1;
      }
      return;
    }
    const u64 di = std::max(1u, plan->buffering.input), dout = std::max(1u, plan->buffering.output);
    read_landed.assign(di, sc_core::SC_ZERO_TIME);
    write_landed.assign(dout, sc_core::SC_ZERO_TIME);
    reads_issued = computed = writes_issued = 0;
    dataflows::TileCursor ahead(*plan), at(*plan);
    for (u64 j = 0; j < di && !ahead.done(); ++j, ahead.advance())
      read_landed[reads_issued % di] = transfers(ahead.tile(), Direction::read, j), ++reads_issued;
    job_event.notify(sc_core::SC_ZERO_TIME);
    reads_event.notify(sc_core::SC_ZERO_TIME);
    sc_time last = sc_core::sc_time_stamp();
    for (u64 j = 0; j < std::min(tiles, stop_tile); ++j, at.advance()) {
      // preempt() wakes this process when the tile it waits for will not be computed.
      while (computed <= j && j < stop_tile) sc_core::wait(computed_event);
      if (j >= stop_tile) break;
      sc_time sent;
      const sc_time w = transfers(at.tile(), Direction::write, j, &sent);
      last = std::max(last, w);
      write_landed[j % dout] = sent;  // the result buffer is free once its data has left
      ++writes_issued;
      writes_event.notify(sc_core::SC_ZERO_TIME);
      if (!ahead.done() && j + di < stop_tile) {
        read_landed[(j + di) % di] = transfers(ahead.tile(), Direction::read, j + di);
        ++reads_issued;
        ahead.advance();
        reads_event.notify(sc_core::SC_ZERO_TIME);
      }
    }
    wait_until(last);
    // A cut layer's compute process leaves its loop in a delta cycle; the next layer must not
    // start before it has.
    while (compute_busy) sc_core::wait(compute_done_event);
  }

  // Waits until `t` or until the layer is cut (preempt() notifies reads_event).
  template <class Cut>
  void wait_unless_cut(const sc_time& t, const Cut& cut) {
    while (t > sc_core::sc_time_stamp() && !cut())
      sc_core::wait(t - sc_core::sc_time_stamp(), reads_event);
  }

  void compute() {
    for (;;) {
      sc_core::wait(job_event);
      compute_busy = true;
      const u64 di = read_landed.size(), dout = write_landed.size();
      u64 j = 0;
      for (dataflows::TileCursor c(*plan); !c.done(); c.advance(), ++j) {
        // Preempted before tile j (preempt() wakes this process when it waits for reads that
        // will not come).
        const auto cut = [&] { return j >= stop_tile; };
        while (reads_issued <= j && !cut()) sc_core::wait(reads_event);
        if (cut()) break;
        wait_unless_cut(read_landed[j % di], cut);
        if (j >= dout) {
          while (writes_issued <= j - dout) sc_core::wait(writes_event);
          wait_unless_cut(write_landed[(j - dout) % dout], cut);
        }
        if (cut()) break;
        computing = true;
        const sc_time start = sc_core::sc_time_stamp();
        sc_core::wait(cycles(c.tile().compute_cycles));
        record(compute_track(), j, start, sc_core::sc_time_stamp(), 0, false);
        computing = false;
        ++computed;
        computed_event.notify(sc_core::SC_ZERO_TIME);
      }
      compute_busy = false;
      compute_done_event.notify(sc_core::SC_ZERO_TIME);
    }
  }
};

struct Top : sc_core::sc_module {
  Memory memory;
  std::vector<std::unique_ptr<Unit>> units;
  Top(sc_core::sc_module_name name, std::size_t n, const arch::MemorySystem& m, Shared& shared)
      : sc_module(name), memory("memory", m, shared.memory_clock_hz) {
    for (std::size_t i = 0; i < n; ++i) {
      units.push_back(std::make_unique<Unit>(("unit" + std::to_string(i)).c_str(), i, m, shared));
      units.back()->memory.bind(memory.socket);
      units.back()->target = &memory;
    }
  }
};

class Executor final : public PlanExecutor {
 public:
  Executor(const ExecutorSpec& spec, Trace* trace) : spec_(spec) {
    if (spec.units.empty()) throw std::invalid_argument("SystemC executor: no compute units");
    if (spec.memory.channels.empty() || spec.memory.channels.size() > kMaxChannels)
      throw std::invalid_argument("SystemC executor: 1 to " + std::to_string(kMaxChannels) + " memory channels");
    shared_.trace = trace;
    shared_.memory_clock_hz = spec.memory_clock_hz;
    fresh_kernel();
    top_ = std::make_unique<Top>("top", spec.units.size(), spec_.memory, shared_);
  }
  ~Executor() override { top_.reset(); }  // modules go before the next run replaces the context

  const std::vector<UnitSpec>& units() const override { return spec_.units; }

  void submit(std::size_t unit, std::vector<const dataflows::TilePlan*> layers, u64 id) override {
    Unit& u = *top_->units.at(unit);
    Job job;
    job.id = id;
    for (const auto* plan : layers) {
      for (const auto& p : plan->ports)
        if (p.channel >= spec_.memory.channels.size())
          throw std::invalid_argument("SystemC executor: port '" + p.name + "' has no channel");
      std::unique_ptr<dataflows::TilePlan> converted;
      job.layers.push_back(
          &on_memory_clock(*plan, spec_.units[unit].clock_hz, spec_.memory_clock_hz, converted));
      // sc_time is 64 bits of picoseconds: all work submitted, run one after another, must fit.
      submitted_bound_ = checked_add(submitted_bound_,
                                     serial_cycles_bound(*job.layers.back(), spec_.memory),
                                     "the submitted work's cycle bound");
      if (submitted_bound_ > kMaxRunCycles)
        throw CountOverflow("the submitted work's cycle bound (over " +
                            std::to_string(kMaxRunCycles) + " SystemC cycles)");
      if (converted) job.converted.push_back(std::move(converted));
    }
    u.queue.push_back(std::move(job));
    ++shared_.pending;
    u.work_event.notify(sc_core::SC_ZERO_TIME);
  }

  std::vector<Completion> run_until(double seconds) override {
    const u64 t = to_cycles(sc_core::sc_time_stamp());
    const auto cycle = static_cast<u64>(std::max(0.0, std::round(seconds * spec_.memory_clock_hz)));
    if (cycle > t) sc_core::sc_start(cycles(cycle - t));
    return take();
  }

  std::vector<Completion> run_to_completion() override {
    while (shared_.pending > 0) {
      sc_core::sc_start();  // until no activity is left: every queue drained
      if (shared_.pending > 0 && !sc_core::sc_pending_activity())
        throw std::logic_error("SystemC executor: jobs left but nothing can run");
    }
    return take();
  }

  double now() const override {
    return static_cast<double>(to_cycles(sc_core::sc_time_stamp())) / spec_.memory_clock_hz;
  }

  std::optional<double> next_completion(double before_s) override {
    // The kernel cannot look ahead without running: it runs event by event to the completion,
    // and no further than before_s.
    const std::size_t before = shared_.completions.size();
    const double limit = std::round(std::min(before_s, 1e300) * spec_.memory_clock_hz);
    while (shared_.pending > 0 && shared_.completions.size() == before) {
      if (!sc_core::sc_pending_activity())
        throw std::logic_error("SystemC executor: jobs left but nothing can run");
      const double now = static_cast<double>(to_cycles(sc_core::sc_time_stamp()));
      const double next = now + static_cast<double>(to_cycles(sc_core::sc_time_to_pending_activity()));
      if (next > limit) {  // nothing completes before the limit: stop there
        if (limit > now) sc_core::sc_start(cycles(static_cast<u64>(limit - now)));
        break;
      }
      sc_core::sc_start(sc_core::sc_time_to_pending_activity());
    }
    if (shared_.completions.size() == before) return std::nullopt;
    return shared_.completions[before].end_s;
  }

  // What the DRAM controllers counted for job `id` (empty without detailed channels).
  std::vector<arch::dram::Stats> dram_counts(u64 id) const {
    const auto it = shared_.dram.find(id);
    return it == shared_.dram.end() ? std::vector<arch::dram::Stats>{} : it->second;
  }

  std::optional<Preemption> preempt(std::size_t unit, Boundary at) override {
    Unit& u = *top_->units.at(unit);
    if (!u.running || u.stop_tile < u.tiles) return std::nullopt;  // idle, or cut already
    Preemption p;
    p.id = u.job_id;
    p.unit = unit;
    for (std::size_t l = 0; l < u.layer_index; ++l) add_port_bytes(*(*u.layers)[l], p.bytes);
    if (at == Boundary::tile) {
      // The tile computing finishes; one waiting for its reads or buffers does not start.
      const u64 k = u.computed + (u.computing ? 1 : 0);
      if (k < u.tiles) {
        u.stop_tile = k;
        u.stop_after = u.layer_index;
        u.reads_event.notify(sc_core::SC_ZERO_TIME);
        u.computed_event.notify(sc_core::SC_ZERO_TIME);
        add_port_bytes(plan_head(*u.plan, k), p.bytes);
        p.layer = u.layer_index;
        p.tile = k;
        return p;
      }
    }
    if (u.layer_index + 1 >= u.layer_count || u.stop_after <= u.layer_index) return std::nullopt;
    u.stop_after = u.layer_index;
    add_port_bytes(*(*u.layers)[u.layer_index], p.bytes);
    p.layer = u.layer_index + 1;
    return p;
  }

 private:
  std::vector<Completion> take() {
    std::vector<Completion> out = std::move(shared_.completions);
    shared_.completions.clear();
    return out;
  }
  ExecutorSpec spec_;
  Shared shared_;
  u64 submitted_bound_ = 0;  // serial_cycles_bound of everything submitted
  std::unique_ptr<Top> top_;
};

}  // namespace

std::unique_ptr<PlanExecutor> make_executor(const ExecutorSpec& spec, Trace* trace) {
  return std::make_unique<Executor>(spec, trace);
}

std::vector<LayerTiming> simulate_tile_plans(const std::vector<const dataflows::TilePlan*>& plans,
                                             const arch::MemorySystem& memory, Trace* trace) {
  // One unit on the memory's clock: cycles stay exact integers.
  Executor exec(ExecutorSpec{{UnitSpec{}}, memory, 1e9}, trace);
  PlanExecutor& base = exec;  // submit(unit, plan, id) is the base class's
  for (std::size_t l = 0; l < plans.size(); ++l) base.submit(0, *plans[l], l);
  std::vector<LayerTiming> out(plans.size());
  clear_dram_counts();
  for (const Completion& c : exec.run_to_completion()) {
    out[c.id] = c.timing;
    if (auto counts = exec.dram_counts(c.id); !counts.empty())
      record_dram_counts(plans[c.id], c.timing, std::move(counts));
  }
  return out;
}

void register_fidelity() {
  if (fidelities().contains("systemc")) return;
  Fidelity f;
  f.timer = [](const std::vector<const dataflows::TilePlan*>& plans,
               const arch::MemorySystem& memory, Trace* trace) {
    return simulate_tile_plans(plans, memory, trace);
  };
  f.executor = make_executor;
  f.thread_safe = false;  // the kernel is process-global
  // Tiles execute one by one (about 0.4 us each): at most this many per layer, a few seconds.
  f.max_layer_tiles = std::uint64_t{1} << 22;
  f.max_run_cycles = kMaxRunCycles;
  // A detailed DRAM channel runs its accesses one by one (a few million a second).
  f.max_layer_dram_accesses = std::uint64_t{1} << 26;
  fidelities().add("systemc", "tile-level SystemC/TLM simulation; one per process at a time",
                   std::move(f));
}

}  // namespace tessera::sim::systemc
