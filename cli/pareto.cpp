// tessera pareto: the non-dominated entries of a results log and their hypervolume.
#include "explorer/pareto.hpp"

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "explorer/results_log.hpp"

namespace tessera::cli {

namespace {

struct ParetoArgs {
  std::string log, objectives = explorer::kDefaultObjectives, reference;
  bool as_json = false;
};

int pareto(const ParetoArgs& a, std::ostream& out) {
  const auto entries = explorer::read_log(a.log);
  const auto objectives = explorer::parse_objectives(a.objectives);
  std::optional<std::vector<double>> reference;
  if (!a.reference.empty()) reference = explorer::parse_reference_point(a.reference, objectives);
  const auto result = explorer::analyse_pareto(entries, objectives, reference, a.log);
  if (a.as_json)
    out << explorer::to_json(result, entries).dump(2) << "\n";
  else
    out << explorer::format_table(result, entries);
  return 0;
}

}  // namespace

Command add_pareto(CLI::App& app) {
  auto a = std::make_shared<ParetoArgs>();
  auto* cmd = app.add_subcommand(
      "pareto", "Print the non-dominated entries of a results log and their hypervolume");
  cmd->add_option("log", a->log, "Results log (JSON lines)")->required();
  cmd->add_option("--objectives", a->objectives,
                  "Metrics to rank by, metric:min or metric:max, comma-separated")
      ->capture_default_str();
  cmd->add_option("--reference", a->reference,
                  "Hypervolume reference point, one value per objective, comma-separated "
                  "(default: the worst ok value of each objective moved 10% further)");
  cmd->add_flag("--json", a->as_json, "Print JSON instead of a table");
  return {cmd, [a](std::ostream& out, std::ostream&) { return pareto(*a, out); }};
}

}  // namespace tessera::cli
