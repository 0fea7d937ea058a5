// The learner app's routes (outpost/server/http_server.h lists the URLs): one table of small
// handlers, matched in order. A handler reads the request and fills the response through App
// (app.h); none touches the socket, so each can be called on its own in a test.
//
// A new page or API goes here: a handler of a few lines over a view-model (views.h), and a line
// in the table (routes.cc).
//
// Thread-safety: handlers run on the transport's event loops and workers at once; they share
// only the App.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "auth.h"

namespace outpost {

namespace http {
class BodySink;
class Transport;
struct Request;
struct Response;
}  // namespace http

class App;

// Fills `res` for `req`. With `on_loop` it runs on an event loop and must not wait: it answers
// (returns true) only from memory and caches, else returns false and is run again on a worker
// with a fresh response (on_loop false; there its answer is always taken).
using RouteHandler = bool (*)(App& app, const http::Request& req, http::Response& res,
                              bool on_loop);

// Opens a streamed body (http_transport.h, BodySink): the sink that takes it, or null with
// `res` filled.
using StreamHandler = std::unique_ptr<http::BodySink> (*)(App& app, const http::Request& req,
                                                          http::Response& res);

struct Route {
  const char* method;    // "GET" (HEAD is routed there too), "POST", "PATCH", "DELETE", "OPTIONS"
  const char* pattern;   // std::regex over the whole percent-decoded path; groups in req.matches
  bool loop_first;       // try the handler on the event loop first (GET only, kAnyone only)
  RouteHandler handler;  // null for a streamed route
  Access access;         // who may use it (auth.h); checked before the handler
  StreamHandler stream = nullptr;  // instead of `handler`: the body is streamed to it (uploads)
};

// Every route, in the order they are matched.
std::span<const Route> Routes();

// Whether `req` may reach `route`: true, or false with the answer filled in: 401 with no live
// session where one is needed, 403 for a role the route does not let through, and 403 for a
// change (any method but GET, HEAD and OPTIONS) that needs a session without that session's
// CSRF token (the X-CSRF-Token header, or a `csrf` form field). JSON under /api/, else the error page.
bool CheckAccess(App& app, const Route& route, const http::Request& req, http::Response& res);

// A `back=` target made safe: a path on this box ("/..." but not "//host" or "/\\host"), else "/".
std::string LocalPath(const std::string& back);

// Registers Routes() with `transport`, each handler bound to `app`, which must outlive it.
void AddRoutes(App* app, http::Transport* transport);

}  // namespace outpost
