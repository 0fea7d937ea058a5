// What a site holds and how far behind its hub it is (box_status.h).
#include "outpost/sync/box_status.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

#include "outpost/base/file.h"

#ifndef OUTPOST_VERSION_STRING
#define OUTPOST_VERSION_STRING "unknown"
#endif

namespace outpost {

namespace {

constexpr int64_t kDay = 24 * 60 * 60;

// The number after "NAME:" in a /proc file of "NAME: VALUE kB" lines, in bytes (0: not there).
uint64_t ProcField(std::string_view text, std::string_view name) {
  size_t at = 0;
  while ((at = text.find(name, at)) != std::string_view::npos) {
    bool line_start = at == 0 || text[at - 1] == '\n';
    at += name.size();
    if (!line_start || at >= text.size() || text[at] != ':') continue;
    size_t digits = text.find_first_of("0123456789", at);
    if (digits == std::string_view::npos) return 0;
    uint64_t kb = 0;
    std::from_chars(text.data() + digits, text.data() + text.size(), kb);
    return kb * 1024;
  }
  return 0;
}

uint64_t FolderBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

DiskStatus ReadDisk(const std::filesystem::path& data, uint64_t next_sync_bytes) {
  DiskStatus disk;
  struct statvfs info {};
  if (::statvfs(data.c_str(), &info) != 0) return disk;
  disk.known = true;
  disk.free_bytes = static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
  disk.total_bytes = static_cast<uint64_t>(info.f_blocks) * info.f_frsize;
  disk.warning_reason = DiskWarningReason(disk.free_bytes, disk.total_bytes, next_sync_bytes);
  disk.warning = !disk.warning_reason.empty();
  return disk;
}

ChannelStatus StatusOf(const ChannelInfo& c) {
  ChannelStatus s;
  s.id = c.id;
  s.title = c.meta.title;
  s.language = c.meta.language;
  s.served_version = c.served_version;
  s.staged_version = c.latest_version > c.served_version ? c.latest_version : 0;
  s.files = c.files;
  s.bytes = static_cast<uint64_t>(std::max<int64_t>(c.bytes, 0));
  return s;
}

// The channels of the catalog and of the hub's last offer, with the heads applied.
std::vector<ChannelStatus> Channels(Catalog* catalog, const std::vector<HubHead>& heads) {
  std::map<std::string, ChannelStatus> by_id;
  for (const ChannelInfo& c : catalog->Channels()) by_id[c.id] = StatusOf(c);
  for (const HubHead& h : heads) {
    ChannelStatus& s = by_id[h.channel_id];
    s.id = h.channel_id;
    s.hub_version = h.version;
    s.behind = h.version > static_cast<uint64_t>(std::max<int64_t>(s.served_version, 0));
    s.next_sync_bytes = s.behind ? h.bytes : 0;
  }
  std::vector<ChannelStatus> out;
  for (auto& [id, s] : by_id) out.push_back(std::move(s));
  return out;
}

void AddSync(SyncDb* db, int64_t now, BoxStatus* status) {
  if (auto hub = db->Hub()) {
    status->joined = true;
    status->hub_address = hub->address;
    status->site_name = hub->site_name;
  }
  status->last_sync = db->LastSyncRun();
  if (status->last_sync) {
    status->days_since_sync = std::max<int64_t>(0, (now - status->last_sync->finished_at) / kDay);
  }
}

}  // namespace

const char* SoftwareVersion() { return OUTPOST_VERSION_STRING; }

std::string DiskWarningReason(uint64_t free_bytes, uint64_t total_bytes, uint64_t next_sync_bytes) {
  // In 1/100ths, so that a disk of a few exabytes does not overflow.
  if (free_bytes / 100 * 100 < total_bytes / 100 * kLowDiskPercent) return "low";
  if (free_bytes / kNextSyncMargin < next_sync_bytes) return "next_sync";
  return "";
}

MemoryStatus ReadSystemMemory() {
  MemoryStatus memory;
  auto text = ReadWholeFile("/proc/meminfo", 64 * 1024);
  if (!text) return memory;
  memory.total_bytes = ProcField(*text, "MemTotal");
  memory.available_bytes = ProcField(*text, "MemAvailable");
  memory.known = memory.total_bytes > 0;
  return memory;
}

uint64_t ReadProcessRss() {
  auto text = ReadWholeFile("/proc/self/status", 64 * 1024);
  return text ? ProcField(*text, "VmRSS") : 0;
}

BoxStatus ReadBoxStatus(const NodePaths& paths, Catalog* catalog, SyncDb* db, int64_t now) {
  BoxStatus status;
  status.now = now;
  status.software_version = SoftwareVersion();
  status.channels = Channels(catalog, db ? db->HubHeads() : std::vector<HubHead>{});
  for (const ChannelStatus& c : status.channels) {
    status.content_bytes += c.bytes;
    status.channels_behind += c.behind ? 1 : 0;
    status.next_sync_bytes += c.next_sync_bytes;
  }
  status.staging_bytes = FolderBytes(paths.staging);
  if (db) AddSync(db, now, &status);
  status.disk = ReadDisk(paths.data, status.next_sync_bytes);
  status.memory = ReadSystemMemory();
  return status;
}

namespace {

nlohmann::json ChannelJson(const ChannelStatus& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"language", c.language},
          {"served_version", c.served_version},
          {"staged_version", c.staged_version},
          {"files", c.files},
          {"bytes", c.bytes},
          {"hub_version", c.hub_version},
          {"behind", c.behind},
          {"next_sync_bytes", c.next_sync_bytes}};
}

nlohmann::json SyncJson(const BoxStatus& s) {
  nlohmann::json sync = {{"joined", s.joined},
                         {"hub_address", s.hub_address},
                         {"site_name", s.site_name},
                         {"channels_behind", s.channels_behind},
                         {"next_sync_bytes", s.next_sync_bytes},
                         {"days_since_sync", s.days_since_sync},
                         {"last", nullptr}};
  if (s.last_sync) {
    const SyncRun& r = *s.last_sync;
    sync["last"] = {{"started_at", r.started_at},     {"finished_at", r.finished_at},
                    {"ok", r.ok},                     {"complete", r.complete},
                    {"bytes_received", r.bytes_received}, {"message", r.message}};
  }
  return sync;
}

}  // namespace

nlohmann::json BoxStatusJson(const BoxStatus& s) {
  nlohmann::json channels = nlohmann::json::array();
  for (const ChannelStatus& c : s.channels) channels.push_back(ChannelJson(c));
  nlohmann::json disk = {{"known", s.disk.known},
                         {"free_bytes", s.disk.free_bytes},
                         {"total_bytes", s.disk.total_bytes},
                         {"warning", s.disk.warning},
                         {"warning_reason", s.disk.warning_reason}};
  nlohmann::json memory = {{"known", s.memory.known},
                           {"available_bytes", s.memory.available_bytes},
                           {"total_bytes", s.memory.total_bytes}};
  return {{"now", s.now},
          {"software_version", s.software_version},
          {"channels", channels},
          {"content_bytes", s.content_bytes},
          {"staging_bytes", s.staging_bytes},
          {"disk", disk},
          {"memory", memory},
          {"sync", SyncJson(s)}};
}

}  // namespace outpost
