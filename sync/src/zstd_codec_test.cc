#include "zstd_codec.h"

#include <gtest/gtest.h>

#include <zstd.h>

#include <string>

namespace outpost::sync {
namespace {

// Text that compresses, different for each seed.
std::string Text(int seed, size_t lines) {
  std::string out;
  for (size_t i = 0; i < lines; ++i) {
    out += "line " + std::to_string(i * 7919 + seed) + " of seed " + std::to_string(seed) + "\n";
  }
  return out;
}

TEST(ZstdCodecTest, RoundTripsWithoutAPrefix) {
  for (const std::string& data : {std::string(), std::string("x"), Text(1, 2000)}) {
    std::string frame = ZstdCompress(data, 3, {});
    ASSERT_FALSE(frame.empty());
    auto back = ZstdDecompress(frame, data.size(), data.size(), {});
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(*back, data);
  }
  EXPECT_LT(ZstdCompress(Text(1, 2000), 3, {}).size(), Text(1, 2000).size() / 2);
}

// docs/sync-protocol.md, "Zstd frames": what is written records its content size; what is read
// need not, and decodes to the length the message states, no other.
TEST(ZstdCodecTest, AFrameMadeHereRecordsItsContentSize) {
  std::string data = Text(2, 500);
  std::string frame = ZstdCompress(data, 3, {});
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), data.size());
  std::string patch = ZstdCompress(data, 19, Text(3, 500));
  EXPECT_EQ(ZSTD_getFrameContentSize(patch.data(), patch.size()), data.size());
}

TEST(ZstdCodecTest, AFrameWithoutItsContentSizeDecodesToTheStatedLengthOnly) {
  std::string data = Text(4, 500);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string frame(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  ASSERT_FALSE(ZSTD_isError(n));
  frame.resize(n);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  auto back = ZstdDecompress(frame, data.size(), data.size(), {});
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(ZstdDecompress(frame, data.size() + 1, data.size() + 1, {}).has_value());
  EXPECT_FALSE(ZstdDecompress(frame, data.size() - 1, data.size(), {}).has_value());
}

TEST(ZstdCodecTest, APatchAgainstThePreviousVersionRoundTripsAndIsSmallerThanTheWhole) {
  std::string previous = Text(1, 5000);
  std::string fresh = previous;
  fresh.insert(fresh.size() / 2, "an edit in the middle\n");
  std::string patch = ZstdCompress(fresh, 19, previous);
  EXPECT_LT(patch.size() * 10, ZstdCompress(fresh, 19, {}).size());
  auto back = ZstdDecompress(patch, fresh.size(), fresh.size(), previous);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, fresh);
}

TEST(ZstdCodecTest, AFrameOfAnotherSizeIsCorrupt) {
  std::string data = Text(2, 100);
  std::string frame = ZstdCompress(data, 3, {});
  for (uint64_t size : {data.size() - 1, data.size() + 1}) {
    auto r = ZstdDecompress(frame, size, size, {});
    ASSERT_FALSE(r.has_value()) << size;
    EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
  }
  auto longer = ZstdDecompress(frame, data.size() + 1, data.size() + 1, {});
  EXPECT_EQ(longer.error().message(), "compressed data holds " + std::to_string(data.size()) +
                                          " bytes, not " + std::to_string(data.size() + 1));
}

TEST(ZstdCodecTest, AClaimedSizeOverTheLimitIsRefusedBeforeAnythingIsAllocated) {
  std::string frame = ZstdCompress(Text(2, 100), 3, {});
  auto r = ZstdDecompress(frame, uint64_t{3} << 30, 1 << 20, {});  // 3 GiB would not fit
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "compressed data claims 3221225472 bytes, over the limit of 1048576");
}

TEST(ZstdCodecTest, GarbageIsCorrupt) {
  for (const std::string& garbage : {std::string(), std::string("not zstd at all"),
                                     ZstdCompress(Text(3, 100), 3, {}).substr(0, 20)}) {
    auto r = ZstdDecompress(garbage, 100, 100, {});
    ASSERT_FALSE(r.has_value()) << garbage.size();
    EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
  }
  auto r = ZstdDecompress("not zstd at all", 100, 100, {});
  EXPECT_TRUE(r.error().message().starts_with("compressed data does not decompress: "))
      << r.error().message();
}

// A patch applied to another previous version must not give the file: the callers check the
// result's hash, so either an error or other bytes is a clean failure.
TEST(ZstdCodecTest, APatchAgainstTheWrongPrefixDoesNotGiveTheFile) {
  std::string previous = Text(4, 3000);
  std::string fresh = previous + "one more line\n";
  std::string patch = ZstdCompress(fresh, 19, previous);
  for (const std::string& wrong : {std::string(), Text(5, 3000), previous.substr(100)}) {
    auto r = ZstdDecompress(patch, fresh.size(), fresh.size(), wrong);
    if (r.has_value()) {
      EXPECT_NE(*r, fresh) << wrong.size();
    } else {
      EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
    }
  }
  auto without = ZstdDecompress(patch, fresh.size(), fresh.size(), {});  // the prefix's bytes are not there
  ASSERT_FALSE(without.has_value());
  EXPECT_EQ(without.error().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace outpost::sync
