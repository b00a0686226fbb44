// Pareto fronts, hypervolumes and merging of results logs (docs/explorer.md, "Pareto front and
// merging"). Pure functions over log entries: the CLI reads and writes the files.
//
// Ranking and hypervolume come from pagmo (fast_non_dominated_sorting, hypervolume); objectives
// to maximise are negated so that pagmo always minimises. Failed entries are skipped and counted.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "explorer/results_log.hpp"

namespace tessera::explorer {

struct Objective {
  std::string metric;
  bool minimize = true;
};

inline constexpr const char* kDefaultObjectives = "latency_s:min,energy_pj:min";

// Parses "latency_s:min,energy_pj:min,utilization:max". Without a direction a metric of the
// metric table (sim/metrics.hpp) takes the table's (utilization: max), any other min. Syntax errors,
// an unknown direction and a repeated metric are InputErrors. Whether the metrics exist is checked
// against a log by check_objectives().
std::vector<Objective> parse_objectives(const std::string& spec);

// "latency_s:min"
std::string to_string(const Objective& o);

// Every ok entry must have every objective's metric; the error names `source` (a file, for the
// message), the entry's index and the metric, and lists the metrics found in the log.
void check_objectives(const std::vector<LogEntry>& entries,
                      const std::vector<Objective>& objectives,
                      const std::string& source = "results log");

// Positions in `entries` of the non-dominated ok entries (pagmo's first non-dominated front),
// ordered by the first objective (best first), then by position. Entries with identical objective
// values do not dominate each other, so duplicates are all on the front. Requires
// check_objectives() to pass (throws InputError otherwise).
std::vector<std::size_t> pareto_front(const std::vector<LogEntry>& entries,
                                      const std::vector<Objective>& objectives);

// The default reference point, in the metrics' own units: per objective the worst value among the
// ok entries moved a tenth of its magnitude further in the bad direction (worst * 1.1 for a
// minimised positive metric, worst * 0.9 for a maximised positive one). When the worst value is 0,
// a tenth of the value range is used instead, and 1 when all values are equal to 0.
std::vector<double> default_reference_point(const std::vector<LogEntry>& entries,
                                            const std::vector<Objective>& objectives);

// Parses "--reference 1.0,2.0": one finite number per objective, in the metrics' own units.
std::vector<double> parse_reference_point(const std::string& spec,
                                          const std::vector<Objective>& objectives);

struct Hypervolume {
  double value = 0;
  std::size_t outside = 0;  // front entries not strictly better than the reference in every
                            // objective: they bound no volume and are left out
};

// The hypervolume (pagmo::hypervolume) dominated by the entries at `front` and bounded by
// `reference` (metrics' own units). With one objective it is the length reference - best.
Hypervolume hypervolume(const std::vector<LogEntry>& entries, const std::vector<std::size_t>& front,
                        const std::vector<Objective>& objectives,
                        const std::vector<double>& reference);

// The hypervolume of minimised objective vectors on a fixed scale, so that runs, seeds and
// algorithms compare: each objective normalised as f = (v - lo) / (ref - lo) (f < 0 counted as
// 0), the reference point 1 in every objective, so the unit box has volume 1. A point with some
// f >= 1 bounds no volume.
double normalised_hypervolume(const std::vector<std::vector<double>>& values,
                              const std::vector<double>& lo, const std::vector<double>& ref);
// Of the ok entries (maximised objectives negated, so lo and ref are in the negated values).
double normalised_hypervolume(const std::vector<LogEntry>& entries,
                              const std::vector<Objective>& objectives,
                              const std::vector<double>& lo, const std::vector<double>& ref);

// The objective values of an ok entry, negated where maximised so that smaller is better.
std::vector<double> minimised(const LogEntry& e, const std::vector<Objective>& objectives);
// Minimised vectors: `a` is no worse than `b` in every objective and better in one.
bool dominates(const std::vector<double>& a, const std::vector<double>& b);

// The non-dominated set of a stream of minimised objective vectors, kept as they come: for
// fronts of logs too large to hold (a full enumeration), where sorting all points at once is
// quadratic. Equal vectors are kept once.
class ParetoArchive {
 public:
  // True when `v` joins the front (it is dominated by no point so far).
  bool add(const std::vector<double>& v);
  const std::vector<std::vector<double>>& points() const { return points_; }

 private:
  std::vector<std::vector<double>> points_;
};

// A space's fixed hypervolume normalisation, per objective in minimisation form (maximised
// objectives negated): f = (v - lo) / (ref - lo), as normalised_hypervolume().
struct HypervolumeScale {
  std::vector<double> lo, ref;
};

// The space's normalisation for `objectives`, from a log header that records one: lo and ref
// reordered to `objectives`. nullopt when the header has none or `objectives` are not the
// header's (another set of metrics, or a direction changed).
std::optional<HypervolumeScale> header_scale(const LogHeader& header,
                                             const std::vector<Objective>& objectives);

// Where a hypervolume's reference came from.
enum class ReferenceSource {
  given,     // --reference, in the metrics' own units
  space,     // the space's fixed normalisation: the hypervolume is in the unit box
  worst,     // the default: default_reference_point(), the worst ok values moved 10% further
};
const char* to_string(ReferenceSource s);  // "given", "space", "default"

// Everything `tessera pareto` reports.
struct ParetoResult {
  std::vector<Objective> objectives;
  std::vector<std::size_t> front;  // positions in the entries, as pareto_front()
  // In the metrics' own units; with the space's normalisation, its ref.
  std::vector<double> reference_point;
  ReferenceSource reference = ReferenceSource::worst;
  std::optional<HypervolumeScale> scale;  // when reference == space
  double hypervolume = 0;
  std::size_t outside_reference = 0;
  std::size_t evaluated = 0;  // ok entries, the ones ranked
  std::size_t failed = 0;     // failed entries, skipped
};

// check_objectives + pareto_front + reference point + hypervolume. A given reference comes
// first; then the space's scale (the hypervolume normalised_hypervolume() of the front); then
// default_reference_point().
ParetoResult analyse_pareto(const std::vector<LogEntry>& entries,
                            const std::vector<Objective>& objectives,
                            const std::optional<std::vector<double>>& reference = std::nullopt,
                            const std::string& source = "results log",
                            const std::optional<HypervolumeScale>& scale = std::nullopt);

// {"objectives": ["latency_s:min", ...], "reference_point": [...], "reference": "space",
//  "normalisation": {"lo": [...], "ref": [...]} or null, "hypervolume": x,
//  "front": [entries as in the log], "evaluated": n, "failed": k, "outside_reference": m}
nlohmann::json to_json(const ParetoResult& r, const std::vector<LogEntry>& entries);

// A table for people: one row per front entry (index, point parameters, objective values), then
// the counts, the hypervolume and the reference point used.
std::string format_table(const ParetoResult& r, const std::vector<LogEntry>& entries);

// One input of merge_logs: a log's entries, its file (named in errors) and its header.
struct Shard {
  std::string file;
  std::vector<LogEntry> entries;
  std::optional<LogHeader> header;
};

// The header of the merged log: the shards' common header, as one whole run's (shard 0/1).
// InputError when the shards' headers describe different runs (naming the first difference),
// or when some logs have a header and others not. nullopt when none has one (version 1 logs).
std::optional<LogHeader> merged_header(const std::vector<Shard>& shards);

// Indices a sweep's log lacks: those in [0, header.size) of the header's shard that `entries`
// (sorted by index, as merge_logs returns them) do not hold. The first `limit` are listed.
struct Missing {
  std::uint64_t count = 0;
  std::vector<std::uint64_t> first;
};
Missing missing_indices(const LogHeader& header, const std::vector<LogEntry>& entries,
                        std::size_t limit = 20);

// Combines shards of one sweep into one log sorted by index. An index found more than once is
// kept once (the first) when its point, status, error, metrics and hashes are the same
// everywhere (wall_s may differ); otherwise it is an InputError naming both files.
std::vector<LogEntry> merge_logs(const std::vector<Shard>& shards);

}  // namespace tessera::explorer
