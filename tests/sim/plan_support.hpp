// Hand-built tile plans and memory systems for the timing and executor tests.
#pragma once

#include <array>
#include <string>

#include "arch/memory.hpp"
#include "dataflows/tile_plan.hpp"

namespace tessera::test {

// `channels` channels of `bw` bytes per cycle and `latency` cycles each, named ch0, ch1, ...
inline arch::MemorySystem memory(double bw, arch::u64 latency, std::size_t channels = 1) {
  arch::MemorySystem m;
  m.channels.clear();
  for (std::size_t c = 0; c < channels; ++c) {
    arch::MemoryChannel ch;
    ch.name = "ch" + std::to_string(c);
    ch.bytes_per_cycle = bw;
    ch.latency_cycles = latency;
    m.channels.push_back(ch);
  }
  return m;
}

// A plan with an input and a weight read port and an output write port on the given channels.
inline dataflows::TilePlan plan3(dataflows::Buffering b,
                                 std::array<std::size_t, 3> channel = {0, 0, 0}) {
  dataflows::TilePlan p;
  p.buffering = b;
  p.port("input");
  p.port("weight");
  p.port("output", dataflows::Direction::write);
  for (std::size_t i = 0; i < 3; ++i) p.ports[i].channel = channel[i];
  return p;
}

// A run of `count` tiles of plan3's ports.
inline dataflows::Tile tile(arch::u64 compute, arch::u64 in, arch::u64 w, arch::u64 out,
                            arch::u64 count = 1) {
  dataflows::Tile t;
  t.compute_cycles = compute;
  t.bytes[0] = in, t.bytes[1] = w, t.bytes[2] = out;
  t.count = count;
  return t;
}

}  // namespace tessera::test
