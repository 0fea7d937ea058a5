// The site's upward part of a sync (docs/sync-protocol.md, "Upload"): after its own fetch, a
// site offers its hub the channels it publishes itself, answers the hub's requests for their
// files, and reads the hub's receipt.
//
// Thread-safety: the session's thread.
#pragma once

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/session.h"
#include "outpost/sync/site_sync.h"
#include "protocol.h"
#include "session/secure_channel.h"

namespace outpost::sync {

// Offers the channels this site signed itself (`self`, its node key, not the hub's
// publishers) that are newer than what `offer.yours` says the hub serves of them, answers the
// hub's requests within the options' byte budget, and adds the receipt to summary->uploaded.
// `*stopped` is the conversation's state, as Fetch's (fetch.h); errors of this side are the
// result.
Status Upload(Catalog* catalog, BlobStore* store, SecureChannel* channel, const PublicKey& self,
              const Offer& offer, const SyncOptions& options, SyncSummary* summary,
              Status* stopped);

}  // namespace outpost::sync
