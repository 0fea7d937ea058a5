// The site's side of the sync session (session.h): joining a hub or a relay, and the routine
// sync, which first fetches what the hub offers, then sends up the channels the site publishes
// itself.
//
// Thread-safety: each call runs on the caller's thread; one sync at a time per data folder (the
// staging lock; a second is told kBusy).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/site_report.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

namespace sync {
class Link;  // sync/src/session/link.h: a connection, TCP or in memory
}

// How a site reaches a hub or a relay: "HOST:PORT" and the time every read and write may take,
// to a connected link. Empty: TCP. Tests give an in-memory link instead.
using SyncDialer = std::function<Result<std::unique_ptr<sync::Link>>(
    const std::string& address, std::chrono::milliseconds timeout)>;

struct SyncOptions {
  std::string hub;               // "HOST:PORT"; empty: the pinned hub's address
  // "HOST:PORT" of a relay this site joined (`outpost peer join`): sync from it instead of the
  // hub. What it relays is verified against this site's own pinned root and trust list.
  std::string peer;
  uint64_t rate_limit_kbps = 0;  // 0: none
  uint64_t budget_bytes = 0;     // 0: none; the sync stops cleanly before receiving more
  SessionLimits limits;
  std::function<void(const SyncProgress&)> progress;  // called a few times a second
  // Asked before each answer is waited for (and before each chunk sent up): true stops the
  // sync. What arrived is staged and nothing is sent up; the session ends with Bye, or, with
  // answers still in flight, by closing the link. The summary says `cancelled` (not an
  // error); the next sync fetches only what is missing. Called on the sync's thread; empty:
  // never.
  std::function<bool()> cancelled;
  SyncDialer dial;               // empty: TCP
  // The usage counts this site's report carries to its hub (site_report.h); empty: those of
  // DATA/usage.db (ReportedUsageFrom in usage.h: none while sending is switched off).
  UsageSource usage;
};

// A routine sync with the pinned hub (enrolling first if the site joined from a file).
Result<SyncSummary> SyncWithHub(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                SyncDb* db, const SyncOptions& options);

// `outpost join HOST:PORT CODE`: enrols this node with the hub at `address` and pins it.
Result<HubPin> EnrolWithHub(const NodePaths& paths, SyncDb* db, const std::string& address,
                            const std::string& code, const std::string& name_hint,
                            std::chrono::milliseconds timeout, const SyncDialer& dial = {});

// `outpost peer join HOST:PORT CODE`: enrols this node with a relay (another node running
// `serve --sync-listen` that made the code with `outpost peer enrol`) and records it as a peer
// of role "relay". The relay must be in this node's trust domain: its trust list's root must
// be the root this node pinned when it joined its hub.
Result<PeerInfo> JoinRelay(const NodePaths& paths, SyncDb* db, const std::string& address,
                           const std::string& code, const std::string& name,
                           std::chrono::milliseconds timeout, const SyncDialer& dial = {});

}  // namespace outpost
