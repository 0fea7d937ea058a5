#include "uploads.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <system_error>

#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/content/sniff.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxRecordBytes = 16 * 1024;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string NewId() {
  std::array<uint8_t, 16> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (uint8_t b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

// A file name as a teacher's device sent it: kept for the title and the stored name, so it must
// be one name (no folder), printable and valid UTF-8.
Status CheckFilename(const std::string& name, size_t max_bytes) {
  if (name.empty()) return InvalidArgument("the file has no name");
  if (name.size() > max_bytes) {
    return InvalidArgument("the file name is longer than " + std::to_string(max_bytes) +
                           " bytes");
  }
  if (!IsValidUtf8(name)) return InvalidArgument("the file name is not valid UTF-8");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("the file name holds a control character");
    }
    if (c == '/' || c == '\\') {
      return InvalidArgument("the file name holds a folder ('/' or '\\'): send the file alone");
    }
  }
  if (name == "." || name == "..") return InvalidArgument("the file name is not a name");
  return Status::Ok();
}

uint64_t StatvfsFree(const fs::path& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

nlohmann::json ToJson(const UploadInfo& info) {
  nlohmann::json j = {{"id", info.id},           {"owner", info.owner},
                      {"filename", info.filename}, {"declared_type", info.declared_type},
                      {"length", info.length},   {"offset", info.offset},
                      {"created_at", info.created_at}, {"updated_at", info.updated_at},
                      {"finished", info.finished}, {"kind", info.kind},
                      {"mime", info.mime}};
  if (info.expected_hash) j["expected_hash"] = info.expected_hash->Hex();
  return j;
}

Result<UploadInfo> FromJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Corrupt("an upload record is not a JSON object");
  try {
    UploadInfo info;
    info.id = j.at("id").get<std::string>();
    info.owner = j.at("owner").get<std::string>();
    info.filename = j.at("filename").get<std::string>();
    info.declared_type = j.value("declared_type", "");
    info.length = j.at("length").get<uint64_t>();
    info.offset = j.at("offset").get<uint64_t>();
    info.created_at = j.at("created_at").get<int64_t>();
    info.updated_at = j.at("updated_at").get<int64_t>();
    info.finished = j.at("finished").get<bool>();
    info.kind = j.value("kind", "");
    info.mime = j.value("mime", "");
    if (j.contains("expected_hash")) {
      info.expected_hash = Hash::FromHex(j.at("expected_hash").get<std::string>());
      if (!info.expected_hash) return Corrupt("an upload record's expected_hash is not a hash");
    }
    if (!IsUploadId(info.id) || info.offset > info.length) {
      return Corrupt("an upload record does not hold together");
    }
    return info;
  } catch (const nlohmann::json::exception& e) {
    return Corrupt(std::string("an upload record is incomplete: ") + e.what());
  }
}

}  // namespace

bool IsUploadId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ---- UploadStore

Result<std::unique_ptr<UploadStore>> UploadStore::Open(const fs::path& dir,
                                                       const UploadLimits& limits, Env* env) {
  OUTPOST_RETURN_IF_ERROR(env->CreateDirs(dir));
  std::unique_ptr<UploadStore> store(new UploadStore(dir, limits, env));
  store->free_bytes = [dir] { return StatvfsFree(dir); };
  OUTPOST_RETURN_IF_ERROR(store->Recover());
  return store;
}

fs::path UploadStore::PartPath(std::string_view id) const {
  return dir_ / (std::string(id) + ".part");
}
fs::path UploadStore::RecordPath(std::string_view id) const {
  return dir_ / (std::string(id) + ".json");
}

// After a crash: temp files, records without bytes and bytes without records go; a .part
// longer than its record's durable offset is cut back to it.
Status UploadStore::Recover() {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) entries.push_back(entry.path());
  if (ec) return IoError("listing " + dir_.string() + ": " + ec.message());
  for (const fs::path& path : entries) {
    std::string stem = path.stem().string();
    std::string ext = path.extension().string();
    bool known = IsUploadId(stem) && (ext == ".part" || ext == ".json");
    if (!known) {
      OUTPOST_RETURN_IF_ERROR(env_->Remove(path));
      continue;
    }
    if (ext == ".part" && !fs::exists(RecordPath(stem))) {
      OUTPOST_RETURN_IF_ERROR(env_->Remove(path));
      continue;
    }
    if (ext != ".json") continue;
    auto info = Load(stem);
    if (!info || !fs::exists(PartPath(stem))) {
      OUTPOST_RETURN_IF_ERROR(env_->Remove(PartPath(stem)));
      OUTPOST_RETURN_IF_ERROR(env_->Remove(path));
      continue;
    }
    uint64_t size = fs::file_size(PartPath(stem), ec);
    if (!ec && size > info->offset && ::truncate(PartPath(stem).c_str(),
                                                 static_cast<off_t>(info->offset)) != 0) {
      return ErrnoStatus("cutting " + PartPath(stem).string() + " back", errno);
    }
  }
  return Status::Ok();
}

Result<UploadInfo> UploadStore::Load(std::string_view id) {
  if (!IsUploadId(id)) return NotFound("no such upload");
  auto text = ReadWholeFile(RecordPath(id), kMaxRecordBytes);
  if (!text) {
    if (text.error().code() == StatusCode::kNotFound) return NotFound("no such upload");
    return text.error();
  }
  auto info = FromJson(*text);
  if (!info) return info.error().WithContext(RecordPath(id).string());
  if (info->id != id) return Corrupt(RecordPath(id).string() + " names another upload");
  info->file = PartPath(id);
  return info;
}

Status UploadStore::Save(const UploadInfo& info) {
  return WriteFileAtomically(env_, RecordPath(info.id), ToJson(info).dump(),
                             /*private_file=*/true);
}

Result<UploadInfo> UploadStore::Create(const std::string& owner, uint64_t length,
                                       const std::string& filename,
                                       const std::string& declared_type,
                                       const std::optional<Hash>& expected_hash) {
  OUTPOST_RETURN_IF_ERROR(CheckFilename(filename, limits_.max_filename_bytes));
  if (length > limits_.max_upload_bytes) {
    return InvalidArgument("the file is larger than this box takes (" +
                           std::to_string(limits_.max_upload_bytes >> 20) + " MB at most)");
  }
  if (declared_type.size() > 255 || !IsValidUtf8(declared_type)) {
    return InvalidArgument("the file type sent is not a type");
  }
  int64_t now = Now();
  if (now - last_sweep_ >= 3600) {
    last_sweep_ = now;
    (void)RemoveExpired(now);  // idle uploads go before they are counted against the limits
  }
  std::lock_guard lock(mu_);
  int mine = 0, all = 0;
  uint64_t owed = 0;  // bytes the unfinished uploads will still write
  for (const UploadInfo& other : ListLocked("")) {
    if (other.finished) continue;
    ++all;
    if (other.owner == owner) ++mine;
    owed += other.length - other.offset;
  }
  if (mine >= limits_.max_unfinished_per_account || all >= limits_.max_unfinished) {
    return Denied("too many unfinished uploads: finish or cancel some first");
  }
  uint64_t free = free_bytes ? free_bytes() : UINT64_MAX;
  uint64_t need = length + owed + limits_.reserve_bytes;
  if (need < length || free < need) {
    return Status(StatusCode::kNoSpace, "not enough free space on the box for this file (" +
                                            std::to_string(length >> 20) + " MB; " +
                                            std::to_string(free >> 20) + " MB free)");
  }
  UploadInfo info;
  info.id = NewId();
  info.owner = owner;
  info.filename = filename;
  info.declared_type = declared_type;
  info.length = length;
  info.created_at = info.updated_at = Now();
  info.expected_hash = expected_hash;
  info.file = PartPath(info.id);
  auto part = env_->NewWritableFile(info.file, /*private_file=*/true);
  if (!part) return part.error();
  OUTPOST_RETURN_IF_ERROR((*part)->Close());
  Status saved = Save(info);
  if (!saved.ok()) {
    (void)env_->Remove(info.file);
    return saved;
  }
  if (length == 0) {
    OUTPOST_RETURN_IF_ERROR(Finish(&info));
  }
  return info;
}

Result<UploadInfo> UploadStore::Get(std::string_view id, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto info = Load(id);
  if (!info) return info.error();
  if (info->owner != owner) return NotFound("no such upload");
  return info;
}

std::vector<UploadInfo> UploadStore::ListLocked(const std::string& owner) {
  std::vector<UploadInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path& path = entry.path();
    if (path.extension() != ".json") continue;
    auto info = Load(path.stem().string());
    if (info && (owner.empty() || info->owner == owner)) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), [](const UploadInfo& a, const UploadInfo& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
  });
  return out;
}

std::vector<UploadInfo> UploadStore::List(const std::string& owner) {
  std::lock_guard lock(mu_);
  if (owner.empty()) return {};
  return ListLocked(owner);
}

Result<std::unique_ptr<UploadTransfer>> UploadStore::Begin(std::string_view id,
                                                           const std::string& owner,
                                                           uint64_t offset) {
  std::lock_guard lock(mu_);
  auto info = Load(id);
  if (!info || info->owner != owner) return NotFound("no such upload");
  if (busy_.count(info->id)) {
    return Status(StatusCode::kBusy, "this upload is already being sent by another request");
  }
  if (info->finished || offset != info->offset) {
    return Status(StatusCode::kChanged, "the upload is at byte " + std::to_string(info->offset) +
                                            ", not " + std::to_string(offset));
  }
  int fd = ::open(info->file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + info->file.string(), errno);
  busy_.insert(info->id);
  return std::unique_ptr<UploadTransfer>(new UploadTransfer(this, std::move(*info), fd));
}

void UploadStore::Release(const std::string& id) {
  std::lock_guard lock(mu_);
  busy_.erase(id);
}

// The last byte is in: what the content is, and whether it is what the client said it sent.
Status UploadStore::Finish(UploadInfo* info) {
  auto head = ReadFileRange(info->file, 0, std::min<uint64_t>(info->length, kSniffBytes));
  if (!head) return head.error();
  KindGuess guess = DetectKind(info->filename,
                               std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>(head->data()), head->size()));
  if (info->expected_hash) {
    auto hash = HashFile(info->file);
    if (!hash) return hash.error();
    if (*hash != *info->expected_hash) {
      (void)env_->Remove(RecordPath(info->id));
      (void)env_->Remove(info->file);
      return Corrupt("the file that arrived is not the one sent (its BLAKE2b-256 is " +
                     hash->Hex() + "); it was removed: send it again");
    }
  }
  info->finished = true;
  info->kind = KindName(guess.kind);
  info->mime = guess.mime;
  return Save(*info);
}

Status UploadStore::Remove(std::string_view id, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto info = Load(id);
  if (!info || info->owner != owner) return NotFound("no such upload");
  if (busy_.count(info->id)) {
    return Status(StatusCode::kBusy, "this upload is being sent; try again when it stops");
  }
  OUTPOST_RETURN_IF_ERROR(env_->Remove(RecordPath(info->id)));
  return env_->Remove(info->file);
}

Status UploadStore::Placed(std::string_view id, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto info = Load(id);
  if (!info || info->owner != owner) return NotFound("no such upload");
  if (!info->finished) return InvalidArgument("the upload has not finished");
  OUTPOST_RETURN_IF_ERROR(env_->Remove(RecordPath(info->id)));
  return env_->Remove(info->file);
}

int UploadStore::RemoveExpired(int64_t now) {
  std::lock_guard lock(mu_);
  int removed = 0;
  for (const UploadInfo& info : ListLocked("")) {
    if (busy_.count(info.id)) continue;
    auto ttl = info.finished ? limits_.finished_ttl : limits_.unfinished_ttl;
    if (now - info.updated_at < ttl.count()) continue;
    if (env_->Remove(RecordPath(info.id)).ok() && env_->Remove(info.file).ok()) ++removed;
  }
  return removed;
}

// ---- UploadTransfer

UploadTransfer::UploadTransfer(UploadStore* store, UploadInfo info, int fd)
    : store_(store), info_(std::move(info)), fd_(fd) {
  start_ = offset_ = durable_ = info_.offset;
}

UploadTransfer::~UploadTransfer() {
  if (!done_) (void)Abort(/*keep=*/true);
}

Status UploadTransfer::Write(std::span<const uint8_t> data) {
  if (done_) return Internal("write after the transfer ended");
  if (data.size() > info_.length - offset_) {
    return InvalidArgument("more bytes than the upload's length (" +
                           std::to_string(info_.length) + ")");
  }
  uint64_t from = offset_;
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing " + info_.file.string(), errno);
    offset_ += static_cast<uint64_t>(n);
    data = data.subspan(static_cast<size_t>(n));
  }
  // Start writing these bytes back now, without waiting: the fdatasync at the next durable
  // point then finds most of them on disk already, instead of stalling the upload for all 16 MiB
  // (and a phone's bytes do not pile up in the page cache of a 1 GB box).
  (void)::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(offset_ - from),
                          SYNC_FILE_RANGE_WRITE);
  if (offset_ - durable_ >= store_->limits_.durable_every) return MakeDurable();
  return Status::Ok();
}

Status UploadTransfer::MakeDurable() {
  if (offset_ == durable_) return Status::Ok();
  if (::fdatasync(fd_) != 0) return ErrnoStatus("syncing " + info_.file.string(), errno);
  info_.offset = offset_;
  info_.updated_at = Now();
  OUTPOST_RETURN_IF_ERROR(store_->Save(info_));
  durable_ = offset_;
  return Status::Ok();
}

Result<UploadInfo> UploadTransfer::Commit() {
  if (done_) return Internal("commit after the transfer ended");
  Status durable = MakeDurable();
  if (!durable.ok()) {
    (void)Abort(/*keep=*/true);
    return durable;
  }
  done_ = true;
  ::close(fd_);
  fd_ = -1;
  Status finished = Status::Ok();
  // Outside the store's lock (hashing a large file takes a while); the id stays busy.
  if (offset_ == info_.length) finished = store_->Finish(&info_);
  store_->Release(info_.id);
  if (!finished.ok()) return finished;
  return info_;
}

Result<UploadInfo> UploadTransfer::CommitWhole() {
  if (done_) return Internal("commit after the transfer ended");
  info_.length = offset_;  // Commit finishes it (offset == length), and Finish saves the record
  return Commit();
}

Status UploadTransfer::Abort(bool keep) {
  if (done_) return Status::Ok();
  done_ = true;
  Status result = Status::Ok();
  if (keep) {
    // What was written whole stays: the client resumes from the offset it is told.
    if (::fdatasync(fd_) == 0) {
      info_.offset = offset_;
      info_.updated_at = Now();
      result = store_->Save(info_);
    } else {
      result = ErrnoStatus("syncing " + info_.file.string(), errno);
    }
  }
  if (!keep || !result.ok()) {
    // Back to the last offset recorded as durable (this transfer's start when not keeping).
    uint64_t back = keep ? durable_ : start_;
    if (::ftruncate(fd_, static_cast<off_t>(back)) != 0 && result.ok()) {
      result = ErrnoStatus("cutting " + info_.file.string() + " back", errno);
    }
    if (!keep && durable_ != start_) {
      info_.offset = start_;
      Status saved = store_->Save(info_);
      if (result.ok()) result = saved;
    }
  }
  ::close(fd_);
  fd_ = -1;
  store_->Release(info_.id);
  return result;
}

}  // namespace outpost
