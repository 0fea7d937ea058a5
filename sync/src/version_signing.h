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
#include <vector>

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

// A version withdrawn because the trust list no longer lets its signer sign it.
struct Withdrawal {
  std::string channel_id;
  int64_t version = 0;
  PublicKey signer;
  int64_t now_served = 0;  // the channel's version served instead; 0: none, the channel is hidden
  std::string Describe() const;  // one line for people, saying what learners see now
};

// What a node does with each new trust list, before it takes any version under it: every
// version of every channel whose manifest is signed by a key `trust` does not authorize for
// the channel (revoked, no longer listed, or listed for other channels only) is removed from
// the catalog (Catalog::WithdrawVersions). If the served version is one of them, the channel
// serves instead its newest version left whose signer `trust` authorizes, or nothing. Versions
// without a manifest and those `self` signed (a site's own channels) are left alone. The
// signatures themselves were verified when the versions were taken; what a new list changes is
// who may sign. Each withdrawal is also logged (spdlog, warning).
Result<std::vector<Withdrawal>> WithdrawUntrustedVersions(Catalog* catalog, const TrustList& trust,
                                                          const PublicKey& self);

}  // namespace outpost
