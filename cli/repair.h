// `outpost repair`: rebuilds a lost or damaged catalog from the signed manifests and the blobs
// the box holds (outpost/sync/repair.h), imports again the channels given a source folder, and
// lists what only the hub (or the next stick) can bring back. `outpost migrate` brings every
// database to the current schema (a package upgrade runs it).
#pragma once

#include "common.h"

namespace outpost::cli {

void AddRepairCommand(CLI::App& app, CommandTable& table);
// `outpost migrate`: the data folder's databases brought to this version's schema.
void AddMigrateCommand(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
