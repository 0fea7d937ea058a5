// The root's work: rotating and revoking publisher keys.
//
// Both sign trust list N+1 with the root key and store it; sites take it at their next sync
// (and a version signed by a revoked key is refused from then on). The root key is
// DATA/keys/root.key, or `root_key_file` when it is kept offline (a USB stick in a safe); it
// must be the root this hub was made with.
//
// Thread-safety: as trust_store.h's: these may run in several processes at once; trust list
// replacements are serialized by its lock file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "outpost/base/status.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"

namespace outpost {

struct PublisherChange {
  uint64_t trust_sequence = 0;  // of the new list
  std::optional<PublicKey> added;  // rotate: the new publisher key
  PublicKey revoked;
  int resigned = 0;  // rotate: served versions signed again with the new key
};

// `outpost hub publisher rotate`: a new publisher key, active for the channels the current one
// had, and the current one revoked. The new key becomes DATA/keys/publisher.key; the old file
// is kept as keys/publisher-revoked-<fingerprint>.key. Then every served version whose
// manifest the old key signed is signed again with the new one (the same manifest and hash, a
// new envelope), so that sites which have not synced it yet can still take it. A rotation cut
// short (a crash, a full disk) is finished by running it again: the half-made key is
// keys/publisher.next.key, and it is the one used.
Result<PublisherChange> RotatePublisher(const NodePaths& paths, Catalog* catalog,
                                        const std::filesystem::path& root_key_file = {});
// `outpost hub publisher revoke KEY` (64 hex digits): revokes a publisher key of the trust list
// other than the current one (rotate that instead). Revoking a revoked key changes nothing
// (kAlreadyExists).
Result<PublisherChange> RevokePublisher(const NodePaths& paths, const std::string& key_hex,
                                        const std::filesystem::path& root_key_file = {});

}  // namespace outpost
