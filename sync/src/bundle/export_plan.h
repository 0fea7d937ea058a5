// Private to sync/: what an export writes (docs/bundle.md, "Export: what goes in"). For each
// recipient, the offer a sync would make it; then what the recipients lack, each piece once:
// zstd patches of small edited files whose previous version the recipient holds, and the chunks
// of every other new file, small files first. A chunk a recipient holds (in a version it is
// known to serve) is not sent to it, so a moved or re-cut file costs only its new chunks, as in
// a sync. A continuation plans afresh from the catalog and leaves out what earlier drives carry.
//
// Thread-safety: plain functions on the caller's catalog and sync database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bundle/bundle_records.h"
#include "bundle/export_state.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"
#include "protocol.h"

namespace outpost::sync {

struct Recipient {
  PeerInfo peer;
  Offer offer;
  // A site not enrolled yet: peer.key is the key derived from the pending code of its enrolment
  // file (EnrolSealIdentity), peer.name the code's site name.
  bool sealed_to_file = false;
  // What the offer is packed against, per channel: the version the recipient is known to serve,
  // or a later one sent by an earlier stick and not yet confirmed (then also in `bases`).
  std::map<std::string, uint64_t> against;
  std::map<std::string, SentBase> bases;
  std::map<std::string, uint64_t> offered;  // channel -> version offered
  std::vector<int64_t> outcomes;  // a hub's review decisions carried to it (review item ids)
};

struct PlannedPatch {
  Hash blob, previous;
  uint64_t size = 0;
};

struct ExportPlan {
  std::vector<Recipient> recipients;
  std::vector<std::string> channels;  // "id version"
  // Enrol, Receipts, Offers: the first records on every drive, so that each imports on its own.
  std::vector<std::pair<uint8_t, std::string>> lead;
  std::vector<PlannedPatch> patches;
  std::vector<ChunkRef> chunks;
};

// Whom the bundle is for. A site writes for its hub only (`wanted` empty, "hub" or the hub's
// key); a hub for the sites `wanted` names (names, keys, or "all": every enrolled, unrevoked
// site). A name no enrolled site has, whose code was written to an enrolment file and is still
// pending, gets a recipient sealed to that file (Recipient::sealed_to_file), one per such code;
// "all" includes those too. kInvalidArgument for a site naming another, a hub naming none or
// having none; kNotFound, saying what to do, for a name no bundle can be written for.
Result<std::vector<Recipient>> ChooseRecipients(SyncDb* db, const std::vector<std::string>& wanted, bool hub);

// Each recipient's offer, from what this node serves and what the recipient is known to serve
// (`full`: nothing), and the channel versions offered to someone. A hub offers what its root's
// publishers signed, with its trust list; a site, what it signed itself.
Status PlanOffers(const NodePaths& paths, Catalog* catalog, SyncDb* db, const Identity& self, bool hub,
                  bool full, ExportPlan* plan);

// The patches and chunks the recipients lack, each once, less what `earlier` (if set) says
// earlier drives carry. After PlanOffers.
void PlanPieces(BlobStore* store, Catalog* catalog, bool full, const ExportState* earlier,
                ExportPlan* plan);

// The first records: the Enrol and Seen (a site), the Receipts, the Basis and Offer of each
// recipient. After PlanOffers.
void PlanLead(Catalog* catalog, SyncDb* db, const Identity& self, bool hub, ExportPlan* plan);

// True if some recipient's offer is packed against a version sent by an earlier stick: the
// volumes are then of format 2 (bundle_volume.h).
bool NeedsBasis(const ExportPlan& plan);

}  // namespace outpost::sync
