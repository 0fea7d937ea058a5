#include "render.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "i18n.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::ReadFile;
using testing::TempDir;

const std::filesystem::path kSamples = std::filesystem::path(OUTPOST_WEBUI_DIR) / "samples";

// A sample view-model with the frame of interface language `code` (docs/web-api.md).
nlohmann::json Framed(nlohmann::json view, const Assets& assets, const I18n& i18n,
                      const std::string& code) {
  view["lang"] = code;
  view["dir"] = i18n.Dir(code);
  view["t"] = i18n.Strings(code);
  view["languages"] = i18n.LanguageLinks(code, "/");
  view["assets"] = assets.FrameUrls();
  return view;
}

nlohmann::json Sample(const std::string& name) {
  std::string text = ReadFile(kSamples / (name + ".json"));
  EXPECT_FALSE(text.empty()) << name;
  return nlohmann::json::parse(text);
}

// "resource_pdf" is rendered by templates/resource.mustache.
std::string TemplateOf(const std::string& sample) { return sample.substr(0, sample.find('_')); }

class RenderTest : public ::testing::Test {
 protected:
  Assets assets_ = Assets::Embedded();
  I18n i18n_{&assets_};
  Renderer renderer_{&assets_};
};

TEST_F(RenderTest, EscapesMarkupInViewModels) {
  auto view = Framed(Sample("topic"), assets_, i18n_, "en");
  view["page_title"] = "<script>alert(1)</script>";
  view["topic"]["title"] = "<script>alert(2)</script>";
  view["children"][0]["url"] = "/r/x\"onclick=\"alert(3)";
  view["children"][0]["title"] = "Tom & Jerry's";
  auto html = renderer_.RenderPage("topic", view);
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_EQ(html->find("<script>alert"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html->find("/r/x&quot;onclick=&quot;alert(3)"), std::string::npos);
  EXPECT_NE(html->find("Tom &amp; Jerry&apos;s"), std::string::npos);
}

TEST_F(RenderTest, EverySampleRendersInEveryLanguage) {
  const char* out_dir = std::getenv("OUTPOST_RENDER_SAMPLES_TO");
  if (out_dir) {
    std::filesystem::create_directories(out_dir);
    for (const char* name : {"outpost.css", "outpost.js"}) {
      std::ofstream(std::filesystem::path(out_dir) / name, std::ios::binary)
          << assets_.Get(std::string("static/") + name)->bytes;
    }
  }
  size_t samples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSamples)) {
    if (entry.path().extension() != ".json") continue;
    ++samples;
    std::string name = entry.path().stem().string();
    for (const UiLanguage& lang : i18n_.Languages()) {
      auto view = Framed(Sample(name), assets_, i18n_, lang.code);
      auto html = renderer_.RenderPage(TemplateOf(name), view);
      ASSERT_TRUE(html) << name << " " << lang.code << ": " << html.error().ToString();
      EXPECT_TRUE(html->starts_with("<!DOCTYPE html>")) << name;
      EXPECT_NE(html->find("<html lang=\"" + lang.code + "\" dir=\"" + lang.dir + "\">"),
                std::string::npos)
          << name;
      EXPECT_NE(html->find("<main id=\"main\""), std::string::npos) << name;
      EXPECT_NE(html->find(view["t"]["skip_to_content"].get<std::string>()), std::string::npos);
      EXPECT_EQ(html->find("{{"), std::string::npos) << name;
      if (out_dir) {
        view["assets"]["css"] = "outpost.css";  // beside the page; pdf.js keeps its URLs
        view["assets"]["js"] = "outpost.js";
        std::ofstream(std::filesystem::path(out_dir) / (name + "." + lang.code + ".html"))
            << *renderer_.RenderPage(TemplateOf(name), view);
      }
    }
  }
  EXPECT_GE(samples, 7u);
}

TEST_F(RenderTest, PagesShowWhatTheirKindNeeds) {
  auto video =
      *renderer_.RenderPage("resource", Framed(Sample("resource_video"), assets_, i18n_, "fr"));
  EXPECT_NE(
      video.find(
          "<video controls preload=\"metadata\" src=\"/c/water-cycle/en/02-evaporation.mp4\""),
      std::string::npos);
  EXPECT_NE(video.find("<track kind=\"subtitles\" src=\"/c/water-cycle/en/02-evaporation.ar.vtt\" "
                       "srclang=\"ar\" label=\"Arabic\">"),
            std::string::npos);
  EXPECT_NE(video.find("rel=\"next\""), std::string::npos);
  EXPECT_NE(video.find("aria-current=\"page\""), std::string::npos);  // last breadcrumb entry

  auto pdf =
      *renderer_.RenderPage("resource", Framed(Sample("resource_pdf"), assets_, i18n_, "en"));
  EXPECT_NE(pdf.find("data-pdf=\"/c/water-cycle/en/05-collection.pdf\""), std::string::npos);
  EXPECT_NE(pdf.find("data-worker=\"/static/pdf.worker."), std::string::npos);
  EXPECT_NE(pdf.find("href=\"/c/water-cycle/en/05-collection.pdf?download=1\""), std::string::npos);

  auto quiz =
      *renderer_.RenderPage("resource", Framed(Sample("resource_exercise"), assets_, i18n_, "ar"));
  EXPECT_NE(quiz.find("<form class=\"exercise\" method=\"post\""), std::string::npos);
  EXPECT_NE(quiz.find("type=\"radio\" name=\"q0\" value=\"0\" checked"), std::string::npos);
  EXPECT_NE(quiz.find("inputmode=\"decimal\""), std::string::npos);
  EXPECT_NE(quiz.find("2 / 3"), std::string::npos);        // the score
  EXPECT_NE(quiz.find("إجابة خاطئة"), std::string::npos);  // "incorrect" in words, not colour

  auto search = *renderer_.RenderPage("search", Framed(Sample("search"), assets_, i18n_, "en"));
  EXPECT_NE(search.find("<mark>rain</mark>"), std::string::npos);
  EXPECT_NE(search.find("clouds? &lt;b&gt;"), std::string::npos);
  EXPECT_NE(search.find("<option value=\"en\" selected>English</option>"), std::string::npos);
}

// A learner's phone downloads the page, the CSS and the JavaScript; media come later, if asked.
TEST_F(RenderTest, TopicPageWithItsStyleAndScriptWeighsUnder30KB) {
  size_t css = assets_.Get("static/outpost.css")->bytes.size();
  size_t js = assets_.Get("static/outpost.js")->bytes.size();
  for (const UiLanguage& lang : i18n_.Languages()) {
    auto html = renderer_.RenderPage("topic", Framed(Sample("topic"), assets_, i18n_, lang.code));
    ASSERT_TRUE(html);
    std::cout << "topic page (" << lang.code << "): " << html->size() << " bytes + CSS " << css
              << " + JS " << js << " = " << html->size() + css + js << "\n";
    EXPECT_LT(html->size() + css + js, 30u * 1024) << lang.code;
  }
}

TEST(RendererTest, EmptyStringsAndNullAreFalseAndListItemsKnowTheirPlace) {
  TempDir root;
  root.Write("templates/t.mustache",
             "{{#a}}A{{/a}}{{^b}}B{{/b}}{{n}}{{#list}}[{{_number}}{{#_first}}f{{/_first}}"
             "{{#_last}}l{{/_last}}{{x}}]{{/list}}{{#yes}}Y{{/yes}}{{f}}");
  Assets assets = Assets::FromDisk(root.path());
  Renderer renderer(&assets);
  auto out = renderer.Render("t", {{"a", ""},
                                   {"b", nullptr},
                                   {"n", 0},
                                   {"x", "outer"},
                                   {"list", {{{"x", nullptr}}, {{"x", "in"}}}},
                                   {"yes", true},
                                   {"f", 2.5}});
  ASSERT_TRUE(out) << out.error().ToString();
  // null in a list item hides the outer "x" instead of showing it.
  EXPECT_EQ(*out, "B0[1f][2lin]Y2.5");
}

TEST(RendererTest, MissingAndMalformedTemplatesAreErrors) {
  TempDir root;
  root.Write("templates/layout.mustache", "<main>{{> content}}</main>");
  root.Write("templates/broken.mustache", "{{#a}}never closed");
  root.Write("templates/uses_missing.mustache", "{{> nowhere}}");
  root.Write("templates/page.mustache", "{{title}}");
  Assets assets = Assets::FromDisk(root.path());
  Renderer renderer(&assets);
  EXPECT_EQ(*renderer.RenderPage("page", {{"title", "<b>"}}), "<main>&lt;b&gt;</main>");
  EXPECT_EQ(renderer.RenderPage("absent", {}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(renderer.RenderPage("../i18n/en", {}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(renderer.Render("broken", {}).error().code(), StatusCode::kInternal);
  EXPECT_EQ(renderer.RenderPage("broken", {}).error().code(), StatusCode::kInternal);
  EXPECT_EQ(renderer.Render("uses_missing", {}).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace outpost
