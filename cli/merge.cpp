// tessera merge: results logs (shards of one sweep) into one, by index.
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/files.hpp"
#include "explorer/pareto.hpp"
#include "explorer/results_log.hpp"

namespace tessera::cli {

namespace {

struct MergeArgs {
  std::vector<std::string> logs;
  std::string out_file;
};

int merge(const MergeArgs& a, std::ostream& out) {
  std::vector<explorer::Shard> shards;
  std::size_t read = 0;
  for (const auto& f : a.logs) {
    shards.push_back({f, explorer::read_log(f)});
    read += shards.back().entries.size();
  }
  const auto merged = explorer::merge_logs(shards);
  std::string text;
  std::size_t failed = 0;
  for (const auto& e : merged) {
    text += explorer::to_line(e) + "\n";
    failed += e.ok ? 0 : 1;
  }
  write_file(a.out_file, text);
  out << fmt::format(
      "{} entries ({} ok, {} failed) from {} logs ({} entries read, {} duplicates kept once) "
      "written to {}\n",
      merged.size(), merged.size() - failed, failed, a.logs.size(), read, read - merged.size(),
      a.out_file);
  return 0;
}

}  // namespace

Command add_merge(CLI::App& app) {
  auto a = std::make_shared<MergeArgs>();
  auto* cmd =
      app.add_subcommand("merge", "Merge results logs (shards of one sweep) into one, by index");
  cmd->add_option("logs", a->logs, "Results logs (JSON lines)")->required();
  cmd->add_option("--out", a->out_file, "Write the merged log here")->required();
  return {cmd, [a](std::ostream& out, std::ostream&) { return merge(*a, out); }};
}

}  // namespace tessera::cli
