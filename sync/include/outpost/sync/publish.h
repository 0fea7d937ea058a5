// Publishing: `outpost publish` imports a folder (the foundation importer) and signs the served
// version of its channel, as a manifest kept in the catalog (manifest.h has the format). On a
// hub the publisher key signs, as far as the hub's trust list (trust_store.h) allows; on a site
// its node key signs the site's own channels, which the hub it joined accepts from it.
// PublishEdit makes the next version of a channel from its served one by an edit of its draft
// (the school's materials, school_materials.h) and signs it the same way, through the same code.
//
// Thread-safety: the importer's (importer.h); each call uses an Importer of its own. Edits in
// one process are made one at a time; edits and imports in several processes are kept apart
// by the catalog (an edit made from a version no longer served is made again from the new one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/importer.h"
#include "outpost/sync/node.h"

namespace outpost {

// `outpost publish`: imports `folder` (the foundation importer) and signs the served version
// of its channel with the publisher key as a manifest kept in the catalog. Publishing an
// unchanged folder makes no new version (and signs the served one if a crash left it unsigned).
struct PublishResult {
  std::string channel_id;
  int64_t version = 0;
  bool new_version = false;
  Hash manifest_hash;
};
Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const std::filesystem::path& folder,
                              const std::string& channel_id /* "" = from the folder */);
// The same with every import option (options.channel_id as above; a progress callback).
// Before importing it checks that this is a hub (kNotFound: no publisher key or root) and that
// the trust list lets the publisher key sign (kInvalidArgument: not listed, revoked, or not
// for options.channel_id). A folder whose channel the key may not sign is imported (served
// unsigned, and said so in the error) but not signed. The served version is also signed again
// when the manifest attached to it was signed by a key the trust list no longer authorizes
// (after a rotation): the same manifest, a new envelope.
Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const std::filesystem::path& folder, const ImportOptions& options);

// An edit of a channel: changes `draft`, a copy of the served version with its search text
// (Catalog::LoadVersion with_body_text), in place. It may be called again on a fresh copy when
// another change was committed meanwhile; an error stops the edit with nothing changed.
using DraftEdit = std::function<Status(VersionDraft* draft)>;

// Makes the next version of `channel_id` from its served version by applying `edit` to it,
// commits it in one catalog transaction (served at once), and signs it as `publish` would: on
// a hub (a node with a publisher key) with the publisher key, only a channel its trust list lets
// it sign and never a site's channel; elsewhere with the node key (made if missing: a box that
// has not joined a hub yet signs its own channels too, which its hub accepts once it joins),
// never a channel that came from the hub. Those checks come first: a refusal
// (kInvalidArgument) changes nothing. A channel with nothing served starts from an empty draft
// (its root topic alone), so an edit can create one. An edit that leaves the tree as it was
// makes no version (new_version false; the served one is signed if it is not yet). Nodes the
// edit adds need their search text set (DescribeStoredFile does); the others keep theirs.
Result<PublishResult> PublishEdit(const NodePaths& paths, Catalog* catalog,
                                  const std::string& channel_id, const DraftEdit& edit);

}  // namespace outpost
