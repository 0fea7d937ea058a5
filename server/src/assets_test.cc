#include "assets.h"

#include <gtest/gtest.h>

#include <regex>

#include "outpost/base/hash.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

TEST(AssetsTest, EmbeddedHoldsTemplatesCatalogsStylesScriptsAndPdfjs) {
  Assets assets = Assets::Embedded();
  for (const char* path : {"templates/layout.mustache", "templates/topic.mustache", "i18n/en.json",
                           "i18n/fr.json", "i18n/ar.json", "static/outpost.css",
                           "static/outpost.js", "static/pdf.js", "static/pdf.worker.js"}) {
    auto file = assets.Get(path);
    ASSERT_TRUE(file) << path;
    EXPECT_FALSE(file->bytes.empty()) << path;
    EXPECT_EQ(file->hash, Hash::Of(file->bytes).Hex()) << path;
  }
  EXPECT_EQ(assets.Get("static/outpost.css")->mime, "text/css; charset=utf-8");
  EXPECT_EQ(assets.Get("static/pdf.worker.js")->mime, "text/javascript; charset=utf-8");
  EXPECT_FALSE(assets.Get("static/nothing.css"));
  EXPECT_EQ(assets.List("i18n/"),
            (std::vector<std::string>{"i18n/ar.json", "i18n/en.json", "i18n/fr.json"}));
}

TEST(AssetsTest, StaticUrlsCarryTheContentHashAndResolveBack) {
  Assets assets = Assets::Embedded();
  std::string css = assets.StaticUrl("outpost.css");
  EXPECT_TRUE(std::regex_match(css, std::regex(R"(/static/outpost\.[0-9a-f]{12}\.css)"))) << css;
  auto file = assets.ResolveStatic(css);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->path, "static/outpost.css");
  EXPECT_TRUE(file->hash.starts_with(css.substr(16, 12)));

  std::string worker = assets.StaticUrl("pdf.worker.js");
  EXPECT_TRUE(std::regex_match(worker, std::regex(R"(/static/pdf\.worker\.[0-9a-f]{12}\.js)")));
  ASSERT_TRUE(assets.ResolveStatic(worker));
  EXPECT_EQ(assets.ResolveStatic(worker)->path, "static/pdf.worker.js");
  EXPECT_TRUE(assets.ResolveStatic(worker.substr(8)));  // without "/static/"

  EXPECT_EQ(assets.StaticUrl("nothing.css"), "");
  EXPECT_FALSE(assets.ResolveStatic("/static/outpost.000000000000.css"));  // stale hash
  EXPECT_FALSE(assets.ResolveStatic("/static/outpost.css"));
  EXPECT_FALSE(assets.ResolveStatic("/static/nothing." + css.substr(16, 12) + ".css"));
  EXPECT_FALSE(assets.ResolveStatic("/static/../i18n/en." + css.substr(16, 12) + ".json"));
  EXPECT_FALSE(assets.ResolveStatic(""));
}

TEST(AssetsTest, FrameUrlsNameEveryStaticFileThePagesNeed) {
  auto urls = Assets::Embedded().FrameUrls();
  for (const char* key : {"css", "js", "pdfjs", "pdfjs_worker"}) {
    ASSERT_TRUE(urls.contains(key)) << key;
    EXPECT_TRUE(urls[key].get<std::string>().starts_with("/static/")) << key;
  }
}

TEST(AssetsTest, PathsThatAreNotPlainFindNothing) {
  TempDir root;
  root.Write("web/static/a.css", "a{}");
  root.Write("secret.txt", "no");
  Assets assets = Assets::FromDisk(root.path() / "web");
  EXPECT_TRUE(assets.Get("static/a.css"));
  for (const char* path : {"../secret.txt", "static/../../secret.txt", "/etc/passwd", "",
                           "static/a b.css", "static\\a.css"}) {
    EXPECT_FALSE(assets.Get(path)) << path;
  }
}

TEST(AssetsTest, WebRootIsReadAgainOnEveryLookupAndFallsBackToEmbedded) {
  TempDir root;
  root.Write("static/outpost.css", "body{color:red}");
  root.Write("i18n/xx.json", R"({"_name": "Xx", "_dir": "ltr"})");
  Assets assets = Assets::FromDisk(root.path());
  EXPECT_TRUE(assets.from_disk());

  std::string first = assets.StaticUrl("outpost.css");
  EXPECT_EQ(first.substr(16, 12), Hash::Of("body{color:red}").Hex().substr(0, 12));
  EXPECT_EQ(assets.Get("static/outpost.css")->bytes, "body{color:red}");
  ASSERT_TRUE(assets.ResolveStatic(first));

  root.Write("static/outpost.css", "body{color:blue}");
  std::string second = assets.StaticUrl("outpost.css");
  EXPECT_NE(first, second);
  EXPECT_FALSE(assets.ResolveStatic(first));
  ASSERT_TRUE(assets.ResolveStatic(second));
  EXPECT_EQ(assets.ResolveStatic(second)->bytes, "body{color:blue}");

  // Not under the web root: the embedded copy.
  auto pdfjs = assets.Get("static/pdf.js");
  ASSERT_TRUE(pdfjs);
  EXPECT_EQ(pdfjs->bytes, Assets::Embedded().Get("static/pdf.js")->bytes);
  EXPECT_EQ(assets.List("i18n/"), (std::vector<std::string>{"i18n/ar.json", "i18n/en.json",
                                                            "i18n/fr.json", "i18n/xx.json"}));
}

TEST(AssetsTest, MimeTypesFollowTheExtension) {
  EXPECT_EQ(AssetMimeType("static/icons.svg"), "image/svg+xml");
  EXPECT_EQ(AssetMimeType("i18n/fr.json"), "application/json");
  EXPECT_EQ(AssetMimeType("static/x.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace outpost
