// The energy keys engines share in their configs (docs/configs.md, "Energy and area"):
//   "technology": "45nm" | "28nm" | "16nm" | "7nm" | "path/to/table.json"
//   "energy": {"dram": "ddr4", "pe_precision": "auto", "hamming": false | true | {...},
//              "mac_pj", "sram_pj_per_byte", "dram_pj_per_byte" (flat overrides of the table)}
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "arch/energy/streams.hpp"
#include "common/params.hpp"

namespace tessera::arch::energy {

// energy.hamming: false/absent = off, true = defaults, or an object with data, seed,
// optimize_order, exact_limit, samples.
std::optional<HammingOptions> read_hamming(ParamReader& energy);
nlohmann::json hamming_json(const std::optional<HammingOptions>& h);

// The "technology" key of an engine config: a built-in table name or a JSON file (relative to
// the config); a table that does not load is an error naming the key.
std::shared_ptr<const Technology> read_technology(ParamReader& config,
                                                  const std::string& fallback = "45nm");

// The DRAM type key ("dram"): an entry of the table's DRAM energies; the error lists them.
std::string read_dram_type(ParamReader& energy, const Technology& tech,
                           const std::string& fallback);

// The PE precision key: "auto" or a MAC entry of the table; the error lists them.
std::string read_pe_precision(ParamReader& energy, const Technology& tech);

// The PE datatype (energy.pe_precision) sizes the PEs (area) and prices the MACs:
//   a layer's own MAC entry: fp16/bf16/fp32 for float formats, else int2..int32 covering the
//   widest operand;
//   an explicit PE precision supports integer layers up to its width (integer PEs) and float
//   layers of its format (fp32 PEs: every float format); supported MACs cost the PE's entry (the
//   hardware is that wide). A layer the PEs do not support is a warning (mac_warning): its MACs
//   are priced at its own entry and timed as one pass;
//   "auto" prices each layer at its own entry and sizes the PEs as int8; a layer needing more
//   than int8 gets a warning that the area does not cover it.
std::string layer_mac_precision(int bits, workloads::NumberFormat format);
// Of an operator: its wider operand's bits and its format.
std::string layer_mac_precision(const workloads::Operator& op);
bool pe_supports(const std::string& pe_precision, const std::string& layer_precision);
std::string priced_mac_precision(const std::string& pe_precision, int bits,
                                 workloads::NumberFormat format);
// The PE precision the area is computed for ("auto": int8).
std::string area_mac_precision(const std::string& pe_precision);
// The warning for an operator whose MACs the PEs do not support (nullopt when they do or it has
// no MACs), for the engines' supports().
std::optional<std::string> mac_warning(const std::string& pe_precision, const workloads::Operator& op);

}  // namespace tessera::arch::energy
