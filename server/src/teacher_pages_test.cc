// The teachers' pages without a socket: forms are posted the way the transport hands them over
// (x-www-form-urlencoded fields in Request::params), through Routes(), CheckAccess and the
// handler in the test's thread. What each form does is the API's (material_routes_test.cc,
// routes_test.cc); here: that the forms reach it, answer with a redirect or the page with a
// message in the teacher's language, and that no page made for a session can be kept or seen
// by a learner.
#include "teacher_pages.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "app.h"
#include "http/http_message.h"
#include "http/route_pattern.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/school_materials.h"
#include "testing/temp_dir.h"
#include "uploads.h"

namespace outpost {
namespace {

using testing::TempDir;
using Fields = std::map<std::string, std::string>;

constexpr char kPassword[] = "craie blanche 7";

class TeacherPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
    ASSERT_NE(app_->accounts(), nullptr);
  }
  void AddAccounts() {
    ASSERT_TRUE(app_->accounts()->Add("rana", Role::kCoordinator, kPassword).ok());
    ASSERT_TRUE(app_->accounts()->Add("amira", Role::kTeacher, kPassword).ok());
  }

  // `method` `path` with the form `fields`, as `who` (a live session, with its CSRF token in
  // the form unless `csrf` is false; "" for a learner with no session). `path` may hold a query.
  http::Response Send(const std::string& method, std::string path, Fields fields = {},
                      const std::string& who = "", bool csrf = true) {
    http::Request req;
    req.method = method;
    req.target = path;
    req.remote_addr = "192.0.2.9";
    if (size_t q = path.find('?'); q != std::string::npos) {
      std::string query = path.substr(q + 1);
      path.resize(q);
      size_t eq = query.find('=');
      fields.emplace(query.substr(0, eq), query.substr(eq + 1));
    }
    req.path = path;
    if (!who.empty()) {
      const Session& s = SessionOf(who);
      req.headers.emplace("Cookie", std::string(kSessionCookie) + "=" + s.token);
      if (csrf) fields.emplace("csrf", s.csrf);
    }
    for (const auto& [k, v] : fields) req.params.emplace(k, v);
    http::Response res;
    for (const Route& r : Routes()) {
      if (method != r.method || !http::RoutePattern(r.pattern).Match(req.path, &req.matches)) {
        continue;
      }
      if (CheckAccess(*app_, r, req, res)) r.handler(*app_, req, res, false);
      return res;
    }
    ADD_FAILURE() << "no route for " << method << " " << path;
    return res;
  }
  const Session& SessionOf(const std::string& who) {
    if (!sessions_.count(who)) {  // one login each: Argon2id takes its time
      auto s = app_->accounts()->Login(who, kPassword);
      EXPECT_TRUE(s.has_value()) << who;
      if (s) sessions_[who] = *s;
    }
    return sessions_[who];
  }
  static std::string Body(const http::Response& res) {
    return res.body_view ? std::string(*res.body_view) : res.body;
  }
  std::string Uploaded(const std::string& name, const std::string& content) {
    auto info = app_->uploads()->Create("amira", content.size(), name);
    EXPECT_TRUE(info.has_value());
    auto transfer = app_->uploads()->Begin(info->id, "amira", 0);
    EXPECT_TRUE(transfer.has_value());
    EXPECT_TRUE((*transfer)
                    ->Write({reinterpret_cast<const uint8_t*>(content.data()), content.size()})
                    .ok());
    EXPECT_TRUE((*transfer)->Commit().has_value());
    return info->id;
  }

  TempDir data_;
  std::map<std::string, Session> sessions_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
};

TEST_F(TeacherPagesTest, TheFirstRunPageMakesTheCoordinatorWithTheSetupCodeOnlyOnce) {
  http::Response login = Send("GET", "/login");
  EXPECT_EQ(login.status, 303);  // no coordinator yet: the first-run page
  EXPECT_EQ(login.get_header_value("Location"), "/setup");
  http::Response page = Send("GET", "/setup");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(Body(page).find("name=\"code\""), std::string::npos);
  EXPECT_EQ(page.get_header_value("Cache-Control"), "no-store");

  auto code = app_->accounts()->NewSetupCode();
  ASSERT_TRUE(code.has_value() && code->has_value());
  Fields fields = {{"code", "WRONG-CODE"}, {"name", "rana"}, {"password", kPassword}};
  http::Response wrong = Send("POST", "/setup", fields);
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(Body(wrong).find("Wrong setup code"), std::string::npos) << Body(wrong);
  EXPECT_FALSE(app_->accounts()->HasCoordinator());

  fields["code"] = **code;
  http::Response made = Send("POST", "/setup", fields);
  ASSERT_EQ(made.status, 303) << Body(made);
  EXPECT_EQ(made.get_header_value("Location"), "/teach/");
  EXPECT_NE(made.get_header_value("Set-Cookie").find(kSessionCookie), std::string::npos);
  EXPECT_TRUE(app_->accounts()->HasCoordinator());
  EXPECT_EQ(Send("GET", "/setup").status, 303);  // never again
  EXPECT_EQ(Send("POST", "/setup", fields).status, 422);
}

TEST_F(TeacherPagesTest, LoginSaysAWrongPasswordAndTheLockoutInMinutesInTheTeachersLanguage) {
  AddAccounts();
  EXPECT_EQ(Send("GET", "/login").status, 200);
  Fields fields = {{"name", "amira"}, {"password", "not it at all"}};
  for (int i = 1; i < AccountStore::kMaxFailures; ++i) {
    http::Response wrong = Send("POST", "/login", fields);
    EXPECT_EQ(wrong.status, 422);
    EXPECT_NE(Body(wrong).find("Wrong name or password."), std::string::npos);
    EXPECT_FALSE(wrong.has_header("Set-Cookie"));
  }
  // The wrong password that locks the account says so at once, and so does the right one after.
  for (const char* password : {"not it at all", kPassword}) {
    fields["password"] = password;
    http::Response locked = Send("POST", "/login", fields);
    EXPECT_EQ(locked.status, 422);
    EXPECT_FALSE(locked.has_header("Set-Cookie"));
    EXPECT_NE(Body(locked).find("this account is locked. Try again in 15 minute(s)"),
              std::string::npos)
        << Body(locked);
  }

  fields["name"] = "rana";
  fields["back"] = "//elsewhere.example/";  // never another site
  http::Response in = Send("POST", "/login", fields);
  ASSERT_EQ(in.status, 303) << Body(in);
  EXPECT_EQ(in.get_header_value("Location"), "/");
  EXPECT_NE(in.get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);
}

TEST_F(TeacherPagesTest, ALoginFormPostedFromAnotherSiteOrALessonsSandboxIsRefused) {
  AddAccounts();
  for (std::string origin : {"http://elsewhere.example", "null", "http://box.local:8080"}) {
    http::Request req;
    req.method = "POST";
    req.path = req.target = "/login";
    req.headers.emplace("Host", "box.local");
    req.headers.emplace("Origin", origin);
    req.params = {{"name", "amira"}, {"password", kPassword}};
    http::Response res;
    teacher_pages::LoginForm(*app_, req, res, false);
    EXPECT_EQ(res.status, 403) << origin;
    EXPECT_FALSE(res.has_header("Set-Cookie")) << origin;
    req.path = req.target = "/setup";
    http::Response setup;
    teacher_pages::SetupForm(*app_, req, setup, false);
    EXPECT_EQ(setup.status, 403) << origin;
  }
  http::Request same;
  same.method = "POST";
  same.path = same.target = "/login";
  same.headers.emplace("Host", "box.local:8080");
  same.headers.emplace("Origin", "http://box.local:8080");
  same.params = {{"name", "amira"}, {"password", kPassword}};
  http::Response res;
  teacher_pages::LoginForm(*app_, same, res, false);
  EXPECT_EQ(res.status, 303);
}

TEST_F(TeacherPagesTest, AFrenchTeacherReadsTheLockoutInFrench) {
  AddAccounts();
  ASSERT_TRUE(app_->accounts()->Add("lina", Role::kTeacher, kPassword).ok());
  for (int i = 0; i < AccountStore::kMaxFailures; ++i) (void)app_->accounts()->Login("lina", "x");
  http::Request req;
  req.method = "POST";
  req.path = req.target = "/login";
  req.headers.emplace("Accept-Language", "fr");
  req.params = {{"name", "lina"}, {"password", kPassword}};
  http::Response res;
  teacher_pages::LoginForm(*app_, req, res, false);
  EXPECT_NE(Body(res).find("ce compte est bloqué. Réessayez dans 15 minute(s)"), std::string::npos)
      << Body(res);
}

TEST_F(TeacherPagesTest, ALearnerGetsTheLoginPageAndNeverATeachersData) {
  AddAccounts();
  std::string id = Uploaded("secret-plan.html", "<title>Plan de classe</title>");
  for (const char* path :
       {"/teach/", "/teach", "/teach/edit?path=x.html", "/teach/delete?path=x"}) {
    http::Response res = Send("GET", path);
    EXPECT_EQ(res.status, 401) << path;
    EXPECT_NE(Body(res).find("action=\"/login\""), std::string::npos) << path;
    EXPECT_EQ(Body(res).find("secret-plan"), std::string::npos) << path;
    EXPECT_EQ(res.get_header_value("Cache-Control"), "no-store") << path;
  }
  for (const char* path :
       {"/teach/place", "/teach/edit", "/teach/move", "/teach/delete", "/logout"}) {
    EXPECT_EQ(Send("POST", path, {{"upload", id}, {"path", "x"}}).status, 401) << path;
    // A teacher's session without its CSRF token (another site's form) is refused too.
    EXPECT_EQ(Send("POST", path, {{"upload", id}}, "amira", /*csrf=*/false).status, 403) << path;
  }
  http::Response mine = Send("GET", "/teach/", {}, "amira");
  ASSERT_EQ(mine.status, 200) << Body(mine);
  EXPECT_NE(Body(mine).find("secret-plan.html"), std::string::npos);
  EXPECT_EQ(mine.get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(Body(Send("GET", "/teach/", {}, "rana")).find("secret-plan"), std::string::npos);
}

TEST_F(TeacherPagesTest, AnUploadIsPlacedEditedMovedAndDeletedWithPlainForms) {
  AddAccounts();
  std::string id = Uploaded("cycle.html", "<html lang=fr><title>Cycle</title><p>Le soleil.</p>");
  http::Response page = Send("GET", "/teach/", {}, "amira");
  std::string csrf = SessionOf("amira").csrf;
  EXPECT_NE(
      Body(page).find("/api/v1/uploads/form?back=%2Fteach%2F%3Fdone%3Duploaded&amp;csrf=" + csrf),
      std::string::npos);
  EXPECT_NE(Body(page).find("name=\"upload\" value=\"" + id + "\""), std::string::npos);

  Fields place = {{"upload", id},     {"topic", "Grade 5 / Science"},
                  {"title", ""},      {"description", "CM2"},
                  {"language", "fr"}, {"license", "CC0 1.0"}};
  http::Response refused = Send("POST", "/teach/place", place, "amira");
  EXPECT_EQ(refused.status,
            422);  // a title may not be empty: the page says so, with the API's words
  EXPECT_NE(Body(refused).find("Something typed cannot be used"), std::string::npos);
  EXPECT_NE(Body(refused).find("title may not be empty"), std::string::npos) << Body(refused);

  place["title"] = "Le cycle de l'eau";
  http::Response placed = Send("POST", "/teach/place", place, "amira");
  ASSERT_EQ(placed.status, 303) << Body(placed);
  EXPECT_EQ(placed.get_header_value("Location"), "/teach/?done=placed");
  std::string path = "grade-5/science/le-cycle-de-l-eau.html";
  auto hits = catalog_->Search("soleil");
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].path, path);
  std::string listed = Body(Send("GET", "/teach/?done=placed", {}, "amira"));
  EXPECT_NE(listed.find("Placed: learners can see it now."), std::string::npos);
  EXPECT_NE(listed.find("/teach/edit?path=grade-5%2Fscience%2Fle-cycle-de-l-eau.html"),
            std::string::npos);

  http::Response edit = Send("GET", "/teach/edit?path=" + path, {}, "amira");
  ASSERT_EQ(edit.status, 200);
  EXPECT_NE(Body(edit).find("value=\"CC0 1.0\""), std::string::npos);
  http::Response saved =
      Send("POST", "/teach/edit", {{"path", path}, {"title", "Le cycle de l'eau"}, {"grade", "5"}},
           "amira");
  ASSERT_EQ(saved.status, 303) << Body(saved);
  EXPECT_EQ(catalog_->Search("soleil")->at(0).path, path);

  http::Response moved =
      Send("POST", "/teach/move", {{"path", path}, {"topic", "Grade 6 / Science"}}, "amira");
  ASSERT_EQ(moved.status, 303) << Body(moved);
  path = "grade-6/science/le-cycle-de-l-eau.html";
  EXPECT_EQ(catalog_->Search("soleil")->at(0).path, path);

  http::Response confirm = Send("GET", "/teach/delete?path=" + path, {}, "amira");
  ASSERT_EQ(confirm.status, 200);
  EXPECT_NE(Body(confirm).find("Learners will no longer see it"), std::string::npos);
  EXPECT_EQ(Send("GET", "/teach/delete?path=nothing.html", {}, "amira").status, 404);
  http::Response gone = Send("POST", "/teach/delete", {{"path", path}}, "amira");
  ASSERT_EQ(gone.status, 303) << Body(gone);
  EXPECT_TRUE(catalog_->Search("soleil")->empty());
  http::Response again = Send("POST", "/teach/delete", {{"path", path}}, "amira");
  EXPECT_EQ(again.status, 404);  // nothing left to confirm: the 404 page
}

TEST_F(TeacherPagesTest, LogoutEndsTheSessionAndGoesToTheLoginPage) {
  AddAccounts();
  std::string token = SessionOf("amira").token;
  http::Response out = Send("POST", "/logout", {}, "amira");
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.get_header_value("Location"), "/login");
  EXPECT_NE(out.get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_FALSE(app_->accounts()->FindSession(token).has_value());
}

TEST_F(TeacherPagesTest, TheCoordinatorAddsResetsAndDisablesTeachersOnTheAccountsPage) {
  AddAccounts();
  EXPECT_EQ(Send("GET", "/teach/accounts", {}, "amira").status, 403);  // not a teacher's
  EXPECT_EQ(Send("GET", "/teach/accounts").status, 401);
  EXPECT_EQ(Send("POST", "/teach/accounts", {{"name", "x"}}, "amira").status, 403);
  http::Response page = Send("GET", "/teach/accounts", {}, "rana");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(Body(page).find("<bdi>amira</bdi>"), std::string::npos);

  Fields add = {{"name", "karim"}, {"role", "teacher"}, {"password", "short"}};
  http::Response refused = Send("POST", "/teach/accounts", add, "rana");
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(Body(refused).find("Something typed cannot be used"), std::string::npos);
  add["password"] = "tableau noir 9";
  http::Response added = Send("POST", "/teach/accounts", add, "rana");
  ASSERT_EQ(added.status, 303) << Body(added);
  EXPECT_EQ(added.get_header_value("Location"), "/teach/accounts?done=added");
  EXPECT_TRUE(app_->accounts()->Login("karim", "tableau noir 9").has_value());
  EXPECT_NE(Body(Send("POST", "/teach/accounts", add, "rana")).find("already has that name"),
            std::string::npos);

  http::Response reset = Send("POST", "/teach/accounts/reset",
                              {{"name", "karim"}, {"password", "craie rouge 12"}}, "rana");
  ASSERT_EQ(reset.status, 303) << Body(reset);
  EXPECT_TRUE(app_->accounts()->Login("karim", "craie rouge 12").has_value());
  http::Response disabled = Send("POST", "/teach/accounts/disable", {{"name", "karim"}}, "rana");
  ASSERT_EQ(disabled.status, 303) << Body(disabled);
  EXPECT_FALSE(app_->accounts()->Login("karim", "craie rouge 12").has_value());
  EXPECT_EQ(Send("POST", "/teach/accounts/disable", {{"name", "nobody"}}, "rana").status, 422);
}

}  // namespace
}  // namespace outpost
