// Link: the byte stream a sync session runs over (docs/sync.md, "Session").
//
// A conversation between two nodes: one side writes, the other reads exactly what it expects,
// and every read and write ends within the link's timeout (a GEO satellite link drops without
// a word; nothing may hang forever). The link counts the bytes each way (a sync's budget and
// its summary use them) and may cap the rate it receives at (the site sets it: TCP's flow
// control then slows the sender).
//
// Abstract so that the session runs the same over TCP (TcpLink, tcp_link.h: the one session
// file that knows Asio) and over an in-memory pair that tests cut, stall and corrupt at any
// byte (MemoryLink, memory_link.h, compiled into the tests only).
//
// Thread-safety: one thread uses a Link at a time (each session has its own); Close() alone may
// be called from another thread, to end a session that is blocked reading.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "outpost/base/status.h"

namespace outpost::sync {

using Clock = std::chrono::steady_clock;

class Link {
 public:
  virtual ~Link() = default;

  // All of `bytes`, or an error (the link dropped, the peer closed, the time ran out).
  virtual Status Write(std::span<const uint8_t> bytes) = 0;
  // Exactly out.size() bytes, or an error; kIoError when the peer closed, the link dropped or
  // the time ran out.
  virtual Status ReadExact(std::span<uint8_t> out) = 0;
  // Ends the connection; a read or write blocked on another thread fails.
  virtual void Close() = 0;
  // Ends a conversation this side stops first (after an Error): no more writes, then reads and
  // drops whatever the peer still sends until it closes, for at most `at_most`. Closing at once
  // with unread bytes would make TCP reset the connection, and a reset throws away what the
  // peer has received but not yet read, our Error and the answers before it included.
  virtual void Linger(std::chrono::milliseconds at_most = std::chrono::seconds(2)) = 0;
  // From now on every read and write also ends by `deadline`, however the bytes come (the hub
  // gives a session's handshake one); Clock::time_point::max() lifts it.
  virtual void set_deadline(Clock::time_point deadline) = 0;

  // 0: no cap. Received bytes are paced to this many kilobits (1000 bits) per second.
  virtual void set_rate_limit_kbps(uint64_t kbps) = 0;
  virtual uint64_t bytes_sent() const = 0;
  virtual uint64_t bytes_received() const = 0;
  // Who is at the other end, for the log ("ADDR:PORT"); may be empty.
  virtual std::string peer() const = 0;
};

}  // namespace outpost::sync
