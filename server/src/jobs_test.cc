// The job runner on its own: one job at a time, cancel, the result kept after the job, an
// exception turned into a result, the shutdown that cancels and joins, and the stick jobs that
// take only a drive the box lists. The sync job against a real hub is in
// tests/e2e/sync_e2e_test.cc (through the link simulator) and its engine's cancel in
// sync/src/session/session_test.cc.
#include "jobs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <stdexcept>

#include "outpost/base/hash.h"
#include "outpost/sync/bundle_export.h"
#include "outpost/sync/bundle_import.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/link_scheduler.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/trust_store.h"
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
    drives_ = drives;
    Restart();
  }
  // A new runner on the same data folder, as `outpost serve` started again makes (with the
  // process's connection to sync.db, `db`, if given).
  void Restart(SyncDb* db = nullptr) {
    jobs_.reset();
    jobs_ = std::make_unique<Jobs>(data_.path(), store_.get(), catalog_.get(), drives_, db);
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
  DriveSources drives_;
  std::unique_ptr<SyncDb> db_;  // the site's sync.db, when a test opens it (before jobs_)
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

// ---- The link policy's automatic sync runs as a console job.

TEST_F(JobsTest, TheScheduledSyncRunsAsAJobMarkedScheduleAndIsWaitedFor) {
  Status st = jobs_->RunScheduledSync();  // no hub joined: it fails, with the reason
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.code(), StatusCode::kBusy);
  EXPECT_FALSE(jobs_->Current().has_value());  // it returned once the job had ended
  auto last = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(last && last->result);
  EXPECT_EQ(last->trigger, "schedule");
  EXPECT_EQ(last->result->state, "failed");
  EXPECT_EQ(last->result->sentence, st.message());
  EXPECT_EQ(last->ToJson()["trigger"], "schedule");
  ASSERT_TRUE(jobs_->StartSync({}).has_value());
  jobs_->Join();
  EXPECT_EQ(jobs_->Latest(JobKind::kSync)->ToJson()["trigger"], "console");
}

// The scheduler's hook finds the console's job running: kBusy, "try later", no failure counted
// (no back-off), and the console's job goes on untouched.
TEST_F(JobsTest, TheSchedulerFindingAConsoleJobTriesLaterWithoutCountingAFailure) {
  auto db = SyncDb::Open(NodePaths(data_.path()).sync_db);
  ASSERT_TRUE(db.has_value());
  db_ = std::move(*db);
  HubPin pin;
  pin.address = "127.0.0.1:9";
  ASSERT_TRUE(db_->SetHub(pin).ok());
  LinkPolicy policy;
  policy.auto_sync = true;
  ASSERT_TRUE(db_->SetLinkPolicy(policy).ok());
  Restart(db_.get());
  std::promise<void> release;
  ASSERT_TRUE(jobs_->Start(JobKind::kStickExport, Waiting(release.get_future().share()))
                  .has_value());
  LinkScheduler::Hooks hooks;
  hooks.clock = [] { return LocalTime{1796000000, 0}; };
  hooks.reachable = [](const std::string&) { return true; };
  hooks.sync = [this] { return jobs_->RunScheduledSync(); };
  LinkScheduler scheduler(db_.get(), hooks);
  EXPECT_EQ(scheduler.Tick(hooks.clock()).did, LinkScheduler::Did::kBusy);
  EXPECT_EQ(scheduler.failures(), 0);
  ASSERT_TRUE(jobs_->Current().has_value());
  EXPECT_EQ(jobs_->Current()->kind, JobKind::kStickExport);
  EXPECT_FALSE(jobs_->Current()->cancel_requested);
  release.set_value();
  jobs_->Join();
  EXPECT_EQ(jobs_->Latest(JobKind::kStickExport)->result->state, "done");
}

// ---- The last results outlive the server.

TEST_F(JobsTest, TheLastResultOfEachSlotIsShownAgainAfterARestart) {
  ASSERT_TRUE(jobs_->Start(JobKind::kSync, [](JobContext&) {
                  return JobResult{"incomplete", "stopped at the budget",
                                   {{"bytes_received", 5}, {"budget", "day"}}};
                }, "schedule").has_value());
  jobs_->Join();
  ASSERT_TRUE(jobs_->Start(JobKind::kStickExport, [](JobContext&) {
                  return JobResult{"done", "written", {{"bytes", 9}}};
                }).has_value());
  jobs_->Join();
  JobId last_id = jobs_->Latest(JobKind::kStickExport)->id;
  Restart();  // `outpost serve` started again
  auto sync = jobs_->Latest(JobKind::kSync);
  ASSERT_TRUE(sync && sync->result);
  EXPECT_FALSE(sync->running);
  EXPECT_EQ(sync->trigger, "schedule");
  EXPECT_EQ(sync->result->state, "incomplete");
  EXPECT_EQ(sync->result->sentence, "stopped at the budget");
  EXPECT_EQ(sync->result->fields["budget"], "day");
  EXPECT_GT(sync->ended_at, 0);
  auto stick = jobs_->Latest(JobKind::kStickImport);  // the stick slot: written or read
  ASSERT_TRUE(stick && stick->result);
  EXPECT_EQ(stick->kind, JobKind::kStickExport);
  EXPECT_EQ(stick->ToJson()["state"], "done");
  EXPECT_EQ(stick->ToJson()["result"]["bytes"], 9);
  auto next = jobs_->Start(JobKind::kSync, UntilCancelled);  // ids go on from the kept ones
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, last_id);
  jobs_->Stop();
}

TEST_F(JobsTest, AKeptJobThisServerCannotReadIsLeftOut) {
  jobs_.reset();
  {
    auto db = SyncDb::Open(NodePaths(data_.path()).sync_db);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)->NoteConsoleJob({"sync", 4, "sync", "console", 1, 2, "done", "ok", "[1"}).ok());
    ASSERT_TRUE((*db)->NoteConsoleJob({"stick", 5, "teleport", "console", 1, 2, "done", "", "{}"}).ok());
  }
  Restart();
  EXPECT_FALSE(jobs_->Latest(JobKind::kSync).has_value());
  EXPECT_FALSE(jobs_->Latest(JobKind::kStickExport).has_value());
}

// ---- Sticks at a site: a small stick that fills, continued on another, cancelled half way.

// A hub in a folder of its own, and the fixture's data folder joined to it as the site "ecole"
// with a channel of its own ("ecole-notes": 3 MB that do not compress), which a stick for the
// hub carries. Two USB sticks are mounted (a fake mount table and sysfs, docs/drives.md):
// stick-a holds 2.5 MB, stick-b as much as the disk.
class StickJobsTest : public JobsTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    JobsTest::SetUp();
    ASSERT_TRUE(InitHub(hub_.paths).has_value());
    hub_.Open();
    auto db = SyncDb::Open(site_paths_.sync_db);
    ASSERT_TRUE(db.has_value());
    db_ = std::move(*db);
    Enrol();
    notes_.Write("cours.html", "<!DOCTYPE html><title>Cours</title><p>La photosynthese.</p>\n");
    notes_.Write("visite.mp4", std::string("\0\0\0\x18" "ftypisom", 12) +
                                   testing::RandomBytes(3000000, 5));
    auto published = Publish(site_paths_, store_.get(), catalog_.get(), notes_.path(), "ecole-notes");
    ASSERT_TRUE(published.has_value()) << published.error().message();
    drives_ = MountTwoSticks();
    Restart(db_.get());
    jobs_->set_free_bytes([this](const std::filesystem::path& dir) -> uint64_t {
      if (on_free_bytes_) on_free_bytes_(dir);
      if (dir != stick_a_) return uint64_t{1} << 40;
      uint64_t used = 0;
      for (const auto& e : std::filesystem::directory_iterator(dir)) used += e.file_size();
      return used < kStickA ? kStickA - used : 0;
    });
  }
  void TearDown() override { jobs_.reset(); }

  struct Hub {
    explicit Hub(const std::filesystem::path& dir) : paths(dir) {}
    void Open() {
      store = std::move(*BlobStore::Open(paths.data));
      catalog = std::move(*Catalog::Open(paths.data / "catalog.db"));
      db = std::move(*SyncDb::Open(paths.sync_db));
    }
    NodePaths paths;
    std::unique_ptr<BlobStore> store;
    std::unique_ptr<Catalog> catalog;
    std::unique_ptr<SyncDb> db;
  };
  NodePaths site_paths_{data_.path()};

  // What enrolling by the network leaves on both sides.
  void Enrol() {
    auto code = hub_.db->NewEnrolCode("ecole", 3600);
    ASSERT_TRUE(code.has_value());
    auto key = LoadOrCreateIdentity(site_paths_.node_key);
    ASSERT_TRUE(key.has_value());
    ASSERT_TRUE(hub_.db->AdmitSite(*code, key->public_key()).has_value());
    HubPin pin;
    pin.node_key = LoadIdentity(hub_.paths.node_key)->public_key();
    pin.root_key = *hub_.db->OwnRoot();
    pin.site_name = "ecole";
    ASSERT_TRUE(db_->SetHub(pin).ok());
    std::ifstream in(hub_.paths.trust_list, std::ios::binary);
    std::string doc{std::istreambuf_iterator<char>(in), {}};
    ASSERT_TRUE(StoreTrustList(site_paths_, pin.root_key, doc).ok());
  }
  // /dev/sdb1 on stick-a and /dev/sdc1 on stick-b, both on USB disks.
  DriveSources MountTwoSticks() {
    std::filesystem::path root = drives_dir_.path();
    stick_a_ = root / "media/stick-a";
    stick_b_ = root / "media/stick-b";
    std::filesystem::create_directories(stick_a_);
    std::filesystem::create_directories(stick_b_);
    drives_dir_.Write("proc/self/mounts", "/dev/sdb1 " + stick_a_.string() + " vfat rw 0 0\n" +
                                              "/dev/sdc1 " + stick_b_.string() + " vfat rw 0 0\n");
    std::filesystem::create_directories(root / "sys/block");
    for (const char* disk : {"sdb", "sdc"}) {
      drives_dir_.Write(std::string("sys/devices/usb1/block/") + disk + "/removable", "1\n");
      std::filesystem::create_symlink(std::string("../devices/usb1/block/") + disk,
                                      root / "sys/block" / disk);
    }
    std::filesystem::create_directories(root / "dev/disk/by-label");
    DriveSources sources;
    sources.mounts = root / "proc/self/mounts";
    sources.sys_block = root / "sys/block";
    sources.by_label = root / "dev/disk/by-label";
    return sources;
  }
  std::optional<JobSnapshot> Export(const std::filesystem::path& stick, bool continue_export) {
    auto started = jobs_->StartStickExport(stick.string(), continue_export);
    EXPECT_TRUE(started.has_value()) << started.error().message();
    if (!started) return std::nullopt;
    return jobs_->Wait(*started);
  }
  // The hub reads a stick.
  Result<BundleImportResult> AtTheHub(const std::filesystem::path& stick) {
    return ImportBundle(hub_.paths, hub_.store.get(), hub_.catalog.get(), hub_.db.get(), stick);
  }
  static size_t Volumes(const std::filesystem::path& stick) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(stick)) {
      n += e.path().extension() == ".opb" && e.path().filename().string()[0] != '.';
    }
    return n;
  }
  void ExpectTheHubServesTheNotes() {
    auto at_hub = hub_.catalog->Channel("ecole-notes");
    ASSERT_TRUE(at_hub.has_value());
    EXPECT_EQ(at_hub->manifest_hash, catalog_->Channel("ecole-notes")->manifest_hash);
  }

  static constexpr uint64_t kStickA = 2'500'000;
  TempDir hub_dir_, notes_, drives_dir_;
  Hub hub_{hub_dir_.path()};
  std::filesystem::path stick_a_, stick_b_;
  std::function<void(const std::filesystem::path&)> on_free_bytes_;
};

// The console's "Continue the stick that filled up", end to end: the small stick fills, the
// page says so and offers to continue; the second stick finishes; the hub, reading both, has
// everything.
TEST_F(StickJobsTest, AStickThatFilledUpIsContinuedOnAnotherAndTheHubGetsEverything) {
  auto first = Export(stick_a_, false);
  ASSERT_TRUE(first && first->result);
  EXPECT_EQ(first->result->state, "incomplete") << first->result->sentence;
  EXPECT_NE(first->result->sentence.find("The stick is full"), std::string::npos);
  EXPECT_GT(first->result->fields["remaining_bytes"].get<uint64_t>(), 0u);
  EXPECT_GE(Volumes(stick_a_), 1u);
  ASSERT_EQ(UnfinishedExports(site_paths_).size(), 1u);  // the page shows "Continue"

  auto rest = Export(stick_b_, true);
  ASSERT_TRUE(rest && rest->result);
  EXPECT_EQ(rest->result->state, "done") << rest->result->sentence;
  EXPECT_EQ(rest->result->fields["bundle"], first->result->fields["bundle"]);
  EXPECT_TRUE(UnfinishedExports(site_paths_).empty());

  auto one = AtTheHub(stick_a_);
  ASSERT_TRUE(one.has_value()) << one.error().message();
  EXPECT_FALSE(one->summary.complete);
  EXPECT_FALSE(hub_.catalog->Channel("ecole-notes").has_value());  // nothing half done
  auto two = AtTheHub(stick_b_);
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_TRUE(two->summary.complete);
  ExpectTheHubServesTheNotes();
}

// Cancel while a continuation is written: no half volume stays on the stick, the export can
// still be continued, and the next Continue finishes it; the hub gets everything.
TEST_F(StickJobsTest, ACancelledContinuationLeavesAStickTheNextContinueFinishes) {
  ASSERT_EQ(Export(stick_a_, false)->result->state, "incomplete");
  int asked_on_b = 0;
  on_free_bytes_ = [&](const std::filesystem::path& dir) {
    if (dir == stick_b_ && ++asked_on_b == 3) {
      EXPECT_TRUE(jobs_->Cancel());
    }
  };
  auto cancelled = Export(stick_b_, true);
  ASSERT_TRUE(cancelled && cancelled->result);
  EXPECT_EQ(cancelled->result->state, "cancelled") << cancelled->result->sentence;
  EXPECT_EQ(cancelled->result->fields["cancelled"], true);
  EXPECT_TRUE(std::filesystem::is_empty(stick_b_));  // the half-written volume is gone
  ASSERT_EQ(UnfinishedExports(site_paths_).size(), 1u);

  on_free_bytes_ = nullptr;
  auto rest = Export(stick_b_, true);
  ASSERT_TRUE(rest && rest->result);
  EXPECT_EQ(rest->result->state, "done") << rest->result->sentence;
  ASSERT_TRUE(AtTheHub(stick_a_).has_value());
  auto two = AtTheHub(stick_b_);
  ASSERT_TRUE(two.has_value()) << two.error().message();
  EXPECT_TRUE(two->summary.complete);
  ExpectTheHubServesTheNotes();
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
