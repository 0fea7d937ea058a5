// Kills `outpost import` with SIGKILL at every crash point of an import (OUTPOST_CRASH_AT=N:
// after each blob, each index flush, just before and just after the catalog commit) and at
// random moments, and checks each time that what is served is exactly what was served before
// (or, once the commit has happened, exactly the new version), that the catalog and the store
// are consistent, and that running the import again completes.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::RunProcess;
using testing::TempDir;

const std::string kOutpost = OUTPOST_BINARY;

void MakeCurriculum(const TempDir& dir, int files, size_t big_bytes, uint64_t seed) {
  const char* langs[] = {"en", "fr", "ar"};
  const char* words[] = {"water", "élève", "الماء", "soleil", "rain", "nuage"};
  for (int i = 0; i < files; ++i) {
    std::string lang = langs[i % 3];
    std::string page = "<html lang='" + lang + "'><title>Lesson " + std::to_string(i) +
                       "</title><p>" + words[i % 6] + " " + std::to_string(seed) + "</p>" +
                       testing::RandomBytes(2000, seed + i) + "</html>";
    dir.Write("curriculum/" + lang + "/unit" + std::to_string(i % 4) + "/lesson" +
                  std::to_string(i) + ".html",
              page);
  }
  dir.Write("curriculum/video/a.mp4", std::string("\0\0\0\x18" "ftypisom", 12) +
                                          testing::RandomBytes(big_bytes, seed * 7));
  dir.Write("curriculum/docs/b.pdf", "%PDF-1.4\n" + testing::RandomBytes(big_bytes / 2, seed * 11));
}

nlohmann::json Json(const testing::ProcessResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

nlohmann::json Channels(const fs::path& data) {
  return Json(RunProcess({kOutpost, "channels", "--data", data.string(), "--json"}));
}

// What is served must be whole: the catalog passes its checks and every blob it uses is present
// and intact.
void ExpectConsistent(const fs::path& data, const std::string& when) {
  auto r = RunProcess({kOutpost, "verify", "--data", data.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << when << ": " << r.err << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object() && j["ok"] == true) << when << ": " << r.out;
  auto hits = RunProcess({kOutpost, "search", "--data", data.string(), "--json", "eleve"});
  EXPECT_EQ(hits.exit_code, 0) << when;
  EXPECT_FALSE(nlohmann::json::parse(hits.out, nullptr, false).empty()) << when;
}

class ImportKillTest : public ::testing::Test {
 protected:
  // Imports version 1 of a curriculum, then changes the folder so that the next import would
  // make version 2.
  void Prepare(int files, size_t big_bytes) {
    MakeCurriculum(src_, files, big_bytes, 1);
    auto r = RunProcess({kOutpost, "import", "--data", base_.path().string(), "--json", Folder()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    served_before_ = Channels(base_.path());
    ASSERT_EQ(served_before_[0]["version"], 1);
    MakeCurriculum(src_, files + 5, big_bytes, 2);  // every file changes, five are new
  }
  std::string Folder() { return (src_.path() / "curriculum").string(); }
  void CopyBase(const fs::path& to) {
    fs::remove_all(to);
    fs::copy(base_.path(), to, fs::copy_options::recursive);
  }
  testing::ProcessResult Import(const fs::path& data, std::vector<std::string> env = {}) {
    return RunProcess({kOutpost, "import", "--data", data.string(), "--json", Folder()}, env);
  }

  TempDir src_, base_, work_;
  nlohmann::json served_before_;
};

TEST_F(ImportKillTest, KillAtEveryCrashPointLeavesTheServedCatalogIntact) {
  Prepare(24, 600000);
  fs::path data = work_.path() / "data";
  nlohmann::json served_after;
  int killed = 0;
  for (int point = 1;; ++point) {
    CopyBase(data);
    auto r = Import(data, {"OUTPOST_CRASH_AT=" + std::to_string(point)});
    std::string when = "crash point " + std::to_string(point);
    if (r.signal == 0) {
      // The import finished before reaching this point: every point has been tried.
      ASSERT_EQ(r.exit_code, 0) << r.err;
      break;
    }
    ASSERT_EQ(r.signal, SIGKILL) << when;
    ++killed;
    auto now = Channels(data);
    // Killed before the commit: exactly the old version. Killed just after: exactly the new.
    if (now[0]["version"] == 1) {
      EXPECT_EQ(now, served_before_) << when;
    } else {
      EXPECT_EQ(now[0]["version"], 2) << when;
    }
    ExpectConsistent(data, when);
    // Running the import again completes and serves version 2.
    auto again = Import(data);
    ASSERT_EQ(again.exit_code, 0) << when << ": " << again.err;
    auto after = Channels(data);
    EXPECT_EQ(after[0]["version"], 2) << when;
    if (served_after.is_null()) served_after = after;
    EXPECT_EQ(after[0]["tree"], served_after[0]["tree"]) << when;
    ExpectConsistent(data, when + ", after the re-run");
  }
  EXPECT_GT(killed, 25);  // one point per new file, index flushes, before and after commit
}

TEST_F(ImportKillTest, KillAtRandomMomentsThenResume) {
  Prepare(60, 30 << 20);
  fs::path data = work_.path() / "data";
  CopyBase(data);
  std::mt19937 rng(12345);
  for (int round = 0; round < 6; ++round) {
    int pid = testing::StartProcess(
        {kOutpost, "import", "--data", data.string(), "--rehash", Folder()});
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(5, 400)(rng)));
    kill(pid, SIGKILL);
    auto r = testing::WaitProcess(pid);
    std::string when = "random kill round " + std::to_string(round);
    auto now = Channels(data);
    if (now[0]["version"] == 1) {
      EXPECT_EQ(now, served_before_) << when;
    }
    ExpectConsistent(data, when);
  }
  auto done = Import(data);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(Channels(data)[0]["version"], 2);
  ExpectConsistent(data, "after the final run");
}

}  // namespace
}  // namespace outpost
