// The event loops and the response writer of http_transport.h. Requests are parsed from each
// connection's read buffer by RequestParser (request_parser.h: Boost.Beast's parser).
//
// One Connection lives on one io_context (one thread), so its state needs no locks: a handler
// that runs on the worker pool gets the request moved to it and posts the response back to the
// connection's io_context. Writes go straight to the non-blocking socket (sendmsg for the
// head and in-memory bodies, sendfile for files, the head held back with MSG_MORE so that it
// leaves in one segment with the file's first bytes) and wait for writability only when the
// socket buffer is full: a small response leaves in the same turn of the loop that parsed it.
#include "http_transport.h"

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <ctime>
#include <limits>
#include <optional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "request_parser.h"
#include "route_pattern.h"

namespace outpost::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadPiece = 16 * 1024;
// How long the acceptor rests after a failed accept (no descriptor left, most often).
constexpr std::chrono::milliseconds kAcceptBackoff{10};

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 460: return "Checksum Mismatch";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Status";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", made once a second per thread.
const std::string& DateLine() {
  thread_local time_t last = 0;
  thread_local std::string line;
  time_t now = ::time(nullptr);
  if (now != last) {
    last = now;
    struct tm tm;
    ::gmtime_r(&now, &tm);
    char buf[64];
    size_t n = ::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    line.assign(buf, n);
  }
  return line;
}

void AppendHeaderValue(std::string* out, std::string_view value) {
  // A value never ends the header: CR and LF become spaces (no response splitting, whatever a
  // handler put in).
  for (char c : value) *out += (c == '\r' || c == '\n') ? ' ' : c;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = Trim(list.substr(pos, end - pos));
    if (item.size() == token.size() && ::strncasecmp(item.data(), token.data(), item.size()) == 0) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

// The literal start of a route pattern (up to its first regex metacharacter): a cheap test
// before the pattern is matched.
std::string LiteralPrefix(const std::string& pattern) {
  std::string prefix;
  for (char c : pattern) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) break;
    prefix += c;
  }
  // A quantifier applies to the character before it: "/t/?" does not require the slash.
  if (prefix.size() < pattern.size() && !prefix.empty() &&
      std::string_view("?*{").find(pattern[prefix.size()]) != std::string_view::npos) {
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

void ParseQuery(std::string_view query, Params* params) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view item = query.substr(pos, end - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view key = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
      params->emplace(PercentDecode(key, true), PercentDecode(value, true));
    }
    pos = end + 1;
  }
}

int ParseRequestHead(std::string_view head, const HeadLimits& limits, Request* req) {
  std::string whole;  // the parser needs the empty line that ends a head
  if (!head.ends_with("\r\n\r\n")) {
    whole.reserve(head.size() + 2);
    whole.append(head).append("\r\n");
    head = whole;
  }
  RequestParser parser(limits, std::numeric_limits<uint64_t>::max(), req);
  parser.Feed(head);
  if (parser.status() != 0) return parser.status();
  return parser.is_header_done() ? 0 : 400;
}

// ---------------------------------------------------------------------------------------------

struct Route {
  std::string method;
  std::string prefix;
  RoutePattern pattern;
  Transport::Handler handler;
  Transport::FastHandler fast;
  Transport::StreamOpen open;  // a streamed body (BodySink) instead of `handler`
  uint64_t max_body = 0;       // with `open`
};

// The connections open and the request body bytes held from each client address, so that one
// phone cannot take the whole max_connections, nor fill the memory, from the others. Locked:
// connections end on any thread.
class AddressCounts {
 public:
  // Counts one more from `address`; false (and counts nothing) when `max` are already open.
  bool TryAdd(const std::string& address, int max) {
    std::lock_guard lock(mu_);
    Held& held = held_[address];
    if (held.connections >= max) return false;
    ++held.connections;
    return true;
  }
  void Remove(const std::string& address) {
    std::lock_guard lock(mu_);
    auto it = held_.find(address);
    if (it != held_.end() && --it->second.connections <= 0) held_.erase(it);
  }
  // Books `bytes` of body for a connection open from `address` (so counted by TryAdd); false
  // (and books nothing) when that would take the address past `max`.
  bool TryReserve(const std::string& address, uint64_t bytes, uint64_t max) {
    std::lock_guard lock(mu_);
    Held& held = held_[address];
    if (bytes > max || held.body_bytes > max - bytes) return false;
    held.body_bytes += bytes;
    return true;
  }
  void Release(const std::string& address, uint64_t bytes) {
    std::lock_guard lock(mu_);
    held_[address].body_bytes -= bytes;
  }

 private:
  struct Held {
    int connections = 0;
    uint64_t body_bytes = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Held> held_;
};

struct Transport::Impl {
  explicit Impl(const TransportOptions& c)
      : config(c),
        limits{static_cast<size_t>(c.max_target_bytes), static_cast<size_t>(c.max_header_bytes),
               static_cast<size_t>(c.max_headers)},
        pool(static_cast<size_t>(c.threads)) {
    int loops = c.io_threads > 0 ? c.io_threads
                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < loops; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(asio::make_work_guard(*contexts.back()));
    }
    acceptor = std::make_unique<tcp::acceptor>(*contexts[0]);
    accept_retry = std::make_unique<asio::steady_timer>(*contexts[0]);
  }

  const Route* Find(Request* req) const {
    if (req->method == "HEAD") {
      if (const Route* head = FindFor(req, "HEAD")) return head;
      return FindFor(req, "GET");
    }
    return FindFor(req, req->method);
  }
  const Route* FindFor(Request* req, std::string_view method) const {
    for (const auto& route : routes) {
      if (route.method != method || !req->path.starts_with(route.prefix)) continue;
      if (route.pattern.Match(req->path, &req->matches)) return &route;
    }
    return nullptr;
  }

  bool KnownMethod(std::string_view method) const {
    if (method == "GET" || method == "HEAD" || method == "POST") return true;
    for (const auto& route : routes) {
      if (route.method == method) return true;
    }
    return false;
  }
  // The Allow header of a 405: every method a route answers.
  std::string Allowed() const {
    std::string allow = "GET, HEAD, POST";
    for (const auto& route : routes) {
      if (allow.find(route.method) == std::string::npos) allow += ", " + route.method;
    }
    return allow;
  }
  void Add(Route route) {
    if (route.open) max_stream_body = std::max(max_stream_body, route.max_body);
    routes.push_back(std::move(route));
  }

  // Accepts the next connection, for the event loops in turn.
  void Accept();
  // After a failed accept: Accept() again after kAcceptBackoff, without blocking the loop.
  void AcceptLater();
  // A new connection: served on `target`, or answered 503 when there are too many, in all or
  // from its address.
  void Admit(tcp::socket socket, asio::io_context& target);

  // Declared in destruction order: the pool (whose queued work holds connections) goes
  // first, then the acceptor and the event loops (whose handlers hold connections, which
  // count themselves out of open_connections), then the plain members.
  TransportOptions config;
  HeadLimits limits;
  std::vector<Route> routes;
  uint64_t max_stream_body = 0;  // the largest body a Stream() route takes
  Handler error_handler;
  Transport::FastHandler before_routing;
  std::atomic<int> open_connections{0};
  AddressCounts per_address;
  std::atomic<bool> stopping{false};
  size_t next_context = 0;
  int port = 0;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;  // on contexts[0], with the acceptor
  asio::thread_pool pool;
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `remote` is already counted in server->per_address; the connection counts it out.
  Connection(Transport::Impl* server, tcp::socket socket, std::string remote)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        remote_(std::move(remote)) {
    ++server_->open_connections;
  }
  ~Connection() {
    --server_->open_connections;
    ReleaseBody();
    server_->per_address.Remove(remote_);
  }

  void Start() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    Arm(server_->config.keep_alive_seconds);
    Read();
  }

 private:
  enum class State { kHead, kBody, kBusy };

  // Closes the connection if nothing re-arms or disarms the timer within `seconds`. Lazy: most
  // calls only move `deadline_` later, and the one pending wait, when it fires early, waits
  // again for the rest; so a request costs no timer system call, only a deadline moved earlier
  // does.
  void Arm(int seconds) {
    armed_ = true;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    if (timer_pending_ && timer_.expiry() <= deadline_) return;
    Wait();
  }
  void Disarm() { armed_ = false; }

  void Wait() {
    timer_.expires_at(deadline_);  // cancels a pending wait, whose handler then does nothing
    uint64_t generation = ++timer_generation_;
    timer_pending_ = true;
    timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code&) {
      if (generation != self->timer_generation_) return;
      self->timer_pending_ = false;
      if (self->closed_ || !self->armed_) return;
      if (std::chrono::steady_clock::now() >= self->deadline_) return self->Close();
      self->Wait();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    armed_ = false;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.close(ec);
    // A streamed body cut short: its sink ends now, or when the piece it is writing is done.
    if (sink_ && !stream_writing_) EndSink(std::move(sink_));
  }

  void Read() {
    socket_.async_read_some(asio::buffer(piece_, sizeof piece_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (ec || closed_) return Close();
    if (state_ == State::kHead && !parser_) {
      // The first bytes of a request: the whole request must follow within the read timeout.
      Arm(server_->config.read_timeout_seconds);
    }
    in_.append(piece_, n);
    Process();
  }

  // Works through what has arrived: parses a head, waits for the body, dispatches.
  void Process() {
    if (closed_ || state_ == State::kBusy) return;
    if (state_ == State::kHead) {
      if (in_.empty() && !parser_) {  // between requests: idle, not reading one
        Arm(server_->config.keep_alive_seconds);
        return Read();
      }
      if (!parser_) {
        req_ = std::make_unique<Request>();
        // Content-Length is checked against the route's own limit once the head is in.
        parser_.emplace(server_->limits,
                        std::max(server_->config.max_request_body, server_->max_stream_body),
                        req_.get());
      }
      if (!Parse()) return;
      if (!parser_->is_header_done()) return Read();
      req_->remote_addr = remote_;
      body_bytes_ = parser_->content_length().value_or(0);
      if (const Route* route = StreamRoute()) {
        if (body_bytes_ > route->max_body) return Fail(413);
        return StartStream(*route);
      }
      if (body_bytes_ > server_->config.max_request_body) return Fail(413);
      if (!ReserveBody()) return Fail(503);
      state_ = State::kBody;
      if (body_bytes_ > 0 && in_.size() < body_bytes_) AnswerExpectContinue();
    }
    // kBody. The timer armed at the request's first byte keeps running: re-arming it here, on
    // every piece, would let a body trickled a byte a second hold the connection for ever.
    if (!parser_->is_done() && !Parse()) return;
    if (!parser_->is_done()) return Read();
    parser_.reset();
    if (req_->get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
      ParseQuery(req_->body, &req_->params);
    }
    state_ = State::kBusy;
    Disarm();
    Dispatch();
  }

  // ---- Streamed bodies (BodySink): the head is parsed, the body bytes are read raw.

  const Route* StreamRoute() {
    if (server_->max_stream_body == 0) return nullptr;
    Response scratch;
    if (server_->before_routing && RunFast(server_->before_routing, *req_, scratch)) {
      return nullptr;
    }
    const Route* route = server_->Find(req_.get());
    return route && route->open ? route : nullptr;
  }

  // Runs the route's open on a worker; the body is read only once it has a sink.
  void StartStream(const Route& route) {
    parser_.reset();
    state_ = State::kBusy;
    Disarm();
    stream_left_ = body_bytes_;
    // Two pieces at most are held for a stream, whatever its length.
    uint64_t held = std::min<uint64_t>(body_bytes_, 2 * BodySink::kStreamPiece);
    if (held > 0 && !server_->per_address.TryReserve(remote_, held,
                                                     server_->config.max_body_bytes_per_address)) {
      return Fail(503);
    }
    reserved_ = held;
    auto executor = socket_.get_executor();
    asio::post(server_->pool, [self = shared_from_this(), &route, executor,
                               req = std::move(req_)]() mutable {
      auto res = std::make_unique<Response>();
      std::shared_ptr<BodySink> sink;
      try {
        sink = route.open(*req, *res);
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", req->method, req->path, e.what());
        *res = Response();
        res->status = 500;
      }
      if (!sink && res->status >= 400 && !res->has_body() && self->server_->error_handler) {
        RunHandler(self->server_->error_handler, *req, *res);
      }
      asio::post(executor, [self, req = std::move(req), res = std::move(res), sink]() mutable {
        self->req_ = std::move(req);
        self->OnStreamOpened(std::move(sink), std::move(res));
      });
    });
  }

  void OnStreamOpened(std::shared_ptr<BodySink> sink, std::unique_ptr<Response> res) {
    if (closed_) {
      if (sink) EndSink(std::move(sink));
      return;
    }
    if (!sink) {
      if (stream_left_ > 0) close_after_ = true;  // the unread body cannot be skipped safely
      return Respond(std::move(res));
    }
    sink_ = std::move(sink);
    fill_.resize(BodySink::kStreamPiece);
    fill_len_ = 0;
    if (stream_left_ > 0 && in_.size() < stream_left_) AnswerExpectContinue();
    Arm(server_->config.read_timeout_seconds);
    PumpStream();
  }

  // Moves what has arrived into the piece being filled; hands a full piece (or the last) to
  // the sink when it is free; reads more while there is room.
  void PumpStream() {
    if (closed_ || !sink_) return;
    if (!in_.empty() && stream_left_ > 0 && fill_len_ < fill_.size()) {
      size_t take = std::min({in_.size(), static_cast<size_t>(std::min<uint64_t>(
                                              stream_left_, SIZE_MAX)),
                              fill_.size() - fill_len_});
      std::memcpy(fill_.data() + fill_len_, in_.data(), take);
      in_.erase(0, take);
      fill_len_ += take;
      stream_left_ -= take;
    }
    bool piece_ready = fill_len_ == fill_.size() || (stream_left_ == 0 && fill_len_ > 0);
    if (piece_ready && !stream_writing_) StartSinkWrite();
    if (stream_left_ == 0 && fill_len_ == 0 && !stream_writing_) {
      return EndStream(BodySink::End::kComplete);
    }
    if (stream_left_ > 0 && fill_len_ < fill_.size() && !stream_reading_ && in_.empty()) {
      ReadStream();
    } else if (fill_len_ == fill_.size() && stream_writing_) {
      Disarm();  // waiting for the disk, not the client
    }
  }

  void ReadStream() {
    stream_reading_ = true;
    size_t room = std::min<uint64_t>(fill_.size() - fill_len_, stream_left_);
    socket_.async_read_some(asio::buffer(fill_.data() + fill_len_, room),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t n) {
                              self->stream_reading_ = false;
                              if (ec || self->closed_) return self->Close();
                              self->fill_len_ += n;
                              self->stream_left_ -= n;
                              self->Arm(self->server_->config.read_timeout_seconds);
                              self->PumpStream();
                            });
  }

  void StartSinkWrite() {
    stream_writing_ = true;
    spare_.resize(BodySink::kStreamPiece);
    std::swap(fill_, spare_);
    size_t length = fill_len_;
    fill_len_ = 0;
    auto executor = socket_.get_executor();
    asio::post(server_->pool, [self = shared_from_this(), executor, length] {
      bool ok = false;
      try {
        ok = self->sink_->Write(std::span<const uint8_t>(self->spare_.data(), length));
      } catch (const std::exception& e) {
        spdlog::error("writing a request body: {}", e.what());
      }
      asio::post(executor, [self, ok] {
        self->stream_writing_ = false;
        if (self->closed_) return self->EndSink(std::move(self->sink_));
        if (!ok) return self->EndStream(BodySink::End::kStopped);
        self->Arm(self->server_->config.read_timeout_seconds);
        self->PumpStream();
      });
    });
  }

  // The body is done with (complete, or refused by the sink): the sink's answer is sent.
  void EndStream(BodySink::End end) {
    Disarm();
    if (end == BodySink::End::kStopped && (stream_left_ > 0 || stream_reading_)) {
      close_after_ = true;
    }
    fill_ = {};
    spare_ = {};
    auto executor = socket_.get_executor();
    asio::post(server_->pool, [self = shared_from_this(), executor, end,
                               sink = std::move(sink_), req = std::move(req_)]() mutable {
      auto res = std::make_unique<Response>();
      try {
        sink->Finish(end, *res);
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", req->method, req->path, e.what());
        *res = Response();
        res->status = 500;
      }
      sink.reset();
      if (res->status >= 400 && !res->has_body() && self->server_->error_handler) {
        RunHandler(self->server_->error_handler, *req, *res);
      }
      asio::post(executor, [self, req = std::move(req), res = std::move(res)]() mutable {
        self->req_ = std::move(req);
        self->Respond(std::move(res));
      });
    });
  }

  // The client is gone: the sink learns it on a worker (it may sync a file), and nothing is
  // answered.
  void EndSink(std::shared_ptr<BodySink> sink) {
    if (!sink) return;
    asio::post(server_->pool, [sink = std::move(sink)] {
      Response ignored;
      try {
        sink->Finish(BodySink::End::kCut, ignored);
      } catch (const std::exception& e) {
        spdlog::error("ending a cut request body: {}", e.what());
      }
    });
  }

  // Feeds the buffered bytes to the parser and drops what it consumed; false (and the request
  // is refused) when the parser refuses it.
  bool Parse() {
    size_t used = parser_->Feed(in_);
    in_.erase(0, used);
    if (int status = parser_->status()) {
      Fail(status);
      return false;
    }
    return true;
  }

  // Books the body about to be read against the client's address (max_body_bytes_per_address),
  // before it is buffered; false when the address holds too much already.
  bool ReserveBody() {
    if (body_bytes_ == 0) return true;
    if (!server_->per_address.TryReserve(remote_, body_bytes_,
                                         server_->config.max_body_bytes_per_address)) {
      return false;
    }
    reserved_ = body_bytes_;
    return true;
  }
  void ReleaseBody() {
    if (reserved_ > 0) server_->per_address.Release(remote_, reserved_);
    reserved_ = 0;
  }

  // "Expect: 100-continue": the client waits for this before it sends the body.
  void AnswerExpectContinue() {
    if (!ContainsToken(req_->get_header_value("Expect"), "100-continue")) return;
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t sent = ::send(socket_.native_handle(), kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
    (void)sent;  // a full socket buffer here only means the client sends the body anyway
  }

  // A request the transport refuses: answered, then the connection is closed (what follows
  // on it cannot be trusted to start at a request boundary).
  void Fail(int status) {
    close_after_ = true;
    parser_.reset();
    if (!req_) req_ = std::make_unique<Request>();
    state_ = State::kBusy;
    Disarm();
    auto res = std::make_unique<Response>();
    res->status = status;
    if (status == 503) res->set_header("Retry-After", "1");
    res->set_header("Connection", "close");
    RunErrorHandlerThenRespond(std::move(res), false);
  }

  void Dispatch() {
    const std::string& connection = req_->get_header_value("Connection");
    if (req_->version == "HTTP/1.0") {
      close_after_ = !ContainsToken(connection, "keep-alive");
      keep_alive_10_ = !close_after_;
    } else {
      close_after_ = ContainsToken(connection, "close");
    }
    if (++requests_ >= server_->config.keep_alive_max_requests || server_->stopping) {
      close_after_ = true;
    }
    if (server_->before_routing) {
      auto res = std::make_unique<Response>();
      if (RunFast(server_->before_routing, *req_, *res)) return Respond(std::move(res));
    }
    const Route* route = nullptr;
    bool known_method = server_->KnownMethod(req_->method);
    if (known_method) route = server_->Find(req_.get());
    if (route && route->fast) {
      auto res = std::make_unique<Response>();
      if (RunFast(*route, *req_, *res)) {
        if (res->status >= 400 && !res->has_body() && server_->error_handler) {
          return RunErrorHandlerThenRespond(std::move(res), true);
        }
        return Respond(std::move(res));
      }
    }
    // On a worker: the request goes along, the response comes back to this io_context.
    auto executor = socket_.get_executor();
    asio::post(server_->pool, [self = shared_from_this(), route, known_method, executor,
                               req = std::move(req_)]() mutable {
      auto res = std::make_unique<Response>();
      if (!known_method) {
        res->status = 405;
        res->set_header("Allow", self->server_->Allowed());
      } else if (route) {
        Run(*route, *req, *res);
      } else {
        res->status = 404;
      }
      if (res->status >= 400 && !res->has_body() && self->server_->error_handler) {
        RunHandler(self->server_->error_handler, *req, *res);
      }
      asio::post(executor, [self, req = std::move(req), res = std::move(res)]() mutable {
        self->req_ = std::move(req);
        self->Respond(std::move(res));
      });
    });
  }

  void RunErrorHandlerThenRespond(std::unique_ptr<Response> res, bool have_request) {
    if (!server_->error_handler) return Respond(std::move(res));
    (void)have_request;
    auto executor = socket_.get_executor();
    asio::post(server_->pool, [self = shared_from_this(), executor, req = std::move(req_),
                               res = std::move(res)]() mutable {
      RunHandler(self->server_->error_handler, *req, *res);
      asio::post(executor, [self, req = std::move(req), res = std::move(res)]() mutable {
        self->req_ = std::move(req);
        self->Respond(std::move(res));
      });
    });
  }

  static void Run(const Route& route, const Request& req, Response& res) {
    RunHandler(route.handler, req, res);
  }
  static bool RunFast(const Route& route, const Request& req, Response& res) {
    return RunFast(route.fast, req, res);
  }
  static bool RunFast(const Transport::FastHandler& fast, const Request& req, Response& res) {
    try {
      return fast(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
    } catch (...) {
      spdlog::error("{} {}: unknown exception", req.method, req.path);
    }
    res = Response();
    return false;  // the worker's handler gets its chance
  }
  static void RunHandler(const Transport::Handler& handler, const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      res = Response();
      res.status = 500;
      res.set_content("Internal error", "text/plain; charset=utf-8");
    } catch (...) {
      spdlog::error("{} {}: unknown exception", req.method, req.path);
      res = Response();
      res.status = 500;
      res.set_content("Internal error", "text/plain; charset=utf-8");
    }
  }

  void Respond(std::unique_ptr<Response> res) {
    ReleaseBody();  // handled: the request goes with the response, before its bytes are sent
    if (closed_) return;
    res_ = std::move(res);
    if (res_->get_header_value("Connection") == "close") close_after_ = true;
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("{} {} {}", req_->method, req_->path, res_->status);
    }
    bool head_only = req_->method == "HEAD";
    bool no_body = res_->status == 304 || res_->status == 204 || res_->status < 200;
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(res_->status);
    head_ += ' ';
    head_ += Reason(res_->status);
    head_ += "\r\n";
    head_ += DateLine();
    bool has_length = false;
    for (const auto& [key, value] : res_->headers) {
      if (::strcasecmp(key.c_str(), "Connection") == 0) continue;
      if (::strcasecmp(key.c_str(), "Content-Length") == 0) has_length = true;
      head_ += key;
      head_ += ": ";
      AppendHeaderValue(&head_, value);
      head_ += "\r\n";
    }
    if (!has_length && !no_body) {
      head_ += "Content-Length: ";
      head_ += std::to_string(res_->body_size());
      head_ += "\r\n";
    }
    if (close_after_) {
      head_ += "Connection: close\r\n";
    } else if (keep_alive_10_) {
      head_ += "Connection: keep-alive\r\n";
    }
    head_ += "\r\n";
    head_sent_ = 0;
    body_ = {};
    file_.reset();
    if (!head_only && !no_body) {
      if (res_->file) {
        file_ = res_->file;
      } else if (res_->body_view) {
        body_ = *res_->body_view;
      } else {
        body_ = res_->body;
      }
    }
    body_sent_ = 0;
    Write();
  }

  // Sends what is left of the head, the memory body and the file; waits for writability when
  // the socket buffer is full.
  void Write() {
    if (closed_) return;
    int fd = socket_.native_handle();
    while (head_sent_ < head_.size() || body_sent_ < body_.size()) {
      iovec iov[2];
      int count = 0;
      if (head_sent_ < head_.size()) {
        iov[count++] = {head_.data() + head_sent_, head_.size() - head_sent_};
      }
      if (body_sent_ < body_.size()) {
        iov[count++] = {const_cast<char*>(body_.data()) + body_sent_, body_.size() - body_sent_};
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      // Before a file, the head waits (MSG_MORE) for sendfile's bytes to join it: one segment
      // and one wake-up of the client instead of a small segment for the head, then the body.
      // sendfile's last piece goes without "more", so nothing is left waiting; the head of a
      // HEAD (no file_) or of an empty file is pushed at once. Measured (bench/serve.sh): the client's
      // CPU per request falls by a quarter to a third for 370 KB-1 MB files.
      int flags = MSG_NOSIGNAL;
      if (file_ && file_->length > 0) flags |= MSG_MORE;
      ssize_t n = ::sendmsg(fd, &msg, flags);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WaitWritable();
        return Close();
      }
      size_t left = static_cast<size_t>(n);
      size_t from_head = std::min(left, head_.size() - head_sent_);
      head_sent_ += from_head;
      body_sent_ += left - from_head;
    }
    while (file_ && file_->length > 0) {
      off_t offset = static_cast<off_t>(file_->offset);
      size_t want = static_cast<size_t>(std::min<uint64_t>(file_->length, 1u << 30));
      ssize_t n = ::sendfile(fd, file_->file->fd(), &offset, want);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WaitWritable();
        return Close();
      }
      if (n == 0) {
        // The file is shorter than it was when the response was made: the client cannot get
        // the length it was promised, so the connection ends here.
        spdlog::error("{} {}: file ended early", req_->method, req_->path);
        return Close();
      }
      file_->offset += static_cast<uint64_t>(n);
      file_->length -= static_cast<uint64_t>(n);
    }
    Finish();
  }

  void WaitWritable() {
    Arm(server_->config.write_timeout_seconds);
    socket_.async_wait(tcp::socket::wait_write,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         if (ec || self->closed_) return self->Close();
                         self->Write();
                       });
  }

  void Finish() {
    res_.reset();
    req_.reset();
    file_.reset();
    body_ = {};
    if (close_after_) {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      // Let the client read the answer before the descriptor goes: a close with unread input
      // would reset the connection and could destroy the response in flight.
      Arm(2);
      Drain();
      return;
    }
    state_ = State::kHead;
    keep_alive_10_ = false;
    if (!in_.empty()) {
      // A pipelined request is already here; answer it on the next turn of the loop.
      Arm(server_->config.read_timeout_seconds);
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Process(); });
      return;
    }
    Arm(server_->config.keep_alive_seconds);
    Read();
  }

  // After the last response: reads and discards until the client closes (or the timer fires).
  void Drain() {
    socket_.async_read_some(asio::buffer(piece_, sizeof piece_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t) {
                              if (ec || self->closed_) return self->Close();
                              self->Drain();
                            });
  }

  Transport::Impl* server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool armed_ = false;
  bool timer_pending_ = false;
  bool closed_ = false;
  std::string remote_;

  State state_ = State::kHead;
  std::string in_;  // received, not yet consumed by the parser
  std::optional<RequestParser> parser_;  // of the request being received (into req_)
  uint64_t body_bytes_ = 0;
  uint64_t reserved_ = 0;  // of body_bytes_, booked in server_->per_address
  char piece_[kReadPiece];
  int requests_ = 0;
  bool close_after_ = false;
  bool keep_alive_10_ = false;

  std::unique_ptr<Request> req_;
  std::unique_ptr<Response> res_;
  std::string head_;
  size_t head_sent_ = 0;
  std::string_view body_;
  size_t body_sent_ = 0;
  std::optional<FileBody> file_;

  // A streamed body (StartStream): its sink, the bytes still to come, the piece being filled
  // and the one the sink is writing (on a worker: only then is spare_ touched there).
  std::shared_ptr<BodySink> sink_;
  uint64_t stream_left_ = 0;
  std::vector<uint8_t> fill_, spare_;
  size_t fill_len_ = 0;
  bool stream_writing_ = false;
  bool stream_reading_ = false;
};

}  // namespace

void Transport::Impl::Accept() {
  asio::io_context& target = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor->async_accept(target, [self = this, &target](const boost::system::error_code& ec,
                                                       tcp::socket socket) {
    if (self->stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, most likely: try again a little later instead of spinning, on a
      // timer, so that the connections on this event loop are answered meanwhile.
      spdlog::warn("accepting a connection: {}", ec.message());
      return self->AcceptLater();
    }
    self->Admit(std::move(socket), target);
    self->Accept();
  });
}

void Transport::Impl::AcceptLater() {
  accept_retry->expires_after(kAcceptBackoff);
  accept_retry->async_wait([self = this](const boost::system::error_code& ec) {
    if (!ec && !self->stopping) self->Accept();
  });
}

namespace {

void RefuseBusy(tcp::socket socket) {
  static constexpr char kBusy[] =
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n";
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  ssize_t sent = ::send(socket.native_handle(), kBusy, sizeof kBusy - 1, MSG_NOSIGNAL);
  (void)sent;
  socket.close(ignored);
}

}  // namespace

void Transport::Impl::Admit(tcp::socket socket, asio::io_context& target) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  std::string address = ec ? std::string() : remote.address().to_string();
  if (open_connections >= config.max_connections ||
      !per_address.TryAdd(address, config.max_connections_per_address)) {
    return RefuseBusy(std::move(socket));
  }
  auto connection = std::make_shared<Connection>(this, std::move(socket), std::move(address));
  asio::post(target, [connection] { connection->Start(); });
}

Transport::Transport(const TransportOptions& config) : impl_(std::make_unique<Impl>(config)) {}

Transport::~Transport() {
  Stop();
  impl_->pool.join();
}

void Transport::Get(const std::string& pattern, Handler handler) {
  impl_->routes.push_back(
      {"GET", LiteralPrefix(pattern), RoutePattern(pattern), std::move(handler), {}, {}, 0});
}

void Transport::Get(const std::string& pattern, FastHandler fast, Handler handler) {
  impl_->routes.push_back({"GET", LiteralPrefix(pattern), RoutePattern(pattern), std::move(handler),
                           std::move(fast), {}, 0});
}

void Transport::Post(const std::string& pattern, Handler handler) {
  impl_->routes.push_back(
      {"POST", LiteralPrefix(pattern), RoutePattern(pattern), std::move(handler), {}, {}, 0});
}

void Transport::Add(const std::string& method, const std::string& pattern, Handler handler) {
  impl_->Add({method, LiteralPrefix(pattern), RoutePattern(pattern), std::move(handler), {}, {}, 0});
}

void Transport::Stream(const std::string& method, const std::string& pattern, StreamOpen open,
                       uint64_t max_body) {
  impl_->Add({method, LiteralPrefix(pattern), RoutePattern(pattern), {}, {}, std::move(open),
              max_body});
}

void Transport::set_error_handler(Handler handler) { impl_->error_handler = std::move(handler); }

void Transport::set_before_routing(FastHandler handler) {
  impl_->before_routing = std::move(handler);
}

int Transport::port() const { return impl_->port; }

Status Transport::Bind(const std::string& host, int port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host == "" ? "0.0.0.0" : host, ec);
  if (ec) {
    tcp::resolver resolver(*impl_->contexts[0]);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return IoError("cannot resolve " + host + ": " + ec.message());
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& acceptor = *impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(SOMAXCONN, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return IoError("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  impl_->port = acceptor.local_endpoint(ec).port();
  return Status::Ok();
}

Status Transport::Adopt(int fd) {
  auto option = [fd](int name) {
    int value = 0;
    socklen_t len = sizeof value;
    return ::getsockopt(fd, SOL_SOCKET, name, &value, &len) == 0 ? value : -1;
  };
  sockaddr_storage address{};
  socklen_t address_len = sizeof address;
  if (option(SO_TYPE) != SOCK_STREAM || option(SO_ACCEPTCONN) != 1 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0 ||
      (address.ss_family != AF_INET && address.ss_family != AF_INET6)) {
    return InvalidArgument("descriptor " + std::to_string(fd) + " is not a listening TCP socket");
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  boost::system::error_code ec;
  impl_->acceptor->assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  if (ec) return IoError("cannot take the listening socket: " + ec.message());
  impl_->port = impl_->acceptor->local_endpoint(ec).port();
  return Status::Ok();
}

std::vector<int> ListenFds(const char* listen_pid, const char* listen_fds, long pid, int max) {
  auto number = [](const char* text) -> long {
    if (!text || !*text) return -1;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(text, &end, 10);
    return errno || *end != '\0' || v < 0 ? -1 : v;
  };
  long count = number(listen_fds);
  if (number(listen_pid) != pid || count <= 0) return {};
  std::vector<int> fds;
  for (long i = 0; i < std::min<long>(count, max); ++i) fds.push_back(3 + static_cast<int>(i));
  return fds;
}

Status Transport::Serve() {
  if (!impl_->acceptor->is_open()) return Internal("Serve() before Bind()");
  // A peer that closes early must not kill the process: sendfile(2) has no MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  asio::post(*impl_->contexts[0], [impl = impl_.get()] { impl->Accept(); });
  std::vector<std::thread> loops;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    loops.emplace_back([ctx = impl_->contexts[i].get()] { ctx->run(); });
  }
  impl_->contexts[0]->run();
  for (auto& t : loops) t.join();
  return Status::Ok();
}

void Transport::Stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(*impl_->contexts[0], [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor->close(ignored);
    impl->accept_retry->cancel();
  });
  for (auto& guard : impl_->guards) guard.reset();
  for (auto& ctx : impl_->contexts) ctx->stop();
}

}  // namespace outpost::http
