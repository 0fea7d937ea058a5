// Private to sync/: building the files of accepted versions from their chunks, and serving a
// version once all its files are here. The same whether the chunks came over a session
// (session/fetch.h) or from a USB bundle (bundle.cc, through Assembly): nothing here touches a
// link.
//
// A file is rebuilt from chunks staged in the log (staging.h), held in memory, or found in
// files this store already has; its hash is checked before it goes into the store. Files are
// built on two threads beside the one receiving, and installed in batches: a page is a few KB,
// and an fsync per file (a journal commit, milliseconds) would hold the link idle. A batch is
// made durable with one syncfs, renamed into the store, and recorded in the chunk index in one
// transaction (BlobStore::InstallBatch).
//
// Thread-safety: FileBuilders and Assembly are driven from one thread and run two of their own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "offer.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/session.h"
#include "protocol.h"
#include "staging.h"

namespace outpost::sync {

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

// Runs build jobs (each makes one file, usually with AssembleFile) on two threads and installs
// what they make in batches.
class FileBuilders {
 public:
  using Job = std::function<Result<PendingBlob>()>;
  FileBuilders(BlobStore* store, Catalog* catalog);
  ~FileBuilders();  // Finish()
  FileBuilders(const FileBuilders&) = delete;
  FileBuilders& operator=(const FileBuilders&) = delete;

  void Build(Job job);
  // Waits for every queued job and installs the last batch; returns how many files were
  // installed, and appends the failures (a file that did not build or install) to `failures`.
  uint64_t Finish(std::vector<std::string>* failures = nullptr);
  // Ok, or why a builder thread stopped: an exception thrown in a job or an install, with its
  // message. Once one has, the jobs still queued are dropped and the caller serves nothing.
  Status Stopped();

 private:
  static constexpr size_t kBatchFiles = 256;
  static constexpr uint64_t kBatchBytes = 64u << 20;

  // A thread's body: never throws (an exception becomes stopped_).
  void Run();
  Status BuildOne(const Job& job);
  // Installs the batch if it is full (or, with `all`, whatever it holds). One thread at a time.
  void Install(bool all);

  BlobStore* store_;
  Catalog* catalog_;
  std::mutex mu_, install_mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<PendingBlob> batch_;
  uint64_t batch_bytes_ = 0;
  std::vector<std::string> failures_;
  uint64_t built_ = 0;
  Status stopped_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

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
  // files not complete and syncs the log. An error if a builder thread stopped (Stopped()).
  Status Finish(SyncSummary* summary);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::sync
