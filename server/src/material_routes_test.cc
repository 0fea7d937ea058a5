// The teachers' materials API without a socket: requests are matched against Routes(), let
// through CheckAccess as a teacher's session, and answered by the handlers in the test's
// thread. Uploads are made in the App's own upload store, as the tus routes leave them.
#include "material_routes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "http/http_message.h"
#include "outpost/content/importer.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/school_materials.h"
#include "outpost/sync/sync_db.h"
#include "testing/fault_env.h"
#include "testing/route_client.h"
#include "testing/temp_dir.h"
#include "uploads.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FaultEnv;
using testing::RouteClient;
using testing::TempDir;

std::string Page(const std::string& title, const std::string& text) {
  return "<html lang=fr><title>" + title + "</title><p>" + text + "</p></html>";
}

class MaterialRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    store_ = std::move(*BlobStore::Open(data_.path(), &env_));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    app_ = std::make_unique<App>(ServerConfig{}, store_.get(), catalog_.get());
    ASSERT_NE(app_->accounts(), nullptr);
    ASSERT_NE(app_->uploads(), nullptr);
    for (const char* name : {"amira", "karim"}) {
      ASSERT_TRUE(app_->accounts()->Add(name, Role::kTeacher, "craie blanche 7").ok());
    }
  }

  // A finished upload of `owner`'s, as tus leaves it; its id.
  std::string Uploaded(const std::string& name, const std::string& content,
                       const std::string& owner = "amira", bool finish = true) {
    UploadStore* uploads = app_->uploads();
    auto info = uploads->Create(owner, content.size(), name);
    EXPECT_TRUE(info.has_value()) << info.error().ToString();
    auto transfer = uploads->Begin(info->id, owner, 0);
    EXPECT_TRUE(transfer.has_value());
    std::string_view sent = finish ? content : std::string_view(content).substr(0, 10);
    EXPECT_TRUE(
        (*transfer)->Write({reinterpret_cast<const uint8_t*>(sent.data()), sent.size()}).ok());
    EXPECT_TRUE((*transfer)->Commit().has_value());
    return info->id;
  }

  // `method` `path` as `who`'s session (with its CSRF token), through the route's access check
  // and handler; the answer's status and JSON body.
  std::pair<int, json> Ask(const std::string& method, const std::string& path,
                           const json& body = nullptr, const std::string& who = "amira") {
    http::Response res =
        client_.Run({method, path, {}, who, body.is_null() ? "" : body.dump(), "", {}});
    return {res.status, RouteClient::Json(res)};
  }
  // A learner's GET of `path` (no session): the status.
  int LearnerGets(const std::string& path) { return LearnerResponse(path).status; }
  http::Response LearnerResponse(const std::string& path) { return client_.Send("GET", path); }
  // A learner's search (no session): the paths found.
  std::vector<std::string> LearnerFinds(const std::string& query) {
    std::vector<std::string> paths;
    auto hits = catalog_->Search(query);
    EXPECT_TRUE(hits.has_value());
    for (const auto& h : *hits) paths.push_back(h.path);
    return paths;
  }
  std::string SchoolId() {
    return *SchoolMaterials(NodePaths(data_.path()), store_.get(), catalog_.get()).ChannelId();
  }

  FaultEnv env_;
  TempDir data_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<App> app_;
  RouteClient client_{[this] { return app_.get(); }, "craie blanche 7"};
};

TEST_F(MaterialRoutesTest, ATeachersUploadIsPlacedSignedAndLearnersFindItAtOnce) {
  auto [empty_status, empty] = Ask("GET", "/api/v1/materials");
  ASSERT_EQ(empty_status, 200);
  EXPECT_EQ(empty["version"], 0);
  EXPECT_EQ(empty["channel"], SchoolId());

  std::string id = Uploaded("cycle.html", Page("Le cycle de l'eau", "Le soleil chauffe la mer."));
  auto [status, added] = Ask("POST", "/api/v1/materials",
                             {{"upload", id},
                              {"topic", "Grade 5 / Science"},
                              {"description", "Pour la classe de CM2"},
                              {"grade", "5"},
                              {"subject", "science"},
                              {"license", "CC BY 4.0"}});
  ASSERT_EQ(status, 201) << added.dump();
  EXPECT_EQ(added["path"], "grade-5/science/le-cycle-de-l-eau.html");
  EXPECT_EQ(added["version"], 1);
  EXPECT_EQ(added["url"], "/r/" + SchoolId() + "/grade-5/science/le-cycle-de-l-eau.html");
  EXPECT_EQ(LearnerFinds("soleil"), std::vector<std::string>{added["path"]});
  EXPECT_EQ(LearnerGets(added["url"]), 200);  // its page, at once
  EXPECT_EQ(LearnerGets("/c/" + SchoolId() + "/grade-5/science/le-cycle-de-l-eau.html"), 200);
  EXPECT_EQ(LearnerGets("/api/v1/materials"), 401);  // the teachers' list is not theirs
  EXPECT_EQ(app_->uploads()->Get(id, "amira").error().code(), StatusCode::kNotFound);  // placed

  // Signed by this box's node key.
  auto envelope = catalog_->ManifestEnvelope(SchoolId(), 1);
  ASSERT_TRUE(envelope.has_value());
  auto node_key = LoadIdentity(NodePaths(data_.path()).node_key);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, node_key->public_key());

  auto [list_status, list] = Ask("GET", "/api/v1/materials");
  ASSERT_EQ(list_status, 200);
  EXPECT_EQ(list["version"], 1);
  ASSERT_EQ(list["topics"].size(), 2u);
  EXPECT_EQ(list["topics"][1]["title"], "Grade 5 / Science");
  const json& page = list["tree"]["children"][0]["children"][0]["children"][0];
  EXPECT_EQ(page["path"], added["path"]);
  EXPECT_EQ(page["grade"], "5");
  EXPECT_EQ(page["kind"], "html");
  EXPECT_TRUE(page["id"].is_number());
}

TEST_F(MaterialRoutesTest, EditMoveAndDeleteNameAMaterialByPathOrId) {
  auto [s1, rain] = Ask(
      "POST", "/api/v1/materials",
      {{"upload", Uploaded("pluie.html", Page("La pluie", "nuages gris"))}, {"topic", "Science"}});
  auto [s2, sums] = Ask(
      "POST", "/api/v1/materials",
      {{"upload", Uploaded("sommes.html", Page("Les sommes", "dizaines"))}, {"topic", "Maths"}});
  ASSERT_EQ(s1, 201);
  ASSERT_EQ(s2, 201);
  std::string rain_path = rain["path"];
  int64_t rain_id = catalog_->NodeByPath(SchoolId(), rain_path)->id;

  auto [edit_status, edited] = Ask("POST", "/api/v1/materials/" + std::to_string(rain_id) + "/edit",
                                   {{"title", "La pluie et les nuages"}});
  ASSERT_EQ(edit_status, 200) << edited.dump();
  EXPECT_EQ(edited["version"], 3);
  EXPECT_EQ(catalog_->NodeByPath(SchoolId(), rain_path)->meta.title, "La pluie et les nuages");

  auto [move_status, moved] = Ask(
      "POST", "/api/v1/materials/" + std::string(sums["path"]) + "/move", {{"topic", "Science"}});
  ASSERT_EQ(move_status, 200) << moved.dump();
  EXPECT_EQ(moved["path"], "science/les-sommes.html");
  EXPECT_EQ(LearnerFinds("dizaines"), std::vector<std::string>{"science/les-sommes.html"});
  EXPECT_EQ(LearnerFinds("nuages"), std::vector<std::string>{rain_path});

  auto [delete_status, deleted] = Ask("POST", "/api/v1/materials/" + rain_path + "/delete");
  ASSERT_EQ(delete_status, 200) << deleted.dump();
  EXPECT_EQ(deleted["version"], 5);
  EXPECT_TRUE(LearnerFinds("nuages").empty());
  EXPECT_EQ(LearnerFinds("dizaines").size(), 1u);

  // The old id is of a version no longer served; unknown paths are 404.
  EXPECT_EQ(
      Ask("POST", "/api/v1/materials/" + std::to_string(rain_id) + "/edit", json::object()).first,
      404);
  EXPECT_EQ(Ask("POST", "/api/v1/materials/" + rain_path + "/delete").first, 404);
  EXPECT_EQ(catalog_->Channel(SchoolId())->served_version, 5);
}

TEST_F(MaterialRoutesTest, BadRequestsAreRefusedClearlyAndChangeNothing) {
  std::string id = Uploaded("pluie.html", Page("La pluie", "nuages"));
  struct Case {
    json body;
    int status;
    const char* says;
  };
  const Case cases[] = {
      {{{"topic", "Science"}}, 400, "\"upload\""},
      {{{"upload", "../../etc/passwd"}}, 400, "\"upload\""},
      {{{"upload", std::string(32, 'a')}}, 404, "no upload"},
      {{{"upload", id}, {"title", 5}}, 400, "must be a string"},
      {{{"upload", id}, {"title", ""}}, 400, "may not be empty"},
      {{{"upload", id}, {"title", std::string(300, 't')}}, 400, "longer than"},
      {{{"upload", id}, {"topic", "Science/../../x"}}, 400, "\"..\""},
      {{{"upload", id}, {"language", "fr\nFR"}}, 400, "control characters"},
      {{{"upload", Uploaded("x.html", Page("X", "y"), "karim")}}, 404, "no upload"},
      {{{"upload", Uploaded("long.html", Page("Long", std::string(100, 'z')), "amira", false)}},
       409,
       "has not finished"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump());
    auto [status, answer] = Ask("POST", "/api/v1/materials", c.body);
    EXPECT_EQ(status, c.status) << answer.dump();
    EXPECT_NE(std::string(answer.value("error", "")).find(c.says), std::string::npos)
        << answer.dump();
  }
  EXPECT_EQ(Ask("POST", "/api/v1/materials/x.html/move", json::object()).first, 400);
  EXPECT_FALSE(catalog_->Channel(SchoolId()).has_value());
  EXPECT_TRUE(app_->uploads()->Get(id, "amira").has_value());  // still there to place
}

TEST_F(MaterialRoutesTest, AFullDiskIsA507AndTheUploadStaysToPlaceLater) {
  std::string id = Uploaded("pluie.html", Page("La pluie", "nuages"));
  env_.FailAfter(0, FaultEnv::Fault::kNoSpace);
  auto [status, answer] = Ask("POST", "/api/v1/materials", {{"upload", id}});
  EXPECT_EQ(status, 507) << answer.dump();
  EXPECT_NE(std::string(answer["error"]).find("disk is full"), std::string::npos);
  EXPECT_FALSE(catalog_->Channel(SchoolId()).has_value());
  env_.Heal();
  auto [again, placed] = Ask("POST", "/api/v1/materials", {{"upload", id}});
  EXPECT_EQ(again, 201) << placed.dump();
}

// What the hub decided on a material comes back with a sync or a stick (review outcomes in
// sync.db); the teachers' list shows it beside that very file, and not beside another file at
// the same path.
TEST_F(MaterialRoutesTest, TheHubsDecisionShowsBesideTheFileItWasMadeOn) {
  auto [s1, rain] = Ask("POST", "/api/v1/materials",
                        {{"upload", Uploaded("pluie.html", Page("La pluie", "nuages gris"))}});
  auto [s2, sums] = Ask("POST", "/api/v1/materials",
                        {{"upload", Uploaded("sommes.html", Page("Les sommes", "dizaines"))}});
  ASSERT_EQ(s1, 201);
  ASSERT_EQ(s2, 201);
  auto blob_of = [&](const std::string& path) { return *catalog_->NodeByPath(SchoolId(), path)->blob; };
  auto db = SyncDb::Open(NodePaths(data_.path()).sync_db);
  ASSERT_TRUE(db.has_value());
  ReviewOutcome declined;
  declined.id = 1;
  declined.channel_id = SchoolId();
  declined.path = rain["path"];
  declined.blob = blob_of(rain["path"]);
  declined.state = ReviewState::kDeclined;
  declined.reason = "Les images manquent";
  declined.decided_at = 100;
  ReviewOutcome adopted = declined;
  adopted.id = 2;
  adopted.path = sums["path"];
  adopted.blob = blob_of(sums["path"]);
  adopted.state = ReviewState::kAdopted;
  adopted.reason.clear();
  adopted.adopted_channel = "maths";
  adopted.adopted_topic = "CM2";
  ASSERT_TRUE((*db)->NoteReviewOutcomes({declined, adopted}).ok());

  auto review_of = [&](const std::string& path) {
    auto [status, list] = Ask("GET", "/api/v1/materials");
    EXPECT_EQ(status, 200);
    for (const json& c : list["tree"]["children"]) {
      if (c["path"] == path) return c.value("review", json());
    }
    return json();
  };
  json r = review_of(rain["path"]);
  EXPECT_EQ(r["state"], "declined");
  EXPECT_EQ(r["reason"], "Les images manquent");
  json a = review_of(sums["path"]);
  EXPECT_EQ(a["state"], "adopted");
  EXPECT_EQ(a["channel"], "maths");
  EXPECT_EQ(a["topic"], "CM2");
  // A decision on another file at that path (an earlier one) is not shown beside this one.
  declined.id = 3;
  declined.path = sums["path"];
  declined.decided_at = 200;  // newer than the adoption, but not on this file
  ASSERT_TRUE((*db)->NoteReviewOutcomes({declined}).ok());
  EXPECT_TRUE(review_of(sums["path"]).is_null());
}

// A teacher's page may hold script: it is served in the same sandbox as imported content, so it
// can never act in a teacher's or coordinator's session (issue #15, item 1).
TEST_F(MaterialRoutesTest, ATeachersPageIsServedInTheSandboxLikeImportedContent) {
  std::string page = "<!DOCTYPE html><title>Quiz</title><script>fetch('/api/v1/users')</script>";
  auto [status, added] = Ask("POST", "/api/v1/materials", {{"upload", Uploaded("quiz.html", page)}});
  ASSERT_EQ(status, 201) << added.dump();
  http::Response res = LearnerResponse("/c/" + SchoolId() + "/" + std::string(added["path"]));
  ASSERT_EQ(res.status, 200);
  std::string policy = res.get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("sandbox"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("allow-same-origin"), std::string::npos) << policy;
}

}  // namespace
}  // namespace outpost
