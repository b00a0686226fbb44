#include "arch/energy/config.hpp"

#include <algorithm>

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

std::string OperandStreamSource::mac_precision(const workloads::Operator& op) const {
  return layer_mac_precision(op);
}

std::string layer_mac_precision(int bits, workloads::NumberFormat format) {
  if (format != workloads::NumberFormat::integer) return std::string(workloads::to_string(format));
  return Technology::int_precision(bits > 0 ? bits : 8);
}

std::string layer_mac_precision(const workloads::Operator& op) {
  return layer_mac_precision(std::max(op.precision.weight_bits, op.precision.activation_bits),
                             op.precision.format);
}

bool pe_supports(const std::string& pe, const std::string& layer) {
  if (pe == "auto" || pe == layer) return true;
  const auto int_bits = [](const std::string& p) { return p.rfind("int", 0) == 0 ? std::stoi(p.substr(3)) : 0; };
  if (int_bits(pe) > 0) return int_bits(layer) > 0 && int_bits(layer) <= int_bits(pe);
  return pe == "fp32" && int_bits(layer) == 0;  // fp32 PEs run fp16 and bf16 exactly
}

std::string priced_mac_precision(const std::string& pe, int bits, workloads::NumberFormat format) {
  const std::string layer = layer_mac_precision(bits, format);
  return pe != "auto" && pe_supports(pe, layer) ? pe : layer;
}

std::string area_mac_precision(const std::string& pe) { return pe == "auto" ? "int8" : pe; }

std::optional<std::string> mac_warning(const std::string& pe, const workloads::Operator& op) {
  if (op.macs() == 0) return std::nullopt;
  const std::string layer = layer_mac_precision(op);
  if (pe == "auto") {
    if (pe_supports(area_mac_precision(pe), layer)) return std::nullopt;
    return layer + " MACs on PEs whose area is sized for int8 (energy.pe_precision auto): priced as " +
           layer + "; set energy.pe_precision to size the PEs for them";
  }
  if (pe_supports(pe, layer)) return std::nullopt;
  return layer + " MACs exceed the " + pe + " PEs (energy.pe_precision): priced as " + layer +
         " MACs and timed as one pass";
}

}  // namespace tessera::arch::energy
