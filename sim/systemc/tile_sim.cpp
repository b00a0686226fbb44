#include "sim/systemc/tile_sim.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <stdexcept>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/error.hpp"
#include "sim/systemc/kernel.hpp"

namespace tessera::sim::systemc {

namespace {

using dataflows::kOperands;
using sc_core::sc_time;

// One engine cycle of simulated time is 1 ns; integer arithmetic on the kernel's time values
// keeps cycle counts exact.
sc_core::sc_time::value_type cycle_value() { return sc_time(1, sc_core::SC_NS).value(); }
sc_time cycles(u64 n) { return sc_time::from_value(n * cycle_value()); }
u64 to_cycles(const sc_time& t) { return t.value() / cycle_value(); }

// Off-chip memory as a TLM-2.0 target (loosely timed, blocking transport). The address selects
// the channel. A transfer starts when it arrives or when its channel frees, whichever is later,
// holds the channel for occupancy_cycles() and completes latency_cycles after that; channels
// serve transfers in arrival order, and a channel is free again before the latency has passed
// (pipelined requests). Timing only: payload data is not touched.
struct Dram : sc_core::sc_module {
  tlm_utils::simple_target_socket<Dram> socket{"socket"};
  arch::DramParams params;
  std::array<sc_time, kOperands> busy_until{};

  Dram(sc_core::sc_module_name name, const arch::DramParams& p) : sc_module(name), params(p) {
    socket.register_b_transport(this, &Dram::b_transport);
  }

  void b_transport(tlm::tlm_generic_payload& tx, sc_time& delay) {
    auto& busy = busy_until.at(tx.get_address());
    const sc_time start = std::max(sc_core::sc_time_stamp() + delay, busy);
    busy = start + cycles(occupancy_cycles(tx.get_data_length(), params));
    delay = busy + cycles(params.latency_cycles) - sc_core::sc_time_stamp();
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// Walks the tiles of all layers in order, one tile at a time (counts expanded).
struct Cursor {
  const std::vector<const dataflows::TilePlan*>* plans;
  std::size_t layer = 0, group = 0;
  u64 index = 0;     // within the group
  u64 position = 0;  // within the layer

  explicit Cursor(const std::vector<const dataflows::TilePlan*>& p) : plans(&p) { skip_empty(); }
  bool done() const { return layer >= plans->size(); }
  const dataflows::Tile& tile() const { return (*plans)[layer]->tiles[group]; }
  // True when the current tile is its layer's last.
  bool last_of_layer() const {
    const auto& tiles = (*plans)[layer]->tiles;
    return group + 1 == tiles.size() && index + 1 == tiles[group].count;
  }
  void next() {
    ++position;
    if (++index < tile().count) return;
    index = 0;
    ++group;
    skip_empty();
  }
  void skip_empty() {
    while (layer < plans->size() && group >= (*plans)[layer]->tiles.size()) {
      ++layer;
      group = 0;
      position = 0;
    }
  }
};

// The accelerator: a compute process and a DMA process around double-buffered operand and
// result buffers, or (streaming plans) both working on the same tile at once.
struct Accelerator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Accelerator> memory{"memory"};
  const std::vector<const dataflows::TilePlan*>& plans;
  arch::DramParams dram;
  bool double_buffered;
  Trace* trace;
  std::vector<LayerTiming> timings;

  // Double-buffered state. Tile j's reads are issued when tile j-2 has finished computing
  // (its buffer half is free); its compute waits for its reads, for tile j-1's compute and for
  // tile j-2's writes (its result half); its writes are issued when it finishes. Ring buffers
  // of 4 hold the completion times still needed.
  u64 reads_issued = 0, computed = 0, writes_issued = 0;
  std::array<sc_time, 4> reads_ready{}, writes_done{};
  sc_core::sc_event reads_issued_event, computed_event, writes_issued_event;
  sc_time final_write;
  std::vector<sc_time> layer_end;  // when each layer's last tile finished computing
  std::vector<u64> layer_compute;

  // Streaming state.
  sc_core::sc_event start_tile, dma_done, compute_done;
  const Cursor* current = nullptr;

  unsigned char dummy = 0;  // payload data pointer; the DRAM model does not access data

  SC_HAS_PROCESS(Accelerator);
  Accelerator(sc_core::sc_module_name name, const std::vector<const dataflows::TilePlan*>& p,
              const arch::DramParams& d, bool db, Trace* t)
      : sc_module(name),
        plans(p),
        dram(d),
        double_buffered(db),
        trace(t),
        layer_end(p.size()),
        layer_compute(p.size()) {
    if (double_buffered) {
      SC_THREAD(db_dma);
      SC_THREAD(db_compute);
    } else {
      SC_THREAD(streaming_controller);
      SC_THREAD(streaming_dma);
      SC_THREAD(streaming_compute);
    }
  }

  std::string channel_name(std::size_t channel) const {
    static const char* names[] = {"dram.ifmap", "dram.filter", "dram.ofmap"};
    return dram.per_operand_channels ? names[channel] : "dram";
  }

  void record(const std::string& track, const Cursor& c, const sc_time& start, const sc_time& end,
              u64 bytes, bool write) {
    if (trace)
      trace->spans.push_back(
          {track, c.layer, c.position, to_cycles(start), to_cycles(end), bytes, write});
  }

  // Issues one transfer of tile `c` without waiting; returns its completion time.
  sc_time issue(tlm::tlm_command cmd, std::size_t channel, u64 bytes, const Cursor& c) {
    if (bytes == 0) return sc_core::sc_time_stamp();
    if (bytes > std::numeric_limits<unsigned>::max())
      throw UnsupportedError("SystemC fidelity: one tile transfer of " + std::to_string(bytes) +
                             " bytes exceeds the TLM payload limit of 4 GiB");
    tlm::tlm_generic_payload tx;
    tx.set_command(cmd);
    tx.set_address(channel);
    tx.set_data_ptr(&dummy);
    tx.set_data_length(static_cast<unsigned>(bytes));
    tx.set_streaming_width(static_cast<unsigned>(bytes));
    tx.set_byte_enable_ptr(nullptr);
    tx.set_dmi_allowed(false);
    tx.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;
    memory->b_transport(tx, delay);
    if (tx.is_response_error())
      throw std::runtime_error("DRAM transfer failed: " + tx.get_response_string());
    const sc_time end = sc_core::sc_time_stamp() + delay;
    record(channel_name(channel), c,
           end - cycles(occupancy_cycles(bytes, dram) + dram.latency_cycles), end, bytes,
           cmd == tlm::TLM_WRITE_COMMAND);
    return end;
  }

  // A tile's reads, one transfer per channel; returns when the last completes.
  sc_time issue_reads(const Cursor& c) {
    const dataflows::Tile& t = c.tile();
    std::array<u64, kOperands> bytes{};
    for (std::size_t o = 0; o < kOperands; ++o)
      bytes[dram.channel_of(static_cast<dataflows::Operand>(o))] += t.read_bytes[o];
    sc_time done = sc_core::sc_time_stamp();
    for (std::size_t ch = 0; ch < dram.channels(); ++ch)
      done = std::max(done, issue(tlm::TLM_READ_COMMAND, ch, bytes[ch], c));
    return done;
  }

  sc_time issue_writes(const Cursor& c) {
    return issue(tlm::TLM_WRITE_COMMAND, dram.channel_of(dataflows::ofmap), c.tile().write_bytes,
                 c);
  }

  static void wait_until(const sc_time& t) {
    if (t > sc_core::sc_time_stamp()) sc_core::wait(t - sc_core::sc_time_stamp());
  }

  void db_dma() {
    Cursor reads(plans), writes(plans);
    for (int i = 0; i < 2 && !reads.done(); ++i, reads.next())
      reads_ready[reads_issued++ % 4] = issue_reads(reads);
    reads_issued_event.notify(sc_core::SC_ZERO_TIME);
    for (; !writes.done(); writes.next()) {
      while (writes_issued >= computed) wait(computed_event);
      final_write = writes_done[writes_issued++ % 4] = issue_writes(writes);
      writes_issued_event.notify(sc_core::SC_ZERO_TIME);
      if (!reads.done()) {
        reads_ready[reads_issued++ % 4] = issue_reads(reads);
        reads.next();
        reads_issued_event.notify(sc_core::SC_ZERO_TIME);
      }
    }
  }

  // Layer l takes the time from the end of layer l-1's compute to the end of its own; the last
  // layer with tiles also waits for the final write. A layer without tiles takes no time.
  void attribute_layers() {
    std::size_t last = 0;
    for (std::size_t l = 0; l < plans.size(); ++l)
      if (!plans[l]->tiles.empty()) last = l;
    sc_time previous = sc_core::SC_ZERO_TIME;
    for (std::size_t l = 0; l < plans.size(); ++l) {
      if (plans[l]->tiles.empty()) {
        timings.push_back({});
        continue;
      }
      sc_time end = layer_end[l];
      if (l == last) end = std::max(end, final_write);
      LayerTiming t;
      t.cycles = to_cycles(end - previous);
      t.compute_cycles = layer_compute[l];
      t.stall_cycles = t.cycles - t.compute_cycles;
      timings.push_back(t);
      previous = end;
    }
  }

  void db_compute() {
    for (Cursor c(plans); !c.done(); c.next()) {
      const u64 j = computed;
      while (reads_issued <= j) wait(reads_issued_event);
      wait_until(reads_ready[j % 4]);
      if (j >= 2) {
        while (writes_issued <= j - 2) wait(writes_issued_event);
        wait_until(writes_done[(j - 2) % 4]);
      }
      const sc_time start = sc_core::sc_time_stamp();
      wait(cycles(c.tile().compute_cycles));
      record("compute", c, start, sc_core::sc_time_stamp(), 0, false);
      layer_compute[c.layer] += c.tile().compute_cycles;
      ++computed;
      computed_event.notify(sc_core::SC_ZERO_TIME);
      if (c.last_of_layer()) layer_end[c.layer] = sc_core::sc_time_stamp();
    }
  }

  void streaming_dma() {
    for (;;) {
      wait(start_tile);
      sc_time done = issue_reads(*current);
      done = std::max(done, issue_writes(*current));
      wait_until(done);
      dma_done.notify(sc_core::SC_ZERO_TIME);
    }
  }

  void streaming_compute() {
    for (;;) {
      wait(start_tile);
      const sc_time start = sc_core::sc_time_stamp();
      wait(cycles(current->tile().compute_cycles));
      record("compute", *current, start, sc_core::sc_time_stamp(), 0, false);
      compute_done.notify(sc_core::SC_ZERO_TIME);
    }
  }

  void streaming_controller() {
    Cursor c(plans);
    current = &c;
    sc_time layer_start = sc_core::SC_ZERO_TIME;
    for (std::size_t l = 0; l < plans.size(); ++l) {
      LayerTiming t;
      for (; !c.done() && c.layer == l; c.next()) {
        start_tile.notify(sc_core::SC_ZERO_TIME);
        wait(dma_done & compute_done);
        t.compute_cycles += c.tile().compute_cycles;
      }
      t.cycles = to_cycles(sc_core::sc_time_stamp() - layer_start);
      t.stall_cycles = t.cycles - t.compute_cycles;
      timings.push_back(t);
      layer_start = sc_core::sc_time_stamp();
    }
  }
};

struct Top {
  Dram dram;
  Accelerator accelerator;
  Top(const std::vector<const dataflows::TilePlan*>& plans, const arch::DramParams& p, bool db,
      Trace* trace)
      : dram("dram", p), accelerator("accelerator", plans, p, db, trace) {
    accelerator.memory.bind(dram.socket);
  }
};

}  // namespace

std::vector<LayerTiming> simulate_tile_plans(const std::vector<const dataflows::TilePlan*>& plans,
                                             const arch::DramParams& dram, Trace* trace) {
  const bool double_buffered =
      !plans.empty() && plans.front()->overlap == dataflows::Overlap::double_buffered;
  for (const auto* plan : plans)
    if ((plan->overlap == dataflows::Overlap::double_buffered) != double_buffered)
      throw std::logic_error("SystemC fidelity: layers of one run must share one overlap mode");
  fresh_kernel();
  auto top = std::make_unique<Top>(plans, dram, double_buffered, trace);
  sc_core::sc_start();
  if (double_buffered) top->accelerator.attribute_layers();
  std::vector<LayerTiming> out = std::move(top->accelerator.timings);
  top.reset();  // destroy modules before the next run replaces this context
  return out;
}

}  // namespace tessera::sim::systemc
