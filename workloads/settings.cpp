#include "workloads/settings.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>

#include "common/params.hpp"
#include "workloads/json_format.hpp"
#include "workloads/passes.hpp"

namespace tessera::workloads {

namespace {

std::size_t literal_characters(const std::string& pattern) {
  return static_cast<std::size_t>(
      std::count_if(pattern.begin(), pattern.end(), [](char c) { return c != '*' && c != '?'; }));
}

Annotation read_annotation(ParamReader& r) {
  Annotation a;
  a.where = json_location(r.file(), r.path());
  auto bits = [&](const char* key) -> std::optional<int> {
    if (!r.has(key)) return std::nullopt;
    const auto v = r.positive_integer(key);
    if (v > 64) throw r.error(key, "must be at most 64 bits, got " + std::to_string(v));
    return static_cast<int>(v);
  };
  auto density = [&](const char* key) -> std::optional<double> {
    if (!r.has(key)) return std::nullopt;
    const double v = r.positive(key);
    if (v > 1) throw r.error(key, "must be in (0, 1], got " + std::to_string(v));
    return v;
  };
  a.weight_bits = bits("weight_bits");
  a.activation_bits = bits("activation_bits");
  a.weight_density = density("weight_density");
  a.activation_density = density("activation_density");
  if (r.has("weight_pattern")) {
    a.weight_pattern = parse_nm_pattern(r, "weight_pattern");
    const double nm = double(a.weight_pattern->n) / a.weight_pattern->m;
    if (a.weight_density && std::abs(*a.weight_density - nm) > 1e-9)
      throw r.error("weight_density", "contradicts weight_pattern (the density of N:M is N/M)");
  }
  if (r.has("rank") && r.has("rank_ratio"))
    throw r.error("rank_ratio", "give either rank or rank_ratio, not both");
  if (r.has("rank")) {
    a.rank = r.positive_integer("rank");
    a.rank_where = json_location(r.file(), r.path_of("rank"));
  }
  if (r.has("rank_ratio")) {
    a.rank_ratio = density("rank_ratio");
    a.rank_where = json_location(r.file(), r.path_of("rank_ratio"));
  }
  r.finish();
  return a;
}

// The module decomposition's levels share these keys.
ModuleRanks read_module_ranks(ParamReader& r) {
  ModuleRanks m;
  m.file = r.file();
  m.path = r.path();
  if (r.has("ratio")) {
    m.ratio = r.non_negative("ratio", 0);
    if (*m.ratio >= 1)
      throw r.error("ratio", "must be in [0, 1) (the fraction of each module removed), got " +
                                 std::to_string(*m.ratio));
  }
  for (auto [key, field] : {std::pair{"qk_rank", &ModuleRanks::qk_rank},
                            std::pair{"vo_rank", &ModuleRanks::vo_rank},
                            std::pair{"mlp_rank", &ModuleRanks::mlp_rank}})
    if (r.has(key)) m.*field = r.positive_integer(key);
  return m;
}

// Per-layer scores: a JSON array of Block Influence values (1 - cos, in [0, 2]) at `where`.
std::vector<double> read_scores(const nlohmann::json& array, const std::string& file, const std::string& where) {
  if (!array.is_array() || array.empty())
    throw InputError(json_location(file, where) + "expected a non-empty array of scores, one per layer");
  std::vector<double> scores;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto& v = array[i];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 2)
      throw InputError(json_location(file, where + "/" + std::to_string(i)) +
                       "expected a Block Influence score in [0, 2] (1 - cosine similarity), got " + v.dump());
    scores.push_back(v.get<double>());
  }
  return scores;
}

// "allocation": {"scores": [...] | "scores_file": "...", "epsilon": e, "cap": c}: MoDeGPT's
// global allocation of the top-level ratio (compression.hpp, allocate_ratios).
RatioAllocation read_allocation(ParamReader& r, const nlohmann::json& node, std::optional<double> ratio) {
  RatioAllocation a;
  a.file = r.file();
  a.path = r.path();
  if (!ratio) throw r.error("", "spreads the top-level \"ratio\" (the average) over the layers: set it");
  if (r.has("scores") == r.has("scores_file"))
    throw r.error("", "give the per-layer scores as exactly one of \"scores\" and \"scores_file\"");
  if (r.has("scores")) {
    r.array_size("scores");
    a.scores = read_scores(node.at("scores"), r.file(), r.path_of("scores"));
  } else {
    // Relative to the settings file when they come from one.
    std::filesystem::path file = r.string("scores_file");
    std::error_code ec;
    if (file.is_relative() && std::filesystem::is_regular_file(r.file(), ec))
      file = std::filesystem::path(r.file()).parent_path() / file;
    a.scores = read_scores(read_json_file(file.string()), file.string(), "");
    a.path = r.path_of("scores_file");
  }
  a.epsilon = r.positive("epsilon");
  a.cap = r.number("cap", a.cap);
  if (!(a.cap > 0 && a.cap < 1)) throw r.error("cap", "must be in (0, 1) (the most a layer may lose), got " + std::to_string(a.cap));
  a.ratios = allocate_ratios(a.scores, *ratio, a.epsilon, a.cap, json_location(r.file(), r.path()));
  r.finish();
  return a;
}

ModuleDecomposition read_module_decomposition(ParamReader& r, const nlohmann::json& node) {
  ModuleDecomposition d;
  d.all = read_module_ranks(r);
  if (auto a = r.optional_child("allocation")) d.allocation = read_allocation(*a, node.at("allocation"), d.all.ratio);
  if (auto layers = r.optional_child("layers")) {
    for (const auto& pattern : layers->keys()) {
      ParamReader l = layers->child(pattern);
      d.layers.emplace_back(pattern, read_module_ranks(l));
      l.finish();
    }
    layers->finish();
    std::stable_sort(d.layers.begin(), d.layers.end(), [](const auto& a, const auto& b) {
      return literal_characters(a.first) < literal_characters(b.first);
    });
  }
  r.finish();
  return d;
}

// The rank an annotation gives `op` (0: none), checked against its full rank.
i64 resolved_rank(const Annotation& a, const Operator& op, i64 full) {
  if (a.rank) {
    if (*a.rank > full)
      throw InputError(a.rank_where + "rank " + std::to_string(*a.rank) +
                       " exceeds the full rank " + std::to_string(full) + " of operator '" +
                       op.name + "'");
    return *a.rank;
  }
  return std::max<i64>(1, std::llround(*a.rank_ratio * static_cast<double>(full)));
}

void apply(const Annotation& a, Operator& op) {
  if (a.weight_bits) op.precision.weight_bits = *a.weight_bits;
  if (a.activation_bits) op.precision.activation_bits = *a.activation_bits;
  if (a.weight_density) {
    op.density.weight = *a.weight_density;
    op.density.weight_pattern.reset();
  }
  if (a.weight_pattern) {
    op.density.weight_pattern = a.weight_pattern;
    op.density.weight = double(a.weight_pattern->n) / a.weight_pattern->m;
  }
  if (a.activation_density) op.density.activation = *a.activation_density;
}

int read_bits(ParamReader& r, const std::string& key) {
  const auto v = r.positive_integer(key);
  if (v > 64) throw r.error(key, "must be at most 64 bits, got " + std::to_string(v));
  return static_cast<int>(v);
}

void check_schedule(const std::vector<WeightPhase>& phases, const std::string& where) {
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (phases[i].bits < 1 || phases[i].bits > 64)
      throw InputError(where + "weight bits must be in [1, 64], got " +
                       std::to_string(phases[i].bits));
    if (phases[i].steps && *phases[i].steps < 1)
      throw InputError(where + "a phase's steps must be >= 1");
    if (!phases[i].steps && i + 1 != phases.size())
      throw InputError(where + "only the last phase may omit its steps");
  }
}

GenerationSettings read_generation(ParamReader& r) {
  GenerationSettings g;
  g.tokens = r.positive_integer("generate");
  if (r.has("prefill_weight_bits")) g.prefill_weight_bits = read_bits(r, "prefill_weight_bits");
  if (r.is_string("decode_weight_bits")) {
    g.decode_weights = parse_weight_schedule(r.string("decode_weight_bits"),
                                             json_location(r.file(), r.path_of("decode_weight_bits")));
  } else if (r.is_array("decode_weight_bits")) {
    // An empty schedule would silently mean "the operators' own precision".
    if (r.array_size("decode_weight_bits") == 0)
      throw r.error("decode_weight_bits", "must list at least one phase {\"bits\": B, \"steps\": N}");
    for (std::size_t i = 0, n = r.array_size("decode_weight_bits"); i < n; ++i) {
      ParamReader p = r.item("decode_weight_bits", i);
      WeightPhase w;
      w.bits = read_bits(p, "bits");
      if (p.has("steps")) w.steps = p.positive_integer("steps");
      p.finish();
      g.decode_weights.push_back(w);
    }
    check_schedule(g.decode_weights, json_location(r.file(), r.path_of("decode_weight_bits")));
  } else if (r.has("decode_weight_bits")) {
    g.decode_weights = {{read_bits(r, "decode_weight_bits"), std::nullopt}};
  }
  g.nested_weights = r.boolean("nested_weights", false);
  if (auto e = r.optional_child("early_exit")) {
    EarlyExitDecoding x;
    x.layers = e->positive_integer("layers");
    x.draft = e->positive_integer("draft");
    x.acceptance = e->non_negative("acceptance", 0);
    if (!e->has("acceptance")) throw e->error("acceptance", "is required (a probability in [0, 1])");
    if (x.acceptance > 1)
      throw e->error("acceptance", "must be in [0, 1], got " + std::to_string(x.acceptance));
    e->finish();
    g.early_exit = x;
  }
  return g;
}

}  // namespace

std::vector<WeightPhase> parse_weight_schedule(const std::string& text, const std::string& where) {
  std::vector<WeightPhase> out;
  const std::string err = where + "expected a schedule like \"3:64,2\" (bits:steps, ..., bits), got '" +
                          text + "'";
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part = text.substr(pos, comma - pos);
    const std::size_t colon = part.find(':');
    auto number = [&](const std::string& s) -> i64 {
      if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
        throw InputError(err);
      return std::stoll(s);
    };
    WeightPhase w;
    w.bits = static_cast<int>(std::min<i64>(number(part.substr(0, colon)), 1000));
    if (colon != std::string::npos) w.steps = number(part.substr(colon + 1));
    out.push_back(w);
    pos = comma + 1;
  }
  check_schedule(out, where);
  return out;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative matcher with one backtrack point for the last '*'.
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

WorkloadSettings read_workload_settings(const nlohmann::json& doc, const std::string& file,
                                        const std::string& path) {
  ParamReader r(doc, file, path);
  WorkloadSettings s;
  auto size = [&](const char* key) -> std::optional<i64> {
    if (!r.has(key)) return std::nullopt;
    return r.positive_integer(key);
  };
  s.load.batch = size("batch");
  s.load.image_size = size("image_size");
  s.load.seq_len = size("seq_len");
  s.load.kv_len = size("kv_len");
  s.load.phase = r.choice("phase", {"prefill", "decode"}, "prefill");
  if (r.has("generate")) {
    s.generation = read_generation(r);
  } else {
    for (const char* key : {"prefill_weight_bits", "decode_weight_bits", "nested_weights", "early_exit"})
      if (r.has(key)) throw r.error(key, "applies to generation runs: set \"generate\" too");
  }
  s.load.kv_read = r.choice("kv_read", {"per_group", "per_query_head"}, "per_group");
  if (r.has("kv_bits")) {
    const i64 v = r.positive_integer("kv_bits");
    if (v > 64) throw r.error("kv_bits", "must be at most 64 bits, got " + std::to_string(v));
    s.load.kv_bits = static_cast<int>(v);
  }
  s.load.experts_touched = size("experts_touched");
  s.load.allow_unsupported = r.boolean("allow_unsupported", false);
  s.load.fold_batch_norms = r.boolean("fold_batch_norms", true);
  if (auto m = r.optional_child("modegpt")) s.load.modegpt = read_module_decomposition(*m, doc.at("modegpt"));
  if (auto shapes = r.optional_child("input_shapes")) {
    for (const auto& name : shapes->keys()) {
      const std::size_t rank = shapes->array_size(name);
      if (rank == 0) throw shapes->error(name, "expected a non-empty array of dimensions");
      s.load.input_shapes[name] = shapes->integers(name, rank, 1, 1);
    }
    shapes->finish();
  }
  if (auto all = r.optional_child("default")) s.all = read_annotation(*all);
  if (auto kinds = r.optional_child("kinds")) {
    for (const auto& name : kinds->keys()) {
      const auto kind = op_kind_from_string(name);
      if (!kind) {
        std::string known;
        for (int k = 0; k <= static_cast<int>(OpKind::data_movement); ++k)
          known.append(known.empty() ? "" : ", ").append(to_string(static_cast<OpKind>(k)));
        throw kinds->error(name, "unknown operator kind '" + name + "' (known: " + known + ")");
      }
      ParamReader k = kinds->child(name);
      s.kinds.emplace_back(*kind, read_annotation(k));
      const Annotation& a = s.kinds.back().second;
      if ((a.rank || a.rank_ratio) && *kind != OpKind::matmul && *kind != OpKind::conv)
        throw InputError(a.rank_where + "a low-rank factorisation applies to matmul and conv "
                                        "operators, not " + name);
    }
    kinds->finish();
  }
  if (auto layers = r.optional_child("layers")) {
    for (const auto& pattern : layers->keys()) {
      ParamReader l = layers->child(pattern);
      s.layers.emplace_back(pattern, read_annotation(l));
    }
    layers->finish();
    std::stable_sort(s.layers.begin(), s.layers.end(), [](const auto& a, const auto& b) {
      return literal_characters(a.first) < literal_characters(b.first);
    });
  }
  r.finish();
  return s;
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_workload_overrides(
    const std::vector<std::string>& assignments) {
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  for (const auto& a : assignments) {
    if (a.rfind("workload.", 0) == 0)
      out.first.push_back(a.substr(9));
    else if (a.rfind("/workload/", 0) == 0)
      out.first.push_back(a.substr(9));  // keeps the leading '/': still a JSON pointer
    else
      out.second.push_back(a);
  }
  return out;
}

WorkloadSettings read_workload_settings(nlohmann::json doc, const std::string& file,
                                        const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_json_override(doc, file, a);
  return read_workload_settings(doc, file);
}

void annotate(Graph& graph, const WorkloadSettings& settings, bool whole_model) {
  if (settings.load.modegpt && whole_model)
    for (const auto& [pattern, ranks] : settings.load.modegpt->layers) {
      bool found = false;
      for (Graph::Node n = 0; n < graph.size() && !found; ++n)
        found = glob_match(pattern + ".*", graph.op(n).name);
      if (!found)
        throw InputError(json_location(ranks.file, ranks.path) + "pattern '" + pattern +
                         "' matches no layer of workload '" + graph.name() + "'");
    }
  if (!settings.has_annotations()) return;
  std::vector<bool> used(settings.layers.size(), false);
  // The rank each operator gets, from the last annotation with one that reaches it.
  std::vector<i64> ranks(graph.size(), 0);
  for (Graph::Node n = 0; n < graph.size(); ++n) {
    Operator& op = graph.op(n);
    const i64 full = full_rank(op);
    auto take = [&](const Annotation& a) {
      apply(a, op);
      if (full > 0 && (a.rank || a.rank_ratio)) ranks[n] = resolved_rank(a, op, full);
    };
    if (settings.all) take(*settings.all);
    for (const auto& [kind, a] : settings.kinds)
      if (kind == op.kind()) take(a);
    for (std::size_t i = 0; i < settings.layers.size(); ++i) {
      const Annotation& a = settings.layers[i].second;
      if (!glob_match(settings.layers[i].first, op.name)) continue;
      take(a);
      // A pattern with a rank must reach an operator it can factorise.
      used[i] = used[i] || !(a.rank || a.rank_ratio) || full > 0;
    }
  }
  for (std::size_t i = 0; i < settings.layers.size() && whole_model; ++i) {
    if (used[i]) continue;
    const Annotation& a = settings.layers[i].second;
    throw InputError(a.where + "pattern '" + settings.layers[i].first + "' matches no operator" +
                     (a.rank || a.rank_ratio ? " that a rank can factorise (matmul with weights, "
                                               "conv that is not transposed)"
                                             : "") +
                     " of workload '" + graph.name() + "'");
  }
  factorise_low_rank(graph, ranks);
  for (Graph::Node n = 0; n < graph.size(); ++n) validate(graph.op(n), "");
}

Graph load_workload(const std::string& path, const WorkloadSettings& settings) {
  return load_workload(path, settings,
                       [&path](const LoadOptions& o) { return load_workload(path, o); });
}

Graph load_workload(const std::string& path, const WorkloadSettings& settings,
                    const std::function<Graph(const LoadOptions&)>& load) {
  if (settings.generation)
    throw InputError(path + ": \"generate\" asks for a generation run, which `tessera simulate` "
                     "runs (sim/generation.hpp); this command takes one graph");
  Graph graph = load(settings.load);
  try {
    annotate(graph, settings);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  return graph;
}

}  // namespace tessera::workloads
