// SCALE-Sim v2 architecture files (.cfg, INI as Python's configparser reads it), converted to a
// Tessera config for the `systolic` engine in its SCALE-Sim compatibility mode:
//
//   [general]              run_name        -> "name" (else the file stem)
//   [architecture_presets] ArrayHeight     -> systolic.rows
//                          ArrayWidth      -> systolic.cols
//                          Dataflow        -> systolic.dataflow (os | ws | is)
//                          IfmapSramSzkB   -> sram.ifmap  "<n> KiB"   (likewise Filter, Ofmap)
//                          Bandwidth       -> dram.bandwidth, words (= bytes) per cycle; USER only
//   [run_presets]          InterfaceBandwidth USER -> the first Bandwidth value;
//                                             CALC or absent -> "unlimited"
//
// Syntax as configparser: `key: value` or `key = value` (first delimiter wins), keys
// case-insensitive, section names case-sensitive, whole-line comments starting with # or ;
// (text after # on a value line is part of the value, as in SCALE-Sim), blank lines, CRLF.
// Duplicate sections or keys, indented continuation lines, unknown sections and unknown keys are
// errors naming FILE:LINE. Keys SCALE-Sim v2 accepts that do not affect timing are accepted and
// ignored (see kKeys in the .cpp); keys that would change SCALE-Sim's results in a way Tessera
// does not model (SparsitySupport = true, ...) are errors saying so. Every error is an InputError.
#pragma once

#include <istream>
#include <string>

#include <nlohmann/json.hpp>

namespace tessera::arch {

// `file` names the input in messages; its stem is the default name.
nlohmann::json scalesim_cfg_to_config(std::istream& in, const std::string& file);
nlohmann::json read_scalesim_cfg(const std::string& path);

}  // namespace tessera::arch
