#include "staging.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "outpost/base/hash.h"
#include "testing/temp_dir.h"

namespace outpost::sync {
namespace {

namespace fs = std::filesystem;

class StagingLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    for (int i = 0; i < 3; ++i) chunks_.push_back(testing::RandomBytes(1000 + 500 * i, 7 + i));
  }
  std::unique_ptr<StagingLog> Open() {
    auto log = StagingLog::Open(dir_.path() / "staging");
    EXPECT_TRUE(log.has_value()) << log.error().ToString();
    return log ? std::move(*log) : nullptr;
  }
  // Appends every chunk and syncs; returns the log file written.
  fs::path WriteAll() {
    auto log = Open();
    for (const auto& c : chunks_) EXPECT_TRUE(log->Append(Hash::Of(c), c).ok());
    EXPECT_TRUE(log->Sync().ok());
    for (const auto& e : fs::directory_iterator(dir_.path() / "staging")) {
      if (e.path().extension() == ".log") return e.path();
    }
    ADD_FAILURE() << "no log file";
    return {};
  }
  testing::TempDir dir_;
  std::vector<std::string> chunks_;
};

TEST_F(StagingLogTest, ChunksAppendedAreThereAfterReopening) {
  WriteAll();
  auto log = Open();
  ASSERT_EQ(log->size(), chunks_.size());
  for (const auto& c : chunks_) {
    auto read = log->Read(Hash::Of(c));
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(*read, c);
  }
  EXPECT_EQ(log->Read(Hash::Of(std::string_view("never staged"))).error().code(),
            StatusCode::kNotFound);
}

// A cut at any byte of the last record (the sync dropped mid-chunk): every whole record before
// it is indexed, the torn one is not, and opening does not fail.
TEST_F(StagingLogTest, ATornLastRecordIsIgnoredAndTheRestKept) {
  fs::path file = WriteAll();
  const uint64_t whole = fs::file_size(file);
  const uint64_t last = 36 + chunks_.back().size();
  for (uint64_t cut = 1; cut <= last; cut += (cut < 40 ? 1 : 97)) {
    fs::resize_file(file, whole - cut);
    auto log = Open();
    ASSERT_NE(log, nullptr) << "cut " << cut;
    EXPECT_EQ(log->size(), chunks_.size() - 1) << "cut " << cut;
    EXPECT_FALSE(log->Has(Hash::Of(chunks_.back()))) << "cut " << cut;
    EXPECT_TRUE(log->Has(Hash::Of(chunks_.front()))) << "cut " << cut;
  }
}

// A damaged record: it and everything after it are not trusted; what comes before is.
TEST_F(StagingLogTest, ADamagedRecordEndsWhatIsTrusted) {
  fs::path file = WriteAll();
  testing::FlipByte(file, 36 + chunks_[0].size() + 36 + 10);  // inside the second chunk
  auto log = Open();
  EXPECT_TRUE(log->Has(Hash::Of(chunks_[0])));
  EXPECT_FALSE(log->Has(Hash::Of(chunks_[1])));
  EXPECT_FALSE(log->Has(Hash::Of(chunks_[2])));
}

TEST_F(StagingLogTest, ALengthBeyondAnyChunkIsTornNotAnAllocation) {
  fs::path file = WriteAll();
  // The first record's length field (bytes 32..35) set to 0xffffffff.
  for (int i = 32; i < 36; ++i) testing::FlipByte(file, i, 0xff);
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 0u);
}

TEST_F(StagingLogTest, ClearForgetsEverything) {
  WriteAll();
  auto log = Open();
  ASSERT_TRUE(log->Clear().ok());
  EXPECT_EQ(log->size(), 0u);
  EXPECT_EQ(Open()->size(), 0u);
}

TEST_F(StagingLogTest, OneSyncAtATimeHoldsTheFolder) {
  fs::create_directories(dir_.path() / "staging");
  auto first = StagingLock::Take(dir_.path() / "staging");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = StagingLock::Take(dir_.path() / "staging");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kBusy);
}

}  // namespace
}  // namespace outpost::sync
