// Private to sync/'s tests: the privacy test of what a site sends up (issue 16, "Privacy"). A
// site's log is planted with an IP address and a session token, and its usage source gives
// counts under 5 too; whatever the site then sends its hub (the plaintext of every record of a
// sync, or every record of a stick) must hold no IP address, none of the planted secrets, and
// in its report no count under kMinReportedViews.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "outpost/sync/error_log.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_report.h"

namespace outpost::testing {

inline constexpr char kPlantedAddress[] = "192.168.1.20";
inline constexpr char kPlantedAddress6[] = "fe80::1c2d";
inline constexpr char kPlantedToken[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c";

// Log lines a box could write: a learner's request, a session, a peer.
inline void PlantPrivateLogLines(const NodePaths& paths) {
  std::ofstream log(ErrorLogPath(paths), std::ios::app);
  log << ErrorLogLine(1796000000, "warn", std::string("GET /learn/water from ") + kPlantedAddress + ":51234 failed");
  log << ErrorLogLine(1796000001, "error", std::string("session ") + kPlantedToken + " expired");
  log << ErrorLogLine(1796000002, "warn", std::string("sync listener: ") + kPlantedAddress6 + " closed early");
}

// What the usage store could hand the report builder: small counts among the others.
inline std::vector<ReportedUsage> UsageWithSmallCounts() {
  return {{"2026-12-07", "water", "lesson-1.html", 1}, {"2026-12-07", "water", "lesson-2.html", 4},
          {"2026-12-07", "water", "lesson-3.html", 5}, {"2026-12-06", "water", "media/clip.mp4", 40}};
}

// Checks everything the site sent (`sent`: records' plaintext, concatenated) and the reports
// among them (`reports`: their bodies).
inline void ExpectNothingPrivate(const std::string& sent, const std::vector<std::string>& reports) {
  EXPECT_EQ(sent.find(kPlantedAddress), std::string::npos);
  EXPECT_EQ(sent.find(kPlantedAddress6), std::string::npos);
  EXPECT_EQ(sent.find(kPlantedToken), std::string::npos);
  static const std::regex ipv4(R"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})");
  EXPECT_FALSE(std::regex_search(sent, ipv4));
  ASSERT_FALSE(reports.empty());
  for (const std::string& body : reports) {
    auto report = DecodeSiteReport(body);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    EXPECT_EQ(report->usage.size(), 2u);  // lesson-3 and the clip: the counts of 1 and 4 dropped
    for (const ReportedUsage& u : report->usage) EXPECT_GE(u.views, kMinReportedViews) << u.resource;
    EXPECT_FALSE(report->errors.empty());
  }
}

}  // namespace outpost::testing
