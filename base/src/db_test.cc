#include "outpost/base/db.h"

#include <gtest/gtest.h>

#include <array>

#include "testing/temp_dir.h"

namespace outpost::db {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A connection to DIR/name, closed with the object.
class Connection {
 public:
  explicit Connection(const fs::path& file) {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK) << file;
  }
  ~Connection() { sqlite3_close(db_); }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

TEST(DbTest, BytesBindAsABlobAndReadBackTheSame) {
  Connection db(":memory:");
  ASSERT_TRUE(Exec(db.get(), "CREATE TABLE t (k BLOB)").ok());
  std::array<uint8_t, 4> key = {0x00, 0xff, 0x10, 0x7f};
  ASSERT_TRUE(Stmt(db.get(), "INSERT INTO t VALUES (?)").BindBlob(1, key).Run().ok());
  Stmt s(db.get(), "SELECT k, typeof(k) FROM t");
  ASSERT_TRUE(s.Step());
  EXPECT_EQ(s.Blob(0), std::string("\x00\xff\x10\x7f", 4));
  EXPECT_EQ(s.Text(1), "blob");
}

TEST(DbTest, ErrorsNameTheDatabaseFileAndMapSqlitesCodes) {
  TempDir dir;
  Connection db(dir.path() / "sync.db");
  ASSERT_TRUE(Exec(db.get(), "CREATE TABLE t (k INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Stmt(db.get(), "INSERT INTO t VALUES (1)").Run().ok());
  Status twice = Stmt(db.get(), "INSERT INTO t VALUES (1)").Run();
  EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(twice.message().rfind("sync.db: ", 0), 0u) << twice.message();
  Status bad_sql = Exec(db.get(), "NOT SQL");
  EXPECT_EQ(bad_sql.code(), StatusCode::kIoError);
  EXPECT_EQ(bad_sql.message().rfind("sync.db: ", 0), 0u) << bad_sql.message();
  Stmt unprepared(db.get(), "SELECT nothing FROM nowhere");
  EXPECT_FALSE(unprepared.Step());
  EXPECT_EQ(unprepared.StepStatus().code(), StatusCode::kInternal);
  EXPECT_EQ(unprepared.StepStatus().message().rfind("sync.db: ", 0), 0u);

  Connection in_memory(":memory:");
  EXPECT_EQ(Exec(in_memory.get(), "NOT SQL").message().rfind("database: ", 0), 0u);
}

TEST(DbTest, AFileThatIsNotADatabaseIsCorrupt) {
  TempDir dir;
  fs::path junk = dir.Write("junk.db", std::string(4096, 'j'));
  Connection db(junk);
  Status st = Exec(db.get(), "PRAGMA journal_mode=WAL");
  EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.ToString();
  EXPECT_EQ(st.message().rfind("junk.db: ", 0), 0u) << st.message();
}

TEST(DbTest, ATransactionRollsBackUnlessCommitted) {
  Connection db(":memory:");
  ASSERT_TRUE(Exec(db.get(), "CREATE TABLE t (v INTEGER)").ok());
  auto count = [&] {
    Stmt s(db.get(), "SELECT COUNT(*) FROM t");
    return s.Step() ? s.Int(0) : -1;
  };
  {
    Transaction txn(db.get());
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(Exec(db.get(), "INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(count(), 0);
  {
    Transaction txn(db.get());
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(Exec(db.get(), "INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(count(), 1);
}

}  // namespace
TEST(DbTest, AMigrationThatFailsAtAnyStepLeavesTheOldVersionAndDataAsTheyWere) {
  const std::array<const char*, 3> migrations = {
      "CREATE TABLE a (v INTEGER); INSERT INTO a VALUES (1);",
      "CREATE TABLE b (v INTEGER); INSERT INTO a VALUES (2);",
      "CREATE TABLE c (v INTEGER); INSERT INTO a VALUES (3);"};
  Connection db(":memory:");
  ASSERT_TRUE(Migrate(db.get(), std::span(migrations).first(1), "test.db").ok());
  // Step 3 meets a view of the same name (what a previous release, a hand edit or a damaged
  // file could leave): the upgrade from 1 to 3 fails, and step 2 is undone with it.
  ASSERT_TRUE(Exec(db.get(), "CREATE VIEW c AS SELECT 1").ok());
  Status st = Migrate(db.get(), migrations, "test.db");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("test.db: migrating from schema version 1 to 3 failed at step 3"),
            std::string::npos) << st.message();
  EXPECT_NE(st.message().find("nothing was changed"), std::string::npos) << st.message();
  EXPECT_EQ(SchemaVersion(db.get()), 1);
  Stmt rows(db.get(), "SELECT COUNT(*) FROM a");
  ASSERT_TRUE(rows.Step());
  EXPECT_EQ(rows.Int(0), 1);
  Stmt b(db.get(), "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'");
  ASSERT_TRUE(b.Step());
  EXPECT_EQ(b.Int(0), 0);
  // Once the obstacle is gone the same upgrade runs, once.
  ASSERT_TRUE(Exec(db.get(), "DROP VIEW c").ok());
  ASSERT_TRUE(Migrate(db.get(), migrations, "test.db").ok());
  EXPECT_EQ(SchemaVersion(db.get()), 3);
  ASSERT_TRUE(Migrate(db.get(), migrations, "test.db").ok());
  Stmt all(db.get(), "SELECT group_concat(v) FROM a");
  ASSERT_TRUE(all.Step());
  EXPECT_EQ(all.Text(0), "1,2,3");
}

}  // namespace outpost::db
