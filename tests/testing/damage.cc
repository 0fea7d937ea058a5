#include "testing/damage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <stdexcept>

#include "testing/temp_dir.h"

namespace outpost::testing {

namespace fs = std::filesystem;

namespace {

// A connection that checkpoints the log on open and is closed on scope exit.
class Db {
 public:
  explicit Db(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path.string());
    }
    sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  ~Db() { sqlite3_close(db_); }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

int64_t PageSize(sqlite3* db) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, nullptr);
  int64_t size = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  if (size < 512) throw std::runtime_error("cannot read the page size");
  return size;
}

uint64_t NextRandom(uint64_t* x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

}  // namespace

const char* PageDamageName(PageDamage damage) {
  switch (damage) {
    case PageDamage::kZero: return "zero";
    case PageDamage::kFlipHeader: return "flip-header";
    case PageDamage::kFlipBytes: return "flip-bytes";
  }
  return "?";
}

std::vector<SqliteObject> SqliteObjects(const fs::path& db) {
  Db conn(db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(conn.get(),
                     "SELECT name, type, rootpage FROM sqlite_master WHERE rootpage > 0 "
                     "ORDER BY rowid", -1, &s, nullptr);
  std::vector<SqliteObject> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                   sqlite3_column_int64(s, 2)});
  }
  sqlite3_finalize(s);
  return out;
}

int64_t DamagePage(const fs::path& db, const std::string& object, PageDamage damage,
                   uint64_t seed) {
  int64_t page = 0;
  int64_t page_size = 0;
  {
    Db conn(db);
    page_size = PageSize(conn.get());
    for (const auto& o : SqliteObjects(db)) {
      if (o.name == object) page = o.root_page;
    }
  }
  if (page == 0) throw std::runtime_error("no table or index " + object + " in " + db.string());
  DamagePageAt(db, page, static_cast<uint32_t>(page_size), damage, seed);
  return page;
}

void DamagePageAt(const fs::path& db, int64_t page, uint32_t page_size, PageDamage damage,
                  uint64_t seed) {
  std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
  uint64_t start = static_cast<uint64_t>(page - 1) * page_size;
  std::string bytes(page_size, '\0');
  f.seekg(static_cast<std::streamoff>(start));
  f.read(bytes.data(), page_size);
  // Page 1 starts with the 100-byte file header; its b-tree header follows.
  size_t header = page == 1 ? 100 : 0;
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  switch (damage) {
    case PageDamage::kZero: bytes.assign(page_size, '\0'); break;
    case PageDamage::kFlipHeader:
      for (size_t i = header; i < header + 8; ++i) bytes[i] = static_cast<char>(~bytes[i]);
      break;
    case PageDamage::kFlipBytes:
      for (int i = 0; i < 8; ++i) {
        size_t at = header + NextRandom(&x) % (page_size - header);
        bytes[at] = static_cast<char>(bytes[at] ^ (1 | NextRandom(&x) % 255));
      }
      break;
  }
  f.seekp(static_cast<std::streamoff>(start));
  f.write(bytes.data(), page_size);
  if (!f) throw std::runtime_error("cannot damage page " + std::to_string(page) + " of " + db.string());
}

void DamageBlob(const fs::path& blob_file) { FlipByte(blob_file, fs::file_size(blob_file) / 2, 0xFF); }

void DeleteBlob(const fs::path& blob_file) {
  if (!fs::remove(blob_file)) throw std::runtime_error("no blob " + blob_file.string());
}

void ExecSql(const fs::path& db, const std::string& sql) {
  Db conn(db);
  char* error = nullptr;
  if (sqlite3_exec(conn.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (error ? error : "?");
  }
  sqlite3_free(error);
}

std::vector<std::string> QueryRows(const fs::path& db, const std::string& sql) {
  Db conn(db);
  std::vector<std::string> rows;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(conn.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(conn.get());
    return rows;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      row += (i ? " " : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

uint32_t PageSize(const fs::path& db) {
  Db conn(db);
  return static_cast<uint32_t>(PageSize(conn.get()));
}

uint32_t RootPage(const fs::path& db, const std::string& name) {
  for (const auto& o : SqliteObjects(db)) {
    if (o.name == name) return static_cast<uint32_t>(o.root_page);
  }
  return 0;
}

void ZeroPage(const fs::path& db, uint32_t page) {
  ASSERT_GT(page, 0u);
  DamagePageAt(db, page, PageSize(db), PageDamage::kZero);
}

}  // namespace outpost::testing
