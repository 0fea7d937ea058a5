// Pacer: holds a reader back to a rate (a site's `sync --rate-limit`).
//
// The link's receiving side calls Received(n) after each read; the pacer waits until the bytes
// received since the first paced read would have taken that long at the cap. The time is read
// from and waited on a PaceClock: the real steady clock in service, a logical one in tests,
// which then assert the delays the pacer asked for instead of measuring the wall clock.
//
// Thread-safety: a Pacer belongs to one link's reading thread. PaceClock::Real() is shared and
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace outpost::sync {

class PaceClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~PaceClock() = default;
  virtual time_point Now() = 0;
  // Returns at `when` or later.
  virtual void SleepUntil(time_point when) = 0;
  // std::chrono::steady_clock and std::this_thread::sleep_until.
  static PaceClock* Real();
};

class Pacer {
 public:
  explicit Pacer(PaceClock* clock = PaceClock::Real()) : clock_(clock) {}

  // 0: no cap. Changing the rate starts the count again.
  void set_rate_kbps(uint64_t kbps);
  uint64_t rate_kbps() const { return rate_kbps_; }
  // `n` bytes arrived: returns once all the bytes paced so far would have taken as long at
  // the cap (at once if they already have).
  void Received(size_t n);

 private:
  PaceClock* clock_;
  uint64_t rate_kbps_ = 0;
  PaceClock::time_point start_{};
  uint64_t bytes_ = 0;
};

}  // namespace outpost::sync
