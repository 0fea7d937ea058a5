// The fetching half of moving channel versions over a session (docs/sync-protocol.md,
// "Requests and answers"). The side that fetches has verified the offer (offer.h: a site checks
// the trust list, the hub checks the uploading site's key); Fetch() then plans what to ask for
// (every file the store lacks, small files first; a small changed file as a patch against the
// one it replaces; chunks held anywhere locally are not asked for), keeps about a window of
// requests in flight, stages each chunk as it arrives, builds and verifies files (assembly.h),
// and serves each version whose files are all present, in one transaction.
//
// Downward (hub -> site) the site fetches; upward (a site's own channel -> hub) the hub fetches
// in the same session, after the site's downward part (docs/sync-protocol.md, "Upload").
//
// Thread-safety: one session's thread; Fetch() runs two builder threads of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "offer.h"
#include "outpost/base/status.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/session.h"
#include "protocol.h"
#include "session/link.h"
#include "session/secure_channel.h"
#include "staging.h"

namespace outpost::sync {

struct FetchRequest {
  std::vector<AcceptedVersion> versions;
  std::unordered_map<Hash, OfferedFile> offered;  // the offer's file descriptions
  uint64_t window = 1 << 20;      // bytes of requests in flight
  uint32_t max_request_chunks = 4096;
  uint64_t budget_bytes = 0;      // 0: none; counts both directions of the link
  Clock::time_point started = Clock::now();
  std::function<void(const SyncProgress&)> progress;
  // Asked before each answer is waited for: true stops the fetch and sets the summary's
  // `cancelled`. What arrived is staged; with answers still in flight, *stopped says the
  // conversation ended (the link is then closed, not drained).
  std::function<bool()> cancelled;
};

// Where a fetch's chunks and patches come from. It answers in the order asked: a Chunk or a
// Missing per chunk, a Patch or a Missing per patch. Abstract so that the pipeline does not
// depend on how the answers travel; ChannelSource is the other side of a session.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Queue a request (GetChunks, GetPatch); Flush() sends what is queued.
  virtual Status AskChunks(const std::vector<Hash>& chunks) = 0;
  virtual Status AskPatch(const Hash& file, const Hash& previous) = 0;
  virtual Status Flush() = 0;
  // The next answer. An error when the conversation stopped: the link dropped, or the other
  // side sent an Error (its message).
  virtual Result<Record> Next() = 0;
  // Bytes on the wire so far, both ways (the budget) and received (the progress).
  virtual uint64_t bytes_moved() const = 0;
  virtual uint64_t bytes_received() const = 0;
};

class ChannelSource : public ChunkSource {
 public:
  explicit ChannelSource(SecureChannel* channel) : channel_(channel) {}
  Status AskChunks(const std::vector<Hash>& chunks) override;
  Status AskPatch(const Hash& file, const Hash& previous) override;
  Status Flush() override { return channel_->Flush(); }
  Result<Record> Next() override;
  uint64_t bytes_moved() const override;
  uint64_t bytes_received() const override { return channel_->link()->bytes_received(); }

 private:
  SecureChannel* channel_;
};

// Fetches the versions' missing files from `source` (staging chunks in `log`) and serves
// every version whose files are all here. Fills the summary's counters, `updated`, `refused`,
// `round_trips` (waits for the other side) and `budget_reached`; `complete` is set when every
// version is served. `*stopped` is the conversation's state: Ok if it can go on, else why it
// stopped (the link dropped, the other side sent an Error). Errors of this side (a full disk, a
// malformed record, an answer out of order, an exception on a builder thread) are the result,
// and then no version is served.
Status Fetch(BlobStore* store, Catalog* catalog, ChunkSource* source, StagingLog* log,
             FetchRequest request, SyncSummary* summary, Status* stopped);

}  // namespace outpost::sync
