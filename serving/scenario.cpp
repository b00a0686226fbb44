#include "serving/scenario.hpp"
#include "serving/scenario_file.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/params.hpp"
#include "serving/policy.hpp"
#include "sim/executor.hpp"
#include "workloads/json_format.hpp"
#include "workloads/rebatch.hpp"
#include "workloads/settings.hpp"

namespace tessera::serving {

namespace {

// An architecture: `arch` (a config file's path or an inline config object), then `set` (an
// object of key path -> value, applied as --set is).
arch::ArchConfig read_arch(ParamReader& r, const nlohmann::json& node, const std::string& dir,
                           const std::string& name) {
  arch::ArchDocument doc;
  if (r.is_string("arch")) {
    const std::string file = resolve(dir, r.string("arch"));
    try {
      doc = arch::read_arch_document(file);
    } catch (const InputError& e) {
      throw r.error("arch", e.what());
    }
  } else {
    (void)r.child("arch");  // an object, or an error naming the path
    doc.file = r.file() + ": " + r.path_of("arch");
    doc.json = node.at("arch");
  }
  if (!name.empty() && !doc.json.contains("name")) doc.json["name"] = name;
  if (r.has("set")) {
    (void)r.child("set");
    for (const auto& [key, value] : node.at("set").items()) {
      try {
        arch::apply_override(doc, key + "=" + value.dump());
      } catch (const InputError& e) {
        throw r.error("set", e.what());
      }
    }
    // A key the engine then refuses may come from `set`: its messages name the scenario's `set`
    // and the config it was applied to (the config's name stays its file's).
    if (!doc.json.contains("name")) doc.json["name"] = std::filesystem::path(doc.file).stem().string();
    doc.file = r.file() + ": " + r.path_of("set") + " applied to " + doc.file;
  }
  return arch::build_arch(doc);
}

ArrivalProcess process_of(const std::string& s) {
  if (s == "poisson") return ArrivalProcess::poisson;
  if (s == "periodic") return ArrivalProcess::periodic;
  if (s == "bursty") return ArrivalProcess::bursty;
  return ArrivalProcess::trace;
}

void check_times(const std::vector<double>& t, const std::function<InputError(std::size_t, std::string)>& error) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i]) || t[i] < 0 || t[i] > 1e9)
      throw error(i, "an arrival time must be in [0, 1e9] s");
    if (i > 0 && t[i] < t[i - 1]) throw error(i, "arrival times must not decrease");
  }
}

// One number per line ('#' starts a comment); `what` names them in messages.
std::vector<double> read_numbers(const std::string& file, const std::string& what,
                                 std::vector<std::size_t>* line_numbers = nullptr) {
  std::ifstream in(file);
  if (!in) throw InputError(file + ": cannot read the " + what);
  std::vector<double> out;
  std::string line;
  for (std::size_t no = 1; std::getline(in, line); ++no) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream s(line);
    double v = 0;
    std::string extra;
    if (!(s >> v) || (s >> extra))
      throw InputError(file + ":" + std::to_string(no) + ": expected one number per line (" + what + ")");
    out.push_back(v);
    if (line_numbers) line_numbers->push_back(no);
  }
  if (out.empty()) throw InputError(file + ": holds no " + what);
  return out;
}

std::vector<double> read_trace_file(const std::string& file) {
  std::vector<std::size_t> lines;
  std::vector<double> out = read_numbers(file, "arrival times in seconds", &lines);
  check_times(out, [&](std::size_t i, const std::string& what) {
    return InputError(file + ":" + std::to_string(lines[i]) + ": " + what);
  });
  return out;
}

Arrival read_arrival(ParamReader r, const nlohmann::json& node, const std::string& dir) {
  Arrival a;
  a.process = process_of(r.choice("process", {"poisson", "periodic", "bursty", "trace"}, "poisson"));
  if (a.process == ArrivalProcess::trace) {
    if (r.has("times_s") == r.has("file"))
      throw r.error("", "a trace arrival takes its times from exactly one of times_s and file");
    if (r.has("times_s")) {
      const std::size_t n = r.array_size("times_s");
      if (n == 0) throw r.error("times_s", "lists no arrival times");
      const auto error = [&](std::size_t i, const std::string& what) {
        return InputError(json_location(r.file(), r.path_of("times_s") + "/" + std::to_string(i)) + what);
      };
      for (std::size_t i = 0; i < n; ++i) {
        const auto& v = node.at("times_s").at(i);
        if (!v.is_number()) throw error(i, "expected a number of seconds");
        a.times_s.push_back(v.get<double>());
      }
      check_times(a.times_s, error);
    } else {
      a.times_s = read_trace_file(resolve(dir, r.string("file")));
    }
  } else {
    a.rate_per_s = r.positive("rate_per_s");
    if (a.rate_per_s > 1e12) throw r.error("rate_per_s", "must be at most 1e12 requests per second");
    if (a.process == ArrivalProcess::periodic) a.offset_s = r.non_negative("offset_s", 0);
    if (a.process == ArrivalProcess::bursty) {
      a.peak_ratio = r.number("peak_ratio", 4);
      if (!(a.peak_ratio >= 1 && a.peak_ratio <= 1e6))
        throw r.error("peak_ratio", "must be in [1, 1e6]");
      a.burst_s = r.positive("burst_s", 0.1);
    }
  }
  r.finish();
  return a;
}

Batching read_batching(ParamReader& r, const nlohmann::json& doc) {
  Batching b;
  static const std::vector<std::string> modes = {"none", "static", "dynamic", "fluid",
                                                 "continuous"};
  const auto mode_of = [](const std::string& m) {
    return m == "static"       ? BatchingMode::static_size
           : m == "dynamic"    ? BatchingMode::dynamic
           : m == "fluid"      ? BatchingMode::fluid
           : m == "continuous" ? BatchingMode::continuous
                               : BatchingMode::none;
  };
  if (!r.has("batching")) return b;
  if (r.is_string("batching")) {
    b.mode = mode_of(r.choice("batching", modes, "none"));
    if (b.mode != BatchingMode::none) b.size = 4;
    if (b.mode == BatchingMode::static_size) b.timeout_s = 0.01;
    return b;
  }
  (void)doc;
  ParamReader c = r.child("batching");
  b.mode = mode_of(c.choice("mode", modes, "none"));
  if (b.mode != BatchingMode::none) {
    b.size = c.positive_integer("size", 4);
    if (b.size > 4096) throw c.error("size", "must be at most 4096");
  } else if (c.has("size")) {
    throw c.error("size", "batching mode none runs one request at a time");
  }
  if (b.mode == BatchingMode::static_size) b.timeout_s = c.non_negative("timeout_s", 0.01);
  if (c.has("chunk_tokens")) {
    if (b.mode != BatchingMode::continuous)
      throw c.error("chunk_tokens", "chunked prefill is a continuous-batching option");
    b.chunk_tokens = c.positive_integer("chunk_tokens");
    // Every running request's decode token must fit beside at least one prompt token.
    if (b.chunk_tokens < b.size)
      throw c.error("chunk_tokens", "must be at least batching.size (" + std::to_string(b.size) +
                                        "): an iteration carries every running request's decode token");
    if (b.chunk_tokens > 65536) throw c.error("chunk_tokens", "must be at most 65536");
  }
  c.finish();
  return b;
}

// LLM streams are served by their own loop (serving/llm_serve.hpp), which takes no preemption or
// early exits, times each unit alone and admits first come, first served.
void check_llm(const Scenario& s, ParamReader& r) {
  const auto fail = [&](const std::string& path, const std::string& what) {
    return InputError(json_location(s.file, "/" + path) + what);
  };
  std::size_t llm = 0;
  for (const Stream& st : s.streams) llm += st.tokens ? 1 : 0;
  if (llm == 0) {
    if (s.batching.mode == BatchingMode::continuous)
      throw r.error("batching", "continuous batching serves LLM streams (prompt_tokens, output_tokens)");
    if (r.has("llm")) throw r.error("llm", "applies to LLM streams (prompt_tokens, output_tokens)");
    return;
  }
  for (std::size_t i = 0; i < s.streams.size(); ++i) {
    const Stream& st = s.streams[i];
    const std::string at = "streams/" + std::to_string(i);
    if (!st.tokens)
      throw fail(at, "LLM streams and other streams cannot share a scenario (yet)");
    const Model& m = s.models[st.model];
    if (!m.llm || !m.llm->config.decoder())
      throw fail(at + "/model", "an LLM stream needs a decoder transformer config "
                                   "(configs/models/, such as llama-1b.json); '" + m.name + "' is not one");
    if (m.llm->settings.load.phase != "prefill" || m.llm->settings.load.kv_len ||
        m.llm->settings.load.batch || m.llm->settings.load.seq_len)
      throw fail("models/" + pointer_token(m.name) + "/settings",
                    "batch, seq_len, phase and kv_len are set per iteration by an LLM serving run");
    const auto& t = *st.tokens;
    const std::int64_t positions = m.llm->config.max_positions;
    if (t.trace.empty() && t.prompt.largest() + t.output.largest() > positions)
      throw fail(at, "prompt_tokens + output_tokens can exceed the model's " +
                            std::to_string(positions) + " positions");
    for (std::size_t k = 0; k < t.trace.size(); ++k)
      if (t.trace[k].first + t.trace[k].second > positions)
        throw fail(at + "/tokens_trace", t.trace_file + ": data row " + std::to_string(k + 1) +
                                                ": prompt + output tokens exceed the model's " +
                                                std::to_string(positions) + " positions");
  }
  // Placement: model -> units; every LLM model has at least one unit (default: all of them).
  std::set<std::size_t> served;
  for (const Stream& st : s.streams) served.insert(st.model);
  std::vector<std::size_t> models_on(s.units.size(), 0);  // served models per unit
  std::set<std::size_t> placed;
  for (std::size_t i = 0; i < s.llm.placement.size(); ++i) {
    const auto& [model, units] = s.llm.placement[i];
    const std::string at = "llm/placement/" + pointer_token(model);
    std::size_t k = 0;
    while (k < s.models.size() && s.models[k].name != model) ++k;
    if (k == s.models.size()) throw fail(at, "no model '" + model + "'");
    placed.insert(k);
    std::set<std::string> seen;
    for (std::size_t j = 0; j < units.size(); ++j) {
      std::size_t u = 0;
      while (u < s.units.size() && s.units[u].name != units[j]) ++u;
      if (u == s.units.size()) {
        std::string known;
        for (const Unit& one : s.units) known += (known.empty() ? "" : ", ") + one.name;
        throw fail(at + "/" + std::to_string(j), "no unit '" + units[j] + "' (units: " + known + ")");
      }
      if (!seen.insert(units[j]).second) throw fail(at + "/" + std::to_string(j), "unit '" + units[j] + "' named twice");
      if (served.count(k)) ++models_on[u];
    }
  }
  for (std::size_t k : served)
    if (!placed.count(k))
      for (std::size_t& n : models_on) ++n;
  for (std::size_t u = 0; u < s.units.size(); ++u)
    if (models_on[u] > 1 && s.llm.kv_capacity_tokens)
      throw fail("llm/kv_capacity_tokens", "unit '" + s.units[u].name +
                                               "' serves several models, whose tokens differ in size: "
                                               "give llm.kv_capacity_bytes");
  if (s.memory != "isolated")
    throw r.error("memory", "LLM streams run with isolated memory (each unit timed alone)");
  if (s.preemption != Preemption::none) throw r.error("preemption", "LLM requests are not preempted (so far)");
  if (s.policy != "fcfs") throw r.error("policy", "LLM requests are admitted first come, first served (fcfs)");
  if (s.batching.mode == BatchingMode::fluid)
    throw r.error("batching", "fluid batching is for early exits; LLM streams take none, static, "
                              "dynamic or continuous");
}

}  // namespace

nlohmann::json scenario_inputs(const Scenario& s) {
  nlohmann::json models = nlohmann::json::array();
  for (const Model& m : s.models) {
    nlohmann::json graph = workloads::workload_to_json(m.graph);
    graph.erase("name");  // names and sources are not content
    for (auto& op : graph.at("operators")) op.erase("source");
    nlohmann::json one = {{"graph", std::move(graph)}, {"exit_decisions", m.exit_decisions}};
    if (m.llm) {  // the served graphs are built from the config's sizes per iteration
      std::ifstream in(m.file, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      one["config"] = text.str();
    }
    models.push_back(std::move(one));
  }
  nlohmann::json streams = nlohmann::json::array();
  for (const Stream& st : s.streams) {
    nlohmann::json one = {{"times_s", st.arrival.times_s}};
    if (st.tokens) one["tokens_trace"] = st.tokens->trace;
    streams.push_back(std::move(one));
  }
  return {{"document", s.resolved}, {"models", std::move(models)}, {"streams", std::move(streams)}};
}

std::string to_string(ArrivalProcess p) {
  switch (p) {
    case ArrivalProcess::poisson: return "poisson";
    case ArrivalProcess::periodic: return "periodic";
    case ArrivalProcess::bursty: return "bursty";
    case ArrivalProcess::trace: return "trace";
  }
  return "?";
}

std::string to_string(BatchingMode m) {
  switch (m) {
    case BatchingMode::none: return "none";
    case BatchingMode::static_size: return "static";
    case BatchingMode::dynamic: return "dynamic";
    case BatchingMode::fluid: return "fluid";
    case BatchingMode::continuous: return "continuous";
  }
  return "?";
}

Scenario read_scenario(const nlohmann::json& doc, const std::string& file, const std::string& dir) {
  ParamReader r(doc, file);
  Scenario s;
  s.file = file;
  s.resolved = doc;
  if (r.string("format") != "tessera.scenario")
    throw r.error("format", "expected \"tessera.scenario\"");
  s.name = r.string("name", std::filesystem::path(file).stem().string());

  // The accelerator: one config ({arch, set}) or sub-accelerators sharing its memory system.
  {
    ParamReader a = r.child("accelerator");
    const nlohmann::json& an = doc.at("accelerator");
    if (a.has("sub_accelerators")) {
      const std::size_t n = a.array_size("sub_accelerators");
      if (n == 0) throw a.error("sub_accelerators", "lists no sub-accelerator");
      std::set<std::string> names;
      for (std::size_t i = 0; i < n; ++i) {
        ParamReader u = a.item("sub_accelerators", i);
        const nlohmann::json& un = an.at("sub_accelerators").at(i);
        Unit unit;
        unit.name = u.string("name");
        if (!names.insert(unit.name).second) throw u.error("name", "'" + unit.name + "' named twice");
        unit.arch = read_arch(u, un, dir, unit.name);
        u.finish();
        s.units.push_back(std::move(unit));
      }
    } else {
      Unit unit;
      unit.arch = read_arch(a, an, dir, "");
      unit.name = unit.arch.name;
      s.units.push_back(std::move(unit));
    }
    a.finish();
  }

  // Models: name -> {workload, settings}.
  {
    ParamReader m = r.child("models");
    const nlohmann::json& mn = doc.at("models");
    for (const auto& name : m.keys()) {
      ParamReader one = m.child(name);
      Model model;
      model.name = name;
      model.file = resolve(dir, one.string("workload"));
      workloads::WorkloadSettings settings;
      if (one.has("settings")) {
        (void)one.child("settings");
        settings = workloads::read_workload_settings(mn.at(name).at("settings"), file,
                                                     one.path_of("settings"));
        if (settings.generation)
          throw one.error("settings", "generation settings (generate) are not served yet");
      }
      try {
        model.graph = workloads::load_workload(model.file, settings);
      } catch (const InputError& e) {
        throw one.error("workload", e.what());
      }
      if (workloads::looks_like_model_config(model.file))
        model.llm = LlmModel{workloads::read_transformer_config(model.file), settings};
      // Early-exit heads: [{"after": OPERATOR, "probability": P}], each a classifier of
      // `classes` outputs.
      if (one.has("exits")) {
        const std::size_t n = one.array_size("exits");
        const std::int64_t classes = one.positive_integer("classes", 10);
        std::vector<workloads::ExitHead> heads;
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) {
          ParamReader e = one.item("exits", i);
          workloads::ExitHead h;
          h.after = e.string("after");
          h.probability = e.non_negative("probability", 0);
          if (h.probability > 1) throw e.error("probability", "must be in [0, 1]");
          total += h.probability;
          if (total > 1 + 1e-9)
            throw e.error("probability", "the exits' probabilities sum to more than 1");
          h.classes = classes;
          e.finish();
          heads.push_back(h);
        }
        model.graph = workloads::add_exit_heads(model.graph, heads,
                                                file + ": " + one.path_of("exits"));
      }
      if (one.has("exit_decisions")) {
        const std::string f = resolve(dir, one.string("exit_decisions"));
        const std::size_t stages = workloads::split_stages(model.graph).stages.size();
        try {
          for (double v : read_numbers(f, "exit decisions (stage indices)")) {
            if (v != std::floor(v) || v >= static_cast<double>(stages))
              throw InputError(f + ": an exit decision is a stage index in [0, " +
                               std::to_string(stages - 1) + "], not " + std::to_string(v));
            model.exit_decisions.push_back(static_cast<std::uint32_t>(v));
          }
        } catch (const InputError& e) {
          throw one.error("exit_decisions", e.what());
        }
      }
      one.finish();
      s.models.push_back(std::move(model));
    }
    if (s.models.empty()) throw r.error("models", "names no model");
    m.finish();
  }

  // Streams.
  {
    const std::size_t n = r.array_size("streams");
    if (n == 0) throw r.error("streams", "lists no stream");
    std::set<std::string> names;
    for (std::size_t i = 0; i < n; ++i) {
      ParamReader st = r.item("streams", i);
      const nlohmann::json& sn = doc.at("streams").at(i);
      Stream stream;
      const std::string model = st.string("model");
      std::size_t k = 0;
      while (k < s.models.size() && s.models[k].name != model) ++k;
      if (k == s.models.size()) {
        std::string known;
        for (const auto& mm : s.models) known += (known.empty() ? "" : ", ") + mm.name;
        throw st.error("model", "no model '" + model + "' (models: " + known + ")");
      }
      stream.model = k;
      stream.name = st.string("name", model + "#" + std::to_string(i));
      if (!names.insert(stream.name).second)
        throw st.error("name", "stream '" + stream.name + "' named twice");
      stream.arrival = read_arrival(st.child("arrival"), sn.at("arrival"), dir);
      if (st.has("slo_s") && st.has("slo_multiple"))
        throw st.error("", "an SLO is either slo_s or slo_multiple, not both");
      if (st.has("slo_s")) stream.slo_s = st.positive("slo_s");
      if (st.has("slo_multiple")) {
        stream.slo_multiple = st.positive("slo_multiple");
        if (*stream.slo_multiple < 1)
          throw st.error("slo_multiple", "must be >= 1 (a multiple of the isolated latency)");
      }
      const auto p = st.integer("priority", 0);
      if (p < -1000000 || p > 1000000) throw st.error("priority", "must be in [-1e6, 1e6]");
      stream.priority = static_cast<int>(p);
      if (is_llm_stream(st)) {
        stream.tokens = read_token_lengths(st, sn, dir);
        if (stream.slo_multiple)
          throw st.error("slo_multiple", "an LLM stream's SLO is slo_s (end to end, in seconds)");
      }
      st.finish();
      s.streams.push_back(std::move(stream));
    }
  }

  s.policy = r.string("policy", "fcfs");
  if (!policies().contains(s.policy)) {
    std::string known;
    for (const auto& [n, d] : policies().list()) known += (known.empty() ? "" : ", ") + n;
    throw r.error("policy", "unknown policy '" + s.policy + "' (known: " + known + ")");
  }
  s.batching = read_batching(r, doc);
  s.preemption = r.choice("preemption", {"none", "layer"}, "none") == "layer" ? Preemption::layer
                                                                           : Preemption::none;
  s.fidelity = r.string("fidelity", "analytical");
  if (!sim::fidelities().contains(s.fidelity)) {
    std::string known;
    for (const auto& n : sim::fidelity_names()) known += (known.empty() ? "" : ", ") + n;
    throw r.error("fidelity", "unknown fidelity '" + s.fidelity + "' (known: " + known + ")");
  }
  s.memory = r.choice("memory", {"isolated", "shared"}, "isolated");
  if (s.memory == "shared")
    for (const Unit& u : s.units)
      if (u.arch.engine->memory().channels.size() != s.units.front().arch.engine->memory().channels.size())
        throw r.error("memory", "shared memory: sub-accelerator '" + u.name +
                                    "' has another number of memory channels than '" +
                                    s.units.front().name + "'");
  if (r.has("requests") == r.has("duration_s"))
    throw r.error("", "give exactly one of requests (how many) and duration_s (how long)");
  if (r.has("requests")) {
    s.requests = r.positive_integer("requests");
    if (*s.requests > 100'000'000) throw r.error("requests", "must be at most 1e8");
  } else {
    s.duration_s = r.positive("duration_s");
    if (*s.duration_s > 1e9) throw r.error("duration_s", "must be at most 1e9 s");
  }
  if (r.has("baselines")) {
    ParamReader b = r.child("baselines");
    for (const auto& name : b.keys()) {
      (void)b.child(name);
      std::vector<std::string> sets;
      for (const auto& [key, value] : doc.at("baselines").at(name).items()) {
        if (key == "baselines") throw InputError(json_location(file, b.path_of(name)) + "a baseline has no baselines");
        sets.push_back(key + "=" + value.dump());
      }
      s.baselines.emplace_back(name, std::move(sets));
    }
  }
  const auto seed = r.non_negative_integer("seed", 1);
  s.seed = static_cast<std::uint64_t>(seed);
  if (r.has("llm")) s.llm = read_llm_settings(r.child("llm"));
  check_llm(s, r);
  r.finish();
  return s;
}

nlohmann::json read_scenario_json(const std::string& path,
                                  const std::vector<std::string>& overrides) {
  nlohmann::json doc = read_json_file(path);
  for (std::string a : overrides) {
    // `streams/0/arrival/rate_per_s=40`: a JSON pointer without its leading '/'.
    const auto eq = a.find('=');
    if (eq != std::string::npos && eq > 0 && a[0] != '/' && a.substr(0, eq).find('/') != std::string::npos)
      a = "/" + a;
    apply_json_override(doc, path, a);
  }
  return doc;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  return read_scenario(read_scenario_json(path, overrides), path,
                       std::filesystem::path(path).parent_path().string());
}

}  // namespace tessera::serving
