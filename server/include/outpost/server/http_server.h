// HttpServer: what learners' phones talk to (docs/web-api.md):
//
//   GET  /                       home: the channels
//   GET  /t/CHANNEL/PATH         a topic page            (JSON: /api/v1/t/...)
//   GET  /r/CHANNEL/PATH         a resource page, with the viewer for its kind (JSON: /api/v1/r/)
//   POST /r/CHANNEL/PATH         an exercise's answers, checked on the box
//   GET  /search?q=...           search, with filters    (JSON: /api/v1/search)
//   GET  /api/v1/suggest?q=      suggestions as you type
//   GET  /lang/CODE?back=PATH    choose the interface language (a cookie)
//   GET  /c/CHANNEL/PATH         a file of the served version, by path (relative links work)
//   GET  /blob/HASH              a file by hash (immutable)
//   GET  /app/CHANNEL/ZIP/INNER  a file inside an HTML5 app's zip, never unpacked to disk
//   GET  /static/NAME.HASH.EXT   web-ui assets (immutable)
//
// No handler builds a file-system path from the request: paths are looked up in the catalog,
// zip entries by exact name after IsSafeEntryPath, and /blob/ takes exactly 64 hex digits.
// Imported content that can run script is served with a sandboxing Content-Security-Policy,
// so it runs in an opaque origin: it cannot read the box's pages or cookies, nor call /api.
//
// The handlers and their table are in server/src/routes.cc.
//
// Thread-safety: handlers run on the transport's event loops (files, assets) and workers (the
// rest; http_transport.h); they share the thread-safe Catalog, BlobStore and the immutable
// views, renderer and assets.
#pragma once

#include <memory>
#include <optional>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/base/status.h"
#include "outpost/server/config.h"

namespace outpost::http {
class Transport;
}

namespace outpost {

class App;
class SyncDb;

class HttpServer {
 public:
  // `store` and `catalog` must outlive the server; `sync_db` too if given (the process's one
  // connection to sync.db, for the link policy's pages: App). None: the server opens its own.
  HttpServer(const ServerConfig& config, BlobStore* store, Catalog* catalog,
             SyncDb* sync_db = nullptr);
  ~HttpServer();

  // Binds the listening socket; with port 0 the system picks one (see port()).
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop() is called. Blocks.
  Status Serve();
  void Stop();

  // The link policy's automatic sync, for the scheduler of `outpost serve` (LinkScheduler's
  // sync hook): runs it as the console's sync job, marked "schedule", so the console shows it
  // and can cancel it and it never runs beside a sync or stick started there; waits for its
  // end. Ok when it ended (done, stopped by a budget, cancelled); kBusy at once while another
  // job runs; the reason when it failed.
  Status RunScheduledSync();
  // Cancels the console job that runs and waits for it; later ones are refused (shutdown).
  void StopJobs();

 private:
  ServerConfig config_;
  std::unique_ptr<App> app_;  // what the handlers share (server/src/app.h)
  // After app_, so destroyed first: its workers may still be running handlers.
  std::unique_ptr<http::Transport> http_;
  int port_ = 0;
};

}  // namespace outpost
