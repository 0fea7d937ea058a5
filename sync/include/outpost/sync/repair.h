// Repair: rebuilding a lost or damaged catalog from what the box holds (docs/storage.md,
// "Repairing the catalog"; the command is `outpost repair`, docs/cli.md).
//
// Every version that came with a signed manifest (received by sync or a stick, or signed by a
// hub's `publish`) has a copy of its envelope in DATA/manifests/CHANNEL/VERSION.opsm
// (Catalog::CommitVersionAs); every file is a blob named by its hash. Repair:
//
//   1. takes the store's exclusive lock (kBusy if an import or download runs), and re-hashes
//      every blob, moving damaged ones to quarantine (outpost::Verify);
//   2. builds a new catalog in DATA/catalog.db.repair: for each channel, the newest version
//      whose envelope verifies (the held trust list, this node's own key for a site's own
//      channel, the owning site's key at a hub) and whose files are all in the store is served
//      again, through the same code a sync serves a version with (ServeVersions); the files of
//      newer verified versions that are not all here are what "needs the hub";
//   3. imports again each channel given a source folder that step 2 did not rebuild (a channel
//      imported from a folder has no signed manifest);
//   4. records the chunk index of every blob the new catalog uses (sync and export need it);
//   5. closes the new catalog, fsyncs it, and switches: the old catalog.db (with its -wal and
//      -shm) is kept aside as catalog.db.damaged-UNIXTIME, then the new file is renamed over
//      catalog.db and DATA is fsynced. Until that rename nothing of the old catalog changes;
//      a crash before it leaves catalog.db.repair, which the next repair replaces.
//
// Thread-safety: run it alone on a data folder, with the server stopped (it has the catalog's
// file replaced under it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/sync/node.h"

namespace outpost {

struct RepairOptions {
  // Channel id -> folder to import it again from (a channel with no signed manifest).
  std::map<std::string, std::filesystem::path> sources;
};

struct RepairedChannel {
  std::string channel_id;
  int64_t version = 0;
  std::string from;  // "manifest" or the source folder
};

// A channel whose newest signed version cannot be served whole from what the box holds.
struct NeedsHub {
  std::string channel_id;
  int64_t version = 0;        // the newest version that verified
  int64_t served_meanwhile = 0;  // an older whole version served instead; 0: none
  std::vector<Hash> blobs;    // its files the store lacks (missing or damaged)
};

struct RepairReport {
  std::filesystem::path kept_aside;  // the old catalog's new name; empty if there was none
  std::vector<RepairedChannel> channels;
  std::vector<NeedsHub> needs_hub;
  std::vector<Hash> damaged;           // blobs found damaged and moved to quarantine
  std::vector<std::string> problems;   // envelopes damaged or forged, sources that failed
  // Envelopes whose signature holds but whose key this node no longer trusts for the channel
  // (versions withdrawn by a revocation): not served, and not a problem.
  std::vector<std::string> skipped;
  bool ok() const { return needs_hub.empty() && problems.empty(); }
};

// Rebuilds DATA's catalog as above. Fails (changing nothing but quarantining damaged blobs)
// if the store cannot be locked or read, or the new catalog cannot be built or switched in.
Result<RepairReport> RepairCatalog(const NodePaths& paths, BlobStore* store,
                                   const RepairOptions& options);

}  // namespace outpost
