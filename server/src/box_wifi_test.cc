#include "outpost/server/box_wifi.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "outpost/base/file.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

WifiOptions Kenya() {
  WifiOptions o;
  o.ssid = "Bibliothèque";
  o.country = "KE";
  return o;
}

std::map<std::string, WifiFile> ByPath(const WifiOptions& o) {
  auto files = RenderWifiFiles(o);
  EXPECT_TRUE(files.has_value()) << files.error().message();
  std::map<std::string, WifiFile> out;
  if (files) {
    for (auto& f : *files) out[f.path] = f;
  }
  return out;
}

// Whether `text` has `line` as one whole line.
bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(BoxWifiTest, SsidIsOneToThirtyTwoBytesOfPrintableUtf8) {
  EXPECT_TRUE(CheckSsid("Outpost").ok());
  EXPECT_TRUE(CheckSsid("مكتبة المدرسة").ok());       // 25 bytes
  EXPECT_TRUE(CheckSsid(std::string(32, 'a')).ok());
  EXPECT_FALSE(CheckSsid(std::string(33, 'a')).ok());
  EXPECT_FALSE(CheckSsid("مكتبة المدرسة الثانوية").ok());  // 22 letters, 42 bytes
  EXPECT_FALSE(CheckSsid("").ok());
  EXPECT_FALSE(CheckSsid("a\nchannel=1").ok());
  EXPECT_FALSE(CheckSsid("tab\there").ok());
  EXPECT_FALSE(CheckSsid("del\x7f").ok());
  EXPECT_FALSE(CheckSsid("c1\xc2\x85").ok());       // U+0085, NEL
  EXPECT_FALSE(CheckSsid("bad\xff").ok());
  EXPECT_FALSE(CheckSsid("cut\xc3").ok());          // a sequence cut short
  EXPECT_FALSE(CheckSsid("over\xc0\xaf").ok());     // overlong '/'
  EXPECT_FALSE(CheckSsid("sur\xed\xa0\x80").ok());  // a surrogate
  EXPECT_FALSE(CheckSsid(" edge").ok());
  EXPECT_FALSE(CheckSsid("edge ").ok());
}

TEST(BoxWifiTest, ChannelFollowsTheCountrysRules) {
  EXPECT_TRUE(CheckChannel(1, "KE").ok());
  EXPECT_TRUE(CheckChannel(13, "FR").ok());
  EXPECT_FALSE(CheckChannel(0, "FR").ok());
  EXPECT_FALSE(CheckChannel(14, "FR").ok());
  EXPECT_TRUE(CheckChannel(14, "JP").ok());
  EXPECT_FALSE(CheckChannel(12, "US").ok());
  EXPECT_TRUE(CheckChannel(11, "US").ok());
  EXPECT_FALSE(CheckChannel(36, "FR").ok());  // 5 GHz: not offered
}

TEST(BoxWifiTest, CountryIsTwoCapitalLetters) {
  EXPECT_TRUE(CheckCountry("KE").ok());
  EXPECT_FALSE(CheckCountry("ke").ok());
  EXPECT_FALSE(CheckCountry("KEN").ok());
  EXPECT_FALSE(CheckCountry("").ok());
  EXPECT_FALSE(CheckCountry("K\n").ok());
}

TEST(BoxWifiTest, InterfaceNameFollowsLinuxRules) {
  EXPECT_TRUE(CheckInterfaceName("wlan0").ok());
  EXPECT_TRUE(CheckInterfaceName("wlx00c0ca123456").ok());  // 15 characters
  EXPECT_FALSE(CheckInterfaceName("wlx00c0ca1234567").ok());
  EXPECT_FALSE(CheckInterfaceName("").ok());
  EXPECT_FALSE(CheckInterfaceName("..").ok());
  EXPECT_FALSE(CheckInterfaceName("wlan0/x").ok());
  EXPECT_FALSE(CheckInterfaceName("wlan0\ndriver=x").ok());
  EXPECT_FALSE(CheckInterfaceName("wl an").ok());
}

TEST(BoxWifiTest, AddressIsAPrivateHostOfASmallSubnet) {
  auto net = ParseWifiAddress("10.42.0.1/24");
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(Ipv4Text(net->address), "10.42.0.1");
  EXPECT_EQ(Ipv4Text(net->mask()), "255.255.255.0");
  EXPECT_TRUE(ParseWifiAddress("192.168.4.1/30").has_value());
  EXPECT_TRUE(ParseWifiAddress("172.31.255.254/24").has_value());
  for (const char* bad : {"10.42.0.1", "10.42.0.1/23", "10.42.0.1/31", "8.8.8.8/24",
                          "172.32.0.1/24", "10.42.0.0/24", "10.42.0.255/24", "10.42.0.256/24",
                          "10.42.0.01/24", "10.42.0/24", "10.42.0.1.5/24", "10.42.0.1/24\n",
                          "10.42.0.1/+24", " 10.42.0.1/24"}) {
    EXPECT_FALSE(ParseWifiAddress(bad).has_value()) << bad;
  }
}

TEST(BoxWifiTest, NameIsADnsName) {
  EXPECT_TRUE(CheckDnsName("outpost.lan").ok());
  EXPECT_TRUE(CheckDnsName("ecole-1.local").ok());
  EXPECT_TRUE(CheckDnsName("library").ok());
  for (const char* bad : {"", "-a.lan", "a-.lan", "a..lan", ".lan", "a.lan.", "a_b.lan",
                          "10.42.0.1", "a lan", "a.lan\naddress=/#/1.2.3.4", "école.lan"}) {
    EXPECT_FALSE(CheckDnsName(bad).ok()) << bad;
  }
  EXPECT_FALSE(CheckDnsName(std::string(64, 'a') + ".lan").ok());
  EXPECT_TRUE(CheckDnsName(std::string(63, 'a') + ".lan").ok());
}

TEST(BoxWifiTest, PassphraseIsEmptyOrWpa2Sized) {
  EXPECT_TRUE(CheckPassphrase("").ok());
  EXPECT_TRUE(CheckPassphrase("12345678").ok());
  EXPECT_TRUE(CheckPassphrase(std::string(63, 'x')).ok());
  EXPECT_FALSE(CheckPassphrase("1234567").ok());
  EXPECT_FALSE(CheckPassphrase(std::string(64, 'x')).ok());
  EXPECT_FALSE(CheckPassphrase("12345678\nwpa=0").ok());
  EXPECT_FALSE(CheckPassphrase("pass phrasé").ok());
}

TEST(BoxWifiTest, HostapdNeedsACountryAndAKnownBackend) {
  WifiOptions o = Kenya();
  o.country.clear();
  EXPECT_FALSE(RenderWifiFiles(o).has_value());
  o.backend = "networkmanager";
  EXPECT_TRUE(RenderWifiFiles(o).has_value());
  o.backend = "wpa_supplicant";
  EXPECT_FALSE(RenderWifiFiles(o).has_value());
}

TEST(BoxWifiTest, HostapdBackendWritesAnOpenAccessPointDhcpDnsAndAnAddress) {
  auto files = ByPath(Kenya());
  ASSERT_EQ(files.size(), 4u);
  const std::string& hostapd = files["/etc/hostapd/hostapd.conf"].text;
  EXPECT_TRUE(HasLine(hostapd, "ssid=Bibliothèque"));
  EXPECT_TRUE(HasLine(hostapd, "interface=wlan0"));
  EXPECT_TRUE(HasLine(hostapd, "country_code=KE"));
  EXPECT_TRUE(HasLine(hostapd, "channel=6"));
  EXPECT_EQ(hostapd.find("wpa="), std::string::npos);
  EXPECT_EQ(files["/etc/hostapd/hostapd.conf"].mode, 0600);

  const std::string& dns = files["/etc/dnsmasq.d/outpost-wifi.conf"].text;
  for (const char* line : {"interface=wlan0", "except-interface=lo", "bind-interfaces",
                           "address=/outpost.lan/10.42.0.1", "address=/#/10.42.0.1",
                           "dhcp-range=10.42.0.2,10.42.0.254,255.255.255.0,12h",
                           "dhcp-option=option:router,10.42.0.1", "no-resolv"}) {
    EXPECT_TRUE(HasLine(dns, line)) << line << "\n" << dns;
  }
  EXPECT_TRUE(HasLine(files["/etc/network/interfaces.d/outpost-wlan0"].text,
                      "    address 10.42.0.1/24"));
  const std::string& avahi = files["/etc/avahi/services/outpost.service"].text;
  EXPECT_NE(avahi.find("<type>_http._tcp</type>"), std::string::npos);
  EXPECT_NE(avahi.find("<port>80</port>"), std::string::npos);
  EXPECT_NE(avahi.find("<name>Outpost</name>"), std::string::npos);
}

TEST(BoxWifiTest, DhcpRangeIsTheLargerSideOfTheBoxsAddress) {
  WifiOptions o = Kenya();
  o.address = "192.168.4.200/24";
  EXPECT_TRUE(HasLine(ByPath(o)["/etc/dnsmasq.d/outpost-wifi.conf"].text,
                      "dhcp-range=192.168.4.1,192.168.4.199,255.255.255.0,12h"));
  o.address = "10.0.0.1/30";
  EXPECT_TRUE(HasLine(ByPath(o)["/etc/dnsmasq.d/outpost-wifi.conf"].text,
                      "dhcp-range=10.0.0.2,10.0.0.2,255.255.255.252,12h"));
}

TEST(BoxWifiTest, APassphraseTurnsOnWpa2) {
  WifiOptions o = Kenya();
  o.passphrase = "lessons-4-all";
  std::string hostapd = ByPath(o)["/etc/hostapd/hostapd.conf"].text;
  EXPECT_TRUE(HasLine(hostapd, "wpa=2"));
  EXPECT_TRUE(HasLine(hostapd, "wpa_passphrase=lessons-4-all"));
  EXPECT_TRUE(HasLine(hostapd, "rsn_pairwise=CCMP"));
}

TEST(BoxWifiTest, NetworkManagerBackendWritesASharedConnectionAndNamesForItsDnsmasq) {
  WifiOptions o = Kenya();
  o.backend = "networkmanager";
  o.passphrase = R"(back\slash)";
  auto files = ByPath(o);
  ASSERT_EQ(files.size(), 3u);
  const WifiFile& conn = files["/etc/NetworkManager/system-connections/outpost-wifi.nmconnection"];
  EXPECT_EQ(conn.mode, 0600);
  for (const char* line : {"mode=ap", "ssid=Bibliothèque", "interface-name=wlan0", "channel=6",
                           "method=shared", "address1=10.42.0.1/24", "key-mgmt=wpa-psk",
                           R"(psk=back\\slash)"}) {
    EXPECT_TRUE(HasLine(conn.text, line)) << line << "\n" << conn.text;
  }
  const std::string& dns = files["/etc/NetworkManager/dnsmasq-shared.d/outpost-wifi.conf"].text;
  EXPECT_TRUE(HasLine(dns, "address=/outpost.lan/10.42.0.1"));
  EXPECT_TRUE(HasLine(dns, "address=/#/10.42.0.1"));
}

TEST(BoxWifiTest, AKeyfileSsidWithSemicolonsIsWrittenAsBytes) {
  WifiOptions o = Kenya();
  o.backend = "networkmanager";
  o.ssid = "a;b";
  auto files = ByPath(o);
  EXPECT_TRUE(HasLine(files["/etc/NetworkManager/system-connections/outpost-wifi.nmconnection"].text,
                      "ssid=97;59;98;"));
}

TEST(BoxWifiTest, NoValueCanAddALineToAFile) {
  // Each field with a newline and a line that would open the network or move the DNS.
  const std::string injected = "\nwpa=0\naddress=/#/1.2.3.4\n[ipv4]\nmethod=auto";
  for (int field = 0; field < 6; ++field) {
    WifiOptions o = Kenya();
    o.passphrase = "lessons-4-all";
    std::string* target[] = {&o.ssid, &o.country, &o.interface, &o.address, &o.name,
                             &o.passphrase};
    *target[field] = target[field]->substr(0, 3) + injected;
    for (const char* backend : {"hostapd", "networkmanager"}) {
      o.backend = backend;
      EXPECT_FALSE(RenderWifiFiles(o).has_value()) << field << " " << backend;
    }
  }
}

TEST(BoxWifiTest, TemplateSyntaxInAValueIsWrittenAsText) {
  WifiOptions o = Kenya();
  o.ssid = "{{passphrase}}<x>&\"'";
  o.passphrase = "lessons-4-all";
  std::string hostapd = ByPath(o)["/etc/hostapd/hostapd.conf"].text;
  EXPECT_TRUE(HasLine(hostapd, "ssid={{passphrase}}<x>&\"'"));
}

TEST(BoxWifiTest, FilesAreWrittenUnderTheRootWithTheirModes) {
  testing::TempDir dir;
  WifiOptions o = Kenya();
  auto files = RenderWifiFiles(o);
  ASSERT_TRUE(files.has_value());
  ASSERT_TRUE(WriteWifiFiles(Env::Default(), dir.path(), *files).ok());
  for (const WifiFile& f : *files) {
    auto path = dir.path() / std::filesystem::path(f.path).relative_path();
    auto text = ReadWholeFile(path, 1 << 20);
    ASSERT_TRUE(text.has_value()) << path;
    EXPECT_EQ(*text, f.text);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, static_cast<unsigned>(f.mode)) << f.path;
  }
}

TEST(BoxWifiTest, EveryFailedWriteIsAnError) {
  testing::TempDir dir;
  auto files = RenderWifiFiles(Kenya());
  ASSERT_TRUE(files.has_value());
  using Fault = testing::FaultEnv::Fault;
  for (Fault fault : {Fault::kNoSpace, Fault::kSyncFails, Fault::kRenameFails}) {
    for (long step = 0;; ++step) {
      testing::FaultEnv env;
      env.FailAfter(step, fault);
      Status st = WriteWifiFiles(&env, dir.path(), *files);
      if (!env.fired()) {
        EXPECT_TRUE(st.ok()) << st.message();
        EXPECT_GT(step, 2);
        break;
      }
      EXPECT_FALSE(st.ok()) << step;
    }
  }
}

TEST(BoxWifiTest, PortalNameIsSetAndEveryOtherLineKept) {
  EXPECT_EQ(WithPortalName("", "outpost.lan"), "portal_name = \"outpost.lan\"\n");
  EXPECT_EQ(WithPortalName("threads = 4", "outpost.lan"),
            "threads = 4\nportal_name = \"outpost.lan\"\n");
  EXPECT_EQ(WithPortalName("# mine\nportal_name = \"old.lan\"\nthreads = 4\n", "outpost.lan"),
            "# mine\nportal_name = \"outpost.lan\"\nthreads = 4\n");
  EXPECT_EQ(WithPortalName("  portal_name=\"a\"\nportal_name_x = 1\n", "b.lan"),
            "portal_name = \"b.lan\"\nportal_name_x = 1\n");
  EXPECT_EQ(WithPortalName("a = 1\n[t]\nportal_name = 2\n", "b.lan"),
            "a = 1\nportal_name = \"b.lan\"\n[t]\nportal_name = 2\n");
}

TEST(BoxWifiTest, NextStepsStartWhatEachBackendNeeds) {
  WifiOptions o = Kenya();
  auto joined = [](const std::vector<std::string>& steps) {
    std::string all;
    for (const auto& s : steps) all += s + "\n";
    return all;
  };
  std::string hostapd = joined(WifiNextSteps(o));
  EXPECT_NE(hostapd.find("systemctl unmask hostapd"), std::string::npos);
  EXPECT_NE(hostapd.find("DNSMASQ_EXCEPT"), std::string::npos);
  EXPECT_NE(hostapd.find("ifup wlan0"), std::string::npos);
  o.backend = "networkmanager";
  std::string nm = joined(WifiNextSteps(o));
  EXPECT_NE(nm.find("nmcli connection up outpost-wifi"), std::string::npos);
  EXPECT_EQ(nm.find("hostapd"), std::string::npos);
}

}  // namespace
}  // namespace outpost
