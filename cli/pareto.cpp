// tessera pareto: the non-dominated entries of a results log and their hypervolume, ranked by the
// objectives in the log's header unless --objectives names others, on the space's fixed
// hypervolume scale when the header records one.
#include "explorer/pareto.hpp"

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "explorer/results_log.hpp"

namespace tessera::cli {

namespace {

struct ParetoArgs {
  std::string log, objectives, reference;
  bool as_json = false;
};

int pareto(const ParetoArgs& a, std::ostream& out, std::ostream& err) {
  const auto log = explorer::read_results_log(a.log);
  std::string spec = a.objectives;
  if (spec.empty() && log.header) {
    for (const auto& o : log.header->objectives) spec += (spec.empty() ? "" : ",") + o;
  } else if (spec.empty()) {
    spec = explorer::kDefaultObjectives;
    err << "tessera: note: " << a.log << " has no header line (version 1): ranking by " << spec
        << "\n";
  }
  const auto objectives = explorer::parse_objectives(spec);
  std::size_t ok = 0;
  for (const auto& e : log.entries) ok += e.ok;
  if (ok == 0) {
    err << "tessera: error: " << a.log << ": no ok entry to rank (" << log.entries.size()
        << " failed)\n";
    return kExitNoResults;
  }
  std::optional<std::vector<double>> reference;
  if (!a.reference.empty()) reference = explorer::parse_reference_point(a.reference, objectives);
  // The space's fixed normalisation, when its log records one and it fits these objectives.
  std::optional<explorer::HypervolumeScale> scale;
  if (log.header && !reference) {
    scale = explorer::header_scale(*log.header, objectives);
    if (!scale && !log.header->hv_lo.empty())
      err << "tessera: note: the space's hypervolume normalisation is for its objectives, not "
          << spec << ": using the default reference point\n";
  }
  const auto result = explorer::analyse_pareto(log.entries, objectives, reference, a.log, scale);
  if (a.as_json)
    out << explorer::to_json(result, log.entries).dump(2) << "\n";
  else
    out << explorer::format_table(result, log.entries);
  return kExitOk;
}

}  // namespace

Command add_pareto(CLI::App& app) {
  auto a = std::make_shared<ParetoArgs>();
  auto* cmd = app.add_subcommand(
      "pareto", "Print the non-dominated entries of a results log and their hypervolume");
  cmd->add_option("log", a->log, "Results log (JSON lines)")->required();
  cmd->add_option("--objectives", a->objectives,
                  "Metrics to rank by, metric:min or metric:max, comma-separated (default: the "
                  "log header's, i.e. the space's objectives)");
  cmd->add_option("--reference", a->reference,
                  "Hypervolume reference point, one value per objective, comma-separated "
                  "(default: the space's fixed normalisation when its log records one, else "
                  "the worst ok value of each objective moved 10% further)");
  cmd->add_flag("--json", a->as_json, "Print JSON instead of a table");
  return {cmd, [a](std::ostream& out, std::ostream& err) { return pareto(*a, out, err); }};
}

}  // namespace tessera::cli
