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

  TempDir data_, src_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
};

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
