#include "serving/llm.hpp"

#include <filesystem>

#include "common/csv.hpp"

namespace tessera::serving {

namespace {

constexpr std::int64_t kMaxTokens = 10'000'000;

TokenCount read_count(ParamReader& st, const nlohmann::json& node, const std::string& key) {
  TokenCount c;
  if (!node.at(key).is_object()) {
    c.value = st.positive_integer(key);
    if (c.value > kMaxTokens) throw st.error(key, "must be at most 1e7 tokens");
    return c;
  }
  ParamReader d = st.child(key);
  const std::string kind = d.choice("distribution", {"uniform", "zipf", "geometric"}, "uniform");
  c.kind = kind == "zipf"        ? TokenCount::Kind::zipf
           : kind == "geometric" ? TokenCount::Kind::geometric
                                 : TokenCount::Kind::uniform;
  c.min = c.kind == TokenCount::Kind::geometric ? d.positive_integer("min", 1) : d.positive_integer("min");
  c.max = d.positive_integer("max");
  if (c.max < c.min) throw d.error("max", "must be at least min");
  if (c.max > kMaxTokens) throw d.error("max", "must be at most 1e7 tokens");
  if (c.kind == TokenCount::Kind::geometric) {
    c.mean = d.positive("mean");
    if (c.mean < static_cast<double>(c.min) || c.mean > static_cast<double>(c.max))
      throw d.error("mean", "must be in [min, max]");
  }
  if (c.kind == TokenCount::Kind::zipf) {
    c.theta = d.positive("theta", 1);
    if (c.theta > 100) throw d.error("theta", "must be at most 100");
  }
  d.finish();
  return c;
}

std::int64_t trace_count(const std::map<std::string, std::string>& row, const std::string& file,
                         std::size_t i, const std::string& a, const std::string& b) {
  const auto it = row.count(a) ? row.find(a) : row.find(b);
  if (it == row.end())
    throw InputError(file + ": data row " + std::to_string(i + 1) + ": no " + a + " field");
  const std::string& text = it->second;
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < 1 || v > kMaxTokens)
    throw InputError(file + ": data row " + std::to_string(i + 1) + ": " + it->first +
                     " must be a whole number of tokens in [1, 1e7], not '" + printable(text) + "'");
  return v;
}

}  // namespace

bool is_llm_stream(ParamReader& stream) {
  return stream.has("prompt_tokens") || stream.has("output_tokens") || stream.has("tokens_trace");
}

TokenLengths read_token_lengths(ParamReader& st, const nlohmann::json& node, const std::string& dir) {
  TokenLengths t;
  if (st.has("tokens_trace")) {
    if (st.has("prompt_tokens") || st.has("output_tokens"))
      throw st.error("tokens_trace", "give either tokens_trace or prompt_tokens and output_tokens");
    t.trace_file = st.string("tokens_trace");
    if (!dir.empty() && !std::filesystem::path(t.trace_file).is_absolute())
      t.trace_file = (std::filesystem::path(dir) / t.trace_file).string();
    try {
      const auto rows = read_csv_table(t.trace_file);
      if (rows.empty()) throw InputError(t.trace_file + ": holds no requests");
      const std::pair<std::string, std::string> columns[] = {
          {"prompt_tokens", "num_prefill_tokens"}, {"output_tokens", "num_decode_tokens"}};
      for (const auto& [ours, vidur] : columns)
        if (!rows.front().count(ours) && !rows.front().count(vidur))
          throw InputError(t.trace_file + ": no column " + ours + " (or " + vidur + ")");
      for (std::size_t i = 0; i < rows.size(); ++i)
        t.trace.emplace_back(
            trace_count(rows[i], t.trace_file, i, "prompt_tokens", "num_prefill_tokens"),
            trace_count(rows[i], t.trace_file, i, "output_tokens", "num_decode_tokens"));
    } catch (const InputError& e) {
      throw st.error("tokens_trace", e.what());
    }
    return t;
  }
  if (!st.has("prompt_tokens") || !st.has("output_tokens"))
    throw st.error("", "an LLM stream gives prompt_tokens and output_tokens, or tokens_trace");
  t.prompt = read_count(st, node, "prompt_tokens");
  t.output = read_count(st, node, "output_tokens");
  return t;
}

std::string to_string(Dispatch d) {
  switch (d) {
    case Dispatch::least_loaded: return "least_loaded";
    case Dispatch::round_robin: return "round_robin";
    case Dispatch::random: return "random";
  }
  return "?";
}

LlmSettings read_llm_settings(ParamReader r) {
  LlmSettings s;
  if (r.has("kv_capacity_tokens") && r.has("kv_capacity_bytes"))
    throw r.error("kv_capacity_bytes", "give kv_capacity_tokens or kv_capacity_bytes, not both");
  if (r.has("kv_capacity_tokens")) {
    s.kv_capacity_tokens = r.positive_integer("kv_capacity_tokens");
    if (*s.kv_capacity_tokens > (std::int64_t{1} << 40))
      throw r.error("kv_capacity_tokens", "must be at most 2^40 tokens");
  }
  if (r.has("kv_capacity_bytes")) {
    s.kv_capacity_bytes = static_cast<std::int64_t>(r.size_bytes("kv_capacity_bytes", "0"));
  }
  s.length_step = r.positive_integer("length_step", s.length_step);
  if (s.length_step > 4096) throw r.error("length_step", "must be at most 4096 tokens");
  const std::string d = r.choice("dispatch", {"least_loaded", "round_robin", "random"}, "least_loaded");
  s.dispatch = d == "round_robin" ? Dispatch::round_robin
               : d == "random"    ? Dispatch::random
                                  : Dispatch::least_loaded;
  if (r.has("placement")) {
    ParamReader p = r.child("placement");
    for (const auto& model : p.keys()) {
      std::vector<std::string> units = p.strings(model);
      if (units.empty()) throw p.error(model, "names no unit");
      s.placement.emplace_back(model, std::move(units));
    }
    p.finish();
  }
  r.finish();
  return s;
}

}  // namespace tessera::serving
