// Site reports (site_report.h): the codec, the builder on a site, and their taking on a hub.
#include "outpost/sync/site_report.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>

#include "outpost/base/text.h"
#include "outpost/base/version.h"
#include "outpost/sync/error_log.h"
#include "outpost/sync/sync_db.h"
#include "wire.h"

namespace outpost {

namespace {

constexpr std::string_view kMagic = "OPSR";
constexpr uint16_t kFormat = 1;
constexpr std::string_view kDomain{"outpost site report v1\0", 23};
constexpr size_t kSignatureBytes = 64;
constexpr size_t kMaxSoftware = 64, kMaxChannelId = 256, kMaxResource = 4096;
constexpr uint32_t kMaxServed = 10000;
// The least an entry encodes to: an empty id and a version; a time, a level and an empty
// message; a day, two empty strings and the views.
constexpr size_t kMinServed = 4 + 8, kMinError = 8 + 1 + 4, kMinUsage = 4 + 10 + 4 + 4 + 4;
// Everything but the entries and the signature: magic, format, key, time, software's length,
// disk (16) and the four u32 counts.
constexpr size_t kMinReport = 4 + 2 + 32 + 8 + 4 + 16 + 4 * 4 + kSignatureBytes;

bool IsDay(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

bool IsGoodUsage(const ReportedUsage& u) {
  return IsDay(u.day) && IsValidChannelId(u.channel_id) && u.channel_id.size() <= kMaxChannelId &&
         !u.resource.empty() && u.resource.size() <= kMaxResource && IsValidUtf8(u.resource) &&
         u.views >= kMinReportedViews && u.views <= UINT32_MAX;
}

Status CheckFields(const SiteReport& r) {
  if (r.software.size() > kMaxSoftware) return InvalidArgument("site report: software version too long");
  if (r.served.size() > kMaxServed) return InvalidArgument("site report: too many channels");
  for (const auto& [id, v] : r.served) {
    if (!IsValidChannelId(id) || id.size() > kMaxChannelId) return InvalidArgument("site report: bad channel id");
  }
  if (r.errors.size() > kMaxReportedErrors) return InvalidArgument("site report: too many errors");
  for (const auto& e : r.errors) {
    if (e.message.size() > kMaxReportedErrorBytes || (e.level != "warn" && e.level != "error")) {
      return InvalidArgument("site report: an error line out of bounds");
    }
  }
  if (r.usage.size() > kMaxReportedUsage) return InvalidArgument("site report: too many usage counts");
  for (const auto& u : r.usage) {
    if (!IsGoodUsage(u)) return InvalidArgument("site report: a usage count out of bounds (or under 5)");
  }
  return Status::Ok();
}

void WriteBody(wire::Writer& w, const SiteReport& r, const PublicKey& site) {
  w.Raw(kMagic);
  w.U16(kFormat);
  w.Raw(site.bytes);
  w.U64(static_cast<uint64_t>(r.reported_at));
  w.String(r.software);
  w.U64(r.disk_total);
  w.U64(r.disk_free);
  w.U32(static_cast<uint32_t>(r.served.size()));
  for (const auto& [id, v] : r.served) {
    w.String(id);
    w.U64(v);
  }
  w.U32(r.errors_logged);
  w.U32(static_cast<uint32_t>(r.errors.size()));
  for (const auto& e : r.errors) {
    w.U64(static_cast<uint64_t>(e.time));
    w.U8(e.level == "warn" ? 1 : 2);
    w.String(e.message);
  }
  w.U32(static_cast<uint32_t>(r.usage.size()));
  for (const auto& u : r.usage) {
    w.String(u.day);
    w.String(u.channel_id);
    w.String(u.resource);
    w.U32(static_cast<uint32_t>(u.views));
  }
}

std::string SignedText(std::string_view body) {
  std::string text(kDomain);
  text.append(body);
  return text;
}

// A count of at most `max` entries that the bytes left (less the signature) can hold.
Status Count(wire::Reader& r, uint32_t* n, size_t min_each, uint32_t max, std::string_view what) {
  OUTPOST_RETURN_IF_ERROR(r.U32(n, what));
  size_t left = r.remaining() > kSignatureBytes ? r.remaining() - kSignatureBytes : 0;
  if (*n > max || static_cast<uint64_t>(*n) * min_each > left) {
    return r.Bad(r.offset(), std::string(what) + " " + std::to_string(*n) + " is over its limit or the bytes left");
  }
  return Status::Ok();
}

Status ReadI64(wire::Reader& r, int64_t* v, std::string_view what) {
  uint64_t u = 0;
  OUTPOST_RETURN_IF_ERROR(r.U64(&u, what));
  if (u > static_cast<uint64_t>(INT64_MAX)) return r.Bad(r.offset(), std::string(what) + " is over 2^63 - 1");
  *v = static_cast<int64_t>(u);
  return Status::Ok();
}

Status ReadServed(wire::Reader& r, SiteReport* out) {
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, kMinServed, kMaxServed, "served count"));
  for (uint32_t i = 0; i < n; ++i) {
    std::string id;
    uint64_t v = 0;
    OUTPOST_RETURN_IF_ERROR(r.String(&id, kMaxChannelId, "channel id"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&v, "served version"));
    // Bytewise ascending, each once, as EncodeSiteReport writes them: one report, one encoding.
    if (!IsValidChannelId(id) || (!out->served.empty() && id <= out->served.rbegin()->first)) {
      return r.Bad(r.offset(), "a served channel's id is not valid, comes twice or is out of order");
    }
    out->served.emplace_hint(out->served.end(), std::move(id), v);
  }
  return Status::Ok();
}

Status ReadErrors(wire::Reader& r, SiteReport* out) {
  OUTPOST_RETURN_IF_ERROR(r.U32(&out->errors_logged, "errors logged"));
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, kMinError, kMaxReportedErrors, "error count"));
  out->errors.resize(n);
  for (auto& e : out->errors) {
    uint8_t level = 0;
    OUTPOST_RETURN_IF_ERROR(ReadI64(r, &e.time, "error time"));
    OUTPOST_RETURN_IF_ERROR(r.U8(&level, "error level"));
    if (level != 1 && level != 2) return r.Bad(r.offset(), "an error's level is not 1 or 2");
    e.level = level == 1 ? "warn" : "error";
    OUTPOST_RETURN_IF_ERROR(r.String(&e.message, kMaxReportedErrorBytes, "error message"));
  }
  return Status::Ok();
}

Status ReadUsage(wire::Reader& r, SiteReport* out) {
  uint32_t n = 0;
  OUTPOST_RETURN_IF_ERROR(Count(r, &n, kMinUsage, kMaxReportedUsage, "usage count"));
  out->usage.resize(n);
  for (auto& u : out->usage) {
    uint32_t views = 0;
    OUTPOST_RETURN_IF_ERROR(r.String(&u.day, 10, "usage day"));
    OUTPOST_RETURN_IF_ERROR(r.String(&u.channel_id, kMaxChannelId, "usage channel"));
    OUTPOST_RETURN_IF_ERROR(r.String(&u.resource, kMaxResource, "usage resource"));
    OUTPOST_RETURN_IF_ERROR(r.U32(&views, "views"));
    u.views = views;
    if (!IsGoodUsage(u)) return r.Bad(r.offset(), "a usage count is malformed or under 5");
  }
  return Status::Ok();
}

Status ReadBody(wire::Reader& r, SiteReport* out) {
  OUTPOST_RETURN_IF_ERROR(r.Header(kMagic, kFormat));
  OUTPOST_RETURN_IF_ERROR(r.Raw(out->site.bytes, "site key"));
  OUTPOST_RETURN_IF_ERROR(ReadI64(r, &out->reported_at, "reported_at"));
  OUTPOST_RETURN_IF_ERROR(r.String(&out->software, kMaxSoftware, "software"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&out->disk_total, "disk total"));
  OUTPOST_RETURN_IF_ERROR(r.U64(&out->disk_free, "disk free"));
  OUTPOST_RETURN_IF_ERROR(ReadServed(r, out));
  OUTPOST_RETURN_IF_ERROR(ReadErrors(r, out));
  return ReadUsage(r, out);
}

}  // namespace

Result<std::string> EncodeSiteReport(const SiteReport& report, const Identity& signer) {
  OUTPOST_RETURN_IF_ERROR(CheckFields(report));
  if (report.reported_at < 0) return InvalidArgument("site report: negative time");
  wire::Writer w;
  WriteBody(w, report, signer.public_key());
  if (w.bytes().size() + kSignatureBytes > kMaxSiteReport) {
    return InvalidArgument("site report: " + std::to_string(w.bytes().size() + kSignatureBytes) +
                           " bytes, over the limit of " + std::to_string(kMaxSiteReport));
  }
  Signature sig = signer.Sign(SignedText(w.bytes()));
  w.Raw(sig);
  return w.Take();
}

Result<SiteReport> DecodeSiteReport(std::string_view bytes) {
  if (bytes.size() > kMaxSiteReport) {
    return Corrupt("site report: " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                   std::to_string(kMaxSiteReport));
  }
  if (bytes.size() < kMinReport) return Corrupt("site report is truncated: " + std::to_string(bytes.size()) + " bytes");
  std::string_view body = bytes.substr(0, bytes.size() - kSignatureBytes);
  SiteReport out;
  wire::Reader r(body, "site report");
  // Only the structure is read before the signature is checked: the key is at a fixed offset.
  OUTPOST_RETURN_IF_ERROR(r.Header(kMagic, kFormat));
  OUTPOST_RETURN_IF_ERROR(r.Raw(out.site.bytes, "site key"));
  Signature sig;
  __builtin_memcpy(sig.data(), bytes.data() + body.size(), kSignatureBytes);
  if (!VerifySignature(out.site, SignedText(body), sig)) {
    return Corrupt("site report: its signature is not the key " + out.site.Fingerprint() + "…'s");
  }
  wire::Reader all(bytes, "site report");
  OUTPOST_RETURN_IF_ERROR(ReadBody(all, &out));
  if (all.offset() != body.size()) {
    return all.Bad(all.offset(), "it has " + std::to_string(body.size() - all.offset()) +
                                     " unexpected bytes before its signature");
  }
  return out;
}

namespace {

void Disk(const NodePaths& paths, SiteReport* r) {
  struct statvfs st;
  if (::statvfs(paths.data.c_str(), &st) != 0) return;
  r->disk_total = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  r->disk_free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// What replaces the word `w` of a log message before it leaves the box: an IP address (v4, or
// v6 with at least two colons) becomes "[address]", a long random-looking run (a token, a key:
// 24 or more characters mixing letters and digits) "[secret]"; anything else stays.
std::string_view Scrubbed(std::string_view w) {
  size_t digits = 0, dots = 0, colons = 0, hex = 0, alpha = 0;
  for (char c : w) {
    digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
    alpha += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
    dots += c == '.' ? 1 : 0;
    colons += c == ':' ? 1 : 0;
    hex += IsHex(c) ? 1 : 0;
  }
  if (dots >= 3 && digits >= 4 && digits + dots + colons == w.size()) return "[address]";
  if (colons >= 2 && hex + colons + dots == w.size() && hex > 0) return "[address]";
  size_t run = 0, longest = 0;
  for (char c : w) longest = std::max(longest, run = IsWordChar(c) ? run + 1 : 0);
  if (longest >= 24 && digits > 0 && alpha > 0) return "[secret]";
  return w;
}

// `message` with its addresses and secrets replaced, word by word (split at spaces and the
// punctuation that wraps them, keeping those).
std::string Scrub(std::string_view message) {
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    size_t end = message.find_first_of(" ,;()[]<>\"'=/", i);
    if (end == std::string_view::npos) end = message.size();
    std::string_view word = message.substr(i, end - i);
    // "10.0.0.5:7000" and "address." end in a port or a full stop: judged without them.
    size_t keep = word.size();
    while (keep > 0 && (word[keep - 1] == '.' || word[keep - 1] == ':')) --keep;
    std::string_view core = word.substr(0, keep);
    size_t colon = core.rfind(':');
    if (colon != std::string_view::npos && core.find(':') == colon && core.find('.') != std::string_view::npos) {
      core = core.substr(0, colon);  // IPv4 with a port
    }
    out += Scrubbed(core) == core ? word : std::string(Scrubbed(core)) + std::string(word.substr(core.size()));
    if (end < message.size()) out += message[end];
    i = end + 1;
  }
  return out;
}

std::string CutMessage(std::string_view s) {
  if (s.size() <= kMaxReportedErrorBytes) return std::string(s);
  size_t end = kMaxReportedErrorBytes;
  while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

void Errors(const NodePaths& paths, int64_t now, SiteReport* r) {
  std::vector<LoggedError> logged = RecentErrors(paths, 10000);
  for (const auto& e : logged) r->errors_logged += e.time >= now - kReportedErrorWindow ? 1 : 0;
  size_t first = logged.size() > kMaxReportedErrors ? logged.size() - kMaxReportedErrors : 0;
  for (size_t i = first; i < logged.size(); ++i) {
    r->errors.push_back({logged[i].time, logged[i].level, CutMessage(Scrub(logged[i].message))});
  }
}

// What of `usage` may leave the box, newest days first (then by channel and resource).
std::vector<ReportedUsage> Sendable(std::vector<ReportedUsage> usage) {
  std::erase_if(usage, [](const ReportedUsage& u) { return !IsGoodUsage(u); });
  std::sort(usage.begin(), usage.end(), [](const ReportedUsage& a, const ReportedUsage& b) {
    if (a.day != b.day) return a.day > b.day;
    return std::tie(a.channel_id, a.resource) < std::tie(b.channel_id, b.resource);
  });
  usage.erase(std::unique(usage.begin(), usage.end(),
                          [](const ReportedUsage& a, const ReportedUsage& b) {
                            return a.day == b.day && a.channel_id == b.channel_id && a.resource == b.resource;
                          }),
              usage.end());
  if (usage.size() > kMaxReportedUsage) usage.resize(kMaxReportedUsage);
  return usage;
}

size_t EncodedSize(const ReportedUsage& u) { return 4 * 4 + u.day.size() + u.channel_id.size() + u.resource.size(); }

}  // namespace

Result<std::string> BuildSiteReport(const NodePaths& paths, Catalog* catalog, const Identity& site,
                                    std::vector<ReportedUsage> usage, int64_t now) {
  SiteReport r;
  r.reported_at = now;
  r.software = std::string(kSoftwareVersion);
  for (const ChannelInfo& c : catalog->Channels()) {
    if (c.served_version > 0 && r.served.size() < kMaxServed) r.served[c.id] = static_cast<uint64_t>(c.served_version);
  }
  Disk(paths, &r);
  Errors(paths, now, &r);
  r.usage = Sendable(std::move(usage));
  wire::Writer w;
  WriteBody(w, SiteReport{r.site, r.reported_at, r.software, r.disk_total, r.disk_free, r.served,
                          r.errors_logged, r.errors, {}},
            site.public_key());
  size_t size = w.bytes().size() + kSignatureBytes;
  size_t keep = 0;
  while (keep < r.usage.size() && size + EncodedSize(r.usage[keep]) <= kMaxSiteReport) {
    size += EncodedSize(r.usage[keep++]);
  }
  r.usage.resize(keep);
  return EncodeSiteReport(r, site);
}

Status TakeSiteReport(SyncDb* db, const PublicKey& from, std::string_view bytes, std::string_view via) {
  auto report = DecodeSiteReport(bytes);
  Status st = report ? Status::Ok() : report.error();
  if (st.ok() && report->site != from) {
    st = Corrupt("site report: made by " + report->site.Fingerprint() + "…, not by the site that sent it");
  }
  if (st.ok()) {
    auto noted = db->NoteSiteReport(*report, via);
    if (!noted) st = noted.error();
  }
  if (!st.ok()) {
    spdlog::warn("a report from site {}… by {} was refused: {}", from.Fingerprint(), via, st.message());
  }
  return st;
}

}  // namespace outpost
