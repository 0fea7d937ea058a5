#include "i18n.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

std::set<std::string> Keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

nlohmann::json Catalog(const Assets& assets, const std::string& path) {
  return nlohmann::json::parse(assets.Get(path)->bytes);
}

TEST(I18nTest, EveryCatalogHasExactlyTheKeysOfEnglish) {
  Assets assets = Assets::Embedded();
  auto english = Keys(Catalog(assets, "i18n/en.json"));
  auto paths = assets.List("i18n/");
  ASSERT_GE(paths.size(), 3u);
  for (const auto& path : paths) {
    auto catalog = Catalog(assets, path);
    EXPECT_EQ(Keys(catalog), english) << path << " and i18n/en.json differ";
    for (const auto& [key, value] : catalog.items()) {
      ASSERT_TRUE(value.is_string()) << path << ": " << key;
      EXPECT_FALSE(value.get<std::string>().empty()) << path << ": " << key;
    }
    EXPECT_TRUE(catalog["_dir"] == "ltr" || catalog["_dir"] == "rtl") << path;
  }
  EXPECT_EQ(Catalog(assets, "i18n/ar.json")["_dir"], "rtl");
  for (const char* kind :
       {"topic", "video", "audio", "document", "image", "html", "app", "exercise", "other"}) {
    EXPECT_TRUE(english.count(std::string("kind_") + kind)) << kind;
  }
}

TEST(I18nTest, EveryKeyTheTemplatesUseIsInEnglish) {
  Assets assets = Assets::Embedded();
  auto english = Catalog(assets, "i18n/en.json");
  std::regex use(R"(\{\{\{?\s*[#^/]?\s*t\.([A-Za-z0-9_]+))");
  auto templates = assets.List("templates/");
  ASSERT_GE(templates.size(), 6u);
  size_t uses = 0;
  for (const auto& path : templates) {
    std::string text(assets.Get(path)->bytes);
    for (std::sregex_iterator it(text.begin(), text.end(), use), end; it != end; ++it) {
      ++uses;
      EXPECT_TRUE(english.contains((*it)[1].str())) << path << " uses t." << (*it)[1].str();
    }
  }
  EXPECT_GT(uses, 50u);
}

// Text shown to people comes from the catalogs: once tags and mustache tags are taken out, a
// template has no letters left.
TEST(I18nTest, TemplatesHaveNoTextOfTheirOwn) {
  Assets assets = Assets::Embedded();
  for (const auto& path : assets.List("templates/")) {
    std::string text(assets.Get(path)->bytes);
    text = std::regex_replace(text, std::regex(R"(\{\{[^}]*\}\}\}?)"), " ");
    text = std::regex_replace(text, std::regex(R"(<[^>]*>)"), " ");
    std::smatch m;
    EXPECT_FALSE(std::regex_search(text, m, std::regex("[A-Za-z]{2,}")))
        << path << " has text of its own: '" << m.str() << "'";
  }
}

TEST(I18nTest, CookieWinsWhenItNamesAKnownLanguage) {
  Assets assets = Assets::Embedded();
  I18n i18n(&assets);
  EXPECT_EQ(i18n.Negotiate("ar", "fr-FR,fr;q=0.9"), "ar");
  EXPECT_EQ(i18n.Negotiate("AR", ""), "ar");
  EXPECT_EQ(i18n.Negotiate("de", "fr"), "fr");  // unknown cookie: the header decides
  EXPECT_EQ(i18n.Negotiate("", ""), "en");
}

TEST(I18nTest, AcceptLanguageByWeightWithPrefixMatch) {
  Assets assets = Assets::Embedded();
  I18n i18n(&assets);
  EXPECT_EQ(i18n.Negotiate("", "fr-CA,fr;q=0.9,en;q=0.8"), "fr");
  EXPECT_EQ(i18n.Negotiate("", "de, ar;q=0.5, fr;q=0.7"), "fr");
  EXPECT_EQ(i18n.Negotiate("", "ar-MA;q=0.9, en;q=0.3"), "ar");
  EXPECT_EQ(i18n.Negotiate("", "en;q=0, fr;q=0.1"), "fr");
  EXPECT_EQ(i18n.Negotiate("", "fr;q=abc, ar"), "ar");  // a malformed entry is skipped
  EXPECT_EQ(i18n.Negotiate("", "de-DE,de;q=0.9"), "en");
  EXPECT_EQ(i18n.Negotiate("", "*"), "en");
  EXPECT_EQ(i18n.Negotiate("", ",,;q=,"), "en");
}

TEST(I18nTest, MissingKeysFallBackToEnglish) {
  TempDir root;
  root.Write("i18n/en.json", R"({"_name": "English", "_dir": "ltr", "a": "A", "b": "B"})");
  root.Write("i18n/xx.json", R"({"_name": "Xx", "_dir": "rtl", "a": "X"})");
  root.Write("i18n/yy.json", R"(["not", "an", "object"])");
  Assets assets = Assets::FromDisk(root.path());
  I18n i18n(&assets);
  auto strings = i18n.Strings("xx");
  EXPECT_EQ(strings["a"], "X");
  EXPECT_EQ(strings["b"], "B");
  EXPECT_EQ(strings["_name"], "Xx");
  EXPECT_EQ(i18n.Strings("zz")["a"], "A");  // unknown language: English
  EXPECT_EQ(i18n.Dir("xx"), "rtl");
  EXPECT_EQ(i18n.Dir("en"), "ltr");
  EXPECT_TRUE(i18n.Known("xx"));
  EXPECT_FALSE(i18n.Known("yy"));
  EXPECT_EQ(i18n.Negotiate("", "xx-YY"), "xx");

  // Read again on every call from a web root.
  root.Write("i18n/xx.json", R"({"_name": "Xx", "_dir": "rtl", "a": "X2"})");
  EXPECT_EQ(i18n.Strings("xx")["a"], "X2");
}

TEST(I18nTest, LanguagesAndLinksToSwitch) {
  Assets assets = Assets::Embedded();
  I18n i18n(&assets);
  auto languages = i18n.Languages();
  ASSERT_EQ(languages.size(), 3u);
  EXPECT_EQ(languages[0].code, "ar");
  EXPECT_EQ(languages[0].name, "العربية");
  EXPECT_EQ(languages[0].dir, "rtl");
  EXPECT_EQ(languages[2].name, "Français");
  auto links = i18n.LanguageLinks("fr", "/t/water-cycle/?x=1");
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[2]["url"], "/lang/fr?back=%2Ft%2Fwater-cycle%2F%3Fx%3D1");
  EXPECT_EQ(links[2]["current"], true);
  EXPECT_EQ(links[1]["current"], false);
  EXPECT_EQ(links[1]["name"], "English");
}

TEST(I18nTest, ContentLanguageNames) {
  Assets assets = Assets::Embedded();
  I18n i18n(&assets);
  EXPECT_EQ(i18n.LanguageName("ar", "fr"), "Arabe");
  EXPECT_EQ(i18n.LanguageName("ar", "en"), "Arabic");
  EXPECT_EQ(i18n.LanguageName("fr", "ar"), "الفرنسية");
  EXPECT_EQ(i18n.LanguageName("fr-CA", "en"), "French (CA)");
  EXPECT_EQ(i18n.LanguageName("yo", "fr"), "Yorùbá");  // no catalog key: its own name
  EXPECT_EQ(i18n.LanguageName("x-klingon", "en"), "x-klingon");
  EXPECT_EQ(i18n.LanguageName("", "en"), "");
}

}  // namespace
}  // namespace outpost
