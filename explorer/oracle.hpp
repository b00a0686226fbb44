// Accuracy oracles: the accuracy of a design point's network, for co-design spaces
// (docs/explorer.md, "Accuracy oracles"). Chosen by name from one registry (`tessera list`):
// nats (the NATS-Bench topology table of data/nats_bench), command (a user's own
// script: the point as JSON on stdin, a number on stdout). Any oracle takes a "noise" option
// (Gaussian, seeded by the point) for testing a search's robustness.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "common/registry.hpp"

namespace tessera::explorer {

// What an oracle is asked about one network of a point.
struct OracleQuery {
  const nlohmann::json& point;    // the design point, parameter path -> value
  const nlohmann::json& network;  // {"kind": "nasbench201", "dataset": ..., "arch": ...}, ...
  std::string dataset;            // what the accuracy is measured on
  std::string task;               // multi-task spaces: the task's name; else ""
};

class AccuracyOracle {
 public:
  virtual ~AccuracyOracle() = default;
  // Top-1 accuracy in percent. Thread-safe. Throws InputError for a point it cannot score (the
  // point fails with that reason).
  virtual double accuracy(const OracleQuery& q) const = 0;
  // Throws InputError (without location: the caller adds it) for a dataset it cannot score.
  virtual void check_dataset(const std::string& /*dataset*/) const {}
};

// Reads the oracle's options from `r` (the space's "accuracy" object, whose "oracle" key named
// it); relative paths are relative to `dir`, the space file's folder.
using OracleFactory =
    std::function<std::shared_ptr<const AccuracyOracle>(ParamReader& r, const std::string& dir)>;

Registry<OracleFactory>& accuracy_oracles();

// Reads an "accuracy" object: {"oracle": NAME, ...the oracle's options...,
// "noise": {"sd": PERCENT, "seed": N}}. Errors name the file and JSON path.
std::shared_ptr<const AccuracyOracle> read_oracle(ParamReader& r, const std::string& dir);

// The accuracy in the output of a `command` oracle: its last non-blank line, which must be a
// plain decimal number ("87.5", "100", "0.25": no exponent, no "inf", nothing else on the line
// but spaces) in [0, 100]. `truncated`: `out` is only the tail of what the command printed, so
// a last line that fills it may have lost its head and is refused. Throws InputError starting
// with `who` and saying why, quoting at most kQuotedLine characters of the line.
double parse_command_accuracy(std::string_view out, bool truncated, const std::string& who);
inline constexpr std::size_t kQuotedLine = 80;

// The NATS-Bench datasets: cifar10, cifar100, ImageNet16-120.
const std::vector<std::string>& nats_datasets();

// Test accuracy (percent, 200 epochs) of a NAS-Bench-201 cell in a NATS-Bench topology CSV,
// parsed once per file and kept for the process. Errors name the CSV line.
double nats_accuracy(const std::string& csv, const std::string& arch, const std::string& dataset);

}  // namespace tessera::explorer
