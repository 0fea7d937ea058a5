// The state of an export that stopped on a full drive: it reads back as written, and any
// damage is refused rather than read as something else.
#include "bundle/export_state.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace outpost::sync {
namespace {

using testing::TempDir;

ExportState Sample() {
  ExportState s;
  for (size_t i = 0; i < s.bundle_id.size(); ++i) s.bundle_id[i] = static_cast<uint8_t>(0x3f + i);
  s.created_at = 1700000000;
  s.full = true;
  s.next_volume = 2;
  s.bytes_written = 123456789;
  PublicKey key;
  key.bytes.fill(7);
  s.recipients.push_back({key, "ecole-1"});
  s.chunks.insert(Hash::Of(std::string_view("a chunk")));
  return s;
}

TEST(ExportStateTest, ReadsBackAsWritten) {
  ExportState s = Sample();
  s.patches.insert({Hash::Of(std::string_view("new")), Hash::Of(std::string_view("old"))});
  auto back = DecodeExportState(EncodeExportState(s));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->bundle_id, s.bundle_id);
  EXPECT_EQ(back->created_at, s.created_at);
  EXPECT_TRUE(back->full);
  EXPECT_EQ(back->next_volume, 2u);
  EXPECT_EQ(back->bytes_written, s.bytes_written);
  EXPECT_EQ(back->recipients, s.recipients);
  EXPECT_EQ(back->chunks, s.chunks);
  EXPECT_EQ(back->patches, s.patches);
}

TEST(ExportStateTest, TheWorkedExampleHasItsSize) {
  EXPECT_EQ(EncodeExportState(Sample()).size(), 160u);  // export_state.h
}

TEST(ExportStateTest, EveryChangedByteAndEveryCutIsRefused) {
  std::string good = EncodeExportState(Sample());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeExportState(bad).has_value()) << "byte " << i;
  }
  for (size_t n = 0; n < good.size(); ++n) {
    auto cut = DecodeExportState(std::string_view(good).substr(0, n));
    ASSERT_FALSE(cut.has_value()) << n;
    EXPECT_EQ(cut.error().code(), StatusCode::kCorrupt);
  }
  auto longer = DecodeExportState(good + "x");
  EXPECT_FALSE(longer.has_value());
}

TEST(ExportStateTest, SavedListedAndRemoved) {
  TempDir dir;
  NodePaths paths(dir.path());
  EXPECT_TRUE(ListExportStates(paths).empty());  // no folder yet
  ExportState s = Sample();
  ASSERT_TRUE(SaveExportState(Env::Default(), paths, s).ok());
  auto listed = ListExportStates(paths);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id_hex, BundleIdHex(s.bundle_id));
  ASSERT_TRUE(listed[0].state.has_value());
  EXPECT_EQ(listed[0].state->chunks, s.chunks);
  // A state under another bundle's name is not that bundle's.
  std::filesystem::copy_file(listed[0].path, ExportsDir(paths) / (std::string(32, '0') + ".state"));
  listed = ListExportStates(paths);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_FALSE(listed[0].state.has_value());
  ASSERT_TRUE(RemoveExportState(Env::Default(), paths, s.bundle_id).ok());
  ASSERT_TRUE(RemoveExportState(Env::Default(), paths, s.bundle_id).ok());  // gone is fine
  EXPECT_EQ(ListExportStates(paths).size(), 1u);
}

}  // namespace
}  // namespace outpost::sync
