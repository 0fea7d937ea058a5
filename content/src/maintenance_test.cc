#include "outpost/content/maintenance.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>

#include "outpost/content/importer.h"
#include "testing/damage.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;
using testing::TempDir;

// FaultEnv, plus removals that fail once a countdown runs out: gc's last steps are removals,
// which FaultEnv passes through.
class RemoveFaultEnv : public FaultEnv {
 public:
  // After `removes` more successful removals, every removal fails; -1: none does.
  void FailRemovesAfter(long removes) { remove_countdown_ = removes; }
  Status Remove(const fs::path& path) override {
    if (remove_countdown_ == 0) return IoError("removing " + path.string() + ": injected fault");
    if (remove_countdown_ > 0) --remove_countdown_;
    return FaultEnv::Remove(path);
  }

 private:
  std::atomic<long> remove_countdown_{-1};
};

// A data folder with one channel, "science", imported from a folder the test changes.
class MaintenanceTest : public ::testing::Test {
 public:
  void SetUp() override { Open(); }
  void Open() {
    auto store = BlobStore::Open(data_->path(), &env_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    auto catalog = Catalog::Open(data_->path() / "catalog.db");
    ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
  }
  // Forgets this data folder and opens an empty one.
  void StartAfresh() {
    catalog_.reset();
    store_.reset();
    data_ = std::make_unique<TempDir>();
    Open();
  }
  // Writes the files of the channel's folder and imports it as the next version.
  void ImportVersion(const std::string& lesson, const std::string& notes) {
    src_.Write("science/01-lesson.html", LessonPage(lesson));
    src_.Write("science/02-notes.txt", notes);
    src_.Write("science/03-rules.txt", "the same in every version");
    Importer importer(store_.get(), catalog_.get());
    auto report = importer.Import(src_.path() / "science", {});
    ASSERT_TRUE(report.has_value()) << report.error().ToString();
    ASSERT_NE(report->version, 0);
  }
  // Three versions: the lesson changes in each, the notes in the last only.
  void ImportThreeVersions() {
    ImportVersion("one", "notes");
    ImportVersion("two", "notes");
    ImportVersion("three", "more notes");
  }
  static std::string LessonPage(const std::string& text) {
    return "<html><body><p>" + text + "</p></body></html>";
  }
  static Hash Lesson(const std::string& text) { return Hash::Of(LessonPage(text)); }
  bool HasVersion(int64_t version) { return catalog_->LoadVersion("science", version).has_value(); }
  // Nothing any remaining version uses is absent from the store.
  void ExpectNothingServedMissing() {
    auto verified = Verify(store_.get(), catalog_.get());
    ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
    EXPECT_TRUE(verified->missing.empty());
    EXPECT_TRUE(verified->catalog_problems.empty());
  }

  std::unique_ptr<TempDir> data_ = std::make_unique<TempDir>();
  TempDir src_;
  RemoveFaultEnv env_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
};

// ---- verify ----

TEST_F(MaintenanceTest, ACleanStoreVerifiesClean) {
  ImportVersion("one", "notes");
  uint64_t last_done = 0, last_total = 0;
  int damaged_calls = 0;
  VerifyOptions options;
  options.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
  options.damaged = [&](const DamagedBlob&) { ++damaged_calls; };
  auto report = Verify(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->blobs, 3u);
  EXPECT_GT(report->bytes, 0u);
  EXPECT_TRUE(report->damaged.empty());
  EXPECT_TRUE(report->missing.empty());
  EXPECT_TRUE(report->stray_files.empty());
  EXPECT_EQ(damaged_calls, 0);
  EXPECT_EQ(last_done, report->bytes);
  EXPECT_EQ(last_total, report->bytes);
}

TEST_F(MaintenanceTest, ADamagedBlobIsQuarantinedAndReportedThenMissingUntilRestored) {
  ImportVersion("one", "notes");
  Hash lesson = Lesson("one");
  testing::FlipByte(store_->PathOf(lesson), 3);
  std::vector<Hash> told;
  VerifyOptions options;
  options.damaged = [&](const DamagedBlob& d) { told.push_back(d.hash); };

  auto report = Verify(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_FALSE(report->ok());
  ASSERT_EQ(report->damaged.size(), 1u);
  const DamagedBlob& d = report->damaged[0];
  EXPECT_EQ(d.hash, lesson);
  EXPECT_EQ(d.problem.code(), StatusCode::kCorrupt);
  EXPECT_EQ(d.quarantined_to, data_->path() / "quarantine" / lesson.Hex());
  EXPECT_TRUE(d.quarantine_error.ok());
  EXPECT_TRUE(fs::exists(d.quarantined_to));
  EXPECT_FALSE(store_->Contains(lesson));
  EXPECT_TRUE(report->missing.empty());  // damaged in this run, not missing
  EXPECT_EQ(told, std::vector<Hash>{lesson});

  auto again = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->damaged.empty());
  EXPECT_EQ(again->missing, std::vector<Hash>{lesson});

  Importer importer(store_.get(), catalog_.get());  // the same folder brings the file back
  ASSERT_TRUE(importer.Import(src_.path() / "science", {}).has_value());
  auto restored = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(restored.has_value());
  EXPECT_TRUE(restored->ok());
}

TEST_F(MaintenanceTest, KeepingDamagedBlobsReportsThemAndLeavesThemInPlace) {
  ImportVersion("one", "notes");
  Hash lesson = Lesson("one");
  testing::FlipByte(store_->PathOf(lesson), 3);
  VerifyOptions options;
  options.quarantine_damaged = false;
  auto report = Verify(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_TRUE(report->damaged[0].quarantined_to.empty());
  EXPECT_TRUE(report->damaged[0].quarantine_error.ok());
  EXPECT_TRUE(store_->Contains(lesson));
  EXPECT_FALSE(fs::exists(data_->path() / "quarantine" / lesson.Hex()));
}

TEST_F(MaintenanceTest, ADamagedBlobThatCannotBeMovedIsReportedWithWhy) {
  ImportVersion("one", "notes");
  Hash lesson = Lesson("one");
  testing::FlipByte(store_->PathOf(lesson), 3);
  env_.FailAfter(0, FaultEnv::Fault::kRenameFails);
  auto report = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_TRUE(report->damaged[0].quarantined_to.empty());
  EXPECT_FALSE(report->damaged[0].quarantine_error.ok());
  EXPECT_TRUE(store_->Contains(lesson));  // still in place (and still served)
}

TEST_F(MaintenanceTest, ABlobTheCatalogUsesButTheStoreLacksIsMissing) {
  ImportVersion("one", "notes");
  Hash notes = Hash::Of(std::string_view("notes"));
  fs::remove(store_->PathOf(notes));
  auto report = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->ok());
  EXPECT_EQ(report->missing, std::vector<Hash>{notes});
  EXPECT_EQ(report->blobs, 2u);
}

TEST_F(MaintenanceTest, StrayFilesAreListedButAreNoDamage) {
  ImportVersion("one", "notes");
  fs::path stray = data_->Write("blobs/not-a-blob.txt", "a note someone left");
  auto report = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->stray_files, std::vector<fs::path>{stray});
}

TEST_F(MaintenanceTest, ACatalogServingAVersionItLacksIsReported) {
  ImportVersion("one", "notes");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_->path() / "catalog.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE channels SET served_version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto report = Verify(store_.get(), catalog_.get());
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->ok());
  EXPECT_FALSE(report->catalog_problems.empty());
}

TEST_F(MaintenanceTest, ADamagedNodesPageIsAFindingAndEveryBlobIsStillChecked) {
  ImportVersion("one", "notes");
  catalog_.reset();
  testing::DamagePage(data_->path() / "catalog.db", "nodes", testing::PageDamage::kZero);
  testing::DamageBlob(store_->PathOf(Lesson("one")));
  Hash notes = Hash::Of(std::string_view("notes"));
  fs::remove(store_->PathOf(notes));
  auto catalog = Catalog::OpenReadOnly(data_->path() / "catalog.db");
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  auto report = Verify(store_.get(), catalog->get());
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_FALSE(report->ok());
  EXPECT_FALSE(report->catalog_problems.empty());
  EXPECT_EQ(report->blobs, 2u);
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_EQ(report->damaged[0].hash, Lesson("one"));
  // The nodes table cannot be read, but its file index still says the notes are used.
  EXPECT_EQ(report->missing, std::vector<Hash>{notes});
}

// ---- gc ----

TEST_F(MaintenanceTest, GcPrunesOldVersionsAndRemovesTheBlobsOnlyTheyUsed) {
  ImportThreeVersions();
  auto report = CollectGarbage(store_.get(), catalog_.get());
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->versions_removed, 1);
  EXPECT_EQ(report->blobs_removed, std::vector<Hash>{Lesson("one")});
  EXPECT_EQ(report->bytes_freed, LessonPage("one").size());
  EXPECT_FALSE(HasVersion(1));
  EXPECT_TRUE(HasVersion(2));
  EXPECT_TRUE(HasVersion(3));
  EXPECT_FALSE(store_->Contains(Lesson("one")));
  EXPECT_FALSE(catalog_->HasBlob(Lesson("one")));
  EXPECT_TRUE(store_->Contains(Lesson("two")));
  EXPECT_TRUE(store_->Contains(Hash::Of(std::string_view("notes"))));
  ExpectNothingServedMissing();
}

TEST_F(MaintenanceTest, KeepingNoVersionsLeavesOnlyWhatTheServedOneUses) {
  ImportThreeVersions();
  GcOptions options;
  options.keep_versions = 0;
  auto report = CollectGarbage(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->versions_removed, 2);
  EXPECT_EQ(report->blobs_removed.size(), 3u);  // lessons one and two, the old notes
  EXPECT_TRUE(HasVersion(3));
  EXPECT_FALSE(HasVersion(2));
  EXPECT_FALSE(store_->Contains(Lesson("two")));
  EXPECT_FALSE(store_->Contains(Hash::Of(std::string_view("notes"))));
  EXPECT_TRUE(store_->Contains(Hash::Of(std::string_view("the same in every version"))));
  ExpectNothingServedMissing();
}

TEST_F(MaintenanceTest, ADryRunReportsExactlyWhatARealRunRemovesAndChangesNothing) {
  ImportThreeVersions();
  fs::path temp = data_->Write("tmp/left-by-a-killed-import.tmp", "half a file");
  GcOptions options;
  options.keep_versions = 0;
  options.dry_run = true;
  auto dry = CollectGarbage(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(dry.has_value()) << dry.error().ToString();
  EXPECT_TRUE(HasVersion(1));
  EXPECT_TRUE(store_->Contains(Lesson("one")));
  EXPECT_TRUE(catalog_->HasBlob(Lesson("one")));
  EXPECT_TRUE(fs::exists(temp));

  options.dry_run = false;
  auto real = CollectGarbage(store_.get(), catalog_.get(), options);
  ASSERT_TRUE(real.has_value()) << real.error().ToString();
  EXPECT_EQ(real->versions_removed, dry->versions_removed);
  auto sorted = [](std::vector<Hash> v) {
    std::sort(v.begin(), v.end(), [](const Hash& a, const Hash& b) { return a.Hex() < b.Hex(); });
    return v;
  };
  EXPECT_EQ(sorted(real->blobs_removed), sorted(dry->blobs_removed));
  EXPECT_EQ(real->bytes_freed, dry->bytes_freed);
  EXPECT_FALSE(fs::exists(temp));  // a real run removes stale temp files
}

TEST_F(MaintenanceTest, GcIsRefusedWhileAnImportHoldsTheStore) {
  ImportThreeVersions();
  auto writer = store_->LockShared();
  ASSERT_TRUE(writer.has_value());
  auto report = CollectGarbage(store_.get(), catalog_.get());
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code(), StatusCode::kBusy);
  EXPECT_TRUE(HasVersion(1));
  EXPECT_TRUE(store_->Contains(Lesson("one")));
}

// Removals fail at the first, second, ... step (three unused blobs, then a stale temp file):
// each time the catalog has already forgotten every blob gc meant to remove (forget comes
// first), nothing a version uses is missing, and the next gc finishes the job.
TEST_F(MaintenanceTest, AFailureMidGcLeavesNothingServedMissingAndTheNextRunFinishes) {
  const std::vector<Hash> unused = {Lesson("one"), Lesson("two"),
                                    Hash::Of(std::string_view("notes"))};
  for (long step = 0;; ++step) {
    SCOPED_TRACE("removal " + std::to_string(step) + " fails");
    StartAfresh();
    ImportThreeVersions();
    data_->Write("tmp/left-by-a-killed-import.tmp", "half a file");
    GcOptions options;
    options.keep_versions = 0;
    env_.FailRemovesAfter(step);
    auto failed = CollectGarbage(store_.get(), catalog_.get(), options);
    env_.FailRemovesAfter(-1);
    if (failed.has_value()) {
      EXPECT_EQ(step, 4);
      break;
    }
    EXPECT_EQ(failed.error().code(), StatusCode::kIoError);
    EXPECT_FALSE(HasVersion(2));  // the prune committed before the removals began
    for (const auto& h : unused) EXPECT_FALSE(catalog_->HasBlob(h)) << h.Hex();
    ExpectNothingServedMissing();
    auto finished = CollectGarbage(store_.get(), catalog_.get(), options);
    ASSERT_TRUE(finished.has_value()) << finished.error().ToString();
    EXPECT_EQ(finished->versions_removed, 0);
    for (const auto& h : unused) EXPECT_FALSE(store_->Contains(h)) << h.Hex();
    ExpectNothingServedMissing();
  }
}

}  // namespace
}  // namespace outpost
