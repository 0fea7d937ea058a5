// The library commands, for anyone who keeps a box: `import` a folder as a channel's next
// version, `verify` the stored files, `gc` old versions and unused files, list the `channels`,
// `search` what is served. They open the data folder, call the content library and print.
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers import, verify, gc, channels and search, in that order (the order of --help).
void AddLibraryCommands(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
