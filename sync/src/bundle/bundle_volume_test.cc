// One bundle volume: what its recipients read back, and that any damage (a flipped byte, a
// truncation, bytes added, another sender) is caught before a wrong record is handed out.
#include "bundle/bundle_volume.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace outpost::sync {
namespace {

using testing::TempDir;

Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteAll(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class BundleVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }

  std::filesystem::path Write(const std::vector<VolumeRecord>& records,
                              const std::vector<const Identity*>& to, const char* name = "v.opb") {
    VolumeHeader header;
    header.bundle_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    header.volume = 3;
    header.sender = sender_.public_key();
    header.created_at = 1796000000;
    for (const Identity* r : to) header.recipients.push_back(r->public_key());
    auto path = dir_.path() / name;
    auto file = Env::Default()->NewWritableFile(path);
    EXPECT_TRUE(file.has_value());
    auto writer = VolumeWriter::Start(header, sender_, file->get());
    EXPECT_TRUE(writer.has_value()) << writer.error().message();
    for (const auto& r : records) EXPECT_TRUE((*writer)->Add(r.type, r.body).ok());
    EXPECT_TRUE((*writer)->Finish().ok());
    EXPECT_TRUE((*file)->Close().ok());
    EXPECT_EQ((*writer)->bytes_written(), std::filesystem::file_size(path));
    return path;
  }

  // Reads a volume as `self`: the records handed out, and whether it ended verified.
  struct Read {
    Status open = Status::Ok();
    std::vector<VolumeRecord> records;
    bool complete = false;
    Status error = Status::Ok();
  };
  Read ReadVolume(const std::filesystem::path& path, const Identity& self) {
    Read out;
    auto reader = VolumeReader::Open(path, self);
    if (!reader) {
      out.open = reader.error();
      return out;
    }
    for (;;) {
      auto next = (*reader)->Next();
      if (!next) {
        out.error = next.error();
        break;
      }
      if (!*next) break;
      out.records.push_back(std::move(**next));
    }
    out.complete = (*reader)->complete();
    return out;
  }

  static bool IsPrefix(const std::vector<VolumeRecord>& got, const std::vector<VolumeRecord>& all) {
    if (got.size() > all.size()) return false;
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].type != all[i].type || got[i].body != all[i].body) return false;
    }
    return true;
  }

  std::vector<VolumeRecord> Records() {
    return {{1, "a manifest"}, {3, std::string(5000, 'c')}, {3, ""}, {7, "receipt"}};
  }

  TempDir dir_;
  Identity sender_ = NewIdentity();
  Identity site_a_ = NewIdentity(), site_b_ = NewIdentity(), stranger_ = NewIdentity();
};

TEST_F(BundleVolumeTest, EveryRecipientReadsEveryRecordAndTheEnd) {
  std::vector<VolumeRecord> records = Records();
  records.push_back({3, std::string(1 << 20, 'x')});
  auto path = Write(records, {&site_a_, &site_b_});
  for (const Identity* self : {&site_a_, &site_b_}) {
    Read read = ReadVolume(path, *self);
    ASSERT_TRUE(read.open.ok()) << read.open.message();
    EXPECT_TRUE(read.error.ok()) << read.error.message();
    EXPECT_TRUE(read.complete);
    ASSERT_EQ(read.records.size(), records.size());
    EXPECT_TRUE(IsPrefix(read.records, records));
  }
  auto reader = VolumeReader::Open(path, site_a_);
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ((*reader)->header().volume, 3u);
  EXPECT_EQ((*reader)->header().sender, sender_.public_key());
  EXPECT_EQ((*reader)->header().recipients.size(), 2u);
  EXPECT_EQ(BundleIdHex((*reader)->header().bundle_id), "0102030405060708090a0b0c0d0e0f10");
}

TEST_F(BundleVolumeTest, ABundleForOthersSaysWhomItIsFor) {
  auto path = Write(Records(), {&site_a_, &site_b_});
  Read read = ReadVolume(path, stranger_);
  ASSERT_FALSE(read.open.ok());
  EXPECT_EQ(read.open.code(), StatusCode::kNotFound);
  EXPECT_NE(read.open.message().find(site_a_.public_key().Fingerprint()), std::string::npos);
  EXPECT_NE(read.open.message().find(site_b_.public_key().Fingerprint()), std::string::npos);
}

TEST_F(BundleVolumeTest, NothingButTheHeaderIsInClear) {
  std::vector<VolumeRecord> records = {{1, "secret lesson plan about photosynthesis"}};
  auto path = Write(records, {&site_a_});
  std::string bytes = ReadAll(path);
  EXPECT_EQ(bytes.find("photosynthesis"), std::string::npos);
  EXPECT_EQ(bytes.find("secret"), std::string::npos);
}

TEST_F(BundleVolumeTest, EveryFlippedByteIsCaughtBeforeAWrongRecord) {
  auto records = Records();
  auto path = Write(records, {&site_a_});
  const std::string good = ReadAll(path);
  auto damaged = dir_.path() / "damaged.opb";
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    WriteAll(damaged, bad);
    Read read = ReadVolume(damaged, site_a_);
    EXPECT_FALSE(read.complete) << "byte " << i;
    EXPECT_TRUE(IsPrefix(read.records, records)) << "byte " << i;
    EXPECT_FALSE(read.open.ok() && read.error.ok()) << "byte " << i;
  }
}

TEST_F(BundleVolumeTest, ATruncatedVolumeGivesTheFramesBeforeTheCut) {
  auto records = Records();
  auto path = Write(records, {&site_a_});
  const std::string good = ReadAll(path);
  auto cut = dir_.path() / "cut.opb";
  size_t most = 0;
  for (size_t n = 0; n < good.size(); n += 7) {
    WriteAll(cut, good.substr(0, n));
    Read read = ReadVolume(cut, site_a_);
    EXPECT_FALSE(read.complete) << n;
    EXPECT_TRUE(IsPrefix(read.records, records)) << n;
    most = std::max(most, read.records.size());
  }
  EXPECT_EQ(most, records.size());  // a cut just before the end keeps every record
  WriteAll(cut, good + "x");
  Read extra = ReadVolume(cut, site_a_);
  EXPECT_FALSE(extra.complete);
  EXPECT_NE(extra.error.message().find("after its end"), std::string::npos) << extra.error.message();
}

TEST_F(BundleVolumeTest, RandomDamageNeverPassesAsARecord) {
  auto records = Records();
  records.push_back({4, std::string(70000, 'z')});
  auto path = Write(records, {&site_a_, &site_b_});
  const std::string good = ReadAll(path);
  auto damaged = dir_.path() / "fuzz.opb";
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 300; ++round) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(next() % 4);
    for (int f = 0; f < flips; ++f) bad[next() % bad.size()] ^= static_cast<char>(1 + next() % 255);
    if (next() % 2) bad.resize(next() % bad.size());
    WriteAll(damaged, bad);
    Read read = ReadVolume(damaged, next() % 2 ? site_a_ : site_b_);
    EXPECT_TRUE(IsPrefix(read.records, records)) << "round " << round;
    if (bad != good) {
      EXPECT_FALSE(read.complete) << "round " << round;
    }
  }
}

TEST_F(BundleVolumeTest, FramesCannotMoveBetweenVolumes) {
  auto one = Write({{1, "one"}, {2, "two"}}, {&site_a_}, "one.opb");
  auto other = Write({{1, "uno"}, {2, "dos"}}, {&site_a_}, "other.opb");
  // The header of one volume with the frames of another.
  std::string a = ReadAll(one), b = ReadAll(other);
  size_t header = a.size() - (4 + 17 + 4) - (4 + 17 + 4) - (4 + 17 + 1 + 8 + 64);
  auto spliced = dir_.path() / "spliced.opb";
  WriteAll(spliced, a.substr(0, header) + b.substr(header));
  Read read = ReadVolume(spliced, site_a_);
  EXPECT_TRUE(read.records.empty());
  EXPECT_FALSE(read.complete);
}

TEST_F(BundleVolumeTest, TheWriterRefusesBadRecipientLists) {
  VolumeHeader header;
  header.sender = sender_.public_key();
  auto path = dir_.path() / "x.opb";
  auto file = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(file.has_value());
  EXPECT_FALSE(VolumeWriter::Start(header, sender_, file->get()).has_value());
  header.recipients = {site_a_.public_key(), site_a_.public_key()};
  EXPECT_FALSE(VolumeWriter::Start(header, sender_, file->get()).has_value());
  header.recipients = {site_a_.public_key()};
  header.sender = stranger_.public_key();
  EXPECT_FALSE(VolumeWriter::Start(header, sender_, file->get()).has_value());
}

}  // namespace
}  // namespace outpost::sync
