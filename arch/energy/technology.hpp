// Technology tables: per-action energy and per-component area at one process node, loaded from a
// JSON file users can replace (configs/tech/*.json; format and sources in docs/energy.md).
//
//   mac.<precision>        energy_pj per MAC and area_um2 per MAC unit, precisions int2, int4,
//                          int8, int16, int32, fp16, bf16, fp32; add_pj, the adder's share
//                          (optional: complex MACs need it)
//   mac_data_fraction      share of the MAC energy that is data-dependent switching (hamming model)
//   register               energy_pj_per_bit per access, area_um2_per_bit
//   sram                   read energy per bit = coefficient * (capacity / 1 KiB)^exponent
//                          (a power law fitted to the CSV's SRAM rows; per access, linear in
//                          width), write = read * write_to_read, area_um2_per_bit
//   dram_pj_per_bit        per DRAM type: ddr4, lpddr4, hbm2 (not scaled with the logic node)
//   noc.hop_pj_per_bit     on-chip network, per hop per bit
//   leakage                logic_mw_per_mm2, sram_mw_per_mm2 (leakage power per area)
//
// Engines name a table with a key "technology": a built-in name ("45nm", "28nm", "16nm", "7nm",
// compiled in from configs/tech/) or a path to a JSON file (relative paths are tried against the
// directory of the config that names it, then the working directory). Errors name the file and
// the JSON path.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::arch::energy {

struct MacCost {
  double energy_pj = 0;  // per MAC
  double area_um2 = 0;   // per MAC unit (PE datapath)
  // The adder's share of energy_pj (the rest is the multiply); complex MACs are priced from it.
  std::optional<double> add_pj;
};

// A complex MAC in real operations: the complex product (4 multiplies and 2 adds, or Gauss's 3
// multiplies and 5 adds) and the accumulation of its two parts (2 adds). Engines with a complex
// datapath say which they build (Engine::complex_mac).
struct ComplexMac {
  int multiplies = 4;
  int adds = 4;
  bool operator==(const ComplexMac&) const = default;
};
inline constexpr ComplexMac kComplexMac4{4, 4};
inline constexpr ComplexMac kComplexMac3{3, 7};

struct Technology {
  std::string name;    // the table's "name"
  std::string origin;  // built-in name or file path it was loaded from
  int node_nm = 45;
  double vdd = 0.9;
  std::map<std::string, MacCost> mac;
  double mac_data_fraction = 0.8;
  double register_pj_per_bit = 0, register_area_um2_per_bit = 0;
  double sram_coefficient = 0, sram_exponent = 0.5, sram_write_to_read = 1, sram_area_um2_per_bit = 0;
  std::map<std::string, double> dram_pj_per_bit;
  double noc_hop_pj_per_bit = 0;
  double leakage_logic_mw_per_mm2 = 0, leakage_sram_mw_per_mm2 = 0;

  // The table entry for a precision name; throws InputError listing the known ones.
  const MacCost& mac_cost(const std::string& precision) const;
  // One complex MAC at an entry: multiplies x (E_mac - E_add) + adds x E_add, i.e.
  // multiplies x E_mac + (adds - multiplies) x E_add; `mac_pj` replaces the entry's E_mac (an
  // engine's flat override). Throws InputError naming the table when the form needs the
  // entry's add_pj and the table has none.
  double complex_mac_pj(const std::string& precision, ComplexMac form,
                        std::optional<double> mac_pj = std::nullopt) const;
  // The integer precision covering `bits` operand bits: int2, int4, int8, int16 or int32.
  static std::string int_precision(int bits);
  double sram_read_pj_per_bit(std::uint64_t capacity_bytes) const;
  double sram_write_pj_per_bit(std::uint64_t capacity_bytes) const;
  // One access of `width_bits` to an SRAM of `capacity_bytes`.
  double sram_access_pj(std::uint64_t capacity_bytes, int width_bits, bool write) const;
  double sram_area_mm2(std::uint64_t capacity_bytes) const;
  // Throws InputError listing the known DRAM types.
  double dram(const std::string& type) const;
};

// Parses a table; errors are "FILE: /json/path: ..." (through ParamReader).
std::shared_ptr<const Technology> parse_technology(const nlohmann::json& json,
                                                   const std::string& file);
// A built-in name or a file path (see above). Loaded tables are cached by resolved origin.
std::shared_ptr<const Technology> load_technology(const std::string& key,
                                                  const std::string& config_file = "");
// The names of the built-in tables.
std::vector<std::string> builtin_technologies();

}  // namespace tessera::arch::energy
