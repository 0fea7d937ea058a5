// Uploads: the files teachers send, kept until they are placed in the school's channel
// (docs/web-api.md, "Uploads"). The HTTP side speaks tus 1.0 (upload_routes.cc); this is the
// storage it drives, and what the materials routes take a finished upload from.
//
// In DATA/uploads/, per upload ID (32 hex digits, random):
//   ID.part   the bytes received so far, appended as they arrive;
//   ID.json   its record (UploadInfo as JSON), replaced atomically (temp file, fsync, rename)
//             at creation, at each durable point of a transfer, and when it finishes.
// The record's `offset` counts only bytes made durable (fdatasync'd before the record was
// written): on opening, a .part longer than its record is cut back to it, so a power cut never
// makes a client skip bytes it believes were stored. A .part without a record, or a record
// without a .part, is debris of a crash and removed.
//
// Limits, all checked before anything is allocated or written: an upload's declared length
// (max_upload_bytes), unfinished uploads per account and in all, and the free disk: a new upload
// must leave `reserve_bytes` free after every unfinished upload has its remaining bytes.
// Unfinished uploads idle for `unfinished_ttl` and finished ones never placed within
// `finished_ttl` are removed by RemoveExpired (the server runs it at start, and Create at most
// hourly).
//
// Thread-safety: thread-safe. One Transfer at a time per upload (a second is kBusy: tus
// forbids two PATCHes at once on one upload).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/env.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

struct UploadLimits {
  uint64_t max_upload_bytes = 4ull << 30;  // one file; tus's Tus-Max-Size
  int max_unfinished_per_account = 20;
  int max_unfinished = 200;
  uint64_t reserve_bytes = 512ull << 20;   // kept free on the data disk for everything else
  std::chrono::seconds unfinished_ttl{48 * 3600};
  std::chrono::seconds finished_ttl{14 * 24 * 3600};
  uint64_t durable_every = 64ull << 20;    // fdatasync and record the offset this often
  size_t max_filename_bytes = 255;
};

struct UploadInfo {
  std::string id;
  std::string owner;        // the account that made it; no one else sees it
  std::string filename;     // as sent, checked: valid UTF-8, no '/', '\\', control characters
  std::string declared_type;  // the client's idea of the type (tus metadata "filetype"), unused
  uint64_t length = 0;      // Upload-Length
  uint64_t offset = 0;      // bytes durably received
  int64_t created_at = 0;   // unix seconds
  int64_t updated_at = 0;   // last byte received (or creation)
  bool finished = false;    // offset == length and the checks below were made
  // Set when finished: what the content is, sniffed from its first bytes (sniff.h), not from
  // its name; and, if the client sent one at creation, the BLAKE2b-256 it was checked against.
  std::string kind;         // NodeKind name: "video", "document", ...
  std::string mime;
  std::optional<Hash> expected_hash;
  std::filesystem::path file;  // DATA/uploads/ID.part (not in the record: derived)
};

// Appends one request's bytes to an upload. Made by UploadStore::Begin; Commit or Abort ends
// it (the destructor aborts).
class UploadTransfer {
 public:
  ~UploadTransfer();
  UploadTransfer(const UploadTransfer&) = delete;
  UploadTransfer& operator=(const UploadTransfer&) = delete;

  // Appends `data`; kInvalidArgument (nothing written) if it would pass the declared length,
  // kIoError (a full disk, say) if the write fails. Every durable_every bytes the file is
  // fdatasync'd and the record's offset moved.
  Status Write(std::span<const uint8_t> data);
  // The request ended whole: makes what was written durable and records it; if the upload is
  // now complete, finishes it (sniffs the kind; checks the expected hash, and on a mismatch
  // removes the upload and answers kCorrupt). Returns the record as it now is.
  Result<UploadInfo> Commit();
  // Commit for a file whose length was not known when it was created (the upload form sends
  // files of unknown size in one body; it creates each with the body's length as a ceiling):
  // what was written is the whole file, its length is set to it, and it is finished.
  Result<UploadInfo> CommitWhole();
  // The request was cut or refused: keeps what is durable up to the last whole write when
  // `keep` (a dropped connection: the client resumes from there), or cuts the file back to
  // where this transfer began (a checksum mismatch: tus discards that request's bytes).
  Status Abort(bool keep);
  uint64_t offset() const { return offset_; }

 private:
  friend class UploadStore;
  UploadTransfer(class UploadStore* store, UploadInfo info, int fd);
  Status MakeDurable();

  UploadStore* store_;
  UploadInfo info_;
  int fd_ = -1;
  uint64_t start_ = 0, offset_ = 0, durable_ = 0;
  bool done_ = false;
};

class UploadStore {
 public:
  // Opens (creating) `dir`, removes crash debris and cuts .part files back to their records.
  static Result<std::unique_ptr<UploadStore>> Open(const std::filesystem::path& dir,
                                                   const UploadLimits& limits = {},
                                                   Env* env = Env::Default());

  // A new upload of `length` bytes for `owner`. kInvalidArgument for a bad file name or a
  // length over the maximum, kDenied for too many unfinished uploads, kNoSpace for too little
  // free disk; the message says which, in words a teacher understands.
  Result<UploadInfo> Create(const std::string& owner, uint64_t length,
                            const std::string& filename, const std::string& declared_type = "",
                            const std::optional<Hash>& expected_hash = std::nullopt);
  // The upload, if it exists and belongs to `owner` (kNotFound otherwise, the same for both:
  // no one learns another's upload ids).
  Result<UploadInfo> Get(std::string_view id, const std::string& owner);
  // Every upload of `owner`, newest first.
  std::vector<UploadInfo> List(const std::string& owner);
  // Starts appending at `offset`, which must be the upload's offset (kChanged naming both
  // otherwise, also for a finished upload; tus answers 409), on an upload no other transfer
  // holds (kBusy).
  Result<std::unique_ptr<UploadTransfer>> Begin(std::string_view id, const std::string& owner,
                                                uint64_t offset);
  // Removes the upload and its bytes (tus termination; also for a finished upload the teacher
  // no longer wants). kBusy while a transfer holds it.
  Status Remove(std::string_view id, const std::string& owner);
  // After the materials routes moved a finished upload's file away (into the blob store):
  // forgets its record (and the file, if it is still there). kInvalidArgument if it is not
  // finished.
  Status Placed(std::string_view id, const std::string& owner);
  // Removes what has been idle too long (limits' ttls); returns how many.
  int RemoveExpired(int64_t now);

  const UploadLimits& limits() const { return limits_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Free bytes on the data disk (statvfs), for the limits; replaceable in tests.
  std::function<uint64_t()> free_bytes;

 private:
  friend class UploadTransfer;
  UploadStore(std::filesystem::path dir, const UploadLimits& limits, Env* env)
      : dir_(std::move(dir)), limits_(limits), env_(env) {}
  Status Recover();
  Result<UploadInfo> Load(std::string_view id);
  // Every upload's record, of `owner` or (empty) of everyone; mu_ held.
  std::vector<UploadInfo> ListLocked(const std::string& owner);
  Status Save(const UploadInfo& info);
  Status Finish(UploadInfo* info);
  void Release(const std::string& id);
  std::filesystem::path PartPath(std::string_view id) const;
  std::filesystem::path RecordPath(std::string_view id) const;

  std::filesystem::path dir_;
  UploadLimits limits_;
  Env* env_;
  std::mutex mu_;
  std::set<std::string> busy_;  // ids with a transfer; guarded by mu_
  std::atomic<int64_t> last_sweep_{0};  // when Create last ran RemoveExpired
};

// Whether `id` is the form of an upload id (32 lowercase hex digits): checked before any path
// is made from it.
bool IsUploadId(std::string_view id);

}  // namespace outpost
