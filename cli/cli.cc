// RunCli: builds the `outpost` command line from its command groups, parses it, and runs the
// one command given. Each group (common.h lists them) registers its commands and what they do;
// a new command goes into its group's file, a new group into the list below.
#include "cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "box.h"
#include "bundle.h"
#include "common.h"
#include "hub.h"
#include "library.h"
#include "outpost/base/hash.h"
#include "outpost/base/version.h"
#include "peer.h"
#include "repair.h"
#include "status.h"
#include "serve.h"
#include "sync.h"
#include "users.h"

namespace outpost {

int RunCli(int argc, char** argv) {
  if (!InitCrypto()) {
    std::fprintf(stderr, "outpost: libsodium could not start (no entropy source?)\n");
    return kExitFailure;
  }
  auto logger = spdlog::stderr_color_mt("outpost");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");

  CLI::App app{"Outpost: an offline-first learning content server.\n"
               "Docs: docs/ in the source tree (start with docs/README.md)."};
  app.set_version_flag("--version", "outpost " + std::string(kSoftwareVersion));
  app.require_subcommand(1);
  // In the order --help lists them.
  cli::CommandTable table;
  cli::AddServeCommand(app, table);
  cli::AddLibraryCommands(app, table);  // import, verify, gc, channels, search
  cli::AddRepairCommand(app, table);
  cli::AddMigrateCommand(app, table);
  cli::AddStatusCommand(app, table);
  cli::AddHubCommands(app, table);      // publish, hub ...
  cli::AddSyncCommand(app, table);
  cli::AddOutcomesCommand(app, table);
  cli::AddBundleCommands(app, table);
  cli::AddPeerCommands(app, table);
  cli::AddUsersCommands(app, table);
  cli::AddJoinCommand(app, table);
  cli::AddBoxCommands(app, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  spdlog::set_level(table.verbose() ? spdlog::level::debug : spdlog::level::info);
  return table.RunParsed();
}

}  // namespace outpost
