// Small, exact ways to damage a data folder, for the damage tests of issue #14: a SQLite page
// found by the table it belongs to, zeroed or flipped in place; a statement run on a database
// file from outside the program (as a person with the sqlite3 tool would). For tests only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace outpost::testing {

// Runs `sql` on the database at `db` (its own connection, closed afterwards). Fails the test
// on an error.
void ExecSql(const std::filesystem::path& db, const std::string& sql);
// The rows of `sql`, each row's columns as text joined by single spaces.
std::vector<std::string> QueryRows(const std::filesystem::path& db, const std::string& sql);
// PRAGMA page_size of the database at `db`.
uint32_t PageSize(const std::filesystem::path& db);
// sqlite_master.rootpage of the table or index `name` (1-based page number); 0 if none.
uint32_t RootPage(const std::filesystem::path& db, const std::string& name);
// Overwrites page `page` (1-based) of the database file with zeros, in place. Checkpoint the
// WAL first (a closed database has none) or the page may be read from it instead.
void ZeroPage(const std::filesystem::path& db, uint32_t page);

}  // namespace outpost::testing
