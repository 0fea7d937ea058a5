// The software version of this build of Outpost: what `outpost --version` prints, what a site
// reports to its hub (site_report.h), and what the box's health page shows. Kept in step with
// the project's version in the top CMakeLists.txt.
#pragma once

#include <string_view>

namespace outpost {

inline constexpr std::string_view kSoftwareVersion = "0.1.0";

}  // namespace outpost
