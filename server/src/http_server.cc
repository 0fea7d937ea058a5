// The learner-facing HTTP server: a table of small handlers over Views (view-models), the
// Renderer (templates) and Delivery (bytes with ranges, ETags and compression). Handlers take a
// request and fill a response; none touches a socket. See http_server.h for the routes and
// docs/web-api.md for the view-models.
#include "outpost/server/http_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <unordered_map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "assets.h"
#include "compression_cache.h"
#include "delivery.h"
#include "http/http_transport.h"
#include "i18n.h"
#include "page_cache.h"
#include "outpost/content/sniff.h"
#include "outpost/base/text.h"
#include "outpost/content/zip_archive.h"
#include "render.h"
#include "search_gate.h"
#include "http/url.h"
#include "views.h"

namespace outpost {

namespace {

// Our own pages: scripts, styles and everything else from the box itself only.
constexpr const char* kPagePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self'; frame-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'";

// Imported content that can run script (HTML pages, SVG, HTML5 apps): a sandbox without
// allow-same-origin gives it an opaque origin, so its scripts cannot read the box's cookies or
// pages, nor call /api as the learner; and it may load only from the box.
constexpr const char* kContentPolicy =
    "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; "
    "default-src 'self' data: blob: 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'self'";

bool RunsScript(std::string_view mime) {
  return mime.starts_with("text/html") || mime.starts_with("application/xhtml") ||
         mime.starts_with("image/svg") || mime.starts_with("text/xml") ||
         mime.starts_with("application/xml");
}

std::string CookieValue(const http::Request& req, std::string_view name) {
  std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string_view item(cookies.data() + pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.starts_with(name) && item[name.size()] == '=') {
      return std::string(item.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

// A `back=` target must be a path on this box: "/..." but not "//host" or "/\host".
std::string LocalPath(const std::string& back) {
  if (back.empty() || back[0] != '/' || back.size() > 2048) return "/";
  if (back.size() > 1 && (back[1] == '/' || back[1] == '\\')) return "/";
  for (unsigned char c : back) {
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return back;
}

// The path and query of the request, for the language switcher's way back.
std::string RequestTarget(const http::Request& req) {
  std::string target = PercentEncodePath(req.path);
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += query.empty() ? "?" : "&";
    query += PercentEncode(k, false) + "=" + PercentEncode(v, false);
  }
  return target + query;
}

// A catalog path from a URL path tail: must be valid UTF-8 with no empty, "." or ".."
// segments (the catalog would not find those anyway; refusing them early is clearer).
bool CleanPath(const std::string& path) {
  return path.empty() || IsSafeEntryPath(path);
}

}  // namespace

struct HttpServer::Parts {
  Parts(const ServerConfig& config, BlobStore* store, Catalog* catalog)
      : assets(config.web_root.empty() ? Assets::Embedded() : Assets::FromDisk(config.web_root)),
        i18n(&assets),
        renderer(&assets),
        views(catalog, store),
        search_gate(config.max_searches),
        search_wait(config.search_wait_ms) {}

  Assets assets;
  I18n i18n;
  Renderer renderer;
  Views views;
  SearchGate search_gate;
  std::chrono::milliseconds search_wait;
  std::unique_ptr<CompressionCache> compression;
  PageCache pages;

  // /c/CHANNEL/PATH -> the blob and type, until the catalog changes: file requests (a video's
  // ranges, a page's images) then skip the catalog entirely.
  struct FileRef {
    Hash blob;
    std::string mime;
    std::string name;  // the file name, for downloads
  };
  std::mutex files_mu;
  uint64_t files_generation = 0;
  std::unordered_map<std::string, std::optional<FileRef>> files;
  // With !may_wait (on an event loop), answers only from the cache: nullopt when that would
  // need the catalog; else the file, or nullopt inside for "no such file".
  std::optional<std::optional<FileRef>> FindFile(Catalog* catalog, const std::string& channel,
                                                 const std::string& path, bool may_wait) {
    std::string key = channel + "/" + path;
    std::optional<uint64_t> recent = catalog->RecentGeneration();
    if (!recent && !may_wait) return std::nullopt;
    uint64_t generation = recent ? *recent : catalog->Generation();
    {
      std::lock_guard lock(files_mu);
      if (generation != files_generation) {
        files.clear();
        files_generation = generation;
      }
      auto it = files.find(key);
      if (it != files.end()) return it->second;
    }
    if (!may_wait) return std::nullopt;
    std::optional<FileRef> ref;
    auto node = catalog->NodeByPath(channel, path);
    if (node && node->blob) {
      size_t slash = node->path.rfind('/');
      ref = FileRef{*node->blob, node->mime,
                    slash == std::string::npos ? node->path : node->path.substr(slash + 1)};
    }
    std::lock_guard lock(files_mu);
    if (generation == files_generation) {
      if (files.size() > 20000) files.clear();
      files[key] = ref;
    }
    return ref;
  }
  std::mutex variants_mu;
  std::map<std::string, std::shared_ptr<const CompressedVariants>> variants;  // by asset hash
};

namespace {

http::TransportOptions TransportOptionsOf(const ServerConfig& c) {
  http::TransportOptions o;
  o.io_threads = c.io_threads;
  o.threads = c.threads;
  o.max_connections = c.max_connections;
  o.keep_alive_seconds = c.keep_alive_seconds;
  o.keep_alive_max_requests = c.keep_alive_max_requests;
  o.read_timeout_seconds = c.read_timeout_seconds;
  o.write_timeout_seconds = c.write_timeout_seconds;
  o.max_request_body = c.max_request_body;
  o.max_target_bytes = c.max_target_bytes;
  o.max_header_bytes = c.max_header_bytes;
  o.max_headers = c.max_headers;
  return o;
}

}  // namespace

HttpServer::HttpServer(const ServerConfig& config, BlobStore* store, Catalog* catalog)
    : config_(config),
      store_(store),
      catalog_(catalog),
      http_(new http::Transport(TransportOptionsOf(config))),
      parts_(new Parts(config, store, catalog)) {
  auto cache = CompressionCache::Open(store->root() / "cache");
  if (cache) {
    parts_->compression = std::move(*cache);
  } else {
    spdlog::warn("text files will be sent uncompressed: {}", cache.error().message());
  }
  // Answers the transport makes itself (no route, 400, 414, 431, ...) and 404s without a page
  // get the same headers as ours, and a page for people.
  http_->set_error_handler([this](const http::Request& req, http::Response& res) {
    if (!res.has_header("X-Content-Type-Options")) {
      res.set_header("X-Content-Type-Options", "nosniff");
    }
    if (res.status == 404 && !res.has_body() && !req.path.starts_with("/api/")) {
      NotFound(req, res, false);
    }
  });
  Routes();
}

HttpServer::~HttpServer() = default;

ViewLanguage HttpServer::Language(const http::Request& req, std::string* code,
                                  Strings* strings) const {
  *code = parts_->i18n.Negotiate(CookieValue(req, "lang"), req.get_header_value("Accept-Language"));
  *strings = parts_->i18n.SharedStrings(*code);
  ViewLanguage lang;
  lang.strings = strings->get();
  lang.code = *code;
  const I18n* i18n = &parts_->i18n;
  std::string ui = *code;
  lang.language_name = [i18n, ui](const std::string& tag) { return i18n->LanguageName(tag, ui); };
  return lang;
}

void HttpServer::SendPage(const http::Request& req, http::Response& res,
                          const std::string& page, nlohmann::json view, const std::string& code,
                          const Strings& strings, int status, const PageKey* cache) const {
  view["lang"] = code;
  view["dir"] = parts_->i18n.Dir(code);
  view["languages"] = parts_->i18n.LanguageLinks(code, RequestTarget(req));
  view["assets"] = parts_->assets.FrameUrls();
  if (!view.contains("query")) view["query"] = "";
  auto html = parts_->renderer.RenderPage(page, view, strings, code);
  if (!html) {
    spdlog::error("rendering {}: {}", page, html.error().message());
    res.status = 500;
    res.set_content("Internal error", "text/plain; charset=utf-8");
    return;
  }
  if (cache && status == 200) {
    parts_->pages.Put(cache->key, cache->generation, std::make_shared<const std::string>(*html));
  }
  SendHtml(res, *html, status);
}

// The key and generation under which a page may be kept in the page cache.
std::optional<HttpServer::PageKey> HttpServer::CachedPage(const http::Request& req,
                                                          const std::string& code,
                                                          http::Response& res) const {
  PageKey key{code + "|" + RequestTarget(req), catalog_->Generation()};
  if (auto page = parts_->pages.Get(key.key, key.generation)) {
    SendCachedHtml(res, std::move(page));
    return std::nullopt;
  }
  return key;
}

bool HttpServer::FastCachedPage(const http::Request& req, http::Response& res) const {
  std::optional<uint64_t> generation = catalog_->RecentGeneration();
  if (!generation) return false;
  std::string code =
      parts_->i18n.Negotiate(CookieValue(req, "lang"), req.get_header_value("Accept-Language"));
  auto page = parts_->pages.Get(code + "|" + RequestTarget(req), *generation);
  if (!page) return false;
  SendCachedHtml(res, std::move(page));
  return true;
}

void HttpServer::SendCachedHtml(http::Response& res,
                                std::shared_ptr<const std::string> page) const {
  SendHtml(res, "", 200);
  std::string_view bytes = *page;
  res.set_content_view(bytes, std::move(page), "text/html; charset=utf-8");
}

void HttpServer::SendHtml(http::Response& res, const std::string& html, int status) const {
  res.status = status;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("Vary", "Accept-Language, Cookie");
  res.set_header("Content-Security-Policy", kPagePolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_content(html, "text/html; charset=utf-8");
}

void HttpServer::SendJson(http::Response& res, const nlohmann::json& view, int status) const {
  res.status = status;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(view.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void HttpServer::NotFound(const http::Request& req, http::Response& res, bool json) const {
  std::string code;
  Strings strings;
  ViewLanguage lang = Language(req, &code, &strings);
  if (json) {
    SendJson(res, {{"error", "not found"}}, 404);
    return;
  }
  nlohmann::json view = {{"page_title", lang.T("not_found_title")},
                         {"message", lang.T("not_found_message")},
                         {"status", 404},
                         {"breadcrumb", nlohmann::json::array({{{"title", lang.T("home")}, {"url", "/"}}})}};
  SendPage(req, res, "error", view, code, strings, 404);
}

bool HttpServer::ServeBlobFile(const http::Request& req, http::Response& res,
                               const Hash& hash, const std::string& mime, bool immutable,
                               const std::string& download_name, bool may_wait) const {
  if (RunsScript(mime)) res.set_header("Content-Security-Policy", kContentPolicy);
  // Content is public to every learner; apps in their sandbox (an opaque origin) may fetch
  // their own files. /api sends no such header, so sandboxed script cannot read it.
  res.set_header("Access-Control-Allow-Origin", "*");
  FileReply reply;
  auto path = store_->PathOf(hash);
  reply.path = path;
  reply.hash = hash;
  reply.mime = mime;
  reply.immutable = immutable;
  reply.download_name = download_name;
  reply.may_wait = may_wait;
  Status st = ServeFile(req, res, reply, parts_->compression.get());
  if (st.code() == StatusCode::kBusy && !may_wait) return false;
  if (!st.ok()) spdlog::error("serving blob {}: {}", hash.Hex(), st.message());
  return true;
}

void HttpServer::Routes() {
  using http::Request;
  using http::Response;

  // ---- pages ----
  // Pages: from the page cache on the event loop when they are there (FastCachedPage), else
  // rendered on a worker.
  auto cached_page = [this](const Request& req, Response& res) { return FastCachedPage(req, res); };
  http_->Get("/", cached_page, [this](const Request& req, Response& res) {
    std::string code;
    Strings strings;
    ViewLanguage lang = Language(req, &code, &strings);
    auto key = CachedPage(req, code, res);
    if (!key) return;
    SendPage(req, res, "home", parts_->views.Home(lang), code, strings, 200, &*key);
  });

  auto topic = [this](const Request& req, Response& res, bool json) {
    std::string channel = req.matches[1], path = req.matches[2];
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::string code;
    Strings strings;
    ViewLanguage lang = Language(req, &code, &strings);
    std::optional<PageKey> key;
    if (!json && !(key = CachedPage(req, code, res))) return;
    auto view = CleanPath(path) ? parts_->views.Topic(lang, channel, path) : std::nullopt;
    if (!view) return NotFound(req, res, json);
    if (json) return SendJson(res, *view);
    SendPage(req, res, "topic", std::move(*view), code, strings, 200, &*key);
  };
  http_->Get(R"(/t/([a-z0-9-]+)/?(.*))", cached_page,
             [topic](const Request& req, Response& res) { topic(req, res, false); });
  http_->Get(R"(/api/v1/t/([a-z0-9-]+)/?(.*))",
             [topic](const Request& req, Response& res) { topic(req, res, true); });

  auto resource = [this](const Request& req, Response& res, bool json, bool posted) {
    std::string channel = req.matches[1], path = req.matches[2];
    std::string code;
    Strings strings;
    ViewLanguage lang = Language(req, &code, &strings);
    std::optional<PageKey> key;
    if (!json && !posted && !(key = CachedPage(req, code, res))) return;
    std::map<std::string, std::string> answers;
    if (posted) {
      for (const auto& [k, v] : req.params) answers[k] = v;
    }
    auto view = CleanPath(path) && !path.empty()
                    ? parts_->views.Resource(lang, channel, path, posted ? &answers : nullptr)
                    : std::nullopt;
    if (!view) return NotFound(req, res, json);
    if (json) return SendJson(res, *view);
    SendPage(req, res, "resource", std::move(*view), code, strings, 200, key ? &*key : nullptr);
  };
  http_->Get(R"(/r/([a-z0-9-]+)/(.+))", cached_page,
             [resource](const Request& req, Response& res) { resource(req, res, false, false); });
  http_->Post(R"(/r/([a-z0-9-]+)/(.+))",
              [resource](const Request& req, Response& res) { resource(req, res, false, true); });
  http_->Get(R"(/api/v1/r/([a-z0-9-]+)/(.+))",
             [resource](const Request& req, Response& res) { resource(req, res, true, false); });
  http_->Post(R"(/api/v1/r/([a-z0-9-]+)/(.+))",
              [resource](const Request& req, Response& res) { resource(req, res, true, true); });

  auto search = [this](const Request& req, Response& res, bool json) {
    std::string code;
    Strings strings;
    ViewLanguage lang = Language(req, &code, &strings);
    SearchRequest request;
    request.query = SanitizeUtf8(req.get_param_value("q").substr(0, 200));
    request.filters.channel_id = req.get_param_value("channel");
    request.filters.language = req.get_param_value("language");
    request.filters.kind = req.get_param_value("kind");
    request.filters.grade = req.get_param_value("grade");
    nlohmann::json view;
    int status = 200;
    if (auto ticket = parts_->search_gate.Enter(parts_->search_wait)) {
      view = parts_->views.Search(lang, request);
    } else {
      view = parts_->views.SearchBusy(lang, request);
      status = 503;
      res.set_header("Retry-After", "1");
    }
    if (json) return SendJson(res, view, status);
    SendPage(req, res, "search", std::move(view), code, strings, status);
  };
  http_->Get("/search", [search](const Request& req, Response& res) { search(req, res, false); });
  http_->Get("/api/v1/search",
             [search](const Request& req, Response& res) { search(req, res, true); });

  http_->Get("/api/v1/suggest", [this](const Request& req, Response& res) {
    std::string q = SanitizeUtf8(req.get_param_value("q").substr(0, 100));
    auto ticket = parts_->search_gate.Enter(std::chrono::milliseconds(0));
    if (!ticket) {
      res.set_header("Retry-After", "1");
      return SendJson(res, {{"query", q}, {"suggestions", nlohmann::json::array()}, {"busy", true}}, 503);
    }
    SendJson(res, parts_->views.Suggest(q));
  });

  http_->Get("/api/v1/home", [this](const Request& req, Response& res) {
    std::string code;
    Strings strings;
    SendJson(res, parts_->views.Home(Language(req, &code, &strings)));
  });

  http_->Get("/api/v1/channels", [this](const Request&, Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : catalog_->Channels()) {
      out.push_back({{"id", c.id},
                     {"version", c.served_version},
                     {"title", c.meta.title},
                     {"language", c.meta.language},
                     {"files", c.files},
                     {"bytes", c.bytes},
                     {"url", TopicUrl(c.id, "")}});
    }
    SendJson(res, out);
  });

  http_->Get(R"(/lang/([a-zA-Z-]{2,16}))", [this](const Request& req, Response& res) {
    std::string code = req.matches[1];
    if (parts_->i18n.Known(code)) {
      res.set_header("Set-Cookie",
                     "lang=" + code + "; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    }
    res.set_redirect(LocalPath(req.get_param_value("back")), 303);
    res.set_header("Cache-Control", "no-store");
  });

  // ---- bytes ----
  // Web-ui assets are in memory: always answered on the event loop (a missing one gets the
  // 404 page from a worker).
  auto asset = [this](const Request& req, Response& res) {
    auto file = parts_->assets.ResolveStatic(req.path);
    if (!file) {
      res.status = 404;
      return;
    }
    std::shared_ptr<const CompressedVariants> variants;
    if (!parts_->assets.from_disk()) {
      std::lock_guard lock(parts_->variants_mu);
      auto& slot = parts_->variants[file->hash];
      if (!slot) {
        slot = std::make_shared<const CompressedVariants>(
            CompressedVariants::Make(file->bytes, file->mime));
      }
      variants = slot;
    }
    struct Held {
      AssetFile file;
      std::shared_ptr<const CompressedVariants> variants;
    };
    auto keep = std::make_shared<Held>(Held{*file, variants});
    MemoryReply reply;
    reply.data = keep->file.bytes;
    reply.tag = keep->file.hash;
    reply.mime = keep->file.mime;
    reply.immutable = true;
    reply.owner = keep;
    ServeMemory(req, res, reply, keep->variants.get());
  };
  http_->Get(
      R"(/static/(.+))",
      [asset](const Request& req, Response& res) {
        asset(req, res);
        return true;
      },
      asset);

  // Files: answered on the event loop when the path is in the path cache and no compressed
  // variant has to be made first; otherwise on a worker.
  auto file_by_path = [this](const Request& req, Response& res, bool may_wait) {
    std::string channel = req.matches[1], path = req.matches[2];
    std::optional<Parts::FileRef> file;
    if (CleanPath(path)) {
      auto found = parts_->FindFile(catalog_, channel, path, may_wait);
      if (!found) return false;
      file = std::move(*found);
    }
    if (!file) {
      res.status = 404;
      res.set_content("Not found", "text/plain; charset=utf-8");
      return true;
    }
    return ServeBlobFile(req, res, file->blob, file->mime, /*immutable=*/false,
                         req.has_param("download") ? file->name : "", may_wait);
  };
  http_->Get(
      R"(/c/([a-z0-9-]+)/(.+))",
      [file_by_path](const Request& req, Response& res) { return file_by_path(req, res, false); },
      [file_by_path](const Request& req, Response& res) { file_by_path(req, res, true); });

  auto blob = [this](const Request& req, Response& res, bool may_wait) {
    auto hash = Hash::FromHex(req.matches[1].str());
    if (!hash || !store_->Contains(*hash)) {
      res.status = 404;
      res.set_content("Not found", "text/plain; charset=utf-8");
      return true;
    }
    // A blob has no name; its type comes from its first bytes (thumbnails are images).
    uint8_t head[kSniffBytes];
    ssize_t n = 0;
    if (int fd = ::open(store_->PathOf(*hash).c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      n = ::pread(fd, head, sizeof head, 0);
      ::close(fd);
    }
    KindGuess guess = DetectKind("", {head, static_cast<size_t>(std::max<ssize_t>(n, 0))});
    return ServeBlobFile(req, res, *hash, guess.mime, /*immutable=*/true, "", may_wait);
  };
  http_->Get(
      R"(/blob/([0-9a-f]{64}))",
      [blob](const Request& req, Response& res) { return blob(req, res, false); },
      [blob](const Request& req, Response& res) { blob(req, res, true); });

  // /app/CHANNEL/PATH/TO/APP.zip/INNER/PATH: a file inside an HTML5 app's zip.
  http_->Get(R"(/app/([a-z0-9-]+)/(.+))", [this](const Request& req, Response& res) {
    std::string channel = req.matches[1], rest = req.matches[2];
    std::optional<Node> node;
    std::string inner;
    for (size_t pos = rest.find('/'); pos != std::string::npos; pos = rest.find('/', pos + 1)) {
      std::string zip_path = rest.substr(0, pos);
      if (!CleanPath(zip_path)) break;
      node = catalog_->NodeByPath(channel, zip_path);
      if (node && node->kind == NodeKind::kApp && node->blob) {
        inner = rest.substr(pos + 1);
        break;
      }
      node.reset();
    }
    if (!node || !IsSafeEntryPath(inner)) {
      res.status = 404;
      res.set_content("Not found", "text/plain; charset=utf-8");
      return;
    }
    auto zip = ZipArchive::Open(store_->PathOf(*node->blob));
    auto bytes = zip ? (*zip)->Read(inner) : Result<std::string>(zip.error());
    if (!bytes) {
      res.status = bytes.error().code() == StatusCode::kNotFound ? 404 : 500;
      res.set_content("Not found", "text/plain; charset=utf-8");
      return;
    }
    struct Entry {
      std::string data, tag, mime;
    };
    auto entry = std::make_shared<Entry>();
    entry->data = std::move(*bytes);
    entry->tag = Hash::Of(entry->data).Hex();
    entry->mime = AssetMimeType(inner);
    res.set_header("Content-Security-Policy", kContentPolicy);
    res.set_header("Access-Control-Allow-Origin", "*");
    MemoryReply reply;
    reply.data = entry->data;
    reply.tag = entry->tag;
    reply.mime = entry->mime;
    reply.owner = entry;
    ServeMemory(req, res, reply, nullptr);
  });
}

Status HttpServer::Bind() {
  OUTPOST_RETURN_IF_ERROR(http_->Bind(config_.host, config_.port));
  port_ = http_->port();
  return Status::Ok();
}

Status HttpServer::Serve() {
  return http_->Serve();
}

void HttpServer::Stop() { http_->Stop(); }

}  // namespace outpost
