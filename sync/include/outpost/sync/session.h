// The sync session (docs/sync.md): a site enrols with its hub over Noise XX, then syncs over
// Noise IK, one round trip to the first useful byte:
//
//   site                                   hub
//   preamble "OPS1",2 + IK msg 1 (Hello) ->
//                                        <- IK msg 2 (Accept or Error) + Offer
//   GetChunks / GetPatch (pipelined)     ->
//                                        <- Chunk / Missing / Patch, in order
//   Bye                                  ->
//
// The Offer carries the hub's newer signed versions and, for every file new since the site's
// served version, its chunk list; the site verifies each manifest against the root-signed trust
// list it pinned, takes every chunk it already holds anywhere (any file, any name) from its own
// store, asks for the rest in a pipeline of about a bandwidth-delay product, stages what arrives
// (durably, so a cut sync resumes without asking again), rebuilds each file and checks its hash,
// and serves a new version in one transaction only when all its files are there. A changed
// small file whose previous version the site holds comes as a zstd patch against it.
//
// Thread-safety: SyncServer runs one thread per session (at most max_sessions); SyncWithHub
// runs on the caller's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/base/status.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost {

struct SessionLimits {
  int max_sessions = 32;  // concurrent sessions on a server; more are told "busy"
  std::chrono::milliseconds io_timeout{60000};  // every read and write
  uint64_t rekey_interval = 1 << 16;  // Noise messages per direction between rekeys
  size_t max_record = 16u << 20;      // bytes; bounds a session's memory
  uint32_t max_request_chunks = 4096;  // hashes per GetChunks
  int zstd_level = 3;                 // chunks (fast: 50 MB/s and more on a Pi); patches 19
};

// The hub's side (and a relaying node's): answers sites' enrolments and syncs.
class SyncServer {
 public:
  // Everything must outlive the server.
  SyncServer(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
             SessionLimits limits = {});
  ~SyncServer();
  // "ADDR:PORT"; port 0 picks one (port()).
  Status Bind(const std::string& listen);
  int port() const;
  // Serves until Stop(). Blocks.
  Status Serve();
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct SyncProgress {
  uint64_t bytes_received = 0;
  uint64_t bytes_wanted = 0;  // uncompressed bytes still to fetch when the offer came
  uint64_t bytes_done = 0;    // of those
  uint64_t files_done = 0, files_wanted = 0;
  double seconds = 0;
  // After the download, while the site sends its own channels up: what it has sent, and the
  // size of the files it offered (the hub asks only for those it lacks, so at most that).
  bool uploading = false;
  uint64_t bytes_sent = 0, bytes_offered = 0;
};

struct SyncOptions {
  std::string hub;               // "HOST:PORT"; empty: the pinned hub's address
  // "HOST:PORT" of a relay this site joined (`outpost peer join`): sync from it instead of the
  // hub. What it relays is verified against this site's own pinned root and trust list.
  std::string peer;
  uint64_t rate_limit_kbps = 0;  // 0: none
  uint64_t budget_bytes = 0;     // 0: none; the sync stops cleanly before receiving more
  SessionLimits limits;
  std::function<void(const SyncProgress&)> progress;  // called a few times a second
};

struct UpdatedChannel {
  std::string id;
  int64_t from = 0, to = 0;
};

// A channel this site publishes, sent up to the hub in the session.
struct UploadedChannel {
  std::string id;
  int64_t version = 0;
  std::string state;    // "served" (the hub serves it now), "incomplete" (the next sync
                        // continues), "refused"
  std::string message;  // why, unless served
};

struct SyncSummary {
  uint64_t bytes_sent = 0, bytes_received = 0;  // on the wire, framing and encryption included
  int round_trips = 0;  // waits for the hub after TCP connect (handshake included)
  double seconds = 0;
  bool complete = false;  // every offered version is served
  std::vector<UpdatedChannel> updated;
  std::vector<UploadedChannel> uploaded;  // this site's own channels offered up
  std::vector<std::string> refused;  // versions refused, and why
  uint64_t files_received = 0, chunks_received = 0, chunks_reused = 0, patches_received = 0;
  uint64_t chunk_bytes = 0;  // uncompressed bytes that came over the link
  bool budget_reached = false;
};

// A routine sync with the pinned hub (enrolling first if the site joined from a file).
Result<SyncSummary> SyncWithHub(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                SyncDb* db, const SyncOptions& options);

// `outpost join HOST:PORT CODE`: enrols this node with the hub at `address` and pins it.
Result<HubPin> EnrolWithHub(const NodePaths& paths, SyncDb* db, const std::string& address,
                            const std::string& code, const std::string& name_hint,
                            std::chrono::milliseconds timeout);

// `outpost peer join HOST:PORT CODE`: enrols this node with a relay (another node running
// `serve --sync-listen` that made the code with `outpost peer enrol`) and records it as a peer
// of role "relay". The relay must be in this node's trust domain: its trust list's root must
// be the root this node pinned when it joined its hub.
Result<PeerInfo> JoinRelay(const NodePaths& paths, SyncDb* db, const std::string& address,
                           const std::string& code, const std::string& name,
                           std::chrono::milliseconds timeout);

}  // namespace outpost
