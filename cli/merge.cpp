// tessera merge: results logs (shards of one sweep) into one, by index, checked for
// completeness against the logs' header.
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/files.hpp"
#include "common/error.hpp"
#include "explorer/pareto.hpp"
#include "explorer/results_log.hpp"

namespace tessera::cli {

namespace {

struct MergeArgs {
  std::vector<std::string> logs;
  std::string out_file;
  bool allow_incomplete = false;
};

int merge(const MergeArgs& a, std::ostream& out, std::ostream& err) {
  std::vector<NamedPath> inputs;
  for (const auto& f : a.logs) inputs.push_back({"log", f});
  check_run_paths(inputs, {{"--out", a.out_file}});
  std::vector<explorer::Shard> shards;
  std::size_t read = 0;
  for (const auto& f : a.logs) {
    auto log = explorer::read_results_log(f);
    read += log.entries.size();
    shards.push_back({f, std::move(log.entries), std::move(log.header)});
  }
  const auto header = explorer::merged_header(shards);
  const auto merged = explorer::merge_logs(shards);
  std::string incomplete;
  if (!header) {
    err << "tessera: note: these logs have no header line (version 1): completeness is not "
           "checked\n";
  } else if (header->command == "sweep") {
    const auto missing = explorer::missing_indices(*header, merged);
    if (missing.count > 0) {
      std::string list;
      for (auto i : missing.first) list += (list.empty() ? "" : ", ") + std::to_string(i);
      if (missing.count > missing.first.size()) list += ", ...";
      std::set<std::uint64_t> counts;
      std::set<std::uint64_t> given;
      for (const auto& s : shards) {
        counts.insert(s.header->shards);
        given.insert(s.header->shard);
      }
      std::string absent;
      if (counts.size() == 1)
        for (std::uint64_t i = 0; i < *counts.begin(); ++i)
          if (!given.count(i))
            absent += (absent.empty() ? "" : ", ") + fmt::format("{}/{}", i, *counts.begin());
      incomplete = fmt::format("{} of the sweep's {} points are missing (indices {}){}",
                               missing.count, header->size, list,
                               absent.empty() ? "" : "; no log of shard " + absent + " was given");
      if (!a.allow_incomplete)
        throw InputError("merge: " + incomplete +
                         "; nothing written (--allow-incomplete writes the partial log, which "
                         "sweep --resume can then complete)");
    }
  }
  std::string text = header ? explorer::to_line(*header) + "\n" : std::string();
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
  if (!incomplete.empty()) err << "tessera: warning: " << incomplete << "\n";
  return kExitOk;
}

}  // namespace

Command add_merge(CLI::App& app) {
  auto a = std::make_shared<MergeArgs>();
  auto* cmd =
      app.add_subcommand("merge", "Merge results logs (shards of one sweep) into one, by index");
  cmd->add_option("logs", a->logs, "Results logs (JSON lines)")->required();
  cmd->add_option("--out", a->out_file, "Write the merged log here")
      ->required()
      ->check(output_path());
  cmd->add_flag("--allow-incomplete", a->allow_incomplete,
                "Write the merged log even when points are missing (they are listed)");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return merge(*a, out, err); }};
}

}  // namespace tessera::cli
