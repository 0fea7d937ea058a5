#include "outpost/base/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FaultEnv;

TEST(EnvTest, AnAtomicWriteLeavesTheFileAndNoTempFile) {
  testing::TempDir dir;
  fs::path file = dir.path() / "state";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), file, "version 2").ok());
  EXPECT_EQ(testing::ReadFile(file), "version 2");
  EXPECT_FALSE(fs::exists(dir.path() / "state.tmp"));
}

TEST(EnvTest, APrivateFileIsReadableByItsOwnerOnly) {
  testing::TempDir dir;
  fs::path file = dir.path() / "node.key";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), file, "secret", /*private_file=*/true).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Every step of the write failing in turn (SQLite's countdown): the old content stays whole,
// no temp file is left behind, and the error says what failed.
TEST(EnvTest, AWriteFailingAtAnyStepLeavesTheOldContentWhole) {
  for (FaultEnv::Fault fault : {FaultEnv::Fault::kNoSpace, FaultEnv::Fault::kSyncFails,
                                FaultEnv::Fault::kRenameFails}) {
    int failures = 0;
    for (long step = 0;; ++step) {
      testing::TempDir dir;
      fs::path file = dir.path() / "state";
      ASSERT_TRUE(WriteFileAtomically(Env::Default(), file, "version 1").ok());
      FaultEnv env;
      env.FailAfter(step, fault);
      Status st = WriteFileAtomically(&env, file, "version 2");
      if (!env.fired()) {
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ(testing::ReadFile(file), "version 2");
        break;
      }
      SCOPED_TRACE("fault " + std::to_string(static_cast<int>(fault)) + " at step " +
                   std::to_string(step));
      EXPECT_FALSE(st.ok());
      ++failures;
      std::string now = testing::ReadFile(file);
      // The rename is the commit point: a failure after it (syncing the folder) may leave
      // the new content, never a mix.
      EXPECT_TRUE(now == "version 1" || now == "version 2") << now;
      EXPECT_FALSE(fs::exists(dir.path() / "state.tmp"));
      ASSERT_LT(step, 20) << "the write never succeeded";
    }
    EXPECT_GT(failures, 0) << "the fault never fired";
  }
}

TEST(EnvTest, RemovingAMissingFileIsNotAnError) {
  testing::TempDir dir;
  EXPECT_TRUE(Env::Default()->Remove(dir.path() / "never-there").ok());
}

}  // namespace
}  // namespace outpost
