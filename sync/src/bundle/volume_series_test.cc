// An export's volumes on one drive: records fill volumes up to the limit and read back in order;
// a drive that fills up ends the series with whole volumes only; a volume cut short is removed.
#include "bundle/volume_series.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "bundle/bundle_records.h"
#include "testing/temp_dir.h"

namespace outpost::sync {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

class VolumeSeriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    header_.bundle_id = {0x3f, 0x2a, 0x9c, 0x1e, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    header_.volume = 4;  // as a continuation's first volume
    header_.sender = sender_.public_key();
    header_.created_at = 1796000000;
    header_.recipients = {site_.public_key()};
  }
  std::unique_ptr<VolumeSeries> Series(uint64_t limit, FreeBytes free_bytes = StatvfsFreeBytes) {
    return std::make_unique<VolumeSeries>(dir_.path(), header_, sender_, limit, Env::Default(), free_bytes);
  }
  // A drive of `capacity` bytes whose only files are those in the folder written to.
  static FreeBytes Drive(uint64_t capacity) {
    return [capacity](const fs::path& dir) {
      uint64_t used = 0;
      for (const auto& e : fs::directory_iterator(dir)) used += e.file_size();
      return used < capacity ? capacity - used : 0;
    };
  }
  // Every record of a volume, as the site reads it; empty if it does not end verified.
  std::vector<VolumeRecord> Read(const fs::path& volume) {
    std::vector<VolumeRecord> out;
    auto reader = VolumeReader::Open(volume, site_);
    EXPECT_TRUE(reader.has_value()) << volume;
    if (!reader) return out;
    for (;;) {
      auto next = (*reader)->Next();
      EXPECT_TRUE(next.has_value()) << volume << ": " << next.error().message();
      if (!next || !*next) break;
      out.push_back(std::move(**next));
    }
    EXPECT_TRUE((*reader)->complete()) << volume;
    return out;
  }
  std::vector<std::string> Names() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static Carried Chunk(int n) { return {{Hash::Of(std::to_string(n))}, {}}; }

  TempDir dir_;
  Identity sender_ = NewIdentity(), site_ = NewIdentity();
  VolumeHeader header_;
};

TEST_F(VolumeSeriesTest, RecordsFillVolumesUpToTheLimitAndReadBackInOrder) {
  auto series = Series(20000);
  int closed = 0;
  series->OnClose([&] {
    ++closed;
    EXPECT_EQ(series->volumes().size(), static_cast<size_t>(closed));
    return Status::Ok();
  });
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(series->Add(kChunksRecord, std::string(5000, static_cast<char>('a' + i)), Chunk(i)).ok());
  }
  ASSERT_TRUE(series->Finish().ok());
  ASSERT_GE(series->volumes().size(), 3u);
  EXPECT_EQ(closed, static_cast<int>(series->volumes().size()));
  EXPECT_EQ(series->next_volume(), 4 + series->volumes().size());
  EXPECT_EQ(series->written().chunks.size(), 10u);
  std::vector<VolumeRecord> all;
  uint64_t bytes = 0;
  for (size_t v = 0; v < series->volumes().size(); ++v) {
    const fs::path& volume = series->volumes()[v];
    EXPECT_EQ(volume.filename().string(), VolumeFileName(header_.bundle_id, static_cast<uint32_t>(4 + v)));
    EXPECT_LE(fs::file_size(volume), 20000u);
    bytes += fs::file_size(volume);
    for (auto& r : Read(volume)) all.push_back(std::move(r));
  }
  EXPECT_EQ(series->bytes(), bytes);
  ASSERT_EQ(all.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(all[i].body, std::string(5000, static_cast<char>('a' + i))) << i;
  EXPECT_EQ(Names().size(), series->volumes().size());  // no temp file left
}

TEST_F(VolumeSeriesTest, AFullDriveKeepsWholeVolumesAndSaysSo) {
  // Room for a little more than two volumes of two records, beyond the margin.
  auto series = Series(12000, Drive(kDriveMargin + 26000));
  Status st = Status::Ok();
  int added = 0;
  for (; added < 20 && st.ok(); ++added) st = series->Add(kChunksRecord, std::string(5000, 'x'), Chunk(added));
  ASSERT_EQ(st.code(), StatusCode::kNoSpace) << st.message();
  series->Abandon();
  ASSERT_GE(series->volumes().size(), 1u);
  EXPECT_EQ(Names().size(), series->volumes().size());  // whole volumes only
  size_t records = 0;
  for (const fs::path& volume : series->volumes()) records += Read(volume).size();
  // What the closed volumes carry, and nothing of the record that did not fit.
  EXPECT_EQ(series->written().chunks.size(), records);
  EXPECT_LT(records, static_cast<size_t>(added));
}

TEST_F(VolumeSeriesTest, AVolumeCutShortIsRemoved) {
  auto series = Series(1 << 20);
  ASSERT_TRUE(series->Add(kChunksRecord, "bytes", Chunk(1)).ok());
  EXPECT_EQ(Names().size(), 1u);  // the temp file
  EXPECT_EQ(Names()[0][0], '.');
  series->Abandon();
  EXPECT_TRUE(Names().empty());
  EXPECT_TRUE(series->volumes().empty());
  EXPECT_TRUE(series->written().chunks.empty());
}

TEST_F(VolumeSeriesTest, FinishWritesOneVolumeEvenWithoutRecords) {
  auto series = Series(1 << 20);
  ASSERT_TRUE(series->Finish().ok());
  ASSERT_EQ(series->volumes().size(), 1u);
  EXPECT_TRUE(Read(series->volumes()[0]).empty());
  EXPECT_EQ(Names(), std::vector<std::string>{"outpost-3f2a9c1e-4.opb"});
}

TEST_F(VolumeSeriesTest, ADriveWithoutRoomForAVolumeTakesNothing) {
  auto series = Series(1 << 20, Drive(kDriveMargin + 100));
  EXPECT_EQ(series->Add(kChunksRecord, "bytes").code(), StatusCode::kNoSpace);
  EXPECT_EQ(series->Finish().code(), StatusCode::kNoSpace);
  EXPECT_TRUE(Names().empty());
}

}  // namespace
}  // namespace outpost::sync
