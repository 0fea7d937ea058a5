// `peer`: relaying versions between sites (a neighbour, a laptop that travels). `peer enrol`
// runs on the relay (any node that runs serve --sync-listen) and prints a one-time code;
// `peer join` runs on the site that will sync from it (then `sync --peer`).
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers `peer` with `enrol` and `join`.
void AddPeerCommands(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
