#include "outpost/server/cli.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/importer.h"
#include "outpost/server/config.h"
#include "outpost/server/http_server.h"

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

  HttpServer server(config, lib->store.get(), lib->catalog.get());
  Status st = server.Bind();
  if (!st.ok()) return Fail(st);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("stopping (signal {})", sig);
    server.Stop();
  });
  size_t channels = lib->catalog->Channels().size();
  spdlog::info("serving {} channel(s) from {} on http://{}:{}/", channels, data.string(),
               config.host, server.port());
  std::fflush(stdout);
  st = server.Serve();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return st.ok() ? kExitOk : Fail(st);
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
                     {"files", c.files}, {"bytes", c.bytes}, {"tree", c.tree_hash.Hex()}});
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
  return kExitUsage;
}

}  // namespace outpost
