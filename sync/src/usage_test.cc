#include "outpost/sync/usage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int64_t kDay = 20794;  // 2026-12-07

class UsageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(uint64_t max_bytes = kDefaultUsageMaxBytes) {
    store_.reset();
    auto store = UsageStore::Open(path_, max_bytes);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  void Add(const std::vector<UsageCount>& counts) {
    Status st = store_->Add(counts);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::vector<UsageCount> ForHub(int64_t since = 0, int64_t until = kDay + 1000) {
    auto out = store_->ForHub(since, until);
    EXPECT_TRUE(out.has_value()) << out.error().ToString();
    return out ? *out : std::vector<UsageCount>{};
  }

  TempDir dir_;
  fs::path path_ = dir_.path() / "usage.db";
  std::unique_ptr<UsageStore> store_;
};

TEST(UsageDaysTest, DaysAreUtcDayNumbers) {
  EXPECT_EQ(UnixDay(0), 0);
  EXPECT_EQ(UnixDay(86399), 0);
  EXPECT_EQ(UnixDay(86400), 1);
  EXPECT_EQ(UnixDay(-1), -1);
  EXPECT_EQ(UnixDay(int64_t{kDay} * 86400 + 43200), kDay);
  EXPECT_EQ(DayString(kDay), "2026-12-07");
  EXPECT_EQ(DayString(0), "1970-01-01");
}

TEST_F(UsageStoreTest, FileIsPrivateAndSharingIsOnByDefault) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(store_->sharing());
}

TEST_F(UsageStoreTest, BatchesAddUpPerDayChannelAndResource) {
  Add({{"maths", "a.pdf", kDay, 3}, {"maths", "a.pdf", kDay, 2}, {"maths", "b.pdf", kDay, 1}});
  Add({{"maths", "a.pdf", kDay, 4}, {"maths", "a.pdf", kDay + 1, 7}, {"science", "c", kDay, 9}});
  auto daily = store_->Daily("", kDay, kDay + 1);
  ASSERT_TRUE(daily.has_value());
  std::vector<UsageDayTotal> want = {
      {"maths", kDay, 10}, {"science", kDay, 9}, {"maths", kDay + 1, 7}};
  EXPECT_EQ(*daily, want);
  auto maths = store_->Daily("maths", kDay, kDay);
  ASSERT_TRUE(maths.has_value());
  EXPECT_EQ(*maths, (std::vector<UsageDayTotal>{{"maths", kDay, 10}}));
  auto top = store_->Top("maths", kDay, kDay + 1, 10);
  ASSERT_TRUE(top.has_value());
  std::vector<UsageResourceTotal> want_top = {{"maths", "a.pdf", 16}, {"maths", "b.pdf", 1}};
  EXPECT_EQ(*top, want_top);
  auto one = store_->Top("", kDay, kDay + 1, 1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, (std::vector<UsageResourceTotal>{{"maths", "a.pdf", 16}}));
}

TEST_F(UsageStoreTest, DaysOutsideTheRangeAreNotRead) {
  Add({{"maths", "a", kDay - 1, 5}, {"maths", "a", kDay, 6}, {"maths", "a", kDay + 1, 7}});
  auto daily = store_->Daily("", kDay, kDay);
  ASSERT_TRUE(daily.has_value());
  EXPECT_EQ(*daily, (std::vector<UsageDayTotal>{{"maths", kDay, 6}}));
  EXPECT_EQ(ForHub(kDay, kDay), (std::vector<UsageCount>{{"maths", "a", kDay, 6}}));
}

TEST_F(UsageStoreTest, UnkeepableCountsAreSkipped) {
  Add({{"", "a", kDay, 1},
       {"maths", "", kDay, 1},
       {"maths", "a", kDay, 0},
       {std::string(kMaxUsageChannel + 1, 'c'), "a", kDay, 1},
       {"maths", std::string(kMaxUsageResource + 1, 'r'), kDay, 1},
       {"maths", std::string(kMaxUsageResource, 'r'), kDay, 1}});
  auto top = store_->Top("", kDay, kDay, 10);
  ASSERT_TRUE(top.has_value());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].resource.size(), kMaxUsageResource);
}

// The privacy rule (docs/usage.md, docs/threat-model.md): what goes to the hub holds no count
// under 5, and a count of exactly 5 goes.
TEST_F(UsageStoreTest, ForHubLeavesOutEveryCountUnderFive) {
  Add({{"maths", "four", kDay, 4},
       {"maths", "five", kDay, 5},
       {"maths", "one", kDay, 1},
       {"maths", "split", kDay, 4},
       {"maths", "split", kDay + 1, 4},
       {"maths", "late", kDay, 3}});
  Add({{"maths", "late", kDay, 2}});  // 3 + 2: five on the day
  std::vector<UsageCount> want = {{"maths", "five", kDay, 5}, {"maths", "late", kDay, 5}};
  EXPECT_EQ(ForHub(), want);
  for (const UsageCount& c : ForHub()) EXPECT_GE(c.views, kMinSharedViews);
}

// What a site's report takes: the whole days before today, counts of five and more, as
// "YYYY-MM-DD"; nothing once sending is off.
TEST_F(UsageStoreTest, TheReportTakesTheDaysBeforeTodayAndNothingWhenSendingIsOff) {
  Add({{"maths", "old", kDay - kReportedUsageDays - 1, 50},
       {"maths", "a", kDay - 1, 7},
       {"maths", "few", kDay - 1, 4},
       {"maths", "today", kDay, 9}});
  UsageSource source = ReportedUsageFrom(path_, [] { return kDay * 86400 + 3600; });
  std::vector<ReportedUsage> want = {{DayString(kDay - 1), "maths", "a", 7}};
  EXPECT_EQ(source(), want);
  ASSERT_TRUE(store_->SetSharing(false).ok());
  EXPECT_TRUE(source().empty());
  EXPECT_TRUE(ReportedUsageFrom(dir_.path() / "none.db")().empty());
  EXPECT_FALSE(fs::exists(dir_.path() / "none.db"));
}

TEST_F(UsageStoreTest, NothingGoesToTheHubWhileSharingIsOff) {
  Add({{"maths", "a", kDay, 50}});
  ASSERT_TRUE(store_->SetSharing(false).ok());
  EXPECT_TRUE(ForHub().empty());
  Reopen();  // the switch is kept
  EXPECT_FALSE(store_->sharing());
  EXPECT_TRUE(ForHub().empty());
  ASSERT_TRUE(store_->SetSharing(true).ok());
  EXPECT_EQ(ForHub().size(), 1u);
}

// A usage.db of schema 1 may hold the "last day sent" mark no report ever moved: opening it
// removes the mark and keeps the counts and the sharing switch.
TEST_F(UsageStoreTest, TheUnusedSentMarkOfSchemaOneIsRemoved) {
  Add({{"maths", "a.pdf", kDay - 1, 6}});
  ASSERT_TRUE(store_->SetSharing(false).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO settings VALUES ('sent_up_to_day', 20000); "
                             "PRAGMA user_version = 1;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  EXPECT_FALSE(store_->sharing());
  ASSERT_TRUE(store_->SetSharing(true).ok());
  EXPECT_EQ(ForHub().size(), 1u);
  store_.reset();
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM settings WHERE name = 'sent_up_to_day'",
                               -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 0);
  sqlite3_finalize(count);
  sqlite3_close(db);
}

TEST_F(UsageStoreTest, PruneKeepsTheRetentionWindow) {
  int64_t oldest_kept = kDay - kUsageRetentionDays + 1;
  Add({{"maths", "a", oldest_kept - 1, 5}, {"maths", "a", oldest_kept, 6}, {"maths", "a", kDay, 7}});
  auto removed = store_->Prune(kDay);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(*removed, 1);
  auto daily = store_->Daily("", 0, kDay);
  ASSERT_TRUE(daily.has_value());
  EXPECT_EQ(*daily, (std::vector<UsageDayTotal>{{"maths", oldest_kept, 6}, {"maths", kDay, 7}}));
}

// A full disk (here: the file's bound) fails the whole batch and keeps what was there.
TEST_F(UsageStoreTest, FullStoreRefusesTheBatchAndKeepsWhatItHad) {
  Add({{"maths", "kept", kDay, 9}});
  Reopen(/*max_bytes=*/64 * 1024);
  std::vector<UsageCount> big;
  for (int i = 0; i < 2000; ++i) {
    big.push_back({"maths", "resource-" + std::to_string(i) + std::string(100, 'x'), kDay, 1});
  }
  Status st = store_->Add(big);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
  auto top = store_->Top("", kDay, kDay, 10);
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(*top, (std::vector<UsageResourceTotal>{{"maths", "kept", 9}}));
  Add({{"maths", "kept", kDay, 1}});  // small batches still fit
}

TEST_F(UsageStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = UsageStore::Open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace outpost
