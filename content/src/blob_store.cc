#include "outpost/content/blob_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

#include "outpost/base/file.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {
constexpr size_t kReadBuffer = 1 << 20;
constexpr size_t kParallelHashMin = 256 * 1024;

std::string RandomName() {
  uint8_t r[12];
  randombytes_buf(r, sizeof r);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : r) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}
// Feeds `data` to the whole-file hash and to the chunker (with its per-chunk hashes). Both read
// every byte: on large pieces they run on two cores at once; small pieces are not worth a
// thread.
void Digest(std::span<const uint8_t> data, Hasher* hasher, Chunker* chunker,
            std::vector<Chunk>* chunks) {
  if (data.size() < kParallelHashMin) {
    hasher->Update(data);
    chunker->Update(data, chunks);
    return;
  }
  std::thread whole([hasher, data] { hasher->Update(data); });
  // Joined on every way out: a chunk list that cannot grow (bad_alloc) must not leave a
  // joinable thread behind, which would end the process instead of the session.
  struct JoinOnExit {
    std::thread& t;
    ~JoinOnExit() { t.join(); }
  } join{whole};
  chunker->Update(data, chunks);
}

}  // namespace

// ---- BlobWriter ----

BlobWriter::BlobWriter(BlobStore* store, fs::path temp, std::unique_ptr<WritableFile> file,
                       const ChunkerParams& params)
    : store_(store), temp_(std::move(temp)), file_(std::move(file)), chunker_(params) {}

BlobWriter::~BlobWriter() {
  if (!done_) {
    (void)file_->Close();
    (void)store_->env()->Remove(temp_);
  }
}

Status BlobWriter::Append(std::span<const uint8_t> data) {
  if (done_) return Internal("append to a committed blob writer");
  if (mode_ == Mode::kKnownChunks) return Internal("Append after AppendChunk on one blob writer");
  mode_ = Mode::kChunker;
  Digest(data, &hasher_, &chunker_, &chunks_);
  size_ += data.size();
  return file_->Append(data);
}

Status BlobWriter::AppendChunk(std::span<const uint8_t> data, const Hash& hash) {
  if (done_) return Internal("append to a committed blob writer");
  if (mode_ == Mode::kChunker) return Internal("AppendChunk after Append on one blob writer");
  mode_ = Mode::kKnownChunks;
  hasher_.Update(data);
  chunks_.push_back({size_, static_cast<uint32_t>(data.size()), hash});
  size_ += data.size();
  return file_->Append(data);
}

Result<BlobInfo> BlobWriter::Commit() {
  if (done_) return Internal("blob writer committed twice");
  if (mode_ != Mode::kKnownChunks) chunker_.Finish(&chunks_);
  BlobInfo info;
  info.hash = hasher_.Final();
  info.size = size_;
  info.chunks = std::move(chunks_);
  done_ = true;
  if (store_->Contains(info.hash)) {
    (void)file_->Close();
    (void)store_->env()->Remove(temp_);
    info.existed = true;
    // Another writer may have renamed it into place without syncing its folder yet (or died
    // before it could): sync it before our caller records the blob.
    store_->MarkDirty(store_->PathOf(info.hash));
    return info;
  }
  Status st = file_->Sync();
  if (st.ok()) st = file_->Close();
  if (!st.ok()) {
    (void)store_->env()->Remove(temp_);
    return st;
  }
  return store_->Install(temp_, std::move(info));
}

Result<PendingBlob> BlobWriter::Finish() {
  if (done_) return Internal("blob writer committed twice");
  if (mode_ != Mode::kKnownChunks) chunker_.Finish(&chunks_);
  PendingBlob pending;
  pending.info.hash = hasher_.Final();
  pending.info.size = size_;
  pending.info.chunks = std::move(chunks_);
  done_ = true;
  if (store_->Contains(pending.info.hash)) {
    (void)file_->Close();
    (void)store_->env()->Remove(temp_);
    pending.info.existed = true;
    store_->MarkDirty(store_->PathOf(pending.info.hash));
    return pending;
  }
  Status st = file_->Close();
  if (!st.ok()) {
    (void)store_->env()->Remove(temp_);
    return st;
  }
  pending.temp = temp_;
  return pending;
}

// ---- StoreLock ----

StoreLock& StoreLock::operator=(StoreLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);
}

// ---- BlobStore ----

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const fs::path& root, Env* env,
                                                   ChunkerParams params) {
  OUTPOST_RETURN_IF_ERROR(params.Validate());
  OUTPOST_RETURN_IF_ERROR(env->CreateDirs(root / "blobs"));
  OUTPOST_RETURN_IF_ERROR(env->CreateDirs(root / "tmp"));
  return std::unique_ptr<BlobStore>(new BlobStore(root, env, params));
}

Result<std::unique_ptr<BlobStore>> BlobStore::OpenExisting(const fs::path& root, Env* env) {
  std::error_code ec;
  if (!fs::is_directory(root / "blobs", ec)) {
    return NotFound("no blob store in " + root.string() + " (no blobs/ folder)");
  }
  return std::unique_ptr<BlobStore>(new BlobStore(root, env, ChunkerParams{}));
}

Result<std::unique_ptr<BlobWriter>> BlobStore::NewWriter() {
  fs::path temp = root_ / "tmp" / (RandomName() + ".tmp");
  auto file = env_->NewWritableFile(temp);
  if (!file) return file.error();
  return std::unique_ptr<BlobWriter>(new BlobWriter(this, temp, std::move(*file), params_));
}

Result<BlobInfo> BlobStore::Put(std::string_view data) {
  auto writer = NewWriter();
  if (!writer) return writer.error();
  OUTPOST_RETURN_IF_ERROR(
      (*writer)->Append({reinterpret_cast<const uint8_t*>(data.data()), data.size()}));
  return (*writer)->Commit();
}

namespace {

bool SameFileState(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Adopt's reading: the hash and chunks of the open file `fd` (`st`: its stat before); kChanged
// if it changed meanwhile.
Result<BlobInfo> DigestFile(int fd, const struct stat& st, const fs::path& file,
                            const ChunkerParams& params) {
  Hasher hasher;
  Chunker chunker(params);
  BlobInfo info;
  std::vector<uint8_t> buf(kReadBuffer);
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(info.size));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading " + file.string(), errno);
    if (n == 0) break;
    Digest({buf.data(), static_cast<size_t>(n)}, &hasher, &chunker, &info.chunks);
    info.size += static_cast<uint64_t>(n);
  }
  chunker.Finish(&info.chunks);
  struct stat after {};
  if (::fstat(fd, &after) != 0) return ErrnoStatus("reading " + file.string(), errno);
  if (!SameFileState(st, after) || info.size != static_cast<uint64_t>(st.st_size)) {
    return Status(StatusCode::kChanged, file.string() + " changed while it was read");
  }
  info.hash = hasher.Final();
  return info;
}

}  // namespace

Result<BlobInfo> BlobStore::Adopt(const fs::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus("opening " + file.string(), errno);
  struct stat st {}, blobs {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("reading " + file.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(file.string() + " is not a regular file");
  if (::stat((root_ / "blobs").c_str(), &blobs) != 0) {
    return ErrnoStatus("reading " + (root_ / "blobs").string(), errno);
  }
  if (st.st_dev != blobs.st_dev) {
    return InvalidArgument(file.string() + " is not on the file system of the blob store " +
                           root_.string() + ", so it cannot be moved into it");
  }
  auto info = DigestFile(fd.get(), st, file, params_);
  if (!info) return info.error();
  fs::path target = PathOf(info->hash);
  if (Contains(info->hash)) {
    OUTPOST_RETURN_IF_ERROR(env_->Remove(file));
    info->existed = true;
    MarkDirty(target);  // as in Commit: its folder may not be synced yet
    return info;
  }
  if (::fchmod(fd.get(), 0644) != 0) return ErrnoStatus("making " + file.string() + " a blob", errno);
  OUTPOST_RETURN_IF_ERROR(env_->SyncFile(file));
  OUTPOST_RETURN_IF_ERROR(env_->CreateDirs(target.parent_path()));
  OUTPOST_RETURN_IF_ERROR(env_->Rename(file, target));
  MarkDirty(target);
  return info;
}

fs::path BlobStore::PathOf(const Hash& hash) const {
  std::string hex = hash.Hex();
  return root_ / "blobs" / hex.substr(0, 2) / hex.substr(2, 2) / hex;
}

bool BlobStore::Contains(const Hash& hash) const {
  return ::access(PathOf(hash).c_str(), F_OK) == 0;
}

Result<BlobInfo> BlobStore::Install(const fs::path& temp, BlobInfo info) {
  // The temp file is synced. If another writer installs the same bytes at the same moment, the
  // rename replaces its file with an identical one.
  fs::path target = PathOf(info.hash);
  Status st = env_->CreateDirs(target.parent_path());
  if (st.ok()) st = env_->Rename(temp, target);
  if (!st.ok()) {
    (void)env_->Remove(temp);
    return st;
  }
  MarkDirty(target);
  return info;
}

void BlobStore::MarkDirty(const fs::path& blob_path) {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_dirs_.insert(blob_path.parent_path());
  dirty_dirs_.insert(blob_path.parent_path().parent_path());
}

namespace {
constexpr size_t kSyncDirsOneByOne = 16;
}  // namespace

Result<std::vector<BlobInfo>> BlobStore::InstallBatch(std::vector<PendingBlob> pending) {
  bool any = false;
  for (const auto& p : pending) any |= !p.temp.empty();
  Status synced = any ? env_->SyncFilesystem(root_) : Status::Ok();
  std::vector<BlobInfo> out;
  out.reserve(pending.size());
  for (auto& p : pending) {
    if (!synced.ok()) {
      if (!p.temp.empty()) (void)env_->Remove(p.temp);
      continue;
    }
    if (p.temp.empty()) {
      out.push_back(std::move(p.info));
      continue;
    }
    if (Contains(p.info.hash)) {
      (void)env_->Remove(p.temp);
      p.info.existed = true;
      MarkDirty(PathOf(p.info.hash));
      out.push_back(std::move(p.info));
      continue;
    }
    auto installed = Install(p.temp, std::move(p.info));
    if (!installed) {
      synced = installed.error();
      continue;
    }
    out.push_back(std::move(*installed));
  }
  if (!synced.ok()) return synced;
  return out;
}

Status BlobStore::SyncDirs() {
  std::set<fs::path> dirs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirs.swap(dirty_dirs_);
  }
  if (!dirs.empty()) dirs.insert(root_ / "blobs");
  // A sync or an import of thousands of files dirties as many folders; fsyncing each costs a
  // journal commit (~2 ms), syncfs one for all.
  if (dirs.size() > kSyncDirsOneByOne) return env_->SyncFilesystem(root_);
  for (const auto& d : dirs) OUTPOST_RETURN_IF_ERROR(env_->SyncDir(d));
  return Status::Ok();
}

Status BlobStore::Verify(const Hash& hash) const {
  fs::path path = PathOf(hash);
  auto hashed = HashFile(path);
  if (!hashed) return hashed.error().WithContext("blob");
  Hash actual = *hashed;
  if (actual != hash) {
    return Corrupt("blob " + path.string() + " is damaged: its bytes hash to " + actual.Hex());
  }
  return Status::Ok();
}

Status BlobStore::ForEach(const std::function<void(const Hash&, uint64_t)>& fn,
                          const std::function<void(const fs::path&)>& stray) const {
  std::error_code ec;
  fs::recursive_directory_iterator it(root_ / "blobs", ec), end;
  if (ec) return ErrnoStatus("listing " + (root_ / "blobs").string(), ec.value());
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoStatus("listing " + (root_ / "blobs").string(), ec.value());
    if (it->is_directory()) continue;
    auto hash = Hash::FromHex(it->path().filename().string());
    if (!hash || PathOf(*hash) != it->path()) {
      if (stray) stray(it->path());
      continue;
    }
    fn(*hash, it->file_size(ec));
  }
  return Status::Ok();
}

Status BlobStore::Remove(const Hash& hash) { return env_->Remove(PathOf(hash)); }

Result<fs::path> BlobStore::Quarantine(const Hash& hash) {
  // Its compressed variants first: none may outlive the blob (a server cannot make a new one
  // meanwhile, since it checks the source's hash while it compresses).
  for (const char* suffix : {".gz", ".zst"}) {
    OUTPOST_RETURN_IF_ERROR(env_->Remove(root_ / "cache" / (hash.Hex() + suffix)));
  }
  fs::path dir = root_ / "quarantine";
  OUTPOST_RETURN_IF_ERROR(env_->CreateDirs(dir));
  fs::path to = dir / hash.Hex();
  OUTPOST_RETURN_IF_ERROR(env_->Rename(PathOf(hash), to));
  OUTPOST_RETURN_IF_ERROR(env_->SyncDir(PathOf(hash).parent_path()));
  return to;
}

Status BlobStore::RemoveStaleTemps() {
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
    OUTPOST_RETURN_IF_ERROR(env_->Remove(it->path()));
  }
  return Status::Ok();
}

Result<StoreLock> BlobStore::Lock(int operation) {
  fs::path path = root_ / "blobs.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("opening lock " + path.string(), errno);
  while (::flock(fd, operation) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status(StatusCode::kBusy, "an import or download is running on " + root_.string() +
                                           "; try again when it has finished");
    }
    return ErrnoStatus("locking " + path.string(), err);
  }
  return StoreLock(fd);
}

Result<StoreLock> BlobStore::LockShared() { return Lock(LOCK_SH); }
Result<StoreLock> BlobStore::TryLockExclusive() { return Lock(LOCK_EX | LOCK_NB); }

}  // namespace outpost
