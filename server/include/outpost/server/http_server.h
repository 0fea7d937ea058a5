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

#include <nlohmann/json.hpp>

namespace outpost::http {
class Transport;
struct Request;
struct Response;
}

namespace outpost {

struct ViewLanguage;

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
  struct Parts;
  void Routes();
  using Strings = std::shared_ptr<const nlohmann::json>;  // a translation catalog
  ViewLanguage Language(const http::Request& req, std::string* code, Strings* strings) const;
  struct PageKey {
    std::string key;
    uint64_t generation;
  };
  // Sends the cached page and returns nullopt, or returns the key to cache the page under.
  std::optional<PageKey> CachedPage(const http::Request& req, const std::string& code,
                                    http::Response& res) const;
  void SendPage(const http::Request& req, http::Response& res, const std::string& page,
                nlohmann::json view, const std::string& code, const Strings& strings,
                int status = 200, const PageKey* cache = nullptr) const;
  // On an event loop: answers from the page cache without waiting, or returns false.
  bool FastCachedPage(const http::Request& req, http::Response& res) const;
  void SendHtml(http::Response& res, const std::string& html, int status) const;
  void SendCachedHtml(http::Response& res, std::shared_ptr<const std::string> page) const;
  void SendJson(http::Response& res, const nlohmann::json& view, int status = 200) const;
  void NotFound(const http::Request& req, http::Response& res, bool json) const;
  // False only with !may_wait, when answering needs a worker (see FileReply::may_wait).
  bool ServeBlobFile(const http::Request& req, http::Response& res, const Hash& hash,
                     const std::string& mime, bool immutable, const std::string& download_name,
                     bool may_wait) const;

  ServerConfig config_;
  BlobStore* store_;
  Catalog* catalog_;
  std::unique_ptr<http::Transport> http_;
  std::unique_ptr<Parts> parts_;
  int port_ = 0;
};

}  // namespace outpost
