// The command line as scripts use it: exit codes, --json outputs, verify and gc on real data.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "testing/damage.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::RunProcess;
using testing::TempDir;

const std::string kOutpost = OUTPOST_BINARY;
const std::string kDemo = OUTPOST_DEMO_DIR;

class CliTest : public ::testing::Test {
 protected:
  testing::ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), kOutpost);
    if (args.size() > 1 && args[1] != "--help" && args[1] != "--version") {
      args.push_back("--data");
      args.push_back(data_.path().string());
    }
    return RunProcess(args);
  }
  nlohmann::json RunJson(std::vector<std::string> args) {
    auto r = Run(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  TempDir data_, src_;
};

// A sync.db as the previous release left it (schema 11: no console_jobs), the way a package
// upgrade meets it.
void MakeSyncDbSchemaEleven(const fs::path& path, const char* extra_sql = "") {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  std::string sql = std::string("DROP TABLE console_jobs; PRAGMA user_version = 11;") + extra_sql;
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
}

int StoredVersion(const fs::path& path) {
  sqlite3* raw = nullptr;
  int version = -1;
  if (sqlite3_open(path.c_str(), &raw) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr);
    if (s && sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(raw);
  return version;
}

TEST_F(CliTest, MigrateRunsEachUpgradeOnceAndAFailedOneChangesNothing) {
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  ASSERT_EQ(Run({"peer", "enrol", "--name", "laptop"}).exit_code, 0);  // makes sync.db
  fs::path sync_db = data_.path() / "sync" / "sync.db";
  ASSERT_TRUE(fs::exists(sync_db));
  MakeSyncDbSchemaEleven(sync_db);

  auto first = Run({"migrate"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("sync: schema 11 -> 12"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("catalog: schema "), std::string::npos) << first.out;
  auto again = Run({"migrate"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("sync: schema 12, up to date"), std::string::npos) << again.out;

  // Something in the way of step 12 (here a view of the table's name): nothing is changed, and
  // the message says that the previous release still reads the data.
  MakeSyncDbSchemaEleven(sync_db, "CREATE VIEW console_jobs AS SELECT 1 AS slot;");
  auto failed = Run({"migrate"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("migrating from schema version 11 to 12 failed"), std::string::npos)
      << failed.err;
  EXPECT_NE(failed.err.find("nothing was changed"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("the previous outpost still reads them"), std::string::npos);
  EXPECT_EQ(StoredVersion(sync_db), 11);
  auto channels = RunJson({"channels", "--json"});
  EXPECT_EQ(channels.size(), 1u);  // the library still answers
}

TEST_F(CliTest, RootWorksAsTheOwnerOfTheDataFolder) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, as a coordinator's sudo on the box";
  // The package's /var/lib/outpost belongs to the service's user; `sudo outpost import` must
  // not leave root's files there that the service cannot read.
  ASSERT_EQ(::chown(data_.path().c_str(), 65534, 65534), 0);  // nobody
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  for (const auto& entry : fs::recursive_directory_iterator(data_.path())) {
    struct stat info;
    ASSERT_EQ(::lstat(entry.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_uid, 65534u) << entry.path();
  }
  ASSERT_EQ(::chown(data_.path().c_str(), 0, 0), 0);  // root's own folder: root stays root
  ASSERT_EQ(Run({"gc"}).exit_code, 0);
  struct stat info;
  ASSERT_EQ(::stat((data_.path() / "catalog.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 65534u);  // unchanged, and readable by root
}

TEST_F(CliTest, HelpAndUsageErrors) {
  EXPECT_EQ(Run({"--help"}).exit_code, 0);
  for (const char* cmd : {"serve", "import", "verify", "gc", "channels", "search"}) {
    auto r = RunProcess({kOutpost, cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--data"), std::string::npos) << cmd;
  }
  EXPECT_EQ(RunProcess({kOutpost}).exit_code, 2);
  EXPECT_EQ(RunProcess({kOutpost, "import"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kOutpost, "frobnicate"}).exit_code, 2);
}

TEST_F(CliTest, ImportsTheDemoAndSearchesInFrenchAndArabic) {
  auto report = RunJson({"import", "--json", kDemo});
  EXPECT_EQ(report["channel"], "water-cycle");
  EXPECT_EQ(report["version"], 1);
  EXPECT_GT(report["files"].get<int>(), 10);
  for (const char* key : {"bytes", "seconds", "new_blobs", "reused_blobs", "mb_per_s"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  auto channels = RunJson({"channels", "--json"});
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_EQ(channels[0]["id"], "water-cycle");
  EXPECT_EQ(channels[0]["version"], 1);
  // "eleve" finds "élève"; Arabic without harakat finds text written with them.
  auto fr = RunJson({"search", "--json", "eleve"});
  ASSERT_FALSE(fr.empty());
  auto ar = RunJson({"search", "--json", "دورة الماء"});
  ASSERT_FALSE(ar.empty());
  bool arabic = false;
  for (auto& h : ar) arabic |= h["path"].get<std::string>().rfind("ar/", 0) == 0;
  EXPECT_TRUE(arabic);
  // Importing it again changes nothing.
  auto again = RunJson({"import", "--json", kDemo});
  EXPECT_EQ(again["version"], 0);
  EXPECT_EQ(again["changed"], false);
}

// A box that never joined a hub: its channels, hidden as the console saved it, never synced,
// and no sync.db made by looking.
TEST_F(CliTest, StatusListsTheChannelsAsTheConsoleSavedThemOnABoxThatNeverSynced) {
  RunJson({"import", "--json", kDemo});
  std::ofstream(data_.path() / "box-settings.json")
      << R"({"hidden_channels": ["water-cycle"], "default_language": "ar"})";
  auto status = RunJson({"status", "--json"});
  ASSERT_EQ(status["channels"].size(), 1u);
  EXPECT_EQ(status["channels"][0]["id"], "water-cycle");
  EXPECT_EQ(status["channels"][0]["served_version"], 1);
  EXPECT_EQ(status["channels"][0]["hidden"], true);
  EXPECT_GT(status["channels"][0]["bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(status["default_language"], "ar");
  EXPECT_EQ(status["sync"]["joined"], false);
  EXPECT_EQ(status["sync"]["last"], nullptr);
  EXPECT_EQ(status["disk"]["known"], true);
  EXPECT_EQ(status["memory"]["known"], true);
  EXPECT_FALSE(fs::exists(data_.path() / "sync" / "sync.db"));
  auto text = Run({"status"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("water-cycle: version 1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("hidden from learners"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("never synced"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("up to date"), std::string::npos) << text.out;  // nothing known yet
  auto missing = RunProcess({kOutpost, "status", "--data", (data_.path() / "nothing").string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
}

TEST_F(CliTest, VerifyReportsEveryDamagedBlob) {
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  auto ok = RunJson({"verify", "--json"});
  EXPECT_EQ(ok["ok"], true);
  // Flip one byte in two different blobs.
  std::vector<fs::path> blobs;
  for (auto& e : fs::recursive_directory_iterator(data_.path() / "blobs")) {
    if (e.is_regular_file() && e.file_size() > 100) blobs.push_back(e.path());
  }
  ASSERT_GE(blobs.size(), 2u);
  testing::FlipByte(blobs[0], 50);
  testing::FlipByte(blobs[1], 50);
  auto r = Run({"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["damaged"].size(), 2u);
  EXPECT_NE(r.err.find(blobs[0].filename().string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(blobs[1].filename().string()), std::string::npos) << r.err;
  // The damaged files were moved aside: never served, and reported missing until restored.
  EXPECT_TRUE(fs::exists(data_.path() / "quarantine" / blobs[0].filename()));
  auto again = Run({"verify", "--json"});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(again.out, nullptr, false)["missing"].size(), 2u);
  // Importing the same folder again restores them without making a new version.
  auto restore = RunJson({"import", "--json", kDemo});
  EXPECT_EQ(restore["version"], 0);
  EXPECT_EQ(RunJson({"verify", "--json"})["ok"], true);
}

TEST_F(CliTest, VerifyRemovesDamagedAndOrphanedCompressedCopies) {
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  fs::path blob;
  for (auto& e : fs::recursive_directory_iterator(data_.path() / "blobs")) {
    if (e.is_regular_file()) blob = e.path();
  }
  ASSERT_FALSE(blob.empty());
  // A compressed copy of a stored blob whose bytes went wrong, and one of no blob at all.
  fs::path damaged = src_.Write("cache/" + blob.filename().string() + ".gz", "\x1f\x8b not gzip");
  fs::path orphan = src_.Write("cache/" + std::string(64, 'a') + ".zst", "whatever");
  fs::copy(src_.path() / "cache", data_.path() / "cache");
  auto r = Run({"verify", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["damaged"].size(), 0u);
  EXPECT_EQ(j["cache"]["variants"], 2);
  ASSERT_EQ(j["cache"]["damaged"].size(), 1u);
  EXPECT_EQ(j["cache"]["orphans_removed"], 1);
  EXPECT_NE(r.err.find("damaged: compressed copy"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(data_.path() / "cache"));
  EXPECT_EQ(RunJson({"verify", "--json"})["ok"], true);
}

// Words and line breaks aside, `text` is in `doc`.
bool SaysTheSame(std::string doc, std::string text) {
  auto squeeze = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '\n' || c == ' ') {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else if (c != '`') {
        out += c;
      }
    }
    return out;
  };
  return squeeze(std::move(doc)).find(squeeze(std::move(text))) != std::string::npos;
}

TEST_F(CliTest, VerifyGivesTheAdviceTheDocsGiveForEachKindOfDamage) {
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  std::string docs = testing::ReadFile(fs::path(OUTPOST_SOURCE_DIR) / "docs" / "cli.md");
  ASSERT_FALSE(docs.empty());
  // A catalog that serves a version it does not hold: catalog damage, and no blob damage.
  testing::ExecSql(data_.path() / "catalog.db", "UPDATE channels SET served_version = 99");
  auto catalog = Run({"verify"});
  EXPECT_EQ(catalog.exit_code, 3) << catalog.err;
  std::string advice = catalog.out.substr(catalog.out.find('\n') + 1);
  EXPECT_EQ(advice.rfind("the catalog is damaged: ", 0), 0u) << catalog.out;
  EXPECT_EQ(advice.find("import the affected channels again"), std::string::npos) << advice;
  EXPECT_TRUE(SaysTheSame(docs, advice.substr(0, advice.size() - 1))) << advice;
  testing::ExecSql(data_.path() / "catalog.db", "UPDATE channels SET served_version = 1");
  // A damaged blob.
  for (auto& e : fs::recursive_directory_iterator(data_.path() / "blobs")) {
    if (e.is_regular_file() && e.file_size() > 100) {
      testing::FlipByte(e.path(), 50);
      break;
    }
  }
  auto blob = Run({"verify"});
  EXPECT_EQ(blob.exit_code, 3);
  advice = blob.out.substr(blob.out.find('\n') + 1);
  EXPECT_EQ(advice.find("catalog is damaged"), std::string::npos) << advice;
  EXPECT_TRUE(SaysTheSame(docs, advice.substr(0, advice.size() - 1))) << advice;
}

TEST_F(CliTest, GcRemovesOnlyWhatNoKeptVersionUses) {
  src_.Write("ch/a.html", "<title>A</title>first");
  src_.Write("ch/b.html", "<title>B</title>stays");
  ASSERT_EQ(Run({"import", (src_.path() / "ch").string()}).exit_code, 0);
  src_.Write("ch/a.html", "<title>A</title>second");
  ASSERT_EQ(Run({"import", (src_.path() / "ch").string()}).exit_code, 0);
  src_.Write("ch/a.html", "<title>A</title>third");
  ASSERT_EQ(Run({"import", (src_.path() / "ch").string()}).exit_code, 0);
  // Keep the served version (3) and one older (2): version 1's "first" goes.
  auto dry = RunJson({"gc", "--json", "--dry-run"});
  EXPECT_EQ(dry["versions_removed"], 1);
  EXPECT_EQ(dry["blobs_removed"], 1);
  EXPECT_EQ(RunJson({"channels", "--json"})[0]["latest_version"], 3);
  EXPECT_EQ(RunJson({"gc", "--json", "--dry-run"})["versions_removed"], 1);  // nothing changed
  auto gc = RunJson({"gc", "--json"});
  EXPECT_EQ(gc["versions_removed"], 1);
  EXPECT_EQ(gc["blobs_removed"], 1);
  EXPECT_EQ(RunJson({"verify", "--json"})["ok"], true);
  EXPECT_EQ(RunJson({"gc", "--json", "--keep-versions", "0"})["blobs_removed"], 1);
  EXPECT_EQ(RunJson({"channels", "--json"})[0]["version"], 3);
}

TEST_F(CliTest, GcWaitsForNoImportButRefusesWhileOneRuns) {
  ASSERT_EQ(Run({"import", kDemo}).exit_code, 0);
  // Hold the writers' shared lock the way a running import does: taken here, in the test's own
  // process, so it is held before gc starts, with nothing to wait for.
  int lock = ::open((data_.path() / "blobs.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(::flock(lock, LOCK_SH), 0);
  auto r = Run({"gc"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("import or download is running"), std::string::npos) << r.err;
  ::close(lock);  // the import is over
  EXPECT_EQ(Run({"gc"}).exit_code, 0);
}

TEST_F(CliTest, AFailedImportSaysWhyAndExitsOne) {
  src_.Write("ch/outpost.toml", "[topic]\ntitle = 5\n");
  auto r = Run({"import", (src_.path() / "ch").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("outpost.toml:2"), std::string::npos) << r.err;
  auto missing = Run({"import", (src_.path() / "nope").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace outpost
