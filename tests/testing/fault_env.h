// FaultEnv: an Env that passes everything to the real one until a countdown runs out, then
// fails the chosen operation the way a real system does (ENOSPC for a full disk, EIO for a
// failed fsync). Tests run an operation failing at step 0, 1, 2, ... until it succeeds, as
// SQLite's test suite does, so that every failure point is exercised.
#pragma once

#include <atomic>
#include <new>

#include "outpost/base/env.h"

namespace outpost::testing {

class FaultEnv : public Env {
 public:
  enum class Fault { kNone, kNoSpace, kSyncFails, kRenameFails };

  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // After `ops` more successful fallible operations (appends, syncs, renames, creates), the
  // next one of the kind `fault` selects fails, and every later one too (a full disk stays full).
  void FailAfter(long ops, Fault fault) {
    countdown_ = ops;
    fired_ = false;
    fault_ = fault;
  }
  void Heal() { fault_ = Fault::kNone; }
  long operations() const { return operations_; }
  bool fired() const { return fired_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                        bool private_file) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Status SyncFile(const std::filesystem::path& path) override;
  Status SyncFilesystem(const std::filesystem::path& path) override;
  Status CreateDirs(const std::filesystem::path& dir) override;
  Status Remove(const std::filesystem::path& path) override { return base_->Remove(path); }
  void CrashPoint(const char*) override {}

  // Returns a failure if the countdown says this operation of kind `kind` must fail.
  Status Check(Fault kind, const std::string& what);

 private:
  Env* base_;
  std::atomic<long> countdown_{-1};
  std::atomic<long> operations_{0};
  Fault fault_ = Fault::kNone;
  bool fired_ = false;
};

// An Env whose NewWritableFile throws once armed, as code that runs out of memory does (a
// std::bad_alloc from deep inside a library): for the catch-alls of threads that write files.
class ThrowingEnv : public FaultEnv {
 public:
  std::atomic<bool> armed{true};
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                        bool private_file) override {
    if (armed) throw std::bad_alloc();
    return FaultEnv::NewWritableFile(path, private_file);
  }
};

}  // namespace outpost::testing
