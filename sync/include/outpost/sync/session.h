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
// This header holds what both sides, and USB bundles, share: the session's limits and what a
// sync reports. The hub's side is sync_server.h, the site's site_sync.h.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace outpost {

struct SessionLimits {
  // Concurrent admitted sessions (handshake done, peer enrolled); a peer admitted beyond them
  // is told "busy" (Error 4) and tries again at its next sync.
  int max_sessions = 32;
  // Connections still in their handshake (not yet admitted), each bounded by handshake_timeout;
  // more are closed at accept. Kept apart from max_sessions so that strangers who never
  // authenticate cannot take the slots of the sites that do.
  int max_handshakes = 256;
  // Connections from one IP address at once, in their handshake or admitted; more from it are
  // closed at accept, before any byte is read (a stranger cannot take every slot).
  int max_sessions_per_address = 4;
  std::chrono::milliseconds io_timeout{60000};  // every read and write
  // From the session's start until the peer is admitted (the handshake and its Hello checked),
  // however slowly or steadily its bytes come; then io_timeout alone bounds each read.
  std::chrono::milliseconds handshake_timeout{10000};
  uint64_t rekey_interval = 1 << 16;  // Noise messages per direction between rekeys
  size_t max_record = 16u << 20;      // bytes; bounds a session's memory
  uint32_t max_request_chunks = 4096;  // hashes per GetChunks
  int zstd_level = 3;                 // chunks (fast: 50 MB/s and more on a Pi), and patches of
                                      // files over kMaxPatchedFile; smaller patches 19
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
  // Versions no longer served because the trust list taken revokes their signer, and what
  // learners see instead (one line each: Withdrawal::Describe in version_signing.h).
  std::vector<std::string> withdrawn;
  uint64_t files_received = 0, chunks_received = 0, chunks_reused = 0, patches_received = 0;
  uint64_t chunk_bytes = 0;  // uncompressed bytes that came over the link
  bool budget_reached = false;
  bool cancelled = false;  // SyncOptions::cancelled said stop: what arrived is staged
  // The hub's review decisions on this site's items that arrived (kept in sync.db:
  // SyncDb::ReviewOutcomes).
  uint64_t review_outcomes = 0;
};

}  // namespace outpost
