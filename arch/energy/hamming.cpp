#include "arch/energy/hamming.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "arch/energy/reorder.hpp"
#include "common/error.hpp"

namespace tessera::arch::energy {

// Plain loops over popcount: the compiler emits popcnt in the "popcnt" clone, picked at load time
// on CPUs that have it (the project does not build with -mpopcnt globally).
__attribute__((target_clones("popcnt", "default"))) std::uint64_t stream_toggles(
    const std::uint64_t* v, std::size_t n) {
  std::uint64_t t = 0;
  for (std::size_t i = 1; i < n; ++i) t += static_cast<std::uint64_t>(std::popcount(v[i] ^ v[i - 1]));
  return t;
}

__attribute__((target_clones("popcnt", "default"))) std::uint64_t stream_toggles_u8(
    const std::uint8_t* v, std::size_t n) {
  std::uint64_t t = 0;
  std::size_t i = 1;
  // Word i covers bytes [i, i+8) and its predecessor bytes [i-1, i+7): 8 pairs per popcount.
  for (; i + 8 <= n; i += 8) {
    std::uint64_t a, b;
    std::memcpy(&a, v + i, 8);
    std::memcpy(&b, v + i - 1, 8);
    t += static_cast<std::uint64_t>(std::popcount(a ^ b));
  }
  for (; i < n; ++i) t += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(v[i] ^ v[i - 1])));
  return t;
}

namespace {

using workloads::Conv;
using workloads::MatMul;

// a(g, m, k) and b(g, k, n) of the layer's GEMM view (streams.hpp), from LayerValues.
class Operands {
 public:
  Operands(const workloads::Operator& op, const LayerValues& v) : v_(v) {
    if (const auto* c = std::get_if<Conv>(&op.shape)) {
      conv_ = true;
      c_ = *c;
      cg_ = c->c / c->groups;
      kg_ = c->k / c->groups;
      p_ = c->p();
      q_ = c->q();
    } else if (const auto* m = std::get_if<MatMul>(&op.shape)) {
      mm_ = *m;
    }
  }
  std::int64_t a(i64 g, i64 m, i64 k) const {
    if (!conv_) return v_.input[static_cast<std::size_t>((g * mm_.m + m) * mm_.k + k)];
    const i64 q = m % q_, p = (m / q_) % p_, nb = m / (p_ * q_);
    const i64 ch = k % cg_, s = (k / cg_) % c_.s, r = k / (cg_ * c_.s);
    const i64 h = p * c_.stride_h - c_.pad_top + r * c_.dilation_h;
    const i64 w = q * c_.stride_w - c_.pad_left + s * c_.dilation_w;
    if (h < 0 || h >= c_.h || w < 0 || w >= c_.w) return 0;
    return v_.input[static_cast<std::size_t>(((nb * c_.c + g * cg_ + ch) * c_.h + h) * c_.w + w)];
  }
  std::int64_t b(i64 g, i64 k, i64 n) const {
    if (!conv_) {
      const i64 base = mm_.b_is_weight ? 0 : g * mm_.k * mm_.n;
      return v_.weight[static_cast<std::size_t>(base + k * mm_.n + n)];
    }
    const i64 ch = k % cg_, s = (k / cg_) % c_.s, r = k / (cg_ * c_.s);
    return v_.weight[static_cast<std::size_t>((((g * kg_ + n) * cg_ + ch) * c_.r + r) * c_.s + s)];
  }

 private:
  const LayerValues& v_;
  bool conv_ = false;
  Conv c_;
  MatMul mm_;
  i64 cg_ = 1, kg_ = 1, p_ = 1, q_ = 1;
};

constexpr int kDims = 4;
int di(GemmDim d) { return static_cast<int>(d); }

bool uses(StreamTensor t, GemmDim d) {
  switch (t) {
    case StreamTensor::activation: return d != GemmDim::n;
    case StreamTensor::weight: return d != GemmDim::m;
    case StreamTensor::psum: return true;
  }
  return true;
}

// One port's loop nest, prepared for walking.
class Walker {
 public:
  Walker(const LayerStreams& s, const PortStream& p, const Operands& ops, bool sign_magnitude)
      : p_(p), ops_(ops), size_{s.groups, s.m, s.n, s.k} {
    const std::size_t L = p.loops.size();
    stride_.assign(L, 1);
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t j = l + 1; j < L; ++j)
        if (p.loops[j].dim == p.loops[l].dim) stride_[l] *= p.loops[j].extent;
    // Temporal loops, minus the innermost ones over dimensions the tensor does not use
    // (stationary values: no toggles while held).
    std::vector<std::size_t> temporal;
    for (std::size_t l = 0; l < L; ++l)
      if (!p.loops[l].spatial) temporal.push_back(l);
    while (!temporal.empty() && !uses(p.tensor, p.loops[temporal.back()].dim))
      temporal.pop_back();
    temporal_ = temporal;
    for (std::size_t l = 0; l < L; ++l) {
      if (!p.loops[l].spatial) continue;
      if (uses(p.tensor, p.loops[l].dim)) distinct_.push_back(l);
      else shared_.push_back(l);
    }
    // Offsets of the shared spatial loops per dimension, sorted, for the count of valid copies.
    for (int d = 0; d < kDims; ++d) {
      std::vector<i64> offs{0};
      for (std::size_t l : shared_) {
        if (di(p.loops[l].dim) != d) continue;
        std::vector<i64> next;
        for (i64 o : offs)
          for (i64 i = 0; i < p.loops[l].extent; ++i) next.push_back(o + i * stride_[l]);
        offs.swap(next);
      }
      std::sort(offs.begin(), offs.end());
      shared_offsets_[d] = offs;
      has_shared_[d] = offs.size() > 1 || std::any_of(shared_.begin(), shared_.end(), [&](std::size_t l) {
                         return di(p.loops[l].dim) == d;
                       });
    }
    for (std::size_t l = 0; l < L; ++l)
      if (p.tensor == StreamTensor::psum && p.loops[l].dim == GemmDim::k && l >= p.accumulate_from)
        acc_.push_back(l);
    mask_ = p.bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << p.bits) - 1;
    sign_magnitude_ = sign_magnitude && p.tensor != StreamTensor::psum && p.bits < 64;
    distinct_count_ = 1;
    for (std::size_t l : distinct_) distinct_count_ *= p.loops[l].extent;
    steps_ = 1;
    for (std::size_t l : temporal_) steps_ *= p.loops[l].extent;
    acc_terms_ = 1;
    for (std::size_t l : acc_) acc_terms_ *= p.loops[l].extent;
    incremental_ = acc_.empty() || (acc_.size() == 1 && !temporal_.empty() && temporal_.back() == acc_[0]);
  }

  double positions() const { return static_cast<double>(distinct_count_) * static_cast<double>(steps_); }
  double cost_per_value() const { return incremental_ ? 1.0 : std::max(1.0, acc_terms_ / 2.0); }

  // Sets the digits of distinct stream `d` (all other spatial digits 0).
  void set_stream(std::vector<i64>& idx, i64 d) const {
    for (auto it = distinct_.rbegin(); it != distinct_.rend(); ++it) {
      idx[*it] = d % p_.loops[*it].extent;
      d /= p_.loops[*it].extent;
    }
  }
  void set_step(std::vector<i64>& idx, i64 t) const {
    for (auto it = temporal_.rbegin(); it != temporal_.rend(); ++it) {
      idx[*it] = t % p_.loops[*it].extent;
      t /= p_.loops[*it].extent;
    }
  }
  // Multiplicity (valid copies) at the position `idx`; 0 when invalid.
  i64 multiplicity(const std::vector<i64>& idx, i64 base[kDims]) const {
    for (int d = 0; d < kDims; ++d) base[d] = 0;
    for (std::size_t l = 0; l < idx.size(); ++l) base[di(p_.loops[l].dim)] += idx[l] * stride_[l];
    i64 mult = 1;
    for (int d = 0; d < kDims; ++d) {
      if (base[d] >= size_[d]) return 0;
      if (!has_shared_[d]) continue;
      const auto& offs = shared_offsets_[d];
      mult *= std::lower_bound(offs.begin(), offs.end(), size_[d] - base[d]) - offs.begin();
      if (mult == 0) return 0;
    }
    return mult;
  }
  std::uint64_t value(std::vector<i64>& idx, const i64 base[kDims]) const {
    std::int64_t v = 0;
    switch (p_.tensor) {
      case StreamTensor::activation: v = ops_.a(base[0], base[1], base[3]); break;
      case StreamTensor::weight: v = ops_.b(base[0], base[3], base[2]); break;
      case StreamTensor::psum: v = psum(idx, base); break;
    }
    return sign_magnitude_ ? encode_sign_magnitude(v, p_.bits) : static_cast<std::uint64_t>(v) & mask_;
  }
  // Running partial sum: the accumulated k loops' combinations up to the current one.
  std::int64_t psum(std::vector<i64>& idx, const i64 base[kDims]) const {
    i64 kfixed = base[3];
    std::vector<i64> cur(acc_.size()), c(acc_.size(), 0);
    for (std::size_t j = 0; j < acc_.size(); ++j) {
      cur[j] = idx[acc_[j]];
      kfixed -= cur[j] * stride_[acc_[j]];
    }
    std::int64_t sum = 0;
    while (true) {
      i64 k = kfixed;
      for (std::size_t j = 0; j < acc_.size(); ++j) k += c[j] * stride_[acc_[j]];
      if (k < size_[3]) sum += ops_.a(base[0], base[1], k) * ops_.b(base[0], k, base[2]);
      if (c == cur) break;
      for (std::size_t j = acc_.size(); j-- > 0;) {  // next combination, lexicographic
        if (++c[j] < p_.loops[acc_[j]].extent) break;
        c[j] = 0;
      }
    }
    return sum;
  }

  // Exact count over every stream and step.
  PortCount exact() const {
    PortCount r = header();
    std::vector<i64> idx(p_.loops.size(), 0);
    std::vector<std::uint64_t> vals;
    std::vector<i64> mults;
    double evals = 0;
    i64 base[kDims];
    for (i64 d = 0; d < distinct_count_; ++d) {
      std::fill(idx.begin(), idx.end(), 0);
      set_stream(idx, d);
      vals.clear();
      mults.clear();
      bool have = false;
      std::int64_t running = 0;
      i64 prev_acc = -1;
      for (i64 t = 0; t < steps_; ++t) {
        // Odometer over the temporal loops (t is the mixed-radix number of their digits).
        if (t > 0) {
          for (std::size_t j = temporal_.size(); j-- > 0;) {
            if (++idx[temporal_[j]] < p_.loops[temporal_[j]].extent) break;
            idx[temporal_[j]] = 0;
          }
        }
        const i64 mult = multiplicity(idx, base);
        if (mult == 0) continue;
        std::uint64_t v;
        if (p_.tensor == StreamTensor::psum && incremental_ && !acc_.empty()) {
          const i64 a = idx[acc_[0]];
          if (have && a == prev_acc + 1) {
            running += ops_.a(base[0], base[1], base[3]) * ops_.b(base[0], base[3], base[2]);
            evals += 1;
          } else {
            running = psum(idx, base);
            evals += static_cast<double>(a + 1);
          }
          prev_acc = a;
          v = static_cast<std::uint64_t>(running) & mask_;
        } else {
          v = value(idx, base);
          evals += cost_per_value();
        }
        have = true;
        vals.push_back(v);
        mults.push_back(mult);
      }
      r.values += static_cast<double>(vals.size());
      if (vals.size() < 2) continue;
      const bool uniform = std::all_of(mults.begin() + 1, mults.end(), [&](i64 m) { return m == mults[1]; });
      if (uniform) {
        r.toggles += static_cast<double>(stream_toggles(vals.data(), vals.size())) * static_cast<double>(mults[1]);
        r.transitions += static_cast<double>(vals.size() - 1) * static_cast<double>(mults[1]);
      } else {
        for (std::size_t i = 1; i < vals.size(); ++i) {
          r.toggles += static_cast<double>(std::popcount(vals[i] ^ vals[i - 1]) * mults[i]);
          r.transitions += static_cast<double>(mults[i]);
        }
      }
    }
    r.evaluations = evals;
    return r;
  }

  // Uniform samples over (stream, step) positions; estimates with a 95% CI.
  PortCount sampled(std::uint64_t samples, std::uint64_t seed) const {
    PortCount r = header();
    r.exact = false;
    std::mt19937_64 rng(seed);
    const auto total = static_cast<std::uint64_t>(distinct_count_) * static_cast<std::uint64_t>(steps_);
    std::uniform_int_distribution<std::uint64_t> pick(0, total - 1);
    std::vector<i64> idx(p_.loops.size(), 0);
    i64 base[kDims];
    double sx = 0, sxx = 0, sy = 0, sz = 0, evals = 0;
    for (std::uint64_t s = 0; s < samples; ++s) {
      const std::uint64_t pos = pick(rng);
      const i64 d = static_cast<i64>(pos / static_cast<std::uint64_t>(steps_));
      const i64 t = static_cast<i64>(pos % static_cast<std::uint64_t>(steps_));
      std::fill(idx.begin(), idx.end(), 0);
      set_stream(idx, d);
      set_step(idx, t);
      const i64 mult = multiplicity(idx, base);
      if (mult == 0) continue;
      sz += 1;
      const std::uint64_t v = value(idx, base);
      evals += cost_per_value();
      // The previous value this stream delivered (idle steps keep it).
      std::uint64_t prev = 0;
      bool found = false;
      for (i64 u = t - 1; u >= 0 && t - u <= (i64{1} << 22); --u) {
        std::fill(idx.begin(), idx.end(), 0);
        set_stream(idx, d);
        set_step(idx, u);
        if (multiplicity(idx, base) == 0) continue;
        prev = value(idx, base);
        evals += cost_per_value();
        found = true;
        break;
      }
      if (!found) continue;
      const double x = static_cast<double>(std::popcount(v ^ prev)) * static_cast<double>(mult);
      sx += x;
      sxx += x * x;
      sy += static_cast<double>(mult);
    }
    const double n = static_cast<double>(samples), scale = static_cast<double>(total);
    const double mean = sx / n, var = std::max(0.0, sxx / n - mean * mean);
    r.toggles = scale * mean;
    r.ci95 = 1.96 * scale * std::sqrt(var / n);
    r.transitions = scale * sy / n;
    r.values = scale * sz / n;
    r.evaluations = evals;
    return r;
  }

  PortCount header() const {
    PortCount r;
    r.port = p_.port;
    r.tensor = p_.tensor;
    r.bits = p_.bits;
    return r;
  }

 private:
  const PortStream& p_;
  const Operands& ops_;
  i64 size_[kDims];
  std::vector<i64> stride_;
  std::vector<std::size_t> temporal_, distinct_, shared_, acc_;
  std::vector<i64> shared_offsets_[kDims];
  bool has_shared_[kDims] = {};
  std::uint64_t mask_ = 0;
  bool sign_magnitude_ = false;
  i64 distinct_count_ = 1, steps_ = 1;
  double acc_terms_ = 1;
  bool incremental_ = true;
};

std::uint64_t port_seed(const HammingOptions& o, const std::string& layer, const std::string& port) {
  std::uint64_t h = 1469598103934665603ull ^ (o.seed * 0x9E3779B97F4A7C15ull);
  for (unsigned char ch : layer + "/" + port) h = (h ^ ch) * 1099511628211ull;
  return h;
}

}  // namespace

std::uint64_t encode_sign_magnitude(std::int64_t v, int bits) {
  const std::uint64_t magnitude_mask = (std::uint64_t{1} << (bits - 1)) - 1;
  const std::uint64_t magnitude = static_cast<std::uint64_t>(v < 0 ? -v : v) & magnitude_mask;
  return v < 0 ? (std::uint64_t{1} << (bits - 1)) | magnitude : magnitude;
}

std::vector<PortCount> count_toggles(const LayerStreams& streams, const workloads::Operator& op,
                                     const LayerValues& values, const HammingOptions& options) {
  const Operands ops(op, values);
  std::vector<PortCount> out;
  for (const PortStream& p : streams.ports) {
    const Walker w(streams, p, ops, options.sign_magnitude);
    const double cost = w.positions() * w.cost_per_value();
    if (cost <= static_cast<double>(options.exact_limit)) {
      out.push_back(w.exact());
    } else {
      // Each sample evaluates about two values; keep the work near exact_limit.
      const double affordable = static_cast<double>(options.exact_limit) / (2 * w.cost_per_value());
      const auto samples = static_cast<std::uint64_t>(
          std::clamp(affordable, 256.0, static_cast<double>(std::max<std::uint64_t>(options.samples, 256))));
      out.push_back(w.sampled(samples, port_seed(options, op.name, p.port)));
    }
  }
  return out;
}

namespace {

ToggleResult price(const std::vector<PortCount>& ports, const LayerHamming& l) {
  ToggleResult r;
  r.ports = ports;
  double var = 0;
  for (const auto& p : ports) {
    r.toggles += p.toggles;
    r.transitions += p.transitions;
    var += p.ci95 * p.ci95;
    r.exact = r.exact && p.exact;
  }
  r.ci95 = std::sqrt(var);  // ports sampled independently
  r.toggle_pj = r.toggles * l.pj_per_toggle;
  r.base_pj = static_cast<double>(l.macs) * l.base_pj_per_mac;
  return r;
}

nlohmann::json result_json(const ToggleResult& r) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : r.ports)
    ports.push_back({{"port", p.port},
                     {"bits", p.bits},
                     {"toggles", p.toggles},
                     {"transitions", p.transitions},
                     {"toggles_per_transition", p.transitions > 0 ? p.toggles / p.transitions : 0.0},
                     {"values", p.values},
                     {"exact", p.exact},
                     {"toggles_ci95", p.ci95}});
  return {{"toggles", r.toggles},      {"toggles_ci95", r.ci95}, {"transitions", r.transitions},
          {"exact", r.exact},          {"toggle_energy_pj", r.toggle_pj},
          {"base_energy_pj", r.base_pj}, {"energy_pj", r.energy_pj()}, {"ports", ports}};
}

}  // namespace

HammingReport analyse_hamming(const Engine& engine, const workloads::Graph& graph,
                              const HammingOptions& options, const HammingProgress& progress) {
  const auto* source = dynamic_cast<const OperandStreamSource*>(&engine);
  if (!source)
    throw UnsupportedError("engine '" + engine.engine_name() +
                           "' does not describe its operand streams: no hamming-distance energy");
  const auto tech = source->technology();
  HammingReport report;
  report.technology = tech->name;
  report.options = options;
  const auto order = graph.topological_order();
  // Layers with streams, in topological order.
  struct Item {
    workloads::Graph::Node node;
    LayerStreams streams;
  };
  std::vector<Item> items;
  for (auto n : order)
    if (auto s = source->operand_streams(graph.op(n))) items.push_back({n, std::move(*s)});
  std::vector<LayerValues> values(items.size());
  report.layers.resize(items.size());
  std::vector<std::vector<PortCount>> counts(items.size());
  std::mutex progress_mutex;
  std::size_t counted = 0;
  if (progress) progress("counting", 0, items.size());
  tbb::parallel_for(std::size_t{0}, items.size(), [&](std::size_t i) {
    const auto& op = graph.op(items[i].node);
    values[i] = make_values(op, options);
    LayerHamming& l = report.layers[i];
    l.name = op.name;
    l.macs = static_cast<std::uint64_t>(op.macs());
    l.precision = Technology::int_precision(std::max(op.precision.weight_bits, op.precision.activation_bits));
    const double e_mac = tech->mac_cost(l.precision).energy_pj;
    double ref = 0;
    for (const auto& p : items[i].streams.ports) ref += p.bits / 2.0;
    l.table_mac_pj = static_cast<double>(l.macs) * e_mac;
    l.pj_per_toggle = ref > 0 ? tech->mac_data_fraction * e_mac / ref : 0;
    l.base_pj_per_mac = (1 - tech->mac_data_fraction) * e_mac;
    l.weight_source = values[i].weight_source;
    l.input_source = values[i].input_source;
    counts[i] = count_toggles(items[i].streams, op, values[i], options);
    l.original = price(counts[i], l);
    if (progress) {
      const std::lock_guard<std::mutex> lock(progress_mutex);
      progress("counting", ++counted, items.size());
    }
  });
  if (options.optimize_order) {
    if (progress) progress("reordering", 0, items.size());
    std::vector<const workloads::Operator*> ops;
    std::vector<workloads::Graph::Node> nodes;
    std::vector<const LayerStreams*> streams;
    for (const auto& it : items) {
      ops.push_back(&graph.op(it.node));
      nodes.push_back(it.node);
      streams.push_back(&it.streams);
    }
    const auto permuted = optimize_channel_order(graph, nodes, ops, streams, values, counts, options);
    for (std::size_t i = 0; i < items.size(); ++i) {
      report.layers[i].optimized = price(counts[i], report.layers[i]);
      report.layers[i].permuted = permuted[i];
    }
  }
  for (const auto& l : report.layers) {
    report.toggles += l.original.toggles;
    report.energy_pj += l.original.energy_pj();
    report.table_mac_pj += l.table_mac_pj;
    const ToggleResult& after = l.optimized ? *l.optimized : l.original;
    report.toggles_optimized += after.toggles;
    report.energy_optimized_pj += after.energy_pj();
  }
  return report;
}

nlohmann::json to_json(const HammingReport& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    nlohmann::json j = {{"name", l.name},
                        {"macs", l.macs},
                        {"precision", l.precision},
                        {"table_mac_energy_pj", l.table_mac_pj},
                        {"pj_per_toggle", l.pj_per_toggle},
                        {"base_pj_per_mac", l.base_pj_per_mac},
                        {"weight_source", l.weight_source},
                        {"input_source", l.input_source},
                        {"original", result_json(l.original)}};
    if (l.optimized) {
      j["optimized"] = result_json(*l.optimized);
      j["permuted"] = l.permuted;
    }
    layers.push_back(std::move(j));
  }
  nlohmann::json j = {{"technology", r.technology},
                      {"data", r.options.data},
                      {"encoding", r.options.sign_magnitude ? "sign-magnitude" : "twos-complement"},
                      {"seed", r.options.seed},
                      {"optimize_order", r.options.optimize_order},
                      {"exact_limit", r.options.exact_limit},
                      {"samples", r.options.samples},
                      {"toggles", r.toggles},
                      {"energy_pj", r.energy_pj},
                      {"table_mac_energy_pj", r.table_mac_pj},
                      {"layers", std::move(layers)}};
  if (r.options.optimize_order) {
    j["toggles_optimized"] = r.toggles_optimized;
    j["energy_optimized_pj"] = r.energy_optimized_pj;
  }
  return j;
}

std::string format_table(const HammingReport& r) {
  // The layer name comes last and whole, so rows of long ONNX names stay distinct and the
  // figures line up whatever the names' lengths.
  std::string out = fmt::format("{:>12} {:>10} {:>7} {:>12} {:>12}", "toggles", "+-ci95",
                                "t/pair", "datapath uJ", "table uJ");
  if (r.options.optimize_order) out += fmt::format(" {:>12} {:>8}", "reordered", "change");
  out += "  layer\n";
  for (const auto& l : r.layers) {
    const auto& o = l.original;
    out += fmt::format("{:>12.5g} {:>10.3g} {:>7.3f} {:>12.5g} {:>12.5g}", o.toggles, o.ci95,
                       o.transitions > 0 ? o.toggles / o.transitions : 0.0, o.energy_pj() * 1e-6,
                       l.table_mac_pj * 1e-6);
    if (r.options.optimize_order) {
      if (l.optimized)
        out += fmt::format(" {:>12.5g} {:>7.2f}%", l.optimized->toggles,
                           o.toggles > 0 ? 100.0 * (l.optimized->toggles - o.toggles) / o.toggles
                                         : 0.0);
      else
        out += fmt::format(" {:>12} {:>8}", "-", "-");
    }
    out += "  " + l.name + "\n";
  }
  out += fmt::format("total: {:.6g} toggles, datapath {:.6g} uJ (flat table MAC energy {:.6g} uJ)",
                     r.toggles, r.energy_pj * 1e-6, r.table_mac_pj * 1e-6);
  if (r.options.optimize_order)
    out += fmt::format("; reordered {:.6g} toggles ({:+.2f}%), {:.6g} uJ", r.toggles_optimized,
                       r.toggles > 0 ? 100.0 * (r.toggles_optimized - r.toggles) / r.toggles : 0.0,
                       r.energy_optimized_pj * 1e-6);
  out += "\n"
         "t/pair: bit toggles per consecutive pair of values on a datapath port (toggles / "
         "transitions);\n"
         "        uniformly random b-bit operands give b/2, correlated operands less.\n"
         "datapath uJ: toggles x energy per toggle + MACs x base energy; table uJ: MACs x the "
         "technology table's MAC energy.\n";
  if (std::any_of(r.layers.begin(), r.layers.end(), [](const auto& l) { return !l.original.exact; }))
    out += "+-ci95: half-width of the 95% confidence interval of sampled counts (0 when exact).\n";
  return out;
}

}  // namespace tessera::arch::energy
