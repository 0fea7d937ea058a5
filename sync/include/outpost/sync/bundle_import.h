// Reading a USB bundle from a drive (docs/bundle.md, "Import: what comes in"; bundle.h has the
// overview). Import verifies exactly as a sync does (the trust list, the hashes), stages what
// arrives, and serves a version only when it is complete; importing again changes nothing.
//
// Thread-safety: one import or sync at a time per data folder (the staging lock); an import
// builds files on two threads of its own while it reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

// Who wrote the volumes read: on a hub each site (and whether its bundle enrolled it now), on
// a site its hub.
struct BundleSender {
  std::string name;         // the site's name; "hub" on a site
  std::string fingerprint;  // the first bytes of its node key, hex (PublicKey::Fingerprint)
  bool enrolled = false;    // a hub enrolled this site by this bundle (its code is spent)
};

struct BundleImportResult {
  std::vector<BundleSender> senders;  // in the order their first volume was read
  std::vector<std::string> volumes;  // read to their verified end
  std::vector<std::string> damaged;  // what stopped a volume early, one line each
  std::vector<std::string> skipped;  // volumes for other nodes or from unknown senders, and why
  SyncSummary summary;  // updated, refused, complete, files and chunks, as a sync's
  // Stopped by `cancelled` between records: the volume being read is not in `volumes`; what
  // was staged stays staged (a later import of the stick takes only the rest), and the versions
  // already whole were served.
  bool cancelled = false;
};

// Imports a volume file, or every *.opb file of a folder, in any order. A site takes volumes
// signed by its pinned hub; a hub, volumes signed by its enrolled, unrevoked sites.
// `progress` (if set) is called after each record read: bytes of volumes read so far, and their
// total size. `cancelled` (if set) is asked after each record read: true stops the import there
// (BundleImportResult::cancelled).
Result<BundleImportResult> ImportBundle(
    const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
    const std::filesystem::path& path,
    const std::function<void(uint64_t read, uint64_t total)>& progress = {},
    const std::function<bool()>& cancelled = {});

}  // namespace outpost
