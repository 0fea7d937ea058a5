#include "staging.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>

#include "outpost/base/file.h"

namespace outpost::sync {

Result<StagingLock> StagingLock::Take(const std::filesystem::path& dir, const char* busy) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  int fd = ::open((dir / "sync.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("opening the sync lock", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status(StatusCode::kBusy, busy);
  }
  return StagingLock(fd);
}

StagingLock::~StagingLock() {
  if (fd_ >= 0) ::close(fd_);
}

namespace fs = std::filesystem;

namespace {
constexpr size_t kRecordHead = 36;
constexpr uint32_t kMaxChunk = 16u << 20;

Status SyncFolder(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("syncing " + dir.string(), err);
}
}  // namespace

Result<std::unique_ptr<StagingLog>> StagingLog::Open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("creating " + dir.string() + ": " + ec.message());
  std::unique_ptr<StagingLog> log(new StagingLog(dir));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log") OUTPOST_RETURN_IF_ERROR(log->Scan(entry.path()));
  }
  if (ec) return IoError("listing " + dir.string() + ": " + ec.message());
  return log;
}

StagingLog::~StagingLog() {
  for (auto& f : files_) {
    if (f.fd >= 0 && f.fd != fd_) ::close(f.fd);
  }
  if (fd_ >= 0) ::close(fd_);
}

size_t StagingLog::AddFile(const fs::path& path) {
  files_.push_back({path, -1});
  return files_.size() - 1;
}

// A log holds every chunk a sync received (gigabytes, for a first sync), so it is read a record
// at a time: a head, then at most kMaxChunk bytes. A range past the end (kCorrupt) is the end
// of the log, or the torn record a cut left.
Status StagingLog::Scan(const fs::path& file) {
  size_t file_index = AddFile(file);
  uint64_t pos = 0;
  while (true) {
    auto head = ReadFileRange(file, pos, kRecordHead);
    if (!head) return head.error().code() == StatusCode::kCorrupt ? Status::Ok() : head.error();
    Hash hash;
    std::memcpy(hash.bytes.data(), head->data(), 32);
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<uint8_t>((*head)[32 + i]);
    if (length > kMaxChunk) break;  // torn
    auto data = ReadFileRange(file, pos + kRecordHead, length);
    if (!data) return data.error().code() == StatusCode::kCorrupt ? Status::Ok() : data.error();
    if (Hash::Of(*data) != hash) break;  // damaged: nothing after it is trusted
    index_[hash] = {file_index, pos + kRecordHead, length};
    pos += kRecordHead + length;
  }
  return Status::Ok();
}

// The log this process writes: created at its first chunk. Under mu_.
Status StagingLog::OpenCurrent() {
  if (fd_ >= 0) return Status::Ok();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  current_ = dir_ / ("chunks-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) +
                     "-" + std::to_string(::getpid()) + ".log");
  fd_ = ::open(current_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) return ErrnoStatus("creating " + current_.string(), errno);
  end_ = 0;
  current_file_ = AddFile(current_);
  files_[current_file_].fd = fd_;
  return Status::Ok();
}

// Writes a record at the end of the current log, the head and the chunk in one call, without
// copying the chunk. Under mu_.
Status StagingLog::WriteRecord(const char* head, std::string_view data) {
  const size_t total = kRecordHead + data.size();
  size_t done = 0;
  while (done < total) {
    iovec parts[2];
    int count = 0;
    if (done < kRecordHead) parts[count++] = {const_cast<char*>(head) + done, kRecordHead - done};
    size_t from = done > kRecordHead ? done - kRecordHead : 0;
    parts[count++] = {const_cast<char*>(data.data()) + from, data.size() - from};
    ssize_t w = ::pwritev(fd_, parts, count, static_cast<off_t>(end_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      // A full disk: cut the partial record off so the log stays well formed.
      if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0) {
      }
      return ErrnoStatus("writing " + current_.string(), err);
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status StagingLog::Append(const Hash& chunk, std::string_view data) {
  std::lock_guard lock(mu_);
  if (index_.count(chunk)) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(OpenCurrent());
  char head[kRecordHead];
  std::memcpy(head, chunk.bytes.data(), 32);
  uint32_t n = static_cast<uint32_t>(data.size());
  head[32] = static_cast<char>(n >> 24);
  head[33] = static_cast<char>(n >> 16);
  head[34] = static_cast<char>(n >> 8);
  head[35] = static_cast<char>(n);
  OUTPOST_RETURN_IF_ERROR(WriteRecord(head, data));
  index_[chunk] = {current_file_, end_ + kRecordHead, n};
  end_ += kRecordHead + data.size();
  unsynced_ += kRecordHead + data.size();
  return Status::Ok();
}

Status StagingLog::Sync() {
  std::lock_guard lock(mu_);
  if (fd_ < 0 || unsynced_ == 0) return Status::Ok();
  if (::fdatasync(fd_) != 0) return ErrnoStatus("syncing " + current_.string(), errno);
  unsynced_ = 0;
  if (!dir_synced_) {
    OUTPOST_RETURN_IF_ERROR(SyncFolder(dir_));
    dir_synced_ = true;
  }
  return Status::Ok();
}

Result<std::string> StagingLog::Read(const Hash& chunk, bool verify) const {
  Where where;
  int fd = -1;
  fs::path path;
  {
    std::lock_guard lock(mu_);
    auto it = index_.find(chunk);
    if (it == index_.end()) return NotFound("chunk " + chunk.Hex() + " is not staged");
    where = it->second;
    File& file = files_[where.file];
    if (file.fd < 0) {
      file.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (file.fd < 0) return ErrnoStatus("opening " + file.path.string(), errno);
    }
    fd = file.fd;  // stays open until Clear() or the destructor, which no reader overlaps
    path = file.path;
  }
  std::string data(where.length, '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::pread(fd, data.data() + done, data.size() - done,
                        static_cast<off_t>(where.offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("reading " + path.string(), errno);
    if (r == 0) return Corrupt(path.string() + " is shorter than its index says");
    done += static_cast<size_t>(r);
  }
  if (verify && Hash::Of(data) != chunk) return Corrupt("staged chunk " + chunk.Hex() + " is damaged");
  return data;
}

Status StagingLog::Clear() {
  std::lock_guard lock(mu_);
  for (auto& f : files_) {
    if (f.fd >= 0 && f.fd != fd_) ::close(f.fd);
  }
  files_.clear();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().extension() == ".log") fs::remove(entry.path(), ec);
  }
  index_.clear();
  return SyncFolder(dir_);
}

}  // namespace outpost::sync
