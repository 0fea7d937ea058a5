// Timed I/O on one socket (the run_for pattern: start one async operation, run the io_context
// for at most the timeout, cancel if it has not finished), and the blocking accept loop's
// listener.
#include "session/tcp_link.h"

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>

namespace outpost::sync {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TcpLink::Socket {
  explicit Socket(std::unique_ptr<asio::io_context> c) : context(std::move(c)), socket(*context) {}
  std::unique_ptr<asio::io_context> context;  // before the socket, which is made on it
  tcp::socket socket;
};

namespace {

// "HOST:PORT" split, the brackets of "[v6]:PORT" taken off.
Result<std::pair<std::string, std::string>> SplitHostPort(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    return InvalidArgument("\"" + host_port + "\" is not HOST:PORT");
  }
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, port);
}

}  // namespace

Result<std::unique_ptr<Link>> TcpLink::Dial(const std::string& host_port,
                                            std::chrono::milliseconds timeout) {
  auto parts = SplitHostPort(host_port);
  if (!parts) return parts.error();
  const auto& [host, port] = *parts;
  auto s = std::make_unique<Socket>(std::make_unique<asio::io_context>(1));
  tcp::resolver resolver(*s->context);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return IoError("cannot resolve " + host + ": " + ec.message());
  bool done = false;
  asio::async_connect(s->socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  s->context->run_for(timeout);
  if (!done) {
    s->socket.close(ec);
    s->context->restart();
    s->context->run();
    return IoError("connecting to " + host_port + " timed out after " +
                   std::to_string(timeout.count() / 1000) + " s");
  }
  if (ec) return IoError("cannot connect to " + host_port + ": " + ec.message());
  s->socket.set_option(tcp::no_delay(true), ec);
  return std::unique_ptr<Link>(new TcpLink(std::move(s), timeout));
}

TcpLink::TcpLink(std::unique_ptr<Socket> socket, std::chrono::milliseconds timeout)
    : socket_(std::move(socket)), timeout_(timeout) {
  boost::system::error_code ec;
  auto remote = socket_->socket.remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
}

TcpLink::~TcpLink() { Close(); }

void TcpLink::Close() {
  boost::system::error_code ec;
  socket_->socket.shutdown(tcp::socket::shutdown_both, ec);
  socket_->socket.close(ec);
}

template <typename Start>
Status TcpLink::Run(Start start, const char* what) {
  bool done = false;
  boost::system::error_code ec;
  start([&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  asio::io_context& context = *socket_->context;
  context.restart();
  // The deadline, when it comes first, bounds the operation instead of the timeout.
  auto budget = timeout_;
  bool by_deadline = false;
  if (deadline_ != Clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    by_deadline = left < budget;
    if (by_deadline) budget = std::max(left, std::chrono::milliseconds(0));
  }
  context.run_for(budget);
  if (!done) {
    boost::system::error_code ignored;
    socket_->socket.cancel(ignored);
    context.restart();
    context.run();
    if (by_deadline) return IoError(std::string(what) + ": the peer did not finish in time");
    return IoError(std::string(what) + " timed out after " +
                   std::to_string(timeout_.count() / 1000) + " s (the link is down or stalled)");
  }
  if (ec == asio::error::eof) return IoError(std::string(what) + ": the peer closed the connection");
  if (ec) return IoError(std::string(what) + ": " + ec.message());
  return Status::Ok();
}

Status TcpLink::Write(std::span<const uint8_t> bytes) {
  OUTPOST_RETURN_IF_ERROR(Run(
      [&](auto handler) {
        asio::async_write(socket_->socket, asio::buffer(bytes.data(), bytes.size()), handler);
      },
      "sending"));
  sent_ += bytes.size();
  return Status::Ok();
}

Status TcpLink::ReadExact(std::span<uint8_t> out) {
  OUTPOST_RETURN_IF_ERROR(Run(
      [&](auto handler) {
        asio::async_read(socket_->socket, asio::buffer(out.data(), out.size()), handler);
      },
      "receiving"));
  received_ += out.size();
  pacer_.Received(out.size());
  return Status::Ok();
}

void TcpLink::Linger(std::chrono::milliseconds at_most) {
  boost::system::error_code ec;
  socket_->socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return;
  auto saved = timeout_;
  auto deadline = Clock::now() + at_most;
  std::array<uint8_t, 16384> scratch;
  while (Clock::now() < deadline) {
    timeout_ = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
               std::chrono::milliseconds(1);
    size_t got = 0;
    Status st = Run([&](auto handler) {
      socket_->socket.async_read_some(asio::buffer(scratch), [&got, handler](const auto& e, size_t n) {
        got = n;
        handler(e, n);
      });
    }, "draining");
    received_ += got;
    if (!st.ok()) break;  // the peer closed (EOF), reset, or the time is up
  }
  timeout_ = saved;
}

// ---- the listener

struct TcpListener::Acceptor {
  asio::io_context context;
  tcp::acceptor acceptor{context};
  std::atomic<bool> shut{false};
};

TcpListener::TcpListener(std::unique_ptr<Acceptor> acceptor, int port)
    : acceptor_(std::move(acceptor)), port_(port) {}

TcpListener::~TcpListener() = default;

Result<std::unique_ptr<TcpListener>> TcpListener::Bind(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("\"" + listen + "\" is not ADDR:PORT");
  std::string host = colon == 0 ? "0.0.0.0" : listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(listen.c_str() + colon + 1);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("\"" + host + "\" is not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto a = std::make_unique<Acceptor>();
  a->acceptor.open(endpoint.protocol(), ec);
  if (!ec) a->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a->acceptor.bind(endpoint, ec);
  if (!ec) a->acceptor.listen(SOMAXCONN, ec);
  if (ec) return IoError("cannot listen for syncs on " + listen + ": " + ec.message());
  int bound = a->acceptor.local_endpoint(ec).port();
  return std::unique_ptr<TcpListener>(new TcpListener(std::move(a), bound));
}

Result<std::unique_ptr<Link>> TcpListener::Accept(std::chrono::milliseconds timeout) {
  auto s = std::make_unique<TcpLink::Socket>(std::make_unique<asio::io_context>(1));
  boost::system::error_code ec;
  acceptor_->acceptor.accept(s->socket, ec);
  if (acceptor_->shut) return Status(StatusCode::kBusy, "the listener is shut down");
  if (ec) return IoError("accepting a connection: " + ec.message());
  return std::unique_ptr<Link>(new TcpLink(std::move(s), timeout));
}

void TcpListener::Shutdown() {
  if (acceptor_->shut.exchange(true)) return;
  // A blocked accept(2) wakes when its socket is shut down (Linux).
  if (acceptor_->acceptor.is_open()) ::shutdown(acceptor_->acceptor.native_handle(), SHUT_RDWR);
}

}  // namespace outpost::sync
