// A school that never sees a link, by the command line: it joins from an enrolment file, its
// first stick enrols it at the hub, the hub's stick brings the curriculum, and the school's own
// lessons go back by the next one. A stick too small for the bundle is filled and the export
// continues on the next.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "outpost_cli.h"
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
    return testing::OutpostOn(dir.path(), std::move(args));
  }
  static nlohmann::json Json(const testing::ProcessResult& r) { return testing::JsonOf(r); }
  TempDir hub_, site_, stick_, src_;
};

TEST_F(BundleCliTest, ASchoolWithoutALinkEnrolsAndSyncsByStick) {
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  ASSERT_EQ(On(hub_, {"publish", kDemo}).exit_code, 0);
  fs::path enrolment = src_.path() / "ecole.opef";
  ASSERT_EQ(On(hub_, {"hub", "enrol", "--name", "ecole-sans-lien", "--to", enrolment.string()}).exit_code, 0);
  ASSERT_EQ(On(site_, {"join", enrolment.string()}).exit_code, 0);

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

// The courier who carries the enrolment file carries the first lessons on the same trip: the
// hub seals them to the file's key right after `hub enrol`, the school serves them before the
// hub has ever heard from it, and its own stick back enrols it; the hub's next stick is for the
// school's own key.
TEST_F(BundleCliTest, TheCourierOfTheEnrolmentFileCarriesTheFirstLessons) {
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  ASSERT_EQ(On(hub_, {"publish", kDemo}).exit_code, 0);
  fs::path enrolment = src_.path() / "ecole.opef";
  ASSERT_EQ(On(hub_, {"hub", "enrol", "--name", "ecole-loin", "--to", enrolment.string()}).exit_code, 0);
  fs::path first = stick_.path() / "first";
  fs::create_directories(first);
  auto sealed = Json(On(hub_, {"bundle", "export", "--to", first.string(), "--for", "ecole-loin", "--json"}));
  EXPECT_EQ(sealed["sealed_to_file"], nlohmann::json::array({"ecole-loin"})) << sealed.dump();
  auto text = On(hub_, {"bundle", "export", "--to", (src_.path()).string(), "--for", "ecole-loin"});
  EXPECT_NE(text.out.find("ecole-loin has not enrolled yet: sealed to its enrolment file"), std::string::npos)
      << text.out;

  // At the school: the file, then the stick; the lessons are served.
  ASSERT_EQ(On(site_, {"join", enrolment.string()}).exit_code, 0);
  auto imported = Json(On(site_, {"bundle", "import", first.string(), "--json"}));
  EXPECT_EQ(imported["complete"], true) << imported.dump();
  auto hub_channels = Json(On(hub_, {"channels", "--json"}));
  auto site_channels = Json(On(site_, {"channels", "--json"}));
  ASSERT_EQ(site_channels.size(), hub_channels.size());
  EXPECT_EQ(site_channels[0]["manifest"], hub_channels[0]["manifest"]);
  EXPECT_EQ(On(site_, {"verify"}).exit_code, 0);

  // The school's stick back enrols it; the hub's next stick is addressed to its node key.
  fs::path up = stick_.path() / "up";
  fs::create_directories(up);
  Json(On(site_, {"bundle", "export", "--to", up.string(), "--json"}));
  EXPECT_EQ(Json(On(hub_, {"bundle", "import", up.string(), "--json"}))["complete"], true);
  auto sites = Json(On(hub_, {"hub", "sites", "--json"}));
  ASSERT_EQ(sites["sites"].size(), 1u);
  EXPECT_EQ(sites["sites"][0]["name"], "ecole-loin");
  fs::path next = stick_.path() / "next";
  fs::create_directories(next);
  auto later = Json(On(hub_, {"bundle", "export", "--to", next.string(), "--for", "ecole-loin", "--json"}));
  EXPECT_EQ(later["sealed_to_file"], nlohmann::json::array()) << later.dump();
  EXPECT_EQ(Json(On(site_, {"bundle", "import", next.string(), "--json"}))["complete"], true);
}

// A code only printed cannot be sealed to: the refusal says so and what to do.
TEST_F(BundleCliTest, ABundleForACodeOnlyPrintedIsRefusedSayingWhatToDo) {
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  ASSERT_EQ(On(hub_, {"hub", "enrol", "--name", "ecole-code"}).exit_code, 0);
  auto r = On(hub_, {"bundle", "export", "--to", stick_.path().string(), "--for", "ecole-code"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("ecole-code has not enrolled yet; its code was printed, not written to a file"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(stick_.path()));
}

TEST_F(BundleCliTest, ContinuingNeedsAnUnfinishedExport) {
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  auto none = On(hub_, {"bundle", "export", "--to", stick_.path().string(), "--continue"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no unfinished export"), std::string::npos) << none.err;
  auto named = On(hub_, {"bundle", "export", "--continue", "3f2a9c1e", "--to", stick_.path().string()});
  EXPECT_EQ(named.exit_code, 1);
  EXPECT_NE(named.err.find("no unfinished export"), std::string::npos) << named.err;
  // A continuation keeps the sites and --full it began with.
  auto both = On(hub_, {"bundle", "export", "--to", stick_.path().string(), "--continue", "--for", "all"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_TRUE(fs::is_empty(stick_.path()));
  // Nothing to list, nothing to forget.
  auto list = On(hub_, {"bundle", "unfinished", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out), nlohmann::json::array());
  auto plain = On(hub_, {"bundle", "unfinished"});
  EXPECT_NE(plain.out.find("no unfinished export"), std::string::npos) << plain.out;
  auto forget = On(hub_, {"bundle", "unfinished", "--abandon", "3f2a9c1e"});
  EXPECT_EQ(forget.exit_code, 1);
  EXPECT_NE(forget.err.find("no unfinished export"), std::string::npos) << forget.err;
}

// The small stick is a real 3 MiB tmpfs, mounted in a user and mount namespace of the export's
// own (unshare), so the kernel decides what fits; each run sees a fresh, empty one, and what it
// wrote is copied out before the namespace goes.
class SmallStick {
 public:
  static bool Possible() {
    TempDir probe;
    return RunProcess({"/usr/bin/env", "unshare", "--user", "--map-root-user", "--mount", "/bin/sh", "-c",
                       "mount -t tmpfs -o size=3m tmpfs \"$0\"", probe.path().string()})
               .exit_code == 0;
  }
  // Runs `outpost ARGS... --to <the small stick>` and copies the stick's files into `copy_to`.
  static testing::ProcessResult Export(std::vector<std::string> args, const fs::path& copy_to) {
    TempDir mount_point;
    std::vector<std::string> argv = {
        "/usr/bin/env", "unshare", "--user", "--map-root-user", "--mount", "/bin/sh", "-c",
        "mount -t tmpfs -o size=3m tmpfs \"$0\" || exit 99; to=\"$0\"; dest=\"$1\"; shift; "
        "\"$@\" --to \"$to\"; rc=$?; cp -a \"$to/.\" \"$dest/\"; exit $rc",
        mount_point.path().string(), copy_to.string(), kOutpost};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
};

TEST_F(BundleCliTest, AFullStickIsContinuedOnTheNext) {
  if (!SmallStick::Possible()) GTEST_SKIP() << "no user namespaces here to mount a small stick in";
  ASSERT_EQ(On(hub_, {"hub", "init"}).exit_code, 0);
  src_.Write("film/outpost.toml", "[channel]\nid = \"film\"\ntitle = \"Film\"\nlanguage = \"fr\"\n");
  src_.Write("film/index.html", "<!DOCTYPE html><title>Film</title><video src=\"film.mp4\"></video>\n");
  src_.Write("film/film.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(4500000, 5));
  ASSERT_EQ(On(hub_, {"publish", (src_.path() / "film").string()}).exit_code, 0);
  // The school joins from a file; its first stick enrols it.
  fs::path enrolment = src_.path() / "ecole.opef";
  ASSERT_EQ(On(hub_, {"hub", "enrol", "--name", "ecole", "--to", enrolment.string()}).exit_code, 0);
  ASSERT_EQ(On(site_, {"join", enrolment.string()}).exit_code, 0);
  TempDir up, first, second, other, spare;
  Json(On(site_, {"bundle", "export", "--to", up.path().string(), "--json"}));
  Json(On(hub_, {"bundle", "import", up.path().string(), "--json"}));

  // The stick fills: whole volumes, then what to do next.
  std::string data = hub_.path().string();
  auto full = SmallStick::Export({"bundle", "export", "--data", data, "--for", "ecole"}, first.path());
  ASSERT_EQ(full.exit_code, 5) << full.out << full.err;
  EXPECT_NE(full.out.find("the drive is full: 1 volume(s), "), std::string::npos) << full.out;
  EXPECT_NE(full.out.find(" remain. Insert another drive and run: outpost bundle export --data " + data +
                          " --continue --to <its folder>"),
            std::string::npos)
      << full.out;
  ASSERT_EQ(full.out.rfind("bundle ", 0), 0u) << full.out;
  std::string id = full.out.substr(7, 8);
  for (const auto& e : fs::directory_iterator(first.path())) {
    EXPECT_EQ(e.path().filename().string().rfind("outpost-" + id + "-", 0), 0u) << e.path();
  }
  // Another export to another small stick, as JSON.
  auto again = SmallStick::Export({"bundle", "export", "--data", data, "--for", "ecole", "--json"}, other.path());
  ASSERT_EQ(again.exit_code, 5) << again.out << again.err;
  auto j = nlohmann::json::parse(again.out, nullptr, false);
  EXPECT_EQ(j["complete"], false) << again.out;
  EXPECT_GT(j["remaining_bytes"].get<uint64_t>(), 1000000u);
  EXPECT_EQ(j["volumes"].size(), 1u);

  // Two are unfinished: `bundle unfinished` lists them, and --continue must say which.
  auto listed = Json(On(hub_, {"bundle", "unfinished", "--json"}));
  ASSERT_EQ(listed.size(), 2u) << listed.dump();
  EXPECT_EQ(listed[0]["recipients"], nlohmann::json::array({"ecole"}));
  EXPECT_NE(On(hub_, {"bundle", "unfinished"}).out.find("--continue " + id), std::string::npos);
  auto which = On(hub_, {"bundle", "export", "--to", second.path().string(), "--continue"});
  EXPECT_EQ(which.exit_code, 1);
  EXPECT_NE(which.err.find(id), std::string::npos) << which.err;
  EXPECT_NE(which.err.find(j["bundle"].get<std::string>().substr(0, 8)), std::string::npos) << which.err;
  auto rest = Json(On(hub_, {"bundle", "export", "--continue", id, "--to", second.path().string(), "--json"}));
  EXPECT_EQ(rest["complete"], true);
  EXPECT_EQ(rest["remaining_bytes"], 0);
  EXPECT_EQ(rest["bundle"].get<std::string>().substr(0, 8), id);
  // The other is the only one left.
  Json(On(hub_, {"bundle", "export", "--to", spare.path().string(), "--continue"}));
  EXPECT_EQ(On(hub_, {"bundle", "export", "--to", spare.path().string(), "--continue"}).exit_code, 1);

  // The school imports the first stick (incomplete: exit 5), then the second.
  auto one = On(site_, {"bundle", "import", first.path().string(), "--json"});
  EXPECT_EQ(one.exit_code, 5) << one.out << one.err;
  auto two = Json(On(site_, {"bundle", "import", second.path().string(), "--json"}));
  EXPECT_EQ(two["complete"], true) << two.dump();
  auto hub_channels = Json(On(hub_, {"channels", "--json"}));
  auto site_channels = Json(On(site_, {"channels", "--json"}));
  ASSERT_EQ(site_channels.size(), 1u);
  EXPECT_EQ(site_channels[0]["manifest"], hub_channels[0]["manifest"]);
  EXPECT_EQ(On(site_, {"verify"}).exit_code, 0);
}

}  // namespace
}  // namespace outpost
