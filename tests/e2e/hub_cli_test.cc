// The hub's command line as a publisher uses it: hub init, publish, channels, enrol, sites,
// revoke, run as the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::RunProcess;
using testing::TempDir;

const std::string kOutpost = OUTPOST_BINARY;
const std::string kDemo = OUTPOST_DEMO_DIR;
const std::regex kCodeShape("[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}");
const std::regex kHex64("[0-9a-f]{64}");

unsigned ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class HubCliTest : public ::testing::Test {
 protected:
  // Runs `outpost ARGS... --data DATA`.
  testing::ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), kOutpost);
    args.push_back("--data");
    args.push_back(data_.path().string());
    return RunProcess(args);
  }
  nlohmann::json RunJson(std::vector<std::string> args) {
    auto r = Run(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  TempDir data_, src_;
};

TEST_F(HubCliTest, HubInitMakesPrivateKeysOnceAndPrintsThem) {
  auto keys = RunJson({"hub", "init", "--json"});
  for (const char* k : {"node_key", "root_key", "publisher_key"}) {
    ASSERT_TRUE(keys[k].is_string()) << k;
    EXPECT_TRUE(std::regex_match(keys[k].get<std::string>(), kHex64)) << k;
  }
  for (const char* f : {"node.key", "root.key", "publisher.key"}) {
    EXPECT_EQ(ModeOf(data_.path() / "keys" / f), 0600u) << f;
  }
  auto again = Run({"hub", "init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already a hub"), std::string::npos) << again.err;
  EXPECT_TRUE(again.out.empty());

  TempDir other;
  auto human = RunProcess({kOutpost, "hub", "init", "--data", other.path().string()});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("root key"), std::string::npos);
  EXPECT_EQ(human.out.find("ed25519-seed"), std::string::npos);  // fingerprints, no secrets
}

TEST_F(HubCliTest, PublishSignsTheDemoOnceAndChannelsShowsTheManifest) {
  ASSERT_EQ(Run({"hub", "init"}).exit_code, 0);
  auto first = RunJson({"publish", "--json", kDemo});
  EXPECT_EQ(first["channel"], "water-cycle");
  EXPECT_EQ(first["version"], 1);
  EXPECT_EQ(first["new_version"], true);
  std::string manifest = first["manifest"].get<std::string>();
  EXPECT_TRUE(std::regex_match(manifest, kHex64)) << manifest;

  auto again = RunJson({"publish", "--json", kDemo});
  EXPECT_EQ(again["version"], 1);
  EXPECT_EQ(again["new_version"], false);
  EXPECT_EQ(again["manifest"], manifest);

  // A channel imported without publishing is served unsigned: manifest null.
  src_.Write("local/a.html", "<title>A</title>local page");
  ASSERT_EQ(Run({"import", (src_.path() / "local").string()}).exit_code, 0);
  auto channels = RunJson({"channels", "--json"});
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_EQ(channels[0]["id"], "local");
  EXPECT_TRUE(channels[0]["manifest"].is_null());
  EXPECT_EQ(channels[1]["id"], "water-cycle");
  EXPECT_EQ(channels[1]["version"], 1);
  EXPECT_EQ(channels[1]["manifest"], manifest);

  auto human = Run({"publish", kDemo});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("unchanged"), std::string::npos) << human.out;
}

TEST_F(HubCliTest, PublishAndEnrolOutsideAHubSayHowToMakeOne) {
  for (auto args : {std::vector<std::string>{"publish", kDemo},
                    std::vector<std::string>{"hub", "enrol", "--name", "ecole"},
                    std::vector<std::string>{"hub", "sites"}}) {
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_NE(r.err.find("hub init"), std::string::npos) << r.err;
  }
  EXPECT_EQ(RunJson({"channels", "--json"}).size(), 0u);  // nothing was imported
}

TEST_F(HubCliTest, EnrolPrintsACodeOrWritesAPrivateFileAndSitesListsThem) {
  ASSERT_EQ(Run({"hub", "init"}).exit_code, 0);
  auto plain = Run({"hub", "enrol", "--name", "ecole-karantina"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(plain.out, m, kCodeShape)) << plain.out;

  auto json = RunJson(
      {"hub", "enrol", "--json", "--name", "ecole-du-port", "--address", "hub.example.org:7600"});
  EXPECT_TRUE(std::regex_match(json["code"].get<std::string>(), kCodeShape));
  EXPECT_EQ(json["address"], "hub.example.org:7600");
  EXPECT_TRUE(json["file"].is_null());

  fs::path file = src_.path() / "ecole-sans-reseau.enrol";
  auto to =
      RunJson({"hub", "enrol", "--json", "--name", "ecole-sans-reseau", "--to", file.string()});
  EXPECT_TRUE(to["code"].is_null());                 // the secret is in the file only
  EXPECT_EQ(to["address"], "hub.example.org:7600");  // remembered
  EXPECT_EQ(to["file"], file.string());
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(testing::ReadFile(file).substr(0, 4), "OPEF");

  auto sites = RunJson({"hub", "sites", "--json"});
  EXPECT_EQ(sites["sites"].size(), 0u);
  ASSERT_EQ(sites["pending"].size(), 3u);
  std::set<std::string> names;
  for (auto& p : sites["pending"]) names.insert(p["name"].get<std::string>());
  EXPECT_EQ(names,
            (std::set<std::string>{"ecole-karantina", "ecole-du-port", "ecole-sans-reseau"}));
  auto human = Run({"hub", "sites"});
  EXPECT_NE(human.out.find("ecole-du-port"), std::string::npos);
  EXPECT_EQ(human.out.find(json["code"].get<std::string>()), std::string::npos);

  EXPECT_EQ(Run({"hub", "enrol", "--name", "Not A Name"}).exit_code, 1);
  EXPECT_EQ(Run({"hub", "enrol", "--name", "x", "--address", "nowhere"}).exit_code, 1);
  EXPECT_EQ(Run({"hub", "enrol"}).exit_code, 2);  // --name is required
}

TEST_F(HubCliTest, RevokeCancelsASitesCodeAndUnknownNamesFail) {
  ASSERT_EQ(Run({"hub", "init"}).exit_code, 0);
  ASSERT_EQ(Run({"hub", "enrol", "--name", "ecole-karantina"}).exit_code, 0);
  ASSERT_EQ(Run({"hub", "enrol", "--name", "ecole-du-port"}).exit_code, 0);
  auto revoked = Run({"hub", "revoke", "ecole-karantina"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("cancelled 1"), std::string::npos) << revoked.out;
  auto pending = RunJson({"hub", "sites", "--json"})["pending"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["name"], "ecole-du-port");
  auto unknown = Run({"hub", "revoke", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nobody"), std::string::npos);
  EXPECT_EQ(Run({"hub", "revoke"}).exit_code, 2);
}

TEST_F(HubCliTest, HubIsAGroupOfCommandsEachWithItsOwnHelp) {
  EXPECT_EQ(RunProcess({kOutpost, "hub"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kOutpost, "hub", "frobnicate"}).exit_code, 2);
  auto help = RunProcess({kOutpost, "hub", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* cmd : {"init", "enrol", "sites", "revoke"}) {
    EXPECT_NE(help.out.find(cmd), std::string::npos) << cmd;
    auto r = RunProcess({kOutpost, "hub", cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--data"), std::string::npos) << cmd;
  }
  auto publish = RunProcess({kOutpost, "publish", "--help"});
  EXPECT_EQ(publish.exit_code, 0);
  EXPECT_NE(publish.out.find("--channel"), std::string::npos);
}

}  // namespace
}  // namespace outpost
