#include "outpost/server/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>

#include <nlohmann/json.hpp>

namespace outpost {

namespace {

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Percent-encodes a catalog path for a URL, keeping '/'.
std::string UrlPath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const char* kStyle =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:48rem;padding:0 1rem}"
    "li{margin:.3rem 0}a{color:#0645ad}.kind{color:#555;font-size:.85em}"
    "mark{background:#fe6}input{font:inherit;padding:.3rem}";

std::string Page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>" +
         Escape(title) + " · Outpost</title><style>" + kStyle +
         "</style></head><body><header><p><a href=\"/\">Outpost</a></p>"
         "<form action=\"/search\" role=\"search\"><label>Search <input name=\"q\" type=\"search\">"
         "</label> <button>Go</button></form></header><main><h1 dir=\"auto\">" +
         Escape(title) + "</h1>" + body + "</main></body></html>";
}

std::string ResourceLink(const Node& n) {
  return "<a dir=\"auto\" href=\"/c/" + n.channel_id + "/" + UrlPath(n.path) + "\">" +
         Escape(n.meta.title) + "</a> <span class=\"kind\">" + KindName(n.kind) + "</span>";
}

std::string NodeItem(const Node& n) {
  if (n.kind == NodeKind::kTopic) {
    return "<li><a dir=\"auto\" href=\"/topic/" + std::to_string(n.id) + "\">" +
           Escape(n.meta.title) + "</a></li>";
  }
  return "<li>" + ResourceLink(n) + "</li>";
}

void SetHtml(httplib::Response& res, const std::string& html) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(html, "text/html; charset=utf-8");
}

// Streams a blob from disk in bounded memory; cpp-httplib answers Range requests from the
// provider.
void ServeBlob(const httplib::Request& req, httplib::Response& res, BlobStore* store,
               const Hash& hash, const std::string& mime, bool immutable) {
  std::string etag = "\"" + hash.Hex() + "\"";
  res.set_header("ETag", etag);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  auto path = store->PathOf(hash);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    spdlog::error("blob {} is missing from the store", hash.Hex());
    res.status = 500;
    return;
  }
  off_t size = ::lseek(fd, 0, SEEK_END);
  auto file = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  res.set_content_provider(
      static_cast<size_t>(size), mime.empty() ? "application/octet-stream" : mime,
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[64 * 1024];
        size_t n = std::min(length, sizeof buf);
        ssize_t got = ::pread(*file, buf, n, static_cast<off_t>(offset));
        if (got <= 0) return false;
        return sink.write(buf, static_cast<size_t>(got));
      });
}

}  // namespace

HttpServer::HttpServer(const ServerConfig& config, BlobStore* store, Catalog* catalog)
    : config_(config), store_(store), catalog_(catalog), http_(new httplib::Server) {
  http_->new_task_queue = [threads = config_.threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  http_->set_keep_alive_timeout(config_.keep_alive_seconds);
  http_->set_keep_alive_max_count(static_cast<size_t>(config_.keep_alive_max_requests));
  http_->set_read_timeout(config_.read_timeout_seconds, 0);
  http_->set_write_timeout(config_.write_timeout_seconds, 0);
  http_->set_payload_max_length(config_.max_request_body);
  http_->set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                  std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
    } catch (...) {
      spdlog::error("{} {}: unknown exception", req.method, req.path);
    }
    res.status = 500;
    res.set_content("Internal error", "text/plain");
  });
  http_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("{} {} {}", req.method, req.path, res.status);
  });
  Routes();
}

HttpServer::~HttpServer() = default;

void HttpServer::Routes() {
  http_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    std::string body;
    auto channels = catalog_->Channels();
    if (channels.empty()) {
      body = "<p>No channels yet. Import one with <code>outpost import FOLDER</code>.</p>";
    }
    body += "<ul>";
    for (const auto& c : channels) {
      if (!c.served_version) continue;
      body += "<li><a dir=\"auto\" href=\"/topic/" + std::to_string(c.root_node) + "\">" +
              Escape(c.meta.title) + "</a> <span class=\"kind\">" + Escape(c.meta.language) +
              " · " + std::to_string(c.files) + " files · version " +
              std::to_string(c.served_version) + "</span><ul>";
      for (const auto& child : catalog_->Children(c.root_node)) body += NodeItem(child);
      body += "</ul></li>";
    }
    body += "</ul>";
    SetHtml(res, Page("Library", body));
  });

  http_->Get(R"(/topic/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = 0;
    std::string digits = req.matches[1];
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    auto node = ec == std::errc() ? catalog_->GetNode(id) : std::nullopt;
    auto channel = node ? catalog_->Channel(node->channel_id) : std::nullopt;
    if (!node || node->kind != NodeKind::kTopic || !channel ||
        channel->served_version != node->version) {
      res.status = 404;
      SetHtml(res, Page("Not found", "<p>This topic is not in the library (any more).</p>"));
      return;
    }
    std::string body;
    if (!node->meta.description.empty()) {
      body += "<p dir=\"auto\">" + Escape(node->meta.description) + "</p>";
    }
    body += "<ul>";
    for (const auto& child : catalog_->Children(node->id)) body += NodeItem(child);
    body += "</ul>";
    SetHtml(res, Page(node->meta.title, body));
  });

  http_->Get("/search", [this](const httplib::Request& req, httplib::Response& res) {
    std::string q = req.get_param_value("q");
    auto hits = catalog_->Search(q, 50);
    std::string body = "<ol>";
    if (hits) {
      for (const auto& h : *hits) {
        std::string snippet = Escape(h.snippet);
        for (auto [from, to] : {std::pair{"\x02", "<mark>"}, std::pair{"\x03", "</mark>"}}) {
          for (size_t p; (p = snippet.find(from)) != std::string::npos;) {
            snippet.replace(p, 1, to);
          }
        }
        body += "<li><a dir=\"auto\" href=\"/c/" + h.channel_id + "/" + UrlPath(h.path) + "\">" +
                Escape(h.title) + "</a><br><span dir=\"auto\">" + snippet + "</span></li>";
      }
    }
    body += "</ol>";
    if (hits && hits->empty()) body = "<p>Nothing found.</p>";
    SetHtml(res, Page("Search: " + q, body));
  });

  http_->Get(R"(/c/([a-z0-9-]+)/(.*))", [this](const httplib::Request& req,
                                               httplib::Response& res) {
    auto node = catalog_->NodeByPath(req.matches[1], req.matches[2]);
    if (!node || !node->blob) {
      res.status = 404;
      res.set_content("Not found", "text/plain");
      return;
    }
    ServeBlob(req, res, store_, *node->blob, node->mime, /*immutable=*/false);
  });

  http_->Get(R"(/blob/([0-9a-f]{64}))", [this](const httplib::Request& req,
                                               httplib::Response& res) {
    auto hash = Hash::FromHex(req.matches[1].str());
    if (!hash || !store_->Contains(*hash)) {
      res.status = 404;
      res.set_content("Not found", "text/plain");
      return;
    }
    ServeBlob(req, res, store_, *hash, "application/octet-stream", /*immutable=*/true);
  });

  http_->Get("/api/v1/channels", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : catalog_->Channels()) {
      out.push_back({{"id", c.id},
                     {"version", c.served_version},
                     {"title", c.meta.title},
                     {"language", c.meta.language},
                     {"files", c.files},
                     {"bytes", c.bytes},
                     {"root_topic", c.root_node}});
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(out.dump(), "application/json");
  });
}

Status HttpServer::Bind() {
  if (config_.port == 0) {
    port_ = http_->bind_to_any_port(config_.host);
    if (port_ <= 0) return IoError("cannot listen on " + config_.host);
  } else {
    if (!http_->bind_to_port(config_.host, config_.port)) {
      return IoError("cannot listen on " + config_.Listen() +
                     " (in use, or not allowed; try another --listen)");
    }
    port_ = config_.port;
  }
  return Status::Ok();
}

Status HttpServer::Serve() {
  if (!http_->listen_after_bind()) return IoError("the server stopped unexpectedly");
  return Status::Ok();
}

void HttpServer::Stop() { http_->stop(); }

}  // namespace outpost
