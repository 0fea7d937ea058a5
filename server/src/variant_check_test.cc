#include "outpost/server/variant_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compression_cache.h"
#include "testing/archives.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::FlipByte;
using testing::ReadFile;
using testing::TempDir;

std::string Text(size_t n) {
  std::string out;
  for (size_t i = 0; out.size() < n; ++i) out += "<p>le cycle de l'eau " + std::to_string(i % 97);
  return out;
}

class VariantCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*BlobStore::Open(data_.path()));
    cache_ = std::move(*CompressionCache::Open(data_.path() / "cache"));
  }
  // Stores `text` as a blob and makes both of its variants; returns its hash.
  Hash StoreWithVariants(const std::string& text) {
    auto info = store_->Put(text);
    EXPECT_TRUE(info.has_value());
    auto source = OpenFile::Open(store_->PathOf(info->hash));
    for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
      EXPECT_TRUE(cache_->Make(info->hash, encoding, *source));
    }
    return info->hash;
  }
  std::vector<std::string> CacheFiles() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(data_.path() / "cache")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir data_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<CompressionCache> cache_;
};

TEST_F(VariantCheckTest, WholeVariantsAndMarkersAreKept) {
  Hash hash = StoreWithVariants(Text(40000));
  auto small = store_->Put("tiny");
  auto source = OpenFile::Open(store_->PathOf(small->hash));
  EXPECT_FALSE(cache_->Make(small->hash, ContentEncoding::kGzip, *source));  // a marker
  auto report = CheckCompressedVariants(*store_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->variants, 3u);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->orphans_removed, 0u);
  std::vector<std::string> kept{hash.Hex() + ".gz", hash.Hex() + ".zst", small->hash.Hex() + ".gz"};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(CacheFiles(), kept);
}

TEST_F(VariantCheckTest, AVariantWithFlippedBytesIsReportedAndRemoved) {
  Hash hash = StoreWithVariants(Text(40000));
  for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    auto path = cache_->PathOf(hash, encoding);
    FlipByte(path, std::filesystem::file_size(path) / 2, 0x10);
  }
  auto report = CheckCompressedVariants(*store_);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->damaged.size(), 2u);
  EXPECT_FALSE(report->ok());
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_NE(report->damaged[0].problem.find(hash.Hex()), std::string::npos);
}

TEST_F(VariantCheckTest, AVariantOfOtherBytesOrCutShortIsRemoved) {
  Hash hash = StoreWithVariants(Text(40000));
  // A whole stream, but of other bytes (a variant made from a damaged blob by older code).
  auto other = Compress(ContentEncoding::kGzip, Text(40001), 6);
  testing::TempDir scratch;
  std::filesystem::copy_file(scratch.Write("v", *other), cache_->PathOf(hash, ContentEncoding::kGzip),
                             std::filesystem::copy_options::overwrite_existing);
  auto zst = cache_->PathOf(hash, ContentEncoding::kZstd);
  std::filesystem::resize_file(zst, std::filesystem::file_size(zst) - 5);
  auto report = CheckCompressedVariants(*store_);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->damaged.size(), 2u);
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(VariantCheckTest, VariantsOfBlobsNoLongerInTheStoreAreRemovedQuietly) {
  Hash gone = StoreWithVariants(Text(40000));
  Hash kept = StoreWithVariants(Text(50000));
  ASSERT_TRUE(store_->Remove(gone).ok());
  auto report = CheckCompressedVariants(*store_);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->orphans_removed, 2u);
  EXPECT_EQ(CacheFiles(), (std::vector<std::string>{kept.Hex() + ".gz", kept.Hex() + ".zst"}));
}

TEST_F(VariantCheckTest, QuarantiningABlobDropsEveryVariant) {
  Hash hash = StoreWithVariants(Text(40000));
  Hash other = StoreWithVariants(Text(50000));
  ASSERT_TRUE(store_->Quarantine(hash).has_value());
  EXPECT_EQ(CacheFiles(), (std::vector<std::string>{other.Hex() + ".gz", other.Hex() + ".zst"}));
}

TEST_F(VariantCheckTest, NoCacheFolderIsAnEmptyCache) {
  std::filesystem::remove_all(data_.path() / "cache");
  auto report = CheckCompressedVariants(*store_);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->variants, 0u);
}

}  // namespace
}  // namespace outpost
