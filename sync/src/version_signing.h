// Private to sync/: signing the versions a node serves, which publishing (publish.cc) and a
// rotation of the publisher key (publisher_keys.cc) share. A signature is a manifest of the
// version (manifest.h) in an envelope signed by a publisher key, attached to the version in the
// catalog; signing a version again makes the same manifest (and hash) in a new envelope.
//
// Thread-safety: as the catalog's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"

namespace outpost {

// The served version's manifest, signed by `publisher`, attached in the catalog.
Result<Hash> SignServedVersion(Catalog* catalog, const std::string& channel, int64_t version,
                               const Identity& publisher);

// The key that signed the version's attached manifest; nullopt if it has none, or one that
// does not parse.
std::optional<PublicKey> SignerOf(Catalog* catalog, const std::string& channel, int64_t version);

// True if the version's attached manifest is signed by a key `trust` authorizes for it.
bool SignedByATrustedKey(Catalog* catalog, const std::string& channel, int64_t version,
                         const TrustList& trust);

// After a rotation: signs again with `publisher` the served version of every channel whose
// manifest is signed by a key `trust` lists but no longer authorizes for it, if `trust` lets
// `publisher` sign that channel. Unsigned versions, and those signed by a key `trust` does not
// list at all (a site's own channel, signed by the site), are left alone. How many were signed.
Result<int> ResignServedVersions(Catalog* catalog, const TrustList& trust,
                                 const Identity& publisher);

}  // namespace outpost
