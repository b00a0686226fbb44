#include "arch/energy/values.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/error.hpp"

namespace tessera::arch::energy {

namespace {

using workloads::Conv;
using workloads::MatMul;

std::uint64_t mix(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char ch : name) h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::int32_t clamp_round(double v, double lo, double hi) {
  return static_cast<std::int32_t>(std::clamp(std::nearbyint(v), lo, hi));
}

std::vector<std::int32_t> synthetic_weights(std::size_t n, int bits, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double hi = std::ldexp(1.0, bits - 1) - 1, scale = 6.9 / std::max(1.0, hi);
  std::vector<std::int32_t> w(n);
  for (auto& x : w) {
    const double e = -std::log(1.0 - u(rng));  // Exp(1)
    const double v = u(rng) < 0.5 ? -e : e;    // Laplace(0, 1)
    x = bits == 1 ? (v < 0 ? -1 : 0) : clamp_round(v / scale, -hi, hi);
  }
  return w;
}

std::vector<std::int32_t> synthetic_activations(std::size_t n, int bits, std::mt19937_64& rng) {
  std::normal_distribution<double> g(0.0, 1.0);
  const double hi = std::ldexp(1.0, bits) - 1, scale = 4.0 / hi;
  std::vector<std::int32_t> a(n);
  for (auto& x : a) x = clamp_round(std::max(0.0, g(rng)) / scale, 0, hi);
  return a;
}

// Weights that look trained in the ways that matter to toggles: filters come in clusters of
// near-copies (a prototype plus 30% noise, eight filters per cluster on average, clusters
// interleaved in the stored order), with per-filter scales spread log-normally, quantised with
// the max-abs scale (so most values are small, as in trained networks). Rows are output channels.
std::vector<std::int32_t> trained_like_weights(i64 rows, i64 len, int bits, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 0.5);
  const auto laplace = [&] {
    const double e = -std::log(1.0 - u(rng));
    return u(rng) < 0.5 ? -e : e;
  };
  const i64 clusters = std::max<i64>(2, rows / 8);
  std::vector<double> prototypes(static_cast<std::size_t>(clusters * len));
  for (auto& p : prototypes) p = laplace();
  std::vector<double> x(static_cast<std::size_t>(rows * len));
  for (i64 r = 0; r < rows; ++r) {
    const i64 c = static_cast<i64>(rng() % static_cast<std::uint64_t>(clusters));
    const double scale = std::exp(g(rng));
    for (i64 i = 0; i < len; ++i)
      x[static_cast<std::size_t>(r * len + i)] =
          scale * (prototypes[static_cast<std::size_t>(c * len + i)] + 0.3 * laplace());
  }
  return quantize(x, bits, false);
}

}  // namespace

std::size_t input_count(const workloads::Operator& op) {
  if (const auto* c = std::get_if<Conv>(&op.shape))
    return static_cast<std::size_t>(c->n * c->c * c->h * c->w);
  if (const auto* m = std::get_if<MatMul>(&op.shape))
    return static_cast<std::size_t>(m->batch * m->m * m->k);
  return 0;
}

std::size_t weight_count(const workloads::Operator& op) {
  if (const auto* c = std::get_if<Conv>(&op.shape))
    return static_cast<std::size_t>(c->k * (c->c / c->groups) * c->r * c->s);
  if (const auto* m = std::get_if<MatMul>(&op.shape))
    return static_cast<std::size_t>((m->b_is_weight ? 1 : m->batch) * m->k * m->n);
  return 0;
}

std::vector<std::int32_t> quantize(const std::vector<double>& x, int bits, bool unsigned_range) {
  double maxabs = 0;
  for (double v : x) maxabs = std::max(maxabs, std::abs(v));
  const double hi = unsigned_range ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  const double lo = unsigned_range ? 0 : -hi;
  const double scale = maxabs > 0 ? maxabs / std::max(1.0, hi) : 1.0;
  std::vector<std::int32_t> q(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) q[i] = clamp_round(x[i] / scale, lo, hi);
  return q;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot open");
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(path + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  } else {
    throw InputError(path + ": unsupported .npy version " + std::to_string(major));
  }
  std::string header(header_len, '\0');
  if (!f.read(header.data(), header_len)) throw InputError(path + ": truncated header");
  const auto field = [&](const std::string& key) {
    const auto at = header.find("'" + key + "'");
    if (at == std::string::npos) throw InputError(path + ": header has no '" + key + "'");
    return header.substr(header.find(':', at) + 1);
  };
  std::string descr = field("descr");
  descr = descr.substr(descr.find('\'') + 1);
  descr = descr.substr(0, descr.find('\''));
  if (field("fortran_order").find("True") < field("fortran_order").find(','))
    throw InputError(path + ": Fortran-order arrays are not supported");
  NpyArray a;
  std::string shape = field("shape");
  shape = shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1);
  std::size_t count = 1;
  for (std::size_t i = 0; i < shape.size();) {
    while (i < shape.size() && !std::isdigit(static_cast<unsigned char>(shape[i]))) ++i;
    if (i >= shape.size()) break;
    std::size_t j = i;
    while (j < shape.size() && std::isdigit(static_cast<unsigned char>(shape[j]))) ++j;
    a.shape.push_back(std::stoll(shape.substr(i, j - i)));
    count *= static_cast<std::size_t>(a.shape.back());
    i = j;
  }
  if (descr.size() < 3 || descr[0] == '>')
    throw InputError(path + ": unsupported dtype '" + descr + "' (little-endian f4, f8, i1-i8, u1-u8)");
  const char kind = descr[1];
  const int size = std::stoi(descr.substr(2));
  std::vector<char> raw(count * static_cast<std::size_t>(size));
  if (!f.read(raw.data(), static_cast<std::streamsize>(raw.size())))
    throw InputError(path + ": truncated data (" + std::to_string(count) + " values of " + descr + ")");
  a.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const char* p = raw.data() + i * static_cast<std::size_t>(size);
    double v = 0;
    if (kind == 'f' && size == 4) { float x; std::memcpy(&x, p, 4); v = x; }
    else if (kind == 'f' && size == 8) { std::memcpy(&v, p, 8); }
    else if (kind == 'i' && size == 1) { v = static_cast<std::int8_t>(*p); }
    else if (kind == 'u' && size == 1) { v = static_cast<std::uint8_t>(*p); }
    else if (kind == 'i' && size == 2) { std::int16_t x; std::memcpy(&x, p, 2); v = x; }
    else if (kind == 'u' && size == 2) { std::uint16_t x; std::memcpy(&x, p, 2); v = x; }
    else if (kind == 'i' && size == 4) { std::int32_t x; std::memcpy(&x, p, 4); v = x; }
    else if (kind == 'u' && size == 4) { std::uint32_t x; std::memcpy(&x, p, 4); v = x; }
    else if (kind == 'i' && size == 8) { std::int64_t x; std::memcpy(&x, p, 8); v = static_cast<double>(x); }
    else if (kind == 'u' && size == 8) { std::uint64_t x; std::memcpy(&x, p, 8); v = static_cast<double>(x); }
    else throw InputError(path + ": unsupported dtype '" + descr + "'");
    a.values[i] = v;
  }
  return a;
}

LayerValues make_values(const workloads::Operator& op, const HammingOptions& o) {
  LayerValues v;
  std::mt19937_64 rng(mix(o.seed, op.name));
  const int wbits = op.b_bits(), abits = op.precision.activation_bits;
  const std::size_t nin = input_count(op), nw = weight_count(op);
  const auto* mm = std::get_if<MatMul>(&op.shape);
  const bool weights_are_activations = mm && !mm->b_is_weight;
  const bool real_weights = o.data != "synthetic" && o.data != "trained-like" && op.weight_values && !weights_are_activations;
  if (real_weights && op.weight_values->count == nw) {
    const auto& t = *op.weight_values;
    std::vector<double> x(t.count);
    for (std::size_t i = 0; i < t.count; ++i) x[i] = t.at(i);
    if (mm && t.dims.size() == 2 && t.dims[0] == mm->n && t.dims[1] == mm->k && mm->n != mm->k) {
      std::vector<double> tr(x.size());  // [n][k] -> [k][n]
      for (i64 n = 0; n < mm->n; ++n)
        for (i64 k = 0; k < mm->k; ++k) tr[k * mm->n + n] = x[n * mm->k + k];
      x.swap(tr);
    }
    v.weight = quantize(x, wbits, false);
    v.weight_source = "onnx";
  } else if (o.data == "trained-like" && !weights_are_activations) {
    const i64 rows = mm ? mm->n : std::get<Conv>(op.shape).k;
    const i64 len = static_cast<i64>(nw) / rows;
    v.weight = trained_like_weights(rows, len, wbits, rng);
    if (mm) {  // rows are output channels n: [n][k] -> [k][n]
      std::vector<std::int32_t> t(v.weight.size());
      for (i64 n = 0; n < rows; ++n)
        for (i64 k = 0; k < len; ++k) t[static_cast<std::size_t>(k * rows + n)] = v.weight[static_cast<std::size_t>(n * len + k)];
      v.weight.swap(t);
    }
    v.weight_source = "trained-like clusters";
  } else {
    v.weight = weights_are_activations ? synthetic_activations(nw, abits, rng)
                                       : synthetic_weights(nw, wbits, rng);
    v.weight_source = weights_are_activations ? "synthetic relu(normal)" : "synthetic laplace";
    if (o.data != "synthetic" && o.data != "trained-like" && !weights_are_activations)
      v.weight_source += op.weight_values ? " (ONNX payload size mismatch)" : " (no ONNX payload)";
  }
  if (o.data.rfind("npy:", 0) == 0) {
    std::string name = op.name;
    std::replace(name.begin(), name.end(), '/', '_');
    const auto path = (std::filesystem::path(o.data.substr(4)) / (name + ".npy")).string();
    if (std::filesystem::exists(path)) {
      const NpyArray a = read_npy(path);
      if (a.values.size() != nin)
        throw InputError(path + ": " + std::to_string(a.values.size()) + " values, layer '" +
                         op.name + "' has " + std::to_string(nin) + " input elements");
      const bool nonneg = std::all_of(a.values.begin(), a.values.end(), [](double x) { return x >= 0; });
      v.input = quantize(a.values, abits, nonneg);
      v.input_source = "npy";
      return v;
    }
  }
  v.input = synthetic_activations(nin, abits, rng);
  v.input_source = "synthetic relu(normal)";
  return v;
}

}  // namespace tessera::arch::energy
