// The damage campaign (issue 14): a failing card damages one page of a catalog table or index,
// or a blob. For each, `verify` exits 3 and lists what it found, `serve` says at start that the
// catalog is damaged, and every answer is either what the undamaged box answered or the
// "something is wrong with this box" page: never a 404, an empty search or wrong bytes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "outpost_cli.h"
#include "testing/damage.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::OutpostOn;
using testing::PageDamage;
using testing::TempDir;

const std::string kDemo = OUTPOST_DEMO_DIR;

// What a learner asks for: pages, files, a search that finds something, and their JSON twins.
const char* const kTargets[] = {
    "/",
    "/t/water-cycle/en",
    "/r/water-cycle/en/evaporation.html",
    "/c/water-cycle/en/evaporation.html",
    "/c/water-cycle/images/cover.svg",
    "/search?q=evaporation",
    "/api/v1/search?q=evaporation",
    "/api/v1/t/water-cycle/en",
};

// The title of the page every trouble is answered with (web-ui/i18n/en.json).
const char kBoxTrouble[] = "Something is wrong with this box";

struct Answer {
  int status = 0;
  std::string body;
};

// A running `outpost serve` on a free port of 127.0.0.1, and its log.
class Server {
 public:
  explicit Server(const fs::path& data)
      : process_({OUTPOST_BINARY, "serve", "--data", data.string(), "--listen", "127.0.0.1:0"}) {
    started_ = process_.WaitForLine("serving ");
    size_t at = process_.log().find("http://127.0.0.1:");
    if (started_ && at != std::string::npos) port_ = std::stoi(process_.log().substr(at + 17));
  }
  bool started() const { return started_ && port_ > 0; }
  Answer Get(const std::string& target) {
    httplib::Client client("127.0.0.1", port_);
    auto r = client.Get(target.c_str());
    return r ? Answer{r->status, r->body} : Answer{};
  }
  // Stops the server; its whole log.
  std::string Log() { return process_.Stop().out; }
  // The start-up check of the catalog runs beside serving (CatalogHealth): waits for its line.
  bool WaitForLog(const std::string& needle) { return process_.WaitForLineAnywhere(needle); }

 private:
  testing::LoggedProcess process_;
  bool started_ = false;
  int port_ = 0;
};

class DamageCampaignTest : public ::testing::Test {
 protected:
  // One import and the undamaged box's answers, shared by every test; each test damages a copy.
  static void SetUpTestSuite() {
    pristine_ = new TempDir;
    auto r = OutpostOn(pristine_->path(), {"import", kDemo});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    healthy_ = new std::map<std::string, Answer>;
    Server server(pristine_->path());
    ASSERT_TRUE(server.started()) << server.Log();
    for (const char* target : kTargets) (*healthy_)[target] = server.Get(target);
  }
  static void TearDownTestSuite() {
    delete pristine_;
    delete healthy_;
  }
  void SetUp() override {
    ASSERT_NE(pristine_, nullptr);
    fs::copy(pristine_->path(), data_.path(), fs::copy_options::recursive |
                                                  fs::copy_options::overwrite_existing);
  }
  fs::path catalog() const { return data_.path() / "catalog.db"; }

  // Every target answers as the undamaged box did, or with the trouble page (500 or 503), and
  // asked again, the same (nothing made from a failed read is kept and served later).
  void ExpectNothingWrongIsServed(Server& server) {
    for (int ask = 0; ask < 2; ++ask) ExpectEachTargetRightOrTrouble(server);
  }
  void ExpectEachTargetRightOrTrouble(Server& server) {
    for (const char* target : kTargets) {
      Answer a = server.Get(target);
      const Answer& healthy = (*healthy_)[target];
      ASSERT_EQ(healthy.status, 200) << target;
      if (a.status == healthy.status && a.body == healthy.body) continue;
      EXPECT_TRUE(a.status == 503 || a.status == 500) << target << " answered " << a.status;
      bool api = std::string(target).starts_with("/api/");
      EXPECT_NE(a.body.find(api ? "this box has a problem" : kBoxTrouble), std::string::npos)
          << target << " answered " << a.status << ": " << a.body.substr(0, 300);
    }
  }

  static TempDir* pristine_;
  static std::map<std::string, Answer>* healthy_;
  TempDir data_;
};

TempDir* DamageCampaignTest::pristine_ = nullptr;
std::map<std::string, Answer>* DamageCampaignTest::healthy_ = nullptr;

// ---- Item 4: serve says what is wrong, and answers it.

TEST_F(DamageCampaignTest, ADamagedNodesPageIsLoggedAtStartAndAnsweredWithTheTroublePage) {
  testing::DamagePage(catalog(), "nodes", PageDamage::kZero);
  Server server(data_.path());
  ASSERT_TRUE(server.started());
  ASSERT_TRUE(server.WaitForLog("is DAMAGED"));
  for (const char* target : {"/t/water-cycle/en", "/c/water-cycle/en/evaporation.html",
                             "/search?q=evaporation", "/r/water-cycle/en/evaporation.html"}) {
    Answer a = server.Get(target);
    EXPECT_EQ(a.status, 503) << target;
    EXPECT_NE(a.body.find(kBoxTrouble), std::string::npos) << target;
  }
  // A search for something that was never there cannot say "no results" on a damaged catalog.
  EXPECT_EQ(server.Get("/search?q=zzzzqqq").status, 503);
  std::string log = server.Log();
  EXPECT_NE(log.find("is DAMAGED"), std::string::npos) << log;
  EXPECT_NE(log.find("reading it for /t/water-cycle/en failed"), std::string::npos) << log;
}

// A catalog whose schema is damaged cannot be opened at all: serve says so, says what to do,
// and exits 3 (damage), rather than a bare error; repair then brings the box back.
TEST_F(DamageCampaignTest, ACatalogWhoseSchemaIsDamagedStopsServeWithTheAdvice) {
  testing::ExecSql(catalog(), "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = "
                              "'CREATE TABLE search (' WHERE name = 'search';");
  auto r = OutpostOn(data_.path(), {"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("malformed database schema"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run outpost repair"), std::string::npos) << r.err;
  EXPECT_EQ(OutpostOn(data_.path(), {"verify"}).exit_code, 3);
  auto repaired = OutpostOn(data_.path(), {"repair", "--source", std::string("water-cycle=") + kDemo});
  EXPECT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  Server server(data_.path());
  ASSERT_TRUE(server.started()) << server.Log();
  for (const char* target : kTargets) {
    Answer a = server.Get(target);
    EXPECT_EQ(a.status, (*healthy_)[target].status) << target;
    EXPECT_EQ(a.body, (*healthy_)[target].body) << target;
  }
}

TEST_F(DamageCampaignTest, ASoundCatalogIsSaidSoundAtStart) {
  Server server(data_.path());
  ASSERT_TRUE(server.started());
  ASSERT_TRUE(server.WaitForLog(", sound"));
  EXPECT_EQ(server.Get("/t/water-cycle/nothing-here").status, 404);
  std::string log = server.Log();
  EXPECT_NE(log.find("sound"), std::string::npos) << log;
  EXPECT_EQ(log.find("DAMAGED"), std::string::npos) << log;
}

TEST_F(DamageCampaignTest, AGarbledHashIsAnErrorPageAndALogLine) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(catalog().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE nodes SET blob = X'00' || substr(blob, 2) "
                               "WHERE path = 'en/evaporation.html'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }
  Server server(data_.path());
  ASSERT_TRUE(server.started());
  Answer a = server.Get("/c/water-cycle/en/evaporation.html");
  EXPECT_EQ(a.status, 500);
  EXPECT_NE(a.body.find(kBoxTrouble), std::string::npos) << a.body;
  std::string log = server.Log();
  EXPECT_NE(log.find("serving /c/water-cycle/en/evaporation.html: blob 00"), std::string::npos)
      << log;
}

// ---- Blobs: damaged (then verify moves it aside) and deleted.

TEST_F(DamageCampaignTest, ADamagedBlobIsNeverServedOnceVerifyFoundIt) {
  fs::path blob;
  for (auto& e : fs::recursive_directory_iterator(data_.path() / "blobs")) {
    if (e.is_regular_file() &&
        testing::ReadFile(e.path()) == (*healthy_)["/c/water-cycle/images/cover.svg"].body) {
      blob = e.path();
    }
  }
  ASSERT_FALSE(blob.empty());
  testing::DamageBlob(blob);
  auto v = OutpostOn(data_.path(), {"verify", "--json"});
  EXPECT_EQ(v.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(v.out, nullptr, false)["damaged"].size(), 1u) << v.out;
  Server server(data_.path());
  ASSERT_TRUE(server.started());
  ExpectNothingWrongIsServed(server);
  EXPECT_EQ(server.Get("/c/water-cycle/images/cover.svg").status, 500);
}

TEST_F(DamageCampaignTest, ADeletedBlobIsReportedMissingAndAnErrorPage) {
  for (auto& e : fs::recursive_directory_iterator(data_.path() / "blobs")) {
    if (e.is_regular_file() &&
        testing::ReadFile(e.path()) == (*healthy_)["/c/water-cycle/en/evaporation.html"].body) {
      testing::DeleteBlob(e.path());
      break;
    }
  }
  auto v = OutpostOn(data_.path(), {"verify", "--json"});
  EXPECT_EQ(v.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(v.out, nullptr, false)["missing"].size(), 1u) << v.out;
  Server server(data_.path());
  ASSERT_TRUE(server.started());
  ExpectNothingWrongIsServed(server);
  EXPECT_EQ(server.Get("/c/water-cycle/en/evaporation.html").status, 500);
}

// An exercise's page is made from its file: missing or damaged, the page is the trouble page
// (twice: nothing is kept), never a quiz without its questions.
TEST_F(DamageCampaignTest, AnExerciseWhoseFileIsDamagedOrMissingIsTheTroublePage) {
  auto rows = testing::QueryRows(catalog(), "SELECT lower(hex(blob)) FROM nodes WHERE path = "
                                            "'en/quiz.exercise.json' LIMIT 1");
  ASSERT_EQ(rows.size(), 1u);
  const std::string& hex = rows[0];
  fs::path blob = data_.path() / "blobs" / hex.substr(0, 2) / hex.substr(2, 2) / hex;
  for (bool remove : {false, true}) {
    if (remove) testing::DeleteBlob(blob);
    else testing::DamageBlob(blob);
    Server server(data_.path());
    ASSERT_TRUE(server.started());
    for (int ask = 0; ask < 2; ++ask) {
      Answer a = server.Get("/r/water-cycle/en/quiz.exercise.json");
      EXPECT_EQ(a.status, 500) << (remove ? "missing" : "damaged");
      EXPECT_NE(a.body.find(kBoxTrouble), std::string::npos) << a.body.substr(0, 300);
    }
    EXPECT_NE(server.Log().find("serving /r/water-cycle/en/quiz.exercise.json: "),
              std::string::npos) << server.Log();
  }
}

// ---- Every table and index, zeroed and with its header flipped.

// The catalog's tables and indexes with pages of their own (schema version 5); the test below
// fails when a migration adds one, so that the campaign covers it too.
const char* const kCatalogObjects[] = {
    "channels", "sqlite_autoindex_channels_1", "channel_versions",
    "sqlite_autoindex_channel_versions_1", "nodes", "nodes_by_path", "nodes_by_parent",
    "nodes_by_blob", "search_data", "search_idx", "search_content", "search_docsize",
    "search_config", "blobs", "chunks", "chunks_by_hash", "import_cache",
    "sqlite_autoindex_import_cache_1", "nodes_by_thumbnail", "value_labels",
    "nodes_listed_by_parent",
};

TEST_F(DamageCampaignTest, TheCampaignCoversEveryTableAndIndexOfTheCatalog) {
  std::set<std::string> listed(std::begin(kCatalogObjects), std::end(kCatalogObjects));
  std::set<std::string> found;
  for (const auto& o : testing::SqliteObjects(catalog())) found.insert(o.name);
  EXPECT_EQ(found, listed);
}

class PageDamageTest : public DamageCampaignTest,
                       public ::testing::WithParamInterface<std::tuple<const char*, PageDamage>> {};

TEST_P(PageDamageTest, VerifyReportsItAndServeSaysSoAndServesNothingWrong) {
  auto [object, damage] = GetParam();
  testing::DamagePage(catalog(), object, damage);
  auto v = OutpostOn(data_.path(), {"verify", "--json"});
  EXPECT_EQ(v.exit_code, 3) << v.err;
  auto report = nlohmann::json::parse(v.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << v.out << v.err;
  EXPECT_FALSE(report["catalog"].empty()) << v.out;
  EXPECT_GT(report["blobs"].get<int>(), 10) << v.out;  // the blobs were checked all the same
  Server server(data_.path());
  ASSERT_TRUE(server.started()) << server.Log();
  ExpectNothingWrongIsServed(server);
  std::string log = server.Log();
  EXPECT_NE(log.find("is DAMAGED"), std::string::npos) << log;
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<const char*, PageDamage>>& info) {
  std::string name = std::string(std::get<0>(info.param)) + "_" +
                     testing::PageDamageName(std::get<1>(info.param));
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryTableAndIndex, PageDamageTest,
                         ::testing::Combine(::testing::ValuesIn(kCatalogObjects),
                                            ::testing::Values(PageDamage::kZero,
                                                              PageDamage::kFlipHeader)),
                         ParamName);

}  // namespace
}  // namespace outpost
