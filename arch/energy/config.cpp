#include "arch/energy/config.hpp"

#include "common/error.hpp"

namespace tessera::arch::energy {

std::optional<HammingOptions> read_hamming(ParamReader& e) {
  if (!e.has("hamming")) return std::nullopt;
  HammingOptions o;
  if (auto h = [&]() -> std::optional<ParamReader> {
        try {
          return e.optional_child("hamming");
        } catch (const InputError&) {
          return std::nullopt;  // not an object: a boolean
        }
      }()) {
    o.data = h->string("data", o.data);
    if (o.data != "synthetic" && o.data != "trained-like" && o.data != "onnx" &&
        o.data.rfind("npy:", 0) != 0)
      throw h->error("data", "must be 'synthetic', 'trained-like', 'onnx' or 'npy:DIR'");
    const std::string encoding = h->string("encoding", "twos-complement");
    if (encoding != "twos-complement" && encoding != "sign-magnitude")
      throw h->error("encoding", "must be 'twos-complement' or 'sign-magnitude'");
    o.sign_magnitude = encoding == "sign-magnitude";
    o.seed = static_cast<std::uint64_t>(h->non_negative_integer("seed", 1));
    o.optimize_order = h->boolean("optimize_order", false);
    o.exact_limit = static_cast<std::uint64_t>(
        h->positive_integer("exact_limit", static_cast<std::int64_t>(o.exact_limit)));
    o.samples = static_cast<std::uint64_t>(
        h->positive_integer("samples", static_cast<std::int64_t>(o.samples)));
    h->finish();
    return o;
  }
  if (!e.boolean("hamming", false)) return std::nullopt;
  return o;
}

nlohmann::json hamming_json(const std::optional<HammingOptions>& h) {
  if (!h) return false;
  return {{"data", h->data},
          {"encoding", h->sign_magnitude ? "sign-magnitude" : "twos-complement"},
          {"seed", h->seed},
          {"optimize_order", h->optimize_order},
          {"exact_limit", h->exact_limit},
          {"samples", h->samples}};
}

std::shared_ptr<const Technology> read_technology(ParamReader& r, const std::string& fallback) {
  try {
    return load_technology(r.string("technology", fallback), r.file());
  } catch (const InputError& e) {
    throw r.error("technology", e.what());
  }
}

std::string read_dram_type(ParamReader& e, const Technology& tech, const std::string& fallback) {
  const std::string type = e.string("dram", fallback);
  if (tech.dram_pj_per_bit.count(type)) return type;
  std::string known;
  for (const auto& [k, v] : tech.dram_pj_per_bit) known += (known.empty() ? "" : ", ") + k;
  throw e.error("dram", "unknown DRAM type '" + type + "' (known: " + known + ")");
}

std::string read_pe_precision(ParamReader& e, const Technology& tech) {
  const std::string p = e.string("pe_precision", "auto");
  if (p == "auto" || tech.mac.count(p)) return p;
  std::string known = "auto";
  for (const auto& [k, v] : tech.mac) known += ", " + k;
  throw e.error("pe_precision", "unknown precision '" + p + "' (known: " + known + ")");
}

}  // namespace tessera::arch::energy
