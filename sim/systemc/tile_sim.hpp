// The SystemC fidelity: executes tile plans as timed transactions. Each compute unit is a module
// with a DMA process and a compute process around its buffers (depths from the plan's
// Buffering); all units reach the memory system through TLM-2.0 sockets, one target with a
// channel per MemoryChannel (bandwidth, latency, DMA depth). Time is annotated per tile, not per
// PE per cycle. Simulated time runs in engine cycles (1 cycle = 1 ns of SystemC time), so cycle
// counts are exact whatever the clock.
//
// The header is free of SystemC so callers do not pay for <systemc>. The SystemC kernel is
// process-global: one executor at a time per process, not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "sim/executor.hpp"

namespace tessera::sim::systemc {

// A fresh kernel context with the compute units of `spec` against its memory system. With
// `trace`, every compute span and transfer is recorded into it (layer = job id). Preemption
// stops a job after the layer it is running (the compute process then finishes that layer's
// tiles and its writes land).
std::unique_ptr<PlanExecutor> make_executor(const ExecutorSpec& spec, Trace* trace = nullptr);

// Runs the plans back to back on one unit (job id = layer index).
std::vector<LayerTiming> simulate_tile_plans(const std::vector<const dataflows::TilePlan*>& plans,
                                             const arch::MemorySystem& memory,
                                             Trace* trace = nullptr);

// Adds "systemc" to sim::fidelities().
void register_fidelity();

}  // namespace tessera::sim::systemc
