// LinkScheduler (link_scheduler.h) with a fake clock, a fake probe and a fake sync: each Tick
// is one decision at a fixed time, so no time passes; one test runs the thread and stops it.
#include "outpost/sync/link_scheduler.h"

#include <gtest/gtest.h>

#include <future>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

constexpr int64_t kMonday = 1796601600;  // 2026-12-07 00:00 UTC

LocalTime Clock(int hh, int mm, int ss = 0) { return {kMonday + hh * 3600 + mm * 60 + ss, 0}; }

class LinkSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SyncDb::Open(dir_.path() / "sync.db");
    ASSERT_TRUE(db.has_value()) << db.error().message();
    db_ = std::move(*db);
    HubPin pin;
    pin.address = "hub.example:7000";
    ASSERT_TRUE(db_->SetHub(pin).ok());
    policy_.auto_sync = true;
    policy_.interval_minutes = 15;
    policy_.windows = ParseWindows("22:00-06:00").value();
    Save();
    LinkScheduler::Hooks hooks;
    hooks.clock = [this] { return now_; };
    hooks.reachable = [this](const std::string& address) {
      probed_.push_back(address);
      return reachable_;
    };
    hooks.sync = [this] {
      ++syncs_;
      return sync_result_;
    };
    scheduler_ = std::make_unique<LinkScheduler>(db_.get(), hooks);
  }
  void Save() { ASSERT_TRUE(db_->SetLinkPolicy(policy_).ok()); }
  LinkScheduler::Did TickAt(LocalTime when) {
    now_ = when;
    step_ = scheduler_->Tick(when);
    return step_.did;
  }

  testing::TempDir dir_;
  std::unique_ptr<SyncDb> db_;
  std::unique_ptr<LinkScheduler> scheduler_;
  LinkPolicy policy_;
  LocalTime now_ = Clock(23, 0);
  LinkScheduler::Step step_;
  bool reachable_ = true;
  Status sync_result_;
  int syncs_ = 0;
  std::vector<std::string> probed_;
};

using Did = LinkScheduler::Did;

TEST_F(LinkSchedulerTest, AReachableHubInsideTheWindowIsSynced) {
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kSynced);
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(probed_, std::vector<std::string>{"hub.example:7000"});
  EXPECT_EQ(step_.next, Clock(23, 15).unix);
}

TEST_F(LinkSchedulerTest, NothingIsTriedBeforeTheIntervalHasPassed) {
  ASSERT_EQ(TickAt(Clock(23, 0)), Did::kSynced);
  EXPECT_EQ(TickAt(Clock(23, 14)), Did::kWaiting);
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(TickAt(Clock(23, 15)), Did::kSynced);
  EXPECT_EQ(syncs_, 2);
}

TEST_F(LinkSchedulerTest, OutsideTheWindowNothingIsProbed) {
  EXPECT_EQ(TickAt(Clock(12, 0)), Did::kOutsideWindow);
  EXPECT_TRUE(probed_.empty());
  EXPECT_EQ(syncs_, 0);
  EXPECT_EQ(step_.next, Clock(12, 1).unix);  // looks again within a minute
  EXPECT_EQ(TickAt(Clock(21, 59, 30)), Did::kOutsideWindow);
  EXPECT_EQ(step_.next, Clock(22, 0).unix);  // the window's start, if sooner
}

TEST_F(LinkSchedulerTest, AnUnreachableHubIsProbedAgainAfterTheInterval) {
  reachable_ = false;
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kUnreachable);
  EXPECT_EQ(syncs_, 0);
  EXPECT_EQ(TickAt(Clock(23, 5)), Did::kWaiting);
  reachable_ = true;
  EXPECT_EQ(TickAt(Clock(23, 15)), Did::kSynced);
}

TEST_F(LinkSchedulerTest, ASpentBudgetStartsNoSync) {
  policy_.day_budget_bytes = 10'000'000;
  Save();
  ASSERT_TRUE(db_->NoteLinkUsage("2026-12-07", 10'000'000 - kMinAutoSyncBytes + 1).ok());
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kBudgetSpent);
  EXPECT_TRUE(probed_.empty());
  // After local midnight the day's budget is whole again.
  EXPECT_EQ(TickAt({kMonday + 86400 + 60, 0}), Did::kSynced);
}

TEST_F(LinkSchedulerTest, FailuresBackOffDoublingToAMaximum) {
  policy_.windows.clear();  // any time: the back-off runs past a night
  Save();
  sync_result_ = IoError("the link dropped");
  int64_t t = Clock(23, 0).unix;
  std::vector<int64_t> waits;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(TickAt({t, 0}), Did::kFailed);
    waits.push_back(step_.next - t);
    t = step_.next;
  }
  EXPECT_EQ(waits[0], 30 * 60);
  EXPECT_EQ(waits[1], 60 * 60);
  EXPECT_EQ(waits[2], 120 * 60);
  EXPECT_EQ(waits.back(), kMaxBackoffSeconds);
  EXPECT_EQ(scheduler_->failures(), 8);
  EXPECT_EQ(scheduler_->last_error(), "the link dropped");
  sync_result_ = Status::Ok();
  ASSERT_EQ(TickAt({t, 0}), Did::kSynced);
  EXPECT_EQ(scheduler_->failures(), 0);
  EXPECT_EQ(step_.next - t, 15 * 60);
}

TEST_F(LinkSchedulerTest, AnotherSyncRunningIsNotAFailure) {
  sync_result_ = Status(StatusCode::kBusy, "another sync is running");
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kBusy);
  EXPECT_EQ(scheduler_->failures(), 0);
  EXPECT_EQ(step_.next, Clock(23, 15).unix);
}

TEST_F(LinkSchedulerTest, AChangedPolicyOrAPokeIsDecidedAtOnce) {
  sync_result_ = IoError("refused");
  ASSERT_EQ(TickAt(Clock(23, 0)), Did::kFailed);
  EXPECT_EQ(TickAt(Clock(23, 1)), Did::kWaiting);
  policy_.interval_minutes = 20;
  Save();
  EXPECT_EQ(TickAt(Clock(23, 2)), Did::kFailed);  // tried again: the policy changed
  EXPECT_EQ(TickAt(Clock(23, 3)), Did::kWaiting);
  scheduler_->Poke();
  EXPECT_EQ(TickAt(Clock(23, 4)), Did::kFailed);
}

TEST_F(LinkSchedulerTest, OffOrWithoutAHubNothingHappens) {
  policy_.auto_sync = false;
  Save();
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kOff);
  policy_.auto_sync = true;
  Save();
  ASSERT_TRUE(db_->SetHub(HubPin{}).ok());  // joined from a file without an address
  EXPECT_EQ(TickAt(Clock(23, 0)), Did::kNoHub);
  EXPECT_TRUE(probed_.empty());
  EXPECT_EQ(syncs_, 0);
}

// The thread: its first decision comes at once (a sync, here); Stop() wakes it from its wait
// and it ends.
TEST_F(LinkSchedulerTest, TheThreadSyncsAndStopsWhenAsked) {
  std::promise<void> synced;
  LinkScheduler::Hooks hooks;
  hooks.clock = [this] { return now_; };
  hooks.reachable = [](const std::string&) { return true; };
  int calls = 0;
  hooks.sync = [&] {
    if (++calls == 1) synced.set_value();
    return Status::Ok();
  };
  LinkScheduler scheduler(db_.get(), hooks);
  scheduler.Start();
  synced.get_future().wait();
  scheduler.Stop();  // returns: the thread ended (it was waiting 15 minutes of real time)
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace outpost
