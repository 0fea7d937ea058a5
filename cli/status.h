// `outpost status [--json]`: what the box holds, how far behind its hub it is, the disk and the
// memory: the facts of the console's /admin/ and /admin/health pages (docs/console.md), from
// the same function (ReadBoxStatus, outpost/sync/box_status.h). Read-only; safe while
// `outpost serve` runs. The server's own uptime and memory are not known here: GET
// /api/v1/admin/status has them.
#pragma once

#include "common.h"

namespace outpost::cli {

void AddStatusCommand(CLI::App& app, CommandTable& table);

}  // namespace outpost::cli
