// Hub and site as separate `outpost` processes, the site reaching the hub through the link
// simulator: a 600 ms round trip, 1 Mbit/s, and the connection cut about every 2 MB (by seed).
// The sync is run again after each cut until it completes; the site must end up serving the
// hub's signed version with byte-identical files, and no cut may cost more than what was in
// flight. Labelled "linksim" (about a minute); CI runs it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "linksim/link_sim.h"
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

// How long a test waits for an event (a hub listening, bytes staged) before it fails: a safety
// net, never a measure. How long a sync takes is bench/sync.sh's business.
constexpr std::chrono::seconds kSafety{120};

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

std::string Incompressible(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 32);
  }
  return out;
}

class SyncE2eTest : public ::testing::Test {
 protected:
  // The bytes of the channel's folder: what a whole sync receives, at most (the video does not
  // compress), less the session's own few kB.
  uint64_t CorpusBytes() const {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(folder_.path())) {
      if (e.is_regular_file()) n += e.file_size();
    }
    return n;
  }
  void SetUp() override {
    // The demo curriculum plus 5 MB of video-like bytes, so that a 1 Mbit/s link takes a while
    // and gets cut several times.
    fs::copy(kDemo, folder_.path() / "water-cycle", fs::copy_options::recursive);
    for (int i = 0; i < 2; ++i) {
      folder_.Write("water-cycle/extra/lecture-" + std::to_string(i) + ".mp4",
                    std::string("\0\0\0\x18" "ftypisom", 12) + Incompressible(2500000, i + 1));
    }
    Ok(Hub({"hub", "init"}));
    auto published = Json(Hub({"publish", "--json", (folder_.path() / "water-cycle").string()}));
    ASSERT_EQ(published["new_version"], true);
    sync_port_ = FreePort();
    hub_pid_ = testing::StartProcess({kOutpost, "hub", "serve", "--data", hub_.path().string(),
                                      "--listen", "127.0.0.1:" + std::to_string(FreePort()),
                                      "--sync-listen", "127.0.0.1:" + std::to_string(sync_port_)});
    WaitForPort(sync_port_);
  }
  void TearDown() override {
    if (hub_pid_ > 0) {
      ::kill(hub_pid_, SIGTERM);
      testing::WaitProcess(hub_pid_);
    }
  }

  // Waits until something listens on `port` (a hub that has started); fails only after kSafety.
  static void WaitForPort(int port) {
    auto deadline = std::chrono::steady_clock::now() + kSafety;
    while (std::chrono::steady_clock::now() < deadline) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the hub did not listen on " << port;
  }
  testing::ProcessResult Hub(std::vector<std::string> args) { return On(hub_, std::move(args)); }
  testing::ProcessResult Site(std::vector<std::string> args) { return On(site_, std::move(args)); }
  static testing::ProcessResult On(const TempDir& dir, std::vector<std::string> args) {
    return testing::OutpostOn(dir.path(), std::move(args));
  }
  static void Ok(const testing::ProcessResult& r) { ASSERT_EQ(r.exit_code, 0) << r.out << r.err; }
  static nlohmann::json Json(const testing::ProcessResult& r) { return testing::JsonOf(r); }
  void Join() {
    auto enrol = Json(Hub({"hub", "enrol", "--name", "ecole-port", "--json"}));
    ASSERT_TRUE(enrol.contains("code")) << enrol.dump();
    Ok(Site({"join", "127.0.0.1:" + std::to_string(sync_port_), enrol["code"].get<std::string>()}));
  }

  TempDir hub_, site_, folder_;
  int hub_pid_ = -1;
  int sync_port_ = 0;
};

TEST_F(SyncE2eTest, ABadSatelliteLinkThatDropsEveryTwoMegabytesStillDeliversEverything) {
  Join();
  linksim::Config link;
  link.target_port = static_cast<uint16_t>(sync_port_);
  link.latency_ms = 300;  // 600 ms round trip
  link.rate_kbps = 1000;
  link.cut_random_mean = 2000000;
  link.seed = 42;
  auto sim = linksim::LinkSim::Start(link);
  ASSERT_TRUE(sim.has_value()) << sim.error().message();
  std::string via = "127.0.0.1:" + std::to_string((*sim)->port());

  uint64_t received = 0;
  int runs = 0;
  nlohmann::json last;
  for (; runs < 12; ++runs) {
    auto r = Site({"sync", "--hub", via, "--json"});
    last = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(last.is_object()) << r.out << r.err;
    received += last["bytes_received"].get<uint64_t>();
    if (r.exit_code == 0 && last["complete"] == true) break;
  }
  ASSERT_EQ(last["complete"], true) << last.dump();
  EXPECT_GT((*sim)->counters().cuts, 0u) << "the link was never cut: the test proves nothing";
  // Every cut wastes at most what was in flight (the window) plus the handshake and offer.
  EXPECT_LT(received, CorpusBytes() + runs * 600000u) << "runs " << runs;

  auto hub_channels = Json(Hub({"channels", "--json"}));
  auto site_channels = Json(Site({"channels", "--json"}));
  ASSERT_EQ(site_channels.size(), 1u);
  EXPECT_EQ(site_channels[0]["id"], hub_channels[0]["id"]);
  EXPECT_EQ(site_channels[0]["version"], hub_channels[0]["version"]);
  EXPECT_EQ(site_channels[0]["manifest"], hub_channels[0]["manifest"]);
  EXPECT_FALSE(site_channels[0]["manifest"].is_null());
  Ok(Site({"verify"}));

  // Once complete, a no-op sync over the same link: one round trip after TCP's (its wall time
  // is a figure of bench/sync.sh).
  linksim::Config calm = link;
  calm.cut_random_mean = 0;
  auto quiet = linksim::LinkSim::Start(calm);
  ASSERT_TRUE(quiet.has_value());
  auto noop = Json(Site({"sync", "--hub", "127.0.0.1:" + std::to_string((*quiet)->port()), "--json"}));
  EXPECT_EQ(noop["complete"], true);
  EXPECT_LE(noop["round_trips"].get<int>(), 3);
  EXPECT_TRUE(noop["channels_updated"].empty());
}

// The coordinator's "Sync now" (docs/console-actions.md): the site's `outpost serve` runs the
// sync as a job, through the link simulator; the console's JSON shows it under way with its
// bytes; Cancel stops it with what arrived staged; the second "Sync now" finishes it and
// fetches only the rest.
TEST_F(SyncE2eTest, TheConsoleSyncShowsProgressCancelsAndTheNextOneFinishes) {
  linksim::Config link;
  link.target_port = static_cast<uint16_t>(sync_port_);
  link.latency_ms = 50;
  link.rate_kbps = 4000;  // 5 MB take about ten seconds: time to see it under way
  auto sim = linksim::LinkSim::Start(link);
  ASSERT_TRUE(sim.has_value()) << sim.error().message();
  // The site pins the simulator's address: the console's sync goes through it.
  auto enrol = Json(Hub({"hub", "enrol", "--name", "ecole-port", "--json"}));
  Ok(Site({"join", "127.0.0.1:" + std::to_string((*sim)->port()), enrol["code"].get<std::string>()}));
  auto added = RunProcess({"/bin/sh", "-c",
                           "printf 'craie blanche 7\n' | \"$0\" users add --data \"$1\" --role "
                           "coordinator rana",
                           kOutpost, site_.path().string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  int web_port = FreePort();
  testing::LoggedProcess serve({kOutpost, "serve", "--data", site_.path().string(), "--listen",
                                "127.0.0.1:" + std::to_string(web_port)});
  ASSERT_TRUE(serve.WaitForLine("serving "));
  httplib::Client web("127.0.0.1", web_port);
  auto login = web.Post("/api/v1/login", R"({"name":"rana","password":"craie blanche 7"})",
                        "application/json");
  ASSERT_TRUE(login && login->status == 200);
  std::string cookie = login->get_header_value("Set-Cookie");
  httplib::Headers session = {
      {"Cookie", cookie.substr(0, cookie.find(';'))},
      {"X-CSRF-Token", nlohmann::json::parse(login->body)["csrf"].get<std::string>()}};
  auto jobs = [&] {
    auto r = web.Get("/api/v1/admin/jobs", session);
    EXPECT_TRUE(r && r->status == 200);
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  };
  // Until the job has ended (or kSafety: a safety net), the last answer.
  auto wait_until_ended = [&] {
    auto deadline = std::chrono::steady_clock::now() + kSafety;
    nlohmann::json j = jobs();
    while (!j["current"].is_null() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      j = jobs();
    }
    return j;
  };

  auto start = web.Post("/api/v1/admin/sync", session, "", "application/json");
  ASSERT_TRUE(start && start->status == 202) << (start ? start->body : "");
  auto again = web.Post("/api/v1/admin/sync", session, "", "application/json");
  ASSERT_TRUE(again && again->status == 409);  // one at a time
  // Under way: wait for its first bytes, then cancel.
  nlohmann::json running = jobs();
  auto deadline = std::chrono::steady_clock::now() + kSafety;
  while (running["current"].is_object() && running["current"]["bytes_done"] == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    running = jobs();
  }
  ASSERT_TRUE(running["current"].is_object()) << "the sync ended before it could be cancelled";
  EXPECT_EQ(running["current"]["phase"], "fetching");
  EXPECT_GT(running["current"]["bytes_total"].get<uint64_t>(), 5000000u);
  auto page = web.Get("/admin/sync", session);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("data-job-poll"), std::string::npos);  // a reload shows it too
  auto cancel = web.Delete("/api/v1/admin/sync", session);
  ASSERT_TRUE(cancel && cancel->status == 202);
  auto first = wait_until_ended()["sync"];
  ASSERT_EQ(first["state"], "cancelled") << first.dump();
  uint64_t first_bytes = first["result"]["bytes_received"].get<uint64_t>();
  EXPECT_GT(first_bytes, 0u);
  EXPECT_LT(first_bytes, CorpusBytes());
  EXPECT_TRUE(Json(Site({"channels", "--json"})).empty());  // nothing half-served

  start = web.Post("/api/v1/admin/sync", session, "", "application/json");
  ASSERT_TRUE(start && start->status == 202);
  auto second = wait_until_ended()["sync"];
  ASSERT_EQ(second["state"], "done") << second.dump();
  EXPECT_EQ(second["result"]["channels_updated"], 1);
  // What the first staged was not fetched again: the two together about one whole sync.
  uint64_t both = first_bytes + second["result"]["bytes_received"].get<uint64_t>();
  EXPECT_LT(both, CorpusBytes() + 600000u);
  auto site_channels = Json(Site({"channels", "--json"}));
  ASSERT_EQ(site_channels.size(), 1u);
  EXPECT_EQ(site_channels[0]["manifest"], Json(Hub({"channels", "--json"}))[0]["manifest"]);
}

// The upward path: a teacher's channel published on the site goes up to the hub through the
// same bad link, cut on the way, and the hub ends up serving the site's signed version.
TEST_F(SyncE2eTest, ASitesOwnChannelGoesUpThroughACutLink) {
  Join();
  Ok(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_)}));  // the curriculum, fast
  TempDir notes;
  notes.Write("outpost.toml", "[channel]\nid = \"ecole-port-notes\"\ntitle = \"Notes\"\nlanguage = \"fr\"\n");
  notes.Write("cours.html", "<!DOCTYPE html><title>Cours</title><p>La photosynthèse.</p>\n");
  notes.Write("tp/mesures.mp4", std::string("\0\0\0\x18" "ftypisom", 12) + Incompressible(1500000, 9));
  auto published = Json(Site({"publish", "--json", notes.path().string()}));
  ASSERT_EQ(published["new_version"], true) << published.dump();

  linksim::Config link;
  link.target_port = static_cast<uint16_t>(sync_port_);
  link.latency_ms = 300;
  link.rate_kbps = 1000;
  link.cut_random_mean = 700000;
  link.seed = 7;
  auto sim = linksim::LinkSim::Start(link);
  ASSERT_TRUE(sim.has_value()) << sim.error().message();
  std::string via = "127.0.0.1:" + std::to_string((*sim)->port());
  nlohmann::json last;
  uint64_t sent = 0;
  int runs = 0;
  for (; runs < 12; ++runs) {
    auto r = Site({"sync", "--hub", via, "--json"});
    last = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(last.is_object()) << r.out << r.err;
    sent += last["bytes_sent"].get<uint64_t>();
    if (r.exit_code == 0 && last["complete"] == true) break;
  }
  ASSERT_EQ(last["complete"], true) << last.dump();
  EXPECT_GT((*sim)->counters().cuts, 0u) << "the link was never cut: the test proves nothing";
  EXPECT_LT(sent, 1500000u + runs * 1200000u) << "runs " << runs;  // a cut loses the window at most
  ASSERT_EQ(last["channels_uploaded"].size(), 1u) << last.dump();
  EXPECT_EQ(last["channels_uploaded"][0]["state"], "served");

  auto hub_channels = Json(Hub({"channels", "--json"}));
  auto site_channels = Json(Site({"channels", "--json"}));
  auto find = [](const nlohmann::json& list, const std::string& id) {
    for (const auto& c : list) {
      if (c["id"] == id) return c;
    }
    return nlohmann::json();
  };
  auto at_hub = find(hub_channels, "ecole-port-notes");
  ASSERT_TRUE(at_hub.is_object()) << hub_channels.dump();
  EXPECT_EQ(at_hub["version"], 1);
  EXPECT_EQ(at_hub["manifest"], find(site_channels, "ecole-port-notes")["manifest"]);
  Ok(Hub({"verify"}));
  auto sites = Json(Hub({"hub", "sites", "--json"}));
  ASSERT_EQ(sites["sites"].size(), 1u);
  EXPECT_EQ(sites["sites"][0]["channels"], nlohmann::json::array({"ecole-port-notes"}));
}

// Refusals between processes: a link that tampers with the hub's bytes, and another hub answering
// at the address. Each is refused with a clear error and the site serves what it had, untouched;
// then the real hub's update goes through. (A hub that lies — a tampered chunk under a valid
// session, a replayed or an unauthorized manifest — is played by the fake hub of
// sync/src/session/session_test.cc, which speaks the real protocol with the hub's key.)
TEST_F(SyncE2eTest, ATamperingLinkAndAnotherHubAreRefusedWithNothingServedChanged) {
  Join();
  Ok(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_)}));
  auto before = Json(Site({"channels", "--json"}));
  folder_.Write("water-cycle/extra/notes.html", "<!DOCTYPE html><title>Notes</title><p>New.</p>\n");
  folder_.Write("water-cycle/extra/clip.mp4",
                std::string("\0\0\0\x18" "ftypisom", 12) + Incompressible(300000, 5));
  auto v2 = Json(Hub({"publish", "--json", (folder_.path() / "water-cycle").string()}));
  ASSERT_EQ(v2["new_version"], true);

  linksim::Config link;
  link.target_port = static_cast<uint16_t>(sync_port_);
  link.flip_to_client_at = 150000;  // inside the new video's chunks
  auto sim = linksim::LinkSim::Start(link);
  ASSERT_TRUE(sim.has_value()) << sim.error().message();
  auto tampered = Site({"sync", "--hub", "127.0.0.1:" + std::to_string((*sim)->port()), "--json"});
  EXPECT_NE(tampered.exit_code, 0);
  EXPECT_NE((tampered.out + tampered.err).find("authentication"), std::string::npos)
      << tampered.out << tampered.err;
  EXPECT_EQ(Json(Site({"channels", "--json"})), before);

  // Another hub (its own keys) where the site's hub should be.
  TempDir other;
  Ok(On(other, {"hub", "init"}));
  Ok(On(other, {"publish", (folder_.path() / "water-cycle").string()}));
  int other_port = FreePort();
  int other_pid = testing::StartProcess({kOutpost, "hub", "serve", "--data", other.path().string(),
                                         "--listen", "127.0.0.1:" + std::to_string(FreePort()),
                                         "--sync-listen", "127.0.0.1:" + std::to_string(other_port)});
  WaitForPort(other_port);
  auto impostor = Site({"sync", "--hub", "127.0.0.1:" + std::to_string(other_port), "--json"});
  ::kill(other_pid, SIGTERM);
  testing::WaitProcess(other_pid);
  EXPECT_NE(impostor.exit_code, 0);
  EXPECT_NE((impostor.out + impostor.err).find("pinned"), std::string::npos) << impostor.out << impostor.err;
  EXPECT_EQ(Json(Site({"channels", "--json"})), before);
  Ok(Site({"verify"}));

  auto real = Json(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_), "--json"}));
  EXPECT_EQ(real["complete"], true);
  EXPECT_EQ(Json(Site({"channels", "--json"}))[0]["version"], v2["version"]);
}

TEST_F(SyncE2eTest, KilledMidSyncTheSiteKeepsServingAndResumes) {
  Join();
  // A link slow enough (250 kB/s: the rest of the corpus takes about 20 s after the first
  // megabyte) that the test sees the megabyte staged long before the sync could finish.
  linksim::Config link;
  link.target_port = static_cast<uint16_t>(sync_port_);
  link.rate_kbps = 2000;
  auto sim = linksim::LinkSim::Start(link);
  ASSERT_TRUE(sim.has_value());
  std::string via = "127.0.0.1:" + std::to_string((*sim)->port());
  // kill -9 the site's sync once a megabyte is staged (not after a fixed time: a loaded machine
  // may take seconds to start it): part of the files are staged, nothing is served.
  auto staged = [&] {
    uint64_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(site_.path() / "staging", ec)) {
      if (e.is_regular_file(ec) && e.path().extension() == ".log") n += e.file_size(ec);
    }
    return n;
  };
  int pid = testing::StartProcess({kOutpost, "sync", "--data", site_.path().string(), "--hub", via});
  auto deadline = std::chrono::steady_clock::now() + kSafety;
  while (staged() < 1000000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  testing::WaitProcess(pid);
  uint64_t kept = staged();
  ASSERT_GE(kept, 1000000u);
  auto during = Json(Site({"channels", "--json"}));
  EXPECT_TRUE(during.empty());
  // Resumed straight to the hub: the slow link was only there to kill the sync in the middle.
  auto resumed = Json(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_), "--json"}));
  EXPECT_EQ(resumed["complete"], true) << resumed.dump();
  // What the killed run staged was not asked for again: at most the corpus less what was kept,
  // with 200 kB for a torn last record and the offer.
  EXPECT_LT(resumed["bytes_received"].get<uint64_t>(), CorpusBytes() + 200000u - kept);
  auto site_channels = Json(Site({"channels", "--json"}));
  ASSERT_EQ(site_channels.size(), 1u);
  Ok(Site({"verify"}));
}

TEST_F(SyncE2eTest, ARevokedSiteIsRefusedAndServesWhatItHad) {
  Join();
  auto first = Json(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_), "--json"}));
  ASSERT_EQ(first["complete"], true);
  Ok(Hub({"hub", "revoke", "ecole-port"}));
  auto refused = Site({"sync", "--json"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE((refused.out + refused.err).find("revoked"), std::string::npos) << refused.out << refused.err;
  auto site_channels = Json(Site({"channels", "--json"}));
  EXPECT_EQ(site_channels.size(), 1u);
}

// `outpost status --json` as a script on the box reads it: never synced; then, after a sync the
// budget stopped, how far behind and what the rest costs; after the next, up to date.
TEST_F(SyncE2eTest, StatusSaysHowFarBehindTheHubTheSiteIsAndHowItsLastSyncEnded) {
  Join();
  auto before = Json(Site({"status", "--json"}));
  EXPECT_EQ(before["sync"]["joined"], true);
  EXPECT_EQ(before["sync"]["last"], nullptr);
  EXPECT_EQ(before["sync"]["days_since_sync"], -1);
  EXPECT_TRUE(before["channels"].empty());
  EXPECT_EQ(before["software_version"], "0.1.0");
  EXPECT_FALSE(before.contains("process"));  // the server's, not this command's
  auto stopped = Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_), "--budget", "1",
                       "--json"});
  ASSERT_EQ(stopped.exit_code, 5) << stopped.out << stopped.err;  // incomplete: the budget
  auto behind = Json(Site({"status", "--json"}));
  ASSERT_EQ(behind["channels"].size(), 1u);
  EXPECT_EQ(behind["channels"][0]["id"], "water-cycle");
  EXPECT_EQ(behind["channels"][0]["hub_version"], 1);
  EXPECT_EQ(behind["channels"][0]["behind"], true);
  EXPECT_GE(behind["sync"]["next_sync_bytes"].get<uint64_t>(), 5'000'000u);  // the two videos
  EXPECT_EQ(behind["sync"]["channels_behind"], 1);
  EXPECT_EQ(behind["sync"]["last"]["ok"], true);
  EXPECT_EQ(behind["sync"]["last"]["complete"], false);
  EXPECT_EQ(behind["sync"]["last"]["message"], "stopped at the data budget");
  EXPECT_GT(behind["staging_bytes"].get<uint64_t>(), 0u);  // what the budget let through
  Ok(Site({"sync", "--hub", "127.0.0.1:" + std::to_string(sync_port_)}));
  auto after = Json(Site({"status", "--json"}));
  EXPECT_EQ(after["channels"][0]["served_version"], 1);
  EXPECT_EQ(after["channels"][0]["behind"], false);
  EXPECT_EQ(after["sync"]["channels_behind"], 0);
  EXPECT_EQ(after["sync"]["last"]["complete"], true);
  EXPECT_EQ(after["sync"]["days_since_sync"], 0);
  EXPECT_GT(after["content_bytes"].get<uint64_t>(), 5'000'000u);
  auto text = Site({"status"});
  Ok(text);
  EXPECT_NE(text.out.find("up to date with what the hub last offered"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace outpost
