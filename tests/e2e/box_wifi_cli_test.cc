// `outpost box wifi`: the box's own Wi-Fi configured from the shell, as docs/install.md does it,
// written under a folder standing in for / (--root). dnsmasq (Debian's dnsmasq-base,
// deploy/install-deps.sh) checks the syntax of what it writes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunProcess;
using testing::TempDir;

constexpr char kDnsmasq[] = "/usr/sbin/dnsmasq";

class BoxWifiCliTest : public ::testing::Test {
 protected:
  ProcessResult Wifi(std::vector<std::string> args) {
    args.insert(args.begin(), {OUTPOST_BINARY, "box", "wifi", "--root", root_.path().string()});
    return RunProcess(args);
  }
  std::string Read(const std::string& path) {
    std::ifstream in(root_.path() / fs::path(path).relative_path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  unsigned Mode(const std::string& path) {
    struct stat st {};
    if (::stat((root_.path() / fs::path(path).relative_path()).c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }
  size_t FilesUnderRoot() {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_.path())) n += e.is_regular_file();
    return n;
  }
  // `dnsmasq --test` on a file written under the root: its own syntax check.
  void ExpectDnsmasqAccepts(const std::string& path) {
    ASSERT_TRUE(fs::exists(kDnsmasq)) << "dnsmasq is missing: run deploy/install-deps.sh";
    fs::path file = root_.path() / fs::path(path).relative_path();
    ProcessResult r = RunProcess({kDnsmasq, "--test", "-C", file.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("syntax check OK"), std::string::npos) << r.out << r.err;
  }

  TempDir root_;
};

TEST_F(BoxWifiCliTest, DryRunPrintsEveryFileWithItsPathAndWritesNothing) {
  ProcessResult r = Wifi({"--ssid", "École Nyeri", "--country", "KE", "--channel", "11",
                          "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string root = root_.path().string();
  for (const char* file : {"/etc/hostapd/hostapd.conf (mode 0600)",
                           "/etc/dnsmasq.d/outpost-wifi.conf (mode 0644)",
                           "/etc/network/interfaces.d/outpost-wlan0 (mode 0644)",
                           "/etc/avahi/services/outpost.service (mode 0644)",
                           "/etc/outpost/outpost.toml (mode 0644)"}) {
    EXPECT_NE(r.out.find("==> " + root + file), std::string::npos) << file << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("\nssid=École Nyeri\n"), std::string::npos);
  EXPECT_NE(r.out.find("\nchannel=11\n"), std::string::npos);
  EXPECT_NE(r.out.find("portal_name = \"outpost.lan\""), std::string::npos);
  EXPECT_EQ(FilesUnderRoot(), 0u);
}

TEST_F(BoxWifiCliTest, HostapdBackendWritesFilesDnsmasqAcceptsAndKeepsTheServersSettings) {
  fs::create_directories(root_.path() / "etc/outpost");
  std::ofstream(root_.path() / "etc/outpost/outpost.toml") << "# the box\nthreads = 4\n";
  root_.Write("secret", "lessons-4-all\n");
  ProcessResult r = Wifi({"--ssid", "Outpost", "--country", "FR", "--passphrase-file",
                          (root_.path() / "secret").string(), "--name", "ecole.lan"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("systemctl"), std::string::npos) << r.out;  // what to run next

  std::string hostapd = Read("/etc/hostapd/hostapd.conf");
  EXPECT_EQ(Mode("/etc/hostapd/hostapd.conf"), 0600u);  // it holds the passphrase
  EXPECT_NE(hostapd.find("\nwpa_passphrase=lessons-4-all\n"), std::string::npos);
  // hostapd has no syntax check of its own: every line is a comment or KEY=VALUE.
  std::istringstream lines(hostapd);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.empty() || line[0] == '#' ||
                std::regex_match(line, std::regex("[a-z0-9_]+=[^\\r]+")))
        << line;
  }
  EXPECT_EQ(Mode("/etc/dnsmasq.d/outpost-wifi.conf"), 0644u);
  EXPECT_NE(Read("/etc/dnsmasq.d/outpost-wifi.conf").find("address=/ecole.lan/10.42.0.1"),
            std::string::npos);
  ExpectDnsmasqAccepts("/etc/dnsmasq.d/outpost-wifi.conf");
  EXPECT_EQ(Mode("/etc/avahi/services/outpost.service"), 0644u);
  EXPECT_EQ(Read("/etc/outpost/outpost.toml"),
            "# the box\nthreads = 4\nportal_name = \"ecole.lan\"\n");

  // Run again with another name: the same files, the settings file's line replaced.
  ASSERT_EQ(Wifi({"--ssid", "Outpost", "--country", "FR"}).exit_code, 0);
  EXPECT_EQ(Read("/etc/outpost/outpost.toml"),
            "# the box\nthreads = 4\nportal_name = \"outpost.lan\"\n");
  EXPECT_EQ(Read("/etc/hostapd/hostapd.conf").find("wpa="), std::string::npos);  // open again
}

TEST_F(BoxWifiCliTest, NetworkManagerBackendWritesAPrivateConnectionAndItsDnsmasqSnippet) {
  ProcessResult r = Wifi({"--ssid", "Outpost", "--backend", "networkmanager"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string conn = "/etc/NetworkManager/system-connections/outpost-wifi.nmconnection";
  EXPECT_EQ(Mode(conn), 0600u);
  EXPECT_NE(Read(conn).find("\nmethod=shared\n"), std::string::npos);
  ExpectDnsmasqAccepts("/etc/NetworkManager/dnsmasq-shared.d/outpost-wifi.conf");
  EXPECT_FALSE(fs::exists(root_.path() / "etc/hostapd"));
}

TEST_F(BoxWifiCliTest, ABadValueIsRefusedWithItsFlagAndNothingIsWritten) {
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  std::vector<Case> cases = {
      {{"--ssid", "a\nwpa=0", "--country", "KE"}, "--ssid"},
      {{"--ssid", std::string(33, 'x'), "--country", "KE"}, "--ssid"},
      {{"--ssid", "Outpost"}, "--country"},
      {{"--ssid", "Outpost", "--country", "FR", "--channel", "14"}, "--channel"},
      {{"--ssid", "Outpost", "--country", "KE", "--address", "8.8.8.8/24"}, "--address"},
      {{"--ssid", "Outpost", "--country", "KE", "--name", "a\naddress=/#/1.2.3.4"}, "--name"},
      {{"--ssid", "Outpost", "--country", "KE", "--interface", "wlan0 x"}, "--interface"},
  };
  for (const Case& c : cases) {
    ProcessResult r = Wifi(c.args);
    EXPECT_NE(r.exit_code, 0) << c.flag;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
  }
  EXPECT_EQ(FilesUnderRoot(), 0u);
}

// What `box wifi` wrote is what `serve --config` reads: the captive portal answers.
TEST_F(BoxWifiCliTest, TheServerReadsThePortalNameAndRedirectsForeignHosts) {
  ASSERT_EQ(Wifi({"--ssid", "Outpost", "--country", "KE"}).exit_code, 0);
  TempDir data;
  testing::LoggedProcess serve({OUTPOST_BINARY, "serve", "--data", data.path().string(),
                                "--config", (root_.path() / "etc/outpost/outpost.toml").string(),
                                "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(serve.WaitForLine("serving ")) << serve.log();
  size_t at = serve.log().find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << serve.log();
  httplib::Client client("127.0.0.1", std::stoi(serve.log().substr(at + 17)));
  auto check = client.Get("/hotspot-detect.html", {{"Host", "captive.apple.com"}});
  ASSERT_TRUE(check);
  EXPECT_EQ(check->status, 302);
  EXPECT_EQ(check->get_header_value("Location"), "http://outpost.lan/");
  auto home = client.Get("/");  // by address
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
}

TEST_F(BoxWifiCliTest, ServeRefusesAPortalNameThatIsNotADnsName) {
  TempDir data;
  ProcessResult r = RunProcess({OUTPOST_BINARY, "serve", "--data", data.path().string(),
                                "--listen", "127.0.0.1:0", "--portal-name", "outpost lan"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--portal-name"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace outpost
