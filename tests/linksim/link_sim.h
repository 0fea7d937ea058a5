// LinkSim: a TCP proxy that behaves like a bad satellite link, so that integration tests can run
// a hub and a site as separate processes and put a slow, lossy link between them.
//
//   site ──TCP──▶ LinkSim (listen 127.0.0.1:PORT) ──TCP──▶ hub (target HOST:PORT)
//
// Each accepted connection gets its own connection to the target, and bytes flow both ways
// through two independent one-way pipes ("to target" and "to client"). Each pipe models a link:
//
//   * latency: a byte read at time t is written no earlier than t + latency_ms. The pipe is a
//     delay queue, not a sleep: reading goes on while earlier bytes are in flight, and one
//     direction never waits for the other.
//   * rate: with rate_kbps > 0 (1 kbit = 1000 bits), a byte leaves the sending end no earlier
//     than the previous byte's departure + 8 / rate seconds, and arrives latency_ms later.
//     Data is paced in pieces of about 10 ms of link time.
//   * backpressure: at most max_queued_bytes wait in one pipe; then the pipe stops reading, and
//     TCP flow control pushes back on the sender, as a full modem buffer would.
//
// Cuts model the link dropping: once a connection's cut point is reached (bytes delivered, both
// directions added up), exactly that many bytes have been delivered (a chunk is split if
// needed), the simulator waits briefly for them to leave its socket buffers (at most
// kCutDrainTimeout), then closes both sockets with RST (SO_LINGER 0). Queued bytes are lost.
// A connection's cut point is min(cut_after, a draw from an exponential distribution with mean
// cut_random_mean) over the options that are set; the draw comes from a generator seeded with
// (seed, k) for the k-th accepted connection (k = 0, 1, ...), so the same seed and the same
// traffic give the same cut points, whatever the timing.
//
// A clean close is passed on: end of stream from one side becomes a half-close (shutdown of
// sending) on the other, after the queued bytes, latency included. A connection ends when both
// directions have ended; a reset, a write error or a failed connect to the target ends it at
// once, with RST on the other side.
//
// Thread-safety: LinkSim runs its own thread (one io_context). Every public member function may
// be called from any thread. Config, Counters and ConnectionRecord are plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"

namespace outpost::linksim {

// How long a cut waits for delivered bytes to leave the kernel's send buffers before the RST
// (which would discard them). A peer that does not read may lose bytes after this long.
inline constexpr std::chrono::milliseconds kCutDrainTimeout{2000};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: the system picks one; LinkSim::port() says which
  std::string target_host = "127.0.0.1";
  uint16_t target_port = 0;
  uint32_t latency_ms = 0;            // one way, added to each direction
  uint64_t rate_kbps = 0;             // per direction; 0: unlimited
  uint64_t cut_after = 0;             // bytes per connection, both directions added; 0: never
  uint64_t cut_random_mean = 0;       // mean of exponential cut points; 0: none
  uint64_t seed = 0;                  // all randomness comes from this
  uint64_t max_connections = 0;       // stop after this many connections closed; 0: never
  // A tampering link: the byte at this 1-based offset of each connection's target -> client
  // stream arrives with its lowest bit flipped; 0: none.
  uint64_t flip_to_client_at = 0;
  std::string log_path;               // one line per connection appended here; empty: no log
  size_t max_queued_bytes = 4 << 20;  // per direction of each connection
};

// Parses "HOST:PORT" or "[IPV6]:PORT". A port must be given (0 allowed).
Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

// The cut point of connection `connection` (0-based, in accept order) under `config`, or nullopt
// if it is never cut. Pure: the same arguments always give the same answer. At least 1.
std::optional<uint64_t> CutPoint(const Config& config, uint64_t connection);

// Totals since Start. Byte counts are bytes delivered (written to the far side), not bytes read.
struct Counters {
  uint64_t connections_accepted = 0;
  uint64_t connections_closed = 0;  // ended, however: clean close, cut, error
  uint64_t cuts = 0;
  uint64_t bytes_to_target = 0;
  uint64_t bytes_to_client = 0;
  uint64_t peak_queued_bytes = 0;  // most bytes ever held in one pipe at once
};

// What happened to one connection; also its line in the log (FormatLogLine).
struct ConnectionRecord {
  uint64_t index = 0;  // k: 0 for the first accepted connection
  uint64_t bytes_to_target = 0;
  uint64_t bytes_to_client = 0;
  std::optional<uint64_t> cut_point;  // planned; reached only if `cut`
  bool cut = false;
  std::string error;  // why it ended abruptly (not a cut), e.g. "connect: Connection refused"
  std::chrono::milliseconds duration{0};
};

// "conn=3 to_target=1200 to_client=800 end=cut cut_point=2000 ms=1503"; end= is one of
// "closed", "cut" or "error" (then error="..." follows).
std::string FormatLogLine(const ConnectionRecord& record);

class LinkSim {
 public:
  // Binds the listening socket (so port() is known on return), opens the log, and starts
  // proxying on a thread of its own. Fails if the address cannot be bound or the log opened.
  static Result<std::unique_ptr<LinkSim>> Start(const Config& config);
  // Stops (as Stop) and waits for the thread.
  ~LinkSim();
  LinkSim(const LinkSim&) = delete;
  LinkSim& operator=(const LinkSim&) = delete;

  uint16_t port() const;
  // The address actually listened on, "127.0.0.1:43215".
  std::string listen_address() const;

  Counters counters() const;
  // Connections that have ended, in the order they ended.
  std::vector<ConnectionRecord> connections() const;

  // Waits until at least `n` connections have ended; false if `timeout` passed first.
  bool WaitForClosed(uint64_t n, std::chrono::milliseconds timeout) const;
  // Waits until the simulator has stopped: max_connections reached, or Stop.
  void Wait() const;
  // Stops accepting and resets every open connection. Returns at once; Wait() for the end.
  void Stop();

  // Defined in link_sim.cc only; public so that its connection sessions can name it.
  class Impl;

 private:
  explicit LinkSim(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::linksim
