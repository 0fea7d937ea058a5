#include "outpost/sync/site_report.h"

#include <gtest/gtest.h>

#include <fstream>

#include "outpost/base/version.h"
#include "outpost/sync/error_log.h"
#include "test_node.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

SiteReport Sample(const PublicKey& site) {
  SiteReport r;
  r.site = site;
  r.reported_at = 1796000000;
  r.software = "0.1.0";
  r.disk_total = uint64_t{64} << 30;
  r.disk_free = uint64_t{12} << 30;
  r.served = {{"water", 3}, {"ecole-1-notes", 2}};
  r.errors_logged = 7;
  r.errors = {{1795999000, "warn", "stick pulled out"}, {1795999900, "error", "disk full"}};
  r.usage = {{"2026-12-06", "water", "fr/rain.html", 12}, {"2026-12-07", "water", "clip.mp4", 5}};
  return r;
}

class SiteReportTest : public ::testing::Test {
 protected:
  Identity site_ = Identity::Generate().value();
  Identity other_ = Identity::Generate().value();
};

TEST_F(SiteReportTest, AReportDecodesToWhatWasEncoded) {
  auto bytes = EncodeSiteReport(Sample(other_.public_key()), site_);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  auto back = DecodeSiteReport(*bytes);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, Sample(site_.public_key()));  // the signer's key, whatever `site` said
  EXPECT_EQ(bytes->substr(0, 6), std::string("OPSR\0\1", 6));
}

TEST_F(SiteReportTest, EveryCutOfAReportIsRefused) {
  std::string bytes = EncodeSiteReport(Sample({}), site_).value();
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeSiteReport(bytes.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(DecodeSiteReport(bytes + "x").has_value());
}

TEST_F(SiteReportTest, EveryFlippedByteIsRefused) {
  std::string bytes = EncodeSiteReport(Sample({}), site_).value();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] ^= 0x01;
    EXPECT_FALSE(DecodeSiteReport(flipped).has_value()) << i;
  }
}

TEST_F(SiteReportTest, AReportSignedByAnotherKeyThanTheOneItNamesIsRefused) {
  std::string bytes = EncodeSiteReport(Sample({}), site_).value();
  std::string forged = bytes;
  forged.replace(6, 32, std::string(other_.public_key().bytes.begin(), other_.public_key().bytes.end()));
  auto refused = DecodeSiteReport(forged);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("signature"), std::string::npos) << refused.error().message();
}

TEST_F(SiteReportTest, AnOversizedReportIsRefusedBeforeItIsRead) {
  std::string bytes = EncodeSiteReport(Sample({}), site_).value();
  bytes.resize(kMaxSiteReport + 1, 'x');
  auto refused = DecodeSiteReport(bytes);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("over the limit"), std::string::npos);
  SiteReport big = Sample({});
  big.usage.assign(kMaxReportedUsage, {"2026-12-07", "water", std::string(4000, 'p'), 9});
  EXPECT_EQ(EncodeSiteReport(big, site_).error().code(), StatusCode::kInvalidArgument);
}

// One report has one encoding: served ids out of order (or twice) are refused even when signed,
// so a hub that stores the bytes and one that stores the decoded report agree.
TEST_F(SiteReportTest, ServedChannelsOutOfOrderAreRefusedEvenWhenSigned) {
  std::string bytes = EncodeSiteReport(Sample({}), site_).value();
  std::string body = bytes.substr(0, bytes.size() - Signature{}.size());
  auto entry = [](std::string_view id, char version) {
    std::string e{'\0', '\0', '\0', static_cast<char>(id.size())};
    e.append(id);
    e.append(7, '\0');
    e.push_back(version);
    return e;
  };
  const std::string ecole = entry("ecole-1-notes", 2), water = entry("water", 3);
  size_t at = body.find(ecole + water);
  ASSERT_NE(at, std::string::npos);
  auto resigned = [&](const std::string& served) {
    std::string b = body;
    b.replace(at, ecole.size() + water.size(), served);
    Signature sig = site_.Sign(std::string("outpost site report v1\0", 23) + b);
    return b + std::string(sig.begin(), sig.end());
  };
  ASSERT_TRUE(DecodeSiteReport(resigned(ecole + water)).has_value());  // the helper signs right
  auto swapped = DecodeSiteReport(resigned(water + ecole));
  ASSERT_FALSE(swapped.has_value());
  EXPECT_NE(swapped.error().message().find("out of order"), std::string::npos) << swapped.error().message();
  EXPECT_FALSE(DecodeSiteReport(resigned(water + water)).has_value());
}

TEST_F(SiteReportTest, TheEncoderRefusesACountUnderFive) {
  SiteReport r = Sample({});
  r.usage.push_back({"2026-12-07", "water", "a.html", 4});
  EXPECT_FALSE(EncodeSiteReport(r, site_).has_value());
}

class BuildSiteReportTest : public SiteReportTest {
 protected:
  TempDir dir_;
  testing::TestNode node_{dir_.path()};
};

TEST_F(BuildSiteReportTest, TheBuilderDropsCountsUnderFiveAndScrubsAddressesFromErrors) {
  {
    std::ofstream log(ErrorLogPath(node_.paths));
    log << ErrorLogLine(1796000000, "warn", "sync: connection from 192.168.1.20:7000 refused");
    log << ErrorLogLine(1796000001, "error", "session 9f86d081884c7d659a2feaa0c55ad015 expired at fe80::1");
  }
  std::vector<ReportedUsage> usage = {{"2026-12-07", "water", "a.html", 4}, {"2026-12-07", "water", "b.html", 5},
                                   {"2026-12-07", "water", "c.html", 1}, {"bad-day", "water", "d.html", 50}};
  auto bytes = BuildSiteReport(node_.paths, node_.catalog.get(), site_, usage, 1796000100);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  auto r = DecodeSiteReport(*bytes).value();
  ASSERT_EQ(r.usage.size(), 1u);
  EXPECT_EQ(r.usage[0].resource, "b.html");
  EXPECT_EQ(r.software, kSoftwareVersion);
  EXPECT_GT(r.disk_total, 0u);
  EXPECT_EQ(r.errors_logged, 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].message, "sync: connection from [address]:7000 refused");
  EXPECT_EQ(r.errors[1].message, "session [secret] expired at [address]");
}

TEST_F(BuildSiteReportTest, TooManyCountsKeepTheNewestDaysWithinTheBound) {
  std::vector<ReportedUsage> usage;
  for (int day = 1; day <= 28; ++day) {
    for (int i = 0; i < 600; ++i) {
      char d[11];
      std::snprintf(d, sizeof d, "2026-11-%02d", day);
      usage.push_back({d, "water", "lessons/a-rather-long-folder/page-" + std::to_string(i) + ".html", 7});
    }
  }
  auto bytes = BuildSiteReport(node_.paths, node_.catalog.get(), site_, usage, 1796000100);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  EXPECT_LE(bytes->size(), kMaxSiteReport);
  auto r = DecodeSiteReport(*bytes).value();
  ASSERT_FALSE(r.usage.empty());
  EXPECT_LT(r.usage.size(), usage.size());
  EXPECT_EQ(r.usage.front().day, "2026-11-28");
}

}  // namespace
}  // namespace outpost
