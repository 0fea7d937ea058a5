// Damage as a failing SD card leaves it, made small and exact for the damage tests (issue 14):
// one page of a given table or index of an SQLite database (found through sqlite_master's
// rootpage and PRAGMA page_size), zeroed or with bytes flipped; a blob's bytes flipped or the
// blob deleted. Every helper is deterministic: the same call damages the same bytes.
//
//   auto objects = testing::SqliteObjects(catalog);           // "nodes", "nodes_by_path", ...
//   testing::DamagePage(catalog, objects[2], testing::PageDamage::kZero);
//
// The database must not be open in a process that writes it meanwhile. Failures throw
// std::runtime_error (tests only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace outpost::testing {

enum class PageDamage {
  kZero,        // the whole page zeroed, as a lost sector reads
  kFlipHeader,  // every bit of the page's b-tree header flipped: SQLite always notices
  kFlipBytes,   // 8 bytes flipped at offsets drawn from `seed`: may land where nothing reads
};
const char* PageDamageName(PageDamage damage);  // "zero", "flip-header", "flip-bytes"

// An SQLite table or index with pages of its own, and the page its b-tree starts at.
struct SqliteObject {
  std::string name;  // as in sqlite_master: "nodes", "sqlite_autoindex_channels_1", ...
  std::string type;  // "table" or "index"
  int64_t root_page = 0;
};

// Checkpoints the database's write-ahead log into the file (so the file holds every page as
// readers see it), then lists every table and index with a b-tree (virtual tables have none;
// their shadow tables do), in sqlite_master's order.
std::vector<SqliteObject> SqliteObjects(const std::filesystem::path& db);

// Damages the root page of `object` (a name from SqliteObjects) in the file `db`, checkpointed
// first. Returns the page number damaged.
int64_t DamagePage(const std::filesystem::path& db, const std::string& object, PageDamage damage,
                   uint64_t seed = 1);
// Damages page `page` (1-based) of the file `db`, whose page size is `page_size`.
void DamagePageAt(const std::filesystem::path& db, int64_t page, uint32_t page_size,
                  PageDamage damage, uint64_t seed = 1);

// Flips one byte in the middle of a blob file; deletes one.
void DamageBlob(const std::filesystem::path& blob_file);
void DeleteBlob(const std::filesystem::path& blob_file);

// Running SQL on a database file from outside the program, as a person with the sqlite3 tool
// would (these fail the test on an error, with gtest).
void ExecSql(const std::filesystem::path& db, const std::string& sql);
// The rows of `sql`, each row's columns as text joined by single spaces.
std::vector<std::string> QueryRows(const std::filesystem::path& db, const std::string& sql);
uint32_t PageSize(const std::filesystem::path& db);  // PRAGMA page_size
// sqlite_master.rootpage of the table or index `name` (1-based page number); 0 if none.
uint32_t RootPage(const std::filesystem::path& db, const std::string& name);
// Zeroes page `page` (1-based) in place. Checkpoint the WAL first (a closed database has none)
// or the page may be read from the log instead.
void ZeroPage(const std::filesystem::path& db, uint32_t page);

}  // namespace outpost::testing
