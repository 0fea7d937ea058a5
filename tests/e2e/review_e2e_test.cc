// The upward path to its end, by the command line (issue #15 item 5): a school publishes its
// own lessons and syncs; on the hub, `hub review list` shows them with a preview; the publisher
// adopts one into the national channel at a topic (published, signed) and declines another; the
// school learns both at its next sync; another school syncs and serves the adopted lesson;
// publishing the national folder again keeps it. Then the same path by stick. Hub and sites are
// separate `outpost` processes over loopback.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "outpost_cli.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kOutpost = OUTPOST_BINARY;
const std::string kDemo = OUTPOST_DEMO_DIR;
constexpr std::chrono::seconds kSafety{120};  // a safety net for "the hub listens", never a measure

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return up;
}

class ReviewE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(kDemo, national_, fs::copy_options::recursive);  // adoption writes into it
    Ok(Hub({"hub", "init"}));
    auto published = Json(Hub({"publish", "--json", national_.string()}));
    ASSERT_EQ(published["version"], 1);
    channel_ = published["channel"].get<std::string>();
    sync_port_ = FreePort();
    hub_pid_ = testing::StartProcess({kOutpost, "hub", "serve", "--data", hub_.path().string(),
                                      "--listen", "127.0.0.1:" + std::to_string(FreePort()),
                                      "--sync-listen", Address()});
    auto deadline = std::chrono::steady_clock::now() + kSafety;
    while (!Listening(sync_port_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(Listening(sync_port_));
  }
  void TearDown() override {
    if (hub_pid_ > 0) {
      ::kill(hub_pid_, SIGTERM);
      testing::WaitProcess(hub_pid_);
    }
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(sync_port_); }
  testing::ProcessResult Hub(std::vector<std::string> args) { return On(hub_, std::move(args)); }
  static testing::ProcessResult On(const TempDir& dir, std::vector<std::string> args) {
    return testing::OutpostOn(dir.path(), std::move(args));
  }
  static void Ok(const testing::ProcessResult& r) { ASSERT_EQ(r.exit_code, 0) << r.out << r.err; }
  static nlohmann::json Json(const testing::ProcessResult& r) { return testing::JsonOf(r); }
  void Join(const TempDir& site, const std::string& name) {
    auto enrol = Json(Hub({"hub", "enrol", "--name", name, "--json"}));
    Ok(On(site, {"join", Address(), enrol["code"].get<std::string>()}));
  }
  // School A's own channel: a lesson and a worksheet, published on A (joined, not synced).
  void SchoolAPublishes() {
    Join(school_a_, "ecole-a");
    src_.Write("notes/outpost.toml",
               "[channel]\nid = \"ecole-a-notes\"\ntitle = \"Nos notes\"\nlanguage = \"fr\"\n"
               "[files.\"fiche.txt\"]\ntitle = \"Fiche de mesures\"\ngrade = \"5\"\n"
               "subject = \"science\"\n");
    src_.Write("notes/cours.html",
               "<!DOCTYPE html><html lang=\"fr\"><title>La photosynthèse</title>"
               "<p>Les plantes vertes fabriquent leur nourriture avec la lumière.</p></html>\n");
    src_.Write("notes/fiche.txt", "Mesurer la pluie chaque jour.\n");
    Ok(On(school_a_, {"publish", (src_.path() / "notes").string()}));
  }
  void SchoolAPublishesAndSyncs() {
    SchoolAPublishes();
    auto synced = Json(On(school_a_, {"sync", "--json"}));
    ASSERT_EQ(synced["complete"], true) << synced.dump();
  }
  fs::path Stick(const std::string& name) {
    fs::path dir = sticks_.path() / name;
    fs::create_directories(dir);
    return dir;
  }
  static const nlohmann::json* ItemAt(const nlohmann::json& items, const std::string& path) {
    for (const auto& i : items) {
      if (i["path"] == path) return &i;
    }
    return nullptr;
  }

  TempDir hub_, school_a_, school_b_, src_, national_dir_, sticks_;
  fs::path national_ = national_dir_.path() / "water-cycle";
  std::string channel_;
  int hub_pid_ = -1;
  int sync_port_ = 0;
};

TEST_F(ReviewE2eTest, ASchoolsLessonIsReviewedAdoptedAndReachesAnotherSchool) {
  SchoolAPublishesAndSyncs();
  auto list = Json(Hub({"hub", "review", "list", "--site", "ecole-a", "--json"}));
  ASSERT_EQ(list["items"].size(), 2u) << list.dump();
  const nlohmann::json* cours = ItemAt(list["items"], "cours.html");
  const nlohmann::json* fiche = ItemAt(list["items"], "fiche.txt");
  ASSERT_TRUE(cours && fiche) << list.dump();
  EXPECT_EQ((*cours)["site"], "ecole-a");
  EXPECT_EQ((*cours)["channel"], "ecole-a-notes");
  EXPECT_EQ((*cours)["title"], "La photosynthèse");
  EXPECT_EQ((*cours)["kind"], "html");
  EXPECT_EQ((*cours)["excerpt"], "Les plantes vertes fabriquent leur nourriture avec la lumière.");
  EXPECT_EQ((*fiche)["grade"], "5");
  EXPECT_EQ((*fiche)["blob"].get<std::string>().size(), 64u);
  const int64_t cours_id = (*cours)["id"], fiche_id = (*fiche)["id"];

  auto adopted = Json(Hub({"hub", "review", "adopt", std::to_string(cours_id), "--channel",
                           channel_, "--topic", "Grade 5/Science", "--json"}));
  EXPECT_EQ(adopted["version"], 2) << adopted.dump();
  EXPECT_EQ(adopted["path"], "grade-5/science/cours.html");
  EXPECT_EQ(adopted["item"]["state"], "adopted");
  EXPECT_TRUE(fs::exists(national_ / "grade-5" / "science" / "cours.html"));
  auto declined = Json(Hub({"hub", "review", "decline", std::to_string(fiche_id), "--reason",
                            "Merci ! Ajoutez les unités (mm).", "--json"}));
  EXPECT_EQ(declined["item"]["state"], "declined");
  EXPECT_TRUE(Json(Hub({"hub", "review", "list", "--json"}))["items"].empty());
  auto all = Json(Hub({"hub", "review", "list", "--all", "--json"}));
  EXPECT_EQ((*ItemAt(all["items"], "fiche.txt"))["reason"], "Merci ! Ajoutez les unités (mm).");

  // Errors say what is wrong.
  auto twice = Hub({"hub", "review", "decline", std::to_string(fiche_id), "--reason", "x"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("declined already"), std::string::npos) << twice.err;
  auto unknown = Hub({"hub", "review", "adopt", "999", "--channel", channel_, "--topic", "X"});
  EXPECT_NE(unknown.err.find("no review item has id 999"), std::string::npos) << unknown.err;
  EXPECT_NE(Hub({"hub", "review", "adopt", "1", "--channel", channel_}).exit_code, 0);  // no --topic
  EXPECT_NE(Hub({"hub", "review", "decline", "1"}).exit_code, 0);                       // no --reason
  EXPECT_NE(Hub({"hub", "review", "list", "--site", "nobody"}).exit_code, 0);

  // School A learns both decisions at its next sync.
  auto synced = Json(On(school_a_, {"sync", "--json"}));
  EXPECT_EQ(synced["review_outcomes"], 2) << synced.dump();
  auto outcomes = Json(On(school_a_, {"outcomes", "--json"}));
  ASSERT_EQ(outcomes.size(), 2u) << outcomes.dump();
  const nlohmann::json* declined_at_a = ItemAt(outcomes, "fiche.txt");
  const nlohmann::json* adopted_at_a = ItemAt(outcomes, "cours.html");
  ASSERT_TRUE(declined_at_a && adopted_at_a) << outcomes.dump();
  EXPECT_EQ((*declined_at_a)["state"], "declined");
  EXPECT_EQ((*declined_at_a)["reason"], "Merci ! Ajoutez les unités (mm).");
  EXPECT_EQ((*adopted_at_a)["state"], "adopted");
  EXPECT_EQ((*adopted_at_a)["adopted_channel"], channel_);
  EXPECT_EQ((*adopted_at_a)["adopted_topic"], "Grade 5/Science");
  EXPECT_EQ(Json(On(school_a_, {"sync", "--json"}))["review_outcomes"], 0);  // once

  // School B syncs the national channel's new version and finds the lesson.
  Join(school_b_, "ecole-b");
  Ok(On(school_b_, {"sync"}));
  auto hits = Json(On(school_b_, {"search", "photosynthèse", "--json"}));
  ASSERT_EQ(hits.size(), 1u) << hits.dump();
  EXPECT_EQ(hits[0]["channel"], channel_);
  EXPECT_EQ(hits[0]["path"], "grade-5/science/cours.html");

  // The national folder published again keeps the adopted lesson.
  std::ofstream(national_ / "extra.txt") << "a later addition\n";
  auto again = Json(Hub({"publish", "--json", national_.string()}));
  EXPECT_EQ(again["version"], 3);
  Ok(On(school_b_, {"sync"}));
  auto still = Json(On(school_b_, {"search", "photosynthèse", "--json"}));
  EXPECT_EQ(still.size(), 1u) << still.dump();
}

// The same path by stick, for schools without a link: school A's lessons go up on a stick, the
// publisher adopts one and declines the other, the hub's next stick brings school B the lesson
// and school A both decisions; once A's next stick says it took that one, the hub's sticks
// carry the decisions no more.
TEST_F(ReviewE2eTest, ByStickALessonIsAdoptedForAnotherSchoolAndTheDeclineReachesItsOwn) {
  SchoolAPublishes();
  Join(school_b_, "ecole-b");
  fs::path up = Stick("up");
  Json(On(school_a_, {"bundle", "export", "--to", up.string(), "--json"}));
  auto taken = Json(Hub({"bundle", "import", up.string(), "--json"}));
  EXPECT_EQ(taken["complete"], true) << taken.dump();
  auto list = Json(Hub({"hub", "review", "list", "--json"}));
  const nlohmann::json* cours = ItemAt(list["items"], "cours.html");
  const nlohmann::json* fiche = ItemAt(list["items"], "fiche.txt");
  ASSERT_TRUE(cours && fiche) << list.dump();
  Ok(Hub({"hub", "review", "adopt", std::to_string((*cours)["id"].get<int64_t>()), "--channel",
          channel_, "--topic", "Grade 5/Science"}));
  Ok(Hub({"hub", "review", "decline", std::to_string((*fiche)["id"].get<int64_t>()), "--reason",
          "Photo floue : reprenez-la."}));

  fs::path down = Stick("down");  // one courier stick for both schools
  Json(Hub({"bundle", "export", "--to", down.string(), "--for", "all", "--json"}));
  auto at_b = Json(On(school_b_, {"bundle", "import", down.string(), "--json"}));
  EXPECT_EQ(at_b["complete"], true) << at_b.dump();
  EXPECT_EQ(at_b["review_outcomes"], 0);
  auto hits = Json(On(school_b_, {"search", "photosynthèse", "--json"}));
  ASSERT_EQ(hits.size(), 1u) << hits.dump();
  EXPECT_EQ(hits[0]["path"], "grade-5/science/cours.html");
  auto at_a = Json(On(school_a_, {"bundle", "import", down.string(), "--json"}));
  EXPECT_EQ(at_a["review_outcomes"], 2) << at_a.dump();
  auto outcomes = Json(On(school_a_, {"outcomes", "--json"}));
  ASSERT_EQ(outcomes.size(), 2u) << outcomes.dump();
  EXPECT_EQ((*ItemAt(outcomes, "fiche.txt"))["reason"], "Photo floue : reprenez-la.");
  EXPECT_EQ((*ItemAt(outcomes, "cours.html"))["adopted_topic"], "Grade 5/Science");
  Json(On(school_a_, {"bundle", "import", down.string(), "--json"}));  // twice is once
  EXPECT_EQ(Json(On(school_a_, {"outcomes", "--json"})).size(), 2u);

  // Until school A's stick comes back, every stick for it carries them again.
  fs::path again = Stick("again");
  Json(Hub({"bundle", "export", "--to", again.string(), "--for", "ecole-a", "--json"}));
  EXPECT_EQ(Json(On(school_a_, {"bundle", "import", again.string(), "--json"}))["review_outcomes"], 2);
  fs::path back = Stick("back");
  Json(On(school_a_, {"bundle", "export", "--to", back.string(), "--json"}));
  Json(Hub({"bundle", "import", back.string(), "--json"}));
  fs::path after = Stick("after");
  Json(Hub({"bundle", "export", "--to", after.string(), "--for", "ecole-a", "--json"}));
  EXPECT_EQ(Json(On(school_a_, {"bundle", "import", after.string(), "--json"}))["review_outcomes"], 0);
  EXPECT_EQ(Json(On(school_a_, {"outcomes", "--json"})).size(), 2u);
}

// ---- Issue #15's path with a teacher instead of `outpost publish`: she logs in on school A's
// box, uploads a lesson and a worksheet with tus and places them; learners on A find the lesson
// at once; A's channel goes up (by link, then by stick); the publisher adopts the lesson and
// declines the worksheet; school B serves the lesson; the decline's reason shows on her page.

class TeacherE2eTest : public ReviewE2eTest {
 protected:
  // A teacher account on A, A's server, her session; then the two materials placed.
  void TeacherPlacesTwoMaterials() {
    Join(school_a_, "ecole-a");
    auto added = testing::RunProcess(
        {"/bin/sh", "-c", "printf 'craie blanche 7\n' | \"$0\" users add --data \"$1\" --role teacher amira",
         kOutpost, school_a_.path().string()});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    web_port_ = FreePort();
    serve_ = std::make_unique<testing::LoggedProcess>(std::vector<std::string>{
        kOutpost, "serve", "--data", school_a_.path().string(), "--listen",
        "127.0.0.1:" + std::to_string(web_port_)});
    ASSERT_TRUE(serve_->WaitForLine("serving "));
    web_ = std::make_unique<httplib::Client>("127.0.0.1", web_port_);
    auto login = web_->Post("/api/v1/login", R"({"name":"amira","password":"craie blanche 7"})",
                            "application/json");
    ASSERT_TRUE(login && login->status == 200);
    std::string cookie = login->get_header_value("Set-Cookie");
    session_ = {{"Cookie", cookie.substr(0, cookie.find(';'))},
                {"X-CSRF-Token", nlohmann::json::parse(login->body)["csrf"].get<std::string>()},
                {"Tus-Resumable", "1.0.0"}};
    lesson_ = Place("photosynthese.html",
                    "<!DOCTYPE html><html lang=\"fr\"><title>La photosynthèse</title><p>Les plantes "
                    "vertes fabriquent leur nourriture avec la lumière.</p></html>\n",
                    "Grade 5/Science");
    worksheet_ = Place("mesures.txt", "Mesurer la pluie chaque jour.\n", "Grade 5/Science");
    // Learners on A see the lesson at once: its page and search.
    auto found = web_->Get("/api/v1/search?q=photosynth%C3%A8se");
    ASSERT_TRUE(found && found->status == 200);
    EXPECT_NE(found->body.find(lesson_), std::string::npos) << found->body;
  }
  // tus: create, one PATCH; then placed in `topic`. The material's path.
  std::string Place(const std::string& name, const std::string& bytes, const std::string& topic) {
    httplib::Headers h = session_;
    h.emplace("Upload-Length", std::to_string(bytes.size()));
    h.emplace("Upload-Metadata", "filename " + Base64(name));
    auto created = web_->Post("/api/v1/uploads", h, "", "application/offset+octet-stream");
    EXPECT_TRUE(created && created->status == 201);
    if (!created) return "";
    std::string where = created->get_header_value("Location");
    httplib::Headers p = session_;
    p.emplace("Upload-Offset", "0");
    auto sent = web_->Patch(where.c_str(), p, bytes.data(), bytes.size(),
                            "application/offset+octet-stream");
    EXPECT_TRUE(sent && sent->status == 204);
    std::string id = where.substr(where.rfind('/') + 1);
    nlohmann::json body = {{"upload", id}, {"topic", topic}};
    auto placed = web_->Post("/api/v1/materials", session_, body.dump(), "application/json");
    EXPECT_TRUE(placed && placed->status == 201) << (placed ? placed->body : "");
    return placed ? nlohmann::json::parse(placed->body)["path"].get<std::string>() : "";
  }
  static std::string Base64(const std::string& in) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t v = static_cast<uint8_t>(in[i]) << 16;
      if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
      if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
      out += kB64[v >> 18];
      out += kB64[(v >> 12) & 63];
      out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
      out += i + 2 < in.size() ? kB64[v & 63] : '=';
    }
    return out;
  }
  // On the hub: the lesson adopted into the national channel, the worksheet declined.
  void PublisherDecides() {
    auto list = Json(Hub({"hub", "review", "list", "--site", "ecole-a", "--json"}));
    const nlohmann::json* lesson = ItemAt(list["items"], lesson_);
    const nlohmann::json* worksheet = ItemAt(list["items"], worksheet_);
    ASSERT_TRUE(lesson && worksheet) << list.dump();
    EXPECT_EQ((*lesson)["title"], "La photosynthèse");
    Ok(Hub({"hub", "review", "adopt", std::to_string((*lesson)["id"].get<int64_t>()),
            "--channel", channel_, "--topic", "Grade 5/Science"}));
    Ok(Hub({"hub", "review", "decline", std::to_string((*worksheet)["id"].get<int64_t>()),
            "--reason", "Ajoutez les unités (mm)."}));
  }
  void SchoolBServesTheLesson() {
    auto hits = Json(On(school_b_, {"search", "photosynthèse", "--json"}));
    ASSERT_EQ(hits.size(), 1u) << hits.dump();
    EXPECT_EQ(hits[0]["channel"], channel_);
  }
  // The teacher's page on A says why the worksheet was declined.
  void TheTeacherReadsTheDecline() {
    auto page = web_->Get("/teach/", session_);
    ASSERT_TRUE(page && page->status == 200);
    EXPECT_NE(page->body.find("Ajoutez les unités (mm)."), std::string::npos);
    auto list = web_->Get("/api/v1/materials", session_);
    ASSERT_TRUE(list && list->status == 200);
    EXPECT_NE(list->body.find("\"declined\""), std::string::npos) << list->body;
    EXPECT_NE(list->body.find("\"adopted\""), std::string::npos) << list->body;
  }

  int web_port_ = 0;
  std::unique_ptr<testing::LoggedProcess> serve_;
  std::unique_ptr<httplib::Client> web_;
  httplib::Headers session_;
  std::string lesson_, worksheet_;
};

TEST_F(TeacherE2eTest, ATeachersLessonReachesAnotherSchoolByLinkAndTheDeclineReachesHer) {
  TeacherPlacesTwoMaterials();
  auto up = Json(On(school_a_, {"sync", "--json"}));
  ASSERT_EQ(up["complete"], true) << up.dump();
  PublisherDecides();
  Join(school_b_, "ecole-b");
  Ok(On(school_b_, {"sync"}));
  SchoolBServesTheLesson();
  auto back = Json(On(school_a_, {"sync", "--json"}));
  EXPECT_EQ(back["review_outcomes"], 2) << back.dump();
  TheTeacherReadsTheDecline();
}

TEST_F(TeacherE2eTest, ATeachersLessonReachesAnotherSchoolByStickAndTheDeclineReachesHer) {
  TeacherPlacesTwoMaterials();
  Join(school_b_, "ecole-b");
  fs::path up = Stick("up");
  Json(On(school_a_, {"bundle", "export", "--to", up.string(), "--json"}));
  EXPECT_EQ(Json(Hub({"bundle", "import", up.string(), "--json"}))["complete"], true);
  PublisherDecides();
  fs::path down = Stick("down");
  Json(Hub({"bundle", "export", "--to", down.string(), "--for", "all", "--json"}));
  EXPECT_EQ(Json(On(school_b_, {"bundle", "import", down.string(), "--json"}))["complete"], true);
  SchoolBServesTheLesson();
  EXPECT_EQ(Json(On(school_a_, {"bundle", "import", down.string(), "--json"}))["review_outcomes"], 2);
  TheTeacherReadsTheDecline();
}

}  // namespace
}  // namespace outpost
