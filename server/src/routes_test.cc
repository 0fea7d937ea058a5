// The route table and its handlers without a transport: a request is matched against Routes()
// the way the transport does it (in order, HEAD as GET, the whole path), and the handler fills a
// response in the test's thread. The same URLs over real sockets are in http_server_test.cc.
#include "routes.h"

#include <gtest/gtest.h>

#include <regex>
#include <string_view>

#include "app.h"
#include "http/http_message.h"
#include "outpost/content/importer.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_.Write("ch/outpost.toml", "[channel]\ntitle = \"Water\"\n");
    src_.Write("ch/eleve.html", "<html lang=fr><title>L'élève</title><p>Le soleil.</p></html>");
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / "ch", {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
  }

  // The first route for `method` and the request's path, with its groups; null if none.
  static const Route* Match(std::string_view method, http::Request& req) {
    std::string_view as = method == "HEAD" ? std::string_view("GET") : method;
    for (const Route& route : Routes()) {
      if (as != route.method) continue;
      if (std::regex_match(req.path, req.matches, std::regex(route.pattern))) return &route;
    }
    return nullptr;
  }

  // Calls the handler of `path`'s route; `handled` says what it returned.
  http::Response Call(std::string method, std::string path, bool on_loop = false,
                      bool* handled = nullptr) {
    http::Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    http::Response res;
    const Route* route = Match(req.method, req);
    EXPECT_NE(route, nullptr) << req.method << " " << req.path;
    if (!route) return res;
    bool answered = route->handler(*app_, req, res, on_loop);
    if (handled) *handled = answered;
    return res;
  }

  // GET `path` (with at most one plain query parameter) in interface language `lang` (its
  // `lang` cookie); the body.
  std::string GetIn(std::string lang, std::string path) {
    http::Request req;
    req.method = "GET";
    req.target = path;
    size_t query = path.find('?');  // one NAME=VALUE at most, plain
    if (query != std::string::npos) {
      std::string param = path.substr(query + 1);
      size_t eq = param.find('=');
      req.params.emplace(param.substr(0, eq), eq == std::string::npos ? "" : param.substr(eq + 1));
      path.resize(query);
    }
    req.path = std::move(path);
    req.headers.emplace("Cookie", "lang=" + lang);
    http::Response res;
    const Route* route = Match(req.method, req);
    EXPECT_NE(route, nullptr) << req.path;
    if (route) route->handler(*app_, req, res, false);
    EXPECT_EQ(res.status, 200) << req.path;
    return res.body;
  }
  // Imports folder `name` (already written under src_).
  void ImportFolder(const std::string& name) {
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / name, {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }

  TempDir data_, src_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
};

TEST_F(RoutesTest, ArabicAndFrenchPagesShowTheSubjectGradeAndLicenceInTheirOwnWords) {
  src_.Write("sci/outpost.toml",
             "[topic]\ngrade = \"3\"\nsubject = \"science\"\nlicense = \"CC BY-SA 4.0\"\n");
  src_.Write("sci/lesson.html", "<html lang=en><title>Plants</title><p>Leaves.</p></html>");
  ImportFolder("sci");
  std::string ar = GetIn("ar", "/r/sci/lesson.html");
  EXPECT_NE(ar.find("المادة: العلوم"), std::string::npos) << ar;
  EXPECT_NE(ar.find("المستوى: الصف الثالث"), std::string::npos);
  EXPECT_NE(ar.find("نسب المصنف - الترخيص بالمثل (CC BY-SA 4.0)"), std::string::npos);
  EXPECT_EQ(ar.find(": science"), std::string::npos);
  std::string fr = GetIn("fr", "/r/sci/lesson.html");
  EXPECT_NE(fr.find("Matière\u00a0: Sciences"), std::string::npos) << fr;
  EXPECT_NE(fr.find("Niveau\u00a0: 3e année"), std::string::npos);
  EXPECT_NE(fr.find("CC BY-SA 4.0 (Attribution – Partage dans les mêmes conditions)"),
            std::string::npos);
  EXPECT_NE(GetIn("fr", "/t/sci/").find("Matière\u00a0: Sciences"), std::string::npos);
  EXPECT_NE(GetIn("fr", "/search?q=plants").find(">3e année</option>"), std::string::npos);
  // The API gives the value as stored and the words shown.
  std::string api = GetIn("fr", "/api/v1/r/sci/lesson.html");
  EXPECT_NE(api.find(R"("subject":"science")"), std::string::npos) << api;
  EXPECT_NE(api.find(R"("subject_label":"Sciences")"), std::string::npos);
}

TEST_F(RoutesTest, AChannelsOwnLabelsShowPerLanguageAndUnknownValuesAsWritten) {
  src_.Write("geo/outpost.toml", R"(
[topic]
grade = "CM2"
subject = "Géographie locale"
license = "Licence de l'école"

[labels.subject."Géographie locale"]
en = "Local geography"
ar = "الجغرافيا المحلية"

[labels.grade.CM2]
en = "Year 6"
)");
  src_.Write("geo/map.html", "<html lang=fr><title>La carte</title><p>Le village.</p></html>");
  ImportFolder("geo");
  std::string en = GetIn("en", "/r/geo/map.html");
  EXPECT_NE(en.find("Subject: Local geography"), std::string::npos) << en;
  EXPECT_NE(en.find("Grade: Year 6"), std::string::npos);
  std::string ar = GetIn("ar", "/r/geo/map.html");
  EXPECT_NE(ar.find("المادة: الجغرافيا المحلية"), std::string::npos) << ar;
  EXPECT_NE(ar.find("المستوى: CM2"), std::string::npos);  // no Arabic label: as written
  std::string fr = GetIn("fr", "/r/geo/map.html");
  EXPECT_NE(fr.find("Matière\u00a0: Géographie locale"), std::string::npos) << fr;
  EXPECT_NE(fr.find("<dd dir=\"auto\">Licence de l&apos;école</dd>"), std::string::npos);
  // The labels are the channel's own: another channel's "CM2" is not "Year 6".
  src_.Write("other/outpost.toml", "[topic]\ngrade = \"CM2\"\n");
  src_.Write("other/a.html", "<html lang=fr><title>A</title></html>");
  ImportFolder("other");
  EXPECT_NE(GetIn("en", "/r/other/a.html").find("Grade: CM2"), std::string::npos);
}

TEST_F(RoutesTest, EveryPatternCompilesAndOnlyGetRoutesTryTheEventLoop) {
  ASSERT_FALSE(Routes().empty());
  for (const Route& route : Routes()) {
    std::string_view method = route.method;
    EXPECT_TRUE(method == "GET" || method == "POST") << route.pattern;
    EXPECT_NO_THROW(std::regex(route.pattern)) << route.pattern;
    if (method == "POST") {
      EXPECT_FALSE(route.loop_first) << route.pattern;
    }
  }
}

TEST_F(RoutesTest, EachUrlFindsTheRouteMeantForIt) {
  auto handler_of = [](std::string method, std::string path) -> RouteHandler {
    http::Request req;
    req.path = std::move(path);
    const Route* route = Match(method, req);
    return route ? route->handler : nullptr;
  };
  // A page and its view-model share a handler; the API's own URLs are not taken for pages.
  EXPECT_EQ(handler_of("GET", "/t/ch/a"), handler_of("GET", "/api/v1/t/ch/a"));
  EXPECT_EQ(handler_of("POST", "/r/ch/q.json"), handler_of("HEAD", "/r/ch/q.json"));
  EXPECT_EQ(handler_of("GET", "/"), handler_of("GET", "/api/v1/home"));
  EXPECT_NE(handler_of("GET", "/api/v1/suggest"), handler_of("GET", "/api/v1/search"));
  // Not routed: another method, a hash that is not 64 hex digits, a path the table lacks.
  EXPECT_EQ(handler_of("POST", "/t/ch/a"), nullptr);
  EXPECT_EQ(handler_of("GET", "/blob/abc"), nullptr);
  EXPECT_EQ(handler_of("GET", "/api/v2/home"), nullptr);
}

TEST_F(RoutesTest, APageIsRenderedOnlyOnAWorker) {
  bool handled = true;
  http::Response on_loop = Call("GET", "/t/ch/", /*on_loop=*/true, &handled);
  EXPECT_FALSE(handled) << "nothing is cached yet: the event loop must pass it on";
  EXPECT_FALSE(on_loop.has_body());
  http::Response page = Call("GET", "/t/ch/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("/r/ch/eleve.html"), std::string::npos);
}

TEST_F(RoutesTest, MissingFilesAreShortTextsAndMissingPagesThe404Page) {
  for (const char* path : {"/c/ch/nope.mp4", "/c/ch/../eleve.html",
                           "/blob/0000000000000000000000000000000000000000000000000000000000000000",
                           "/app/ch/nope.zip/index.html"}) {
    http::Response res = Call("GET", path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(res.body, "Not found") << path;
  }
  http::Response page = Call("GET", "/t/ch/nope");
  EXPECT_EQ(page.status, 404);
  EXPECT_EQ(page.get_header_value("Content-Type"), "text/html; charset=utf-8");
  http::Response json = Call("GET", "/api/v1/t/ch/nope");
  EXPECT_EQ(json.status, 404);
  EXPECT_EQ(json.body, R"({"error":"not found"})");
}

TEST_F(RoutesTest, ABlobIsSentByHashOnlyWhenAServedVersionNamesIt) {
  auto page = catalog_->NodeByPath("ch", "eleve.html");
  ASSERT_TRUE(page.has_value() && page->blob.has_value());
  EXPECT_EQ(Call("GET", "/blob/" + page->blob->Hex()).status, 200);
  // In the store but in no version learners see: a withdrawn version's file, a staged one's,
  // another school's upload at a hub.
  auto stray = store_->Put("<p>not for learners</p>");
  ASSERT_TRUE(stray.has_value());
  http::Response res = Call("GET", "/blob/" + stray->hash.Hex());
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, "Not found");
}

TEST_F(RoutesTest, AStoredPageIsServedInTheSandbox) {
  http::Response res = Call("GET", "/c/ch/eleve.html");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_TRUE(res.get_header_value("Content-Security-Policy").starts_with("sandbox allow-scripts"));
}

// A manifest from elsewhere (a synced version) names the MIME type as it likes: the sandbox must
// not depend on its case, its parameters or which XML dialect it names.
TEST_F(RoutesTest, AFileWhoseManifestMimeTypeIsSpelledOddlyIsStillServedInTheSandbox) {
  for (const char* mime : {"Text/HTML", "TEXT/html ; charset=utf-8", "application/xhtml+xml",
                           "Image/SVG+XML", "application/mathml+xml"}) {
    auto draft = catalog_->LoadVersion("ch", catalog_->Channel("ch")->served_version);
    ASSERT_TRUE(draft.has_value()) << draft.error().ToString();
    for (DraftNode& node : draft->root.children) {
      if (node.path == "eleve.html") node.mime = mime;
    }
    ASSERT_TRUE(catalog_->CommitVersion(*draft).has_value()) << mime;
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
    http::Response res = Call("GET", "/c/ch/eleve.html");
    EXPECT_EQ(res.status, 200) << mime;
    EXPECT_TRUE(res.get_header_value("Content-Security-Policy").starts_with("sandbox allow-scripts"))
        << mime;
  }
}

}  // namespace
}  // namespace outpost
