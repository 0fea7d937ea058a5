// TcpLink: a Link over one TCP connection, on Boost.Asio; and TcpListener, the hub's listening
// socket that hands each accepted connection over as a TcpLink.
//
// Every read and write runs on the link's own io_context for at most the timeout (the run_for
// pattern), one at a time, from the session's thread. Asio stays in tcp_link.cc: no header
// the session or the bundles include pulls it in.
//
// Thread-safety: as Link. TcpListener::Accept() runs on one thread; Shutdown() may be called
// from any other to wake it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "outpost/base/status.h"
#include "session/link.h"
#include "session/pacer.h"

namespace outpost::sync {

class TcpLink : public Link {
 public:
  // Connects to "HOST:PORT" ("[v6]:PORT" too) within `timeout`, which then bounds every read
  // and write.
  static Result<std::unique_ptr<Link>> Dial(const std::string& host_port,
                                            std::chrono::milliseconds timeout);
  ~TcpLink() override;

  Status Write(std::span<const uint8_t> bytes) override;
  Status ReadExact(std::span<uint8_t> out) override;
  void Close() override;
  void Linger(std::chrono::milliseconds at_most) override;
  void set_rate_limit_kbps(uint64_t kbps) override { pacer_.set_rate_kbps(kbps); }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  void set_deadline(Clock::time_point deadline) override { deadline_ = deadline; }
  uint64_t bytes_sent() const override { return sent_; }
  uint64_t bytes_received() const override { return received_; }
  std::string peer() const override { return peer_; }

  struct Socket;  // the io_context and the socket (tcp_link.cc)

 private:
  friend class TcpListener;
  TcpLink(std::unique_ptr<Socket> socket, std::chrono::milliseconds timeout);
  template <typename Start>
  Status Run(Start start, const char* what);

  std::unique_ptr<Socket> socket_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  uint64_t sent_ = 0, received_ = 0;
  Pacer pacer_;
  std::string peer_;
};

class TcpListener {
 public:
  // Listens on "ADDR:PORT" (":PORT" for every IPv4 address; port 0 picks one, see port()).
  static Result<std::unique_ptr<TcpListener>> Bind(const std::string& listen);
  ~TcpListener();

  int port() const { return port_; }
  // The next connection, as a link whose reads and writes time out after `timeout`. An error
  // after Shutdown() (kBusy), or when accept(2) fails (kIoError: the caller may try again).
  Result<std::unique_ptr<Link>> Accept(std::chrono::milliseconds timeout);
  // Wakes a blocked Accept() and makes every later one fail.
  void Shutdown();

  struct Acceptor;

 private:
  explicit TcpListener(std::unique_ptr<Acceptor> acceptor, int port);
  std::unique_ptr<Acceptor> acceptor_;
  int port_;
};

}  // namespace outpost::sync
