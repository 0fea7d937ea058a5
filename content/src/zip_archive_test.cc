#include "outpost/content/zip_archive.h"

#include <gtest/gtest.h>

#include <map>

#include "outpost/content/sniff.h"
#include "testing/archives.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

std::filesystem::path MakeZip(const testing::TempDir& dir,
                              const std::map<std::string, std::string>& entries) {
  auto path = dir.path() / "app.zip";
  testing::WriteZip(path, entries);
  return path;
}

TEST(ZipArchiveTest, ReadsEntriesInPlace) {
  testing::TempDir dir;
  std::string big = testing::RandomBytes(300000, 1);
  auto path = MakeZip(dir, {{"index.html", "<h1>app</h1>"}, {"js/app.js", "run()"}, {"big.bin", big}});
  EXPECT_TRUE(ZipHasIndexHtml(path));
  auto zip = ZipArchive::Open(path);
  ASSERT_TRUE(zip.has_value());
  EXPECT_EQ(*(*zip)->Read("index.html"), "<h1>app</h1>");
  EXPECT_EQ(*(*zip)->Read("js/app.js"), "run()");
  EXPECT_EQ(*(*zip)->Read("big.bin"), big);
  EXPECT_EQ((*zip)->Read("missing.html").error().code(), StatusCode::kNotFound);
  EXPECT_EQ((*zip)->Read("big.bin", 1000).error().code(), StatusCode::kInvalidArgument);
}

TEST(ZipArchiveTest, NoNameCanEscapeTheArchive) {
  testing::TempDir dir;
  auto path = MakeZip(dir, {{"index.html", "ok"}, {"../evil.html", "evil"}, {"/etc/x", "abs"}});
  auto zip = ZipArchive::Open(path);
  ASSERT_TRUE(zip.has_value());
  for (const char* name : {"../evil.html", "/etc/x", "a/../index.html", "./index.html",
                           "a//b", "a\\b", "", "dir/"}) {
    EXPECT_FALSE(IsSafeEntryPath(name)) << name;
    EXPECT_FALSE((*zip)->Read(name).has_value()) << name;
  }
  EXPECT_FALSE(IsSafeEntryPath(std::string("a\0b", 3)));
  EXPECT_FALSE(IsSafeEntryPath("bad\xC0\xAFname"));  // overlong '/'
  EXPECT_TRUE(IsSafeEntryPath("css/style.css"));
}

TEST(ZipArchiveTest, ADamagedArchiveIsAnErrorNotACrash) {
  testing::TempDir dir;
  auto path = MakeZip(dir, {{"index.html", testing::RandomBytes(5000, 2)}});
  testing::FlipByte(path, 100, 0xFF);  // inside the compressed data
  auto zip = ZipArchive::Open(path);
  ASSERT_TRUE(zip.has_value());
  EXPECT_FALSE((*zip)->Read("index.html").has_value());
  auto not_zip = dir.Write("plain.zip", "not a zip at all");
  EXPECT_FALSE(ZipArchive::Open(not_zip).has_value());
}

}  // namespace
}  // namespace outpost
