// Env: every file-system access the content library makes to *write* data goes through this
// interface, so that tests can fake a full disk, a failed fsync or a crash at any step
// (tests/testing/fault_env.h). Reads of imported folders use std::filesystem and POSIX directly:
// their failures are real-world input problems that tests create with real files.
//
// Thread-safety: Env implementations are thread-safe; a WritableFile is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "outpost/base/status.h"

namespace outpost {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::span<const uint8_t> data) = 0;
  virtual Status Sync() = 0;   // fsync: data and size are durable when this returns ok
  virtual Status Close() = 0;  // idempotent
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates (or truncates) a file for writing, mode 0644 (or 0600 if `private_file`).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                                bool private_file = false) = 0;
  // rename(2): atomically replaces `to`.
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // fsyncs a directory, making renames and creations in it durable.
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  // fsyncs a file written earlier, maybe by another writer (an upload the blob store adopts):
  // its data and size are durable when this returns ok.
  virtual Status SyncFile(const std::filesystem::path& path) = 0;
  // syncfs(2): everything written to the file system that holds `path` (data, names, folders)
  // is durable when this returns ok. One journal commit instead of one per folder.
  virtual Status SyncFilesystem(const std::filesystem::path& path) = 0;
  virtual Status CreateDirs(const std::filesystem::path& dir) = 0;
  virtual Status Remove(const std::filesystem::path& path) = 0;  // NotFound is ok

  // Called at named points of long operations ("import.blob", "import.commit", ...); the real
  // Env does nothing unless OUTPOST_CRASH_AT=N is set, in which case the Nth call kills the
  // process with SIGKILL. This is how the end-to-end tests kill an import at chosen points.
  virtual void CrashPoint(const char* name) = 0;

  // The process-wide real file system.
  static Env* Default();
};

// Writes `data` to `path` durably: temp file in the same folder, fsync, rename, fsync folder.
Status WriteFileAtomically(Env* env, const std::filesystem::path& path, std::string_view data,
                           bool private_file = false);

}  // namespace outpost
