#include "hub.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "outpost/base/text.h"
#include "outpost/content/importer.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/publisher_keys.h"
#include "outpost/sync/site_list.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "serve.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

// ---- publish ----

struct PublishArgs {
  std::string folder;
  std::string channel;
  bool json = false;
};

void PrintPublished(const PublishResult& r, bool json) {
  if (json) {
    PrintJson({{"channel", r.channel_id}, {"version", r.version},
               {"new_version", r.new_version}, {"manifest", r.manifest_hash.Hex()}});
  } else if (r.new_version) {
    std::printf("%s: version %lld published, manifest %s\n", r.channel_id.c_str(),
                static_cast<long long>(r.version), r.manifest_hash.Hex().c_str());
  } else {
    std::printf("%s: unchanged, version %lld still published, manifest %s\n",
                r.channel_id.c_str(), static_cast<long long>(r.version),
                r.manifest_hash.Hex().c_str());
  }
}

int PublishCommand(const fs::path& data, const PublishArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  ImportOptions options;
  options.channel_id = args.channel;
  ProgressLine line;
  options.progress = [&](const ImportProgress& p) {
    line.Show("publishing " + std::to_string(p.files_done) + "/" + std::to_string(p.files_total) +
              " files, " + Megabytes(p.bytes_done) + " of " + Megabytes(p.bytes_total) + "  " +
              p.current);
  };
  auto r = Publish(NodePaths(data), lib->store.get(), lib->catalog.get(), args.folder, options);
  line.Done();
  if (!r) return Fail(r.error());
  PrintPublished(*r, args.json);
  return kExitOk;
}

void AddPublishCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<PublishArgs>();
  auto* publish = table.Add(
      &app, "publish", "on a hub: import a folder and sign it as its channel's next version",
      [args](const fs::path& data) { return PublishCommand(data, *args); });
  publish->add_option("FOLDER", args->folder, "the folder to publish")->required();
  publish->add_option("--channel", args->channel,
                      "channel id (default: from metadata or folder name)");
  publish->add_flag("--json", args->json, "print JSON");
}

// ---- hub init ----

int HubInit(const fs::path& data, bool json) {
  auto lib = OpenLibrary(data);  // a hub is a library too: make it whole
  if (!lib) return Fail(lib.error());
  NodePaths paths(data);
  auto hub = InitHub(paths);
  if (!hub) return Fail(hub.error());
  if (json) {
    PrintJson({{"node_key", hub->node_key.Hex()}, {"root_key", hub->root_key.Hex()},
               {"publisher_key", hub->publisher_key.Hex()}, {"trust_list", 1}});
    return kExitOk;
  }
  std::printf("hub made in %s\n", data.c_str());
  std::printf("  node key       %s  identifies this hub to its sites\n",
              hub->node_key.Fingerprint().c_str());
  std::printf("  root key       %s  signs trust lists; keep a copy of %s offline\n",
              hub->root_key.Fingerprint().c_str(), paths.root_key.c_str());
  std::printf("  publisher key  %s  signs channel versions; trust list 1 allows it every "
              "channel\n", hub->publisher_key.Fingerprint().c_str());
  return kExitOk;
}

void AddHubInitCommand(CLI::App* hub, CommandTable& table) {
  auto json = std::make_shared<bool>(false);
  auto* init = table.Add(
      hub, "init", "make this data folder a hub: its node key, root key and publisher key",
      [json](const fs::path& data) { return HubInit(data, *json); });
  init->add_flag("--json", *json, "print the keys as JSON");
}

// The hub's sync.db, for the commands that need a hub already made.
Result<std::unique_ptr<SyncDb>> OpenHubDb(const fs::path& data) {
  auto lib = OpenLibrary(data);
  if (!lib) return lib.error();
  auto db = SyncDb::Open(NodePaths(data).sync_db);
  if (!db) return db.error();
  if (!(*db)->OwnRoot()) {
    return NotFound(data.string() + " is not a hub: run outpost hub init --data " +
                    data.string() + " first");
  }
  return db;
}

// ---- hub enrol ----

struct EnrolArgs {
  std::string name;
  std::string to;
  std::string address;
  int valid_days = 7;
  bool json = false;
};

void PrintEnrolment(const EnrolArgs& args, const EnrolResult& r) {
  if (args.json) {
    nlohmann::json out = {{"name", args.name}, {"expires_at", r.expires_at},
                          {"address", r.address}, {"code", nullptr}, {"file", nullptr}};
    if (args.to.empty()) out["code"] = r.code;
    if (!args.to.empty()) out["file"] = args.to;
    PrintJson(out);
    return;
  }
  if (args.to.empty()) {
    std::printf("enrolment code for %s: %s\n", args.name.c_str(), r.code.c_str());
    std::printf("it works once, until %s\n", UtcMinute(r.expires_at).c_str());
    return;
  }
  std::printf("wrote %s for %s; it works once, until %s\n", args.to.c_str(), args.name.c_str(),
              UtcMinute(r.expires_at).c_str());
  std::printf("it holds a secret code: hand it over like a key%s\n",
              r.address.empty() ? "; it names no hub address (give one with --address)" : "");
}

int HubEnrol(const fs::path& data, const EnrolArgs& args) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  EnrolRequest request;
  request.site_name = args.name;
  request.ttl_seconds = int64_t{args.valid_days} * 24 * 60 * 60;
  request.address = args.address;
  request.to_file = args.to;
  auto r = Enrol(NodePaths(data), db->get(), request);
  if (!r) return Fail(r.error());
  PrintEnrolment(args, *r);
  return kExitOk;
}

void AddHubEnrolCommand(CLI::App* hub, CommandTable& table) {
  auto args = std::make_shared<EnrolArgs>();
  auto* enrol = table.Add(hub, "enrol", "make a one-time code (or file) to enrol a site",
                          [args](const fs::path& data) { return HubEnrol(data, *args); });
  enrol->add_option("--name", args->name, "the site's name (a-z, 0-9, '-')")->required();
  enrol->add_option("--to", args->to,
                    "write an enrolment file for a site that has never been online");
  enrol->add_option("--address", args->address,
                    "HOST:PORT where sites reach this hub (remembered for next time)");
  enrol->add_option("--valid-days", args->valid_days, "days the code works (default 7)")
      ->check(CLI::Range(1, 365));
  enrol->add_flag("--json", args->json, "print JSON");
}

// ---- hub sites ----

void PrintSitesJson(const std::vector<SiteStatus>& sites, const std::vector<PendingEnrolment>& pending) {
  nlohmann::json out = nlohmann::json::array(), waiting = nlohmann::json::array();
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auto& s : sites) out.push_back(SiteJson(s, now));
  for (const auto& e : pending) {
    waiting.push_back({{"name", e.site_name}, {"created_at", e.created_at},
                       {"expires_at", e.expires_at}});
  }
  PrintJson({{"sites", out}, {"pending", waiting}});
}

void PrintSiteReportText(const SiteStatus& s) {
  if (!s.reported) return;
  std::printf("%-24s   outpost %s, %s free of %s, %d of %zu channels behind, %u errors this week\n", "",
              s.software.c_str(), Megabytes(s.disk_free).c_str(), Megabytes(s.disk_total).c_str(),
              s.behind, s.served.size(), s.errors_logged);
  if (s.last_error) {
    std::printf("%-24s   last %s %s: %s\n", "", s.last_error->level.c_str(),
                UtcMinute(s.last_error->time).c_str(), s.last_error->message.c_str());
  }
}

void PrintSitesText(const std::vector<SiteStatus>& sites, const std::vector<PendingEnrolment>& pending) {
  if (sites.empty() && pending.empty()) {
    std::printf("no sites; enrol one with: outpost hub enrol --name NAME\n");
  }
  for (const auto& s : sites) {
    const PeerInfo& p = s.peer;
    std::string seen = p.last_seen ? UtcMinute(p.last_seen) : "never";
    if (p.last_seen && !p.last_via.empty()) seen += " by " + p.last_via;
    std::printf("%-24s %s  %-7s enrolled %s, last seen %s\n", p.name.c_str(),
                p.key.Fingerprint().c_str(), p.revoked_at ? "revoked" : "active",
                UtcMinute(p.enrolled_at).c_str(), seen.c_str());
    PrintSiteReportText(s);
    for (const auto& id : s.channels) std::printf("%-24s   its channel %s\n", "", id.c_str());
  }
  for (const auto& e : pending) {
    std::printf("%-24s (waiting: its code works until %s)\n", e.site_name.c_str(),
                UtcMinute(e.expires_at).c_str());
  }
}

int HubSites(const fs::path& data, bool json) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto sites = ListSites(db->get(), lib->catalog.get());
  auto pending = (*db)->PendingEnrolments();
  if (json) PrintSitesJson(sites, pending);
  else PrintSitesText(sites, pending);
  return kExitOk;
}

void AddHubSitesCommand(CLI::App* hub, CommandTable& table) {
  auto json = std::make_shared<bool>(false);
  auto* sites = table.Add(hub, "sites", "list the enrolled sites and pending codes",
                          [json](const fs::path& data) { return HubSites(data, *json); });
  sites->add_flag("--json", *json, "print JSON");
}

// ---- hub serve ----

void AddHubServeCommand(CLI::App* hub, CommandTable& table) {
  auto args = std::make_shared<ServeArgs>();
  args->hub = true;
  auto* serve = table.Add(hub, "serve", "serve learners over HTTP and sites' syncs",
                          [args](const fs::path& data) { return Serve(data, *args); });
  serve->add_option("--listen", args->listen, "ADDR:PORT for HTTP (default 0.0.0.0:8080)");
  serve->add_option("--sync-listen", args->sync_listen,
                    "ADDR:PORT where sites sync (for example 0.0.0.0:7080)")
      ->required();
  AddSyncMaxSessionsOption(serve, args.get());
  serve->add_option("--config", args->config, "settings file (as for serve)");
}

// ---- hub revoke ----

int HubRevoke(const fs::path& data, const std::string& who) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  auto before = (*db)->PendingEnrolments().size();
  Status st = (*db)->RevokePeer(who);
  if (!st.ok()) return Fail(st);
  for (const auto& p : (*db)->Peers()) {
    if (p.revoked_at && (p.name == who || p.key.Hex() == who)) {
      std::printf("revoked %s (key %s); it can no longer sync with this hub\n", p.name.c_str(),
                  p.key.Fingerprint().c_str());
    }
  }
  if (auto cancelled = before - (*db)->PendingEnrolments().size()) {
    std::printf("cancelled %zu enrolment code(s) for %s\n", cancelled, who.c_str());
  }
  return kExitOk;
}

void AddHubRevokeCommand(CLI::App* hub, CommandTable& table) {
  auto who = std::make_shared<std::string>();
  auto* revoke = table.Add(hub, "revoke", "refuse a site from now on, and cancel its pending codes",
                           [who](const fs::path& data) { return HubRevoke(data, *who); });
  revoke->add_option("SITE", *who, "the site's name or its key (64 hex)")->required();
}

// ---- hub publisher list|rotate|revoke: the root's trust list of publisher keys ----

struct PublisherArgs {
  std::string key;
  std::string root_key;
  bool json = false;
};

// `current`: this hub's publisher key, if it has one.
void PrintTrustList(const TrustList& list, const std::optional<PublicKey>& current, bool json) {
  auto is_current = [&](const PublicKey& k) { return current && *current == k; };
  if (json) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& e : list.entries) {
      keys.push_back({{"key", e.publisher.Hex()}, {"state", KeyStateName(e.state)},
                      {"channels", e.channels}, {"current", is_current(e.publisher)}});
    }
    PrintJson({{"root", list.root.Hex()}, {"sequence", list.sequence}, {"publishers", keys}});
    return;
  }
  std::printf("trust list %llu, signed by root %s\n",
              static_cast<unsigned long long>(list.sequence), list.root.Hex().c_str());
  for (const auto& e : list.entries) {
    std::string channels;
    for (const auto& c : e.channels) channels += (channels.empty() ? "" : ", ") + c;
    std::printf("  %s  %-7s %s%s\n", e.publisher.Hex().c_str(), KeyStateName(e.state),
                channels.c_str(), is_current(e.publisher) ? "  (this hub's publisher key)" : "");
  }
}

int HubPublisherList(const fs::path& data, const PublisherArgs& args) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  auto list = LoadTrustList(NodePaths(data), *(*db)->OwnRoot());
  if (!list) return Fail(list.error());
  auto current = LoadIdentity(NodePaths(data).publisher_key);
  PrintTrustList(*list, current ? std::optional<PublicKey>(current->public_key()) : std::nullopt,
                 args.json);
  return kExitOk;
}

void PrintPublisherChange(const PublisherChange& c, bool json) {
  if (json) {
    PrintJson({{"sequence", c.trust_sequence}, {"added", c.added ? c.added->Hex() : ""},
               {"revoked", c.revoked.Hex()}, {"resigned", c.resigned}});
    return;
  }
  if (c.added) std::printf("new publisher key %s\n", c.added->Hex().c_str());
  std::printf("revoked publisher key %s\n", c.revoked.Hex().c_str());
  if (c.resigned) std::printf("signed %d served version(s) again with the new key\n", c.resigned);
  std::printf("trust list %llu is issued; sites take it at their next sync\n",
              static_cast<unsigned long long>(c.trust_sequence));
}

int HubPublisherRotate(const fs::path& data, const PublisherArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto change = RotatePublisher(NodePaths(data), lib->catalog.get(), args.root_key);
  if (!change) return Fail(change.error());
  PrintPublisherChange(*change, args.json);
  return kExitOk;
}

int HubPublisherRevoke(const fs::path& data, const PublisherArgs& args) {
  auto change = RevokePublisher(NodePaths(data), args.key, args.root_key);
  if (!change) return Fail(change.error());
  PrintPublisherChange(*change, args.json);
  return kExitOk;
}

// One `hub publisher` subcommand running `run` with its own PublisherArgs.
template <typename Run>
std::pair<CLI::App*, std::shared_ptr<PublisherArgs>> AddPublisherCommand(
    CLI::App* publisher, CommandTable& table, const std::string& name,
    const std::string& description, Run run) {
  auto args = std::make_shared<PublisherArgs>();
  auto* cmd = table.Add(publisher, name, description,
                        [args, run](const fs::path& data) { return run(data, *args); });
  return {cmd, args};
}

void AddHubPublisherCommands(CLI::App* hub, CommandTable& table) {
  auto* publisher = hub->add_subcommand(
      "publisher", "the publisher keys the root trusts: list, rotate, revoke");
  publisher->require_subcommand(1);
  auto [list, list_args] =
      AddPublisherCommand(publisher, table, "list", "show the trust list", HubPublisherList);
  list->add_flag("--json", list_args->json, "print JSON");
  auto [rotate, rotate_args] = AddPublisherCommand(
      publisher, table, "rotate",
      "replace the publisher key with a new one and revoke the old one (needs the root key)",
      HubPublisherRotate);
  rotate->add_option("--root-key", rotate_args->root_key,
                     "the root key file, if it is kept away from DATA/keys");
  rotate->add_flag("--json", rotate_args->json, "print JSON");
  auto [revoke, revoke_args] = AddPublisherCommand(
      publisher, table, "revoke",
      "revoke a publisher key that is not this hub's own (needs the root key)",
      HubPublisherRevoke);
  revoke->add_option("KEY", revoke_args->key, "the key (64 hex)")->required();
  revoke->add_option("--root-key", revoke_args->root_key,
                     "the root key file, if it is kept away from DATA/keys");
  revoke->add_flag("--json", revoke_args->json, "print JSON");
}

}  // namespace

void AddHubCommands(CLI::App& app, CommandTable& table) {
  AddPublishCommand(app, table);
  auto* hub = app.add_subcommand("hub", "run a hub: its keys, and the sites it enrols");
  hub->require_subcommand(1);
  AddHubInitCommand(hub, table);
  AddHubEnrolCommand(hub, table);
  AddHubSitesCommand(hub, table);
  AddHubServeCommand(hub, table);
  AddHubRevokeCommand(hub, table);
  AddHubPublisherCommands(hub, table);
  AddHubReviewCommands(hub, table);
}

}  // namespace outpost::cli
