#include "testing/damage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>

namespace outpost::testing {

namespace {

// A connection for one helper call; closed when it goes.
struct Connection {
  explicit Connection(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    }
  }
  ~Connection() { sqlite3_close(db); }
  // The first column of the first row of `sql`, as an integer (0 if none).
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = 0;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    } else if (sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  sqlite3* db = nullptr;
};

}  // namespace

void ExecSql(const std::filesystem::path& db, const std::string& sql) {
  Connection c(db);
  char* error = nullptr;
  if (sqlite3_exec(c.db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (error ? error : "?");
  }
  sqlite3_free(error);
}

std::vector<std::string> QueryRows(const std::filesystem::path& db, const std::string& sql) {
  Connection c(db);
  std::vector<std::string> rows;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(c.db);
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

uint32_t PageSize(const std::filesystem::path& db) {
  return static_cast<uint32_t>(Connection(db).Int("PRAGMA page_size"));
}

uint32_t RootPage(const std::filesystem::path& db, const std::string& name) {
  Connection c(db);
  std::string sql = "SELECT rootpage FROM sqlite_master WHERE name = '" + name + "'";
  return static_cast<uint32_t>(c.Int(sql));
}

void ZeroPage(const std::filesystem::path& db, uint32_t page) {
  ASSERT_GT(page, 0u);
  uint32_t size = PageSize(db);
  std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << db;
  f.seekp(static_cast<std::streamoff>(page - 1) * size);
  std::string zeros(size, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  ASSERT_TRUE(f.good()) << "writing page " << page << " of " << db;
}

}  // namespace outpost::testing
