// `bundle`: carrying versions on a USB stick where there is no network. `export` writes what a
// peer lacks to a drive (continuing on another drive when one fills), `import` takes a bundle's
// volumes in, `drives` lists the mounted removable drives, `unfinished` lists (and forgets)
// exports a full or pulled drive left unfinished.
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers `bundle` with export, import, drives and unfinished.
void AddBundleCommands(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
