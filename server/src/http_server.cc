// The learner-facing HTTP server: the transport (http/http_transport.h) with the app's route
// table (routes.h) over what the handlers share (app.h): views (view-models), the renderer
// (templates) and delivery (bytes with ranges, ETags and compression). Handlers take a request
// and fill a response; none touches a socket. See http_server.h for the routes and
// docs/web-api.md for the view-models.
#include "outpost/server/http_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "app.h"
#include "http/http_transport.h"
#include "routes.h"

namespace outpost {

namespace {

http::TransportOptions TransportOptionsOf(const ServerConfig& c) {
  http::TransportOptions o;
  o.io_threads = c.io_threads;
  o.threads = c.threads;
  o.max_connections = c.max_connections;
  o.max_connections_per_address = c.max_connections_per_address;
  o.keep_alive_seconds = c.keep_alive_seconds;
  o.keep_alive_max_requests = c.keep_alive_max_requests;
  o.read_timeout_seconds = c.read_timeout_seconds;
  o.write_timeout_seconds = c.write_timeout_seconds;
  o.max_request_body = c.max_request_body;
  o.max_body_bytes_per_address = c.max_body_bytes_per_address;
  o.max_target_bytes = c.max_target_bytes;
  o.max_header_bytes = c.max_header_bytes;
  o.max_headers = c.max_headers;
  return o;
}

}  // namespace

HttpServer::HttpServer(const ServerConfig& config, BlobStore* store, Catalog* catalog,
                       SyncDb* sync_db)
    : config_(config),
      app_(new App(config, store, catalog, sync_db)),
      http_(new http::Transport(TransportOptionsOf(config))) {
  // Answers the transport makes itself (no route, 400, 414, 431, ...) and 404s without a page
  // get the same headers as ours, and a page for people.
  http_->set_error_handler([app = app_.get()](const http::Request& req, http::Response& res) {
    if (!res.has_header("X-Content-Type-Options")) {
      res.set_header("X-Content-Type-Options", "nosniff");
    }
    if (res.status == 404 && !res.has_body() && !req.path.starts_with("/api/")) {
      app->NotFound(req, res, false);
    }
  });
  AddRoutes(app_.get(), http_.get());
}

HttpServer::~HttpServer() = default;

Status HttpServer::Bind() {
  // Started by systemd's outpost.socket (the package's port 80): the socket is already bound.
  std::vector<int> passed = http::ListenFds(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                            static_cast<long>(::getpid()));
  if (!passed.empty()) {
    ::unsetenv("LISTEN_PID"), ::unsetenv("LISTEN_FDS"), ::unsetenv("LISTEN_FDNAMES");
    OUTPOST_RETURN_IF_ERROR(http_->Adopt(passed.front()));
    port_ = http_->port();
    spdlog::info("listening on the socket systemd passed (port {})", port_);
    return Status::Ok();
  }
  OUTPOST_RETURN_IF_ERROR(http_->Bind(config_.host, config_.port));
  port_ = http_->port();
  return Status::Ok();
}

Status HttpServer::Serve() {
  return http_->Serve();
}

void HttpServer::Stop() { http_->Stop(); }

Status HttpServer::RunScheduledSync() { return app_->jobs().RunScheduledSync(); }

void HttpServer::StopJobs() { app_->jobs().Stop(); }

}  // namespace outpost
