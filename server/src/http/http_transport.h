// Transport: HTTP/1.1 on Boost.Asio, event-driven, for a classroom of phones on one small box.
//
// Why not a thread per connection (cpp-httplib's model, which Outpost used first): 200 phones
// holding keep-alive connections meant 200 threads, each request woke its own thread (a fifth
// of the CPU went to context switches, bench/README.md), and file bodies were copied through
// user space. Here a few event loops (one per core, `io_threads`) hold every connection; a
// request whose handler is cheap and never blocks (files by hash or path, web-ui assets) is
// answered on the event loop itself, and file bodies go out with sendfile(2); everything else
// (pages, search, exercises) runs on a pool of `threads` workers, so a slow search never holds
// up the connections around it. An idle connection costs a few kilobytes, not a thread.
//
// What the transport enforces, before any handler runs (all from TransportOptions):
//   requests are parsed by Boost.Beast's HTTP/1.1 parser (request_parser.h, decision 31), so
//   anything outside HTTP/1.1's grammar gets a 400; request line <= max_target_bytes (else 414),
//   header block <= max_header_bytes and at most max_headers lines, none longer than
//   max_target_bytes (else 431), no folded header lines (400), body <= max_request_body (else
//   413), Content-Length only (Transfer-Encoding: 501, lengths that disagree: 400), HTTP/1.0
//   and 1.1 only (else 505);
//   timeouts: a request, head and body, must arrive whole within read_timeout_seconds of its
//   first byte (slow headers and bodies trickled a byte at a time are dropped), idle keep-alive connections close after keep_alive_seconds, a client
//   that takes no bytes for write_timeout_seconds is dropped; a connection serves at most
//   keep_alive_max_requests requests; at most max_connections are open, and at most
//   max_connections_per_address from one client address (more get a 503), and the request
//   bodies being received or handled from one address add up to at most
//   max_body_bytes_per_address (a request past it gets a 503, before its body is read).
// A route registered with Stream() takes its body as it arrives instead (BodySink: uploads of
// any size in bounded memory). Pipelined requests are answered in order. HEAD is routed to GET
// handlers (unless a HEAD route matches first) and sent without the body. Routes match the percent-decoded path with std::regex patterns, in the order
// registered (route_pattern.h: the plain ones are matched without std::regex).
//
// Thread-safety: register routes and the error handler before Serve(); Serve() blocks until
// Stop(), which may be called from any thread (also a signal-handling one) and from handlers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "http_message.h"
#include "outpost/base/status.h"

namespace outpost::http {

// How the transport runs and what it allows. It knows nothing of Outpost: the server fills
// this from its own settings (ServerConfig).
struct TransportOptions {
  int io_threads = 0;             // event loops (0: one per core)
  int threads = 16;               // workers for the handlers that may block
  int max_connections = 2048;     // open at once; more are answered 503 and closed
  int max_connections_per_address = 64;  // open at once from one client address; more: 503
  int keep_alive_seconds = 5;
  int keep_alive_max_requests = 1000;  // nginx's keepalive_requests
  int read_timeout_seconds = 10;
  int write_timeout_seconds = 30;
  uint64_t max_request_body = 1 << 20;
  // Request bodies being received or handled at once from one client address (else 503).
  uint64_t max_body_bytes_per_address = 16 << 20;
  int max_target_bytes = 8192;
  int max_header_bytes = 32 * 1024;
  int max_headers = 100;
};

// A request body too large to hold in memory (an upload), taken as it arrives. The transport
// reads it in pieces of up to kStreamPiece bytes and hands each to Write on a worker, one at a
// time and in order; while a piece is being stored it reads the next, then waits (so a slow
// disk slows the client, and a stream holds at most two pieces of memory). Then Finish, once,
// on a worker.
class BodySink {
 public:
  static constexpr size_t kStreamPiece = 256 * 1024;
  enum class End {
    kComplete,  // every byte of Content-Length arrived and was written
    kStopped,   // Write returned false: the rest is not read, and the connection closes after
                // the answer Finish makes
    kCut,       // the client went away or sent nothing for read_timeout_seconds: nothing is
                // sent (`res` is thrown away)
  };
  virtual ~BodySink() = default;
  virtual bool Write(std::span<const uint8_t> data) = 0;
  virtual void Finish(End end, Response& res) = 0;
};

class Transport {
 public:
  using Handler = std::function<void(const Request&, Response&)>;
  // Runs on the event loop; returns false when it cannot answer without waiting (a catalog
  // lookup, compressing a file): the route's Handler then answers on a worker, with a fresh
  // response.
  using FastHandler = std::function<bool(const Request&, Response&)>;

  explicit Transport(const TransportOptions& options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // `handler` runs on a worker.
  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);
  // `fast` first, on the event loop; `handler` on a worker when it declines.
  void Get(const std::string& pattern, FastHandler fast, Handler handler);
  // Any other method ("PATCH", "DELETE", "OPTIONS"; "HEAD" for a HEAD that is not a GET's),
  // on a worker, its body (at most max_request_body) held in the request.
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  // Opens a streamed body: runs on a worker once the head has arrived (the request's body is
  // empty then) and returns the sink that takes the body, or null with `res` filled (a refusal:
  // the body is not read). Bodies of up to `max_body` bytes, whatever max_request_body says;
  // while the body arrives, read_timeout_seconds counts from the last piece received, not from
  // the request's first byte.
  using StreamOpen = std::function<std::unique_ptr<BodySink>(const Request&, Response&)>;
  void Stream(const std::string& method, const std::string& pattern, StreamOpen open,
              uint64_t max_body);
  // Runs (on a worker) for answers with status >= 400 and no body, the transport's own
  // included (404 for no route, 400, 413, ...): it may set headers and a body.
  void set_error_handler(Handler handler);
  // Runs on the event loop for every request, once its head is in and before any route is
  // looked for; when it answers true, `res` is the answer and no route runs (a streamed route's
  // body is then read as any other body, up to max_request_body). For answers that depend on
  // the request's head alone and take no time (the captive portal's redirect, portal.h).
  void set_before_routing(FastHandler handler);

  // Binds and listens (backlog SOMAXCONN); port 0 lets the system choose (see port()).
  Status Bind(const std::string& host, int port);
  // Or takes a socket that is already bound and listening (systemd's socket activation hands
  // one over: ListenFds()); InvalidArgument if `fd` is not a listening TCP socket. The
  // transport owns it from then on.
  Status Adopt(int fd);
  int port() const;
  Status Serve();
  void Stop();

  struct Impl;  // the event loops and the workers (http_transport.cc); public for its helpers

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- Pieces, public for tests.

// %XX decoding (invalid escapes stay as they are); with plus_as_space, '+' is a space (query
// strings and form bodies).
std::string PercentDecode(std::string_view s, bool plus_as_space);
// "a=1&b=x+y" into params (decoded).
void ParseQuery(std::string_view query, Params* params);

// The listening sockets systemd passed to this process (socket activation, sd_listen_fds(3):
// LISTEN_PID is this process and LISTEN_FDS counts the descriptors from 3), or none; `pid` and
// the two values are given so that a test can call it. Never more than `max` descriptors.
std::vector<int> ListenFds(const char* listen_pid, const char* listen_fds, long pid, int max = 8);

struct HeadLimits {
  size_t max_target_bytes = 8192;
  size_t max_header_bytes = 32 * 1024;
  size_t max_headers = 100;
};
// Parses a request head (request line and header lines, each ending in CRLF, with or without
// the final empty line) into `req`: method, target, path, version, headers, params, with the
// parser and the checks the transport uses (request_parser.h). Returns 0, or the HTTP status
// to answer with (400, 414, 431, 501, 505).
int ParseRequestHead(std::string_view head, const HeadLimits& limits, Request* req);

}  // namespace outpost::http
