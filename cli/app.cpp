// The command table and the one place that turns errors into messages and exit codes.
#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/version.hpp"
#include "sim/systemc/tile_sim.hpp"

namespace tessera::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  sim::systemc::register_fidelity();  // the SystemC fidelity is linked in this program
  CLI::App app{"Tessera: simulator and design-space explorer for DNN and transformer accelerators",
               "tessera"};
  app.set_version_flag("--version", fmt::format("tessera {} ({})", kVersion, kGitRevision));
  app.require_subcommand(1);

  // The command table, in help order.
  std::vector<Command> commands;
  for (auto* add : {add_simulate, add_serve, add_inspect, add_convert, add_list, add_sweep, add_explore,
                    add_codesign,
                    add_check, add_pareto, add_merge, add_energy, add_compare})
    commands.push_back(add(app));

  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  try {
    for (const auto& c : commands)
      if (c.subcommand->parsed()) return c.run(out, err);
  } catch (const InputError& e) {
    err << "tessera: error: " << e.what() << "\n";
    return kExitInputError;
  } catch (const UnsupportedError& e) {
    err << "tessera: unsupported: " << e.what() << "\n";
    return kExitInputError;
  } catch (const std::exception& e) {
    err << "tessera: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitOk;
}

}  // namespace tessera::cli
