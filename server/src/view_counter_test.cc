#include "view_counter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "outpost/sync/usage.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

constexpr int64_t kDay = 20794;

class ViewCounterTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(kDefaultUsageMaxBytes); }
  void Open(uint64_t max_bytes) {
    auto store = UsageStore::Open(dir_.path() / "usage.db", max_bytes);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  std::vector<UsageResourceTotal> Top() {
    auto top = store_->Top("", 0, kDay + 10, 100);
    EXPECT_TRUE(top.has_value());
    return top ? *top : std::vector<UsageResourceTotal>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<UsageStore> store_;
  std::atomic<int64_t> now_{kDay * 86400 + 3600};
};

TEST_F(ViewCounterTest, ThreadsCountWithoutLosingAView) {
  ViewCounter counter(store_.get(), std::chrono::seconds(0), [this] { return now_.load(); });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&counter, t] {
      for (int i = 0; i < 1000; ++i) counter.Count("maths", i % 2 ? "a.pdf" : "b/" + std::to_string(t));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(counter.Flush().ok());
  auto top = Top();
  ASSERT_EQ(top.size(), 9u);
  EXPECT_EQ(top[0], (UsageResourceTotal{"maths", "a.pdf", 4000}));
  for (size_t i = 1; i < top.size(); ++i) EXPECT_EQ(top[i].views, 500u);
}

TEST_F(ViewCounterTest, ViewsCountOnTheirUtcDay) {
  ViewCounter counter(store_.get(), std::chrono::seconds(0), [this] { return now_.load(); });
  counter.Count("maths", "a");
  now_ = (kDay + 1) * 86400;  // midnight UTC, before the flush
  counter.Count("maths", "a");
  counter.Count("maths", "a");
  ASSERT_TRUE(counter.Flush().ok());
  auto daily = store_->Daily("maths", kDay, kDay + 1);
  ASSERT_TRUE(daily.has_value());
  EXPECT_EQ(*daily, (std::vector<UsageDayTotal>{{"maths", kDay, 1}, {"maths", kDay + 1, 2}}));
}

TEST_F(ViewCounterTest, DestructionFlushesWhatIsLeft) {
  {
    ViewCounter counter(store_.get(), std::chrono::seconds(3600), [this] { return now_.load(); });
    counter.Count("maths", "a");
  }
  EXPECT_EQ(Top(), (std::vector<UsageResourceTotal>{{"maths", "a", 1}}));
}

// A busy class's views go to the card once per bound, not once per minute, and without waiting
// for the hour either.
TEST_F(ViewCounterTest, TheBoundOfViewsFlushesBeforeTheHour) {
  ViewCounter counter(store_.get(), std::chrono::hours(1), [this] { return now_.load(); }, 3);
  counter.Count("maths", "a");
  counter.Count("maths", "b");
  EXPECT_TRUE(Top().empty());  // two views: nothing written yet
  counter.Count("maths", "a");
  // The flush thread writes them; wait for it (no bound on the time, only on the answer).
  while (Top().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(Top(), (std::vector<UsageResourceTotal>{{"maths", "a", 2}, {"maths", "b", 1}}));
}

TEST_F(ViewCounterTest, AFlushWithNothingCountedWritesNothing) {
  ViewCounter counter(store_.get(), std::chrono::seconds(0), [this] { return now_.load(); });
  ASSERT_TRUE(counter.Flush().ok());
  EXPECT_TRUE(Top().empty());
}

// A full store loses the batch and says so; counting goes on and recovers once there is room.
TEST_F(ViewCounterTest, AFullStoreFailsTheFlushNotTheCount) {
  Open(/*max_bytes=*/64 * 1024);
  ViewCounter counter(store_.get(), std::chrono::seconds(0), [this] { return now_.load(); });
  for (int i = 0; i < 3000; ++i) counter.Count("maths", "resource-" + std::to_string(i) + std::string(100, 'x'));
  Status st = counter.Flush();
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
  counter.Count("maths", "after");
  EXPECT_TRUE(counter.Flush().ok());
  EXPECT_EQ(Top(), (std::vector<UsageResourceTotal>{{"maths", "after", 1}}));
}

TEST_F(ViewCounterTest, OldDaysArePrunedAtTheFlush) {
  ASSERT_TRUE(store_->Add({{"maths", "old", kDay - kUsageRetentionDays, 3}}).ok());
  ViewCounter counter(store_.get(), std::chrono::seconds(0), [this] { return now_.load(); });
  counter.Count("maths", "new");
  ASSERT_TRUE(counter.Flush().ok());
  EXPECT_EQ(Top(), (std::vector<UsageResourceTotal>{{"maths", "new", 1}}));
}

}  // namespace
}  // namespace outpost
