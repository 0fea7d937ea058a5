// PowerCut's two faces, the Env and the SQLite VFS, and the bookkeeping they share (what was
// written since each file's last sync, the names not yet synced), then the undo.
#include "testing/power_cut.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <system_error>

#include "outpost/content/blob_store.h"
#include "outpost/content/maintenance.h"

namespace outpost::testing {

namespace fs = std::filesystem;

namespace {

// The one PowerCut alive (the VFS's functions are C callbacks), or null: then the VFS only
// passes every call on. The VFS stays registered once made, because connections opened through
// it may outlive the PowerCut (a fixture's other members); it is the default only while a
// PowerCut lives.
std::atomic<PowerCut*> g_power_cut{nullptr};
sqlite3_vfs* g_base_vfs = nullptr;
sqlite3_vfs g_vfs{};

// xorshift64: the same seed gives the same survivors.
bool Coin(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return (*state >> 11) & 1;
}

std::string ReadAt(int fd, uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  ssize_t n = ::pread(fd, out.data(), length, static_cast<off_t>(offset));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

class PowerCutFile : public WritableFile {
 public:
  PowerCutFile(PowerCut* pc, std::unique_ptr<WritableFile> base, int fd, std::string name)
      : pc_(pc), base_(std::move(base)), fd_(fd), name_(std::move(name)) {}
  ~PowerCutFile() override { (void)Close(); }
  Status Append(std::span<const uint8_t> data) override {
    OUTPOST_RETURN_IF_ERROR(pc_->Step("writing " + name_));
    pc_->BeforeWrite(fd_, -1, {reinterpret_cast<const char*>(data.data()), data.size()});
    return base_->Append(data);
  }
  Status Sync() override {
    OUTPOST_RETURN_IF_ERROR(pc_->Step("syncing " + name_));  // the model, not the disk, keeps it
    pc_->Synced(fd_);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return base_->Close();
  }

 private:
  PowerCut* pc_;
  std::unique_ptr<WritableFile> base_;
  int fd_;  // reads the same file, for its inode
  std::string name_;
};

class PowerCutEnv : public Env {
 public:
  PowerCutEnv(PowerCut* pc, Env* base) : pc_(pc), base_(base) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const fs::path& path,
                                                        bool private_file) override {
    if (!pc_->Tracked(path)) return base_->NewWritableFile(path, private_file);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("creating " + path.string()));
    int old = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (old >= 0) {
      pc_->BeforeTruncate(old, 0);  // O_TRUNC
      ::close(old);
    }
    auto file = base_->NewWritableFile(path, private_file);
    if (!file) return file.error();
    if (old < 0) pc_->Created(path, false);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
    return std::unique_ptr<WritableFile>(new PowerCutFile(pc_, std::move(*file), fd, path.string()));
  }
  Status Rename(const fs::path& from, const fs::path& to) override {
    if (!pc_->Tracked(from) && !pc_->Tracked(to)) return base_->Rename(from, to);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("renaming " + from.string()));
    return pc_->Rename(base_, from, to);
  }
  Status SyncDir(const fs::path& dir) override {
    if (!pc_->Tracked(dir)) return base_->SyncDir(dir);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("syncing folder " + dir.string()));
    pc_->DirSynced(dir);
    return Status::Ok();
  }
  Status SyncFile(const fs::path& path) override {
    if (!pc_->Tracked(path)) return base_->SyncFile(path);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("syncing " + path.string()));
    pc_->SyncedPath(path);
    return Status::Ok();
  }
  Status SyncFilesystem(const fs::path& path) override {
    if (!pc_->Tracked(path)) return base_->SyncFilesystem(path);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("syncing the file system of " + path.string()));
    pc_->EverythingSynced();
    return Status::Ok();
  }
  Status CreateDirs(const fs::path& dir) override {
    if (!pc_->Tracked(dir)) return base_->CreateDirs(dir);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("creating folder " + dir.string()));
    std::vector<fs::path> missing;
    for (fs::path d = dir; !d.empty() && !fs::exists(d); d = d.parent_path()) missing.push_back(d);
    OUTPOST_RETURN_IF_ERROR(base_->CreateDirs(dir));
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) pc_->Created(*it, true);
    return Status::Ok();
  }
  Status Remove(const fs::path& path) override {
    if (!pc_->Tracked(path)) return base_->Remove(path);
    OUTPOST_RETURN_IF_ERROR(pc_->Step("removing " + path.string()));
    return pc_->Remove(base_, path);
  }
  void CrashPoint(const char*) override {}

 private:
  PowerCut* pc_;
  Env* base_;
};

}  // namespace

PowerCut::PowerCut(fs::path root, Env* base)
    : root_(fs::weakly_canonical(root)),
      backups_dir_(root_.parent_path() / (root_.filename().string() + ".power-cut")),
      env_(std::make_unique<PowerCutEnv>(this, base)) {
  fs::create_directories(backups_dir_);
  RegisterVfs();
}

PowerCut::~PowerCut() {
  g_power_cut = nullptr;
  sqlite3_vfs_register(g_base_vfs, 1);
  std::error_code ec;
  fs::remove_all(backups_dir_, ec);
}

void PowerCut::CutAt(long step) {
  steps_ = 0;
  cut_ = false;
  cut_at_ = step;
}

bool PowerCut::Tracked(const fs::path& path) const {
  fs::path p = path.is_absolute() ? path.lexically_normal() : fs::absolute(path).lexically_normal();
  auto [root_end, p_it] = std::mismatch(root_.begin(), root_.end(), p.begin(), p.end());
  return root_end == root_.end();
}

Status PowerCut::Step(const std::string& what) {
  if (cut_) return IoError(what + ": the power is off");
  long n = steps_++;
  if (cut_at_ >= 0 && n >= cut_at_) {
    cut_ = true;
    return IoError(what + ": the power is off");
  }
  return Status::Ok();
}

PowerCut::FileState* PowerCut::StateOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  auto [it, added] = files_.try_emplace({st.st_dev, st.st_ino});
  if (added) {
    it->second.durable_size = static_cast<uint64_t>(st.st_size);
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    it->second.path = fs::read_symlink(link);
  }
  return &it->second;
}

void PowerCut::BeforeWrite(int fd, int64_t offset, std::string_view data) {
  std::lock_guard lock(mu_);
  FileState* f = StateOf(fd);
  struct stat st;
  if (!f || ::fstat(fd, &st) != 0) return;
  uint64_t at = offset < 0 ? static_cast<uint64_t>(st.st_size) : static_cast<uint64_t>(offset);
  f->undo.push_back({at, false, ReadAt(fd, at, data.size()), std::string(data)});
}

void PowerCut::BeforeTruncate(int fd, uint64_t size) {
  std::lock_guard lock(mu_);
  FileState* f = StateOf(fd);
  struct stat st;
  if (!f || ::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) <= size) return;
  f->undo.push_back({size, true, ReadAt(fd, size, static_cast<uint64_t>(st.st_size) - size), {}});
}

void PowerCut::Synced(int fd) {
  std::lock_guard lock(mu_);
  FileState* f = StateOf(fd);
  struct stat st;
  if (!f || ::fstat(fd, &st) != 0) return;
  f->undo.clear();
  f->durable_size = static_cast<uint64_t>(st.st_size);
}

void PowerCut::SyncedPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  Synced(fd);
  ::close(fd);
}

void PowerCut::Created(const fs::path& path, bool is_dir, bool sqlite) {
  std::lock_guard lock(mu_);
  Name n{is_dir ? NameOp::kMkdir : NameOp::kCreate, path.lexically_normal(), {}, {}};
  n.sqlite = sqlite;
  names_.push_back(std::move(n));
}

fs::path PowerCut::NextBackup() { return backups_dir_ / std::to_string(backups_++); }

void PowerCut::MoveTracked(const fs::path& from, const fs::path& to) {
  for (auto& [key, f] : files_) {
    if (f.path == from) f.path = to;
  }
}

Status PowerCut::Rename(Env* base, const fs::path& from, const fs::path& to) {
  std::lock_guard lock(mu_);
  Name n{NameOp::kRename, to.lexically_normal(), from.lexically_normal(), {}};
  if (::access(to.c_str(), F_OK) == 0) {
    n.backup = NextBackup();
    if (::link(to.c_str(), n.backup.c_str()) != 0) return ErrnoStatus("keeping " + to.string(), errno);
  }
  Status st = base->Rename(from, to);
  if (!st.ok()) {
    if (!n.backup.empty()) ::unlink(n.backup.c_str());
    return st;
  }
  if (!n.backup.empty()) MoveTracked(n.path, n.backup);
  MoveTracked(n.from, n.path);
  names_.push_back(std::move(n));
  return Status::Ok();
}

Status PowerCut::Remove(Env* base, const fs::path& path, bool durable) {
  std::lock_guard lock(mu_);
  if (::access(path.c_str(), F_OK) != 0) return base->Remove(path);
  Name n{NameOp::kRemove, path.lexically_normal(), {}, NextBackup()};
  n.durable = durable;
  if (::link(path.c_str(), n.backup.c_str()) != 0) return ErrnoStatus("keeping " + path.string(), errno);
  Status st = base->Remove(path);
  if (!st.ok()) {
    ::unlink(n.backup.c_str());
    return st;
  }
  MoveTracked(n.path, n.backup);
  names_.push_back(std::move(n));
  return Status::Ok();
}

void PowerCut::DirSynced(const fs::path& dir) {
  std::lock_guard lock(mu_);
  DirSyncedLocked(dir);
}

void PowerCut::DirSyncedLocked(const fs::path& dir) {
  fs::path d = dir.lexically_normal();
  if (!d.has_filename()) d = d.parent_path();
  for (Name& n : names_) {
    if (n.op == NameOp::kRename) {
      // The new name is there once its folder is synced; the old one may linger (below).
      n.to_synced |= n.path.parent_path() == d;
      n.from_synced |= n.from.parent_path() == d;
      n.durable |= n.to_synced;
    } else if (n.path.parent_path() == d) {
      n.durable = true;
    }
  }
}

void PowerCut::EverythingSynced() {
  std::lock_guard lock(mu_);
  for (auto& [key, f] : files_) {
    f.undo.clear();
    struct stat st;
    if (::stat(f.path.c_str(), &st) == 0) f.durable_size = static_cast<uint64_t>(st.st_size);
  }
  for (Name& n : names_) n.durable = n.from_synced = true;
}

// SQLite fsyncs the folder of a journal or log it created at the file's first sync: every name
// in that folder is durable then.
void PowerCut::SqliteSynced(const fs::path& path) {
  std::lock_guard lock(mu_);
  fs::path p = path.lexically_normal();
  bool created = false;
  for (const Name& n : names_) created |= n.sqlite && !n.durable && n.path == p;
  if (created) DirSyncedLocked(p.parent_path());
}

void PowerCut::Reset() {
  std::lock_guard lock(mu_);
  for (const Name& n : names_) {
    if (!n.backup.empty()) ::unlink(n.backup.c_str());
  }
  names_.clear();
  files_.clear();
  steps_ = 0;
  cut_ = false;
  cut_at_ = -1;
}

// Back to the file as it was at its last sync (every write undone, newest first), then, with
// `rng`, the writes that reached the disk done again, in order.
Status PowerCut::RestoreFile(const FileState& f, uint64_t* rng) {
  int fd = ::open(f.path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::Ok() : ErrnoStatus("restoring " + f.path.string(), errno);
  bool ok = true;
  for (auto it = f.undo.rbegin(); it != f.undo.rend(); ++it) {
    const std::string& b = it->old_bytes;
    ok &= ::pwrite(fd, b.data(), b.size(), static_cast<off_t>(it->offset)) == static_cast<ssize_t>(b.size());
  }
  ok &= ::ftruncate(fd, static_cast<off_t>(f.durable_size)) == 0;
  for (const Undo& u : f.undo) {
    if (!rng || !Coin(rng)) continue;  // this one never reached the disk
    if (u.truncation) {
      ok &= ::ftruncate(fd, static_cast<off_t>(u.offset)) == 0;
    } else {
      const std::string& b = u.new_bytes;
      ok &= ::pwrite(fd, b.data(), b.size(), static_cast<off_t>(u.offset)) == static_cast<ssize_t>(b.size());
    }
  }
  ::close(fd);
  return ok ? Status::Ok() : IoError("restoring " + f.path.string());
}

Status PowerCut::RestoreData(uint64_t seed) {
  uint64_t rng = seed;
  for (const auto& [key, f] : files_) {
    OUTPOST_RETURN_IF_ERROR(RestoreFile(f, seed ? &rng : nullptr));
  }
  return Status::Ok();
}

Status PowerCut::UndoName(const Name& n) {
  std::error_code ec;
  switch (n.op) {
    case NameOp::kCreate:
    case NameOp::kMkdir:
      fs::remove_all(n.path, ec);
      break;
    case NameOp::kRename:
      fs::rename(n.path, n.from, ec);
      if (!ec && !n.backup.empty()) fs::rename(n.backup, n.path, ec);
      break;
    case NameOp::kRemove:
      fs::rename(n.backup, n.path, ec);
      break;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return IoError("undoing a change to " + n.path.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Status PowerCut::DropUnsynced(uint64_t seed) {
  {
    std::lock_guard lock(mu_);
    OUTPOST_RETURN_IF_ERROR(RestoreData(seed));
    // Names not synced survive up to a random point of their order (none with seed 0).
    size_t pending = 0;
    for (const Name& n : names_) pending += !n.durable;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t kept = seed ? (rng >> 7) % (pending + 1) : 0;
    size_t seen = 0;
    std::vector<const Name*> undo;
    for (const Name& n : names_) {
      if (!n.durable && seen++ >= kept) undo.push_back(&n);
    }
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) OUTPOST_RETURN_IF_ERROR(UndoName(**it));
    // A rename made durable by its new folder's sync alone: the old name can still be there.
    for (const Name& n : names_) {
      if (n.op == NameOp::kRename && n.durable && !n.from_synced && ::access(n.from.c_str(), F_OK) != 0 &&
          ::link(n.path.c_str(), n.from.c_str()) != 0) {
        return ErrnoStatus("putting back " + n.from.string(), errno);
      }
    }
  }
  Reset();
  return Status::Ok();
}


// ---- the SQLite VFS: the default "unix" VFS, with every write to a file under `root` counted
// and kept for the undo. ----

namespace {

struct ShimFile {
  sqlite3_file base;     // what SQLite sees; pMethods is kShimMethods
  sqlite3_file* real;    // the unix VFS's file, allocated right after this struct
  int fd;                // reads the same file (-1: not under root)
  char path[512];
};

ShimFile* Shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Shim(f)->real; }
bool TrackedFile(sqlite3_file* f) {
  PowerCut* pc = g_power_cut;
  return Shim(f)->fd >= 0 && pc && pc->Tracked(Shim(f)->path);
}

int ShimClose(sqlite3_file* f) {
  if (Shim(f)->fd >= 0) ::close(Shim(f)->fd);
  return Real(f)->pMethods->xClose(Real(f));
}
int ShimRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, offset);
}
int ShimWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 offset) {
  if (TrackedFile(f)) {
    if (!g_power_cut.load()->Step(std::string("sqlite write ") + Shim(f)->path).ok()) return SQLITE_IOERR_WRITE;
    g_power_cut.load()->BeforeWrite(Shim(f)->fd, offset, {static_cast<const char*>(buf), static_cast<size_t>(n)});
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, n, offset);
}
int ShimTruncate(sqlite3_file* f, sqlite3_int64 size) {
  if (TrackedFile(f)) {
    if (!g_power_cut.load()->Step(std::string("sqlite truncate ") + Shim(f)->path).ok()) return SQLITE_IOERR_TRUNCATE;
    g_power_cut.load()->BeforeTruncate(Shim(f)->fd, static_cast<uint64_t>(size));
  }
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int ShimSync(sqlite3_file* f, int flags) {
  if (TrackedFile(f) && !g_power_cut.load()->Step(std::string("sqlite sync ") + Shim(f)->path).ok()) {
    return SQLITE_IOERR_FSYNC;
  }
  if (!TrackedFile(f)) return Real(f)->pMethods->xSync(Real(f), flags);
  g_power_cut.load()->Synced(Shim(f)->fd);  // the model, not the disk, keeps it
  g_power_cut.load()->SqliteSynced(Shim(f)->path);
  return SQLITE_OK;
}
int ShimFileSize(sqlite3_file* f, sqlite3_int64* size) { return Real(f)->pMethods->xFileSize(Real(f), size); }
int ShimLock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int ShimUnlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int ShimCheckReserved(sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); }
int ShimFileControl(sqlite3_file* f, int op, void* arg) { return Real(f)->pMethods->xFileControl(Real(f), op, arg); }
int ShimSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int ShimDeviceCharacteristics(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }
int ShimShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShimShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShimShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShimShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }
int ShimFetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), offset, n, out);
}
int ShimUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), offset, p);
}

const sqlite3_io_methods kShimMethods = {
    3,          ShimClose,        ShimRead,        ShimWrite,        ShimTruncate,
    ShimSync,   ShimFileSize,     ShimLock,        ShimUnlock,       ShimCheckReserved,
    ShimFileControl, ShimSectorSize, ShimDeviceCharacteristics, ShimShmMap, ShimShmLock,
    ShimShmBarrier, ShimShmUnmap, ShimFetch,       ShimUnfetch,
};

int ShimOpen(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  ShimFile* shim = Shim(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  shim->fd = -1;
  PowerCut* pc = g_power_cut;
  bool tracked = pc && name && std::strlen(name) < sizeof shim->path && pc->Tracked(name);
  bool created = tracked && (flags & SQLITE_OPEN_CREATE) && ::access(name, F_OK) != 0;
  if (created && !pc->Step(std::string("sqlite create ") + name).ok()) return SQLITE_CANTOPEN;
  f->pMethods = nullptr;
  int rc = g_base_vfs->xOpen(g_base_vfs, name, shim->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  if (tracked) {
    std::snprintf(shim->path, sizeof shim->path, "%s", name);
    shim->fd = ::open(name, O_RDONLY | O_CLOEXEC);
    if (created) pc->Created(name, false, true);
  }
  f->pMethods = &kShimMethods;
  return SQLITE_OK;
}

int ShimDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  PowerCut* pc = g_power_cut;
  if (!pc || !pc->Tracked(name)) return g_base_vfs->xDelete(g_base_vfs, name, sync_dir);
  if (!pc->Step(std::string("sqlite delete ") + name).ok()) return SQLITE_IOERR_DELETE;
  if (::access(name, F_OK) != 0) return SQLITE_IOERR_DELETE_NOENT;
  Status st = pc->Remove(Env::Default(), name, sync_dir != 0);
  return st.ok() ? SQLITE_OK : SQLITE_IOERR_DELETE;
}

int ShimAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base_vfs->xAccess(g_base_vfs, name, flags, out);
}
int ShimFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base_vfs->xFullPathname(g_base_vfs, name, n, out);
}
int ShimRandomness(sqlite3_vfs*, int n, char* out) { return g_base_vfs->xRandomness(g_base_vfs, n, out); }
int ShimSleep(sqlite3_vfs*, int us) { return g_base_vfs->xSleep(g_base_vfs, us); }
int ShimCurrentTime(sqlite3_vfs*, double* out) { return g_base_vfs->xCurrentTime(g_base_vfs, out); }
int ShimLastError(sqlite3_vfs*, int n, char* out) { return g_base_vfs->xGetLastError(g_base_vfs, n, out); }
int ShimCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base_vfs->xCurrentTimeInt64(g_base_vfs, out);
}

}  // namespace

void PowerCut::RegisterVfs() {
  g_power_cut = this;
  if (g_vfs.zName) {  // made by an earlier PowerCut: the default again
    sqlite3_vfs_register(&g_vfs, 1);
    return;
  }
  g_base_vfs = sqlite3_vfs_find(nullptr);
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + g_base_vfs->szOsFile;
  g_vfs.mxPathname = g_base_vfs->mxPathname;
  g_vfs.zName = "outpost-power-cut";
  g_vfs.xOpen = ShimOpen;
  g_vfs.xDelete = ShimDelete;
  g_vfs.xAccess = ShimAccess;
  g_vfs.xFullPathname = ShimFullPathname;
  g_vfs.xRandomness = ShimRandomness;
  g_vfs.xSleep = ShimSleep;
  g_vfs.xCurrentTime = ShimCurrentTime;
  g_vfs.xGetLastError = ShimLastError;
  g_vfs.xCurrentTimeInt64 = ShimCurrentTimeInt64;
  sqlite3_vfs_register(&g_vfs, 1);
}

std::vector<long> PowerCutSteps(long total, size_t at_most, uint64_t seed) {
  std::set<long> at;
  if (static_cast<size_t>(total) + 1 <= at_most) {
    for (long n = 0; n <= total; ++n) at.insert(n);
  } else {
    long stride = std::max<long>(1, total / static_cast<long>(at_most / 2));
    for (long n = 0; n <= total; n += stride) at.insert(n);
    at.insert(total);
    std::mt19937_64 rng(seed);
    while (at.size() < at_most) at.insert(static_cast<long>(rng() % static_cast<uint64_t>(total + 1)));
  }
  return {at.begin(), at.end()};
}

BootFinding Boot(const fs::path& data, const std::string& channel_id) {
  BootFinding out;
  auto store = BlobStore::Open(data);
  if (!store) {
    out.problems.push_back("the store does not open: " + store.error().message());
    return out;
  }
  auto catalog = Catalog::Open(data / "catalog.db");
  if (!catalog) {
    out.problems.push_back("the catalog does not open: " + catalog.error().message());
    return out;
  }
  out.channel = (*catalog)->Channel(channel_id);
  auto report = Verify(store->get(), catalog->get());
  if (!report) {
    out.problems.push_back("verify failed: " + report.error().message());
    return out;
  }
  for (const auto& d : report->damaged) out.problems.push_back("damaged blob " + d.hash.Hex());
  for (const auto& m : report->missing) out.problems.push_back("missing blob " + m.Hex());
  for (const auto& c : report->catalog_problems) out.problems.push_back("catalog: " + c);
  return out;
}

}  // namespace outpost::testing
