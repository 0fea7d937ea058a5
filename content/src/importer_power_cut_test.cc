// The power goes at every step of an import (every write, sync, rename, new folder and SQLite
// write of the data folder; testing/power_cut.h), and with it everything not yet durable, the
// worst case and random mixes of what reached the disk. Each time the box boots on what is left
// and serves a whole version, the one before the import or the new one, every file's hash
// verified; and the import, run again, completes.
#include <gtest/gtest.h>

#include "outpost/content/importer.h"
#include "testing/power_cut.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::PowerCut;
using testing::TempDir;

class ImporterPowerCutTest : public ::testing::Test {
 protected:
  // Version 1 of a small curriculum imported into base_, the folder then changed (an edited
  // page, a new page and a new folder, a new clip) for version 2.
  void SetUp() override {
    folder_.Write("outpost.toml", "[channel]\nid = \"water\"\ntitle = \"Water\"\n");
    for (int i = 0; i < 4; ++i) folder_.Write("unit-" + std::to_string(i % 2) + "/lesson-" + std::to_string(i) + ".html", Page(i, ""));
    folder_.Write("media/clip.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(200000, 1));
    v1_ = ImportInto(base_.path(), Env::Default());
    folder_.Write("unit-0/lesson-0.html", Page(0, "<p>A corrected sentence.</p>"));
    folder_.Write("unit-2/lesson-9.html", Page(9, ""));
    folder_.Write("media/river.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(300000, 2));
  }
  static std::string Page(int n, const std::string& extra) {
    std::string body;
    for (int i = 0; i < 50; ++i) body += "<p>Lesson " + std::to_string(n) + ": water falls as rain.</p>";
    return "<!DOCTYPE html><title>Lesson " + std::to_string(n) + "</title>" + body + extra;
  }
  // Imports the folder into `data` through `env`; the tree hash then served, or nothing if the
  // import failed.
  std::optional<Hash> ImportInto(const fs::path& data, Env* env) {
    auto store = BlobStore::Open(data, env);
    auto catalog = Catalog::Open(data / "catalog.db");
    if (!store || !catalog) return std::nullopt;
    ImportOptions options;
    options.batch_files = 2;  // several batches, so the cut falls between them too
    auto report = Importer(store->get(), catalog->get()).Import(folder_.path(), options);
    if (!report) return std::nullopt;
    return (*catalog)->Channel("water")->tree_hash;
  }
  void Fresh(const fs::path& data) {
    fs::remove_all(data);
    fs::copy(base_.path(), data, fs::copy_options::recursive);
  }
  // One run: the power goes at `step`; what the disk kept is drawn from `seed` (0: nothing).
  // The layer stays in place for the boot and the import after it, so that nothing in the
  // test waits for the real disk.
  void CutAt(long step, uint64_t seed) {
    Fresh(data_);
    power_.Reset();
    power_.CutAt(step);
    (void)ImportInto(data_, power_.env());
    ASSERT_TRUE(power_.DropUnsynced(seed).ok());
    auto boot = testing::Boot(data_, "water");
    EXPECT_TRUE(boot.problems.empty()) << ::testing::PrintToString(boot.problems);
    ASSERT_TRUE(boot.channel.has_value());
    bool old_version = boot.channel->served_version == 1 && boot.channel->tree_hash == *v1_;
    bool new_version = boot.channel->served_version == 2 && boot.channel->tree_hash == *v2_;
    EXPECT_TRUE(old_version || new_version) << "serves version " << boot.channel->served_version;
    auto again = ImportInto(data_, power_.env());
    ASSERT_TRUE(again.has_value()) << "the import run again after the cut failed";
    EXPECT_EQ(*again, *v2_);
  }

  TempDir folder_, base_, work_;
  fs::path data_ = work_.path() / "data";
  std::optional<Hash> v1_, v2_;
  PowerCut power_{data_};  // after v1 is imported into base_, which it does not watch
};

TEST_F(ImporterPowerCutTest, APowerCutAtAnyStepLeavesAWholeVersionAndTheImportCompletesAfter) {
  ASSERT_TRUE(v1_.has_value());
  Fresh(data_);
  v2_ = ImportInto(data_, power_.env());  // the whole import, its steps counted
  const long total = power_.steps();
  ASSERT_TRUE(v2_.has_value());
  ASSERT_NE(*v2_, *v1_);
  EXPECT_GT(total, 20);
  RecordProperty("steps", static_cast<int>(total));
  for (long step : testing::PowerCutSteps(total, 120, 17)) {
    for (uint64_t seed : {uint64_t{0}, static_cast<uint64_t>(step) + 1}) {
      SCOPED_TRACE("power cut at step " + std::to_string(step) + " of " + std::to_string(total) +
                   ", seed " + std::to_string(seed));
      ASSERT_NO_FATAL_FAILURE(CutAt(step, seed));
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace outpost
