// Timed I/O on one socket (the run_for pattern: start one async operation, run the io_context
// for at most the timeout, cancel if it has not finished), and the Noise record layer.
#include "session/link.h"

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <thread>

namespace outpost::sync {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::unique_ptr<Link>> Link::Dial(const std::string& host_port,
                                         std::chrono::milliseconds timeout) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    return InvalidArgument("\"" + host_port + "\" is not HOST:PORT");
  }
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto context = std::make_unique<asio::io_context>(1);
  tcp::resolver resolver(*context);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return IoError("cannot resolve " + host + ": " + ec.message());
  tcp::socket socket(*context);
  bool done = false;
  asio::async_connect(socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  context->run_for(timeout);
  if (!done) {
    socket.close(ec);
    context->restart();
    context->run();
    return IoError("connecting to " + host_port + " timed out after " +
                   std::to_string(timeout.count() / 1000) + " s");
  }
  if (ec) return IoError("cannot connect to " + host_port + ": " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  return std::make_unique<Link>(std::move(context), std::move(socket), timeout);
}

Link::Link(std::unique_ptr<asio::io_context> context, tcp::socket socket,
           std::chrono::milliseconds timeout)
    : context_(std::move(context)), socket_(std::move(socket)), timeout_(timeout) {
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
}

Link::~Link() { Close(); }

void Link::Close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

template <typename Start>
Status Link::Run(Start start, const char* what) {
  bool done = false;
  boost::system::error_code ec;
  start([&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  context_->restart();
  context_->run_for(timeout_);
  if (!done) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    context_->restart();
    context_->run();
    return IoError(std::string(what) + " timed out after " +
                   std::to_string(timeout_.count() / 1000) + " s (the link is down or stalled)");
  }
  if (ec == asio::error::eof) return IoError(std::string(what) + ": the peer closed the connection");
  if (ec) return IoError(std::string(what) + ": " + ec.message());
  return Status::Ok();
}

Status Link::Write(std::span<const uint8_t> bytes) {
  OUTPOST_RETURN_IF_ERROR(Run(
      [&](auto handler) { asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), handler); },
      "sending"));
  sent_ += bytes.size();
  return Status::Ok();
}

Status Link::ReadExact(std::span<uint8_t> out) {
  OUTPOST_RETURN_IF_ERROR(Run(
      [&](auto handler) { asio::async_read(socket_, asio::buffer(out.data(), out.size()), handler); },
      "receiving"));
  received_ += out.size();
  Pace(out.size());
  return Status::Ok();
}

void Link::Linger(std::chrono::milliseconds at_most) {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return;
  auto saved = timeout_;
  auto deadline = Clock::now() + at_most;
  std::array<uint8_t, 16384> scratch;
  while (Clock::now() < deadline) {
    timeout_ = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
               std::chrono::milliseconds(1);
    size_t got = 0;
    Status st = Run([&](auto handler) {
      socket_.async_read_some(asio::buffer(scratch), [&got, handler](const auto& e, size_t n) {
        got = n;
        handler(e, n);
      });
    }, "draining");
    received_ += got;
    if (!st.ok()) break;  // the peer closed (EOF), reset, or the time is up
  }
  timeout_ = saved;
}

// Sleeps until `paced_bytes_` bytes at the cap would have taken as long as they have.
void Link::Pace(size_t n) {
  if (rate_kbps_ == 0) return;
  if (paced_bytes_ == 0) pace_start_ = Clock::now();
  paced_bytes_ += n;
  auto due = pace_start_ + std::chrono::microseconds(paced_bytes_ * 8 * 1000 / rate_kbps_);
  if (due > Clock::now()) std::this_thread::sleep_until(due);
}

// ---- frames

Status WriteHandshakeFrame(Link* link, std::span<const uint8_t> message) {
  auto frame = noise::EncodeFrame(message);
  if (!frame) return frame.error();
  return link->Write(*frame);
}

Result<std::vector<uint8_t>> ReadHandshakeFrame(Link* link) {
  uint8_t header[2];
  OUTPOST_RETURN_IF_ERROR(link->ReadExact(header));
  size_t n = (size_t{header[0]} << 8) | header[1];
  std::vector<uint8_t> message(n);
  OUTPOST_RETURN_IF_ERROR(link->ReadExact(message));
  return message;
}

// ---- records

SecureChannel::SecureChannel(Link* link, noise::CipherState send, noise::CipherState receive,
                             uint64_t rekey_interval, size_t max_record)
    : link_(link),
      send_(std::move(send)),
      receive_(std::move(receive)),
      rekey_interval_(rekey_interval),
      max_record_(max_record) {}

Status SecureChannel::SealFrame(std::string_view plaintext) {
  if (rekey_interval_ > 0 && sent_messages_ > 0 && sent_messages_ % rekey_interval_ == 0) {
    OUTPOST_RETURN_IF_ERROR(send_.Rekey());
  }
  size_t at = out_wire_.size();
  out_wire_.resize(at + 2);
  OUTPOST_RETURN_IF_ERROR(send_.EncryptWithAd(
      {}, {reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()}, &out_wire_));
  size_t sealed = out_wire_.size() - at - 2;
  out_wire_[at] = static_cast<uint8_t>(sealed >> 8);
  out_wire_[at + 1] = static_cast<uint8_t>(sealed);
  ++sent_messages_;
  return Status::Ok();
}

Status SecureChannel::Send(uint8_t type, std::string_view body) {
  if (body.size() > max_record_) return InvalidArgument("record too large to send");
  char header[5] = {static_cast<char>(type), static_cast<char>(body.size() >> 24),
                    static_cast<char>(body.size() >> 16), static_cast<char>(body.size() >> 8),
                    static_cast<char>(body.size())};
  out_plain_.append(header, 5);
  out_plain_.append(body);
  size_t used = 0;
  while (out_plain_.size() - used >= kMaxPlaintext) {
    OUTPOST_RETURN_IF_ERROR(SealFrame(std::string_view(out_plain_).substr(used, kMaxPlaintext)));
    used += kMaxPlaintext;
  }
  out_plain_.erase(0, used);
  // Keep the wire buffer bounded: a large record leaves as it is sealed.
  if (out_wire_.size() >= (1u << 20)) {
    OUTPOST_RETURN_IF_ERROR(link_->Write(out_wire_));
    out_wire_.clear();
  }
  return Status::Ok();
}

Status SecureChannel::Flush() {
  if (!out_plain_.empty()) {
    OUTPOST_RETURN_IF_ERROR(SealFrame(out_plain_));
    out_plain_.clear();
  }
  if (!out_wire_.empty()) {
    OUTPOST_RETURN_IF_ERROR(link_->Write(out_wire_));
    out_wire_.clear();
  }
  return Status::Ok();
}

Status SecureChannel::ReadFrame() {
  auto sealed = ReadHandshakeFrame(link_);
  if (!sealed) return sealed.error();
  if (rekey_interval_ > 0 && received_messages_ > 0 && received_messages_ % rekey_interval_ == 0) {
    OUTPOST_RETURN_IF_ERROR(receive_.Rekey());
  }
  std::vector<uint8_t> plain;
  Status st = receive_.DecryptWithAd({}, *sealed, &plain);
  if (!st.ok()) {
    return Status(StatusCode::kCorrupt,
                  "a frame from the peer failed authentication: its bytes were changed on the way "
                  "(a damaged or tampered link); nothing of it was kept");
  }
  ++received_messages_;
  in_plain_.append(reinterpret_cast<const char*>(plain.data()), plain.size());
  return Status::Ok();
}

Result<Record> SecureChannel::Receive() {
  while (in_plain_.size() < 5) OUTPOST_RETURN_IF_ERROR(ReadFrame());
  auto b = [&](size_t i) { return static_cast<uint8_t>(in_plain_[i]); };
  size_t length = (size_t{b(1)} << 24) | (size_t{b(2)} << 16) | (size_t{b(3)} << 8) | b(4);
  if (length > max_record_) {
    return Status(StatusCode::kCorrupt, "the peer sent a record of " + std::to_string(length) +
                                            " bytes, over the limit of " +
                                            std::to_string(max_record_));
  }
  while (in_plain_.size() < 5 + length) OUTPOST_RETURN_IF_ERROR(ReadFrame());
  Record record{b(0), in_plain_.substr(5, length)};
  in_plain_.erase(0, 5 + length);
  return record;
}

}  // namespace outpost::sync
