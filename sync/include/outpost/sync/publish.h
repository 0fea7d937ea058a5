// Publishing: `outpost publish` imports a folder (the foundation importer) and signs the served
// version of its channel, as a manifest kept in the catalog (manifest.h has the format). On a
// hub the publisher key signs, as far as the hub's trust list (trust_store.h) allows; on a site
// its node key signs the site's own channels, which the hub it joined accepts from it.
//
// Thread-safety: the importer's (importer.h); each call uses an Importer of its own.
#pragma once

#include <cstdint>
#include <filesystem>
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

}  // namespace outpost
