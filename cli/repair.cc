#include "repair.h"

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "outpost/base/db.h"
#include "outpost/content/catalog.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/node.h"
#include "outpost/sync/repair.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/usage.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

struct RepairArgs {
  std::vector<std::string> sources;  // CHANNEL=DIR
  bool json = false;
};

// "CHANNEL=DIR" pairs; a usage error names the first one malformed.
Result<std::map<std::string, fs::path>> ParseSources(const std::vector<std::string>& sources) {
  std::map<std::string, fs::path> out;
  for (const auto& s : sources) {
    size_t eq = s.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == s.size()) {
      return InvalidArgument("--source " + s + ": expected CHANNEL=DIR");
    }
    out[s.substr(0, eq)] = fs::path(s.substr(eq + 1));
  }
  return out;
}

void PrintRepairJson(const RepairReport& r) {
  nlohmann::json channels = nlohmann::json::array(), needs = nlohmann::json::array();
  for (const auto& c : r.channels) {
    channels.push_back({{"id", c.channel_id}, {"version", c.version}, {"from", c.from}});
  }
  for (const auto& n : r.needs_hub) {
    std::vector<std::string> blobs;
    for (const auto& h : n.blobs) blobs.push_back(h.Hex());
    needs.push_back({{"id", n.channel_id}, {"version", n.version},
                     {"served_meanwhile", n.served_meanwhile}, {"blobs", blobs}});
  }
  std::vector<std::string> damaged;
  for (const auto& h : r.damaged) damaged.push_back(h.Hex());
  PrintJson({{"kept_aside", r.kept_aside.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(r.kept_aside.string())},
             {"channels", channels}, {"needs_hub", needs}, {"damaged", damaged},
             {"problems", r.problems}, {"skipped", r.skipped}, {"ok", r.ok()}});
}

void PrintRepairText(const RepairReport& r, bool hub) {
  for (const auto& p : r.problems) std::fprintf(stderr, "problem: %s\n", p.c_str());
  for (const auto& n : r.needs_hub) {
    for (const auto& h : n.blobs) {
      std::fprintf(stderr, "needs the hub: %s version %lld: blob %s\n", n.channel_id.c_str(),
                   static_cast<long long>(n.version), h.Hex().c_str());
    }
  }
  for (const auto& c : r.channels) {
    std::printf("%s version %lld rebuilt from %s\n", c.channel_id.c_str(),
                static_cast<long long>(c.version), c.from.c_str());
  }
  if (!r.kept_aside.empty()) std::printf("the old catalog is kept as %s\n", r.kept_aside.c_str());
  if (!r.needs_hub.empty() && hub) {  // the hub is this box: the files come from where they began
    std::printf("%zu channels need files this hub no longer has: publish the channel's folder "
                "again, or, for a site's channel, import that site's next stick\n",
                r.needs_hub.size());
  } else if (!r.needs_hub.empty()) {
    std::printf("%zu channels need files only the hub has: run `outpost sync` or import its "
                "next stick\n", r.needs_hub.size());
  }
}

int RepairCommand(const fs::path& data, const RepairArgs& args) {
  RepairOptions options;
  auto sources = ParseSources(args.sources);
  if (!sources) {
    std::fprintf(stderr, "outpost: %s\n", sources.error().message().c_str());
    return kExitUsage;
  }
  options.sources = std::move(*sources);
  auto store = BlobStore::Open(data);  // not the catalog: it is what gets rebuilt
  if (!store) return Fail(store.error());
  auto report = RepairCatalog(NodePaths(data), store->get(), options);
  if (!report) return Fail(report.error());
  if (args.json) PrintRepairJson(*report);
  else PrintRepairText(*report, std::filesystem::exists(NodePaths(data).root_key));
  return report->ok() ? kExitOk : kExitIncomplete;
}

// ---- migrate ----

// The schema version of the database at `path`, read without changing anything; -1 if it
// cannot be read.
int StoredSchemaVersion(const fs::path& path) {
  sqlite3* db = nullptr;
  int version = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    version = db::SchemaVersion(db);
  }
  sqlite3_close(db);
  return version;
}

struct DatabaseOfNode {
  const char* name;
  fs::path path;
  std::function<Status(const fs::path&)> open;  // opens, and so migrates
};

template <typename Store>
std::function<Status(const fs::path&)> Opener() {
  return [](const fs::path& path) {
    auto store = Store::Open(path);
    return store ? Status::Ok() : store.error();
  };
}

// Brings every database of DATA that exists to this outpost's schema (each in one
// transaction: one that fails is left as it was, and the command says so). What the package's
// postinst runs on an upgrade, before the new version serves; `outpost serve` and every command
// also migrate what they open, so running it by hand is never required.
int MigrateCommand(const fs::path& data) {
  std::vector<DatabaseOfNode> dbs = {
      {"catalog", data / "catalog.db", Opener<Catalog>()},
      {"sync", NodePaths(data).sync_db, Opener<SyncDb>()},
      {"usage", data / "usage.db", Opener<UsageStore>()},
      {"accounts", data / "accounts.db", Opener<AccountStore>()}};
  int failed = 0;
  for (const DatabaseOfNode& d : dbs) {
    if (!fs::exists(d.path)) continue;  // made, at the current schema, when first needed
    int before = StoredSchemaVersion(d.path);
    Status st = d.open(d.path);
    if (!st.ok()) {
      std::fprintf(stderr, "outpost: %s: %s\n", d.path.c_str(), st.message().c_str());
      ++failed;
      continue;
    }
    int after = StoredSchemaVersion(d.path);
    if (before == after) std::printf("%s: schema %d, up to date\n", d.name, after);
    else std::printf("%s: schema %d -> %d\n", d.name, before, after);
  }
  if (failed == 0) return kExitOk;
  std::fprintf(stderr,
               "outpost: %d database(s) could not be migrated and are unchanged: the previous "
               "outpost still reads them\n", failed);
  return kExitFailure;
}

}  // namespace

void AddMigrateCommand(CLI::App& app, CommandTable& table) {
  table.Add(&app, "migrate",
            "bring the data folder's databases to this version's schema (the package does it "
            "on upgrade; a migration that fails changes nothing)",
            [](const fs::path& data) { return MigrateCommand(data); });
}

void AddRepairCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<RepairArgs>();
  auto* repair = table.Add(
      &app, "repair",
      "rebuild a lost or damaged catalog from the signed manifests and the stored files, "
      "and switch to it (the old one is kept aside); stop the server first",
      [args](const fs::path& data) { return RepairCommand(data, *args); });
  repair->add_option("--source", args->sources,
                     "CHANNEL=DIR: import that channel again from DIR (a channel imported from "
                     "a folder has no signed manifest); may be given several times");
  repair->add_flag("--json", args->json, "print a JSON report");
}

}  // namespace outpost::cli
