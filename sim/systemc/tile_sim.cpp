#include "sim/systemc/tile_sim.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "sim/systemc/kernel.hpp"

namespace tessera::sim::systemc {

namespace {

using sc_core::sc_time;

// One engine cycle of simulated time is 1 ns; integer arithmetic on the kernel's time values
// keeps cycle counts exact.
sc_core::sc_time::value_type cycle_value() { return sc_time(1, sc_core::SC_NS).value(); }
sc_time cycles(u64 n) { return sc_time::from_value(n * cycle_value()); }
u64 to_cycles(const sc_time& t) { return t.value() / cycle_value(); }

// Off-chip memory as a TLM-2.0 target (loosely timed, blocking transport). One channel: a
// transfer starts when the request arrives or the channel frees, whichever is later, and holds
// the channel for transfer_cycles(). Timing only: payload data is not touched.
struct Dram : sc_core::sc_module {
  tlm_utils::simple_target_socket<Dram> socket{"socket"};
  arch::DramParams params;
  sc_time busy_until = sc_core::SC_ZERO_TIME;

  Dram(sc_core::sc_module_name name, const arch::DramParams& p) : sc_module(name), params(p) {
    socket.register_b_transport(this, &Dram::b_transport);
  }

  void b_transport(tlm::tlm_generic_payload& tx, sc_time& delay) {
    const sc_time start = std::max(sc_core::sc_time_stamp() + delay, busy_until);
    busy_until = start + cycles(transfer_cycles(tx.get_data_length(), params));
    delay = busy_until - sc_core::sc_time_stamp();
    tx.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// Runs tile plans: a controller thread starts each tile on a DMA thread and a compute thread
// and waits for both (streaming overlap).
struct Accelerator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Accelerator> memory{"memory"};
  const std::vector<const dataflows::TilePlan*>& plans;
  std::vector<LayerTiming> timings;

  const dataflows::Tile* current = nullptr;
  sc_core::sc_event start_dma, start_compute, dma_done, compute_done;
  unsigned char dummy = 0;  // payload data pointer; the DRAM model does not access data

  SC_HAS_PROCESS(Accelerator);
  Accelerator(sc_core::sc_module_name name, const std::vector<const dataflows::TilePlan*>& p)
      : sc_module(name), plans(p) {
    SC_THREAD(controller);
    SC_THREAD(dma);
    SC_THREAD(compute);
  }

  void transfer(tlm::tlm_command cmd, u64 bytes) {
    if (bytes == 0) return;
    tlm::tlm_generic_payload tx;
    tx.set_command(cmd);
    tx.set_address(0);
    tx.set_data_ptr(&dummy);
    tx.set_data_length(static_cast<unsigned>(std::min<u64>(bytes, 0xffffffffu)));
    tx.set_streaming_width(tx.get_data_length());
    tx.set_byte_enable_ptr(nullptr);
    tx.set_dmi_allowed(false);
    tx.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    // Transfers above 4 GiB (the payload's length limit) go as several transactions.
    for (u64 left = bytes; left > 0;) {
      const u64 chunk = std::min<u64>(left, 0xffffffffu);
      tx.set_data_length(static_cast<unsigned>(chunk));
      sc_time delay = sc_core::SC_ZERO_TIME;
      memory->b_transport(tx, delay);
      if (tx.is_response_error())
        throw std::runtime_error("DRAM transfer failed: " + tx.get_response_string());
      wait(delay);
      left -= chunk;
    }
  }

  void dma() {
    for (;;) {
      wait(start_dma);
      transfer(tlm::TLM_READ_COMMAND, current->dram_read_bytes);
      transfer(tlm::TLM_WRITE_COMMAND, current->dram_write_bytes);
      dma_done.notify(sc_core::SC_ZERO_TIME);
    }
  }

  void compute() {
    for (;;) {
      wait(start_compute);
      wait(cycles(current->compute_cycles));
      compute_done.notify(sc_core::SC_ZERO_TIME);
    }
  }

  void controller() {
    for (const dataflows::TilePlan* plan : plans) {
      const sc_time layer_start = sc_core::sc_time_stamp();
      LayerTiming t;
      for (const dataflows::Tile& tile : plan->tiles) {
        current = &tile;
        for (u64 i = 0; i < tile.count; ++i) {
          start_dma.notify(sc_core::SC_ZERO_TIME);
          start_compute.notify(sc_core::SC_ZERO_TIME);
          wait(dma_done & compute_done);
        }
        t.compute_cycles += tile.count * tile.compute_cycles;
      }
      t.cycles = to_cycles(sc_core::sc_time_stamp() - layer_start);
      t.stall_cycles = t.cycles - t.compute_cycles;
      timings.push_back(t);
    }
  }
};

struct Top {
  Dram dram;
  Accelerator accelerator;
  Top(const std::vector<const dataflows::TilePlan*>& plans, const arch::DramParams& p)
      : dram("dram", p), accelerator("accelerator", plans) {
    accelerator.memory.bind(dram.socket);
  }
};

}  // namespace

std::vector<LayerTiming> simulate_tile_plans(const std::vector<const dataflows::TilePlan*>& plans,
                                             const arch::DramParams& dram) {
  for (const auto* plan : plans)
    if (plan->overlap != dataflows::Overlap::streaming)
      throw std::logic_error("SystemC fidelity: unsupported overlap " +
                             std::string(to_string(plan->overlap)));
  fresh_kernel();
  auto top = std::make_unique<Top>(plans, dram);
  sc_core::sc_start();
  std::vector<LayerTiming> out = std::move(top->accelerator.timings);
  top.reset();  // destroy modules before the next run replaces this context
  return out;
}

}  // namespace tessera::sim::systemc
