// The trust store: the trust list a node holds in DATA/sync/trust.optl (node.h), and `hub init`,
// which makes a hub's keys and its first list. A hub's list is the one it issues (its root signs
// each new one: publisher_keys.h); a site's is the newest it has received, verified against the
// root it pinned. Trust lists themselves are identity.h's; docs/manifest.md has their format.
//
// Thread-safety: the functions may run in several processes at once: trust list replacements
// are serialized by a lock file (DATA/sync/trust.lock).
#pragma once

#include <cstddef>
#include <string_view>

#include "outpost/base/status.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"

namespace outpost {

// The largest trust list a node reads or carries in an enrolment file: 1 MiB, room for
// thousands of publishers.
inline constexpr size_t kMaxTrustListBytes = size_t{1} << 20;

// `outpost hub init`: makes the node key, the root key, a publisher key and the first trust list
// (sequence 1: the publisher active for every channel "*"). Refuses (kAlreadyExists) if a
// root key is already there.
struct HubInitResult {
  PublicKey node_key, root_key, publisher_key;
};
Result<HubInitResult> InitHub(const NodePaths& paths);

// The trust list held in DATA/sync/trust.optl, verified against `root`.
Result<TrustList> LoadTrustList(const NodePaths& paths, const PublicKey& root);
// Replaces the held trust list with `document` if it verifies against `root` and passes
// CheckTrustListUpdate against the one held (durably: temp file, fsync, rename). The same list
// again changes nothing. A held file that does not verify blocks every replacement (its error,
// saying to delete the file): without it a replayed old list could re-enable a revoked key.
Status StoreTrustList(const NodePaths& paths, const PublicKey& root, std::string_view document);

}  // namespace outpost
