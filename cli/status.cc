#include "status.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "outpost/base/text.h"
#include "outpost/server/box_settings.h"
#include "outpost/sync/box_status.h"
#include "outpost/sync/node.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

struct StatusArgs {
  bool json = false;
};

std::string Date(int64_t unix_seconds) { return UtcMinute(unix_seconds); }

void PrintChannels(const BoxStatus& s, const BoxSettingsData& settings) {
  for (const ChannelStatus& c : s.channels) {
    std::printf("  %s: version %lld, %s%s%s", c.id.c_str(),
                static_cast<long long>(c.served_version), Megabytes(c.bytes).c_str(),
                settings.Hidden(c.id) ? ", hidden from learners" : "",
                c.staged_version ? (", version " + std::to_string(c.staged_version) +
                                    " partly fetched").c_str()
                                 : "");
    if (c.behind) {
      std::printf("; the hub has version %llu (%s to fetch)",
                  static_cast<unsigned long long>(c.hub_version), Megabytes(c.next_sync_bytes).c_str());
    }
    std::printf("\n");
  }
}

void PrintSync(const BoxStatus& s) {
  if (!s.joined) std::printf("not joined to a hub\n");
  if (!s.last_sync) {
    std::printf("never synced\n");
  } else {
    const SyncRun& r = *s.last_sync;
    std::printf("last synced on %s, %lld days ago: %s%s\n", Date(r.finished_at).c_str(),
                static_cast<long long>(s.days_since_sync),
                r.ok && r.complete ? "complete" : r.ok ? "stopped before the end" : "failed",
                r.message.empty() ? "" : (" (" + r.message + ")").c_str());
  }
  if (s.channels_behind == 0 && !s.last_sync) {
    return;  // nothing is known of the hub before a sync
  } else if (s.channels_behind == 0) {
    std::printf("up to date with what the hub last offered\n");
  } else {
    std::printf("%d channel(s) behind the hub; the next sync would fetch about %s\n",
                s.channels_behind, Megabytes(s.next_sync_bytes).c_str());
  }
}

void PrintText(const BoxStatus& s, const BoxSettingsData& settings) {
  std::printf("outpost %s\n", s.software_version.c_str());
  std::printf("channels: %zu, %s on disk", s.channels.size(), Megabytes(s.content_bytes).c_str());
  if (s.staging_bytes) std::printf(", %s partly fetched", Megabytes(s.staging_bytes).c_str());
  std::printf("\n");
  PrintChannels(s, settings);
  if (s.disk.known) {
    std::printf("disk: %s free of %s%s\n", Megabytes(s.disk.free_bytes).c_str(),
                Megabytes(s.disk.total_bytes).c_str(),
                s.disk.warning_reason == "low"         ? " (WARNING: under 10 % free)"
                : s.disk.warning_reason == "next_sync" ? " (WARNING: under twice the next sync)"
                                                       : "");
  }
  if (s.memory.known) {
    std::printf("memory: %s available of %s\n", Megabytes(s.memory.available_bytes).c_str(),
                Megabytes(s.memory.total_bytes).c_str());
  }
  std::printf("default language: %s\n", settings.default_language.c_str());
  PrintSync(s);
}

int StatusCommand(const fs::path& data, const StatusArgs& args) {
  std::error_code ec;
  if (!fs::is_directory(data, ec)) return Fail(NotFound("no data folder at " + data.string()));
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  NodePaths paths(data);
  std::unique_ptr<SyncDb> db;
  if (fs::exists(paths.sync_db, ec)) {  // a box that never joined has none: none is made
    auto opened = OpenSyncDb(data);
    if (!opened) return Fail(opened.error());
    db = std::move(*opened);
  }
  BoxStatus status = ReadBoxStatus(paths, lib->catalog.get(), db.get(),
                                   static_cast<int64_t>(std::time(nullptr)));
  auto settings = BoxSettings(data / "box-settings.json").Current();
  if (!args.json) {
    PrintText(status, *settings);
    return kExitOk;
  }
  nlohmann::json out = BoxStatusJson(status);
  for (auto& c : out["channels"]) c["hidden"] = settings->Hidden(c["id"].get<std::string>());
  out["default_language"] = settings->default_language;
  PrintJson(out);
  return kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<StatusArgs>();
  auto* status = table.Add(
      &app, "status",
      "what the box holds, how far behind its hub it is, the disk and the memory (read-only)",
      [args](const fs::path& data) { return StatusCommand(data, *args); });
  status->add_flag("--json", args->json, "print JSON (the fields of GET /api/v1/admin/status)");
}

}  // namespace outpost::cli
