// `verify` on a failing card (issue 14): a damaged catalog page is reported like a damaged blob
// (exit 3, every finding, JSON that parses) while every blob is still checked, and a read-only
// data folder is checked without writing or creating anything.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "outpost_cli.h"
#include "testing/damage.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::OutpostOn;
using testing::PageDamage;
using testing::RunProcess;
using testing::TempDir;

const std::string kDemo = OUTPOST_DEMO_DIR;

// Every file under `dir` with its size: what a read-only check must leave exactly as it was.
std::map<std::string, uintmax_t> Listing(const fs::path& dir) {
  std::map<std::string, uintmax_t> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    out[fs::relative(e.path(), dir).string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return out;
}

// The biggest blob file of the store (a page or a video, never empty).
fs::path SomeBlob(const fs::path& data) {
  fs::path best;
  uintmax_t size = 0;
  for (auto& e : fs::recursive_directory_iterator(data / "blobs")) {
    if (e.is_regular_file() && e.file_size() > size) {
      size = e.file_size();
      best = e.path();
    }
  }
  return best;
}

class VerifyDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = OutpostOn(data_.path(), {"import", kDemo});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  fs::path catalog() const { return data_.path() / "catalog.db"; }
  TempDir data_;
};

TEST_F(VerifyDamageTest, ADamagedNodesPageIsReportedWithEveryDamagedBlob) {
  testing::DamagePage(catalog(), "nodes", PageDamage::kFlipHeader);
  fs::path blob = SomeBlob(data_.path());
  testing::DamageBlob(blob);
  auto r = OutpostOn(data_.path(), {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  for (const char* key : {"blobs", "bytes", "damaged", "missing", "stray_files", "catalog", "ok",
                          "read_only"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["ok"], false);
  EXPECT_FALSE(j["catalog"].empty()) << r.out;
  EXPECT_GT(j["blobs"].get<int>(), 10);
  ASSERT_EQ(j["damaged"].size(), 1u) << r.out;
  EXPECT_EQ(j["damaged"][0], blob.filename().string());
  EXPECT_NE(r.err.find("catalog: "), std::string::npos) << r.err;
  // The same in text: the blob summary, then the catalog's state.
  auto text = OutpostOn(data_.path(), {"verify"});
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_NE(text.out.find(" blobs, "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("catalog DAMAGED"), std::string::npos) << text.out;
}

TEST_F(VerifyDamageTest, ACatalogThatCannotBeOpenedStillHasItsBlobsChecked) {
  testing::DamagePageAt(catalog(), 1, 4096, PageDamage::kZero);  // the file header itself
  auto r = OutpostOn(data_.path(), {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_FALSE(j["catalog"].empty());
  EXPECT_GT(j["blobs"].get<int>(), 10);
  EXPECT_TRUE(j["damaged"].empty());
}

TEST_F(VerifyDamageTest, VerifyWritesNothingInAWritableFolder) {
  auto before = Listing(data_.path());
  EXPECT_EQ(OutpostOn(data_.path(), {"verify"}).exit_code, 0);
  EXPECT_EQ(Listing(data_.path()), before);
}

// ---- A read-only data folder (a card the kernel remounted read-only after errors).

// Whether the read-only runs below can bite: file modes do for anyone but root; for root (which
// ignores them) the folder is bind-mounted read-only in a mount namespace of its own.
bool CanMountReadOnly() {
  return RunProcess({"/usr/bin/env", "unshare", "--mount", "/bin/true"}).exit_code == 0;
}

// Runs `outpost ARGS --data DATA` with DATA read-only: every file and folder under it made
// read-only (chmod a-w), and, when running as root, DATA also mounted read-only.
testing::ProcessResult OutpostOnReadOnly(const fs::path& data, std::vector<std::string> args) {
  for (auto& e : fs::recursive_directory_iterator(data)) {
    fs::permissions(e.path(), fs::perms::owner_write | fs::perms::group_write |
                                  fs::perms::others_write, fs::perm_options::remove);
  }
  fs::permissions(data, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  args.insert(args.begin(), OUTPOST_BINARY);
  args.push_back("--data");
  args.push_back(data.string());
  if (geteuid() != 0) return RunProcess(args);
  std::vector<std::string> argv = {"/usr/bin/env", "unshare", "--mount", "/bin/sh", "-c",
                                   "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro "
                                   "\"$0\" \"$0\" && exec \"$@\"",
                                   data.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

class ReadOnlyVerifyTest : public VerifyDamageTest {
 protected:
  void SetUp() override {
    if (geteuid() == 0 && !CanMountReadOnly()) {
      GTEST_SKIP() << "running as root, which file modes do not stop, and no mount namespace "
                      "to mount the data folder read-only in";
    }
    VerifyDamageTest::SetUp();
  }
};

TEST_F(ReadOnlyVerifyTest, ACleanReadOnlyFolderIsSaidReadOnlyAndPasses) {
  ASSERT_FALSE(fs::exists(data_.path() / "catalog.db-wal"));
  auto before = Listing(data_.path());
  auto r = OutpostOnReadOnly(data_.path(), {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("is read-only"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("readonly database"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["ok"], true) << r.out;
  EXPECT_EQ(j["read_only"], true);
  EXPECT_EQ(Listing(data_.path()), before);
}

TEST_F(ReadOnlyVerifyTest, AReadOnlyFolderWithAWriteAheadLogIsReadThroughIt) {
  // A catalog left with its -wal and -shm files (a power cut before the last checkpoint): what
  // only the log holds, here a file's hash garbled, must be seen, so the log is read.
  TempDir copy;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(catalog().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0; UPDATE nodes SET blob = zeroblob(32) "
                               "WHERE id = (SELECT min(id) FROM nodes WHERE blob IS NOT NULL)",
                           nullptr, nullptr, nullptr), SQLITE_OK);
    // Copied while the connection is open, so the log is not checkpointed away.
    fs::copy(data_.path(), copy.path(), fs::copy_options::recursive |
                                            fs::copy_options::overwrite_existing);
    sqlite3_close(db);
  }
  ASSERT_GT(fs::file_size(copy.path() / "catalog.db-wal"), 0u);
  auto before = Listing(copy.path());
  auto r = OutpostOnReadOnly(copy.path(), {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["read_only"], true) << r.out;
  EXPECT_EQ(j["missing"], nlohmann::json::array({std::string(64, '0')})) << r.out;
  EXPECT_TRUE(j["catalog"].empty()) << r.out;
  EXPECT_EQ(Listing(copy.path()), before);
}

TEST_F(ReadOnlyVerifyTest, DamageInAReadOnlyFolderIsReportedAndLeftInPlace) {
  fs::path blob = SomeBlob(data_.path());
  testing::DamageBlob(blob);
  testing::DamagePage(catalog(), "nodes_by_path", PageDamage::kZero);
  auto r = OutpostOnReadOnly(data_.path(), {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j["damaged"].size(), 1u) << r.out;
  EXPECT_FALSE(j["catalog"].empty());
  EXPECT_NE(r.err.find("left in place (the data folder is read-only)"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(data_.path() / "quarantine"));
}

}  // namespace
}  // namespace outpost
