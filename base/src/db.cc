#include "outpost/base/db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace outpost::db {

namespace {

// The database's file name for messages ("sync.db"), or "database" for one in memory.
std::string NameOf(sqlite3* db) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  if (file == nullptr || *file == '\0') return "database";
  return std::filesystem::path(file).filename().string();
}

StatusCode CodeOf(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
      return StatusCode::kNoSpace;
    case SQLITE_BUSY:
      return StatusCode::kBusy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kCorrupt;
    case SQLITE_CONSTRAINT:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kIoError;
  }
}

}  // namespace

Stmt::Stmt(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s, nullptr) != SQLITE_OK) {
    error_ = std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql);
  }
  stmt_.reset(s);
}

StmtCache::~StmtCache() {
  for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
}

sqlite3_stmt* StmtCache::Get(sqlite3* db, std::string_view sql, std::string* error) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s, nullptr) != SQLITE_OK) {
    *error = std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql);
    return nullptr;
  }
  stmts_.emplace(std::string(sql), s);
  return s;
}

Stmt::Stmt(sqlite3* db, std::string_view sql, StmtCache* cache) : db_(db) {
  stmt_.reset(cache->Get(db, sql, &error_));
  cached_ = true;
}

Stmt::~Stmt() {
  if (cached_ && stmt_) {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    (void)stmt_.release();
  }
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, const Hash& h) {
  sqlite3_bind_blob(stmt_.get(), i, h.bytes.data(), Hash::kSize, SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_.get(), i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::span<const uint8_t> bytes) {
  sqlite3_bind_blob64(stmt_.get(), i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Stmt& Stmt::BindOptional(int i, const std::optional<Hash>& h) {
  return h ? Bind(i, *h) : BindNull(i);
}

bool Stmt::Step() {
  if (!stmt_) {
    status_ = Internal(NameOf(db_) + ": " + error_);
    return false;
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    status_ = Status(CodeOf(sqlite3_extended_errcode(db_)),
                     NameOf(db_) + ": " + sqlite3_errmsg(db_));
  }
  return false;
}

Status Stmt::Run() {
  status_ = Status::Ok();
  while (Step()) {
  }
  Status st = status_;
  Reset();
  return st;
}

void Stmt::Reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), col);
  if (!t) return {};
  return std::string(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

std::optional<Hash> Stmt::HashAt(int col) const {
  if (sqlite3_column_bytes(stmt_.get(), col) != static_cast<int>(Hash::kSize)) return std::nullopt;
  Hash h;
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  std::memcpy(h.bytes.data(), p, Hash::kSize);
  return h;
}

std::string Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  if (!p) return {};
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(CodeOf(rc), NameOf(db) + ": " + msg);
  }
  return Status::Ok();
}

int SchemaVersion(sqlite3* db) {
  Stmt s(db, "PRAGMA user_version");
  return s.Step() ? static_cast<int>(s.Int(0)) : -1;
}

Status Migrate(sqlite3* db, std::span<const char* const> migrations, std::string_view what) {
  int target = static_cast<int>(migrations.size());
  if (SchemaVersion(db) == target) return Status::Ok();  // the usual case: nothing to lock
  // Every step in one transaction, the version read inside it (another process may have
  // migrated meanwhile): a step that fails leaves the database at the version it had, which the
  // previous outpost (a package upgrade that failed) still reads.
  Transaction txn(db);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  int current = SchemaVersion(db);
  if (current > target) {
    return Corrupt(std::string(what) + " has schema version " + std::to_string(current) +
                   ", newer than this outpost understands (" + std::to_string(target) +
                   "); upgrade outpost");
  }
  for (int v = std::max(current, 0); v < target; ++v) {
    Status st = Exec(db, migrations[static_cast<size_t>(v)]);
    if (!st.ok()) {
      return Status(st.code(), std::string(what) + ": migrating from schema version " +
                                   std::to_string(current) + " to " + std::to_string(target) +
                                   " failed at step " + std::to_string(v + 1) + " (" +
                                   st.message() + "); nothing was changed");
    }
  }
  OUTPOST_RETURN_IF_ERROR(Exec(db, "PRAGMA user_version=" + std::to_string(target)));
  return txn.Commit();
}

Result<sqlite3*> OpenPrivate(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ErrnoStatus("creating folder " + path.parent_path().string(), ec.value());
  }
  // Created private before SQLite sees it; an existing file keeps its mode. An existing file is
  // never opened here: closing any descriptor of a file drops every POSIX lock this process
  // holds on it, so an open-and-close beside another connection in use (SQLite shares its
  // locks per process) would let a third party in.
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno != ENOENT) return ErrnoStatus("opening " + name, errno);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      ::close(fd);  // a new file: nobody holds a lock on it yet
    } else if (errno != EEXIST) {
      return ErrnoStatus("opening " + name, errno);
    }
  } else if (S_ISLNK(info.st_mode)) {
    return ErrnoStatus("opening " + name, ELOOP);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return IoError("opening " + name + ": " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  if (!st.ok()) {
    sqlite3_close(db);
    return st.WithContext("opening " + name);
  }
  return db;
}

}  // namespace outpost::db
