// The `tessera` commands: each adds its subcommand and options to the application and returns
// what runs it once the arguments are parsed. One file per command (cli/<command>.cpp); the
// command table in app.cpp lists them in help order.
#pragma once

#include <functional>
#include <iosfwd>

namespace CLI {
class App;
}

namespace tessera::cli {

struct Command {
  CLI::App* subcommand = nullptr;
  // Runs the parsed command; may throw InputError (app.cpp turns it into one line and exit 1).
  std::function<int(std::ostream& out, std::ostream& err)> run;
};

Command add_simulate(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_convert(CLI::App& app);
Command add_list(CLI::App& app);
Command add_sweep(CLI::App& app);
Command add_explore(CLI::App& app);
Command add_codesign(CLI::App& app);
Command add_check(CLI::App& app);
Command add_pareto(CLI::App& app);
Command add_merge(CLI::App& app);
Command add_energy(CLI::App& app);
Command add_compare(CLI::App& app);
Command add_serve(CLI::App& app);

}  // namespace tessera::cli
