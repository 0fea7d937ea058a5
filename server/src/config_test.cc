#include "outpost/server/config.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

TEST(ServerConfigTest, ListenAcceptsTheUsualForms) {
  ServerConfig c;
  ASSERT_TRUE(c.SetListen("127.0.0.1:9000").ok());
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 9000);
  ASSERT_TRUE(c.SetListen(":8081").ok());
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8081);
  ASSERT_TRUE(c.SetListen("[::1]:80").ok());
  EXPECT_EQ(c.host, "::1");
  EXPECT_FALSE(c.SetListen("localhost:http").ok());
  EXPECT_FALSE(c.SetListen("1.2.3.4:70000").ok());
}

TEST(ServerConfigTest, AConnectionServesAThousandRequestsByDefaultAndTheFileCanLowerIt) {
  EXPECT_EQ(ServerConfig().keep_alive_max_requests, 1000);
  testing::TempDir dir;
  ServerConfig c;
  ASSERT_TRUE(LoadServerConfig(dir.Write("s.toml", "keep_alive_max_requests = 100\n"), &c).ok());
  EXPECT_EQ(c.keep_alive_max_requests, 100);
  EXPECT_FALSE(LoadServerConfig(dir.Write("t.toml", "keep_alive_max_requests = 4097\n"), &c).ok());
}

TEST(ServerConfigTest, FileSetsValuesAndRejectsUnknownKeys) {
  testing::TempDir dir;
  auto file = dir.Write("server.toml",
                        "listen = \"127.0.0.1:9999\"\nthreads = 64\n"
                        "max_connections_per_address = 8\n");
  ServerConfig c;
  ASSERT_TRUE(LoadServerConfig(file, &c).ok());
  EXPECT_EQ(c.port, 9999);
  EXPECT_EQ(c.threads, 64);
  EXPECT_EQ(c.max_connections_per_address, 8);
  file = dir.Write("bad.toml", "thread = 64\n");
  Status st = LoadServerConfig(file, &c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad.toml:1: unknown setting \"thread\""), std::string::npos)
      << st.message();
  file = dir.Write("bad2.toml", "threads = \"many\"\n");
  EXPECT_FALSE(LoadServerConfig(file, &c).ok());
}

TEST(ServerConfigTest, ViewsAreCountedUnlessTheFileSaysNot) {
  EXPECT_TRUE(ServerConfig().count_views);
  testing::TempDir dir;
  ServerConfig c;
  ASSERT_TRUE(LoadServerConfig(dir.Write("s.toml", "count_views = false\n"), &c).ok());
  EXPECT_FALSE(c.count_views);
  EXPECT_FALSE(LoadServerConfig(dir.Write("t.toml", "count_views = 0\n"), &c).ok());
}

TEST(ServerConfigTest, PortalNameIsADnsNameOrAbsent) {
  EXPECT_EQ(ServerConfig().portal_name, "");
  testing::TempDir dir;
  ServerConfig c;
  ASSERT_TRUE(LoadServerConfig(dir.Write("p.toml", "portal_name = \"outpost.lan\"\n"), &c).ok());
  EXPECT_EQ(c.portal_name, "outpost.lan");
  for (const char* bad : {"portal_name = \"a b\"\n", "portal_name = \"\"\n", "portal_name = 1\n",
                          "portal_name = \"x.lan\\nlisten=1\"\n"}) {
    ServerConfig d;
    EXPECT_FALSE(LoadServerConfig(dir.Write("bad.toml", bad), &d).ok()) << bad;
    EXPECT_EQ(d.portal_name, "");
  }
}

}  // namespace
}  // namespace outpost
