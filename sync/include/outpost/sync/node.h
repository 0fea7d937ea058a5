// Node: what one installation (a school's site or the hub) keeps for sync, beside the catalog
// and the blob store, and where each part is handled.
//
//   DATA/keys/node.key        this installation's identity: every node (made on first use)
//   DATA/keys/root.key        the hub's root key (hub only; may be moved offline after init)
//   DATA/keys/publisher.key   the hub's publisher key (hub only)
//   DATA/sync/trust.optl      the newest trust list held (the hub: the one it issues; a site:
//                             the newest it has received, verified against the pinned root)
//   DATA/sync/sync.db         SQLite (WAL): peers, enrolment codes, the pinned hub, what the
//                             hub knows of itself (what each peer holds: not yet)
//   DATA/sync/exports/        the state of bundle exports that filled their drive (bundle.h)
//   DATA/staging/             chunks received by sync and not yet assembled into blobs
//
// Every key file is mode 0600 (identity.h), and so is sync.db (a site's pending enrolment code
// is in it). Signed manifests of versions are kept in the catalog, beside the versions they
// sign (Catalog::AttachManifest). docs/sync.md has the schema, the enrolment codes and the
// enrolment file byte for byte.
//
// The operations on a node that need no network each have their header:
//   sync_db.h          sync.db: peers, enrolment codes, the pinned hub, the hub itself
//   trust_store.h      `hub init` and the held trust list
//   publish.h          `outpost publish`: import and sign
//   publisher_keys.h   the root's work: rotating and revoking publisher keys
//   enrolment.h        `hub enrol`, and the enrolment file a site joins from
//
// Thread-safety: NodePaths is a plain value; the functions here are pure.
#pragma once

#include <filesystem>
#include <string_view>

#include "outpost/base/status.h"

namespace outpost {

struct NodePaths {
  explicit NodePaths(const std::filesystem::path& data);
  std::filesystem::path data, keys, node_key, root_key, publisher_key, sync_dir, trust_list,
      sync_db, staging;
  std::filesystem::path trust_lock;  // DATA/sync/trust.lock: flock'd while replacing trust.optl
};

// A peer's name: 1 to 64 characters of a-z, 0-9 and '-', not starting with '-' (the rule of
// channel ids), so that it reads the same in a shell, a log line and a file name.
bool IsValidSiteName(std::string_view name);
// "HOST:PORT" (or "[IPv6]:PORT"): a host of 1 to 253 characters without spaces, '/' or '@',
// and a port from 1 to 65535.
bool IsValidSyncAddress(std::string_view address);

// What a command that needs a hub answers on a data folder that is not one: kNotFound, saying
// to run `outpost hub init --data DATA` first.
Status NotAHub(const NodePaths& paths);

}  // namespace outpost
