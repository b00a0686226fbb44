#include "arch/dram/power.hpp"

#include <algorithm>

namespace tessera::arch::dram {

namespace {

Power ddr4_3200() {
  // Eight x8 devices on the x64 bus. DRAMPower's memspec MICRON_8Gb_DDR4-3200_8bit_G (Micron
  // 8Gb DDR4 data sheet, die G, speed grade -062E): VDD 1.2 V, IDD0 57, IDD2N 37, IDD3N 56,
  // IDD4R 168, IDD4W 155, IDD5 66 mA; VPP 2.5 V, IPP0 3, IPP3N 3, IPP5 5 mA (IPP2N and IPP4R/W,
  // which it leaves out, taken as IPP3N).
  Power p;
  p.devices = 8;
  p.rails = {{1.2, 57, 37, 56, 168, 155, 66, 0}, {2.5, 3, 3, 3, 3, 3, 5, 0}};  // DDR4: no REFpb
  p.source =
      "DRAMPower memspec MICRON_8Gb_DDR4-3200_8bit_G (Micron 8Gb DDR4 SDRAM data sheet, -062E): "
      "VDD 1.2 V: IDD0 57, IDD2N 37, IDD3N 56, IDD4R 168, IDD4W 155, IDD5 66 mA; VPP 2.5 V: "
      "IPP0 3, IPP3N 3, IPP5 5 mA; 8 x8 devices";
  return p;
}

Power lpddr4x_4266() {
  // One x16 die. DRAMPower's memspec MICRON_6Gb_LPDDR4-3200_32bit_A (Micron LPDDR4 data sheet,
  // per channel): the nearest published currents, taken unchanged at 4266 (LPDDR4X lowers VDDQ,
  // whose I/O energy is not modelled). IDD5PB 2.5 / 30 mA as that memspec gives them
  // (idd5pb1, idd5pb2).
  Power p;
  p.devices = 1;
  p.rails = {{1.8, 3.5, 2.0, 2.25, 2.25, 2.25, 10.0, 2.5}, {1.1, 45, 27, 30, 275, 210, 90, 30}};
  p.source =
      "DRAMPower memspec MICRON_6Gb_LPDDR4-3200_32bit_A (Micron LPDDR4 data sheet), taken at "
      "4266 unscaled: VDD1 1.8 V: IDD0 3.5, IDD2N 2.0, IDD3N 2.25, IDD4R/W 2.25, IDD5 10 mA; "
      "VDD2 1.1 V: IDD0 45, IDD2N 27, IDD3N 30, IDD4R 275, IDD4W 210, IDD5 90 mA; IDD5PB 2.5 "
      "(VDD1) and 30 mA (VDD2)";
  return p;
}

}  // namespace

const Power& power(const Spec& spec) {
  static const Power ddr4 = ddr4_3200(), lpddr4x = lpddr4x_4266(), none;
  if (spec.name == "ddr4_3200") return ddr4;
  if (spec.name == "lpddr4x_4266") return lpddr4x;
  return none;
}

CommandEnergy command_energy(const Spec& spec) {
  const Power& p = power(spec);
  const Timing& t = spec.timing;
  CommandEnergy e;
  // mA x ns x V = pJ.
  const auto ns = [&](u64 cycles) { return static_cast<double>(cycles) * t.tck_ns; };
  for (const Rail& r : p.rails) {
    const double k = r.vdd * static_cast<double>(p.devices);
    e.act += k * (r.idd0 - r.idd3n) * ns(t.ras);
    e.pre += k * (r.idd0 - r.idd2n) * ns(t.rc - t.ras);
    e.rd += k * (r.idd4r - r.idd3n) * ns(t.burst_cycles);
    e.wr += k * (r.idd4w - r.idd3n) * ns(t.burst_cycles);
    e.ref += k * (r.idd5 - r.idd3n) * ns(t.rfc);
    if (r.idd5pb > 0 && t.rfc_pb > 0) {
      const double refi_pb = ns(spec.refi_pb()), rfc_pb = ns(t.rfc_pb);
      e.ref_pb += k * (r.idd5pb * refi_pb - r.idd2n * (refi_pb - rfc_pb) - r.idd3n * rfc_pb);
    }
  }
  return e;
}

double background_energy(const Spec& spec, double ns, double active_ns) {
  const Power& p = power(spec);
  const double rank_ns = ns * spec.org.ranks;
  const double active = std::clamp(active_ns, 0.0, rank_ns);
  double pj = 0;
  for (const Rail& r : p.rails)
    pj += r.vdd * static_cast<double>(p.devices) * (r.idd3n * active + r.idd2n * (rank_ns - active));
  return pj;
}

}  // namespace tessera::arch::dram
