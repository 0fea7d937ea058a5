// StagingLog: chunks a sync has received and not yet built into files, in DATA/staging/.
//
// Each session appends to its own log file, chunks-<time>-<pid>.log, records of
//   32-byte BLAKE2b-256 of the chunk, u32 big-endian length, the chunk's bytes
// and fdatasyncs it every few MB and before files are built from it; so a sync cut at any
// byte, or a reboot, keeps what arrived up to the last sync point and never asks for it again.
// Opening scans every log and indexes each record whose hash verifies; a torn record at the end
// of a log (the cut) is ignored. Logs are deleted once every version they served is committed.
//
// Thread-safety: the methods are thread-safe (files are built from the log while chunks are
// appended); one sync at a time holds the staging folder (SyncWithHub's lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost::sync {

// One sync at a time per staging folder: a second waits for nothing and says so (kBusy). Held
// while the StagingLock lives (flock on DIR/sync.lock, so a crash releases it).
class StagingLock {
 public:
  // `busy` is the message when another process holds it.
  static Result<StagingLock> Take(const std::filesystem::path& dir,
                                  const char* busy = "another sync is running on this data folder");
  StagingLock(StagingLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  StagingLock& operator=(StagingLock&&) = delete;
  ~StagingLock();

 private:
  explicit StagingLock(int fd) : fd_(fd) {}
  int fd_;
};

class StagingLog {
 public:
  static Result<std::unique_ptr<StagingLog>> Open(const std::filesystem::path& dir);
  ~StagingLog();

  bool Has(const Hash& chunk) const {
    std::lock_guard lock(mu_);
    return index_.count(chunk) != 0;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return index_.size();
  }
  Status Append(const Hash& chunk, std::string_view data);
  Status Sync();  // fdatasync the log (and the folder, once)
  // The chunk's bytes; with verify, checked against its hash (the caller may skip that when it
  // checks the whole file they go into anyway).
  Result<std::string> Read(const Hash& chunk, bool verify = true) const;
  uint64_t unsynced_bytes() const {
    std::lock_guard lock(mu_);
    return unsynced_;
  }
  // Deletes every log (after the versions are committed).
  Status Clear();

 private:
  struct Where {
    size_t file = 0;  // in files_
    uint64_t offset = 0;
    uint32_t length = 0;
  };
  // A log file, and a descriptor for reading it (opened on first read; the log being written
  // is read through its own).
  struct File {
    std::filesystem::path path;
    int fd = -1;
  };
  size_t AddFile(const std::filesystem::path& path);  // under mu_
  explicit StagingLog(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Status Scan(const std::filesystem::path& file);
  Status OpenCurrent();
  Status WriteRecord(const char* head, std::string_view data);

  mutable std::mutex mu_;
  std::filesystem::path dir_;
  std::filesystem::path current_;
  int fd_ = -1;  // the log being written (read and write)
  size_t current_file_ = 0;
  mutable std::vector<File> files_;
  uint64_t end_ = 0;
  uint64_t unsynced_ = 0;
  bool dir_synced_ = false;
  std::unordered_map<Hash, Where> index_;
};

}  // namespace outpost::sync
