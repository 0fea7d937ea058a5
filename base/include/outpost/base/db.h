// Thin RAII over the SQLite C API, for the catalog (content/) and the sync database (sync/).
// Statements are finalized by unique_ptr (or kept in a StmtCache); a Transaction rolls back
// unless committed.
//
// Errors name the database by its file name ("catalog.db: database or disk is full") and map
// SQLite's codes onto Status: SQLITE_FULL kNoSpace, SQLITE_BUSY kBusy, SQLITE_CORRUPT and
// SQLITE_NOTADB kCorrupt, SQLITE_CONSTRAINT kInvalidArgument, the rest kIoError; a statement
// that failed to prepare is kInternal.
//
// Thread-safety: none of its own: a Stmt or a StmtCache is used by one thread at a time (the
// catalog and the sync database each hold a mutex around their statements).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost::db {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// Prepared statements kept for reuse, by their SQL text. Used by one thread at a time (the
// Catalog's mutex); a statement taken from it must not be taken again before it is released.
class StmtCache {
 public:
  ~StmtCache();
  // The cached statement for `sql`, prepared on first use; nullptr if it does not prepare.
  sqlite3_stmt* Get(sqlite3* db, std::string_view sql, std::string* error);

 private:
  std::map<std::string, sqlite3_stmt*, std::less<>> stmts_;
};

// A prepared statement with chainable binds (1-based, like SQLite).
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  // A statement from `cache`: not prepared again, and reset (not finalized) when done.
  Stmt(sqlite3* db, std::string_view sql, StmtCache* cache);
  ~Stmt();
  Stmt(Stmt&&) = default;
  Stmt& operator=(Stmt&&) = default;
  bool ok() const { return stmt_ != nullptr; }
  const std::string& error() const { return error_; }

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const Hash& h);
  Stmt& BindNull(int i);
  Stmt& BindOptional(int i, const std::optional<Hash>& h);
  Stmt& BindText(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& BindBlob(int i, std::string_view bytes);  // as a BLOB (Bind binds text)
  Stmt& BindBlob(int i, std::span<const uint8_t> bytes);  // a key, a hash: as a BLOB

  // Steps once: true if a row is available. A statement that failed to prepare never has rows;
  // its error is in StepStatus() and Run()'s result.
  bool Step();
  // Steps to completion; Status with SQLite's message on error. Resets the statement.
  Status Run();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  std::string Text(int col) const;
  std::optional<Hash> HashAt(int col) const;
  std::string Blob(int col) const;  // the bytes of a BLOB (or of any value), "" for NULL
  double Double(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  Status StepStatus() const { return status_; }

 private:
  std::unique_ptr<sqlite3_stmt, StmtDeleter> stmt_;
  bool cached_ = false;  // stmt_ belongs to a StmtCache: release, don't finalize
  sqlite3* db_ = nullptr;
  std::string error_;
  Status status_;
};

// Runs one or more statements without results (a migration, a PRAGMA).
Status Exec(sqlite3* db, const std::string& sql);

class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (active_) (void)Exec(db_, "ROLLBACK");
  }
  Status Begin() {
    Status st = Exec(db_, "BEGIN IMMEDIATE");
    active_ = st.ok();
    return st;
  }
  Status Commit() {
    Status st = Exec(db_, "COMMIT");
    if (st.ok()) active_ = false;
    return st;
  }

 private:
  sqlite3* db_;
  bool active_ = false;
};

// The schema version (PRAGMA user_version); -1 if it cannot be read.
int SchemaVersion(sqlite3* db);

// Brings `db` from its schema version to migrations.size() (step v runs migrations[v]), all
// steps in one transaction: if one fails, the database keeps its old version and contents and
// the error says "WHAT: migrating from schema version N to M failed at step K (...); nothing
// was changed". Corrupt if the file is newer than that: "WHAT has schema version N, newer than
// this outpost understands (M); upgrade outpost".
Status Migrate(sqlite3* db, std::span<const char* const> migrations, std::string_view what);

// Opens the database at `path`, creating it (and its folder) with mode 0600 if it does not
// exist (SQLite gives its -wal and -shm files the database's mode), in WAL mode, synchronous
// NORMAL, a 10 s busy timeout, serialized. For databases holding secrets (sync.db,
// accounts.db). The caller closes the handle.
Result<sqlite3*> OpenPrivate(const std::filesystem::path& path);

}  // namespace outpost::db
