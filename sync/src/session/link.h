// Link and SecureChannel: the sync session's bytes on the wire (docs/sync.md, "Session").
//
// Link is one TCP connection on Boost.Asio where every read and write has a timeout (a GEO
// satellite link drops without a word; nothing may hang forever), with counters of the bytes
// each way and an optional cap on the receiving rate (the site sets it: TCP's flow control
// then slows the sender). Operations run on the Link's own io_context, one at a time, from one
// thread: the protocol is a conversation, and each session has its own thread.
//
// SecureChannel is the Noise transport over a Link: frames of a 2-byte big-endian length and a
// Noise message (at most 65535 bytes), and inside the encrypted stream, records of
//   u8 type, u32 big-endian length, body
// which may span frames. Each direction rekeys (Noise Rekey()) after every `rekey_interval`
// messages it sends or receives, counted from the split, so long sessions never use one key
// for too much data.
//
// Thread-safety: none; one thread per Link.
#pragma once

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "outpost/base/status.h"
#include "outpost/sync/noise.h"

namespace outpost::sync {

using Clock = std::chrono::steady_clock;

class Link {
 public:
  // Connects to "HOST:PORT" within `timeout`.
  static Result<std::unique_ptr<Link>> Dial(const std::string& host_port,
                                            std::chrono::milliseconds timeout);
  // Takes an accepted socket (created on `context`, which the Link then owns).
  Link(std::unique_ptr<boost::asio::io_context> context, boost::asio::ip::tcp::socket socket,
       std::chrono::milliseconds timeout);
  ~Link();

  Status Write(std::span<const uint8_t> bytes);
  Status ReadExact(std::span<uint8_t> out);
  void Close();
  // Ends a conversation this side stops first (after an Error): no more writes, then reads and
  // drops whatever the peer still sends until it closes, for at most `at_most`. Closing at once
  // with unread bytes would make the kernel reset the connection, and a reset throws away what
  // the peer has received but not yet read, our Error and the answers before it included.
  void Linger(std::chrono::milliseconds at_most = std::chrono::seconds(2));

  // 0: no cap. Received bytes are paced to this many kilobits (1000 bits) per second.
  void set_rate_limit_kbps(uint64_t kbps) { rate_kbps_ = kbps; }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  uint64_t bytes_sent() const { return sent_; }
  uint64_t bytes_received() const { return received_; }
  std::string peer() const { return peer_; }

 private:
  template <typename Start>
  Status Run(Start start, const char* what);
  void Pace(size_t n);

  std::unique_ptr<boost::asio::io_context> context_;
  boost::asio::ip::tcp::socket socket_;
  std::chrono::milliseconds timeout_;
  uint64_t sent_ = 0, received_ = 0;
  uint64_t rate_kbps_ = 0;
  Clock::time_point pace_start_{};
  uint64_t paced_bytes_ = 0;
  std::string peer_;
};

struct Record {
  uint8_t type = 0;
  std::string body;
};

class SecureChannel {
 public:
  static constexpr size_t kMaxPlaintext = noise::kMaxMessageSize - noise::kTagSize;

  // `send` encrypts what this side sends, `receive` decrypts what it receives.
  SecureChannel(Link* link, noise::CipherState send, noise::CipherState receive,
                uint64_t rekey_interval, size_t max_record);

  // Queues a record; Flush() sends everything queued (full frames leave as soon as they fill).
  Status Send(uint8_t type, std::string_view body);
  Status Flush();
  // The next record (reading frames as needed). A record over max_record is refused.
  Result<Record> Receive();

  Link* link() { return link_; }

 private:
  Status SealFrame(std::string_view plaintext);
  Status ReadFrame();

  Link* link_;
  noise::CipherState send_, receive_;
  uint64_t rekey_interval_;
  size_t max_record_;
  uint64_t sent_messages_ = 0, received_messages_ = 0;
  std::string out_plain_;
  std::vector<uint8_t> out_wire_;
  std::string in_plain_;
};

// A whole handshake message as a frame; and reading one.
Status WriteHandshakeFrame(Link* link, std::span<const uint8_t> message);
Result<std::vector<uint8_t>> ReadHandshakeFrame(Link* link);

}  // namespace outpost::sync
