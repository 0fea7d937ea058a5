// BlobStore: curriculum files stored whole under DATA/blobs/ab/cd/<64 hex>, named by the
// BLAKE2b-256 hash of their bytes, and never changed once written.
//
// Writing a blob: a BlobWriter streams the bytes into DATA/tmp/<random>.tmp while hashing them
// and cutting them into FastCDC chunks; Commit() fsyncs the temp file and renames it into place
// (or drops it if the blob already exists). A power cut therefore leaves either the whole blob
// or none. Renames are made durable by SyncDirs(), which a caller runs once before it records
// the new blobs anywhere that must survive a power cut (the catalog).
//
// Locking between processes: writers (an import, later a sync download) hold the store's
// shared lock from before their first blob until their catalog commit; garbage collection
// takes the exclusive lock, so it never removes a blob that a running import or download has
// written but not yet recorded. Locks are flock(2) locks on DATA/blobs.lock and vanish with the
// process that held them (a SIGKILLed import never blocks gc forever).
//
// Thread-safety: BlobStore's methods are thread-safe; a BlobWriter is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "outpost/content/chunker.h"
#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

struct BlobInfo {
  Hash hash;
  uint64_t size = 0;
  std::vector<Chunk> chunks;
  bool existed = false;  // the store already held this blob; nothing new was written
};

class BlobStore;

// A blob written and closed but not yet durable nor in place (BlobWriter::Finish); `temp` is
// empty when the store already held it.
struct PendingBlob {
  BlobInfo info;
  std::filesystem::path temp;
};

class BlobWriter {
 public:
  ~BlobWriter();  // an uncommitted writer removes its temp file
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status Append(std::span<const uint8_t> data);
  // Appends one chunk whose hash the caller has checked (a sync rebuilding a file from verified
  // chunks): the writer records it as it is instead of running the chunker, which would hash
  // every byte again. A writer takes either Append or AppendChunk, not both.
  Status AppendChunk(std::span<const uint8_t> data, const Hash& hash);
  // Fsyncs and renames the blob into place. Returns its hash, size and chunks.
  Result<BlobInfo> Commit();
  // Closes the temp file without syncing it, for BlobStore::InstallBatch: a writer of many
  // small files (a sync, an import) pays one syncfs for a batch instead of one fsync per file.
  Result<PendingBlob> Finish();
  uint64_t size() const { return size_; }

 private:
  friend class BlobStore;
  BlobWriter(BlobStore* store, std::filesystem::path temp, std::unique_ptr<WritableFile> file,
             const ChunkerParams& params);

  BlobStore* store_;
  std::filesystem::path temp_;
  std::unique_ptr<WritableFile> file_;
  Hasher hasher_;
  Chunker chunker_;
  std::vector<Chunk> chunks_;
  uint64_t size_ = 0;
  bool done_ = false;
  enum class Mode { kUnset, kChunker, kKnownChunks } mode_ = Mode::kUnset;
};

// An flock on the store; released when destroyed.
class StoreLock {
 public:
  StoreLock() = default;
  explicit StoreLock(int fd) : fd_(fd) {}
  StoreLock(StoreLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StoreLock& operator=(StoreLock&& o) noexcept;
  ~StoreLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class BlobStore {
 public:
  // Opens (creating if needed) the store under `root` (DATA). `env` must outlive the store.
  static Result<std::unique_ptr<BlobStore>> Open(const std::filesystem::path& root,
                                                 Env* env = Env::Default(),
                                                 ChunkerParams params = {});
  // Opens the store under `root` without creating anything, for checks (verify) that must not
  // write: kNotFound if `root`/blobs is not a folder.
  static Result<std::unique_ptr<BlobStore>> OpenExisting(const std::filesystem::path& root,
                                                         Env* env = Env::Default());

  Result<std::unique_ptr<BlobWriter>> NewWriter();
  // Stores a whole buffer (convenience for small blobs and tests).
  Result<BlobInfo> Put(std::string_view data);

  // Takes a finished file on the store's file system (an upload) into the store without a
  // second copy: reads it once to hash it and cut its FastCDC chunks (as a writer does), makes
  // it read-only for others' writes (0644) and durable (fsync), then renames it to its blob's
  // name; if the store holds that blob already it removes the file instead (`existed`). Its
  // rename is durable after SyncDirs(), and its chunks go into the catalog's chunk index
  // (Catalog::RecordBlobs) after that, as a writer's do; hold the shared lock (LockShared) from
  // before this call until the catalog refers to the blob. On failure the file is left where it
  // was, whole, and the store has no blob of it: kInvalidArgument for what is not a regular
  // file or is on another file system (a rename cannot move it), kChanged if the file changed
  // while it was read, and the Env's error for a failed fsync or rename.
  Result<BlobInfo> Adopt(const std::filesystem::path& file);

  bool Contains(const Hash& hash) const;
  std::filesystem::path PathOf(const Hash& hash) const;
  // Re-hashes the blob's bytes: ok, kNotFound, or kCorrupt naming the file.
  Status Verify(const Hash& hash) const;
  // Calls `fn` for every blob file present (in no particular order). Files in blobs/ whose
  // names are not hashes are reported through `stray` if given.
  Status ForEach(const std::function<void(const Hash&, uint64_t size)>& fn,
                 const std::function<void(const std::filesystem::path&)>& stray = {}) const;
  Status Remove(const Hash& hash);
  // Moves a damaged blob out of the store to DATA/quarantine/<hex>, so that it is never served
  // and the next import or sync that brings its bytes writes it afresh. First removes the
  // blob's compressed variants, DATA/cache/<hex>.gz and <hex>.zst (made by the server), so that
  // no copy of it is served any more. Returns where it went.
  Result<std::filesystem::path> Quarantine(const Hash& hash);
  // Removes temp files left by interrupted writers. Call only while holding the exclusive lock.
  Status RemoveStaleTemps();

  // Fsyncs every blob folder that received a rename since the last call.
  Status SyncDirs();
  // Makes finished blobs durable with one syncfs of the store's file system, then renames each
  // into place (as Commit does; a blob installed meanwhile by another writer just drops its
  // temp). A power cut before this leaves only temp files, which gc removes; never a damaged
  // blob under its hash's name. The renames are durable after SyncDirs(), as for Commit().
  Result<std::vector<BlobInfo>> InstallBatch(std::vector<PendingBlob> pending);

  // Shared lock for writers; waits while gc runs.
  Result<StoreLock> LockShared();
  // Exclusive lock for gc; kBusy at once if any writer holds the shared lock.
  Result<StoreLock> TryLockExclusive();

  const std::filesystem::path& root() const { return root_; }
  const ChunkerParams& chunker_params() const { return params_; }
  Env* env() const { return env_; }

 private:
  friend class BlobWriter;
  BlobStore(std::filesystem::path root, Env* env, ChunkerParams params)
      : root_(std::move(root)), env_(env), params_(params) {}
  Result<BlobInfo> Install(const std::filesystem::path& temp, BlobInfo info);
  void MarkDirty(const std::filesystem::path& blob_path);
  Result<StoreLock> Lock(int operation);

  std::filesystem::path root_;
  Env* env_;
  ChunkerParams params_;
  std::mutex mu_;
  std::set<std::filesystem::path> dirty_dirs_;
};

}  // namespace outpost
