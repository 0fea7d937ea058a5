// A site report: what a school's box tells its hub about itself at each sync and on each stick
// it writes for the hub (docs/sync-protocol.md, "Site report"): its software version, the
// versions it serves, the disk of its data folder, its last errors and its usage counts per
// day, channel and resource. Signed by the site's node key, so the hub stores it only if the
// site it came from made it, whichever way it travelled (a session, a stick, a relay later).
//
// Encoding (big-endian, wire.h's strings: u32 length then UTF-8):
//   "OPSR" u16 1 (format), the site's key (32), u64 reported_at (unix seconds, the site's clock),
//   string software (<= 64), u64 disk_total, u64 disk_free,
//   u32 served count (<= 10000), each: string channel id (<= 256; ids bytewise ascending, each
//     once), u64 version;
//   u32 errors_logged (warnings and errors in the last 7 days of its log);
//   u32 error count (<= kMaxReportedErrors), each: u64 time, u8 level (1 warn, 2 error),
//     string message (<= kMaxReportedErrorBytes);
//   u32 usage count (<= kMaxReportedUsage), each: string day (exactly 10: "YYYY-MM-DD"),
//     string channel id (<= 256), string resource path (<= 4096), u32 views (>= 5);
//   64-byte Ed25519 signature by the site's key of "outpost site report v1\0" || every byte
//   before it.
// The whole is at most kMaxSiteReport bytes. What leaves the box is exactly this: no address,
// no session, nothing about one learner, no count under kMinReportedViews.
//
// Thread-safety: plain functions; BuildSiteReport reads the catalog (thread-safe) and files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/node.h"

namespace outpost {

class SyncDb;

inline constexpr size_t kMaxSiteReport = 256 * 1024;
inline constexpr size_t kMaxReportedErrors = 5;
inline constexpr size_t kMaxReportedErrorBytes = 300;
inline constexpr size_t kMaxReportedUsage = 20000;
// Counts under this are never sent: a handful of views can point at one learner.
inline constexpr uint64_t kMinReportedViews = 5;
// errors_logged counts the log's lines of this many last seconds.
inline constexpr int64_t kReportedErrorWindow = 7 * 24 * 60 * 60;

// Views of one resource of one channel on one day (the site's UTC day), as the site's usage
// store counts them: the day's total so far, so a later report replaces an earlier one's.
struct ReportedUsage {
  std::string day;         // "YYYY-MM-DD"
  std::string channel_id;
  std::string resource;    // the resource's path in the channel
  uint64_t views = 0;
  auto operator<=>(const ReportedUsage&) const = default;
};

// Where the report builder takes usage counts from (the usage store, wired by the caller);
// empty: the report carries none.
using UsageSource = std::function<std::vector<ReportedUsage>()>;

struct ReportedError {
  int64_t time = 0;   // unix seconds
  std::string level;  // "warn" or "error"
  std::string message;
  bool operator==(const ReportedError&) const = default;
};

struct SiteReport {
  PublicKey site;
  int64_t reported_at = 0;
  std::string software;
  uint64_t disk_total = 0, disk_free = 0;  // bytes, of the file system holding the data folder
  std::map<std::string, uint64_t> served;  // channel id -> the version it serves
  uint32_t errors_logged = 0;
  std::vector<ReportedError> errors;       // the newest, oldest first
  std::vector<ReportedUsage> usage;
  bool operator==(const SiteReport&) const = default;
};

// The signed bytes of `report` (its `site` is replaced by `signer`'s key). kInvalidArgument for
// a field over its bound, a day not "YYYY-MM-DD", a count under kMinReportedViews, or a whole
// over kMaxSiteReport.
Result<std::string> EncodeSiteReport(const SiteReport& report, const Identity& signer);

// The report `bytes` hold, its signature checked against the key it names. kCorrupt for more
// than kMaxSiteReport bytes, any field out of its bounds, truncation, trailing bytes, or a
// signature that does not verify; nothing is allocated for a count the bytes cannot hold.
Result<SiteReport> DecodeSiteReport(std::string_view bytes);

// What the site reports now: kSoftwareVersion, `now`, the served version of every channel of
// `catalog`, statvfs of `paths.data`, the newest errors of its log (error_log.h; IP addresses in
// their messages replaced by "[address]", runs of 24 or more letters and digits mixed (tokens,
// keys) by "[secret]", then cut to kMaxReportedErrorBytes), and `usage` less every count under
// kMinReportedViews or not well formed; when they do not all fit, the newest days are kept.
// Signed by `site`.
Result<std::string> BuildSiteReport(const NodePaths& paths, Catalog* catalog, const Identity& site,
                                    std::vector<ReportedUsage> usage, int64_t now);

// How a report reached the hub.
inline constexpr std::string_view kViaLink = "link";
inline constexpr std::string_view kViaStick = "stick";

// On a hub: decodes and verifies `bytes`, received from the enrolled site `from` by `via`, and
// keeps it (SyncDb::NoteSiteReport). A report that does not verify, is too large, or is made
// by another site than `from` is refused: the Status says why and it is also logged (warning);
// the caller goes on with its sync or import either way.
Status TakeSiteReport(SyncDb* db, const PublicKey& from, std::string_view bytes,
                      std::string_view via);

}  // namespace outpost
