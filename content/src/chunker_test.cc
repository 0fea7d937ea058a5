#include "outpost/content/chunker.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::set<Hash> HashSet(const std::vector<Chunk>& chunks) {
  std::set<Hash> out;
  for (const auto& c : chunks) out.insert(c.hash);
  return out;
}

TEST(ChunkerTest, FileIsExactlyTheConcatenationOfItsChunks) {
  std::string data = testing::RandomBytes(3 * 1024 * 1024 + 12345, 1);
  auto chunks = ChunkBuffer(Bytes(data));
  ASSERT_GT(chunks.size(), 5u);
  uint64_t offset = 0;
  std::string rebuilt;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.offset, offset);
    std::string piece = data.substr(c.offset, c.length);
    EXPECT_EQ(c.hash, Hash::Of(piece));
    rebuilt += piece;
    offset += c.length;
  }
  EXPECT_EQ(rebuilt, data);
}

TEST(ChunkerTest, ChunkSizesStayWithinBoundsAndNearTheAverage) {
  ChunkerParams p;
  std::string data = testing::RandomBytes(16 * 1024 * 1024, 2);
  auto chunks = ChunkBuffer(Bytes(data), p);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_GE(chunks[i].length, p.min_size);
    EXPECT_LE(chunks[i].length, p.max_size);
  }
  double mean = static_cast<double>(data.size()) / chunks.size();
  EXPECT_GT(mean, 0.6 * p.avg_size);
  EXPECT_LT(mean, 1.6 * p.avg_size);
}

TEST(ChunkerTest, PieceSizesDoNotChangeTheChunks) {
  std::string data = testing::RandomBytes(2 * 1024 * 1024, 3);
  auto whole = ChunkBuffer(Bytes(data));
  for (size_t piece : {1u, 7u, 4096u, 65536u, 300000u}) {
    Chunker chunker;
    std::vector<Chunk> chunks;
    for (size_t off = 0; off < data.size(); off += piece) {
      size_t n = std::min(piece, data.size() - off);
      chunker.Update(Bytes(data).subspan(off, n), &chunks);
      if (piece == 1 && off > 300000) {  // byte-at-a-time is slow; finish the rest at once
        chunker.Update(Bytes(data).subspan(off + n), &chunks);
        break;
      }
    }
    chunker.Finish(&chunks);
    EXPECT_EQ(chunks, whole) << "piece size " << piece;
  }
}

TEST(ChunkerTest, InsertionNearTheStartLeavesLaterChunksUnchanged) {
  std::string data = testing::RandomBytes(8 * 1024 * 1024, 4);
  auto before = ChunkBuffer(Bytes(data));
  std::string edited = data;
  edited.insert(1000, "a paragraph inserted near the start of the file");
  auto after = ChunkBuffer(Bytes(edited));
  auto old_set = HashSet(before);
  size_t shared = 0;
  for (const auto& c : after) shared += old_set.count(c.hash);
  // Only the chunk(s) around the insertion may differ.
  EXPECT_GE(shared + 2, after.size());
  EXPECT_GE(shared, before.size() - 2);
}

TEST(ChunkerTest, DeletionInTheMiddleChangesOnlyNearbyChunks) {
  std::string data = testing::RandomBytes(8 * 1024 * 1024, 5);
  auto before = HashSet(ChunkBuffer(Bytes(data)));
  std::string edited = data;
  edited.erase(4 * 1024 * 1024, 5000);
  auto after = ChunkBuffer(Bytes(edited));
  size_t fresh = 0;
  for (const auto& c : after) fresh += before.count(c.hash) ? 0 : 1;
  EXPECT_LE(fresh, 2u);
}

TEST(ChunkerTest, IdenticalFilesShareAllChunks) {
  std::string data = testing::RandomBytes(1024 * 1024 + 7, 6);
  std::string copy = data;
  EXPECT_EQ(ChunkBuffer(Bytes(data)), ChunkBuffer(Bytes(copy)));
}

TEST(ChunkerTest, SmallAndEmptyInputs) {
  EXPECT_TRUE(ChunkBuffer({}).empty());
  std::string one = "x";
  auto chunks = ChunkBuffer(Bytes(one));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].length, 1u);
  EXPECT_EQ(chunks[0].hash, Hash::Of(one));
}

TEST(ChunkerTest, ZerosAreCutAtMaxSize) {
  // A run of zeros never matches the mask (gear[0] shifted is never all-zero in the top bits
  // for long), so it must still be cut at max_size.
  std::string zeros(1024 * 1024, '\0');
  ChunkerParams p;
  auto chunks = ChunkBuffer(Bytes(zeros), p);
  for (const auto& c : chunks) EXPECT_LE(c.length, p.max_size);
  uint64_t total = 0;
  for (const auto& c : chunks) total += c.length;
  EXPECT_EQ(total, zeros.size());
}

// Boundaries must be the same on every machine and every run: pin them. If this test fails the
// chunk format changed, and every box in the field would resend everything. Do not "fix" the
// expected values; see docs/chunking.md.
TEST(ChunkerTest, BoundariesArePinned) {
  EXPECT_EQ(GearTable()[0], 0xe0736b137082eceULL);
  std::string data = testing::RandomBytes(1024 * 1024, 42);
  auto chunks = ChunkBuffer(Bytes(data));
  std::vector<uint64_t> offsets;
  for (const auto& c : chunks) offsets.push_back(c.offset);
  std::vector<uint64_t> expected = {
      0,      47443,  83897,  122034, 147655, 192127, 229432, 267301, 310654, 338252,
      351565, 384557, 431635, 466986, 520556, 564278, 606611, 647580, 688514, 725504,
      763939, 819533, 871424, 909358, 954943, 969808, 991877, 1033168};
  EXPECT_EQ(offsets, expected);
  EXPECT_EQ(chunks.front().hash.Hex(),
            "04e49073f75b62d9ae423254c0c102189b0afb47c9257d123a3cf75478bac260");
}

TEST(ChunkerTest, ParamsAreValidated) {
  EXPECT_TRUE(ChunkerParams{}.Validate().ok());
  EXPECT_FALSE((ChunkerParams{1024, 512, 4096}.Validate().ok()));
  EXPECT_FALSE((ChunkerParams{10, 512, 4096}.Validate().ok()));
  EXPECT_FALSE((ChunkerParams{1024, 4096, 4096}.Validate().ok()));
}

TEST(ChunkerTest, SmallerParamsGiveSmallerChunks) {
  ChunkerParams p{2048, 8192, 32768};
  std::string data = testing::RandomBytes(2 * 1024 * 1024, 8);
  auto chunks = ChunkBuffer(Bytes(data), p);
  double mean = static_cast<double>(data.size()) / chunks.size();
  EXPECT_GT(mean, 0.6 * p.avg_size);
  EXPECT_LT(mean, 1.6 * p.avg_size);
}

}  // namespace
}  // namespace outpost
