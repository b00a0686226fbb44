#include "arch/energy/technology.hpp"

#include <cmath>
#include <filesystem>
#include <mutex>

#include "common/error.hpp"
#include "common/params.hpp"

namespace tessera::arch::energy {

// Generated at configure time from configs/tech/*.json (arch/CMakeLists.txt).
extern const std::vector<std::pair<std::string, std::string>>& builtin_technology_json();

namespace {

// A number with its source: {"value": x, "source": "..."}.
double sourced(ParamReader& r, const std::string& key) {
  ParamReader c = r.child(key);
  const double v = c.non_negative("value", 0);
  c.string("source", "");
  c.finish();
  return v;
}

void skip_text(ParamReader& r) {
  for (const char* k : {"source", "notes", "description", "confidence", "add_source"})
    if (r.has(k)) r.string(k);
}

}  // namespace

double Technology::complex_mac_pj(const std::string& precision, ComplexMac form,
                                  std::optional<double> mac_pj) const {
  const MacCost& c = mac_cost(precision);
  const double mac = mac_pj.value_or(c.energy_pj);
  if (form.adds == form.multiplies) return form.multiplies * mac;
  if (!c.add_pj)
    throw InputError("technology '" + origin + "': mac." + precision +
                     " has no add_pj, needed to price a complex MAC of " +
                     std::to_string(form.multiplies) + " multiplies and " +
                     std::to_string(form.adds) + " adds");
  return form.multiplies * mac + (form.adds - form.multiplies) * *c.add_pj;
}

const MacCost& Technology::mac_cost(const std::string& precision) const {
  if (auto it = mac.find(precision); it != mac.end()) return it->second;
  std::string known;
  for (const auto& [k, v] : mac) known += (known.empty() ? "" : ", ") + k;
  throw InputError("technology " + origin + ": no MAC entry for precision '" + precision +
                   "' (known: " + known + ")");
}

std::string Technology::int_precision(int bits) {
  for (int b : {2, 4, 8, 16}) if (bits <= b) return "int" + std::to_string(b);
  return "int32";
}

double Technology::sram_read_pj_per_bit(std::uint64_t capacity_bytes) const {
  const double kib = std::max(1.0, static_cast<double>(capacity_bytes)) / 1024.0;
  return sram_coefficient * std::pow(kib, sram_exponent);
}
double Technology::sram_write_pj_per_bit(std::uint64_t capacity_bytes) const {
  return sram_read_pj_per_bit(capacity_bytes) * sram_write_to_read;
}
double Technology::sram_access_pj(std::uint64_t capacity_bytes, int width_bits, bool write) const {
  return (write ? sram_write_pj_per_bit(capacity_bytes) : sram_read_pj_per_bit(capacity_bytes)) *
         width_bits;
}
double Technology::sram_area_mm2(std::uint64_t capacity_bytes) const {
  return static_cast<double>(capacity_bytes) * 8 * sram_area_um2_per_bit * 1e-6;
}
double Technology::dram(const std::string& type) const {
  if (auto it = dram_pj_per_bit.find(type); it != dram_pj_per_bit.end()) return it->second;
  std::string known;
  for (const auto& [k, v] : dram_pj_per_bit) known += (known.empty() ? "" : ", ") + k;
  throw InputError("technology " + origin + ": no DRAM type '" + type + "' (known: " + known + ")");
}

std::shared_ptr<const Technology> parse_technology(const nlohmann::json& json,
                                                   const std::string& file) {
  auto t = std::make_shared<Technology>();
  t->origin = file;
  ParamReader r(json, file);
  t->name = r.string("name");
  t->node_nm = static_cast<int>(r.positive_integer("node_nm"));
  t->vdd = r.positive("vdd", 0.9);
  skip_text(r);
  if (r.has("scaling")) {
    ParamReader s = r.child("scaling");
    s.string("from", "");
    s.non_negative("energy_factor", 1);
    s.non_negative("area_factor", 1);
    skip_text(s);
    s.finish();
  }
  {
    ParamReader m = r.child("mac");
    for (const char* p : {"int2", "int4", "int8", "int16", "int32", "fp16", "bf16", "fp32"}) {
      if (auto e = m.optional_child(p)) {
        MacCost c;
        c.energy_pj = e->positive("energy_pj");
        c.area_um2 = e->non_negative("area_um2", 0);
        if (e->has("add_pj")) {
          c.add_pj = e->non_negative("add_pj", 0);
          if (*c.add_pj > c.energy_pj)
            throw e->error("add_pj", "is the adder's share of energy_pj and cannot exceed it");
        }
        skip_text(*e);
        e->finish();
        t->mac[p] = c;
      }
    }
    m.finish();
    if (!t->mac.count("int8")) throw m.error("int8", "is required");
  }
  t->mac_data_fraction = sourced(r, "mac_data_fraction");
  if (t->mac_data_fraction > 1) throw r.error("mac_data_fraction", "must be in [0, 1]");
  {
    ParamReader g = r.child("register");
    t->register_pj_per_bit = g.non_negative("energy_pj_per_bit", 0);
    t->register_area_um2_per_bit = g.non_negative("area_um2_per_bit", 0);
    skip_text(g);
    g.finish();
  }
  {
    ParamReader s = r.child("sram");
    ParamReader rd = s.child("read_pj_per_bit");
    t->sram_coefficient = rd.positive("coefficient");
    t->sram_exponent = rd.number("exponent");
    if (t->sram_exponent < 0 || t->sram_exponent > 1.5)
      throw rd.error("exponent", "must be in [0, 1.5] (energy grows with capacity)");
    skip_text(rd);
    rd.finish();
    t->sram_write_to_read = sourced(s, "write_to_read");
    if (t->sram_write_to_read <= 0) throw s.error("write_to_read", "must be > 0");
    t->sram_area_um2_per_bit = sourced(s, "area_um2_per_bit");
    skip_text(s);
    s.finish();
  }
  {
    ParamReader d = r.child("dram_pj_per_bit");
    for (const char* k : {"ddr4", "lpddr4", "hbm2", "ddr3", "gddr6"})
      if (d.has(k)) t->dram_pj_per_bit[k] = sourced(d, k);
    d.finish();
    if (t->dram_pj_per_bit.empty()) throw r.error("dram_pj_per_bit", "needs at least one DRAM type");
  }
  {
    ParamReader n = r.child("noc");
    t->noc_hop_pj_per_bit = n.non_negative("hop_pj_per_bit", 0);
    skip_text(n);
    n.finish();
  }
  {
    ParamReader l = r.child("leakage");
    t->leakage_logic_mw_per_mm2 = l.non_negative("logic_mw_per_mm2", 0);
    t->leakage_sram_mw_per_mm2 = l.non_negative("sram_mw_per_mm2", 0);
    skip_text(l);
    l.finish();
  }
  r.finish();
  return t;
}

std::vector<std::string> builtin_technologies() {
  std::vector<std::string> names;
  for (const auto& [name, text] : builtin_technology_json()) names.push_back(name);
  return names;
}

std::shared_ptr<const Technology> load_technology(const std::string& key,
                                                  const std::string& config_file) {
  namespace fs = std::filesystem;
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Technology>> cache;
  std::string origin;
  std::string text;
  for (const auto& [name, json] : builtin_technology_json())
    if (name == key) origin = "builtin:" + name, text = json;
  fs::path path;
  if (origin.empty()) {
    path = fs::path(key);
    if (path.is_relative() && !config_file.empty()) {
      const fs::path beside = fs::path(config_file).parent_path() / path;
      if (fs::exists(beside)) path = beside;
    }
    if (!fs::exists(path)) {
      std::string known;
      for (const auto& n : builtin_technologies()) known += (known.empty() ? "" : ", ") + n;
      throw InputError("technology '" + key + "': not a built-in table (" + known +
                       ") and no such file");
    }
    origin = fs::weakly_canonical(path).string();
  }
  std::lock_guard lock(mutex);
  if (auto it = cache.find(origin); it != cache.end()) return it->second;
  std::shared_ptr<const Technology> t;
  if (!text.empty()) {
    t = parse_technology(nlohmann::json::parse(text), key);
  } else {
    t = parse_technology(read_json_file(path.string()), path.string());
  }
  cache[origin] = t;
  return t;
}

}  // namespace tessera::arch::energy
