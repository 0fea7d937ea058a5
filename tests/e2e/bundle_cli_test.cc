// A school that never sees a link, by the command line: it joins from an enrolment file, its
// first stick enrols it at the hub, the hub's stick brings the curriculum, and the school's own
// lessons go back by the next one.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::RunProcess;
using testing::TempDir;

const std::string kOutpost = OUTPOST_BINARY;
const std::string kDemo = OUTPOST_DEMO_DIR;

class BundleCliTest : public ::testing::Test {
 protected:
  static testing::ProcessResult On(const TempDir& dir, std::vector<std::string> args) {
    args.insert(args.begin(), kOutpost);
    args.push_back("--data");
    args.push_back(dir.path().string());
    return RunProcess(args);
  }
  static nlohmann::json Json(const testing::ProcessResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  TempDir hub_, site_, stick_, src_;
};

TEST_F(BundleCliTest, ASchoolWithoutALinkEnrolsAndSyncsByStick) {
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  ASSERT_EQ(On(hub_, {"publish", kDemo}).exit_code, 0);
  fs::path enrolment = src_.path() / "ecole.opef";
  ASSERT_EQ(On(hub_, {"hub", "enrol", "--name", "ecole-sans-lien", "--to", enrolment.string()}).exit_code, 0);
  ASSERT_EQ(On(site_, {"join", enrolment.string()}).exit_code, 0);

  // Until the hub has the school's key it cannot write for it.
  auto early = On(hub_, {"bundle", "export", "--to", stick_.path().string(), "--for", "ecole-sans-lien"});
  EXPECT_NE(early.exit_code, 0);
  // The school's first stick carries its enrolment.
  fs::path up = stick_.path() / "up";
  fs::create_directories(up);
  Json(On(site_, {"bundle", "export", "--to", up.string(), "--json"}));
  auto enrolled = Json(On(hub_, {"bundle", "import", up.string(), "--json"}));
  EXPECT_EQ(enrolled["complete"], true);  // it carried no channel yet, only the enrolment
  auto sites = Json(On(hub_, {"hub", "sites", "--json"}));
  ASSERT_EQ(sites["sites"].size(), 1u);
  EXPECT_EQ(sites["sites"][0]["name"], "ecole-sans-lien");

  // The hub's stick: the curriculum.
  fs::path down = stick_.path() / "down";
  fs::create_directories(down);
  auto exported = Json(On(hub_, {"bundle", "export", "--to", down.string(), "--for", "ecole-sans-lien", "--json"}));
  ASSERT_EQ(exported["volumes"].size(), 1u);
  auto imported = Json(On(site_, {"bundle", "import", down.string(), "--json"}));
  EXPECT_EQ(imported["complete"], true) << imported.dump();
  ASSERT_EQ(imported["channels_updated"].size(), 1u);
  auto hub_channels = Json(On(hub_, {"channels", "--json"}));
  auto site_channels = Json(On(site_, {"channels", "--json"}));
  EXPECT_EQ(site_channels[0]["manifest"], hub_channels[0]["manifest"]);
  EXPECT_EQ(On(site_, {"verify"}).exit_code, 0);
  // Twice is the same as once.
  auto again = Json(On(site_, {"bundle", "import", down.string(), "--json"}));
  EXPECT_EQ(again["complete"], true);
  EXPECT_TRUE(again["channels_updated"].empty());

  // The school's lessons go up by the next stick.
  src_.Write("notes/outpost.toml", "[channel]\nid = \"ecole-sans-lien-notes\"\ntitle = \"Nos notes\"\nlanguage = \"fr\"\n");
  src_.Write("notes/cours.html", "<!DOCTYPE html><title>Cours</title><p>La photosynthèse.</p>\n");
  ASSERT_EQ(On(site_, {"publish", (src_.path() / "notes").string()}).exit_code, 0);
  fs::path back = stick_.path() / "back";
  fs::create_directories(back);
  Json(On(site_, {"bundle", "export", "--to", back.string(), "--json"}));
  auto taken = Json(On(hub_, {"bundle", "import", back.string(), "--json"}));
  EXPECT_EQ(taken["complete"], true) << taken.dump();
  bool found = false;
  for (const auto& c : Json(On(hub_, {"channels", "--json"}))) found |= c["id"] == "ecole-sans-lien-notes";
  EXPECT_TRUE(found);

  // A stick for someone else is refused, saying whom it is for.
  auto wrong = On(hub_, {"bundle", "import", down.string()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("addressed to"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace outpost
