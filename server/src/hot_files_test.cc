#include "hot_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::FlipByte;
using testing::RandomBytes;
using testing::TempDir;
using State = HotFiles::State;

constexpr char kHtml[] = "text/html; charset=utf-8";

std::string Prose(size_t n) {
  std::string out;
  for (size_t i = 0; out.size() < n; ++i) out += i % 3 ? "l'élève lit " : "<p>الماء</p>\n";
  return out;
}

class HotFilesTest : public ::testing::Test {
 protected:
  // Writes `bytes` as the blob file of their hash; returns the hash.
  Hash Blob(const std::string& bytes) {
    Hash h = Hash::Of(bytes);
    dir_.Write(h.Hex(), bytes);
    return h;
  }
  std::filesystem::path PathOf(const Hash& h) const { return dir_.path() / h.Hex(); }

  TempDir dir_;
};

TEST_F(HotFilesTest, ASmallFileIsReadOnceAndThenServedFromMemory) {
  HotFiles hot;
  std::string page = Prose(15000);
  Hash h = Blob(page);
  EXPECT_EQ(hot.Find(h).state, State::kUnknown);
  auto loaded = hot.Load(h, PathOf(h), kHtml);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_NE(*loaded, nullptr);
  EXPECT_EQ((*loaded)->bytes, page);
  EXPECT_EQ((*loaded)->tag, h.Hex());
  std::filesystem::remove(PathOf(h));  // from now on only memory can answer
  auto found = hot.Find(h);
  ASSERT_EQ(found.state, State::kHot);
  EXPECT_EQ(found.file->bytes, page);
}

TEST_F(HotFilesTest, TextIsHeldWithTheSameVariantsTheDiskCacheWouldMake) {
  HotFiles hot;
  std::string page = Prose(20000);
  Hash h = Blob(page);
  auto loaded = hot.Load(h, PathOf(h), kHtml);
  ASSERT_TRUE(loaded.has_value());
  const CompressionOptions options;
  for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    const std::string* variant = (*loaded)->variants.Get(encoding);
    ASSERT_NE(variant, nullptr);
    int level = encoding == ContentEncoding::kGzip ? options.gzip_level : options.zstd_level;
    EXPECT_EQ(*variant, *Compress(encoding, page, level));
  }
}

TEST_F(HotFilesTest, MediaIsHeldWithoutVariants) {
  HotFiles hot;
  Hash h = Blob(RandomBytes(30000, 7));
  auto loaded = hot.Load(h, PathOf(h), "image/png");
  ASSERT_TRUE(loaded.has_value());
  ASSERT_NE(*loaded, nullptr);
  EXPECT_FALSE((*loaded)->variants.any());
}

TEST_F(HotFilesTest, AFileOverTheLimitIsRememberedAsColdAndNotHeld) {
  HotFiles hot;
  Hash h = Blob(RandomBytes(HotFiles::kMaxFileBytes + 1, 3));
  auto loaded = hot.Load(h, PathOf(h), "video/mp4");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, nullptr);
  EXPECT_EQ(hot.Find(h).state, State::kCold);
  EXPECT_EQ(hot.files(), 0u);
}

TEST_F(HotFilesTest, ADamagedBlobIsRefusedAndNothingIsKept) {
  HotFiles hot;
  Hash h = Blob(Prose(15000));
  FlipByte(PathOf(h), 1234);
  auto loaded = hot.Load(h, PathOf(h), kHtml);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.error().message().find("damaged"), std::string::npos);
  EXPECT_EQ(hot.Find(h).state, State::kUnknown);
  EXPECT_EQ(hot.files(), 0u);
}

TEST_F(HotFilesTest, AMissingBlobIsAnErrorAndNothingIsKept) {
  HotFiles hot;
  Hash h = Hash::Of("never stored");
  auto loaded = hot.Load(h, PathOf(h), kHtml);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(hot.Find(h).state, State::kUnknown);
}

TEST_F(HotFilesTest, TheBoundHoldsAndTheLeastRecentlyUsedFileLeavesFirst) {
  const size_t bound = 100000;
  HotFiles hot(bound);
  std::vector<Hash> hashes;
  for (uint64_t i = 0; i < 3; ++i) hashes.push_back(Blob(RandomBytes(30000, 10 + i)));
  for (const Hash& h : hashes) ASSERT_TRUE(hot.Load(h, PathOf(h), "image/png").has_value());
  EXPECT_EQ(hot.files(), 3u);
  EXPECT_EQ(hot.Find(hashes[0]).state, State::kHot);  // now hashes[1] is the least recent
  Hash fourth = Blob(RandomBytes(30000, 20));
  ASSERT_TRUE(hot.Load(fourth, PathOf(fourth), "image/png").has_value());
  EXPECT_LE(hot.bytes(), bound);
  EXPECT_EQ(hot.Find(hashes[1]).state, State::kUnknown);
  EXPECT_EQ(hot.Find(hashes[0]).state, State::kHot);
  EXPECT_EQ(hot.Find(hashes[2]).state, State::kHot);
  EXPECT_EQ(hot.Find(fourth).state, State::kHot);
}

TEST_F(HotFilesTest, AFileBiggerThanTheWholeBoundIsServedButNotHeld) {
  HotFiles hot(/*max_bytes=*/1000);
  Hash h = Blob(RandomBytes(5000, 5));
  auto loaded = hot.Load(h, PathOf(h), "image/png");
  ASSERT_TRUE(loaded.has_value());
  ASSERT_NE(*loaded, nullptr);
  EXPECT_EQ(hot.files(), 0u);
  EXPECT_EQ(hot.bytes(), 0u);
}

}  // namespace
}  // namespace outpost
