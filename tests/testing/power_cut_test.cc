// The power-cut layer itself: what it keeps and what it throws away, through the Env and
// through SQLite.
#include "testing/power_cut.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <set>

#include "testing/temp_dir.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class PowerCutTest : public ::testing::Test {
 protected:
  fs::path Root() { return dir_.path() / "data"; }
  void SetUp() override { fs::create_directories(Root()); }
  // Writes `text` to `path` through the layer, synced or not; the file is closed.
  void Put(const fs::path& path, const std::string& text, bool sync) {
    auto f = pc_->env()->NewWritableFile(path);
    ASSERT_TRUE(f.has_value()) << f.error().message();
    ASSERT_TRUE((*f)->Append({reinterpret_cast<const uint8_t*>(text.data()), text.size()}).ok());
    if (sync) {
      ASSERT_TRUE((*f)->Sync().ok());
    }
    ASSERT_TRUE((*f)->Close().ok());
  }
  Env* env() { return pc_->env(); }

  TempDir dir_;
  std::unique_ptr<PowerCut> pc_ = std::make_unique<PowerCut>(dir_.path() / "data");
};

TEST_F(PowerCutTest, AFileWhoseFolderWasNotSyncedIsGone) {
  Put(Root() / "a", "hello", true);
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_FALSE(fs::exists(Root() / "a"));
}

TEST_F(PowerCutTest, ANameSyncedWithoutItsDataIsAnEmptyFile) {
  Put(Root() / "a", "hello", false);
  ASSERT_TRUE(env()->SyncDir(Root()).ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  ASSERT_TRUE(fs::exists(Root() / "a"));
  EXPECT_EQ(Read(Root() / "a"), "");
}

TEST_F(PowerCutTest, SyncedDataAndNameSurvive) {
  ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "hello").ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_EQ(Read(Root() / "a"), "hello");
  EXPECT_FALSE(fs::exists(Root() / "a.tmp"));
}

TEST_F(PowerCutTest, ARenameNotSyncedIsUndoneAndTheOldFileIsBack) {
  ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "old").ok());
  pc_->Reset();  // a clean shutdown: everything so far is on the disk
  Put(Root() / "a.tmp", "new", true);
  ASSERT_TRUE(env()->Rename(Root() / "a.tmp", Root() / "a").ok());
  EXPECT_EQ(Read(Root() / "a"), "new");
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_EQ(Read(Root() / "a"), "old");
  EXPECT_FALSE(fs::exists(Root() / "a.tmp"));
}

TEST_F(PowerCutTest, ARenameWhoseFileWasNotSyncedCanLeaveAnEmptyFile) {
  ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "old").ok());
  pc_->Reset();
  Put(Root() / "a.tmp", "new", false);  // the bug: no fsync before the rename
  ASSERT_TRUE(env()->Rename(Root() / "a.tmp", Root() / "a").ok());
  ASSERT_TRUE(env()->SyncDir(Root()).ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_EQ(Read(Root() / "a"), "");
}

TEST_F(PowerCutTest, OverwrittenBytesComeBackAndSomeSeedsKeepSomeWrites) {
  ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "0123456789").ok());
  pc_->Reset();
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    Put(Root() / "a", "abcdefghijklmnop", false);  // truncates, then writes
    ASSERT_TRUE(pc_->DropUnsynced(seed).ok());
    std::string now = Read(Root() / "a");
    EXPECT_TRUE(now == "0123456789" || now == "" || now == "abcdefghijklmnop") << now;
    seen.insert(now);
    if (now != "0123456789") {  // back to the start for the next seed
      ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "0123456789").ok());
      pc_->Reset();
    }
  }
  EXPECT_TRUE(seen.count("0123456789"));
  EXPECT_GT(seen.size(), 1u);  // some seeds kept a write
}

TEST_F(PowerCutTest, ARemovalNotSyncedIsUndone) {
  ASSERT_TRUE(WriteFileAtomically(env(), Root() / "a", "kept").ok());
  pc_->Reset();
  ASSERT_TRUE(env()->Remove(Root() / "a").ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_EQ(Read(Root() / "a"), "kept");
  ASSERT_TRUE(env()->Remove(Root() / "a").ok());
  ASSERT_TRUE(env()->SyncDir(Root()).ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_FALSE(fs::exists(Root() / "a"));
}

TEST_F(PowerCutTest, NewFoldersNeedTheirParentSynced) {
  ASSERT_TRUE(env()->CreateDirs(Root() / "x" / "y").ok());
  Put(Root() / "x" / "y" / "f", "data", true);
  ASSERT_TRUE(env()->SyncDir(Root() / "x" / "y").ok());
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_FALSE(fs::exists(Root() / "x"));
  ASSERT_TRUE(env()->CreateDirs(Root() / "x" / "y").ok());
  Put(Root() / "x" / "y" / "f", "data", false);
  ASSERT_TRUE(env()->SyncFilesystem(Root()).ok());  // syncfs: everything
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_EQ(Read(Root() / "x" / "y" / "f"), "data");
}

TEST_F(PowerCutTest, TheCutFailsThatStepAndEveryLaterOneAndCountsOnlyUnderRoot) {
  pc_->CutAt(2);
  ASSERT_TRUE(env()->CreateDirs(Root() / "x").ok());            // step 0
  ASSERT_TRUE(env()->CreateDirs(dir_.path() / "outside").ok());  // not counted
  ASSERT_TRUE(env()->SyncDir(Root()).ok());                      // step 1
  EXPECT_FALSE(pc_->cut());
  EXPECT_FALSE(env()->CreateDirs(Root() / "y").ok());  // step 2: the power goes
  EXPECT_TRUE(pc_->cut());
  EXPECT_FALSE(env()->SyncDir(Root()).ok());
  EXPECT_FALSE(fs::exists(Root() / "y"));
  EXPECT_TRUE(env()->SyncDir(dir_.path()).ok());  // outside root: another disk
  ASSERT_TRUE(pc_->DropUnsynced().ok());
  EXPECT_TRUE(fs::exists(Root() / "x"));
  EXPECT_TRUE(fs::exists(dir_.path() / "outside"));
}

// A row committed in WAL mode, then the power goes. `synchronous` decides whether it is there.
int RowsAfterACut(PowerCut* pc, const fs::path& db_path, const char* synchronous, uint64_t seed) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string sql = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + synchronous +
                    "; CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES (1);";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);  // the last connection: checkpoints, with the same synchronous
  EXPECT_TRUE(pc->DropUnsynced(seed).ok());
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  int rows = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    rows = sqlite3_column_int(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return rows;
}

TEST_F(PowerCutTest, SqliteCommitsSurviveWithSynchronousFullAndNotWithOff) {
  fs::path db = Root() / "t.db";
  {
    sqlite3* setup = nullptr;  // the table, durably, before the runs
    ASSERT_EQ(sqlite3_open(db.c_str(), &setup), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(setup, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(x);",
                           nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(setup);
    ASSERT_TRUE(env()->SyncDir(Root()).ok());
    pc_->Reset();
  }
  EXPECT_EQ(RowsAfterACut(pc_.get(), db, "FULL", 0), 1);
  EXPECT_EQ(RowsAfterACut(pc_.get(), db, "OFF", 0), 1);  // the row above stays; this one is lost
  EXPECT_EQ(RowsAfterACut(pc_.get(), db, "FULL", 0), 2);
}

TEST_F(PowerCutTest, SqliteWritesUnderRootAreCountedAndFailOnceTheCutCame) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((Root() / "t.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_GT(pc_->steps(), 0);
  pc_->CutAt(0);
  EXPECT_NE(sqlite3_exec(db, "INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_TRUE(pc_->cut());
  sqlite3_close(db);
}

}  // namespace
}  // namespace outpost::testing
