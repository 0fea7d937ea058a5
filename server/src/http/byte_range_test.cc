#include "byte_range.h"

#include <gtest/gtest.h>

#include <limits>

namespace outpost {
namespace {

using Kind = ByteRange::Kind;

ByteRange P(uint64_t first, uint64_t last) { return {Kind::kPartial, first, last}; }
const ByteRange kFull{};
const ByteRange kUnsatisfiable{Kind::kUnsatisfiable, 0, 0};

TEST(ByteRangeTest, NoHeaderMeansFull) {
  EXPECT_EQ(ByteRange::Parse("", 100), kFull);
  EXPECT_EQ(kFull.Length(100), 100u);
  EXPECT_EQ(kFull.ContentRange(100), "");
}

TEST(ByteRangeTest, ClosedRangeIsPartialAndClampedToTheEnd) {
  EXPECT_EQ(ByteRange::Parse("bytes=10-19", 100), P(10, 19));
  EXPECT_EQ(ByteRange::Parse("bytes=0-0", 100), P(0, 0));
  EXPECT_EQ(ByteRange::Parse("bytes=99-99", 100), P(99, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=95-200", 100), P(95, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=0-99999999999999999999999", 100), P(0, 99));
  EXPECT_EQ(P(10, 19).Length(100), 10u);
  EXPECT_EQ(P(10, 19).ContentRange(100), "bytes 10-19/100");
}

TEST(ByteRangeTest, OpenRangeRunsToTheEnd) {
  EXPECT_EQ(ByteRange::Parse("bytes=90-", 100), P(90, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=0-", 100), P(0, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=0-", 1), P(0, 0));
}

TEST(ByteRangeTest, SuffixRangeTakesTheLastBytes) {
  EXPECT_EQ(ByteRange::Parse("bytes=-5", 100), P(95, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=-100", 100), P(0, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=-500", 100), P(0, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=-99999999999999999999999", 100), P(0, 99));
  EXPECT_EQ(ByteRange::Parse("bytes=-1", 1), P(0, 0));
}

TEST(ByteRangeTest, RangesPastTheEndAreUnsatisfiable) {
  EXPECT_EQ(ByteRange::Parse("bytes=100-", 100), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=100-200", 100), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=150-160", 100), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=99999999999999999999999-", 100), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=-0", 100), kUnsatisfiable);
  EXPECT_EQ(kUnsatisfiable.Length(100), 0u);
  EXPECT_EQ(kUnsatisfiable.ContentRange(100), "bytes */100");
}

TEST(ByteRangeTest, EmptyResourceHasNothingToPointAt) {
  EXPECT_EQ(ByteRange::Parse("", 0), kFull);
  EXPECT_EQ(ByteRange::Parse("bytes=0-", 0), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=0-0", 0), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=-0", 0), kUnsatisfiable);
  EXPECT_EQ(ByteRange::Parse("bytes=-5", 0), kFull);
  EXPECT_EQ(kUnsatisfiable.ContentRange(0), "bytes */0");
}

TEST(ByteRangeTest, SeveralRangesAreAnsweredWhole) {
  EXPECT_EQ(ByteRange::Parse("bytes=0-1,5-6", 100), kFull);
  EXPECT_EQ(ByteRange::Parse("bytes=0-1, 5-6", 100), kFull);
  EXPECT_EQ(ByteRange::Parse("bytes=0-,0-,0-,0-", 100), kFull);
  EXPECT_EQ(ByteRange::Parse("bytes=200-300,400-", 100), kFull);
  EXPECT_EQ(ByteRange::Parse("bytes=0-1,", 100), kFull);
}

TEST(ByteRangeTest, MalformedHeadersAreIgnored) {
  for (const char* header : {"bytes=5-1", "pages=1-2", "bytes=x-", "bytes=-", "bytes=",
                             "bytes", "bytes 1-2", "bytes=1", "bytes=1-2-3", "bytes=1-2x",
                             "bytes=+1-2", "bytes=-+5", "bytes=1 2-3", "=1-2", "bytesx=1-2",
                             "bytes=0x10-20", "bytes=\xff-1"}) {
    EXPECT_EQ(ByteRange::Parse(header, 100), kFull) << header;
  }
}

TEST(ByteRangeTest, UnitIsCaseInsensitiveAndSpacesAreTolerated) {
  EXPECT_EQ(ByteRange::Parse("Bytes=1-2", 100), P(1, 2));
  EXPECT_EQ(ByteRange::Parse("BYTES=1-2", 100), P(1, 2));
  EXPECT_EQ(ByteRange::Parse(" bytes = 1 - 2 ", 100), P(1, 2));
  EXPECT_EQ(ByteRange::Parse("bytes=\t-5", 100), P(95, 99));
}

TEST(ByteRangeTest, HugeResourcesKeepExactNumbers) {
  constexpr uint64_t kSize = uint64_t{1} << 40;
  EXPECT_EQ(ByteRange::Parse("bytes=1099511627775-", kSize), P(kSize - 1, kSize - 1));
  EXPECT_EQ(ByteRange::Parse("bytes=-1", kSize).ContentRange(kSize),
            "bytes 1099511627775-1099511627775/1099511627776");
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(ByteRange::Parse("bytes=0-", kMax), P(0, kMax - 1));
}

}  // namespace
}  // namespace outpost
