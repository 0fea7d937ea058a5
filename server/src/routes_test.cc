// The route table and its handlers without a transport: a request is matched against Routes()
// the way the transport does it (in order, HEAD as GET, the whole path), and the handler fills a
// response in the test's thread. The same URLs over real sockets are in http_server_test.cc.
#include "routes.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <vector>
#include <string_view>

#include "app.h"
#include "auth.h"
#include "http/http_transport.h"
#include "outpost/server/accounts.h"
#include "http/http_message.h"
#include "http/route_pattern.h"
#include "page_cache.h"
#include "pager.h"
#include "outpost/base/text.h"
#include "outpost/content/importer.h"
#include "testing/archives.h"
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
      if (http::RoutePattern(route.pattern).Match(req.path, &req.matches)) return &route;
    }
    return nullptr;
  }

  // Calls the handler of `path`'s route; `handled` says what it returned.
  http::Response Call(std::string method, std::string path, bool on_loop = false,
                      bool* handled = nullptr) {
    http::Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    return Call(req, on_loop, handled);
  }
  // The same for a request with headers or a query ("/search?q=x": params are split off).
  http::Response Call(http::Request req, bool on_loop = false, bool* handled = nullptr) {
    if (size_t q = req.path.find('?'); q != std::string::npos) {
      std::string query = req.path.substr(q + 1);
      req.path.resize(q);
      for (size_t i = 0; i <= query.size();) {
        size_t amp = std::min(query.find('&', i), query.size());
        std::string item = query.substr(i, amp - i);
        size_t eq = item.find('=');
        req.params.emplace(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
        i = amp + 1;
      }
    }
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
    return Body(res);  // a cached page is sent from the cache (body_view)
  }
  // Imports folder `name` (already written under src_).
  void ImportFolder(const std::string& name) {
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / name, {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }

  // A GET of `path` with an Accept-Encoding header (none if empty).
  http::Response GetWith(std::string path, std::string accept_encoding, bool on_loop = false,
                         bool* handled = nullptr) {
    http::Request req;
    req.method = "GET";
    req.path = std::move(path);
    if (!accept_encoding.empty()) req.headers.emplace("Accept-Encoding", accept_encoding);
    return Call(req, on_loop, handled);
  }

  // The body as it would be sent, wherever the response keeps it.
  static std::string Body(const http::Response& res) {
    return res.body_view ? std::string(*res.body_view) : res.body;
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
    EXPECT_TRUE(method == "GET" || method == "POST" || method == "PATCH" || method == "PUT" ||
                method == "DELETE" || method == "OPTIONS")
        << route.pattern;
    EXPECT_NO_THROW(std::regex(route.pattern)) << route.pattern;
    EXPECT_NE(route.handler != nullptr, route.stream != nullptr) << route.pattern;
    if (method != "GET") {
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
  // Files by path: the channel and the path as groups; a channel not in lower case, no path or
  // a line break in it is not a file's URL.
  http::Request file;
  file.path = "/c/ch/unit-1/a.html";
  ASSERT_NE(Match("GET", file), nullptr);
  EXPECT_EQ(file.matches[1], "ch");
  EXPECT_EQ(file.matches[2], "unit-1/a.html");
  EXPECT_EQ(handler_of("GET", "/c/ch/a.html"), handler_of("HEAD", "/c/other/b/c.pdf"));
  EXPECT_NE(handler_of("GET", "/c/ch/a.html"), handler_of("GET", "/static/a.html"));
  for (const char* path : {"/c/ch/", "/c/ch", "/c/CH/a.html", "/c/ch/a\nb", "/c/ch/a\rb"}) {
    EXPECT_EQ(handler_of("GET", path), nullptr) << path;
  }
  EXPECT_NE(handler_of("GET", "/blob/" + std::string(64, 'f')), nullptr);
  EXPECT_EQ(handler_of("GET", "/blob/" + std::string(64, 'F')), nullptr);
}

// The routes an event loop answers (files, assets, blobs) never run std::regex.
TEST_F(RoutesTest, TheRoutesOfFilesAreMatchedWithoutStdRegex) {
  for (const Route& route : Routes()) {
    std::string_view pattern = route.pattern;
    if (pattern.starts_with("/c/") || pattern.starts_with("/static/") ||
        pattern.starts_with("/blob/")) {
      EXPECT_TRUE(http::RoutePattern(route.pattern).by_hand()) << pattern;
    }
  }
}

TEST_F(RoutesTest, APageIsRenderedOnlyOnAWorker) {
  bool handled = true;
  http::Response on_loop = Call("GET", "/t/ch/", /*on_loop=*/true, &handled);
  EXPECT_FALSE(handled) << "nothing is cached yet: the event loop must pass it on";
  EXPECT_FALSE(on_loop.has_body());
  http::Response page = Call("GET", "/t/ch/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(Body(page).find("/r/ch/eleve.html"), std::string::npos);
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
  EXPECT_NE(Body(page).find("Page not found"), std::string::npos);  // its words, not a key
  EXPECT_EQ(Body(page).find("not_found"), std::string::npos);
  http::Response json = Call("GET", "/api/v1/t/ch/nope");
  EXPECT_EQ(json.status, 404);
  EXPECT_EQ(Body(json), R"({"error":"not found"})");
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

// ---- Who may use which route (auth.h): the role walk.

// For each route's pattern: a path it matches, and who may use it. A route added without a
// line here, or whose rule differs from this line's, fails the walk: a rule is changed on
// purpose, in two places.
struct Expected {
  std::string path;
  Access access;
};
constexpr Access kAnyone = Access::kAnyone, kLoggedIn = Access::kLoggedIn,
                 kCoordinator = Access::kCoordinator, kAccount = Access::kAccount,
                 kPublisher = Access::kPublisher, kHubAdmin = Access::kHubAdmin;
const std::map<std::string, Expected> kExpected = {
    {"/", {"/", kAnyone}},
    {R"(/t/([a-z0-9-]+)/?(.*))", {"/t/ch/", kAnyone}},
    {R"(/api/v1/t/([a-z0-9-]+)/?(.*))", {"/api/v1/t/ch/", kAnyone}},
    {R"(/r/([a-z0-9-]+)/(.+))", {"/r/ch/eleve.html", kAnyone}},
    {R"(/api/v1/r/([a-z0-9-]+)/(.+))", {"/api/v1/r/ch/eleve.html", kAnyone}},
    {"/search", {"/search", kAnyone}},
    {"/api/v1/search", {"/api/v1/search", kAnyone}},
    {"/api/v1/suggest", {"/api/v1/suggest", kAnyone}},
    {"/api/v1/home", {"/api/v1/home", kAnyone}},
    {"/api/v1/channels", {"/api/v1/channels", kAnyone}},
    {R"(/lang/([a-zA-Z-]{2,16}))", {"/lang/fr", kAnyone}},
    {"/api/v1/login", {"/api/v1/login", kAnyone}},
    {"/api/v1/setup", {"/api/v1/setup", kAnyone}},
    {"/api/v1/logout", {"/api/v1/logout", kAccount}},
    {"/api/v1/me", {"/api/v1/me", kAccount}},
    {"/api/v1/users", {"/api/v1/users", kCoordinator}},
    {R"(/api/v1/users/([a-z0-9._-]+)/disable)",
     {"/api/v1/users/nobody-here/disable", kCoordinator}},
    {R"(/api/v1/users/([a-z0-9._-]+)/reset)", {"/api/v1/users/nobody-here/reset", kCoordinator}},
    {"/api/v1/uploads", {"/api/v1/uploads", kLoggedIn}},
    {"/api/v1/uploads/form", {"/api/v1/uploads/form", kLoggedIn}},
    {R"(/api/v1/uploads/([0-9a-f]{32}))", {"/api/v1/uploads/" + std::string(32, 'a'), kLoggedIn}},
    {"/api/v1/materials", {"/api/v1/materials", kLoggedIn}},
    {R"(/api/v1/materials/(.+)/edit)", {"/api/v1/materials/nothing.pdf/edit", kLoggedIn}},
    {R"(/api/v1/materials/(.+)/move)", {"/api/v1/materials/nothing.pdf/move", kLoggedIn}},
    {R"(/api/v1/materials/(.+)/delete)", {"/api/v1/materials/nothing.pdf/delete", kLoggedIn}},
    {"/login", {"/login", kAnyone}},
    {"/setup", {"/setup", kAnyone}},
    {"/logout", {"/logout", kAccount}},
    {"/teach/?", {"/teach/", kLoggedIn}},
    {"/teach/place", {"/teach/place", kLoggedIn}},
    {"/teach/edit", {"/teach/edit", kLoggedIn}},
    {"/teach/move", {"/teach/move", kLoggedIn}},
    {"/teach/delete", {"/teach/delete", kLoggedIn}},
    {"/teach/accounts", {"/teach/accounts", kCoordinator}},
    {"/teach/accounts/disable", {"/teach/accounts/disable", kCoordinator}},
    {"/teach/accounts/reset", {"/teach/accounts/reset", kCoordinator}},
    {"/admin/usage", {"/admin/usage", kCoordinator}},
    {"/admin/usage/sharing", {"/admin/usage/sharing", kCoordinator}},
    {"/api/v1/admin/usage", {"/api/v1/admin/usage", kCoordinator}},
    {"/api/v1/admin/usage/sharing", {"/api/v1/admin/usage/sharing", kCoordinator}},
    {"/admin/?", {"/admin/", kCoordinator}},
    {"/admin/channels", {"/admin/channels", kCoordinator}},
    {"/admin/channels/visibility", {"/admin/channels/visibility", kCoordinator}},
    {"/admin/channels/language", {"/admin/channels/language", kCoordinator}},
    {"/admin/health", {"/admin/health", kCoordinator}},
    {"/api/v1/admin/status", {"/api/v1/admin/status", kCoordinator}},
    {"/admin/sync", {"/admin/sync", kCoordinator}},
    {"/admin/jobs/cancel", {"/admin/jobs/cancel", kCoordinator}},
    {"/admin/usb", {"/admin/usb", kCoordinator}},
    {"/admin/usb/write", {"/admin/usb/write", kCoordinator}},
    {"/admin/usb/continue", {"/admin/usb/continue", kCoordinator}},
    {"/admin/usb/read", {"/admin/usb/read", kCoordinator}},
    {"/api/v1/admin/jobs", {"/api/v1/admin/jobs", kCoordinator}},
    {"/api/v1/admin/sync", {"/api/v1/admin/sync", kCoordinator}},
    {"/api/v1/admin/jobs/cancel", {"/api/v1/admin/jobs/cancel", kCoordinator}},
    {"/api/v1/admin/drives", {"/api/v1/admin/drives", kCoordinator}},
    {"/api/v1/admin/usb/export", {"/api/v1/admin/usb/export", kCoordinator}},
    {"/api/v1/admin/usb/import", {"/api/v1/admin/usb/import", kCoordinator}},
    {"/api/v1/admin/policy", {"/api/v1/admin/policy", kCoordinator}},
    {"/admin/sync/policy", {"/admin/sync/policy", kCoordinator}},
    {"/admin/hub/?", {"/admin/hub/", kPublisher}},
    {"/admin/hub/channels", {"/admin/hub/channels", kPublisher}},
    {"/admin/hub/diff", {"/admin/hub/diff", kPublisher}},
    {"/admin/hub/publish", {"/admin/hub/publish", kPublisher}},
    {"/admin/hub/review", {"/admin/hub/review", kPublisher}},
    {"/admin/hub/review/adopt", {"/admin/hub/review/adopt", kPublisher}},
    {"/admin/hub/review/decline", {"/admin/hub/review/decline", kPublisher}},
    {"/admin/hub/sites", {"/admin/hub/sites", kPublisher}},
    {"/admin/hub/usage", {"/admin/hub/usage", kPublisher}},
    {"/admin/hub/schools", {"/admin/hub/schools", kHubAdmin}},
    {"/admin/hub/enrol", {"/admin/hub/enrol", kHubAdmin}},
    {"/admin/hub/revoke", {"/admin/hub/revoke", kHubAdmin}},
    {"/api/v1/hub/summary", {"/api/v1/hub/summary", kPublisher}},
    {"/api/v1/hub/channels", {"/api/v1/hub/channels", kPublisher}},
    {R"(/api/v1/hub/channels/([a-z0-9-]+)/diff)", {"/api/v1/hub/channels/ch/diff", kPublisher}},
    {"/api/v1/hub/publish", {"/api/v1/hub/publish", kPublisher}},
    {"/api/v1/hub/review", {"/api/v1/hub/review", kPublisher}},
    {R"(/api/v1/hub/review/([0-9]{1,18})/adopt)", {"/api/v1/hub/review/1/adopt", kPublisher}},
    {R"(/api/v1/hub/review/([0-9]{1,18})/decline)", {"/api/v1/hub/review/1/decline", kPublisher}},
    {"/api/v1/hub/sites", {"/api/v1/hub/sites", kPublisher}},
    {"/api/v1/hub/usage", {"/api/v1/hub/usage", kPublisher}},
    {"/api/v1/hub/enrolments", {"/api/v1/hub/enrolments", kHubAdmin}},
    {R"(/api/v1/hub/sites/([a-z0-9-]+)/revoke)", {"/api/v1/hub/sites/nobody/revoke", kHubAdmin}},
    {R"(/static/(.+))", {"/static/nothing.css", kAnyone}},
    {R"(/c/([a-z0-9-]+)/(.+))", {"/c/ch/eleve.html", kAnyone}},
    {R"(/blob/([0-9a-f]{64}))", {"/blob/" + std::string(64, '0'), kAnyone}},
    {R"(/app/([a-z0-9-]+)/(.+))", {"/app/ch/x.zip/index.html", kAnyone}},
};

enum class Who {
  kNobody, kLearner, kTeacher, kDisabledTeacher, kCoordinator, kPublisher, kHubAdmin
};
constexpr Who kEveryone[] = {Who::kNobody,      Who::kLearner,   Who::kTeacher,
                             Who::kDisabledTeacher, Who::kCoordinator, Who::kPublisher,
                             Who::kHubAdmin};
const char* NameOf(Who w) {
  switch (w) {
    case Who::kNobody: return "nobody";
    case Who::kLearner: return "a learner";
    case Who::kTeacher: return "a teacher";
    case Who::kDisabledTeacher: return "a disabled teacher";
    case Who::kCoordinator: return "a coordinator";
    case Who::kPublisher: return "a publisher";
    case Who::kHubAdmin: return "a hub admin";
  }
  return "?";
}

bool MayUse(Who who, Access access) {
  switch (access) {
    case Access::kAnyone: return true;
    case Access::kLoggedIn: return who == Who::kTeacher || who == Who::kCoordinator;
    case Access::kCoordinator: return who == Who::kCoordinator;
    case Access::kAccount:
      return who == Who::kTeacher || who == Who::kCoordinator || who == Who::kPublisher ||
             who == Who::kHubAdmin;
    case Access::kPublisher: return who == Who::kPublisher || who == Who::kHubAdmin;
    case Access::kHubAdmin: return who == Who::kHubAdmin;
    case Access::kUnset: return false;
  }
  return false;
}

class RoleWalkTest : public RoutesTest {
 protected:
  void SetUp() override {
    RoutesTest::SetUp();
    AccountStore* accounts = app_->accounts();
    ASSERT_NE(accounts, nullptr);
    ASSERT_TRUE(accounts->Add("amira", Role::kTeacher, "craie blanche 7").ok());
    ASSERT_TRUE(accounts->Add("karim", Role::kTeacher, "craie blanche 8").ok());
    ASSERT_TRUE(accounts->Add("rana", Role::kCoordinator, "tableau noir 5").ok());
    ASSERT_TRUE(accounts->Add("pablo", Role::kPublisher, "carte du pays 1").ok());
    ASSERT_TRUE(accounts->Add("hiba", Role::kHubAdmin, "carte du pays 2").ok());
    auto karim = accounts->Login("karim", "craie blanche 8");
    ASSERT_TRUE(karim.has_value());
    disabled_ = *karim;
    ASSERT_TRUE(accounts->Disable("karim").ok());
  }
  // A live session of `who` (made again after a logout ended it).
  std::optional<Session> SessionOf(Who who) {
    if (who == Who::kDisabledTeacher) return disabled_;
    static const std::map<Who, std::pair<const char*, const char*>> kLogins = {
        {Who::kTeacher, {"amira", "craie blanche 7"}},
        {Who::kCoordinator, {"rana", "tableau noir 5"}},
        {Who::kPublisher, {"pablo", "carte du pays 1"}},
        {Who::kHubAdmin, {"hiba", "carte du pays 2"}}};
    auto login = kLogins.find(who);
    if (login == kLogins.end()) return std::nullopt;
    std::optional<Session>& s = sessions_[who];
    if (!s || !app_->accounts()->FindSession(s->token)) {
      auto fresh = app_->accounts()->Login(login->second.first, login->second.second);
      EXPECT_TRUE(fresh.has_value());
      if (fresh) s = *fresh;
    }
    return s;
  }
  http::Request RequestAs(Who who, const Route& route, const std::string& path) {
    http::Request req;
    req.method = route.method;
    req.path = path;
    req.target = path;
    req.remote_addr = "192.0.2.7";
    if (who == Who::kLearner) req.headers.emplace("Cookie", "lang=fr");
    if (auto s = SessionOf(who)) {
      req.headers.emplace("Cookie", std::string(kSessionCookie) + "=" + s->token);
      req.headers.emplace("X-CSRF-Token", s->csrf);
    }
    return req;
  }

  Session disabled_;
  std::map<Who, std::optional<Session>> sessions_;
};

TEST_F(RoleWalkTest, EveryRouteAnswersEachRoleAsItsRuleSays) {
  for (const Route& route : Routes()) {
    std::string where = std::string(route.method) + " " + route.pattern;
    ASSERT_NE(route.access, Access::kUnset) << where << " has no access rule";
    auto expected = kExpected.find(route.pattern);
    ASSERT_NE(expected, kExpected.end()) << where << ": add it to the role walk's kExpected";
    EXPECT_EQ(route.access, expected->second.access) << where << ": not the rule expected";
    EXPECT_FALSE(route.loop_first && route.access != Access::kAnyone) << where;
    for (Who who : kEveryone) {
      http::Request req = RequestAs(who, route, expected->second.path);
      ASSERT_TRUE(http::RoutePattern(route.pattern).Match(req.path, &req.matches)) << where;
      http::Response res;
      bool allowed = CheckAccess(*app_, route, req, res);
      EXPECT_EQ(allowed, MayUse(who, route.access))
          << where << " as " << NameOf(who) << " (rule: " << AccessName(route.access) << ")";
      if (!allowed) {
        EXPECT_TRUE(res.status == 401 || res.status == 403) << where << " " << res.status;
        continue;
      }
      if (route.stream) {
        std::unique_ptr<http::BodySink> sink = route.stream(*app_, req, res);
        if (sink) {
          sink->Finish(http::BodySink::End::kComplete, res);
        }
      } else {
        route.handler(*app_, req, res, /*on_loop=*/false);
      }
      EXPECT_NE(res.status, 401) << where << " as " << NameOf(who);
      EXPECT_NE(res.status, 403) << where << " as " << NameOf(who);
    }
  }
}

TEST_F(RoleWalkTest, AChangeWithoutTheSessionsCsrfTokenIsRefused) {
  const Route* logout = nullptr;
  for (const Route& r : Routes()) {
    if (std::string_view(r.pattern) == "/api/v1/logout") logout = &r;
  }
  ASSERT_NE(logout, nullptr);
  for (std::string token : {std::string(), std::string(64, 'a'), SessionOf(Who::kCoordinator)->csrf}) {
    http::Request req = RequestAs(Who::kTeacher, *logout, "/api/v1/logout");
    req.headers.erase("X-CSRF-Token");
    if (!token.empty()) req.headers.emplace("X-CSRF-Token", token);  // missing, made up, another's
    http::Response res;
    EXPECT_FALSE(CheckAccess(*app_, *logout, req, res));
    EXPECT_EQ(res.status, 403);
    EXPECT_NE(Body(res).find("CSRF"), std::string::npos) << Body(res);
  }
  http::Request form = RequestAs(Who::kTeacher, *logout, "/api/v1/logout");
  std::string csrf = form.get_header_value("X-CSRF-Token");
  form.headers.erase("X-CSRF-Token");
  form.params.emplace("csrf", csrf);  // a form field does as well
  http::Response res;
  EXPECT_TRUE(CheckAccess(*app_, *logout, form, res));
}

// ---- Small files from memory (hot_files.h).

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST_F(RoutesTest, ASmallFileIsReadOnAWorkerOnceAndThenAnsweredFromMemoryOnTheLoop) {
  std::string text = "<p>Le soleil chauffe l'eau de la mer.</p>\n";
  src_.Write("long/outpost.toml", "[channel]\ntitle = \"Long\"\n");
  src_.Write("long/eleve.html", "<html lang=fr><title>Soleil</title>" + Repeat(text, 40));
  ImportFolder("long");
  auto page = catalog_->NodeByPath("long", "eleve.html");
  ASSERT_TRUE(page.has_value() && page->blob.has_value());
  bool handled = true;
  Call("GET", "/c/long/eleve.html", /*on_loop=*/true, &handled);
  EXPECT_FALSE(handled);  // unknown yet: a worker reads it
  http::Response first = Call("GET", "/c/long/eleve.html", /*on_loop=*/false);
  ASSERT_EQ(first.status, 200);
  std::filesystem::remove(store_->PathOf(*page->blob));  // only memory can answer now
  http::Response again = Call("GET", "/c/long/eleve.html", /*on_loop=*/true, &handled);
  EXPECT_TRUE(handled);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again), Body(first));
  EXPECT_EQ(again.get_header_value("ETag"), "\"" + page->blob->Hex() + "\"");
  EXPECT_TRUE(again.get_header_value("Content-Security-Policy").starts_with("sandbox"));
  http::Response gz = GetWith("/c/long/eleve.html", "gzip", /*on_loop=*/true, &handled);
  EXPECT_TRUE(handled);
  ASSERT_EQ(gz.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(testing::Gunzip(Body(gz)), Body(first));
}

TEST_F(RoutesTest, ASmallFileWhoseBlobIsDamagedIsNeverSent) {
  auto page = catalog_->NodeByPath("ch", "eleve.html");
  ASSERT_TRUE(page.has_value() && page->blob.has_value());
  testing::FlipByte(store_->PathOf(*page->blob), 10);
  for (const char* coding : {"", "gzip", "zstd"}) {
    http::Response res = GetWith("/c/ch/eleve.html", coding);
    EXPECT_EQ(res.status, 500) << coding;
    EXPECT_EQ(Body(res).find("soleil"), std::string::npos) << coding;
  }
}

TEST_F(RoutesTest, RangesAndRevalidationOfASmallFileWorkFromMemory) {
  auto page = catalog_->NodeByPath("ch", "eleve.html");
  ASSERT_TRUE(page.has_value() && page->blob.has_value());
  std::string whole = Body(Call("GET", "/c/ch/eleve.html"));
  http::Request range;
  range.method = "GET";
  range.path = "/c/ch/eleve.html";
  range.headers.emplace("Range", "bytes=6-15");
  http::Response part = Call(range, /*on_loop=*/true);
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(Body(part), whole.substr(6, 10));
  http::Request revalidate;
  revalidate.method = "GET";
  revalidate.path = "/c/ch/eleve.html";
  revalidate.headers.emplace("If-None-Match", "\"" + page->blob->Hex() + "\"");
  EXPECT_EQ(Call(revalidate, /*on_loop=*/true).status, 304);
}


// ---- Compressed pages and views.

TEST_F(RoutesTest, GzipAndZstdPagesDecompressToExactlyTheIdentityPage) {
  for (const char* path : {"/", "/t/ch/", "/r/ch/eleve.html", "/search?q=soleil", "/t/ch/nope",
                           "/api/v1/t/ch/", "/api/v1/search?q=soleil"}) {
    http::Response plain = GetWith(path, "");
    http::Response gz = GetWith(path, "gzip, deflate");
    http::Response zst = GetWith(path, "gzip;q=0.5, zstd");
    EXPECT_EQ(plain.get_header_value("Content-Encoding"), "") << path;
    ASSERT_EQ(gz.get_header_value("Content-Encoding"), "gzip") << path;
    ASSERT_EQ(zst.get_header_value("Content-Encoding"), "zstd") << path;
    EXPECT_EQ(testing::Gunzip(Body(gz)), Body(plain)) << path;
    EXPECT_EQ(testing::Unzstd(Body(zst)), Body(plain)) << path;
    EXPECT_EQ(gz.status, plain.status) << path;
    for (const http::Response* res : {&plain, &gz, &zst}) {
      EXPECT_NE(res->get_header_value("Vary").find("Accept-Encoding"), std::string::npos) << path;
    }
  }
}

TEST_F(RoutesTest, AClientThatAcceptsNoCodingGetsTheIdentityPage) {
  std::string identity = Body(GetWith("/t/ch/", ""));
  for (const char* refusal : {"identity", "gzip;q=0, zstd;q=0", "*;q=0", "br, deflate"}) {
    http::Response res = GetWith("/t/ch/", refusal);
    EXPECT_EQ(res.status, 200) << refusal;
    EXPECT_FALSE(res.has_header("Content-Encoding")) << refusal;
    EXPECT_EQ(Body(res), identity) << refusal;
  }
}

TEST_F(RoutesTest, ACachedPageIsCompressedOncePerCodingAndThenSentFromTheEventLoop) {
  uint64_t before = app_->page_compressions();
  http::Response first = GetWith("/t/ch/", "zstd");  // renders, caches, compresses for zstd
  EXPECT_EQ(first.get_header_value("Content-Encoding"), "zstd");
  EXPECT_EQ(app_->page_compressions(), before + 1);
  bool handled = false;
  http::Response again = GetWith("/t/ch/", "zstd", /*on_loop=*/true, &handled);
  EXPECT_TRUE(handled);
  EXPECT_EQ(Body(again), Body(first));
  EXPECT_EQ(app_->page_compressions(), before + 1) << "a cached page is not compressed again";
  // gzip is not made yet: the event loop passes the request on; a worker makes it, once.
  GetWith("/t/ch/", "gzip", /*on_loop=*/true, &handled);
  EXPECT_FALSE(handled);
  EXPECT_EQ(GetWith("/t/ch/", "gzip").get_header_value("Content-Encoding"), "gzip");
  GetWith("/t/ch/", "gzip", /*on_loop=*/true, &handled);
  EXPECT_TRUE(handled);
  EXPECT_EQ(app_->page_compressions(), before + 2);
  // The body is a view of the cached variant, not a copy.
  http::Response third = GetWith("/t/ch/", "zstd", /*on_loop=*/true, &handled);
  EXPECT_EQ(third.body_view->data(), again.body_view->data());
}

TEST_F(RoutesTest, EachCodingOfAPageHasItsOwnEtagAndRevalidatesTo304) {
  std::map<std::string, std::string> etags;
  for (const char* coding : {"", "gzip", "zstd"}) {
    http::Response res = GetWith("/t/ch/", coding);
    etags[coding] = res.get_header_value("ETag");
    ASSERT_FALSE(etags[coding].empty()) << coding;
    http::Request req;
    req.method = "GET";
    req.path = "/t/ch/";
    if (*coding) req.headers.emplace("Accept-Encoding", coding);
    req.headers.emplace("If-None-Match", etags[coding]);
    http::Response revalidated = Call(req);
    EXPECT_EQ(revalidated.status, 304) << coding;
    EXPECT_FALSE(revalidated.has_body()) << coding;
    // The tag of another coding does not match: the full answer in this coding.
    req.headers.erase("If-None-Match");
    req.headers.emplace("If-None-Match", coding == std::string("gzip") ? etags[""] : "\"x\"");
    EXPECT_EQ(Call(req).status, 200) << coding;
  }
  EXPECT_NE(etags[""], etags["gzip"]);
  EXPECT_NE(etags["gzip"], etags["zstd"]);
  EXPECT_EQ(etags["gzip"], etags[""].substr(0, etags[""].size() - 1) + "-gz\"");
}

TEST_F(RoutesTest, ThePageCacheChargesEachPageForTheVariantsItMayHoldAndKeepsItsBound) {
  PageCache cache(/*max_bytes=*/10000);
  auto page = std::make_shared<const RenderedPage>(std::string(3000, 'a'), "text/html");
  EXPECT_GE(page->MaxBytes(), 3000u + 2 * 2700u);
  cache.Put("a", 1, page);
  EXPECT_EQ(cache.Get("a", 1), page);
  cache.Put("b", 1, std::make_shared<const RenderedPage>(std::string(3000, 'b'), "text/html"));
  EXPECT_EQ(cache.Get("a", 1), nullptr) << "two such pages may come to exceed 10000 bytes";
  cache.Put("huge", 1, std::make_shared<const RenderedPage>(std::string(20000, 'c'), "text/html"));
  EXPECT_EQ(cache.Get("huge", 1), nullptr) << "a page over the bound is not kept";
  EXPECT_EQ(cache.Get("b", 2), nullptr) << "another catalog generation";
}

// ---- Paged lists.

// The hrefs of `html` that start with `prefix`, in order.
std::vector<std::string> Links(const std::string& html, const std::string& prefix) {
  std::vector<std::string> out;
  std::string needle = "href=\"" + prefix;
  for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) {
    size_t start = at + 6;
    out.push_back(html.substr(start, html.find('"', start) - start));
  }
  return out;
}

// The href of the link with rel="next", or "".
std::string NextLink(const std::string& html) {
  size_t at = html.find("rel=\"next\" href=\"");
  if (at == std::string::npos) return "";
  size_t start = at + 17;
  return html.substr(start, html.find('"', start) - start);
}

TEST_F(RoutesTest, ATopicOf5000ResourcesIsPagedUnder30KBGzippedAndEachChildIsReachedOnce) {
  for (int i = 0; i < 5000; ++i) {
    std::string n = std::to_string(10000 + i).substr(1);
    src_.Write("big/many/lesson-" + n + ".html",
               "<html><title>Lesson " + n + ": how water moves through the soil</title>"
               "<p>The water cycle, lesson " + n + ".</p></html>");
  }
  Importer importer(store_.get(), catalog_.get());
  ASSERT_TRUE(importer.Import(src_.path() / "big", {}).has_value());

  std::map<std::string, int> seen;
  int pages = 0;
  for (std::string url = "/t/big/many"; !url.empty() && pages < 200; ++pages) {
    http::Response gz = GetWith(url, "gzip");
    ASSERT_EQ(gz.status, 200) << url;
    EXPECT_LT(Body(gz).size(), 30u * 1024) << url;
    std::string html = testing::Gunzip(Body(gz));
    std::vector<std::string> children = Links(html, "/r/big/many/");
    EXPECT_EQ(children.size(), 50u) << url;
    for (const std::string& child : children) ++seen[child];
    // The API's page is the same page: the same children, in the same order.
    auto api = nlohmann::json::parse(Body(GetWith("/api/v1" + url, "")));
    std::vector<std::string> api_children;
    for (const auto& child : api["children"]) api_children.push_back(child["url"]);
    EXPECT_EQ(api_children, children) << url;
    EXPECT_EQ(api["page"], pages + 1);
    EXPECT_EQ(api["pages"], 100);
    EXPECT_EQ(api["total"], 5000);
    EXPECT_EQ(api["next"].is_null() ? "" : api["next"].get<std::string>(), NextLink(html));
    url = NextLink(html);
  }
  EXPECT_EQ(pages, 100);
  EXPECT_EQ(seen.size(), 5000u);
  for (const auto& [child, count] : seen) EXPECT_EQ(count, 1) << child;
  for (const char* missing : {"/t/big/many?page=101", "/t/big/many?page=0", "/t/big/many?page=x",
                              "/t/big/many?page=-1", "/api/v1/t/big/many?page=101"}) {
    EXPECT_EQ(GetWith(missing, "").status, 404) << missing;
  }
  EXPECT_EQ(GetWith("/t/big/many?page=100", "").status, 200);
  http::Response search = GetWith("/search?q=water", "gzip");
  EXPECT_EQ(search.status, 200);
  EXPECT_LT(Body(search).size(), 30u * 1024) << "a search answers its best 30";
}

TEST_F(RoutesTest, AHomePageOfManyChannelsIsPagedToo) {
  for (int i = 0; i < 60; ++i) {
    std::string id = "course-" + std::to_string(i);
    src_.Write(id + "/outpost.toml", "[channel]\ntitle = \"Course " + std::to_string(i) +
                                         "\"\ndescription = \"Lessons on water and soil.\"\n");
    src_.Write(id + "/a.html", "<title>A</title>");
    Importer importer(store_.get(), catalog_.get());
    ASSERT_TRUE(importer.Import(src_.path() / id, {}).has_value());
  }
  std::set<std::string> seen;
  for (std::string url = "/"; !url.empty();) {
    http::Response gz = GetWith(url, "gzip");
    ASSERT_EQ(gz.status, 200) << url;
    EXPECT_LT(Body(gz).size(), 30u * 1024) << url;
    std::string html = testing::Gunzip(Body(gz));
    for (const std::string& link : Links(html, "/t/")) seen.insert(link);
    url = NextLink(html);
  }
  EXPECT_EQ(seen.size(), 61u);  // "ch" and the 60 courses
  EXPECT_EQ(nlohmann::json::parse(Body(GetWith("/api/v1/home?page=2", "")))["pages"], 2);
  EXPECT_EQ(GetWith("/?page=3", "").status, 404);
}

TEST_F(RoutesTest, AListShowsTheStartOfALongTitleOrDescriptionCutAtACharacter) {
  EXPECT_EQ(ShortText("short", 300), "short");
  std::string arabic;
  for (int i = 0; i < 200; ++i) arabic += "ماء ";  // 4 characters, 7 bytes a word
  std::string cut = ShortText(arabic, kListTextBytes);
  EXPECT_LE(cut.size(), kListTextBytes + 3);  // + "…"
  EXPECT_TRUE(cut.ends_with("ماء…")) << cut;
  EXPECT_TRUE(IsValidUtf8(cut));
  std::string word(1000, 'x');
  EXPECT_EQ(ShortText(word, 10), "xxxxxxxxxx…");
}

// An upload the data disk cannot hold is refused when it is created, before any byte, with a
// message a teacher understands (tus clients show the body).
TEST_F(RoleWalkTest, AnUploadLargerThanTheFreeDiskIsRefusedAtCreationWith507) {
  const Route* create = nullptr;
  for (const Route& r : Routes()) {
    if (std::string_view(r.method) == "POST" && std::string_view(r.pattern) == "/api/v1/uploads") {
      create = &r;
    }
  }
  ASSERT_NE(create, nullptr);
  ASSERT_NE(app_->uploads(), nullptr);
  app_->uploads()->free_bytes = [] { return uint64_t{300} << 20; };  // 300 MB free
  auto ask = [&](uint64_t length) {
    http::Request req = RequestAs(Who::kTeacher, *create, "/api/v1/uploads");
    req.headers.emplace("Tus-Resumable", "1.0.0");
    req.headers.emplace("Upload-Length", std::to_string(length));
    req.headers.emplace("Upload-Metadata", "filename bGVzc29uLm1wNA==");  // lesson.mp4
    http::Response res;
    EXPECT_TRUE(CheckAccess(*app_, *create, req, res));
    create->handler(*app_, req, res, false);
    return res;
  };
  http::Response big = ask(uint64_t{1} << 30);
  EXPECT_EQ(big.status, 507);
  EXPECT_NE(Body(big).find("not enough free space"), std::string::npos) << Body(big);
  EXPECT_TRUE(app_->uploads()->List("amira").empty());
  app_->uploads()->free_bytes = [] { return uint64_t{4} << 30; };
  EXPECT_EQ(ask(uint64_t{1} << 30).status, 201);
}

}  // namespace
}  // namespace outpost
