#include "compression_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, to read the window size
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "testing/fault_env.h"
#include "testing/archives.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Gunzip;
using testing::Unzstd;

using testing::FaultEnv;
using testing::RandomBytes;
using testing::ReadFile;
using testing::TempDir;
using State = CompressionCache::State;

// Compressible text of about `n` bytes.
std::string Prose(size_t n) {
  static const char* kWords[] = {"l'élève ", "lit ", "le ", "cycle ", "de ", "l'eau ",
                                 "الماء ", "evaporation ", "<p>", "</p>\n"};
  std::string out;
  for (size_t i = 0; out.size() < n; ++i) out += kWords[(i * 7 + i / 3) % 10];
  return out;
}

Hash HashOf(std::string_view s) { return Hash::Of(s); }

TEST(NegotiateEncodingTest, PrefersZstdThenGzip) {
  EXPECT_EQ(NegotiateEncoding("gzip, deflate, br, zstd"), ContentEncoding::kZstd);
  EXPECT_EQ(NegotiateEncoding("gzip, deflate, br"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("GZIP"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("x-gzip"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("br, deflate"), ContentEncoding::kIdentity);
  EXPECT_EQ(NegotiateEncoding(""), ContentEncoding::kIdentity);
  EXPECT_EQ(NegotiateEncoding("identity"), ContentEncoding::kIdentity);
}

TEST(NegotiateEncodingTest, HonoursQValuesAndStar) {
  EXPECT_EQ(NegotiateEncoding("zstd;q=0, gzip"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("zstd; q=0.000, gzip;q=0"), ContentEncoding::kIdentity);
  EXPECT_EQ(NegotiateEncoding("zstd;q=0.5, gzip;q=0.8"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("zstd;q=0.8, gzip;q=0.8"), ContentEncoding::kZstd);
  EXPECT_EQ(NegotiateEncoding("*"), ContentEncoding::kZstd);
  EXPECT_EQ(NegotiateEncoding("*;q=0"), ContentEncoding::kIdentity);
  EXPECT_EQ(NegotiateEncoding("*, zstd;q=0"), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("gzip;q=1.0;foo=bar"), ContentEncoding::kGzip);
}

TEST(NegotiateEncodingTest, LeavesOutMissingVariants) {
  EXPECT_EQ(NegotiateEncoding("gzip, zstd", /*has_zstd=*/false), ContentEncoding::kGzip);
  EXPECT_EQ(NegotiateEncoding("zstd", /*has_zstd=*/true, /*has_gzip=*/false),
            ContentEncoding::kZstd);
  EXPECT_EQ(NegotiateEncoding("zstd", false, true), ContentEncoding::kIdentity);
}

TEST(IsCompressibleTest, TextTypesCompressAndMediaDoesNot) {
  for (const char* mime : {"text/html; charset=utf-8", "text/css", "TEXT/PLAIN", "text/vtt",
                           "text/javascript; charset=utf-8", "application/json",
                           "application/javascript", "image/svg+xml", "application/xml",
                           "application/xhtml+xml", "application/ld+json"}) {
    EXPECT_TRUE(IsCompressible(mime)) << mime;
  }
  for (const char* mime : {"video/mp4", "image/png", "application/pdf", "application/zip",
                           "application/octet-stream", "", "audio/ogg", "font/woff2"}) {
    EXPECT_FALSE(IsCompressible(mime)) << mime;
  }
}

TEST(CompressTest, BothEncodingsRoundTrip) {
  std::string text = Prose(100000);
  auto gz = Compress(ContentEncoding::kGzip, text, 6);
  auto zst = Compress(ContentEncoding::kZstd, text, 9);
  ASSERT_TRUE(gz && zst);
  EXPECT_LT(gz->size(), text.size() / 4);
  EXPECT_LT(zst->size(), text.size() / 4);
  EXPECT_EQ(Gunzip(*gz), text);
  EXPECT_EQ(Unzstd(*zst), text);
  EXPECT_EQ(Gunzip(*Compress(ContentEncoding::kGzip, "", 6)), "");
}

TEST(CompressTest, ZstdWindowFitsBrowsers) {
  // Browsers refuse zstd frames whose window exceeds 8 MiB (RFC 9659).
  std::string text = Prose(16u << 20);
  auto zst = Compress(ContentEncoding::kZstd, text, CompressionOptions{}.zstd_level);
  ASSERT_TRUE(zst);
  ZSTD_frameHeader header;
  ASSERT_EQ(ZSTD_getFrameHeader(&header, zst->data(), zst->size()), 0u);
  EXPECT_LE(header.windowSize, 8u << 20);
}

class CompressionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cache = CompressionCache::Open(dir_.path() / "cache", &env_);
    ASSERT_TRUE(cache.has_value()) << cache.error().ToString();
    cache_ = std::move(*cache);
  }
  // Writes `content` as a source file and returns it open.
  OpenFile Source(std::string_view content) {
    auto path = src_.Write("blob-" + std::to_string(++sources_), content);
    return std::move(*OpenFile::Open(path));
  }
  std::vector<std::string> CacheFiles() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "cache")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_, src_;
  FaultEnv env_;
  std::unique_ptr<CompressionCache> cache_;
  int sources_ = 0;
};

TEST_F(CompressionCacheTest, VariantIsMadeOnceThenFound) {
  std::string text = Prose(50000);
  Hash hash = HashOf(text);
  EXPECT_EQ(cache_->Find(hash, ContentEncoding::kZstd).state, State::kMissing);
  auto made = cache_->Make(hash, ContentEncoding::kZstd, Source(text));
  ASSERT_TRUE(made);
  EXPECT_GT(made->size(), 0u);
  auto path = cache_->PathOf(hash, ContentEncoding::kZstd);
  EXPECT_EQ(path.filename(), hash.Hex() + ".zst");
  EXPECT_EQ(Unzstd(ReadFile(path)), text);
  struct stat before;
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  auto found = cache_->Find(hash, ContentEncoding::kZstd);
  EXPECT_EQ(found.state, State::kHit);
  ASSERT_TRUE(found.file);
  EXPECT_EQ(found.file->size(), made->size());
  EXPECT_EQ(cache_->Find(hash, ContentEncoding::kGzip).state, State::kMissing);
  auto gz = cache_->Make(hash, ContentEncoding::kGzip, Source(text));
  ASSERT_TRUE(gz);
  EXPECT_EQ(Gunzip(ReadFile(cache_->PathOf(hash, ContentEncoding::kGzip))), text);

  struct stat after;
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(CacheFiles(), (std::vector<std::string>{hash.Hex() + ".gz", hash.Hex() + ".zst"}));
}

TEST_F(CompressionCacheTest, IncompressibleSourceIsMarkedNotWorthIt) {
  std::string noise = RandomBytes(20000, 7);
  Hash hash = HashOf(noise);
  EXPECT_FALSE(cache_->Make(hash, ContentEncoding::kGzip, Source(noise)));
  auto path = cache_->PathOf(hash, ContentEncoding::kGzip);
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_EQ(cache_->Find(hash, ContentEncoding::kGzip).state, State::kNotWorthIt);
  EXPECT_EQ(CacheFiles().size(), 1u);  // no temp file left behind
}

TEST_F(CompressionCacheTest, TooSmallAndTooLargeSourcesAreMarked) {
  auto small = cache_->Make(HashOf("hi"), ContentEncoding::kZstd, Source("hi"));
  EXPECT_FALSE(small);
  EXPECT_EQ(cache_->Find(HashOf("hi"), ContentEncoding::kZstd).state, State::kNotWorthIt);

  CompressionOptions options;
  options.max_size = 1000;
  TempDir other;
  auto cache = std::move(*CompressionCache::Open(other.path(), Env::Default(), options));
  std::string text = Prose(5000);
  EXPECT_FALSE(cache->Make(HashOf(text), ContentEncoding::kGzip, Source(text)));
  EXPECT_EQ(cache->Find(HashOf(text), ContentEncoding::kGzip).state, State::kNotWorthIt);
}

TEST_F(CompressionCacheTest, ConcurrentFirstRequestsLeaveOneWholeVariant) {
  std::string text = Prose(3u << 20);
  Hash hash = HashOf(text);
  auto path = src_.Write("big", text);
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto source = OpenFile::Open(path);
      auto variant = cache_->Make(hash, ContentEncoding::kZstd, *source);
      if (variant) {
        ++made;
        std::string bytes(variant->size(), '\0');
        ASSERT_EQ(::pread(variant->fd(), bytes.data(), bytes.size(), 0),
                  static_cast<ssize_t>(bytes.size()));
        EXPECT_EQ(Unzstd(bytes), text);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(made.load(), 1);
  EXPECT_EQ(Unzstd(ReadFile(cache_->PathOf(hash, ContentEncoding::kZstd))), text);
  EXPECT_EQ(CacheFiles(), std::vector<std::string>{hash.Hex() + ".zst"});
}

TEST_F(CompressionCacheTest, FullDiskServesOriginalAndIsNotRetried) {
  std::string text = Prose(50000);
  Hash hash = HashOf(text);
  env_.FailAfter(0, FaultEnv::Fault::kNoSpace);
  EXPECT_FALSE(cache_->Make(hash, ContentEncoding::kGzip, Source(text)));
  EXPECT_TRUE(env_.fired());
  EXPECT_EQ(cache_->Find(hash, ContentEncoding::kGzip).state, State::kMissing);
  env_.Heal();
  long ops = env_.operations();
  EXPECT_FALSE(cache_->Make(hash, ContentEncoding::kGzip, Source(text)));  // remembered
  EXPECT_EQ(env_.operations(), ops);
  EXPECT_TRUE(CacheFiles().empty());
  // Another variant still works.
  EXPECT_TRUE(cache_->Make(hash, ContentEncoding::kZstd, Source(text)));
}

TEST_F(CompressionCacheTest, ASourceThatNoLongerHashesToItsNameIsNeitherCompressedNorServed) {
  std::string text = Prose(50000);
  Hash hash = HashOf(text);
  std::string damaged = text;
  damaged[20000] ^= 0x01;  // one bit gone wrong on the card
  for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    bool source_damaged = false;
    EXPECT_FALSE(cache_->Make(hash, encoding, Source(damaged), &source_damaged));
    EXPECT_TRUE(source_damaged);
  }
  EXPECT_TRUE(CacheFiles().empty());
  // Not remembered as a failure: once the blob is restored, its variant is made.
  bool source_damaged = false;
  auto made = cache_->Make(hash, ContentEncoding::kGzip, Source(text), &source_damaged);
  ASSERT_TRUE(made);
  EXPECT_FALSE(source_damaged);
  EXPECT_EQ(Gunzip(ReadFile(cache_->PathOf(hash, ContentEncoding::kGzip))), text);
}

TEST_F(CompressionCacheTest, EveryFailurePointLeavesNoTempFile) {
  std::string text = Prose(200000);
  for (long step = 0;; ++step) {
    TempDir dir;
    FaultEnv env;
    auto cache = std::move(*CompressionCache::Open(dir.path(), &env));
    env.FailAfter(step, FaultEnv::Fault::kNoSpace);
    auto made = cache->Make(HashOf(text), ContentEncoding::kGzip, Source(text));
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << step;
    }
    if (!env.fired()) {
      ASSERT_TRUE(made) << step;
      break;
    }
    EXPECT_FALSE(made) << step;
    ASSERT_LT(step, 100);
  }
}

TEST_F(CompressionCacheTest, OpenRemovesOldTempFiles) {
  auto old_temp = dir_.path() / "cache" / "abc.gz.tmp.1.1";
  auto new_temp = dir_.path() / "cache" / "abc.gz.tmp.1.2";
  std::filesystem::create_directories(old_temp.parent_path());
  { std::ofstream(old_temp) << "x"; }
  { std::ofstream(new_temp) << "x"; }
  std::filesystem::last_write_time(
      old_temp, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  ASSERT_TRUE(CompressionCache::Open(dir_.path() / "cache").has_value());
  EXPECT_FALSE(std::filesystem::exists(old_temp));
  EXPECT_TRUE(std::filesystem::exists(new_temp));  // perhaps still being written
}

TEST(CompressedVariantsTest, TextGetsBothVariantsOnce) {
  std::string css = Prose(10000);
  auto v = CompressedVariants::Make(css, "text/css; charset=utf-8");
  EXPECT_TRUE(v.any());
  ASSERT_NE(v.Get(ContentEncoding::kGzip), nullptr);
  ASSERT_NE(v.Get(ContentEncoding::kZstd), nullptr);
  EXPECT_EQ(v.Get(ContentEncoding::kIdentity), nullptr);
  EXPECT_EQ(Gunzip(*v.Get(ContentEncoding::kGzip)), css);
  EXPECT_EQ(Unzstd(*v.Get(ContentEncoding::kZstd)), css);
}

TEST(CompressedVariantsTest, SmallMediaAndNoiseGetNone) {
  EXPECT_FALSE(CompressedVariants::Make("body{}", "text/css").any());
  EXPECT_FALSE(CompressedVariants::Make(Prose(10000), "image/png").any());
  EXPECT_FALSE(CompressedVariants::Make(RandomBytes(10000, 3), "text/plain").any());
  EXPECT_FALSE(CompressedVariants().any());
}

}  // namespace
}  // namespace outpost
