// A site's commands towards its hub: `join` (enrol with a code, or an enrolment file carried
// to a site that has never been online) and `sync` (bring this site up to date, and send its
// own channels up). `peer` (peer.h) does the same with a relay.
#pragma once

#include <vector>

#include "common.h"
#include "outpost/sync/session.h"
#include "outpost/sync/site_sync.h"

namespace outpost::cli {

// Registers `sync`. (`sync` and `join` are not next to each other in --help: cli.cc calls each
// where its place is.)
void AddSyncCommand(CLI::App& app, CommandTable& table);
// Registers `outcomes`: the hub's review decisions on this site's items (SyncDb::ReviewOutcomes).
void AddOutcomesCommand(CLI::App& app, CommandTable& table);
// Registers `join`.
void AddJoinCommand(CLI::App& app, CommandTable& table);

// The channels a sync or a bundle import updated, as its --json prints them ("channels_updated").
nlohmann::json UpdatedJson(const std::vector<UpdatedChannel>& updated);
// "N review decision(s) of the hub …" on stdout, if `count` is not 0 (sync, bundle import).
void PrintReviewOutcomesArrived(uint64_t count);
// "ID: version N served (was M)", one line each on stdout.
void PrintUpdated(const std::vector<UpdatedChannel>& updated);

}  // namespace outpost::cli
