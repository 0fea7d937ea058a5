#include "serve.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "outpost/server/accounts.h"
#include "outpost/server/box_wifi.h"
#include "outpost/server/config.h"
#include "outpost/server/http_server.h"
#include "outpost/sync/link_scheduler.h"
#include "outpost/sync/session.h"
#include "outpost/sync/sync_server.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

// The settings file (DATA/server.toml if it exists, or --config), then the flags over it.
Result<ServerConfig> LoadConfig(const fs::path& data, const ServeArgs& args) {
  ServerConfig config;
  fs::path config_file = args.config.empty() ? data / "server.toml" : fs::path(args.config);
  if (!args.config.empty() || fs::exists(config_file)) {
    Status st = LoadServerConfig(config_file, &config);
    if (!st.ok()) return st;
  }
  if (!args.listen.empty()) {
    Status st = config.SetListen(args.listen);
    if (!st.ok()) return st;
  }
  if (args.threads > 0) config.threads = args.threads;
  if (!args.web_root.empty()) config.web_root = args.web_root;
  if (!args.portal_name.empty()) {
    Status st = CheckDnsName(args.portal_name);
    if (!st.ok()) return InvalidArgument("--portal-name " + st.message());
    config.portal_name = args.portal_name;
  }
  if (!config.web_root.empty() && !fs::is_directory(config.web_root)) {
    return InvalidArgument("--web-root " + config.web_root + " is not a folder");
  }
  return config;
}

// SIGINT and SIGTERM stop the server cleanly: blocked in every thread started after this, and
// waited for by one.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

struct SyncListener {
  std::unique_ptr<SyncDb> db;
  std::unique_ptr<SyncServer> server;
};

// The sync listener bound to --sync-listen (for `hub serve`, only on a hub).
Result<SyncListener> BindSyncListener(const fs::path& data, const ServeArgs& args,
                                      const Library& lib) {
  SyncListener listener;
  auto db = SyncDb::Open(NodePaths(data).sync_db);
  if (!db) return db.error();
  listener.db = std::move(*db);
  if (args.hub && !listener.db->OwnRoot()) {
    return NotFound(data.string() + " is not a hub: run outpost hub init --data " +
                    data.string() + " first");
  }
  SessionLimits limits;
  if (args.sync_max_sessions > 0) limits.max_sessions = args.sync_max_sessions;
  listener.server = std::make_unique<SyncServer>(NodePaths(data), lib.store.get(),
                                                 lib.catalog.get(), listener.db.get(), limits);
  Status st = listener.server->Bind(args.sync_listen);
  if (!st.ok()) return st;
  return listener;
}

// The link scheduler of a site (docs/link-policy.md): syncs with its hub as the stored policy
// allows, when the hub answers. None on a hub (it has no hub to sync with) or without sync.db.
// Each sync runs as the console's sync job (HttpServer::RunScheduledSync), so the console shows
// it and a "Sync now" and an automatic sync never run at once.
std::unique_ptr<LinkScheduler> StartAutoSync(HttpServer& server, SyncDb* db) {
  if (!db || db->OwnRoot()) return nullptr;
  LinkScheduler::Hooks hooks;
  hooks.sync = [&server] {
    spdlog::info("automatic sync: the hub answers, syncing");
    Status st = server.RunScheduledSync();
    if (st.code() == StatusCode::kBusy) {
      spdlog::info("automatic sync: {}; trying later", st.message());
    } else if (!st.ok()) {
      spdlog::warn("automatic sync: {}", st.message());
    }
    return st;
  };
  auto scheduler = std::make_unique<LinkScheduler>(db, std::move(hooks));
  scheduler->Start();
  return scheduler;
}

// Runs both servers until a signal stops them (or the HTTP server fails); logs `serving` once
// both are under way.
Status RunUntilStopped(sigset_t signals, HttpServer& server, SyncServer* sync_server,
                       const std::string& sync_listen, const std::string& serving) {
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("stopping (signal {})", sig);
    server.Stop();
    if (sync_server) sync_server->Stop();
  });
  std::thread sync_thread;
  if (sync_server) {
    spdlog::info("answering syncs on {} (port {})", sync_listen, sync_server->port());
    sync_thread = std::thread([&] {
      Status sst = sync_server->Serve();
      if (!sst.ok()) spdlog::error("sync listener: {}", sst.message());
    });
  }
  spdlog::info("{}", serving);
  std::fflush(stdout);
  Status st = server.Serve();
  if (sync_server) sync_server->Stop();
  if (sync_thread.joinable()) sync_thread.join();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return st;
}

// While the box has no coordinator: a new one-time setup code, on the console and in the log
// (docs/accounts.md). It works once, and only until a coordinator exists.
void AnnounceSetupCode(const fs::path& data, const std::string& base_url) {
  auto accounts = AccountStore::Open(data / "accounts.db");
  if (!accounts) return;  // the server logs why no one can log in
  auto code = (*accounts)->NewSetupCode();
  if (!code) {
    spdlog::error("could not make a setup code: {}", code.error().message());
  } else if (*code && IsHub(NodePaths(data))) {
    // At info, not warn: the code is a secret, and warnings are kept in DATA/errors.log, which
    // the health page shows and the site's report carries to its hub (error_log.h).
    spdlog::info("this hub has no hub admin yet. Setup code: {} (open {}setup in a browser "
                 "and make the hub admin with it; or on this hub: outpost users add --role "
                 "hub-admin NAME)", **code, base_url);
  } else if (*code) {
    spdlog::info("this box has no coordinator yet. Setup code: {} (open {}setup in a browser "
                 "and make the coordinator with it; or POST {}api/v1/setup with {{\"code\", "
                 "\"name\", \"password\"}}; or on this box: outpost users add --role "
                 "coordinator NAME)", **code, base_url, base_url);
  }
}

}  // namespace

int Serve(const fs::path& data, const ServeArgs& args) {
  auto config = LoadConfig(data, args);
  if (!config) return Fail(config.error());
  auto lib = OpenLibrary(data);
  if (!lib && lib.error().code() == StatusCode::kCorrupt) {
    // The catalog cannot even be opened (its schema is damaged): no page can be answered.
    Fail(lib.error());
    std::fprintf(stderr, "%s\n", kCatalogAdvice);
    return kExitDamaged;
  }
  if (!lib) return Fail(lib.error());
  sigset_t signals = BlockStopSignals();
  SyncListener sync;
  if (!args.sync_listen.empty()) {
    auto bound = BindSyncListener(data, args, *lib);
    if (!bound) return Fail(bound.error());
    sync = std::move(*bound);
  }
  // One connection to sync.db for the whole process (the listener's, the console's, the
  // scheduler's): SQLite's POSIX locks are per process, and a second connection opened and
  // closed beside one would drop its locks.
  std::unique_ptr<SyncDb> own_sync_db;
  SyncDb* sync_db = sync.db.get();
  if (!sync_db) {
    auto db = SyncDb::Open(NodePaths(data).sync_db);
    if (db) own_sync_db = std::move(*db), sync_db = own_sync_db.get();
    else spdlog::error("no link policy, no automatic sync: {}", db.error().message());
  }
  HttpServer server(*config, lib->store.get(), lib->catalog.get(), sync_db);
  Status st = server.Bind();
  if (!st.ok()) return Fail(st);
  size_t channels = lib->catalog->Channels().size();
  std::string base_url = fmt::format("http://{}:{}/", config->host, server.port());
  std::string serving =
      fmt::format("serving {} channel(s) from {} on {}", channels, data.string(), base_url);
  AnnounceSetupCode(data, base_url);
  auto scheduler = StartAutoSync(server, sync_db);
  st = RunUntilStopped(signals, server, sync.server.get(), args.sync_listen, serving);
  server.StopJobs();  // first: the scheduler may be waiting for its sync job
  if (scheduler) scheduler->Stop();
  return st.ok() ? kExitOk : Fail(st);
}

void AddSyncMaxSessionsOption(CLI::App* serve, ServeArgs* args) {
  serve->add_option("--sync-max-sessions", args->sync_max_sessions,
                    "sync sessions answered at once; more connections are turned away "
                    "(default " + std::to_string(SessionLimits{}.max_sessions) + ")")
      ->check(CLI::Range(1, 4096));
}

void AddServeCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = table.Add(&app, "serve", "serve the library to learners over HTTP",
                          [args](const fs::path& data) { return Serve(data, *args); });
  serve->add_option("--listen", args->listen, "ADDR:PORT to listen on (default 0.0.0.0:8080)");
  serve->add_option("--config", args->config,
                    "settings file (default: DATA/server.toml if it exists)");
  serve->add_option("--threads", args->threads,
                    "worker threads for pages and searches (default 16); connections are held by "
                    "event loops, one per core")
      ->check(CLI::Range(1, 4096));
  serve->add_option("--sync-listen", args->sync_listen,
                    "ADDR:PORT to answer syncs from enrolled peers on (relay)");
  AddSyncMaxSessionsOption(serve, args.get());
  serve->add_option("--portal-name", args->portal_name,
                    "the box's name on its own Wi-Fi (outpost.lan): requests for any other name "
                    "are redirected to it, the captive portal (docs/wifi.md)");
  serve->add_option("--web-root", args->web_root,
                    "serve templates, styles and scripts from this web-ui folder instead of the "
                    "copies built in (for developing them)");
}

}  // namespace outpost::cli
