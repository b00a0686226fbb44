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

}  // namespace tessera::arch::energy
