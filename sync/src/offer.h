// Private to sync/: what one node offers another of its channels, and the checks before the
// other takes a version. The same in a session (hub -> site, and a site's own channels up to
// its hub; docs/sync-protocol.md, "Offer") and in a USB bundle (docs/bundle.md): nothing here
// touches a link.
//
// Thread-safety: none of its own; the catalog's and the sync database's rules apply.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/sync_db.h"
#include "protocol.h"

namespace outpost::sync {

// What the holder offers of a channel to a peer that serves `peer_version` of it (0: none): the
// served version's signed manifest (zstd, or a zstd patch against the peer's version's
// manifest when this side still has it) and every file the peer's version lacks, with its
// chunks and the file at the same path in the peer's version.
Result<OfferedVersion> OfferVersion(Catalog* catalog, const ChannelInfo& info, uint64_t peer_version);

// Who signed what this node serves decides what it offers: a hub or a relay offers versions a
// publisher of its trust list signed (OfferedBy::kPublishers); a site sends up the channels it
// signed itself with its node key (OfferedBy::kSelf).
struct OfferedBy {
  const TrustList* publishers = nullptr;  // set: versions whose signer it authorizes
  const PublicKey* self = nullptr;        // set: versions this key signed
};
// OfferVersion for every served, signed channel that `by` selects and that is newer than the
// version `peer_serves` says the peer has (absent: none). With `whatever_the_peer_serves`,
// every such channel: for a peer that is about to take a newer trust list, which may withdraw
// the version it says it serves (version_signing.h), so that it takes this one in the same
// session whatever its number (one it still serves costs it a manifest patch, no file).
Result<std::vector<OfferedVersion>> OfferChannels(Catalog* catalog, const OfferedBy& by,
                                                  const std::map<std::string, uint64_t>& peer_serves,
                                                  bool whatever_the_peer_serves = false);

// The signed manifest of `version`, unpacked: against this side's own copy of the base version's
// manifest for a patch.
Result<std::string> UnpackEnvelope(Catalog* catalog, const OfferedVersion& version);

// A site taking the offer of its hub, of a relay or of a bundle: unpacks every offered
// envelope (packing kRaw) while the base versions are still here, stores the offer's trust list
// if it has one (StoreTrustList against the pinned `root`; a refusal goes to summary->refused),
// then withdraws what the held list no longer authorizes (WithdrawUntrustedVersions, `self` the
// site's node key; each goes to summary->withdrawn). Any courier may carry a trust list: only
// one the root signed, newer than the held one, is stored. Returns the list held then (empty
// if there is none).
TrustList TakeTrustList(const NodePaths& paths, Catalog* catalog, const PublicKey& root,
                        const PublicKey& self, Offer* offer, SyncSummary* summary);

// A version that passed its checks, to fetch and serve.
struct AcceptedVersion {
  Manifest manifest;
  std::string envelope;
};

// The checks before fetching a version. A hub taking a site's own channel: signed by the site's
// node key, a channel id the site owns here or that is free (then claimed for it), newer than the
// one served. A node taking a published version: signed by a key `trust` authorizes for the
// channel, newer than the one served. The error says why not; kAlreadyExists for a published
// version this node serves already (re-offered with a new trust list: nothing to take).
Result<AcceptedVersion> AcceptSiteVersion(Catalog* catalog, SyncDb* db, const PublicKey& site,
                                          const OfferedVersion& version);
Result<AcceptedVersion> AcceptPublishedVersion(Catalog* catalog, const TrustList& trust,
                                               const OfferedVersion& version);

}  // namespace outpost::sync
