#include "common/hash.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace tessera {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string json_hash(const nlohmann::json& value) {
  // nlohmann::json objects are std::map-backed, so dump() already sorts keys.
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(value.dump())));
  return buf;
}

}  // namespace tessera
