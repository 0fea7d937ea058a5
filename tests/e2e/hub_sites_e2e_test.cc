// `outpost hub sites --json` with the real binary (issue #16 items 3 and 5): a school syncs
// with its hub over loopback and the hub lists it with its software version, disk free and
// served versions, seen by link; its next report comes by stick, and the hub says so.
#include <gtest/gtest.h>
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

nlohmann::json Json(const testing::ProcessResult& r) { return testing::JsonOf(r); }

TEST(HubSitesE2eTest, ASchoolThatSyncedIsListedWithItsVersionAndDiskFreeThenByStick) {
  TempDir hub, school, stick;
  ASSERT_EQ(testing::OutpostOn(hub.path(), {"hub", "init"}).exit_code, 0);
  auto published = Json(testing::OutpostOn(hub.path(), {"publish", "--json", kDemo}));
  std::string channel = published["channel"].get<std::string>();
  int sync_port = FreePort();
  std::string address = "127.0.0.1:" + std::to_string(sync_port);
  int pid = testing::StartProcess({OUTPOST_BINARY, "hub", "serve", "--data", hub.path().string(), "--listen",
                                   "127.0.0.1:" + std::to_string(FreePort()), "--sync-listen", address});
  auto deadline = std::chrono::steady_clock::now() + kSafety;
  while (!Listening(sync_port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(Listening(sync_port));
  auto enrol = Json(testing::OutpostOn(hub.path(), {"hub", "enrol", "--name", "ecole-a", "--json"}));
  ASSERT_EQ(testing::OutpostOn(school.path(), {"join", address, enrol["code"].get<std::string>()}).exit_code, 0);
  auto synced = Json(testing::OutpostOn(school.path(), {"sync", "--json"}));
  ::kill(pid, SIGTERM);
  testing::WaitProcess(pid);
  ASSERT_EQ(synced["complete"], true) << synced.dump();

  auto sites = Json(testing::OutpostOn(hub.path(), {"hub", "sites", "--json"}))["sites"];
  ASSERT_EQ(sites.size(), 1u);
  const auto& a = sites[0];
  EXPECT_EQ(a["name"], "ecole-a");
  EXPECT_EQ(a["last_via"], "link");
  EXPECT_GT(a["last_seen"].get<int64_t>(), 0);
  ASSERT_TRUE(a["report"].is_object()) << a.dump();
  EXPECT_EQ(a["report"]["software"], "0.1.0");
  EXPECT_GT(a["report"]["disk_free"].get<uint64_t>(), 0u);
  EXPECT_GE(a["report"]["disk_total"].get<uint64_t>(), a["report"]["disk_free"].get<uint64_t>());
  EXPECT_EQ(a["report"]["via"], "link");
  ASSERT_EQ(a["report"]["served"].size(), 1u);
  EXPECT_EQ(a["report"]["served"][0]["channel"], channel);
  EXPECT_EQ(a["report"]["served"][0]["version"], 1);
  EXPECT_EQ(a["report"]["served"][0]["behind"], false);
  EXPECT_EQ(a["report"]["behind"], 0);

  // The hub publishes again; the school's next report comes by stick, and it is behind.
  TempDir edited;
  fs::copy(kDemo, edited.path() / "c", fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(edited.path() / "c")) {
    if (e.path().extension() == ".html") {
      std::ofstream(e.path(), std::ios::app) << "<!-- v2 -->\n";
      break;
    }
  }
  ASSERT_EQ(testing::OutpostOn(hub.path(), {"publish", (edited.path() / "c").string(), "--channel", channel}).exit_code, 0);
  ASSERT_EQ(testing::OutpostOn(school.path(), {"bundle", "export", "--to", stick.path().string()}).exit_code, 0);
  auto imported = testing::OutpostOn(hub.path(), {"bundle", "import", stick.path().string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  auto after = Json(testing::OutpostOn(hub.path(), {"hub", "sites", "--json"}))["sites"][0];
  EXPECT_EQ(after["last_via"], "stick");
  EXPECT_EQ(after["report"]["via"], "stick");
  EXPECT_EQ(after["report"]["served"][0]["latest"], 2);
  EXPECT_EQ(after["report"]["served"][0]["behind"], true);
  EXPECT_EQ(after["report"]["behind"], 1);
}

}  // namespace
}  // namespace outpost
