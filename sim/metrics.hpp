// The metrics of a run: one table of name, unit, direction and description, and how each value
// follows from a report's summary. Sweeps and searches log these values (explorer/sweep.cpp),
// design spaces check objectives and expressions against the names, objectives without a
// direction take the table's, the results log header carries the table for the plot scripts,
// and `tessera list` prints it. A new metric is one row here.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/report.hpp"

namespace tessera::sim {

enum class Direction { minimize, maximize };

// How a heterogeneous accelerator's value follows from its sub-accelerators' (which run their
// tasks in parallel): per_task values are logged per task only ("cycles.TASK"); max and sum
// combine the tasks' values; derived values are computed from the combined ones. serving values
// come from a serving run's report (serving/serve.hpp, serving::metric_values), not from one
// run's summary: hardware sweeps neither log nor accept them.
enum class Combine { per_task, max, sum, derived, serving };

struct Metric {
  std::string_view name;
  std::string_view unit;  // "1" for a plain fraction
  Direction direction;
  std::string_view description;
  Combine combine;
  // From the summary (per_task, max, sum) or from the other metrics' values (derived).
  double (*of_summary)(const Summary&) = nullptr;
  double (*of_values)(const std::map<std::string, double>&) = nullptr;
};

// The table, in a fixed order.
const std::vector<Metric>& metric_table();
// The row of `name`, or null.
const Metric* find_metric(std::string_view name);
// Every metric of one run.
std::map<std::string, double> metric_values(const Summary& summary);
// The accelerator's values from its tasks' (metric_values of each): max and sum rows combined,
// then the derived rows.
std::map<std::string, double> combine_metric_values(
    const std::vector<std::map<std::string, double>>& tasks);

std::string_view to_string(Direction d);  // "min" or "max"

}  // namespace tessera::sim
