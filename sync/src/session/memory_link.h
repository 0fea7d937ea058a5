// MemoryLink: the two ends of a connection in memory, for tests of the sync session; compiled
// into sync_test only.
//
// What one end writes the other reads, in order, as over TCP. Each direction may carry a fault
// on a countdown: after `after` bytes have passed that way, the link is
//   kCut      dropped: the reader gets exactly those bytes, then both ends' reads and writes
//             fail (as a TCP connection that is reset);
//   kStall    silent: the reader gets those bytes, then every read that wants more times out at
//             once (as a link that went silent would after its timeout, without the wait), and
//             whatever either end writes is lost;
//   kCorrupt  damaged: byte number `after` (from 0) is flipped, everything else passes.
// So a test can run a sync failing at byte 0, 1, 2, ... until it succeeds (STYLE.md).
//
// Nothing here waits on the clock. A read waits for the other end's write; if both ends wait
// to read at once, no byte can ever come, so the link goes silent as with kStall (a real link
// would time out). The timeout only bounds a read whose other end is busy elsewhere, as a
// watchdog against a test that never writes. A rate cap paces reads on a PaceClock, which a
// test makes logical.
//
// Thread-safety: each end is used by one thread at a time, and the two ends may be used from
// two threads (a hub's session and a site's); Close() may come from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "session/link.h"
#include "session/pacer.h"

namespace outpost::sync {

enum class LinkFault { kNone, kCut, kStall, kCorrupt };
struct FaultCountdown {
  LinkFault fault = LinkFault::kNone;
  uint64_t after = 0;  // bytes that pass this way before the fault
};

class MemoryLink : public Link {
 public:
  using Fault = LinkFault;
  using Countdown = FaultCountdown;

  // Two connected ends. `first_sends` applies to what the first end writes, `second_sends` to
  // what the second writes.
  static std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> Pair(
      Countdown first_sends = {}, Countdown second_sends = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~MemoryLink() override;  // closes this end

  Status Write(std::span<const uint8_t> bytes) override;
  Status ReadExact(std::span<uint8_t> out) override;
  void Close() override;
  void Linger(std::chrono::milliseconds at_most) override;
  void set_rate_limit_kbps(uint64_t kbps) override { pacer_.set_rate_kbps(kbps); }
  void set_deadline(Clock::time_point deadline) override { deadline_ = deadline; }
  uint64_t bytes_sent() const override;
  uint64_t bytes_received() const override;
  std::string peer() const override { return "memory"; }

  // Reads are paced on `clock` (default: the real one) when a rate cap is set.
  void set_pace_clock(PaceClock* clock) { pacer_ = Pacer(clock); }
  // Whether a fault of either direction has struck (or both ends waited at once).
  bool faulted() const;
  // Where each of this end's writes began, in bytes from the start of what it sent: the
  // boundaries of its frames, for a test that cuts next to each.
  std::vector<uint64_t> write_offsets() const;
  // The same for the other end's writes (which may be gone).
  std::vector<uint64_t> peer_write_offsets() const;

  struct Shared;

 private:
  MemoryLink(std::shared_ptr<Shared> shared, int side) : shared_(std::move(shared)), side_(side) {}

  std::shared_ptr<Shared> shared_;
  int side_;  // 0 or 1: this end writes direction side_ and reads direction 1 - side_
  Pacer pacer_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace outpost::sync
