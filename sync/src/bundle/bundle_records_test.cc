// The bundle's own records read back as written, and anything malformed refused; the names of
// volume files, and what an import of a folder takes for one.
#include "bundle/bundle_records.h"

#include <gtest/gtest.h>

#include "zstd_codec.h"

namespace outpost::sync {
namespace {

PublicKey KeyOf(uint8_t fill) {
  PublicKey key;
  key.bytes.fill(fill);
  return key;
}

TEST(BundleRecordsTest, AnAddressedRecordNamesItsRecipient) {
  std::string record = AddressedRecord(KeyOf(7), "an offer");
  EXPECT_EQ(record.size(), PublicKey::kSize + 8);
  auto read = ReadAddressed(record);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->to, KeyOf(7));
  EXPECT_EQ(read->body, "an offer");
  EXPECT_FALSE(ReadAddressed(record.substr(0, PublicKey::kSize - 1)).has_value());
  auto empty = ReadAddressed(record.substr(0, PublicKey::kSize));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->body.empty());
}

TEST(BundleRecordsTest, AReceiptReadsBackAsWritten) {
  std::map<std::string, uint64_t> served{{"water", 3}, {"ecole-1-notes", 1}};
  std::string body = EncodeReceiptRecord(served);
  auto read = DecodeReceiptRecord(body);
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(*read, served);
  auto none = DecodeReceiptRecord(EncodeReceiptRecord({}));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(BundleRecordsTest, AMalformedReceiptIsRefused) {
  std::string body = EncodeReceiptRecord({{"water", 3}});
  EXPECT_EQ(DecodeReceiptRecord(body.substr(0, body.size() - 1)).error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(DecodeReceiptRecord(body + "x").error().code(), StatusCode::kCorrupt);
  std::string too_many = body;
  too_many[3] = 9;  // nine channels in the bytes of one
  auto r = DecodeReceiptRecord(too_many);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("too many channels"), std::string::npos) << r.error().message();
}

TEST(BundleRecordsTest, ChunksStoredOrCompressedReadBackAsWritten) {
  std::string plain = "hello", text(10000, 'a');
  std::string frame = ZstdCompress(text, 1, {});
  wire::Writer w;
  w.U32(2);
  AppendBundledChunk(&w, Hash::Of(plain), plain, std::nullopt);
  AppendBundledChunk(&w, Hash::Of(text), text, frame);
  std::string body = w.Take();
  EXPECT_EQ(body.size(), 4 + (32 + 4 + 1 + 4 + 5) + (32 + 4 + 1 + 4 + frame.size()));
  auto read = DecodeChunkBatch(body);
  ASSERT_TRUE(read.has_value()) << read.error().message();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].hash, Hash::Of(plain));
  EXPECT_EQ((*read)[0].length, 5u);
  EXPECT_TRUE((*read)[0].stored);
  EXPECT_EQ((*read)[0].compressed, plain);
  EXPECT_EQ((*read)[1].hash, Hash::Of(text));
  EXPECT_EQ((*read)[1].length, text.size());
  EXPECT_FALSE((*read)[1].stored);
  EXPECT_EQ((*read)[1].compressed, frame);
}

TEST(BundleRecordsTest, AMalformedChunkBatchIsRefused) {
  wire::Writer w;
  w.U32(1);
  AppendBundledChunk(&w, Hash::Of("hello"), "hello", std::nullopt);
  const std::string good = w.Take();
  const size_t packing = 4 + 32 + 4;
  std::string unknown = good;
  unknown[packing] = 2;
  EXPECT_NE(DecodeChunkBatch(unknown).error().message().find("unknown chunk packing"), std::string::npos);
  std::string lengths = good;
  lengths[packing - 1] = 6;  // a stored chunk of 6 bytes, packed in 5
  EXPECT_NE(DecodeChunkBatch(lengths).error().message().find("lengths differ"), std::string::npos);
  std::string many = good;
  many[3] = 2;
  EXPECT_NE(DecodeChunkBatch(many).error().message().find("too many chunks"), std::string::npos);
  EXPECT_FALSE(DecodeChunkBatch(good.substr(0, good.size() - 1)).has_value());
  EXPECT_FALSE(DecodeChunkBatch(good + "x").has_value());
}

TEST(BundleRecordsTest, VolumeFilesAreNamedByTheBundleAndTheirNumber) {
  BundleId id = {0x3f, 0x2a, 0x9c, 0x1e, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_EQ(VolumeFileName(id, 0), "outpost-3f2a9c1e-0.opb");
  EXPECT_EQ(VolumeFileName(id, 12), "outpost-3f2a9c1e-12.opb");
  EXPECT_TRUE(IsVolumeFileName("/media/stick/outpost-3f2a9c1e-12.opb"));
  EXPECT_TRUE(IsVolumeFileName("renamed.opb"));
  EXPECT_FALSE(IsVolumeFileName("/media/stick/.outpost-3f2a9c1e-12.opb.tmp"));  // being written
  EXPECT_FALSE(IsVolumeFileName("/media/stick/._outpost-3f2a9c1e-12.opb"));     // macOS's resource fork
  EXPECT_FALSE(IsVolumeFileName("/media/stick/outpost-3f2a9c1e-12.opb.txt"));
}

}  // namespace
}  // namespace outpost::sync
