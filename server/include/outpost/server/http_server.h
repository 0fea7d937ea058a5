// HttpServer: what learners' phones talk to. Until the learner pages (issue #3) exist it
// serves a plain catalog listing and the files themselves:
//
//   GET /                         channels, with links to their topics; a search box
//   GET /topic/ID                 a topic's children, with links
//   GET /search?q=WORDS           search results over served versions
//   GET /c/CHANNEL/PATH           a file of the channel's served version, by its path, so that
//                                 HTML pages' relative links work (ETag = blob hash, Range)
//   GET /blob/HASH                a blob by its hash (immutable, cached forever)
//   GET /api/v1/channels          the channels as JSON
//
// No handler builds a file-system path from the request: /c/ paths are looked up in the
// catalog, and /blob/ takes exactly 64 hex digits (any blob in the store, for whoever knows its
// hash), so "../" and friends find nothing.
//
// Thread-safety: handlers run on cpp-httplib's worker threads; they share the thread-safe
// Catalog and BlobStore.
#pragma once

#include <memory>

#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/content/status.h"
#include "outpost/server/config.h"

namespace httplib {
class Server;
}

namespace outpost {

class HttpServer {
 public:
  // `store` and `catalog` must outlive the server.
  HttpServer(const ServerConfig& config, BlobStore* store, Catalog* catalog);
  ~HttpServer();

  // Binds the listening socket; with port 0 the system picks one (see port()).
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop() is called. Blocks.
  Status Serve();
  void Stop();

 private:
  void Routes();

  ServerConfig config_;
  BlobStore* store_;
  Catalog* catalog_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
};

}  // namespace outpost
