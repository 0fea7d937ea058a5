// What a hub's coordinator runs: `publish` (import a folder and sign it as its channel's next
// version) and the `hub` group: `init` (make its keys), `enrol`, `sites` and `revoke` (the sites
// it serves), `serve` (HTTP and sites' syncs), `publisher list|rotate|revoke` (the trust list),
// `review list|adopt|decline` (what sites sent up; hub_review.cc).
// A new hub command is one Add*Command function here, called from AddHubCommands.
#pragma once

#include "common.h"

namespace outpost::cli {

// Registers `publish` and then `hub` with its subcommands (the order of --help).
void AddHubCommands(CLI::App& app, CommandTable& table);
// Registers `hub review` and its subcommands under `hub`.
void AddHubReviewCommands(CLI::App* hub, CommandTable& table);

}  // namespace outpost::cli
