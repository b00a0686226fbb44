#include "serving/xr.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "common/csv.hpp"
#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/params.hpp"
#include "workloads/operator.hpp"

namespace tessera::serving::xr {

namespace {

// MAESTRO's files as tokens: words (names, numbers, True/False), and the punctuation { } : , ;
// `//` starts a comment to the end of the line.
struct Token {
  std::string text;
  int line = 0;
};

std::vector<Token> tokenize(const std::string& text, const std::string& file) {
  std::vector<Token> out;
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '{' || c == '}' || c == ':' || c == ',' || c == ';') {
      out.push_back({std::string(1, c), line});
      ++i;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
               c == '+' || c == '\'') {
      const std::size_t b = i;
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_' ||
              text[i] == '.' || text[i] == '-' || text[i] == '+' || text[i] == '\''))
        ++i;
      out.push_back({text.substr(b, i - b), line});
    } else {
      throw InputError(file + ":" + std::to_string(line) + ": unexpected character '" +
                       tessera::printable(std::string(1, c)) + "'");
    }
  }
  return out;
}

class Cursor {
 public:
  Cursor(std::vector<Token> tokens, std::string file) : t_(std::move(tokens)), file_(std::move(file)) {}
  bool done() const { return i_ >= t_.size(); }
  int line() const { return done() ? (t_.empty() ? 1 : t_.back().line) : t_[i_].line; }
  const std::string& peek() const {
    static const std::string end;
    return done() ? end : t_[i_].text;
  }
  InputError error(const std::string& what) const {
    return InputError(file_ + ":" + std::to_string(line()) + ": " + what);
  }
  std::string next(const std::string& what) {
    if (done()) throw error("expected " + what + ", got the end of the file");
    return t_[i_++].text;
  }
  void expect(const std::string& text) {
    if (done()) throw error("expected '" + text + "', got the end of the file");
    if (t_[i_].text != text)
      throw error("expected '" + text + "', got '" + printable(t_[i_].text) + "'");
    ++i_;
  }
  bool accept(const std::string& text) {
    if (!done() && t_[i_].text == text) {
      ++i_;
      return true;
    }
    return false;
  }
  double number(const std::string& key) {
    const int l = line();
    const std::string s = next("a number for " + key);
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
      throw InputError(file_ + ":" + std::to_string(l) + ": " + key + ": expected a number, got '" +
                       printable(s) + "'");
    return v;
  }
  std::int64_t positive_integer(const std::string& key) {
    const int l = line();
    const std::string s = next("an integer for " + key);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v <= 0)
      throw InputError(file_ + ":" + std::to_string(l) + ": " + key +
                       ": expected a positive integer, got '" + printable(s) + "'");
    return v;
  }
  const std::string& file() const { return file_; }

 private:
  static std::string printable(const std::string& s) { return tessera::printable(s); }
  std::vector<Token> t_;
  std::size_t i_ = 0;
  std::string file_;
};

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

// Dimension values are kept below 2^24 so that MAC counts of a layer stay far from overflow.
constexpr std::int64_t kMaxDimension = std::int64_t{1} << 24;

Layer parse_layer(Cursor& cur) {
  Layer l;
  l.line = cur.line();
  l.name = cur.next("a layer name");
  cur.expect("{");
  bool type = false, dims = false;
  while (!cur.accept("}")) {
    const int line = cur.line();
    const std::string key = cur.next("a layer key or '}'");
    cur.expect(":");
    if (key == "Type") {
      const std::string t = cur.next("a layer type");
      if (t != "CONV")
        throw InputError(cur.file() + ":" + std::to_string(line) + ": layer '" + l.name +
                         "': type '" + printable(t) + "' is not supported (expected CONV)");
      type = true;
    } else if (key == "Dimensions") {
      cur.expect("{");
      std::set<std::string> seen;
      while (!cur.accept("}")) {
        const int dl = cur.line();
        const std::string d = cur.next("a dimension");
        cur.expect(":");
        const std::int64_t v = cur.positive_integer("layer '" + l.name + "' dimension " + d);
        if (v > kMaxDimension)
          throw InputError(cur.file() + ":" + std::to_string(dl) + ": layer '" + l.name +
                           "' dimension " + d + ": at most " + std::to_string(kMaxDimension));
        std::int64_t* slot = d == "N" ? &l.n : d == "K" ? &l.k : d == "C" ? &l.c : d == "Y" ? &l.y
                             : d == "X" ? &l.x : d == "R" ? &l.r : d == "S" ? &l.s : nullptr;
        if (!slot)
          throw InputError(cur.file() + ":" + std::to_string(dl) + ": layer '" + l.name +
                           "': unknown dimension '" + printable(d) + "' (expected N, K, C, Y, X, R, S)");
        if (!seen.insert(d).second)
          throw InputError(cur.file() + ":" + std::to_string(dl) + ": layer '" + l.name +
                           "': dimension " + d + " given twice");
        *slot = v;
        cur.accept(",");
      }
      for (const char* d : {"K", "C", "Y", "X", "R", "S"})
        if (!seen.count(d))
          throw InputError(cur.file() + ":" + std::to_string(l.line) + ": layer '" + l.name +
                           "': dimension " + d + " is missing");
      dims = true;
    } else {
      throw InputError(cur.file() + ":" + std::to_string(line) + ": layer '" + l.name +
                       "': unknown key '" + printable(key) + "' (expected Type, Dimensions)");
    }
  }
  if (!type || !dims)
    throw InputError(cur.file() + ":" + std::to_string(l.line) + ": layer '" + l.name + "': " +
                     (type ? "Dimensions" : "Type") + " is missing");
  return l;
}

}  // namespace

UsageScenario parse_usage_scenario(const std::string& text, const std::string& file) {
  Cursor cur(tokenize(text, file), file);
  UsageScenario u;
  u.file = file;
  u.name = stem(file);
  std::map<std::string, int> seen;
  while (!cur.done()) {
    const int line = cur.line();
    const std::string word = cur.next("'Network'");
    if (word != "Network") throw cur.error("expected 'Network', got '" + printable(word) + "'");
    Model m;
    m.line = line;
    m.name = cur.next("a network name");
    if (seen.count(m.name))
      throw InputError(file + ":" + std::to_string(line) + ": network '" + m.name +
                       "' is already defined at line " + std::to_string(seen[m.name]));
    seen[m.name] = line;
    cur.expect("{");
    bool fps = false;
    std::set<std::string> names;
    while (!cur.accept("}")) {
      const int kl = cur.line();
      const std::string key = cur.next("a network key or '}'");
      const auto fail = [&](const std::string& what) {
        return InputError(file + ":" + std::to_string(kl) + ": network '" + m.name + "': " + what);
      };
      if (key == "Layer") {
        Layer l = parse_layer(cur);
        if (!names.insert(l.name).second) throw fail("layer '" + l.name + "' is defined twice");
        m.layers.push_back(std::move(l));
        continue;
      }
      cur.expect(":");
      if (key == "FPS") {
        m.fps = cur.number("FPS");
        // Frame rates between 0.001 and 10^6 per second keep frame counts and times finite.
        if (!(m.fps >= 1e-3 && m.fps <= 1e6)) throw fail("FPS must be in [0.001, 1e6]");
        fps = true;
      } else if (key == "Probability") {
        m.probability = cur.number("Probability");
        if (!(m.probability >= 0 && m.probability <= 1)) throw fail("Probability must be in [0, 1]");
      } else if (key == "Dependency") {
        cur.expect("{");
        while (!cur.accept("}")) {
          const std::string parent = cur.next("a model name or '}'");
          if (!m.dependency.empty())
            throw fail("more than one dependency ('" + m.dependency + "', '" + parent +
                       "'): a model depends on at most one other");
          m.dependency = parent;
          cur.accept(",");
        }
      } else {
        throw fail("unknown key '" + printable(key) +
                   "' (expected FPS, Probability, Dependency, Layer)");
      }
    }
    if (!fps) throw InputError(file + ":" + std::to_string(line) + ": network '" + m.name + "': FPS is missing");
    if (m.layers.empty())
      throw InputError(file + ":" + std::to_string(line) + ": network '" + m.name + "' has no layers");
    u.models.push_back(std::move(m));
  }
  if (u.models.empty()) throw InputError(file + ":1: no networks");
  // Dependencies: to a model of the file, at the same frame rate (frame i of the child takes
  // frame i of its parent), without cycles.
  std::map<std::string, const Model*> by_name;
  for (const Model& m : u.models) by_name[m.name] = &m;
  for (const Model& m : u.models) {
    if (m.dependency.empty()) continue;
    const auto where = file + ":" + std::to_string(m.line) + ": network '" + m.name + "': ";
    const auto it = by_name.find(m.dependency);
    if (it == by_name.end())
      throw InputError(where + "depends on '" + m.dependency + "', which is not in the file");
    if (it->second->fps != m.fps)
      throw InputError(where + "depends on '" + m.dependency + "' at another frame rate (" +
                       std::to_string(it->second->fps) + " FPS); cascades need equal rates");
    std::set<std::string> chain{m.name};
    for (const Model* p = it->second; p; p = p->dependency.empty() ? nullptr : by_name[p->dependency]) {
      if (!chain.insert(p->name).second) throw InputError(where + "its dependencies form a cycle");
    }
  }
  return u;
}

UsageScenario load_usage_scenario(const std::string& path) {
  return parse_usage_scenario(read_input_file(path, kTextFileLimit), path);
}

workloads::Graph to_graph(const Model& model, const std::string& file) {
  workloads::Graph g(model.name);
  // Independent layers: the model runs as a whole on one unit, layer after layer (layers do not
  // overlap), so edges would change nothing here.
  for (const Layer& l : model.layers) {
    workloads::Operator op;
    op.name = l.name;
    op.source = file + ":" + std::to_string(l.line);
    workloads::Conv c{.n = l.n, .c = l.c, .h = l.y, .w = l.x, .k = l.k, .r = l.r, .s = l.s};
    // Some layers of the shipped scenarios have a filter larger than their input (5x5 on 3x3):
    // the input is padded to the filter, one output row or column, as the network's own
    // padding does.
    c.pad_bottom = std::max<std::int64_t>(0, l.r - l.y);
    c.pad_right = std::max<std::int64_t>(0, l.s - l.x);
    op.shape = c;
    op.precision = workloads::Precision{8, 8};
    workloads::validate(op, op.source + ": ");
    g.add(std::move(op));
  }
  return g;
}

HardwareConfig parse_hardware_config(const std::string& text, const std::string& file) {
  Cursor cur(tokenize(text, file), file);
  HardwareConfig h;
  h.file = file;
  h.name = stem(file);
  while (!cur.done()) {
    const int line = cur.line();
    const std::string word = cur.next("'Accelerator'");
    if (word != "Accelerator")
      throw cur.error("expected 'Accelerator', got '" + printable(word) + "'");
    SubAccelerator a;
    a.line = line;
    a.name = cur.next("an accelerator name");
    cur.expect("{");
    std::set<std::string> seen;
    while (!cur.accept("}")) {
      const int kl = cur.line();
      const std::string key = cur.next("a key or '}'");
      const auto fail = [&](const std::string& what) {
        return InputError(file + ":" + std::to_string(kl) + ": accelerator '" + a.name + "': " + what);
      };
      if (!seen.insert(key).second) throw fail(key + " given twice");
      cur.expect(":");
      if (key == "num_pes") {
        a.num_pes = cur.positive_integer("num_pes");
        if (a.num_pes > (std::int64_t{1} << 20)) throw fail("num_pes: at most 2^20");
      } else if (key == "offchip_bw" || key == "top_noc_bw" || key == "col_noc_bw") {
        const double v = cur.number(key);
        if (!(v > 0 && v <= 1e9)) throw fail(key + ": must be in (0, 1e9]");
        if (key == "offchip_bw") a.offchip_bw = v;
        if (key == "top_noc_bw") a.noc_bw = v;
      } else if (key == "global_shared_memory" || key == "PE_local_memory") {
        const std::int64_t v = cur.positive_integer(key);
        if (v > (std::int64_t{1} << 40)) throw fail(key + ": at most 2^40 bytes");
        (key == "global_shared_memory" ? a.global_shared_memory : a.pe_local_memory) = v;
      } else if (key == "top_noc_latency" || key == "col_noc_latency") {
        cur.number(key);  // on-chip NoC latency: not modelled (Tessera's engines time their arrays)
      } else if (key == "top_noc_multicast" || key == "col_noc_multicast") {
        const std::string v = cur.next("True or False");
        if (v != "True" && v != "False" && v != "true" && v != "false")
          throw fail(key + ": expected True or False, got '" + printable(v) + "'");
      } else {
        throw fail("unknown key '" + printable(key) +
                   "' (expected num_pes, offchip_bw, top_noc_bw, top_noc_latency, "
                   "top_noc_multicast, col_noc_bw, col_noc_latency, col_noc_multicast, "
                   "global_shared_memory, PE_local_memory)");
      }
    }
    for (const char* k : {"num_pes", "offchip_bw", "global_shared_memory"})
      if (!seen.count(k))
        throw InputError(file + ":" + std::to_string(line) + ": accelerator '" + a.name + "': " +
                         k + " is missing");
    h.units.push_back(std::move(a));
  }
  if (h.units.empty()) throw InputError(file + ":1: no accelerators");
  return h;
}

HardwareConfig load_hardware_config(const std::string& path) {
  return parse_hardware_config(read_input_file(path, kTextFileLimit), path);
}

Dataflow parse_dataflow(const std::string& name, const std::string& where) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "ws") return Dataflow::ws;
  if (n == "os") return Dataflow::os;
  if (n == "rs") return Dataflow::rs;
  throw InputError(where + "unknown dataflow '" + printable(name) + "' (expected WS, OS, RS)");
}

std::string to_string(Dataflow d) {
  switch (d) {
    case Dataflow::ws: return "WS";
    case Dataflow::os: return "OS";
    case Dataflow::rs: return "RS";
  }
  return "?";
}

std::vector<Dataflow> load_dataflow_file(const std::string& path) {
  const std::string text = read_input_file(path, kTextFileLimit);
  std::vector<Dataflow> out;
  std::stringstream names(stem(path));
  for (std::string n; std::getline(names, n, '_');) out.push_back(parse_dataflow(n, path + ":1: "));
  std::size_t blocks = 0;
  for (std::size_t at = text.find("Dataflow"); at != std::string::npos; at = text.find("Dataflow", at + 1))
    ++blocks;
  if (blocks != out.size())
    throw InputError(path + ":1: the file name names " + std::to_string(out.size()) +
                     " dataflows but the file has " + std::to_string(blocks) + " Dataflow blocks");
  return out;
}

nlohmann::json arch_json(const SubAccelerator& unit, Dataflow dataflow) {
  std::int64_t rows = 1;
  for (std::int64_t d = 1; d * d <= unit.num_pes; ++d)
    if (unit.num_pes % d == 0) rows = d;
  const std::int64_t cols = unit.num_pes / rows;
  nlohmann::json j;
  j["name"] = unit.name + "-" + to_string(dataflow);
  j["clock"] = "1 GHz";
  j["dram"] = {{"bandwidth", std::to_string(unit.offchip_bw) + " B/cycle"}};
  if (dataflow == Dataflow::rs) {
    j["engine"] = "eyeriss";
    j["eyeriss"] = {{"rows", rows}, {"cols", cols}, {"word_bits", 8}};
    j["sram"] = {{"global_buffer", std::to_string(unit.global_shared_memory) + " B"}};
    j["energy"] = {{"hamming", false}};
  } else {
    j["engine"] = "systolic";
    j["systolic"] = {{"rows", rows}, {"cols", cols}, {"dataflow", dataflow == Dataflow::ws ? "ws" : "os"}};
    // The shared buffer split evenly over the three operand buffers.
    const std::int64_t third = unit.global_shared_memory / 3;
    j["sram"] = {{"ifmap", std::to_string(third) + " B"},
                 {"filter", std::to_string(third) + " B"},
                 {"ofmap", std::to_string(third) + " B"}};
  }
  return j;
}

// ---- Score ----

namespace {

template <typename T>
Score score_as(const std::vector<Inference>& log, const std::vector<std::string>& order,
               const ScoreParams& p) {
  std::vector<std::string> names = order;
  for (const Inference& i : log)
    if (std::find(names.begin(), names.end(), i.model) == names.end()) names.push_back(i.model);
  Score s;
  T overall = 0;
  for (const std::string& name : names) {
    ModelScore m;
    m.model = name;
    T sum = 0, rt_sum = 0, e_sum = 0;
    std::int64_t done = 0;
    for (const Inference& i : log) {
      if (i.model != name) continue;
      ++m.frames;
      if (i.dropped) {
        ++m.dropped;
        continue;
      }
      const T delay = static_cast<T>(i.done_ms) - static_cast<T>(i.deadline_ms);
      const T rt = T(1) / (T(1) + std::exp(static_cast<T>(p.k_per_ms) * delay));
      const T e = (static_cast<T>(p.max_energy_mj) - static_cast<T>(i.energy_mj)) /
                  static_cast<T>(p.max_energy_mj);
      sum += rt * e;
      rt_sum += rt;
      e_sum += e;
      ++done;
    }
    if (m.frames == 0) continue;
    const T qoe = T(1) - static_cast<T>(m.dropped) / static_cast<T>(m.frames);
    const T model_score = sum / static_cast<T>(m.frames) * qoe;
    m.realtime = done ? static_cast<double>(rt_sum / static_cast<T>(done)) : 0.0;
    m.energy = done ? static_cast<double>(e_sum / static_cast<T>(done)) : 0.0;
    m.qoe = static_cast<double>(qoe);
    m.score = static_cast<double>(model_score);
    overall += model_score;
    s.models.push_back(std::move(m));
  }
  if (!s.models.empty()) overall = overall / static_cast<T>(s.models.size()) * T(100);
  s.overall = static_cast<double>(overall);
  return s;
}

}  // namespace

Score score(const std::vector<Inference>& log, const std::vector<std::string>& order,
            const ScoreParams& params) {
  return params.single_precision ? score_as<float>(log, order, params)
                                 : score_as<double>(log, order, params);
}

std::vector<Inference> read_schedule_csv(const std::string& path) {
  std::istringstream in(read_input_file(path, kTextFileLimit));
  const std::vector<std::string> columns = {
      "AcceleratorID", "Model Name", "Frame ID", "Injection Time (ms)", "Dispatch Time (ms)",
      "Deadline Time (ms)", "Completion Time (ms)", "Violated Deadline Amount (ms)", "Energy (mJ)"};
  const auto split = split_csv_line;
  std::string line;
  if (!std::getline(in, line) || split(line) != columns)
    throw InputError(path + ":1: expected the header of an XRBench schedule");
  std::vector<Inference> out;
  for (int n = 2; std::getline(in, line); ++n) {
    const auto f = split(line);
    if (f.empty()) continue;
    const auto fail = [&](const std::string& what) {
      return InputError(path + ":" + std::to_string(n) + ": " + what);
    };
    if (f.size() != columns.size())
      throw fail("expected " + std::to_string(columns.size()) + " fields, got " + std::to_string(f.size()));
    const auto num = [&](std::size_t i) {
      double v = 0;
      const auto [end, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), v);
      if (ec != std::errc() || end != f[i].data() + f[i].size() || !std::isfinite(v))
        throw fail(columns[i] + ": expected a number, got '" + printable(f[i]) + "'");
      return v;
    };
    Inference i;
    i.unit = static_cast<int>(num(0));
    i.model = f[1];
    i.frame = static_cast<std::int64_t>(num(2));
    i.inject_ms = num(3);
    i.dispatch_ms = num(4);
    i.deadline_ms = num(5);
    i.done_ms = num(6);
    i.energy_mj = num(8);
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace tessera::serving::xr
