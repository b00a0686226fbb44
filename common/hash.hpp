// Content hashes that identify configs and workloads in reports and result logs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tessera {

// 64-bit FNV-1a. Not cryptographic: it names content, it does not authenticate it.
std::uint64_t fnv1a64(std::string_view bytes);

// Hash of a JSON value's canonical text (keys sorted, no whitespace), as 16 hex digits.
// Two configs that differ only in key order or formatting get the same hash.
std::string json_hash(const nlohmann::json& value);

}  // namespace tessera
