// tessera check: validate an architecture config and print it resolved (defaults and units
// applied).
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arch/config.hpp"
#include "cli/command.hpp"

namespace tessera::cli {

namespace {

struct CheckArgs {
  std::string arch_file;
  std::vector<std::string> overrides;
};

}  // namespace

Command add_check(CLI::App& app) {
  auto a = std::make_shared<CheckArgs>();
  auto* cmd = app.add_subcommand("check", "Validate an architecture config without running it");
  cmd->add_option("arch", a->arch_file, "Architecture config (JSON)")->required();
  cmd->add_option("--set", a->overrides, "Override a config value: path.to.key=value (repeatable)");
  return {cmd, [a](std::ostream& out, std::ostream&) {
            const arch::ArchConfig arch = arch::load_arch(a->arch_file, a->overrides);
            out << fmt::format("{}: valid {} config '{}' (hash {})\n", a->arch_file,
                               arch.engine->engine_name(), arch.name, arch.hash);
            out << arch.resolved.dump(2) << "\n";
            return 0;
          }};
}

}  // namespace tessera::cli
