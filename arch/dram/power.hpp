// DRAM energy per command from supply currents, as DRAMPower computes it (Chandrasekar et al.,
// "Improved Power Modeling of DDR SDRAMs", DSD 2011; DRAMPower's MemoryPowerModel): each
// command's current above the standby current it is measured against, over the command's time.
#pragma once

#include <string>
#include <vector>

#include "arch/dram/spec.hpp"

namespace tessera::arch::dram {

// Supply currents of one device on one rail (mA) as data sheets give them: IDD0 one-bank
// ACT-PRE cycling, IDD2N precharged standby, IDD3N active standby, IDD4R / IDD4W burst read /
// write, IDD5 all-bank refresh, IDD5PB per-bank refresh at one REFpb per tREFI / banks (0: not
// given).
struct Rail {
  double vdd = 0;  // V
  double idd0 = 0, idd2n = 0, idd3n = 0, idd4r = 0, idd4w = 0, idd5 = 0, idd5pb = 0;
};

struct Power {
  unsigned devices = 1;     // devices side by side on the data bus (one rank)
  std::vector<Rail> rails;  // empty: no published figures (the flat per-byte energy stays)
  std::string source;
  bool known() const { return !rails.empty(); }
};

// Energy of one command on the whole channel (all its devices), pJ:
//   ACT  (IDD0 - IDD3N) x tRAS          PRE (IDD0 - IDD2N) x (tRC - tRAS)
//   RD   (IDD4R - IDD3N) x burst        WR  (IDD4W - IDD3N) x burst
//   REF  (IDD5 - IDD3N) x tRFC
//   REFpb IDD5PB x tREFIpb - IDD2N x (tREFIpb - tRFCpb) - IDD3N x tRFCpb (DRAMPower's LPDDR4
//        model: IDD5PB is measured with a REFpb every tREFIpb = tREFI / banks, precharged
//        standby between; 0 without an IDD5PB figure)
// times VDD and tCK, summed over rails and devices. Standby (background) energy is
// background_energy's; I/O and termination energy are not modelled. energy(spec, stats) gives
// the same fields as totals.
struct CommandEnergy {
  double act = 0, pre = 0, rd = 0, wr = 0, ref = 0, ref_pb = 0;
};

// The figures of a preset, by the spec's name (a channel keeps its preset's devices whatever
// its mapping or scheduling); none for presets without published currents.
const Power& power(const Spec& spec);
CommandEnergy command_energy(const Spec& spec);

// Standby energy of the channel's ranks over `ns` (pJ), as DRAMPower charges it: IDD3N while a
// rank has a bank open (`active_ns`, summed over ranks, at most ranks x ns), IDD2N the rest of
// each rank's time; times VDD, summed over rails and the devices of every rank. Power-down is
// not modelled (an idle rank stays in precharged standby). 0 without published currents.
double background_energy(const Spec& spec, double ns, double active_ns);

}  // namespace tessera::arch::dram
