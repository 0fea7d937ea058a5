// Private to sync/: the two halves of moving channel versions over a SecureChannel, used in both
// directions of a session. The side that holds versions offers them (OfferVersion) and answers
// requests (AnswerChunks, AnswerPatch); the side that fetches verifies the offer (its caller's
// job: a site checks the trust list, the hub checks the uploading site's key), then Fetch()
// requests what it lacks in a pipeline, stages chunks, rebuilds and verifies files, and serves
// each version whose files are all present in one transaction.
//
// Downward (hub -> site) the site fetches; upward (a site's own channel -> hub) the hub fetches
// in the same session, after the site's downward part (docs/sync-protocol.md, "Upload").
//
// Thread-safety: one session's thread; Fetch() runs two builder threads of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "session/link.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/sync_db.h"
#include "protocol.h"
#include "staging.h"

namespace outpost::sync {

// What the holder offers of a channel to a peer that serves `peer_version` of it (0: none): the
// served version's signed manifest (zstd, or a zstd patch against the peer's version's
// manifest when this side still has it) and every file the peer's version lacks, with its
// chunks and the file at the same path in the peer's version.
Result<OfferedVersion> OfferVersion(Catalog* catalog, const ChannelInfo& info, uint64_t peer_version);

// Who signed what this node serves decides what it offers: a hub or a relay offers versions a
// publisher of its trust list signed (OfferedBy::kPublishers); a site sends up the channels it
// signed itself with its node key (OfferedBy::kSelf).
struct OfferedBy {
  const TrustList* publishers = nullptr;  // set: versions whose signer it authorizes
  const PublicKey* self = nullptr;        // set: versions this key signed
};
// OfferVersion for every served, signed channel that `by` selects and that is newer than the
// version `peer_serves` says the peer has (absent: none).
Result<std::vector<OfferedVersion>> OfferChannels(Catalog* catalog, const OfferedBy& by,
                                                  const std::map<std::string, uint64_t>& peer_serves);

// The signed manifest of `version`, unpacked: against this side's own copy of the base version's
// manifest for a patch.
Result<std::string> UnpackEnvelope(Catalog* catalog, const OfferedVersion& version);

// Answer one GetChunks (Chunk or Missing per hash, in order) and one GetPatch. If `stop` says
// so before a chunk, what is queued is flushed and the result is kBusy: the sender's byte budget
// is spent (it then sends an Error and lingers).
Status AnswerChunks(BlobStore* store, Catalog* catalog, SecureChannel* channel,
                    std::string_view body, const SessionLimits& limits,
                    const std::function<bool()>& stop = {});
Status AnswerPatch(BlobStore* store, SecureChannel* channel, std::string_view body);

// A version that passed its checks, to fetch and serve.
struct AcceptedVersion {
  Manifest manifest;
  std::string envelope;
};

struct FetchRequest {
  std::vector<AcceptedVersion> versions;
  std::unordered_map<Hash, OfferedFile> offered;  // the offer's file descriptions
  uint64_t window = 1 << 20;      // bytes of requests in flight
  uint32_t max_request_chunks = 4096;
  uint64_t budget_bytes = 0;      // 0: none; counts both directions of the link
  Clock::time_point started = Clock::now();
  std::function<void(const SyncProgress&)> progress;
};

// Fetches the versions' missing files through `channel` (staging chunks in `log`) and serves
// every version whose files are all here. Fills the summary's counters, `updated`, `refused`,
// `round_trips` (waits for the other side) and `budget_reached`; `complete` is set when every
// version is served. `*stopped` is the conversation's state: Ok if it can go on, else why it
// stopped (the link dropped, the other side sent an Error). Errors of this side (a full disk, a
// malformed record) are the result.
Status Fetch(BlobStore* store, Catalog* catalog, SecureChannel* channel, StagingLog* log,
             FetchRequest request, SyncSummary* summary, Status* stopped);

// The checks before fetching a version. A hub taking a site's own channel: signed by the site's
// node key, a channel id the site owns here or that is free (then claimed for it), newer than the
// one served. A node taking a published version: signed by a key `trust` authorizes for the
// channel, newer than the one served. The error says why not.
Result<AcceptedVersion> AcceptSiteVersion(Catalog* catalog, SyncDb* db, const PublicKey& site,
                                          const OfferedVersion& version);
Result<AcceptedVersion> AcceptPublishedVersion(Catalog* catalog, const TrustList& trust,
                                               const OfferedVersion& version);

// Builds a file from its chunks, staged or held locally, into a temp file whose hash is checked
// (BlobStore::InstallBatch puts it in place).
// `held` (if set) gives chunks handed over in memory, checked before the log and the store.
using HeldChunks = std::function<std::shared_ptr<const std::string>(const Hash&)>;
Result<PendingBlob> AssembleFile(BlobStore* store, Catalog* catalog, StagingLog* log,
                                 const OfferedFile& file, const HeldChunks& held = {});
// Serves each version whose files are all in the store, each in one transaction, adding it to
// summary->updated; clears *all_served if one is not complete or does not commit.
Status ServeVersions(BlobStore* store, Catalog* catalog, const std::vector<AcceptedVersion>& versions,
                     SyncSummary* summary, bool* all_served);
// Without a link (a USB bundle): builds the files of accepted versions as their chunks arrive,
// on two threads beside the caller's, which goes on reading chunks. A chunk a file waits for is
// handed to it in memory (up to 256 MiB at a time) instead of going through the staging log:
// the volume it came from is the durable copy, and a file once built is durable itself. What
// is left when the import ends (files still missing chunks) is staged for the next import.
// Every method is called from the caller's thread.
class Assembly {
 public:
  Assembly(BlobStore* store, Catalog* catalog, StagingLog* log);
  ~Assembly();  // waits for the builds
  Assembly(const Assembly&) = delete;
  Assembly& operator=(const Assembly&) = delete;

  // Adds the files of `version` that the store lacks, and builds at once those whose chunks are
  // all staged or held. False when the offer does not describe one of its files: the version
  // cannot be served from what this offer brings.
  bool Want(const AcceptedVersion& version, const std::unordered_map<Hash, OfferedFile>& offered);
  // A verified chunk has arrived: builds the files it completes, or stages it.
  Status Arrived(const Hash& chunk, std::string data);
  // Whether the chunk is staged or held in memory.
  bool Has(const Hash& chunk) const;
  // Waits for every build and installs the last batch, adding the count to
  // summary->files_received and failures to summary->refused; then stages what is held for
  // files not complete and syncs the log.
  Status Finish(SyncSummary* summary);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::sync
