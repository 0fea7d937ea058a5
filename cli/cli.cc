#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/importer.h"
#include "outpost/base/text.h"
#include "outpost/server/config.h"
#include "outpost/server/http_server.h"
#include "outpost/sync/drives.h"
#include "outpost/sync/bundle.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_server.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

// --data DIR, else $OUTPOST_DATA, else /var/lib/outpost for root and
// ~/.local/share/outpost for anyone else.
fs::path DefaultDataDir() {
  if (const char* env = std::getenv("OUTPOST_DATA"); env && *env) return env;
  if (geteuid() == 0) return "/var/lib/outpost";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".local/share/outpost";
}

struct Library {
  std::unique_ptr<BlobStore> store;
  std::unique_ptr<Catalog> catalog;
};

Result<Library> OpenLibrary(const fs::path& data) {
  Library lib;
  auto store = BlobStore::Open(data);
  if (!store) return store.error().WithContext("opening the data folder " + data.string());
  lib.store = std::move(*store);
  auto catalog = Catalog::Open(data / "catalog.db");
  if (!catalog) return catalog.error();
  lib.catalog = std::move(*catalog);
  return lib;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "outpost: %s\n", st.message().c_str());
  return st.code() == StatusCode::kBusy ? kExitBusy : kExitFailure;
}

void PrintJson(const nlohmann::json& j) {
  std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", s.c_str());
}

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// A progress line on a terminal, redrawn at most 5 times a second; nothing when stderr is not a
// terminal (a script or a log).
class ProgressLine {
 public:
  ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() { Done(); }
  void Show(const std::string& text) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    std::string line = text.size() > 100 ? text.substr(0, 97) + "..." : text;
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    shown_ = true;
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// ---- serve ----

struct ServeArgs {
  std::string listen;
  std::string config;
  std::string web_root;
  int threads = 0;
  std::string sync_listen;  // also answer syncs (a hub; a site relaying to its peers)
  bool hub = false;         // `hub serve`: this must be a hub
};

int Serve(const fs::path& data, const ServeArgs& args) {
  ServerConfig config;
  fs::path config_file = args.config.empty() ? data / "server.toml" : fs::path(args.config);
  if (!args.config.empty() || fs::exists(config_file)) {
    Status st = LoadServerConfig(config_file, &config);
    if (!st.ok()) return Fail(st);
  }
  if (!args.listen.empty()) {
    Status st = config.SetListen(args.listen);
    if (!st.ok()) return Fail(st);
  }
  if (args.threads > 0) config.threads = args.threads;
  if (!args.web_root.empty()) config.web_root = args.web_root;
  if (!config.web_root.empty() && !fs::is_directory(config.web_root)) {
    return Fail(InvalidArgument("--web-root " + config.web_root + " is not a folder"));
  }
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());

  // SIGINT and SIGTERM stop the server cleanly: a thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<SyncDb> sync_db;
  std::unique_ptr<SyncServer> sync_server;
  if (!args.sync_listen.empty()) {
    auto db = SyncDb::Open(NodePaths(data).sync_db);
    if (!db) return Fail(db.error());
    sync_db = std::move(*db);
    if (args.hub && !sync_db->OwnRoot()) {
      return Fail(NotFound(data.string() + " is not a hub: run outpost hub init --data " +
                           data.string() + " first"));
    }
    sync_server = std::make_unique<SyncServer>(NodePaths(data), lib->store.get(),
                                               lib->catalog.get(), sync_db.get());
    Status st = sync_server->Bind(args.sync_listen);
    if (!st.ok()) return Fail(st);
  }

  HttpServer server(config, lib->store.get(), lib->catalog.get());
  Status st = server.Bind();
  if (!st.ok()) return Fail(st);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("stopping (signal {})", sig);
    server.Stop();
    if (sync_server) sync_server->Stop();
  });
  std::thread sync_thread;
  if (sync_server) {
    spdlog::info("answering syncs on {} (port {})", args.sync_listen, sync_server->port());
    sync_thread = std::thread([&] {
      Status sst = sync_server->Serve();
      if (!sst.ok()) spdlog::error("sync listener: {}", sst.message());
    });
  }
  size_t channels = lib->catalog->Channels().size();
  spdlog::info("serving {} channel(s) from {} on http://{}:{}/", channels, data.string(),
               config.host, server.port());
  std::fflush(stdout);
  st = server.Serve();
  if (sync_server) sync_server->Stop();
  if (sync_thread.joinable()) sync_thread.join();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return st.ok() ? kExitOk : Fail(st);
}

// ---- sync, join ----

struct SyncArgs {
  std::string hub;
  std::string peer;
  uint64_t rate_limit_kbps = 0;
  double budget_mb = 0;
  bool json = false;
};

Result<std::unique_ptr<SyncDb>> OpenSyncDb(const fs::path& data) {
  std::error_code ec;
  fs::create_directories(NodePaths(data).sync_dir, ec);
  return SyncDb::Open(NodePaths(data).sync_db);
}

std::string Eta(double seconds) {
  if (seconds <= 0 || seconds > 1e7) return "?";
  char buf[32];
  int s = static_cast<int>(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

int SyncCommand(const fs::path& data, const SyncArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  SyncOptions options;
  options.hub = args.hub;
  options.peer = args.peer;
  options.rate_limit_kbps = args.rate_limit_kbps;
  options.budget_bytes = static_cast<uint64_t>(args.budget_mb * 1e6);
  ProgressLine line;
  options.progress = [&](const SyncProgress& p) {
    if (p.uploading) {
      double rate = p.seconds > 0 ? static_cast<double>(p.bytes_sent) / p.seconds : 0;
      line.Show("sending this site's channels: " + Megabytes(p.bytes_sent) + " sent (the files offered: " +
                Megabytes(p.bytes_offered) + ") at " + Megabytes(static_cast<uint64_t>(rate)) + "/s");
      return;
    }
    double rate = p.seconds > 0 ? static_cast<double>(p.bytes_received) / p.seconds : 0;
    double left = p.bytes_wanted > p.bytes_done ? static_cast<double>(p.bytes_wanted - p.bytes_done) : 0;
    line.Show("syncing " + std::to_string(p.files_done) + "/" + std::to_string(p.files_wanted) +
              " files, " + Megabytes(p.bytes_done) + " of " + Megabytes(p.bytes_wanted) + ", " +
              Megabytes(p.bytes_received) + " received at " + Megabytes(static_cast<uint64_t>(rate)) +
              "/s, ETA " + Eta(rate > 0 ? left / rate : -1));
  };
  auto r = SyncWithHub(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(), options);
  line.Done();
  if (!r) {
    if (args.json) {
      PrintJson({{"complete", false}, {"error", r.error().message()}, {"bytes_sent", 0},
                 {"bytes_received", 0}, {"round_trips", 0}, {"seconds", 0},
                 {"channels_updated", nlohmann::json::array()}});
    }
    return Fail(r.error());
  }
  nlohmann::json updated = nlohmann::json::array();
  for (const auto& u : r->updated) updated.push_back({{"id", u.id}, {"from", u.from}, {"to", u.to}});
  nlohmann::json uploaded = nlohmann::json::array();
  for (const auto& u : r->uploaded) {
    uploaded.push_back({{"id", u.id}, {"version", u.version}, {"state", u.state}, {"message", u.message}});
  }
  if (args.json) {
    PrintJson({{"bytes_sent", r->bytes_sent}, {"bytes_received", r->bytes_received},
               {"round_trips", r->round_trips}, {"seconds", r->seconds},
               {"complete", r->complete}, {"channels_updated", updated},
               {"files_received", r->files_received}, {"chunks_received", r->chunks_received},
               {"chunks_reused", r->chunks_reused}, {"patches_received", r->patches_received},
               {"chunk_bytes", r->chunk_bytes}, {"budget_reached", r->budget_reached},
               {"refused", r->refused}, {"channels_uploaded", uploaded}});
  } else {
    for (const auto& why : r->refused) std::fprintf(stderr, "refused: %s\n", why.c_str());
    for (const auto& u : r->uploaded) {
      if (u.state == "served") {
        std::printf("%s: version %lld sent to the hub\n", u.id.c_str(), static_cast<long long>(u.version));
      } else {
        std::fprintf(stderr, "%s: version %lld %s at the hub: %s\n", u.id.c_str(),
                     static_cast<long long>(u.version), u.state.c_str(), u.message.c_str());
      }
    }
    for (const auto& u : r->updated) {
      std::printf("%s: version %lld served (was %lld)\n", u.id.c_str(),
                  static_cast<long long>(u.to), static_cast<long long>(u.from));
    }
    std::printf("%s: %s sent, %s received, %d round trips, %.1f s\n",
                r->complete ? "up to date" : "not finished (run sync again to continue)",
                Megabytes(r->bytes_sent).c_str(), Megabytes(r->bytes_received).c_str(),
                r->round_trips, r->seconds);
  }
  return r->complete ? kExitOk : kExitIncomplete;
}

// `peer enrol` on a relay (any node that runs serve --sync-listen); `peer join` on the site that
// will sync from it.
int PeerEnrol(const fs::path& data, const std::string& name, bool json) {
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  auto code = (*db)->NewEnrolCode(name, kDefaultEnrolCodeTtl);
  if (!code) return Fail(code.error());
  if (json) {
    PrintJson({{"name", name}, {"code", *code}});
  } else {
    std::printf("%s\n", code->c_str());
    std::fprintf(stderr, "a one-time code for %s to sync from this node (outpost peer join); it "
                         "works once, for 7 days\n", name.c_str());
  }
  return kExitOk;
}

int PeerJoin(const fs::path& data, const std::string& where, const std::string& code,
             const std::string& name) {
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  auto relay = JoinRelay(NodePaths(data), db->get(), where, code, name, SessionLimits{}.io_timeout);
  if (!relay) return Fail(relay.error());
  std::printf("joined relay %s (key %s) at %s; sync from it with: outpost sync --peer %s\n",
              relay->name.c_str(), relay->key.Fingerprint().c_str(), where.c_str(), where.c_str());
  return kExitOk;
}

struct JoinArgs {
  std::string where;  // HOST:PORT, or an enrolment file
  std::string code;
  std::string name;
};

int JoinCommand(const fs::path& data, const JoinArgs& args) {
  auto lib = OpenLibrary(data);  // a site is a library too: make it whole
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  NodePaths paths(data);
  if (args.code.empty()) {
    auto enrolment = ReadEnrolmentFile(args.where);
    if (!enrolment) return Fail(enrolment.error());
    Status st = StoreTrustList(paths, enrolment->pin.root_key, enrolment->trust_list);
    if (!st.ok()) return Fail(st);
    st = (*db)->SetHub(enrolment->pin);
    if (!st.ok()) return Fail(st);
    std::printf("joined hub %s as \"%s\" from %s; the code is presented at the first sync%s\n",
                enrolment->pin.node_key.Fingerprint().c_str(), enrolment->pin.site_name.c_str(),
                args.where.c_str(),
                enrolment->pin.address.empty() ? " (give the hub's address with sync --hub)" : "");
    return kExitOk;
  }
  auto pin = EnrolWithHub(paths, db->get(), args.where, args.code, args.name,
                          SessionLimits{}.io_timeout);
  if (!pin) return Fail(pin.error());
  std::printf("joined hub %s at %s as \"%s\"\n", pin->node_key.Fingerprint().c_str(),
              pin->address.c_str(), pin->site_name.c_str());
  return kExitOk;
}

// ---- import ----

struct ImportArgs {
  std::string folder;
  std::string channel;
  bool skip_errors = false;
  bool rehash = false;
  bool json = false;
  int threads = 0;
};

int Import(const fs::path& data, const ImportArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  Importer importer(lib->store.get(), lib->catalog.get());
  ImportOptions options;
  options.channel_id = args.channel;
  options.skip_errors = args.skip_errors;
  options.rehash = args.rehash;
  options.threads = args.threads;
  ProgressLine line;
  options.progress = [&](const ImportProgress& p) {
    line.Show("importing " + std::to_string(p.files_done) + "/" + std::to_string(p.files_total) +
              " files, " + Megabytes(p.bytes_done) + " of " + Megabytes(p.bytes_total) + "  " +
              p.current);
  };
  auto report = importer.Import(args.folder, options);
  line.Done();
  if (!report) return Fail(report.error());
  const ImportReport& r = *report;
  double mbps = r.seconds > 0 ? static_cast<double>(r.bytes_read) / 1e6 / r.seconds : 0;
  if (args.json) {
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& p : r.skipped) skipped.push_back({{"path", p.path}, {"message", p.message}});
    PrintJson({{"channel", r.channel_id}, {"version", r.version}, {"changed", r.version != 0},
               {"files", r.files}, {"topics", r.topics}, {"bytes", r.bytes},
               {"new_blobs", r.new_blobs}, {"new_bytes", r.new_bytes},
               {"reused_blobs", r.reused_blobs}, {"files_read", r.files_read},
               {"bytes_read", r.bytes_read}, {"seconds", r.seconds}, {"mb_per_s", mbps},
               {"skipped", skipped}});
  } else {
    for (const auto& p : r.skipped) std::fprintf(stderr, "left out %s: %s\n", p.path.c_str(), p.message.c_str());
    if (r.version) {
      std::printf("%s: version %lld served: %lld files in %lld topics, %s (%lld new files, %s new)"
                  " in %.1f s\n",
                  r.channel_id.c_str(), static_cast<long long>(r.version),
                  static_cast<long long>(r.files), static_cast<long long>(r.topics),
                  Megabytes(r.bytes).c_str(), static_cast<long long>(r.new_blobs),
                  Megabytes(r.new_bytes).c_str(), r.seconds);
    } else {
      std::printf("%s: unchanged, still serving the same version (%.1f s)\n",
                  r.channel_id.c_str(), r.seconds);
    }
  }
  return kExitOk;
}

// ---- channels, search ----

int Channels(const fs::path& data, bool json) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto channels = lib->catalog->Channels();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : channels) {
      out.push_back({{"id", c.id}, {"version", c.served_version},
                     {"latest_version", c.latest_version}, {"title", c.meta.title},
                     {"language", c.meta.language}, {"license", c.meta.license},
                     {"files", c.files}, {"bytes", c.bytes}, {"tree", c.tree_hash.Hex()},
                     {"manifest", c.manifest_hash ? nlohmann::json(c.manifest_hash->Hex())
                                                  : nlohmann::json(nullptr)}});
    }
    PrintJson(out);
    return kExitOk;
  }
  if (channels.empty()) std::printf("no channels; import one with: outpost import FOLDER\n");
  for (const auto& c : channels) {
    std::printf("%-24s version %-4lld %6lld files %10s  %s\n", c.id.c_str(),
                static_cast<long long>(c.served_version), static_cast<long long>(c.files),
                Megabytes(static_cast<uint64_t>(c.bytes)).c_str(), c.meta.title.c_str());
  }
  return kExitOk;
}

int Search(const fs::path& data, const std::string& query, int limit, bool json) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto hits = lib->catalog->Search(query, limit);
  if (!hits) return Fail(hits.error());
  auto plain = [](std::string s) {
    std::erase(s, '\x02');
    std::erase(s, '\x03');
    return s;
  };
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : *hits) {
      out.push_back({{"channel", h.channel_id}, {"path", h.path}, {"title", h.title},
                     {"kind", h.kind}, {"language", h.language},
                     {"snippet", plain(h.snippet)}, {"rank", h.rank}});
    }
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& h : *hits) {
    std::printf("%s/%s  %s\n    %s\n", h.channel_id.c_str(), h.path.c_str(), h.title.c_str(),
                plain(h.snippet).c_str());
  }
  if (hits->empty()) std::printf("nothing found\n");
  return kExitOk;
}

// ---- publish, and the hub's own commands ----


struct PublishArgs {
  std::string folder;
  std::string channel;
  bool json = false;
};

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
  if (args.json) {
    PrintJson({{"channel", r->channel_id}, {"version", r->version},
               {"new_version", r->new_version}, {"manifest", r->manifest_hash.Hex()}});
  } else if (r->new_version) {
    std::printf("%s: version %lld published, manifest %s\n", r->channel_id.c_str(),
                static_cast<long long>(r->version), r->manifest_hash.Hex().c_str());
  } else {
    std::printf("%s: unchanged, version %lld still published, manifest %s\n",
                r->channel_id.c_str(), static_cast<long long>(r->version),
                r->manifest_hash.Hex().c_str());
  }
  return kExitOk;
}

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

struct EnrolArgs {
  std::string name;
  std::string to;
  std::string address;
  int valid_days = 7;
  bool json = false;
};

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
  if (args.json) {
    nlohmann::json out = {{"name", args.name}, {"expires_at", r->expires_at},
                          {"address", r->address}, {"code", nullptr}, {"file", nullptr}};
    if (args.to.empty()) out["code"] = r->code;
    if (!args.to.empty()) out["file"] = args.to;
    PrintJson(out);
    return kExitOk;
  }
  if (args.to.empty()) {
    std::printf("enrolment code for %s: %s\n", args.name.c_str(), r->code.c_str());
    std::printf("it works once, until %s\n", UtcMinute(r->expires_at).c_str());
    return kExitOk;
  }
  std::printf("wrote %s for %s; it works once, until %s\n", args.to.c_str(), args.name.c_str(),
              UtcMinute(r->expires_at).c_str());
  std::printf("it holds a secret code: hand it over like a key%s\n",
              r->address.empty() ? "; it names no hub address (give one with --address)" : "");
  return kExitOk;
}

int HubSites(const fs::path& data, bool json) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  auto peers = (*db)->Peers();
  auto pending = (*db)->PendingEnrolments();
  if (json) {
    nlohmann::json sites = nlohmann::json::array(), waiting = nlohmann::json::array();
    for (const auto& p : peers) {
      sites.push_back({{"name", p.name}, {"key", p.key.Hex()}, {"role", p.role},
                       {"state", p.revoked_at ? "revoked" : "active"},
                       {"enrolled_at", p.enrolled_at}, {"revoked_at", p.revoked_at},
                       {"last_seen", p.last_seen}, {"channels", (*db)->ChannelsOf(p.key)}});
    }
    for (const auto& e : pending) {
      waiting.push_back({{"name", e.site_name}, {"created_at", e.created_at},
                         {"expires_at", e.expires_at}});
    }
    PrintJson({{"sites", sites}, {"pending", waiting}});
    return kExitOk;
  }
  if (peers.empty() && pending.empty()) {
    std::printf("no sites; enrol one with: outpost hub enrol --name NAME\n");
  }
  for (const auto& p : peers) {
    std::printf("%-24s %s  %-7s enrolled %s, last seen %s\n", p.name.c_str(),
                p.key.Fingerprint().c_str(), p.revoked_at ? "revoked" : "active",
                UtcMinute(p.enrolled_at).c_str(),
                p.last_seen ? UtcMinute(p.last_seen).c_str() : "never");
    for (const auto& id : (*db)->ChannelsOf(p.key)) std::printf("%-24s   its channel %s\n", "", id.c_str());
  }
  for (const auto& e : pending) {
    std::printf("%-24s (waiting: its code works until %s)\n", e.site_name.c_str(),
                UtcMinute(e.expires_at).c_str());
  }
  return kExitOk;
}

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

// `hub publisher list|rotate|revoke`: the root's trust list of publisher keys.
struct PublisherArgs {
  std::string key;
  std::string root_key;
  bool json = false;
};

int HubPublisherList(const fs::path& data, const PublisherArgs& args) {
  auto db = OpenHubDb(data);
  if (!db) return Fail(db.error());
  auto list = LoadTrustList(NodePaths(data), *(*db)->OwnRoot());
  if (!list) return Fail(list.error());
  auto current = LoadIdentity(NodePaths(data).publisher_key);
  if (args.json) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& e : list->entries) {
      keys.push_back({{"key", e.publisher.Hex()}, {"state", KeyStateName(e.state)},
                      {"channels", e.channels},
                      {"current", current && current->public_key() == e.publisher}});
    }
    PrintJson({{"root", list->root.Hex()}, {"sequence", list->sequence}, {"publishers", keys}});
    return kExitOk;
  }
  std::printf("trust list %llu, signed by root %s\n", static_cast<unsigned long long>(list->sequence),
              list->root.Hex().c_str());
  for (const auto& e : list->entries) {
    std::string channels;
    for (const auto& c : e.channels) channels += (channels.empty() ? "" : ", ") + c;
    std::printf("  %s  %-7s %s%s\n", e.publisher.Hex().c_str(), KeyStateName(e.state),
                channels.c_str(),
                current && current->public_key() == e.publisher ? "  (this hub's publisher key)" : "");
  }
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

// ---- bundle ----

struct BundleArgs {
  std::string to;
  std::vector<std::string> for_peers;
  bool full = false;
  bool continue_export = false;
  std::string continue_id;  // a prefix of the bundle id, or "" for the only unfinished export
  double volume_mb = 0;
  std::string path;
  bool json = false;
};

int BundleExport(const fs::path& data, const BundleArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  BundleExportOptions options;
  options.to = args.to;
  options.for_peers = args.for_peers;
  options.full = args.full;
  options.continue_export = args.continue_export;
  options.continue_id = args.continue_id;
  if (args.volume_mb > 0) options.volume_bytes = static_cast<uint64_t>(args.volume_mb * 1e6);
  ProgressLine line;
  options.progress = [&](uint64_t written, uint64_t at_most) {
    line.Show("writing the bundle: " + Megabytes(written) + " (at most " + Megabytes(at_most) + ")");
  };
  auto r = ExportBundle(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(), options);
  line.Done();
  if (!r) return Fail(r.error());
  if (args.json) {
    std::vector<std::string> volumes;
    for (const auto& v : r->volumes) volumes.push_back(v.string());
    PrintJson({{"bundle", r->bundle_id}, {"volumes", volumes}, {"bytes", r->bytes},
               {"recipients", r->recipients}, {"channels", r->channels}, {"chunks", r->chunks},
               {"patches", r->patches}, {"complete", r->complete},
               {"remaining_bytes", r->remaining_bytes}});
    return r->complete ? kExitOk : kExitIncomplete;
  }
  std::string to;
  for (const auto& n : r->recipients) to += (to.empty() ? "" : ", ") + n;
  std::printf("bundle %s for %s: %zu volume(s), %s\n", r->bundle_id.substr(0, 8).c_str(), to.c_str(),
              r->volumes.size(), Megabytes(r->bytes).c_str());
  for (const auto& c : r->channels) std::printf("  %s\n", c.c_str());
  for (const auto& v : r->volumes) std::printf("  %s\n", v.c_str());
  if (r->complete) return kExitOk;
  // With another export unfinished too, a bare --continue would be refused: name this one.
  std::string which = UnfinishedExports(NodePaths(data)).size() > 1 ? " " + r->bundle_id.substr(0, 8) : "";
  std::printf("the drive is full: %zu volume(s), %s written; about %s remain. Insert another drive "
              "and run: outpost bundle export --data %s --continue%s --to <its folder>\n",
              r->volumes.size(), Megabytes(r->bytes).c_str(), Megabytes(r->remaining_bytes).c_str(),
              data.c_str(), which.c_str());
  return kExitIncomplete;
}

int BundleImport(const fs::path& data, const BundleArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  ProgressLine line;
  auto r = ImportBundle(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(), args.path,
                        [&](uint64_t read, uint64_t total) {
                          line.Show("reading the bundle: " + Megabytes(read) + " of " + Megabytes(total));
                        });
  line.Done();
  if (!r) return Fail(r.error());
  const SyncSummary& s = r->summary;
  if (args.json) {
    nlohmann::json updated = nlohmann::json::array();
    for (const auto& u : s.updated) updated.push_back({{"id", u.id}, {"from", u.from}, {"to", u.to}});
    PrintJson({{"complete", s.complete}, {"channels_updated", updated}, {"volumes", r->volumes},
               {"damaged", r->damaged}, {"skipped", r->skipped}, {"refused", s.refused},
               {"files_received", s.files_received}, {"chunks_received", s.chunks_received},
               {"patches_received", s.patches_received}, {"chunk_bytes", s.chunk_bytes}});
  } else {
    for (const auto& v : r->skipped) std::fprintf(stderr, "skipped: %s\n", v.c_str());
    for (const auto& v : r->damaged) std::fprintf(stderr, "damaged: %s\n", v.c_str());
    for (const auto& v : s.refused) std::fprintf(stderr, "refused: %s\n", v.c_str());
    for (const auto& u : s.updated) {
      std::printf("%s: version %lld served (was %lld)\n", u.id.c_str(), static_cast<long long>(u.to),
                  static_cast<long long>(u.from));
    }
    std::printf("%s: %zu volume(s) read, %llu chunks and %llu patches taken\n",
                s.complete ? "up to date with the bundle" : "not complete (what arrived is kept)",
                r->volumes.size(), static_cast<unsigned long long>(s.chunks_received),
                static_cast<unsigned long long>(s.patches_received));
  }
  return s.complete ? kExitOk : kExitIncomplete;
}

int BundleDrives(const fs::path& data, bool json) {
  auto drives = ListRemovableDrives();
  if (!drives) return Fail(drives.error());
  // A data folder kept on a USB disk is not a stick to carry away.
  std::error_code ec;
  fs::path here = fs::weakly_canonical(data, ec);
  std::erase_if(*drives, [&](const RemovableDrive& d) {
    auto rel = here.lexically_relative(d.mount_point);
    return !rel.empty() && *rel.begin() != "..";
  });
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : *drives) {
      list.push_back({{"device", d.device}, {"mount_point", d.mount_point.string()},
                      {"filesystem", d.filesystem}, {"label", d.label}, {"read_only", d.read_only},
                      {"total_bytes", d.total_bytes}, {"free_bytes", d.free_bytes}, {"fat32", d.fat32}});
    }
    PrintJson(list);
    return kExitOk;
  }
  if (drives->empty()) std::printf("no removable drive is mounted\n");
  for (const auto& d : *drives) std::printf("%s\n", DescribeDrive(d).c_str());
  return kExitOk;
}

int BundleUnfinished(const fs::path& data, const std::string& abandon, bool json) {
  NodePaths paths(data);
  if (!abandon.empty()) {
    if (Status st = AbandonExport(paths, abandon); !st.ok()) return Fail(st);
    if (!json) std::printf("forgot the unfinished export %s: it will not be continued\n", abandon.c_str());
  }
  auto unfinished = UnfinishedExports(paths);
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : unfinished) {
      list.push_back({{"bundle", e.bundle_id}, {"recipients", e.recipients}, {"volumes", e.volumes},
                      {"bytes", e.bytes}, {"created_at", e.created_at}, {"damaged", e.damaged}});
    }
    PrintJson(list);
    return kExitOk;
  }
  if (!abandon.empty()) return kExitOk;
  if (unfinished.empty()) std::printf("no unfinished export\n");
  for (const auto& e : unfinished) {
    if (!e.damaged.empty()) {
      std::printf("%s  its state is damaged: %s\n", e.bundle_id.substr(0, 8).c_str(), e.damaged.c_str());
      continue;
    }
    std::string to;
    for (const auto& n : e.recipients) to += (to.empty() ? "" : ", ") + n;
    std::printf("%s  for %s, begun %s: %u volume(s), %s written; continue with --continue %s\n",
                e.bundle_id.substr(0, 8).c_str(), to.c_str(),
                UtcMinute(static_cast<int64_t>(e.created_at)).c_str(), e.volumes,
                Megabytes(e.bytes).c_str(), e.bundle_id.substr(0, 8).c_str());
  }
  return kExitOk;
}

// ---- verify ----

int Verify(const fs::path& data, bool json, bool keep_damaged) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  std::vector<std::pair<Hash, uint64_t>> blobs;
  std::vector<std::string> damaged, stray;
  Status st = lib->store->ForEach([&](const Hash& h, uint64_t size) { blobs.emplace_back(h, size); },
                                  [&](const fs::path& p) { stray.push_back(p.string()); });
  if (!st.ok()) return Fail(st);
  uint64_t total = 0, done = 0;
  for (const auto& b : blobs) total += b.second;
  ProgressLine line;
  std::unordered_set<Hash> present;
  for (const auto& [hash, size] : blobs) {
    present.insert(hash);
    Status v = lib->store->Verify(hash);
    if (!v.ok()) {
      line.Done();
      std::fprintf(stderr, "damaged: %s\n", v.message().c_str());
      damaged.push_back(hash.Hex());
      if (v.code() == StatusCode::kCorrupt && !keep_damaged) {
        auto moved = lib->store->Quarantine(hash);
        if (moved) {
          std::fprintf(stderr, "  moved to %s; importing its channel again restores it\n",
                       moved->c_str());
        } else {
          std::fprintf(stderr, "  could not move it aside (%s): it is still served\n",
                       moved.error().message().c_str());
        }
      }
    }
    done += size;
    line.Show("verifying " + Megabytes(done) + " of " + Megabytes(total));
  }
  line.Done();
  std::vector<std::string> missing;
  auto refs = lib->catalog->ReferencedBlobs();
  if (!refs) return Fail(refs.error());
  for (const auto& h : *refs) {
    if (!present.count(h)) {
      std::fprintf(stderr, "missing: blob %s is used by the catalog but not in the store\n",
                   h.Hex().c_str());
      missing.push_back(h.Hex());
    }
  }
  std::vector<std::string> catalog_problems = lib->catalog->CheckIntegrity();
  for (const auto& p : catalog_problems) std::fprintf(stderr, "catalog: %s\n", p.c_str());
  bool ok = damaged.empty() && missing.empty() && catalog_problems.empty();
  if (json) {
    PrintJson({{"blobs", blobs.size()}, {"bytes", total}, {"damaged", damaged},
               {"missing", missing}, {"stray_files", stray}, {"catalog", catalog_problems},
               {"ok", ok}});
  } else {
    std::printf("%zu blobs, %s checked: %zu damaged, %zu missing; catalog %s\n", blobs.size(),
                Megabytes(total).c_str(), damaged.size(), missing.size(),
                catalog_problems.empty() ? "ok" : "DAMAGED");
    if (!ok) {
      std::printf("import the affected channels again (or sync them) to repair them%s\n",
                  keep_damaged ? "" : "; until then their damaged files are not served");
    }
  }
  return ok ? kExitOk : kExitDamaged;
}

// ---- gc ----

int Gc(const fs::path& data, int keep_versions, bool dry_run, bool json) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto lock = lib->store->TryLockExclusive();
  if (!lock) return Fail(lock.error());
  auto doomed = lib->catalog->VersionsToPrune(keep_versions);
  if (!doomed) return Fail(doomed.error());
  // What stays referenced once those versions are gone (computed before pruning, so that
  // --dry-run reports exactly what a real run removes).
  auto refs = lib->catalog->ReferencedBlobs(*doomed);
  if (!refs) return Fail(refs.error());
  int pruned = static_cast<int>(doomed->size());
  if (!dry_run) {
    auto p = lib->catalog->PruneVersions(keep_versions);
    if (!p) return Fail(p.error());
  }
  std::vector<Hash> unused;
  uint64_t freed = 0;
  Status st = lib->store->ForEach([&](const Hash& h, uint64_t size) {
    if (!refs->count(h)) {
      unused.push_back(h);
      freed += size;
    }
  });
  if (!st.ok()) return Fail(st);
  if (!dry_run) {
    // Forget before removing: a crash in between leaves a file no one references, never a
    // reference to a missing file.
    st = lib->catalog->ForgetBlobs(unused);
    if (!st.ok()) return Fail(st);
    for (const auto& h : unused) {
      st = lib->store->Remove(h);
      if (!st.ok()) return Fail(st);
    }
    st = lib->store->RemoveStaleTemps();
    if (!st.ok()) return Fail(st);
  }
  if (json) {
    PrintJson({{"versions_removed", pruned}, {"blobs_removed", unused.size()},
               {"bytes_freed", freed}, {"dry_run", dry_run}});
  } else {
    std::printf("%s%zu unused blobs (%s), %d old versions\n", dry_run ? "would remove " : "removed ",
                unused.size(), Megabytes(freed).c_str(), pruned);
  }
  return kExitOk;
}

}  // namespace

int RunCli(int argc, char** argv) {
  if (!InitCrypto()) {
    std::fprintf(stderr, "outpost: libsodium could not start (no entropy source?)\n");
    return kExitFailure;
  }
  auto logger = spdlog::stderr_color_mt("outpost");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");

  CLI::App app{"Outpost: an offline-first learning content server.\n"
               "Docs: docs/ in the source tree (start with docs/README.md)."};
  app.set_version_flag("--version", std::string("outpost 0.1.0"));
  app.require_subcommand(1);
  std::string data_flag;
  bool verbose = false;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--data", data_flag,
                    "data folder (default: $OUTPOST_DATA, else /var/lib/outpost as root, "
                    "else ~/.local/share/outpost)");
    cmd->add_flag("-v,--verbose", verbose, "more logging (serve: every request)");
  };

  ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve", "serve the library to learners over HTTP");
  add_common(serve);
  serve->add_option("--listen", serve_args.listen, "ADDR:PORT to listen on (default 0.0.0.0:8080)");
  serve->add_option("--config", serve_args.config,
                    "settings file (default: DATA/server.toml if it exists)");
  serve->add_option("--threads", serve_args.threads,
                    "worker threads for pages and searches (default 16); connections are held by "
                    "event loops, one per core")
      ->check(CLI::Range(1, 4096));
  serve->add_option("--sync-listen", serve_args.sync_listen,
                    "ADDR:PORT to answer syncs from enrolled peers on (relay)");
  serve->add_option("--web-root", serve_args.web_root,
                    "serve templates, styles and scripts from this web-ui folder instead of the "
                    "copies built in (for developing them)");

  ImportArgs import_args;
  auto* import = app.add_subcommand("import", "import a folder as a new version of a channel");
  add_common(import);
  import->add_option("PATH", import_args.folder, "the folder to import")->required();
  import->add_option("--channel", import_args.channel, "channel id (default: from metadata or folder name)");
  import->add_flag("--skip-errors", import_args.skip_errors,
                   "leave faulty files out instead of failing");
  import->add_flag("--rehash", import_args.rehash, "read every file even if it seems unchanged");
  import->add_flag("--json", import_args.json, "print a JSON summary");
  import->add_option("--threads", import_args.threads,
                     "files read at once (default: two per core, at most 8)")
      ->check(CLI::Range(1, 64));

  bool verify_json = false, keep_damaged = false;
  auto* verify = app.add_subcommand(
      "verify", "re-hash every stored file and report damage; damaged files are moved to "
                "DATA/quarantine so that they are never served and the next import restores them");
  add_common(verify);
  verify->add_flag("--json", verify_json, "print a JSON summary");
  verify->add_flag("--keep-damaged", keep_damaged, "report damage but leave damaged files in place");

  int keep_versions = 1;
  bool dry_run = false, gc_json = false;
  auto* gc = app.add_subcommand("gc", "remove old versions and files no version uses");
  add_common(gc);
  gc->add_option("--keep-versions", keep_versions,
                 "older versions to keep per channel besides the served one (default 1)")
      ->check(CLI::Range(0, 1000000));
  gc->add_flag("--dry-run", dry_run, "only say what would be removed");
  gc->add_flag("--json", gc_json, "print a JSON summary");

  bool channels_json = false;
  auto* channels = app.add_subcommand("channels", "list the channels and their served versions");
  add_common(channels);
  channels->add_flag("--json", channels_json, "print JSON");

  std::string query;
  int limit = 20;
  bool search_json = false;
  auto* search = app.add_subcommand("search", "search the served library");
  add_common(search);
  search->add_option("QUERY", query, "words to look for")->required();
  search->add_option("--limit", limit, "most results to show")->check(CLI::Range(1, 1000));
  search->add_flag("--json", search_json, "print JSON");

  PublishArgs publish_args;
  auto* publish = app.add_subcommand(
      "publish", "on a hub: import a folder and sign it as its channel's next version");
  add_common(publish);
  publish->add_option("FOLDER", publish_args.folder, "the folder to publish")->required();
  publish->add_option("--channel", publish_args.channel,
                      "channel id (default: from metadata or folder name)");
  publish->add_flag("--json", publish_args.json, "print JSON");

  // `hub`: a group of commands, each with its own flags after its name (`outpost hub init
  // --data DIR`). A new one is an add_subcommand on `hub` and a row in hub_commands.
  auto* hub = app.add_subcommand("hub", "run a hub: its keys, and the sites it enrols");
  hub->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::function<int(const fs::path&)>>> hub_commands;

  bool hub_init_json = false;
  auto* hub_init = hub->add_subcommand(
      "init", "make this data folder a hub: its node key, root key and publisher key");
  add_common(hub_init);
  hub_init->add_flag("--json", hub_init_json, "print the keys as JSON");
  hub_commands.emplace_back(hub_init, [&](const fs::path& d) { return HubInit(d, hub_init_json); });

  EnrolArgs enrol_args;
  auto* hub_enrol = hub->add_subcommand("enrol", "make a one-time code (or file) to enrol a site");
  add_common(hub_enrol);
  hub_enrol->add_option("--name", enrol_args.name, "the site's name (a-z, 0-9, '-')")->required();
  hub_enrol->add_option("--to", enrol_args.to,
                        "write an enrolment file for a site that has never been online");
  hub_enrol->add_option("--address", enrol_args.address,
                        "HOST:PORT where sites reach this hub (remembered for next time)");
  hub_enrol->add_option("--valid-days", enrol_args.valid_days,
                        "days the code works (default 7)")
      ->check(CLI::Range(1, 365));
  hub_enrol->add_flag("--json", enrol_args.json, "print JSON");
  hub_commands.emplace_back(hub_enrol, [&](const fs::path& d) { return HubEnrol(d, enrol_args); });

  bool hub_sites_json = false;
  auto* hub_sites = hub->add_subcommand("sites", "list the enrolled sites and pending codes");
  add_common(hub_sites);
  hub_sites->add_flag("--json", hub_sites_json, "print JSON");
  hub_commands.emplace_back(hub_sites, [&](const fs::path& d) { return HubSites(d, hub_sites_json); });

  ServeArgs hub_serve_args;
  hub_serve_args.hub = true;
  auto* hub_serve = hub->add_subcommand("serve", "serve learners over HTTP and sites' syncs");
  add_common(hub_serve);
  hub_serve->add_option("--listen", hub_serve_args.listen, "ADDR:PORT for HTTP (default 0.0.0.0:8080)");
  hub_serve->add_option("--sync-listen", hub_serve_args.sync_listen,
                        "ADDR:PORT where sites sync (for example 0.0.0.0:7080)")
      ->required();
  hub_serve->add_option("--config", hub_serve_args.config, "settings file (as for serve)");
  hub_commands.emplace_back(hub_serve, [&](const fs::path& d) { return Serve(d, hub_serve_args); });

  std::string revoke_who;
  auto* hub_revoke = hub->add_subcommand(
      "revoke", "refuse a site from now on, and cancel its pending codes");
  add_common(hub_revoke);
  hub_revoke->add_option("SITE", revoke_who, "the site's name or its key (64 hex)")->required();
  hub_commands.emplace_back(hub_revoke, [&](const fs::path& d) { return HubRevoke(d, revoke_who); });

  PublisherArgs publisher_args;
  auto* hub_publisher = hub->add_subcommand(
      "publisher", "the publisher keys the root trusts: list, rotate, revoke");
  hub_publisher->require_subcommand(1);
  auto* publisher_list = hub_publisher->add_subcommand("list", "show the trust list");
  add_common(publisher_list);
  publisher_list->add_flag("--json", publisher_args.json, "print JSON");
  hub_commands.emplace_back(publisher_list, [&](const fs::path& d) { return HubPublisherList(d, publisher_args); });
  auto* publisher_rotate = hub_publisher->add_subcommand(
      "rotate", "replace the publisher key with a new one and revoke the old one (needs the root key)");
  add_common(publisher_rotate);
  publisher_rotate->add_option("--root-key", publisher_args.root_key,
                               "the root key file, if it is kept away from DATA/keys");
  publisher_rotate->add_flag("--json", publisher_args.json, "print JSON");
  hub_commands.emplace_back(publisher_rotate, [&](const fs::path& d) { return HubPublisherRotate(d, publisher_args); });
  auto* publisher_revoke = hub_publisher->add_subcommand(
      "revoke", "revoke a publisher key that is not this hub's own (needs the root key)");
  add_common(publisher_revoke);
  publisher_revoke->add_option("KEY", publisher_args.key, "the key (64 hex)")->required();
  publisher_revoke->add_option("--root-key", publisher_args.root_key,
                               "the root key file, if it is kept away from DATA/keys");
  publisher_revoke->add_flag("--json", publisher_args.json, "print JSON");
  hub_commands.emplace_back(publisher_revoke, [&](const fs::path& d) { return HubPublisherRevoke(d, publisher_args); });

  SyncArgs sync_args;
  auto* sync = app.add_subcommand("sync", "bring this site up to date with its hub");
  add_common(sync);
  sync->add_option("--hub", sync_args.hub, "HOST:PORT of the hub (default: the one joined)");
  sync->add_option("--rate-limit", sync_args.rate_limit_kbps,
                   "receive at most this many kilobits per second");
  sync->add_option("--budget", sync_args.budget_mb,
                   "receive at most about this many MB, then stop cleanly (the next sync goes on)")
      ->check(CLI::PositiveNumber);
  sync->add_flag("--json", sync_args.json, "print a JSON summary");

  sync->add_option("--peer", sync_args.peer,
                   "HOST:PORT of a relay this site joined (outpost peer join), instead of the hub");

  BundleArgs bundle_args;
  auto* bundle = app.add_subcommand("bundle", "carry versions on a USB stick: export, import, drives");
  bundle->require_subcommand(1);
  auto* bundle_export = bundle->add_subcommand("export", "write what a peer lacks to a drive");
  add_common(bundle_export);
  bundle_export->add_option("--to", bundle_args.to, "the folder to write to (a drive's mount point)")->required();
  auto* for_option = bundle_export->add_option(
      "--for", bundle_args.for_peers, "on a hub: a site's name or key, or all (repeat for a courier bundle)");
  auto* full_flag = bundle_export->add_flag("--full", bundle_args.full,
                                            "everything served, as for a peer never heard from");
  auto* continue_option =
      bundle_export
          ->add_option("--continue", bundle_args.continue_id,
                       "go on with an export that filled its drive (its id, if several are unfinished)")
          ->expected(0, 1)
          ->excludes(for_option)
          ->excludes(full_flag);
  bundle_export->add_option("--volume-size", bundle_args.volume_mb,
                            "split into files of at most this many MB (default: under FAT32's 4 GiB)")
      ->check(CLI::Range(1.0, 1e7));
  bundle_export->add_flag("--json", bundle_args.json, "print JSON");
  auto* bundle_import = bundle->add_subcommand("import", "take in a bundle's volumes");
  add_common(bundle_import);
  bundle_import->add_option("PATH", bundle_args.path, "a volume (.opb) or a folder of them")->required();
  bundle_import->add_flag("--json", bundle_args.json, "print JSON");
  auto* bundle_drives = bundle->add_subcommand("drives", "list the mounted removable drives");
  add_common(bundle_drives);
  bundle_drives->add_flag("--json", bundle_args.json, "print JSON");
  std::string abandon_id;
  auto* bundle_unfinished =
      bundle->add_subcommand("unfinished", "list the exports a full drive or a pulled one left unfinished");
  add_common(bundle_unfinished);
  bundle_unfinished->add_option("--abandon", abandon_id, "forget this one (its id, or the first digits of it)");
  bundle_unfinished->add_flag("--json", bundle_args.json, "print JSON");

  auto* peer = app.add_subcommand("peer", "relay versions between sites (a neighbour, a laptop)");
  peer->require_subcommand(1);
  std::string peer_name;
  bool peer_json = false;
  auto* peer_enrol = peer->add_subcommand("enrol", "on a relay: a one-time code for a site");
  add_common(peer_enrol);
  peer_enrol->add_option("--name", peer_name, "the site's name (a-z, 0-9, '-')")->required();
  peer_enrol->add_flag("--json", peer_json, "print JSON");
  std::string peer_where, peer_code, peer_join_name;
  auto* peer_join = peer->add_subcommand("join", "on a site: enrol with a relay");
  add_common(peer_join);
  peer_join->add_option("RELAY", peer_where, "HOST:PORT of the relay's sync listener")->required();
  peer_join->add_option("CODE", peer_code, "the code from outpost peer enrol")->required();
  peer_join->add_option("--name", peer_join_name, "what to call the relay here");

  JoinArgs join_args;
  auto* join = app.add_subcommand("join", "enrol this site with a hub (a code, or an enrolment file)");
  add_common(join);
  join->add_option("HUB", join_args.where, "HOST:PORT of the hub's sync listener, or an enrolment file")
      ->required();
  join->add_option("CODE", join_args.code, "the one-time code the hub's coordinator gave");
  join->add_option("--name", join_args.name, "a name to suggest for this site");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  fs::path data = data_flag.empty() ? DefaultDataDir() : fs::path(data_flag);

  if (serve->parsed()) return Serve(data, serve_args);
  if (import->parsed()) return Import(data, import_args);
  if (verify->parsed()) return Verify(data, verify_json, keep_damaged);
  if (gc->parsed()) return Gc(data, keep_versions, dry_run, gc_json);
  if (channels->parsed()) return Channels(data, channels_json);
  if (search->parsed()) return Search(data, query, limit, search_json);
  if (publish->parsed()) return PublishCommand(data, publish_args);
  if (sync->parsed()) return SyncCommand(data, sync_args);
  if (join->parsed()) return JoinCommand(data, join_args);
  if (peer_enrol->parsed()) return PeerEnrol(data, peer_name, peer_json);
  if (bundle_export->parsed()) {
    bundle_args.continue_export = continue_option->count() > 0;
    return BundleExport(data, bundle_args);
  }
  if (bundle_import->parsed()) return BundleImport(data, bundle_args);
  if (bundle_drives->parsed()) return BundleDrives(data, bundle_args.json);
  if (bundle_unfinished->parsed()) return BundleUnfinished(data, abandon_id, bundle_args.json);
  if (peer_join->parsed()) return PeerJoin(data, peer_where, peer_code, peer_join_name);
  for (const auto& [command, run] : hub_commands) {
    if (command->parsed()) return run(data);
  }
  return kExitUsage;
}

}  // namespace outpost
