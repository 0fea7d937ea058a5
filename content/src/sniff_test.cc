#include "outpost/content/sniff.h"

#include <gtest/gtest.h>

#include <string>

#include "outpost/base/text.h"

namespace outpost {
namespace {

TEST(ParseHtmlTest, TitleLanguageAndVisibleTextWithoutTagsScriptsStylesOrComments) {
  HtmlInfo info = ParseHtml(
      "<!doctype html><html lang=\"fr\"><head><title> Le  cycle\n de l'eau </title>"
      "<style>p { color: red }</style></head><body><h1>L'eau</h1><!-- caché -->"
      "<p>La pluie<br>tombe.</p><SCRIPT>var x = '<p>';</SCRIPT><p>Fin</p></body></html>");
  EXPECT_EQ(info.title, "Le cycle de l'eau");
  EXPECT_EQ(info.language, "fr");
  EXPECT_EQ(info.text, "L'eau La pluie tombe. Fin");
}

TEST(ParseHtmlTest, AScriptNeverClosedHidesTheRestAndManyScriptsAreEachSkipped) {
  std::string page = "<p>Avant</p>", text = "Avant";
  for (int i = 0; i < 50; ++i) {
    page += "<script>if (a</b) {}</ScRiPt ><p>mot</p>";
    text += " mot";
  }
  EXPECT_EQ(ParseHtml(page).text, text);
  EXPECT_EQ(ParseHtml("<p>Avant</p><style>p{}</styl").text, "Avant");
}

TEST(ParseHtmlTest, EntitiesAreDecodedAndWhitespaceCollapsed) {
  HtmlInfo info = ParseHtml(
      "<p>a &amp; b&nbsp;&nbsp;c &eacute;l&egrave;ve &#233; &#x645;&#x627;&#x621; "
      "&bogus; &amp &#0; x\t\n  y &lt;tag&gt;</p>");
  EXPECT_EQ(info.text, "a & b c élève é ماء &bogus; &amp \xEF\xBF\xBD x y <tag>");
}

TEST(ParseHtmlTest, TextIsCutAtTheLimitAndStaysValidUtf8) {
  std::string body;
  for (int i = 0; i < 100; ++i) body += "élève ";
  HtmlInfo info = ParseHtml("<p>" + body + "</p>", 51);
  EXPECT_LE(info.text.size(), 51u);
  EXPECT_TRUE(IsValidUtf8(info.text));
  EXPECT_TRUE(std::string(body).starts_with(info.text.substr(0, 40)));
}

TEST(ParseHtmlTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  HtmlInfo info = ParseHtml("<title>caf\xe9</title><p>na\xefve</p>");
  EXPECT_EQ(info.title, "caf\xEF\xBF\xBD");
  EXPECT_EQ(info.text, "na\xEF\xBF\xBDve");
}

}  // namespace
}  // namespace outpost
