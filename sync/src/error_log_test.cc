#include "outpost/sync/error_log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

TEST(ErrorLogTest, WarningsAndErrorsAreKeptForTheNextProcessButNotInformation) {
  TempDir dir;
  NodePaths paths(dir.path());
  {
    auto installed = InstallErrorLog(paths);
    spdlog::info("synced 3 channels");
    spdlog::warn("the stick was pulled out\nmid-write");
    spdlog::error("disk full");
  }
  spdlog::error("after the sink was removed");
  auto errors = RecentErrors(paths, 10);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].level, "warn");
  EXPECT_EQ(errors[0].message, "the stick was pulled out mid-write");
  EXPECT_EQ(errors[1].level, "error");
  EXPECT_EQ(errors[1].message, "disk full");
  EXPECT_GT(errors[1].time, 1700000000);
}

TEST(ErrorLogTest, TheLogRotatesAtItsBoundAndTheReaderReadsBothFilesNewestLast) {
  TempDir dir;
  NodePaths paths(dir.path());
  auto installed = InstallErrorLog(paths);
  std::string long_message(kMaxLoggedMessage + 50, 'x');
  for (int i = 0; i < 200; ++i) spdlog::warn("{} {}", i, long_message);
  EXPECT_LT(std::filesystem::file_size(ErrorLogPath(paths)), kErrorLogBytes);
  EXPECT_GE(std::filesystem::file_size(OlderErrorLogPath(paths)), kErrorLogBytes);
  EXPECT_LT(std::filesystem::file_size(OlderErrorLogPath(paths)), kErrorLogBytes + kMaxLoggedMessage + 40);
  auto errors = RecentErrors(paths, 3);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[2].message.substr(0, 4), "199 ");
  EXPECT_EQ(errors[2].message.size(), kMaxLoggedMessage);
}

TEST(ErrorLogTest, NothingIsWrittenWhileTheDataFolderDoesNotExist) {
  TempDir dir;
  NodePaths paths(dir.path() / "not-yet");
  auto installed = InstallErrorLog(paths);
  spdlog::error("cannot open the data folder");
  EXPECT_FALSE(std::filesystem::exists(paths.data));
  EXPECT_TRUE(RecentErrors(paths, 5).empty());
}

TEST(ErrorLogTest, TornAndForeignLinesAreSkipped) {
  TempDir dir;
  NodePaths paths(dir.path());
  {
    std::ofstream log(ErrorLogPath(paths));
    log << "garbage line\n" << ErrorLogLine(5, "error", "kept") << "17 info not ours\n" << "99 error torn";
  }
  auto errors = RecentErrors(paths, 5);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "kept");
  EXPECT_EQ(errors[0].time, 5);
}

}  // namespace
}  // namespace outpost
