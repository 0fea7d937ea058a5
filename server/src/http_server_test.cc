// The learner-facing server end to end over real sockets: a real server on port 0 serving a
// small imported channel, driven with cpp-httplib's client.
#include "outpost/server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "outpost/content/importer.h"
#include "outpost/content/maintenance.h"
#include "hot_files.h"
#include "portal.h"
#include "sha1.h"
#include "auth.h"
#include "outpost/server/accounts.h"
#include "outpost/server/variant_check.h"
#include "outpost/sync/usage.h"
#include "testing/archives.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServerConfig{}); }
  void Start(ServerConfig config, bool small_pool = true) {
    src_.Write("ch/outpost.toml", "[channel]\ntitle = \"Water\"\n[topic]\ngrade = \"5\"\n");
    src_.Write("ch/fr/eleve.html",
               "<html lang=fr><title>L'élève</title><p>Le soleil chauffe la mer.</p>"
               "<img src='../img/sun.svg'></html>");
    src_.Write("ch/img/sun.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    video_ = std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(500000, 3);
    src_.Write("ch/clip.mp4", video_);
    src_.Write("ch/clip.fr.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n");
    src_.Write("ch/quiz.exercise.json",
               R"({"title":"Quiz","questions":[{"type":"numeric","prompt":"2+2?","answer":4,)"
               R"("feedback":"Two and two make four."},)"
               R"({"type":"text","prompt":"Capitale ?","answers":["Beyrouth"]}]})");
    testing::WriteZip(src_.path() / "ch" / "game.zip",
             {{"index.html", "<script src='js/app.js'></script>"}, {"js/app.js", "run()"}});
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / "ch", {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    config.host = "127.0.0.1";
    config.port = 0;
    if (small_pool) config.threads = 8;
    server_ = std::make_unique<HttpServer>(config, store_.get(), catalog_.get());
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { (void)server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Result Get(const std::string& path, httplib::Headers headers = {}) {
    return client_->Get(path.c_str(), headers);
  }

  TempDir data_, src_;
  std::string video_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, HomeTopicAndResourcePagesRender) {
  auto home = Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("href=\"/t/ch/\""), std::string::npos);
  EXPECT_NE(home->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  auto topic = Get("/t/ch/");
  ASSERT_TRUE(topic);
  EXPECT_EQ(topic->status, 200);
  EXPECT_NE(topic->body.find("href=\"/r/ch/clip.mp4\""), std::string::npos) << topic->body;
  auto video = Get("/r/ch/clip.mp4");
  EXPECT_NE(video->body.find("<video"), std::string::npos);
  EXPECT_NE(video->body.find("/c/ch/clip.fr.vtt"), std::string::npos);  // subtitles
  EXPECT_EQ(Get("/t/ch/nope")->status, 404);
  EXPECT_EQ(Get("/r/ch/fr")->status, 404);  // a topic is not a resource
}

// A view is a resource page opened (rendered or from the page cache, answered on an event
// loop or a worker); its file, its ranges, its JSON and a HEAD are not (docs/usage.md). The
// counts reach usage.db at the latest when the server stops.
TEST_F(HttpServerTest, EachResourcePageOpenedCountsOnceAndItsFilesDoNot) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get("/r/ch/clip.mp4")->status, 200);
  EXPECT_EQ(Get("/c/ch/clip.mp4", {{"Range", "bytes=0-99"}})->status, 206);
  EXPECT_EQ(Get("/c/ch/clip.mp4")->status, 200);
  EXPECT_EQ(Get("/api/v1/r/ch/clip.mp4")->status, 200);
  EXPECT_EQ(client_->Head("/r/ch/clip.mp4")->status, 200);
  EXPECT_EQ(Get("/r/ch/nope.mp4")->status, 404);
  EXPECT_EQ(Get("/static/nothing.css")->status, 404);
  server_->Stop();
  thread_.join();
  server_.reset();  // the last flush
  auto usage = UsageStore::Open(data_.path() / "usage.db");
  ASSERT_TRUE(usage.has_value());
  auto top = (*usage)->Top("", 0, INT32_MAX, 10);
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(*top, (std::vector<UsageResourceTotal>{{"ch", "clip.mp4", 3}}));
}

TEST_F(HttpServerTest, APageChangesAsSoonAsANewVersionIsServed) {
  auto before = Get("/t/ch/fr");
  ASSERT_EQ(before->status, 200);
  EXPECT_EQ(Get("/t/ch/fr")->body, before->body);  // (served from the page cache)
  src_.Write("ch/fr/nouveau.html", "<title>Une nouvelle leçon</title><p>Bonjour</p>");
  Importer importer(store_.get(), catalog_.get());
  ASSERT_TRUE(importer.Import(src_.path() / "ch", {}).has_value());
  auto after = Get("/t/ch/fr");
  EXPECT_NE(after->body.find("Une nouvelle leçon"), std::string::npos);
}

TEST_F(HttpServerTest, TheApiReturnsTheViewModelOfThePage) {
  auto api = Get("/api/v1/t/ch/");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->get_header_value("Content-Type"), "application/json; charset=utf-8");
  auto view = nlohmann::json::parse(api->body);
  EXPECT_EQ(view["channel"]["id"], "ch");
  EXPECT_GE(view["children"].size(), 4u);
  auto r = nlohmann::json::parse(Get("/api/v1/r/ch/clip.mp4")->body);
  EXPECT_EQ(r["resource"]["is_video"], true);
  EXPECT_EQ(r["resource"]["subtitles"][0]["language"], "fr");
  EXPECT_EQ(Get("/api/v1/t/ch/nope")->status, 404);
}

TEST_F(HttpServerTest, ExercisesAreCheckedOnTheBoxWithoutJavaScript) {
  auto page = Get("/r/ch/quiz.exercise.json");
  EXPECT_NE(page->body.find("name=\"q0\""), std::string::npos);
  auto answered = client_->Post("/r/ch/quiz.exercise.json", "q0=4&q1=beyrouth",
                                "application/x-www-form-urlencoded");
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
  EXPECT_NE(answered->body.find("Two and two make four."), std::string::npos);
  auto api = client_->Post("/api/v1/r/ch/quiz.exercise.json", "q0=5&q1=Beyrouth",
                           "application/x-www-form-urlencoded");
  auto view = nlohmann::json::parse(api->body);
  EXPECT_EQ(view["exercise"]["score"]["correct"], 1);
  EXPECT_EQ(view["exercise"]["questions"][0]["correct"], false);
  EXPECT_EQ(view["exercise"]["questions"][1]["correct"], true);
}

TEST_F(HttpServerTest, SearchRanksFiltersAndSuggests) {
  auto page = Get("/search?q=eleve");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("/r/ch/fr/eleve.html"), std::string::npos);
  EXPECT_NE(page->body.find("<mark>"), std::string::npos);
  auto filtered = nlohmann::json::parse(Get("/api/v1/search?q=eleve&kind=video")->body);
  EXPECT_EQ(filtered["count"], 0);
  auto fr = nlohmann::json::parse(Get("/api/v1/search?q=eleve&language=fr")->body);
  EXPECT_EQ(fr["count"], 1);
  auto suggest = nlohmann::json::parse(Get("/api/v1/suggest?q=ele")->body);
  ASSERT_FALSE(suggest["suggestions"].empty());
  EXPECT_EQ(suggest["suggestions"][0]["url"], "/r/ch/fr/eleve.html");
}

TEST_F(HttpServerTest, LanguageFollowsTheCookieThenAcceptLanguage) {
  auto ar = Get("/", {{"Accept-Language", "ar,fr;q=0.5"}});
  EXPECT_NE(ar->body.find("dir=\"rtl\""), std::string::npos);
  auto fr = Get("/", {{"Accept-Language", "ar"}, {"Cookie", "lang=fr"}});
  EXPECT_NE(fr->body.find("lang=\"fr\""), std::string::npos);
  auto set = Get("/lang/fr?back=/t/ch/");
  EXPECT_EQ(set->status, 303);
  EXPECT_EQ(set->get_header_value("Location"), "/t/ch/");
  EXPECT_NE(set->get_header_value("Set-Cookie").find("lang=fr"), std::string::npos);
  // No open redirect.
  for (const char* back : {"//evil.example/", "https://evil.example/", "/\\evil.example"}) {
    auto r = Get(std::string("/lang/fr?back=") + httplib::detail::encode_query_param(back));
    EXPECT_EQ(r->get_header_value("Location"), "/") << back;
  }
}

TEST_F(HttpServerTest, FilesAreServedByPathWithRangesAndEtags) {
  auto res = Get("/c/ch/fr/eleve.html");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  // Imported pages run in a sandbox: an opaque origin, away from the box's pages and /api.
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("sandbox allow-scripts"),
            std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Security-Policy").find("allow-same-origin"),
            std::string::npos);
  std::string etag = res->get_header_value("ETag");
  // (A 304 carries the Content-Length a 200 would have, which RFC 9110 allows but cpp-httplib's
  // client then waits for as a body: ask with HEAD.)
  EXPECT_EQ(client_->Head("/c/ch/fr/eleve.html", {{"If-None-Match", etag}})->status, 304);
  auto part = Get("/c/ch/clip.mp4", {{"Range", "bytes=1000-1999"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, video_.substr(1000, 1000));
  auto tail = Get("/c/ch/clip.mp4", {{"Range", "bytes=-100"}});
  EXPECT_EQ(tail->body, video_.substr(video_.size() - 100));
  EXPECT_EQ(Get("/c/ch/clip.mp4", {{"Range", "bytes=999999999-"}})->status, 416);
  auto download = Get("/c/ch/clip.mp4?download=1");
  EXPECT_NE(download->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
}

TEST_F(HttpServerTest, AppsAreServedFromInsideTheirZip) {
  auto index = Get("/app/ch/game.zip/index.html");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("js/app.js"), std::string::npos);
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("sandbox"), std::string::npos);
  EXPECT_EQ(Get("/app/ch/game.zip/js/app.js")->body, "run()");
  for (const char* bad : {"/app/ch/game.zip/../quiz.exercise.json", "/app/ch/game.zip/%2e%2e/x",
                          "/app/ch/game.zip//etc/passwd", "/app/ch/game.zip/js\\app.js",
                          "/app/ch/game.zip/missing.html", "/app/ch/clip.mp4/index.html"}) {
    auto r = Get(bad);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 404) << bad;
  }
  auto page = Get("/r/ch/game.zip");
  EXPECT_NE(page->body.find("/app/ch/game.zip/index.html"), std::string::npos);
}

TEST_F(HttpServerTest, TraversalFindsNothing) {
  for (const char* path :
       {"/c/ch/../ch/clip.mp4", "/c/ch/%2e%2e/%2e%2e/etc/passwd", "/c/ch/..%2f..%2fcatalog.db",
        "/c/ch//etc/passwd", "/c/ch/fr\\..\\clip.mp4", "/c/ch/clip.mp4%00.html",
        "/c/ch/%c0%ae%c0%ae/catalog.db", "/blob/../catalog.db", "/t/ch/../../etc",
        "/r/ch/%2e%2e/catalog.db", "/static/../catalog.db", "/static/%2e%2e%2fcatalog.db"}) {
    auto res = Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_TRUE(res->status == 404 || res->status == 400) << path << " " << res->status;
  }
}

TEST_F(HttpServerTest, OversizedRequestsAreRefused) {
  auto long_url = Get("/search?q=" + std::string(20000, 'a'));
  ASSERT_TRUE(long_url);
  EXPECT_EQ(long_url->status, 414);
  auto long_header = Get("/", {{"X-Big", std::string(20000, 'a')}});
  ASSERT_TRUE(long_header);
  EXPECT_EQ(long_header->status, 431);
  httplib::Headers many;
  for (int i = 0; i < 200; ++i) many.emplace("X-H" + std::to_string(i), "v");
  auto too_many = Get("/", many);
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 431);
}

TEST_F(HttpServerTest, StaticAssetsAreImmutableAndCompressed) {
  auto home = Get("/");
  size_t at = home->body.find("/static/outpost.");
  ASSERT_NE(at, std::string::npos);
  std::string url = home->body.substr(at, home->body.find('"', at) - at);
  auto css = Get(url, {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_NE(css->get_header_value("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_EQ(Get("/static/outpost.000000000000.css")->status, 404);
}

// ---- Accounts over HTTP (docs/accounts.md): what a script does.

class LoginTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    auto accounts = AccountStore::Open(data_.path() / "accounts.db");  // as `outpost users`
    ASSERT_TRUE(accounts.has_value());
    ASSERT_TRUE((*accounts)->Add("rana", Role::kCoordinator, "tableau noir 5").ok());
  }
  httplib::Result LogIn(const std::string& name, const std::string& password) {
    nlohmann::json body = {{"name", name}, {"password", password}};
    return client_->Post("/api/v1/login", body.dump(), "application/json");
  }
  // "outpost_session=TOKEN" from a Set-Cookie value.
  static std::string CookieOf(const httplib::Result& res) {
    std::string set = res->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
  }
};

TEST_F(LoginTest, AScriptLogsInUsesItsSessionAndLogsOut) {
  auto login = LogIn("rana", "tableau noir 5");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  std::string set = login->get_header_value("Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_NE(set.find("Path=/"), std::string::npos) << set;
  EXPECT_EQ(login->get_header_value("Cache-Control"), "no-store");
  auto session = nlohmann::json::parse(login->body);
  EXPECT_EQ(session["name"], "rana");
  EXPECT_EQ(session["role"], "coordinator");
  std::string csrf = session["csrf"];
  httplib::Headers cookie = {{"Cookie", CookieOf(login)}};
  auto me = Get("/api/v1/me", cookie);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200);
  EXPECT_EQ(nlohmann::json::parse(me->body)["csrf"], csrf);
  auto users = Get("/api/v1/users", cookie);
  ASSERT_TRUE(users);
  EXPECT_EQ(users->status, 200);
  EXPECT_EQ(nlohmann::json::parse(users->body)[0]["name"], "rana");
  httplib::Headers with_token = {{"Cookie", CookieOf(login)}, {"X-CSRF-Token", csrf}};
  auto out = client_->Post("/api/v1/logout", with_token, "", "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/me", cookie)->status, 401);
}

TEST_F(LoginTest, ACoordinatorAddsATeacherWhoCannotManageAccounts) {
  auto login = LogIn("rana", "tableau noir 5");
  ASSERT_TRUE(login && login->status == 200);
  std::string csrf = nlohmann::json::parse(login->body)["csrf"];
  httplib::Headers headers = {{"Cookie", CookieOf(login)}, {"X-CSRF-Token", csrf}};
  nlohmann::json teacher = {{"name", "amira"}, {"role", "teacher"}, {"password", "craie blanche 7"}};
  auto added = client_->Post("/api/v1/users", headers, teacher.dump(), "application/json");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 201) << added->body;
  auto forged = client_->Post("/api/v1/users", {{"Cookie", CookieOf(login)}}, teacher.dump(),
                              "application/json");  // no CSRF token: as a form on another site
  EXPECT_EQ(forged->status, 403);
  auto amira = LogIn("amira", "craie blanche 7");
  ASSERT_TRUE(amira && amira->status == 200);
  EXPECT_EQ(Get("/api/v1/users", {{"Cookie", CookieOf(amira)}})->status, 403);
  EXPECT_EQ(Get("/api/v1/me", {{"Cookie", CookieOf(amira)}})->status, 200);
}

TEST_F(LoginTest, WrongPasswordsAreRefusedAndOneAddressIsHeldBackAfterTen) {
  auto wrong = LogIn("rana", "not the password");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->body.find("wrong name or password"), std::string::npos) << wrong->body;
  EXPECT_EQ(wrong->get_header_value("Set-Cookie"), "");
  for (int i = 1; i < LoginLimiter::kMaxFailures; ++i) LogIn("nobody" + std::to_string(i), "x");
  auto held = LogIn("rana", "tableau noir 5");  // even the right password, from this address
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 429);
  EXPECT_NE(held->body.find("too many wrong attempts from this device"), std::string::npos);
  EXPECT_NE(held->get_header_value("Retry-After"), "");
  EXPECT_EQ(client_->Post("/api/v1/login", "name=rana", "application/x-www-form-urlencoded")->status,
            429);
}

TEST_F(LoginTest, ABodyThatIsNotAJsonObjectIsABadRequest) {
  for (const char* body : {"", "[]", "{", "name=rana&password=x"}) {
    auto res = client_->Post("/api/v1/login", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
  }
}

// The first coordinator, from the setup code `serve` prints while there is none.
TEST_F(HttpServerTest, TheSetupCodeMakesTheFirstCoordinatorAndLogsThemInOnce) {
  auto accounts = AccountStore::Open(data_.path() / "accounts.db");
  ASSERT_TRUE(accounts.has_value());
  auto code = (*accounts)->NewSetupCode();
  ASSERT_TRUE(code.has_value() && code->has_value());
  nlohmann::json body = {{"code", **code}, {"name", "rana"}, {"password", "tableau noir 5"}};
  auto wrong = body;
  wrong["code"] = "aaaa-bbbb-cccc-dddd";
  auto refused = client_->Post("/api/v1/setup", wrong.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  auto made = client_->Post("/api/v1/setup", body.dump(), "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 200) << made->body;
  EXPECT_EQ(nlohmann::json::parse(made->body)["role"], "coordinator");
  EXPECT_NE(made->get_header_value("Set-Cookie").find("outpost_session="), std::string::npos);
  body["name"] = "intruder";
  auto again = client_->Post("/api/v1/setup", body.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 403);
  EXPECT_FALSE((*accounts)->Find("intruder").has_value());
}

// A failing card under a text page that browsers fetch compressed: the page's blob, or its
// compressed copy, goes wrong on disk. No answer ever carries the wrong bytes, compressed or
// not, before verify, after it, after the page is imported again, or after a restart. The page
// is larger than the files the server holds in memory (hot_files.h, checked as they are read),
// so that its compressed copies live on disk, in DATA/cache.
class DamagedCardTest : public HttpServerTest {
 protected:
  void SetUp() override {
    while (page_.size() <= 2 * HotFiles::kMaxFileBytes) {
      page_ += "<p>La pluie tombe " + std::to_string(page_.size());
    }
    src_.Write("ch/fr/pluie.html", page_);
    Start(ServerConfig{});
    client_->set_decompress(false);
    hash_ = Hash::Of(page_);
  }
  // The page as received with `coding` ("gzip", "zstd" or "" for none), decompressed; empty if
  // the answer is not a 200.
  std::string Fetch(const std::string& coding) {
    auto res =
        Get("/c/ch/fr/pluie.html", {{"Accept-Encoding", coding.empty() ? "identity" : coding}});
    if (!res || res->status != 200) return {};
    std::string sent = res->get_header_value("Content-Encoding");
    EXPECT_EQ(sent, coding);
    if (sent == "gzip") return testing::Gunzip(res->body);
    if (sent == "zstd") return testing::Unzstd(res->body);
    return res->body;
  }
  // What `verify` does: re-hash and quarantine blobs, then check the compressed copies.
  void Verify() {
    ASSERT_TRUE(outpost::Verify(store_.get(), catalog_.get()).has_value());
    ASSERT_TRUE(CheckCompressedVariants(*store_).has_value());
  }
  void Restart() {
    TearDown();
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.threads = 8;
    server_ = std::make_unique<HttpServer>(config, store_.get(), catalog_.get());
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { (void)server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_decompress(false);
  }
  void ImportAgain() {
    Importer importer(store_.get(), catalog_.get());
    ASSERT_TRUE(importer.Import(src_.path() / "ch", {}).has_value());
  }
  // Every answer for the page is either the right bytes or no 200 at all.
  void ExpectNoWrongBytes() {
    for (const char* coding : {"", "gzip", "zstd"}) {
      std::string got = Fetch(coding);
      if (!got.empty()) {
        EXPECT_TRUE(got == page_) << "wrong bytes sent with coding " << coding;
      }
    }
  }

  std::string page_;
  Hash hash_;
};

TEST_F(DamagedCardTest, ADamagedBlobIsNeverSentCompressedAndComesBackWhole) {
  testing::FlipByte(store_->PathOf(hash_), 12345, 0x04);
  EXPECT_TRUE(Fetch("gzip").empty());  // not compressed from damaged bytes: a 500
  EXPECT_TRUE(Fetch("zstd").empty());
  Verify();
  ExpectNoWrongBytes();
  EXPECT_TRUE(Fetch("gzip").empty());
  Restart();
  EXPECT_TRUE(Fetch("gzip").empty());
  ImportAgain();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding) == page_) << coding;
  Restart();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding) == page_) << coding;
}

TEST_F(DamagedCardTest, QuarantineDropsTheVariantsMadeBeforeTheDamage) {
  ASSERT_TRUE(Fetch("gzip") == page_);
  ASSERT_TRUE(Fetch("zstd") == page_);
  testing::FlipByte(store_->PathOf(hash_), 12345, 0x04);
  Verify();
  EXPECT_FALSE(std::filesystem::exists(data_.path() / "cache" / (hash_.Hex() + ".gz")));
  EXPECT_FALSE(std::filesystem::exists(data_.path() / "cache" / (hash_.Hex() + ".zst")));
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding).empty()) << coding;
  Restart();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding).empty()) << coding;
  ImportAgain();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding) == page_) << coding;
}

TEST_F(DamagedCardTest, ADamagedCompressedCopyIsRemovedByVerifyAndMadeAgain) {
  ASSERT_TRUE(Fetch("gzip") == page_);
  ASSERT_TRUE(Fetch("zstd") == page_);
  for (const char* ext : {".gz", ".zst"}) {
    auto path = data_.path() / "cache" / (hash_.Hex() + ext);
    testing::FlipByte(path, std::filesystem::file_size(path) / 2, 0x20);
  }
  Verify();
  ExpectNoWrongBytes();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding) == page_) << coding;
  Restart();
  for (const char* coding : {"", "gzip", "zstd"}) EXPECT_TRUE(Fetch(coding) == page_) << coding;
}

// A classroom: 200 phones hold keep-alive connections open (idle after one request each) and 20
// of them stream video; a phone that comes now is still served, without waiting for any of
// them to go.
class ClassroomTest : public HttpServerTest {
 protected:
  void SetUp() override {
    ServerConfig config;  // the defaults are what a box runs,
    // but idle connections stay for ten minutes, far past the late phone's safety deadline: a
    // server that made it wait for one to time out fails, however slow the machine.
    config.keep_alive_seconds = 600;
    Start(config, /*small_pool=*/false);
  }
  // Phone `i` connects from its own address, 127.0.1.i (any of 127.0.0.0/8 is local on
  // Linux), as each phone has its own on the classroom's network.
  int Connect(int i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f000100u + static_cast<uint32_t>(i));
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
};

TEST_F(ClassroomTest, IdleKeepAliveConnectionsDoNotHoldUpANewPhone) {
  std::vector<int> phones;
  for (int i = 0; i < 200; ++i) {
    int fd = Connect(i + 1);
    std::string req = i < 20 ? "GET /c/ch/clip.mp4 HTTP/1.1\r\nHost: box\r\nRange: bytes=0-\r\n\r\n"
                             : "GET /t/ch/ HTTP/1.1\r\nHost: box\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    char buf[512];
    ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0) << "phone " << i;  // answered, then idle
    phones.push_back(fd);
  }
  httplib::Client late("127.0.0.1", server_->port());
  late.set_connection_timeout(60);  // a safety net, not a measure
  late.set_read_timeout(60);
  auto res = late.Get("/t/ch/");
  ASSERT_TRUE(res) << "a new phone waited behind idle connections";
  EXPECT_EQ(res->status, 200);
  for (int fd : phones) ::close(fd);
}

class BusySearchTest : public HttpServerTest {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.max_searches = 0;  // every search finds the gate closed
    config.search_wait_ms = 1;
    Start(config);
  }
};

TEST_F(BusySearchTest, ASearchThatCannotRunSaysBusyAtOnce) {
  auto res = Get("/search?q=eleve");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(Get("/t/ch/")->status, 200);  // pages are not held up
}

// ---- Uploads over tus 1.0 (docs/web-api.md, "Uploads"): what tus clients and curl do.

std::string B64(std::string_view in) {
  std::string out(sodium_base64_encoded_len(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()),
                    in.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

std::string Sha1Header(std::string_view data) {
  Sha1 h;
  h.Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  auto d = h.Final();
  return "sha1 " + B64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

class TusTest : public LoginTest {
 protected:
  void SetUp() override {
    LoginTest::SetUp();
    auto accounts = AccountStore::Open(data_.path() / "accounts.db");
    ASSERT_TRUE(accounts.has_value());
    ASSERT_TRUE((*accounts)->Add("amira", Role::kTeacher, "craie blanche 7").ok());
    ASSERT_TRUE((*accounts)->Add("bilal", Role::kTeacher, "craie blanche 8").ok());
    amira_ = As("amira", "craie blanche 7");
  }
  httplib::Headers As(const std::string& name, const std::string& password) {
    auto login = LogIn(name, password);
    EXPECT_TRUE(login && login->status == 200);
    if (!login || login->status != 200) return {};
    return {{"Cookie", CookieOf(login)},
            {"X-CSRF-Token", nlohmann::json::parse(login->body)["csrf"].get<std::string>()},
            {"Tus-Resumable", "1.0.0"}};
  }
  // POST /api/v1/uploads; the Location's path.
  std::string Create(size_t length, const std::string& filename,
                     const httplib::Headers& who) {
    httplib::Headers h = who;
    h.emplace("Upload-Length", std::to_string(length));
    h.emplace("Upload-Metadata", "filename " + B64(filename) + ",filetype " + B64("x/y"));
    auto res = client_->Post("/api/v1/uploads", h, "", "application/offset+octet-stream");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 201) << res->body;
    EXPECT_EQ(res->get_header_value("Tus-Resumable"), "1.0.0");
    return res->get_header_value("Location");
  }
  httplib::Result Patch(const std::string& where, uint64_t offset, std::string_view data,
                        httplib::Headers h, const std::string& checksum = "") {
    h.emplace("Upload-Offset", std::to_string(offset));
    if (!checksum.empty()) h.emplace("Upload-Checksum", checksum);
    return client_->Patch(where.c_str(), h, data.data(), data.size(),
                          "application/offset+octet-stream");
  }
  uint64_t OffsetOf(const std::string& where) {
    auto head = client_->Head(where.c_str(), amira_);
    EXPECT_TRUE(head && head->status == 200);
    return head ? std::stoull(head->get_header_value("Upload-Offset", 0).empty()
                                  ? "0" : head->get_header_value("Upload-Offset", 0))
                : 0;
  }
  httplib::Headers amira_;
};

TEST_F(TusTest, AScriptUploadsAFileInTwoPatchesAndFindsItFinished) {
  auto options = client_->Options("/api/v1/uploads", amira_);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 204);
  EXPECT_EQ(options->get_header_value("Tus-Version"), "1.0.0");
  EXPECT_NE(options->get_header_value("Tus-Extension").find("creation"), std::string::npos);
  EXPECT_NE(options->get_header_value("Tus-Extension").find("termination"), std::string::npos);
  EXPECT_NE(options->get_header_value("Tus-Checksum-Algorithm").find("sha1"), std::string::npos);
  std::string pdf = "%PDF-1.4\n" + testing::RandomBytes(3 << 20, 11);
  std::string where = Create(pdf.size(), "Fractions – CM2.pdf", amira_);
  ASSERT_TRUE(where.starts_with("/api/v1/uploads/")) << where;
  EXPECT_EQ(OffsetOf(where), 0u);
  std::string_view first = std::string_view(pdf).substr(0, 1 << 20);
  auto one = Patch(where, 0, first, amira_, Sha1Header(first));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 204) << one->body;
  EXPECT_EQ(one->get_header_value("Upload-Offset"), std::to_string(1 << 20));
  EXPECT_FALSE(one->get_header_value("Upload-Expires").empty());
  EXPECT_EQ(OffsetOf(where), 1u << 20);
  auto two = Patch(where, 1 << 20, std::string_view(pdf).substr(1 << 20), amira_);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, 204) << two->body;
  EXPECT_EQ(two->get_header_value("Upload-Offset"), std::to_string(pdf.size()));
  auto list = Get("/api/v1/uploads", amira_);
  ASSERT_TRUE(list && list->status == 200);
  auto uploads = nlohmann::json::parse(list->body)["uploads"];
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0]["filename"], "Fractions – CM2.pdf");
  EXPECT_EQ(uploads[0]["finished"], true);
  EXPECT_EQ(uploads[0]["kind"], "document");
  auto parts = std::filesystem::directory_iterator(data_.path() / "uploads");
  for (const auto& e : parts) {
    if (e.path().extension() == ".part") {
      EXPECT_TRUE(testing::ReadFile(e.path()) == pdf);
    }
  }
  // Termination.
  auto gone = client_->Delete(where.c_str(), amira_);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 204);
  EXPECT_EQ(client_->Head(where.c_str(), amira_)->status, 404);
}

TEST_F(TusTest, WrongOffsetsChecksumsTypesVersionsAndTokensAreRefusedAndChangeNothing) {
  std::string where = Create(1000, "a.txt", amira_);
  std::string data(1000, 'a');
  EXPECT_EQ(Patch(where, 5, data, amira_)->status, 409);
  auto bad_sum = Patch(where, 0, data, amira_, Sha1Header("something else"));
  ASSERT_TRUE(bad_sum);
  EXPECT_EQ(bad_sum->status, 460) << bad_sum->body;
  EXPECT_EQ(OffsetOf(where), 0u);  // the request's bytes were dropped
  EXPECT_EQ(Patch(where, 0, data, amira_, "md5 AAAA")->status, 400);
  httplib::Headers no_version = amira_;
  no_version.erase("Tus-Resumable");
  auto old = Patch(where, 0, data, no_version);
  EXPECT_EQ(old->status, 412);
  EXPECT_EQ(old->get_header_value("Tus-Version"), "1.0.0");
  auto wrong_type = client_->Patch(where.c_str(), amira_, data.data(), data.size(), "text/plain");
  EXPECT_EQ(wrong_type->status, 415);
  httplib::Headers forged = amira_;
  forged.erase("X-CSRF-Token");
  forged.emplace("X-CSRF-Token", "forged");
  EXPECT_EQ(Patch(where, 0, data, forged)->status, 403);
  EXPECT_EQ(client_->Delete(where.c_str(), forged)->status, 403);
  EXPECT_EQ(OffsetOf(where), 0u);
  // Too much for the declared length: refused, nothing kept.
  EXPECT_EQ(Patch(where, 0, data + "x", amira_)->status, 400);
  EXPECT_EQ(OffsetOf(where), 0u);
  EXPECT_EQ(Patch(where, 0, data, amira_, Sha1Header(data))->status, 204);
  EXPECT_EQ(OffsetOf(where), 1000u);
}

TEST_F(TusTest, BadNamesAndSizesAreRefusedBeforeAnyByte) {
  auto create = [&](const std::string& length, const std::string& meta) {
    httplib::Headers h = amira_;
    h.emplace("Upload-Length", length);
    h.emplace("Upload-Metadata", meta);
    return client_->Post("/api/v1/uploads", h, "", "text/plain")->status;
  };
  EXPECT_EQ(create("10", "filename " + B64("../../etc/passwd")), 400);
  EXPECT_EQ(create("10", "filename " + B64("bad\xff.pdf")), 400);
  EXPECT_EQ(create("10", "filename not-base64!"), 400);
  EXPECT_EQ(create("ten", "filename " + B64("a.pdf")), 400);
  EXPECT_EQ(create("-1", "filename " + B64("a.pdf")), 400);
  EXPECT_EQ(create(std::to_string((4096ull << 20) + 1), "filename " + B64("a.pdf")), 413);
  EXPECT_EQ(Get("/api/v1/uploads", amira_)->body, R"({"uploads":[]})");
}

TEST_F(TusTest, LearnersAndOtherTeachersCannotReachAnUpload) {
  std::string where = Create(10, "a.txt", amira_);
  httplib::Headers bilal = As("bilal", "craie blanche 8");
  EXPECT_EQ(client_->Head(where.c_str(), bilal)->status, 404);
  EXPECT_EQ(Patch(where, 0, "0123456789", bilal)->status, 404);
  EXPECT_EQ(client_->Delete(where.c_str(), bilal)->status, 404);
  httplib::Headers learner = {{"Tus-Resumable", "1.0.0"}};
  EXPECT_EQ(client_->Head(where.c_str(), learner)->status, 401);
  EXPECT_EQ(Patch(where, 0, "0123456789", learner)->status, 401);
  EXPECT_EQ(client_->Post("/api/v1/uploads", learner, "", "text/plain")->status, 401);
  EXPECT_EQ(Get("/api/v1/uploads")->status, 401);
  EXPECT_EQ(OffsetOf(where), 0u);
}

// The Wi-Fi drops mid-file: the bytes that arrived stay, HEAD says how many, and the upload
// resumes from there.
TEST_F(TusTest, ADroppedConnectionKeepsWhatArrivedAndTheUploadResumesFromThere) {
  std::string video = std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(2 << 20, 5);
  std::string where = Create(video.size(), "lesson.mp4", amira_);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string head = "PATCH " + where + " HTTP/1.1\r\nHost: box\r\n";
  for (const auto& [k, v] : amira_) head += k + ": " + v + "\r\n";
  head += "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
          "Content-Length: " + std::to_string(video.size()) + "\r\n\r\n";
  std::string sent = head + video.substr(0, 700000);
  ASSERT_EQ(::send(fd, sent.data(), sent.size(), MSG_NOSIGNAL), static_cast<ssize_t>(sent.size()));
  ::close(fd);  // the Wi-Fi drops
  // The server learns of the cut on its own time: ask until the offset moves (no sleep; a
  // safety deadline only, far past what any working server takes).
  uint64_t offset = 0;
  int status = 0;
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = Get(where, amira_);
    ASSERT_TRUE(info && info->status == 200);
    offset = nlohmann::json::parse(info->body)["offset"].get<uint64_t>();
    if (offset == 0) continue;
    auto rest = Patch(where, offset, std::string_view(video).substr(offset), amira_);
    ASSERT_TRUE(rest);
    status = rest->status;
    body = rest->body;
    if (status != 423) break;  // 423: the cut request still holds the upload
  }
  ASSERT_GT(offset, 0u);
  EXPECT_LE(offset, 700000u);
  EXPECT_EQ(status, 204) << body;
  auto info = nlohmann::json::parse(Get(where, amira_)->body);
  EXPECT_EQ(info["finished"], true);
  EXPECT_EQ(info["kind"], "video");
  for (const auto& e : std::filesystem::directory_iterator(data_.path() / "uploads")) {
    if (e.path().extension() == ".part") {
      EXPECT_TRUE(testing::ReadFile(e.path()) == video);
    }
  }
}

// The upload form without JavaScript: several files in one multipart POST, the CSRF token in
// the query.
TEST_F(TusTest, ThePlainFormUploadsSeveralFilesAtOnce) {
  std::string pdf = "%PDF-1.4\n" + testing::RandomBytes(700000, 21);
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + testing::RandomBytes(50000, 22);
  httplib::MultipartFormDataItems items = {
      {"files", pdf, "Fiche.pdf", "application/pdf"},
      {"files", png, "tableau.png", "image/png"},
      {"files", "", "", "application/octet-stream"},  // an empty file input
  };
  httplib::Headers cookie = {{"Cookie", amira_.find("Cookie")->second}};
  std::string csrf = amira_.find("X-CSRF-Token")->second;
  auto res = client_->Post(("/api/v1/uploads/form?csrf=" + csrf).c_str(), cookie, items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  auto uploads = nlohmann::json::parse(res->body)["uploads"];
  ASSERT_EQ(uploads.size(), 2u);
  EXPECT_EQ(uploads[0]["filename"], "Fiche.pdf");
  EXPECT_EQ(uploads[0]["kind"], "document");
  EXPECT_EQ(uploads[0]["length"], pdf.size());
  EXPECT_EQ(uploads[1]["kind"], "image");
  EXPECT_EQ(uploads[1]["finished"], true);
  // With a page to go back to: 303 there.
  auto back = client_->Post(("/api/v1/uploads/form?back=%2Fteach%2F&csrf=" + csrf).c_str(),
                            cookie, httplib::MultipartFormDataItems{{"f", "x", "x.txt", "text/plain"}});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 303);
  EXPECT_EQ(back->get_header_value("Location"), "/teach/");
  // Without the token, or as a learner: refused, nothing stored.
  EXPECT_EQ(client_->Post("/api/v1/uploads/form", cookie, items)->status, 403);
  EXPECT_EQ(client_->Post(("/api/v1/uploads/form?csrf=" + csrf).c_str(), items)->status, 401);
  EXPECT_EQ(nlohmann::json::parse(Get("/api/v1/uploads", amira_)->body)["uploads"].size(), 3u);
}

// The captive portal over real sockets (portal.h; the route-level cases are in portal_test.cc).
class PortalServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.portal_name = "outpost.lan";
    Start(config);
  }
};

TEST_F(PortalServerTest, AConnectivityCheckOfAForeignHostIsRedirectedUncached) {
  for (const char* method : {"GET", "HEAD"}) {
    httplib::Request req;
    req.method = method;
    req.path = "/generate_204";
    req.headers = {{"Host", "connectivitycheck.gstatic.com"}};
    auto res = client_->send(req);
    ASSERT_TRUE(res) << method;
    EXPECT_EQ(res->status, 302) << method;
    EXPECT_EQ(res->get_header_value("Location"), "http://outpost.lan/");
    EXPECT_NE(res->get_header_value("Cache-Control").find("no-store"), std::string::npos);
  }
  auto post = client_->Post("/login", {{"Host", "captive.apple.com"}}, "name=a&password=b",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 302);
  // A streamed upload's PATCH is redirected before its body is taken.
  auto patch = client_->Patch("/api/v1/uploads/0123456789abcdef0123456789abcdef",
                              {{"Host", "example.com"}}, "abc", "application/offset+octet-stream");
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->status, 302);
}

TEST_F(PortalServerTest, TheBoxsNameAndAddressAreAnsweredAsWithoutAPortal) {
  auto home = Get("/", {{"Host", "outpost.lan"}});
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  // The check URLs asked of the box itself are no check: no route, a 404, as always.
  for (std::string_view path : kConnectivityCheckPaths) {
    for (const char* host : {"outpost.lan", "10.42.0.1", "127.0.0.1:80"}) {
      auto check = Get(std::string(path), {{"Host", host}});
      ASSERT_TRUE(check);
      EXPECT_EQ(check->status, 404) << host << path;
    }
  }
  auto by_address = Get("/t/ch/");  // Host: 127.0.0.1:PORT
  ASSERT_TRUE(by_address);
  EXPECT_EQ(by_address->status, 200);
}

TEST_F(HttpServerTest, WithoutAPortalNameAForeignHostIsServed) {
  auto res = Get("/", {{"Host", "google.com"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  auto check = Get("/generate_204", {{"Host", "connectivitycheck.gstatic.com"}});
  ASSERT_TRUE(check);
  EXPECT_EQ(check->status, 404);
}

}  // namespace
}  // namespace outpost
