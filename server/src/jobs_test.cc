// The job runner on its own: one job at a time, cancel, the result kept after the job, an
// exception turned into a result, the shutdown that cancels and joins, and the stick jobs that
// take only a drive the box lists. The sync job against a real hub is in
// tests/e2e/sync_e2e_test.cc (through the link simulator) and its engine's cancel in
// sync/src/session/session_test.cc.
#include "jobs.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    DriveSources drives;
    drives.mounts = data_.path() / "no-drives/mounts";
    drives.sys_block = data_.path() / "no-drives/sys/block";
    drives.by_label = data_.path() / "no-drives/by-label";
    data_.Write("no-drives/mounts", "");
    jobs_ = std::make_unique<Jobs>(data_.path(), store_.get(), catalog_.get(), drives);
  }
  // A job that reports, then waits until `release` is set, then ends "done" (or "cancelled"
  // if it was asked to stop by then).
  JobWork Waiting(std::shared_future<void> release) {
    return [release](JobContext& job) {
      job.Report({"fetching", 500, 2000, 1, 4});
      release.wait();
      return JobResult{job.cancelled() ? "cancelled" : "done", "it ran", {{"n", 7}}};
    };
  }
  // A job that runs until it is cancelled.
  static JobResult UntilCancelled(JobContext& job) {
    job.Report({"fetching", 1, 10, 0, 0});
    while (!job.cancelled()) std::this_thread::yield();
    return JobResult{"cancelled", "stopped", {}};
  }

  TempDir data_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Jobs> jobs_;
};

TEST_F(JobsTest, ASecondJobIsBusyWhileTheFirstRunsAndTheResultIsKeptAfter) {
  std::promise<void> release;
  auto first = jobs_->Start(JobKind::kSync, Waiting(release.get_future().share()));
  ASSERT_TRUE(first.has_value());
  auto second = jobs_->Start(JobKind::kStickExport, UntilCancelled);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kBusy);
  auto running = jobs_->Current();
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->id, *first);
  EXPECT_TRUE(running->running);
  EXPECT_FALSE(running->result.has_value());
  release.set_value();
  jobs_->Join();
  EXPECT_FALSE(jobs_->Current().has_value());
  auto last = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(last.has_value());
  EXPECT_FALSE(last->running);
  ASSERT_TRUE(last->result.has_value());
  EXPECT_EQ(last->result->state, "done");
  EXPECT_EQ(last->result->fields["n"], 7);
  EXPECT_EQ(last->progress.bytes_done, 500u);  // its last progress stays with it
  EXPECT_GT(last->ended_at, 0);
  EXPECT_FALSE(jobs_->Latest(JobKind::kStickImport).has_value());  // a stick job is another kind
  auto third = jobs_->Start(JobKind::kStickImport, UntilCancelled);  // free again
  ASSERT_TRUE(third.has_value());
  EXPECT_GT(*third, *first);
  EXPECT_TRUE(jobs_->Cancel());
  jobs_->Join();
  EXPECT_EQ(jobs_->Latest(JobKind::kStickExport)->result->state, "cancelled");
}

TEST_F(JobsTest, ProgressShowsBytesFilesAndARateWhileTheJobRuns) {
  std::promise<void> release;
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, Waiting(release.get_future().share())).has_value());
  // The work reports before it waits: look until that report is in.
  std::optional<JobSnapshot> now;
  do {
    now = jobs_->Current();
  } while (now && now->progress.phase != "fetching");
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->progress.bytes_total, 2000u);
  EXPECT_EQ(now->progress.files_done, 1u);
  EXPECT_EQ(now->progress.files_total, 4u);
  EXPECT_GT(now->rate_bytes_per_second, 0);
  ASSERT_TRUE(now->seconds_left.has_value());
  EXPECT_GE(*now->seconds_left, 0);
  auto json = now->ToJson();
  EXPECT_EQ(json["state"], "running");
  EXPECT_EQ(json["kind"], "sync");
  EXPECT_EQ(json["bytes_done"], 500);
  release.set_value();
  jobs_->Join();
}

TEST_F(JobsTest, CancelReachesTheWorkAndNothingRunsAfter) {
  EXPECT_FALSE(jobs_->Cancel());  // nothing to cancel
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, UntilCancelled).has_value());
  EXPECT_TRUE(jobs_->Cancel());
  jobs_->Join();
  auto last = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(last && last->result);
  EXPECT_TRUE(last->cancel_requested);
  EXPECT_EQ(last->result->state, "cancelled");
  EXPECT_EQ(last->ToJson()["state"], "cancelled");
  EXPECT_FALSE(jobs_->Cancel());
}

TEST_F(JobsTest, AnExceptionInTheWorkBecomesAFailedResult) {
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, [](JobContext&) -> JobResult {
                      throw std::runtime_error("disk on fire");
                    }).has_value());
  jobs_->Join();
  auto last = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(last && last->result);
  EXPECT_EQ(last->result->state, "failed");
  EXPECT_NE(last->result->sentence.find("disk on fire"), std::string::npos);
  EXPECT_TRUE(jobs_->Start(JobKind::kSync, UntilCancelled).has_value());  // not stuck busy
  jobs_->Stop();
}

TEST_F(JobsTest, StopCancelsTheRunningJobJoinsItAndRefusesNewOnes) {
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, UntilCancelled).has_value());
  jobs_->Stop();  // returns only once the job has ended: it never would without the cancel
  EXPECT_FALSE(jobs_->Current().has_value());
  EXPECT_EQ(jobs_->Latest(JobKind::kSync)->result->state, "cancelled");
  auto after = jobs_->Start(JobKind::kSync, UntilCancelled);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), StatusCode::kBusy);
}

TEST_F(JobsTest, TheDestructorCancelsAndJoinsARunningJob) {
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, UntilCancelled).has_value());
  jobs_.reset();  // would hang (or crash on a destroyed std::thread) otherwise
  SUCCEED();
}

TEST_F(JobsTest, StickJobsTakeOnlyADriveTheBoxLists) {
  for (const std::string& path : {data_.path().string(), std::string("/"), std::string("")}) {
    auto write = jobs_->StartStickExport(path, false);
    ASSERT_FALSE(write.has_value()) << path;
    EXPECT_EQ(write.error().code(), StatusCode::kNotFound);
    auto read = jobs_->StartStickImport(path);
    ASSERT_FALSE(read.has_value()) << path;
    EXPECT_EQ(read.error().code(), StatusCode::kNotFound);
  }
  EXPECT_FALSE(jobs_->Current().has_value());
}

TEST_F(JobsTest, ASyncWithoutAHubEndsFailedWithTheReason) {
  ASSERT_TRUE(jobs_->StartSync({}).has_value());
  jobs_->Join();
  auto last = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(last && last->result);
  EXPECT_EQ(last->result->state, "failed");
  EXPECT_FALSE(last->result->sentence.empty());
}

TEST(BytesForPeopleTest, SizesReadAsSticksAreSold) {
  EXPECT_EQ(BytesForPeople(0), "0 kB");
  EXPECT_EQ(BytesForPeople(12345), "13 kB");
  EXPECT_EQ(BytesForPeople(3000000), "3.0 MB");
  EXPECT_EQ(BytesForPeople(212000000), "212 MB");
  EXPECT_EQ(BytesForPeople(84060000000), "84.1 GB");
}

}  // namespace
}  // namespace outpost
